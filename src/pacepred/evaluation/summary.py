"""Mean and standard deviation over the jobs of an evaluation multirun (e.g. splits 1 to 3).

``python -m pacepred.eval -m task=finetune data=ucf101 data.split=1,2,3`` runs one job
per split; when the sweep ends, :class:`MultirunSummary` (a Hydra callback set in
``conf/eval.yaml``) writes ``summary.json`` and ``summary.md`` into the sweep directory: every
metric of every job (a job is named by its swept overrides, e.g. ``data.split=2``), their
mean and sample standard deviation (n - 1). Jobs are read by :func:`pacepred.sweeps.read_jobs`.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from pacepred.sweeps import read_jobs, swept_keys


def summarize_sweep(sweep_dir: Path) -> dict[str, Any]:
    """{"count", "jobs": [{job, label, metrics}], "mean", "std"} over the finished jobs of a sweep.

    Only metrics present in every job are averaged; ``std`` is 0 for a single job.
    """
    jobs = read_jobs(Path(sweep_dir))
    keys = swept_keys(jobs)
    for job in jobs:
        job["label"] = " ".join(f"{k}={job['overrides'].get(k)}" for k in keys) or job["job"]
    names = [k for k in jobs[0]["metrics"] if all(k in job["metrics"] for job in jobs)]
    values = {k: [job["metrics"][k] for job in jobs] for k in names}
    return {
        "count": len(jobs),
        "jobs": [{"job": j["job"], "label": j["label"], "metrics": j["metrics"]} for j in jobs],
        "mean": {k: statistics.fmean(v) for k, v in values.items()},
        "std": {k: statistics.stdev(v) if len(v) > 1 else 0.0 for k, v in values.items()},
    }


def write_summary(sweep_dir: Path) -> dict[str, Any]:
    """Write ``summary.json`` and ``summary.md`` (one column per job, then mean and std) into ``sweep_dir``."""
    sweep_dir = Path(sweep_dir)
    summary = summarize_sweep(sweep_dir)
    (sweep_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    jobs = summary["jobs"]
    lines = [f"# {sweep_dir}: {summary['count']} jobs", "",
             "| task | protocol | metric | " + " | ".join(j["label"] for j in jobs) + " | mean | std |",
             "| --- | --- | --- |" + " --- |" * (len(jobs) + 2)]
    for key, mean in summary["mean"].items():
        task, protocol, metric = key.split("/", 2)
        cells = [f"{job['metrics'][key]:.4f}" for job in jobs]
        lines.append(f"| {task} | {protocol} | {metric} | " + " | ".join(cells)
                     + f" | {mean:.4f} | {summary['std'][key]:.4f} |")
    (sweep_dir / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return summary


class MultirunSummary(Callback):
    """Hydra callback: after a multirun, write the summary of its jobs into the sweep directory."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        write_summary(Path(config.hydra.sweep.dir))
