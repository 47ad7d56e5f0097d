"""Figures written into run directories (PNG, matplotlib without a display)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch


def save_confusion_matrix(matrix: torch.Tensor, names: Sequence[str], path: Path, title: str) -> Path:
    """Save a confusion matrix (K, K) int (rows = true class, columns = predicted) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = matrix.numpy()
    rates = counts / counts.sum(axis=1, keepdims=True).clip(min=1)
    size = 1.2 + 0.6 * len(names)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(rates, vmin=0, vmax=1, cmap="Blues")
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f"{int(counts[i, j])}", ha="center", va="center",
                    color="white" if rates[i, j] > 0.5 else "black", fontsize=8)
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046, label="row rate")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
