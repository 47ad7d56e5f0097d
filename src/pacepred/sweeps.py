"""Collect the results of a Hydra multirun into one table and one plot.

    python -m pacepred.sweeps logs/train/multiruns/<date_time> [--metric val/pace_acc ...] [--out DIR]

Reads every job's ``metrics.json`` and ``.hydra/overrides.yaml``; the swept keys are the
overrides that differ between jobs. Writes ``summary.md`` (one row per job: its swept values and
every val/, train/ and monitor/ metric) and ``summary.png`` (one panel per ``--metric``: the
metric against the first swept key; other swept keys as separate lines) into the sweep folder,
or into ``--out``. A training multirun writes them by itself when it ends (:class:`SweepSummary`,
a Hydra callback set in ``conf/train.yaml``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml
from hydra.experimental.callback import Callback
from omegaconf import DictConfig


def read_jobs(sweep_dir: Path) -> list[dict]:
    """One dict per finished job: ``{"job", "overrides": {key: value}, "metrics": {...},
    "checkpoint_sha256"}`` (the evaluated checkpoint's digest; None for a random initialisation
    or a training job)."""
    jobs = []
    for metrics_file in sorted(sweep_dir.glob("*/metrics.json"), key=lambda p: (len(p.parent.name), p.parent.name)):
        overrides_file = metrics_file.parent / ".hydra" / "overrides.yaml"
        overrides = yaml.safe_load(overrides_file.read_text()) if overrides_file.is_file() else []
        payload = json.loads(metrics_file.read_text())
        jobs.append({
            "job": metrics_file.parent.name,
            "overrides": dict(o.split("=", 1) for o in overrides if "=" in o),
            "metrics": payload["metrics"],
            "checkpoint_sha256": payload.get("checkpoint_sha256"),
        })
    if not jobs:
        raise FileNotFoundError(f"no finished job (*/metrics.json) under {sweep_dir}")
    return jobs


#: Overrides that say how a job ran, not what it computed (a resumed job's ``ckpt_path=last``).
BOOKKEEPING = ("ckpt_path", "hydra.", "paths.")


def swept_keys(jobs: list[dict]) -> list[str]:
    """Override keys whose value is not the same in every job, in first-seen order, but
    :data:`BOOKKEEPING` ones."""
    keys = list(dict.fromkeys(k for job in jobs for k in job["overrides"]))
    keys = [k for k in keys if not any(k == b or k.startswith(b) for b in BOOKKEEPING)]
    return [k for k in keys if len({job["overrides"].get(k) for job in jobs}) > 1]


def _sort_value(value: str | None):
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value))


def write_summary(sweep_dir: Path, metrics: list[str], out_dir: Path | None = None) -> tuple[Path, Path]:
    """Write ``summary.md`` and ``summary.png`` for the sweep into ``out_dir`` (default: the
    sweep folder); returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    jobs = read_jobs(sweep_dir)
    keys = swept_keys(jobs) or ["job"]
    metric_names = sorted({m for job in jobs for m in job["metrics"] if m.startswith(("val/", "train/", "monitor/"))})
    out_dir = out_dir or sweep_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = [f"Sweep {sweep_dir} ({len(jobs)} jobs), swept: {', '.join(keys)}\n",
             "| job | " + " | ".join(keys) + " | " + " | ".join(metric_names) + " |",
             "|---" * (1 + len(keys) + len(metric_names)) + "|"]
    for job in jobs:
        values = [job["overrides"].get(k, job["job"] if k == "job" else "") for k in keys]
        numbers = [f"{job['metrics'][m]:.4f}" if m in job["metrics"] else "" for m in metric_names]
        lines.append(f"| {job['job']} | " + " | ".join(values) + " | " + " | ".join(numbers) + " |")
    table_path = out_dir / "summary.md"
    table_path.write_text("\n".join(lines) + "\n")

    x_key, group_keys = keys[0], keys[1:]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 4), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        groups: dict[tuple, list] = {}
        for job in jobs:
            if metric not in job["metrics"]:
                continue
            group = tuple(job["overrides"].get(k) for k in group_keys)
            x = job["overrides"].get(x_key, job["job"])
            groups.setdefault(group, []).append((x, job["metrics"][metric]))
        for group, points in groups.items():
            points.sort(key=lambda p: _sort_value(p[0]))
            label = ", ".join(f"{k}={v}" for k, v in zip(group_keys, group)) or metric
            ax.plot([str(p[0]) for p in points], [p[1] for p in points], marker="o", label=label)
        ax.set_xlabel(x_key)
        ax.set_ylabel(metric)
        ax.set_title(f"{metric} against {x_key}", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    plot_path = out_dir / "summary.png"
    fig.savefig(plot_path, dpi=100)
    plt.close(fig)
    return table_path, plot_path


class SweepSummary(Callback):
    """Hydra callback: after a training multirun, ``summary.md`` and ``summary.png`` (val/pace_acc
    against the first swept key) in its sweep folder."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        table, plot = write_summary(Path(config.hydra.sweep.dir), ["val/pace_acc"])
        print(f"sweep summary: {table} and {plot}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pacepred.sweeps", description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument("--metric", nargs="+", default=["val/pace_acc"], help="metrics to plot, one panel each")
    parser.add_argument("--out", type=Path, default=None, help="folder for summary.md/png (default: the sweep's)")
    args = parser.parse_args(argv)
    table, plot = write_summary(args.sweep_dir, args.metric, args.out)
    print(table.read_text())
    print(f"table: {table}\nplot:  {plot}")


if __name__ == "__main__":
    main()
