"""Heads on top of pooled backbone features (B, in_dim)."""
import math

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


class OrderHead(nn.Module):
    """VCOP's order classifier, (B, K, in_dim) clip features -> (B, K!) order logits.

    Every pair (i < j) of clip features, concatenated, goes through one shared
    Linear(2 * in_dim, hidden) -> ReLU; the K(K-1)/2 pair vectors, concatenated, through
    dropout -> Linear(K(K-1)/2 * hidden, K!) (VCOP's ``fc7``, ``fc8``).
    """

    def __init__(self, in_dim: int, num_clips: int, hidden: int = 512, dropout: float = 0.5):
        super().__init__()
        self.pairs = [(i, j) for i in range(num_clips) for j in range(i + 1, num_clips)]
        self.pair = nn.Sequential(nn.Linear(2 * in_dim, hidden), nn.ReLU(inplace=True))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(len(self.pairs) * hidden, math.factorial(num_clips))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        first, second = zip(*self.pairs)
        pairs = torch.cat([features[:, list(first)], features[:, list(second)]], dim=2)  # (B, P, 2 * in_dim)
        return self.fc(self.dropout(self.pair(pairs).flatten(1)))
