"""What an evaluation writes into its run directory.

- ``metrics.json``: every number under ``<task>/<protocol>/<metric>``, the protocol descriptions,
  the video counts, the checkpoint and its hash, per-class values;
- ``metrics.md``: the same as Markdown tables, the protocol name next to every number;
- figures (PNG): retrieval sheets (queries and their nearest neighbours, hit or miss), confusion
  matrices (:func:`pacepred.reports.save_confusion_matrix`) and 2-D embeddings (PCA).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import Tensor


@dataclass
class Report:
    """Results of one evaluation run.

    ``metrics`` maps ``<task>/<protocol>/<metric>`` to a value; ``protocols`` maps a protocol
    name to its description; ``per_class`` maps a metric key to (num_classes,) values;
    ``info`` holds the run's context (checkpoint, hash, backbone, counts, ...).
    """

    task: str
    class_names: list[str]
    info: dict = field(default_factory=dict)
    protocols: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    per_class: dict[str, list[float]] = field(default_factory=dict)
    #: ``<task>/<protocol>/<metric>`` -> 0/1 per held-out video (record order), for resampling tests
    per_video: dict[str, list[int]] = field(default_factory=dict)
    #: the held-out videos, in record order (file names), that ``per_video`` lists follow
    heldout_videos: list[str] = field(default_factory=list)

    def add(self, protocol: str, description: str, values: dict[str, float]) -> None:
        """Record ``values`` ({metric: value}) under ``<task>/<protocol>/<metric>`` and print them."""
        self.protocols[protocol] = description
        for metric, value in values.items():
            self.metrics[f"{self.task}/{protocol}/{metric}"] = float(value)
        shown = "  ".join(f"{m}={v:.4f}" for m, v in values.items())
        print(f"[{self.task} | protocol {protocol}] {shown}", flush=True)

    def add_per_class(self, protocol: str, metric: str, values: Tensor) -> None:
        self.per_class[f"{self.task}/{protocol}/{metric}"] = [float(v) for v in values]

    def add_per_video(self, protocol: str, metric: str, hits: Tensor) -> None:
        """Record bool (N,) hits of every held-out video under ``<task>/<protocol>/<metric>``."""
        self.per_video[f"{self.task}/{protocol}/{metric}"] = [int(v) for v in hits.tolist()]

    def write(self, output_dir: Path) -> None:
        """Write ``metrics.json``, ``metrics.md`` and (where recorded) ``per_video.json`` into ``output_dir``."""
        output_dir.mkdir(parents=True, exist_ok=True)
        per_class = {key: dict(zip(self.class_names, _nan_to_none(values))) for key, values in self.per_class.items()}
        payload = {"task": self.task, **self.info, "protocols": self.protocols, "metrics": self.metrics,
                   "per_class": per_class}
        (output_dir / "metrics.json").write_text(json.dumps(payload, indent=2) + "\n")
        (output_dir / "metrics.md").write_text(self.markdown())
        if self.per_video:
            (output_dir / "per_video.json").write_text(json.dumps({"videos": self.heldout_videos, "hits": self.per_video}))

    def markdown(self) -> str:
        lines = [f"# {self.task}", ""]
        lines += [f"- {key}: {value}" for key, value in self.info.items()]
        lines += ["", "| task | protocol | metric | value |", "| --- | --- | --- | --- |"]
        for key, value in self.metrics.items():
            task, protocol, metric = key.split("/", 2)
            lines.append(f"| {task} | {protocol} | {metric} | {value:.4f} |")
        lines += ["", "Protocols:", ""]
        lines += [f"- `{name}`: {description}" for name, description in self.protocols.items()]
        if self.per_class:
            keys = list(self.per_class)
            lines += ["", "Per class:", "", "| class | " + " | ".join(keys) + " |",
                      "| --- |" + " --- |" * len(keys)]
            for i, name in enumerate(self.class_names):
                cells = [_cell(self.per_class[k][i]) for k in keys]
                lines.append(f"| {name} | " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"


def _nan_to_none(values: Sequence[float]) -> list[float | None]:
    return [None if math.isnan(v) else v for v in values]


def _cell(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3f}"


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
