"""Mean and standard deviation over the jobs of an evaluation multirun (e.g. splits 1 to 3).

``python -m pacepred.eval -m task=finetune data=ucf101 data.split=1,2,3`` runs one job
per split; when the sweep ends, :class:`MultirunSummary` (a Hydra callback set in
``conf/eval.yaml``) writes ``summary.json`` and ``summary.md`` into the sweep directory: every
metric of every job (a job is named by its swept overrides, e.g. ``data.split=2``), their
mean and sample standard deviation (n - 1). Only repeats are averaged together: jobs that differ
in anything but :data:`REPEAT_KEYS`, or that evaluated different checkpoints (``ckpt=latest``
can resolve to a newer run in the middle of a sweep), form separate groups, each with its own
mean. Jobs are read by :func:`pacepred.sweeps.read_jobs`.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from pacepred.sweeps import read_jobs, swept_keys

#: Swept keys whose jobs are repeats of one setting, averaged together.
REPEAT_KEYS = ("data.split", "seed")


def _setting(job: dict, keys: list[str], checkpoints_differ: bool) -> str:
    """What a job's group is named by: its swept values other than repeats, and its checkpoint."""
    parts = [f"{k}={job['overrides'].get(k)}" for k in keys if k not in REPEAT_KEYS]
    if checkpoints_differ:
        parts.append(f"checkpoint sha256 {(job['checkpoint_sha256'] or 'none')[:12]}")
    return " ".join(parts) or "all jobs"


def summarize_sweep(sweep_dir: Path) -> dict[str, Any]:
    """{"count", "jobs": [{job, label, metrics}], "groups": [{setting, jobs, count, mean, std}]}
    over the finished jobs of a sweep, one group per setting (see the module docstring).

    Only metrics present in every job of a group are averaged; ``std`` is 0 for a single job.
    """
    jobs = read_jobs(Path(sweep_dir))
    keys = swept_keys(jobs)
    checkpoints_differ = len({job["checkpoint_sha256"] for job in jobs}) > 1
    groups: dict[str, list[dict]] = {}
    for job in jobs:
        job["label"] = " ".join(f"{k}={job['overrides'].get(k)}" for k in keys) or job["job"]
        groups.setdefault(_setting(job, keys, checkpoints_differ), []).append(job)
    summaries = []
    for setting, members in groups.items():
        names = [k for k in members[0]["metrics"] if all(k in job["metrics"] for job in members)]
        values = {k: [job["metrics"][k] for job in members] for k in names}
        summaries.append({
            "setting": setting, "jobs": [job["job"] for job in members], "count": len(members),
            "mean": {k: statistics.fmean(v) for k, v in values.items()},
            "std": {k: statistics.stdev(v) if len(v) > 1 else 0.0 for k, v in values.items()},
        })
    return {
        "count": len(jobs),
        "jobs": [{"job": j["job"], "label": j["label"], "metrics": j["metrics"]} for j in jobs],
        "groups": summaries,
    }


def write_summary(sweep_dir: Path) -> dict[str, Any]:
    """Write ``summary.json`` and ``summary.md`` (per group: one column per job, then mean and
    std) into ``sweep_dir``."""
    sweep_dir = Path(sweep_dir)
    summary = summarize_sweep(sweep_dir)
    (sweep_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    labels = {job["job"]: job["label"] for job in summary["jobs"]}
    metrics = {job["job"]: job["metrics"] for job in summary["jobs"]}
    lines = [f"# {sweep_dir}: {summary['count']} jobs"]
    for group in summary["groups"]:
        lines += ["", f"## {group['setting']}: {group['count']} jobs", "",
                  "| task | protocol | metric | " + " | ".join(labels[j] for j in group["jobs"]) + " | mean | std |",
                  "| --- | --- | --- |" + " --- |" * (group["count"] + 2)]
        for key, mean in group["mean"].items():
            task, protocol, metric = key.split("/", 2)
            cells = [f"{metrics[j][key]:.4f}" for j in group["jobs"]]
            lines.append(f"| {task} | {protocol} | {metric} | " + " | ".join(cells)
                         + f" | {mean:.4f} | {group['std'][key]:.4f} |")
    (sweep_dir / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return summary


class MultirunSummary(Callback):
    """Hydra callback: after a multirun, write the summary of its jobs into the sweep directory."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        write_summary(Path(config.hydra.sweep.dir))
