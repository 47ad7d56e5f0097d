"""What an evaluation writes into its run directory.

- ``metrics.json``: every number under ``<task>/<protocol>/<metric>``, the protocol descriptions,
  the video counts, the checkpoint and its hash, per-class values;
- ``metrics.md``: the same as Markdown tables, the protocol name next to every number;
- figures (PNG), drawn by :mod:`pacepred.figures`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

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
