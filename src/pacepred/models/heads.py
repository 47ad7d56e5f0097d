"""Heads on top of pooled backbone features (B, in_dim)."""
import torch
from torch import nn


class PaceHead(nn.Module):
    """Pace classifier, (B, in_dim) -> (B, num_classes) logits.

    ``hidden=None``: optional dropout + Linear (the official code). ``hidden=N``: an MLP,
    Linear(in_dim, N) -> BN1d -> ReLU -> optional dropout -> Linear(N, num_classes), which leaves
    the pooled backbone features one layer away from the pace logits (as a projection head does
    for contrastive features).
    """

    def __init__(self, in_dim: int, num_classes: int, dropout: float = 0.0, hidden: int | None = None):
        super().__init__()
        if hidden is not None and hidden < 1:
            raise ValueError(f"pace head hidden={hidden}: expected null or a positive width")
        self.hidden = (
            nn.Sequential(nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True))
            if hidden else nn.Identity()
        )
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(hidden or in_dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.hidden(x)))


class ProjectionHead(nn.Sequential):
    """SimCLR-style MLP Linear -> BN1d -> ReLU -> Linear, (B, in_dim) -> (B, out_dim).

    The output is not L2-normalised; the contrastive loss does that.
    """

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int):
        super().__init__(
            nn.Linear(in_dim, hidden_dim),
            nn.BatchNorm1d(hidden_dim),
            nn.ReLU(inplace=True),
            nn.Linear(hidden_dim, out_dim),
        )
