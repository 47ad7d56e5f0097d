"""Heads on top of pooled backbone features (B, in_dim)."""
import torch
from torch import nn


class PaceHead(nn.Module):
    """Pace classifier: optional dropout + Linear, (B, in_dim) -> (B, num_classes) logits."""

    def __init__(self, in_dim: int, num_classes: int, dropout: float = 0.0):
        super().__init__()
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(in_dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(x))


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
