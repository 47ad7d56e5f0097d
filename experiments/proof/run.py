"""Evidence benchmark: does pace pre-training give better video features than random init?

    python experiments/proof/run.py                      # what `make proof` runs
    python experiments/proof/run.py --seeds 0 --epochs 2 --finetune-epochs 1   # a quick look

For every seed and condition (random init, pace with the paper's 4 paces, pace with 2 paces,
pace + contrastive same context, pace + contrastive same pace, supervised on the labels) it
pre-trains with ``experiment=proof`` on the
synthetic motion benchmark (nothing to pre-train for random init), then evaluates the backbone
with retrieval (``gap`` and ``vcop``, top-1/top-5), the linear probe and fine-tuning
(video-level top-1), all in this process. Every job writes into ``--work`` and is skipped when
its result is already there, so a killed run resumes. Finally it writes, into ``--out``,
``proof.md`` (mean and std over seeds, the command, the commit, the machine, the wall time),
``proof.json`` (every number) and ``proof.png`` (a bar chart with the std as error bars).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import platform
import re
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from omegaconf import OmegaConf, open_dict

from pacepred.config import compose_config
from pacepred.eval import evaluate
from pacepred.train import train

REPO = Path(__file__).resolve().parents[2]
#: Equal compute: a contrastive step takes 2 clips of each video, so those runs take half the videos
#: per step and half the steps per epoch: every condition trains on the same number of clips.
EQUAL_CLIPS = ["data.batch_size=8", "trainer.limit_train_batches=0.5"]
#: condition -> pre-training overrides (None: random initialisation, no pre-training).
CONDITIONS: dict[str, list[str] | None] = {
    "random": None,
    "pace": ["model=pace"],
    "pace (2 paces)": ["model=pace", "pace=2"],
    "pace+ctr context": ["model=pace_ctr_context", *EQUAL_CLIPS],
    "pace+ctr pace": ["model=pace_ctr_pace", *EQUAL_CLIPS],
    "supervised": ["model=supervised"],
}
#: column -> (task, metric key or a '*' pattern in the task's metrics.json)
COLUMNS = {
    "pace acc": ("pretrain", "val/pace_acc"),
    "retrieval gap top-1": ("retrieval", "retrieval/gap/top1"),
    "retrieval gap top-5": ("retrieval", "retrieval/gap/top5"),
    "retrieval vcop top-1": ("retrieval", "retrieval/vcop/top1"),
    "retrieval vcop top-5": ("retrieval", "retrieval/vcop/top5"),
    "linear top-1": ("linear", "linear/gap/top1"),
    "finetune video top-1": ("finetune", "finetune/*clip/top1"),
}
TASKS = ("retrieval", "linear", "finetune")
#: The code versions (``git describe --always --dirty``) the jobs of this invocation ran with, reused ones included.
JOB_COMMITS: set[str] = set()


def git_commit() -> str:
    """``git describe --always --dirty`` of the repository: "-dirty" when the working tree differs
    from the commit (the numbers are then not that commit's)."""
    return subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                          cwd=REPO).stdout.strip()


def slug(condition: str) -> str:
    """A condition's folder name: ``pace+ctr context`` -> ``pace_ctr_context``."""
    return re.sub(r"[^a-z0-9]+", "_", condition.lower()).strip("_")


def config_digest(cfg) -> str:
    """SHA-256 (16 hex digits) of a composed config, resolved, without its ``paths`` and ``hydra``
    nodes and with its output folder named by a placeholder: what a job computes, wherever it
    writes, so that a changed default (a dataset's classes, a loss's setting) is a change of
    settings as much as a changed override."""
    cfg = cfg.copy()
    with open_dict(cfg):
        cfg.pop("hydra", None)  # the launcher's own state (job number, ...), not the job's
    container = OmegaConf.to_container(cfg, resolve=True)
    output_dir = container.pop("paths")["output_dir"]
    text = json.dumps(container, sort_keys=True, default=str).replace(output_dir, "<output_dir>")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached(path: Path, settings: dict, run) -> dict:
    """The metrics saved at ``path``, or run() once and save them there with its wall time in
    seconds (``"seconds"``), the ``settings`` it ran with (its overrides and its configs' digests)
    and the code's commit: jobs are resumable and the report still sums every job's time and
    names every commit its jobs ran with (:data:`JOB_COMMITS`). A saved job made with other
    settings is an error, never a stale number in the table."""
    if path.is_file():
        saved = json.loads(path.read_text())
        if saved.get("settings") != settings:
            raise SystemExit(f"{path} was made with other settings ({saved.get('settings')}) than this run asks for "
                             f"({settings}): pass another --work folder, or delete {path.parent} to rerun it")
        JOB_COMMITS.add(saved.get("commit", "unknown (saved before jobs recorded it)"))
        return saved["metrics"]
    start = time.perf_counter()
    metrics = {**run(), "seconds": time.perf_counter() - start}
    commit = git_commit()
    JOB_COMMITS.add(commit)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"settings": settings, "metrics": metrics, "commit": commit}, indent=2))
    return metrics


def backbone_overrides(overrides: list[str]) -> list[str]:
    """The ``backbone`` ones among pre-training ``overrides``, for the evaluations: a pre-trained
    backbone comes with its run's config, the random network is built from the eval config's."""
    return [o for o in overrides if o.lstrip("+~").split("=")[0].split(".")[0] == "backbone"]


def pick(metrics: dict[str, float], key: str) -> float | None:
    """metrics[key]; ``key`` may hold one '*' matching any text."""
    if "*" not in key:
        return metrics.get(key)
    head, tail = key.split("*")
    found = [v for k, v in metrics.items() if k.startswith(head) and k.endswith(tail) and "clip_top1" not in k]
    return found[0] if found else None


def run_condition(condition: str, seed: int, args: argparse.Namespace) -> dict[str, float]:
    """Pre-train (unless random) and evaluate one condition with one seed; returns its metrics."""
    job = Path(args.work) / f"seed{seed}" / slug(condition)
    metrics: dict[str, float] = {}
    ckpt = "null"
    pretrain_settings: dict = {}
    if CONDITIONS[condition] is not None:
        pretrain_overrides = ["experiment=proof", *CONDITIONS[condition], f"seed={seed}",
                              f"trainer.max_epochs={args.epochs}", *args.set, *args.pretrain_set]
        pretrain_cfg = compose_config("train", pretrain_overrides, job / "pretrain")
        pretrain_settings = {"pretrain": pretrain_overrides, "pretrain_config": config_digest(pretrain_cfg)}
        result = cached(job / "pretrain_metrics.json", pretrain_settings, lambda: train(pretrain_cfg)["metrics"])
        metrics.update({**result, "seconds/pretrain": result["seconds"]})
        ckpt = str(job / "pretrain" / "checkpoints" / "last.ckpt")
    for task in args.tasks:
        overrides = [f"task={task}", f"ckpt={ckpt}", f"input={args.eval_input}", f"seed={seed}", *args.data_overrides,
                     *args.backbone_overrides,
                     f"task.num_clips={args.num_clips}", f"paths.feature_cache={Path(args.work) / 'feature_cache'}"]
        if task == "finetune":
            overrides.append(f"task.max_epochs={args.finetune_epochs}")
        # an evaluation depends on the pre-training that made its checkpoint too
        eval_cfg = compose_config("eval", overrides, job / task)
        settings = {**pretrain_settings, "eval": overrides, "eval_config": config_digest(eval_cfg)}
        result = cached(job / f"{task}_metrics.json", settings, lambda: evaluate(eval_cfg)["metrics"])
        metrics.update({**result, f"seconds/{task}": result["seconds"]})
    metrics.pop("seconds", None)
    return metrics


def summarise(results: dict[str, dict[int, dict[str, float]]]) -> dict[str, dict[str, tuple[float, float] | None]]:
    """condition -> column -> (mean, sample std over seeds) in percent, or None where not measured;
    the std is None with a single seed (no spread to compare a margin with)."""
    table = {}
    for condition, by_seed in results.items():
        row = {}
        for column, (_, key) in COLUMNS.items():
            values = [100 * v for v in (pick(m, key) for m in by_seed.values()) if v is not None]
            row[column] = (statistics.mean(values), statistics.stdev(values) if len(values) > 1 else None) if values else None
        table[condition] = row
    return table


def checks(table: dict) -> list[str]:
    """The issue's targets, each stated with the numbers it was decided on."""
    lines = []

    def get(condition: str, column: str) -> tuple[float, float] | None:
        return table.get(condition, {}).get(column)

    random_ = "random"
    for pace in ("pace", "pace (2 paces)"):  # the targets are for "pace"; the same bars for 2 paces
        for column in ("linear top-1", "retrieval gap top-5", "retrieval vcop top-5"):
            r, p = get(random_, column), get(pace, column)
            if r and p and (r[1] is None or p[1] is None):
                lines.append(f"- {pace} beats random on {column} by more than 3 std: {p[0] - r[0]:+.1f} points, "
                             "not decidable with one seed (no seed-to-seed std)")
            elif r and p:
                margin, std = p[0] - r[0], max(r[1], p[1])
                ok = margin > 3 * std
                lines.append(f"- {pace} beats random on {column} by more than 3 std: {margin:+.1f} points vs "
                             f"3 x {std:.1f} -> {'met' if ok else 'NOT met'}")
        r, p, s = get(random_, "linear top-1"), get(pace, "linear top-1"), get("supervised", "linear top-1")
        if r and p and s and s[0] > r[0]:
            share = (p[0] - r[0]) / (s[0] - r[0])
            lines.append(f"- {pace} closes at least half of the random-to-supervised gap on the linear probe: "
                         f"{100 * share:.0f}% -> {'met' if share >= 0.5 else 'NOT met'}")
    p, c = get("pace", "linear top-1"), get("pace+ctr context", "linear top-1")
    if p and c:
        lines.append(f"- pace + contrastive (same context) at least as good as pace alone on the linear probe: "
                     f"{c[0]:.1f} vs {p[0]:.1f} -> {'met' if c[0] >= p[0] else 'NOT met'}")
    return lines


def write_report(results: dict, args: argparse.Namespace, wall: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = summarise(results)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    commit = git_commit()
    others = sorted(JOB_COMMITS - {commit})
    jobs_note = f" (reused jobs ran at {', '.join(others)})" if others else ""
    command = shlex.join(["python", "experiments/proof/run.py", *sys.argv[1:]])
    compute = sum(v for by_seed in results.values() for m in by_seed.values() for k, v in m.items()
                  if k.startswith("seconds/"))
    header = (f"Evidence benchmark, {datetime.date.today()}, commit {commit}{jobs_note}, {platform.machine()} "
              f"{platform.processor() or ''} with {torch.get_num_threads()} torch threads; time of all jobs "
              f"{compute / 60:.1f} min (this invocation {wall / 60:.1f} min, finished jobs are reused); "
              f"seeds {args.seeds}, pre-training {args.epochs} epochs, fine-tuning {args.finetune_epochs} epochs, "
              f"{args.num_clips} clips per video; command: `{command.strip()}`\n\n"
              "Mean +- std over seeds, in percent.\n\n")
    columns = list(COLUMNS)
    lines = ["| condition | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for condition, row in table.items():
        cells = [("-" if not v else f"{v[0]:.1f}" if v[1] is None else f"{v[0]:.1f} +- {v[1]:.1f}") for v in row.values()]
        lines.append(f"| {condition} | " + " | ".join(cells) + " |")
    text = header + "\n".join(lines) + "\n\nTargets:\n\n" + "\n".join(checks(table)) + "\n"
    (out / "proof.md").write_text(text)
    (out / "proof.json").write_text(json.dumps({"table": table, "runs": results, "command": command, "commit": commit,
                                                "job_commits": sorted(JOB_COMMITS)}, indent=2))
    # the feature columns some condition measured (--tasks may skip some): no bar stands for a missing number
    shown = [c for c in columns if c != "pace acc" and any(row[c] for row in table.values())]
    figure, axis = plt.subplots(figsize=(max(8.0, 2 + 1.5 * len(shown)), 4.5))
    width = 0.8 / len(table)
    for i, (condition, row) in enumerate(table.items()):
        means = [row[c][0] if row[c] else 0.0 for c in shown]
        stds = [row[c][1] or 0.0 if row[c] else 0.0 for c in shown]
        axis.bar([x + i * width for x in range(len(shown))], means, width, yerr=stds, capsize=2, label=condition)
    axis.set_xticks([x + width * (len(table) - 1) / 2 for x in range(len(shown))], shown, rotation=15)
    axis.set_ylabel("% (mean +- std over seeds)")
    axis.set_title("pace pre-training vs random init and supervised, synthetic motion benchmark")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out / "proof.png", dpi=120)
    print("\n" + text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=list(CONDITIONS))
    parser.add_argument("--epochs", type=int, default=None, help="pre-training epochs (default: experiment=proof's)")
    parser.add_argument("--finetune-epochs", type=int, default=2)
    parser.add_argument("--num-clips", type=int, default=3, help="clips per video in every evaluation")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--set", nargs="*", default=[],
                        help="extra pre-training overrides, e.g. model.temperature=0.5; data.source.*, input and "
                             "backbone ones apply to the evaluations too (the random network is that backbone)")
    parser.add_argument("--pretrain-set", nargs="*", default=[],
                        help="overrides of the pre-training only, e.g. a larger unlabelled pool: "
                             "data.root=data/pool80 data.source.num_train_per_class=80 (the evaluations keep the benchmark)")
    parser.add_argument("--work", default=str(REPO / "logs" / "proof"), help="run folders (resumable)")
    parser.add_argument("--out", default=str(REPO / "experiments" / "proof" / "results"))
    args = parser.parse_args()
    pretrain = compose_config("train", ["experiment=proof", *args.set], Path(args.work))
    if args.epochs is None:
        args.epochs = int(pretrain.trainer.max_epochs)
    # the evaluations read the same generated dataset, with the same input, as the pre-training
    args.eval_input = pretrain.input
    args.data_overrides = [f"data.source.{key}={value}" for key, value in pretrain.data.source.items()
                           if key not in ("_target_", "root")]
    args.backbone_overrides = backbone_overrides(args.set)
    start = time.perf_counter()
    results: dict[str, dict[int, dict[str, float]]] = {c: {} for c in args.conditions}
    for seed in args.seeds:
        for condition in args.conditions:
            print(f"=== seed {seed}: {condition} ===", flush=True)
            results[condition][seed] = run_condition(condition, seed, args)
    write_report(results, args, time.perf_counter() - start)


if __name__ == "__main__":
    main()
