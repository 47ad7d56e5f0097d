"""Figures written into run directories (PNG, matplotlib without a display): confusion
matrices, retrieval sheets (queries and their nearest neighbours, hit or miss) and 2-D
embeddings (PCA)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import Tensor


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@dataclass
class SheetRow:
    """One query of a retrieval sheet: thumbnails uint8 (H, W, 3) and class names."""

    query: np.ndarray
    query_class: str
    neighbours: list[np.ndarray]
    neighbour_classes: list[str]


def save_retrieval_sheet(rows: Sequence[SheetRow], path: Path, title: str) -> Path:
    """Queries (first column) with their nearest neighbours, framed green (hit) or red (miss)."""
    plt = _pyplot()
    columns = 1 + max(len(r.neighbours) for r in rows)
    fig, axes = plt.subplots(len(rows), columns, figsize=(1.6 * columns, 1.75 * len(rows)), squeeze=False)
    for i, row in enumerate(rows):
        cells = [(row.query, f"query\n{row.query_class}", "black")]
        cells += [(thumb, f"#{j + 1} {name}\n{'hit' if name == row.query_class else 'miss'}",
                   "green" if name == row.query_class else "red")
                  for j, (thumb, name) in enumerate(zip(row.neighbours, row.neighbour_classes))]
        for j in range(columns):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j >= len(cells):
                ax.axis("off")
                continue
            image, label, colour = cells[j]
            ax.imshow(image)
            ax.set_title(label, fontsize=7, color=colour)
            for spine in ax.spines.values():
                spine.set_color(colour)
                spine.set_linewidth(3 if j else 1)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def pca_2d(features: Tensor) -> Tensor:
    """float (N, D) -> the two leading principal components float32 (N, 2); zeros where there are
    fewer than two (one video, or one feature)."""
    x = features.float() - features.float().mean(dim=0)
    _, _, v = torch.linalg.svd(x, full_matrices=False)
    points = x @ v[:2].T
    return torch.nn.functional.pad(points, (0, 2 - points.shape[1]))


def save_embedding_plot(features: Tensor, labels: Tensor, class_names: Sequence[str], path: Path, title: str) -> Path:
    """Scatter of the PCA projection of float (N, D) features, coloured by int64 (N,) labels."""
    plt = _pyplot()
    points = pca_2d(features).numpy()
    fig, ax = plt.subplots(figsize=(7, 5.5))
    cmap = plt.get_cmap("tab20" if len(class_names) > 10 else "tab10")
    for c, name in enumerate(class_names):
        mask = (labels == c).numpy()
        if mask.any():
            ax.scatter(points[mask, 0], points[mask, 1], s=12, color=cmap(c % cmap.N), label=name)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def save_confusion_matrix(matrix: torch.Tensor, names: Sequence[str], path: Path, title: str) -> Path:
    """Save a confusion matrix (K, K) int (rows = true class, columns = predicted) as a PNG."""
    plt = _pyplot()
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
