"""Evidence benchmark: run the pre-registered protocol (``protocol.yaml``) and report it with intervals.

    python experiments/proof/run.py                          # = make proof: the test part, every seed
    python experiments/proof/run.py --part val --seeds 0     # a design study on the validation part
    python experiments/proof/run.py --test-seed 123          # the test part regenerated with another seed

For every seed and condition of the protocol it pre-trains with ``experiment=proof`` plus the
condition's overrides (nothing for a random initialisation), then runs every evaluation of the
protocol on the held-out part (``--part``: ``test``, reported, or ``val``, for choices), all in
this process. A finished job is reused when the same command runs again with the same settings (a
killed run resumes); one made with other settings stops the run. Every finished job is also
recorded in ``experiments/proof/jobs`` (``--records``; its settings, metrics and per-video hits,
no checkpoint), which is committed: a clone on another machine reuses the recorded jobs and runs
only the missing ones, so that the protocol's seeds add up across machines. Then it writes into ``--out``:
``proof.json`` (the one results file: every number of every run, the means with their 95%
bootstrap intervals, every claim of the protocol with its interval and verdict, the command, the
code's commit, the machine, the time), ``per_video.json`` (the hits the intervals are drawn from)
and ``proof.png``. ``experiments/render.py`` turns ``proof.json`` into the tables of the documentation.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from omegaconf import OmegaConf, open_dict

from pacepred.config import compose_config
from pacepred.eval import evaluate
from pacepred.train import train

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
import stats  # noqa: E402  (experiments/proof/stats.py, beside this script)

#: The code versions (``git describe --always --dirty``) the jobs of this invocation ran with, reused ones included.
JOB_COMMITS: set[str] = set()


def git_commit() -> str:
    """``git describe --always --dirty`` of the repository: "-dirty" when the working tree differs
    from the commit (the numbers are then not that commit's)."""
    return subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                          cwd=REPO).stdout.strip()


def job_settings(cfg) -> tuple[dict, str]:
    """(the composed config resolved, without its ``hydra`` and ``paths`` nodes; its output folder):
    what a job computes, wherever it writes."""
    cfg = cfg.copy()
    with open_dict(cfg):
        cfg.pop("hydra", None)  # the launcher's own state (job number, ...), not the job's
    container = OmegaConf.to_container(cfg, resolve=True)
    return container, container.pop("paths")["output_dir"]


def config_digest(cfg) -> str:
    """SHA-256 (16 hex digits) of :func:`job_settings` with the output folder named by a
    placeholder, so that a changed default is a change of settings as much as a changed override."""
    container, output_dir = job_settings(cfg)
    text = json.dumps(container, sort_keys=True, default=str).replace(output_dir, "<output_dir>")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached(path: Path, settings: dict, run, record: Path | None = None, stale=None) -> dict:
    """The result saved at ``path`` (or at ``record``, the job's committed copy), or run() once and
    save it at both with its wall time in seconds (``"seconds"``), the ``settings`` it ran with (its
    overrides and its configs' digests) and the code's commit. A saved job made with other settings
    is an error, never a stale number; ``stale(result)`` true (e.g. its checkpoint is gone and an
    evaluation needs it) runs it again."""
    source = saved_copy(path, record)
    if source is not None:
        saved = json.loads(source.read_text())
        if saved.get("settings") != settings:
            raise SystemExit(f"{source} was made with other settings ({saved.get('settings')}) than this run asks for "
                             f"({settings}): pass another --work folder, or delete {source.parent} to rerun it")
        if stale is None or not stale(saved["result"]):
            JOB_COMMITS.add(saved.get("commit", "unknown"))
            for copy in (path, record):
                if copy is not None and not copy.is_file():
                    save(copy, saved)
            return saved["result"]
    start = time.perf_counter()
    result = {**run(), "seconds": time.perf_counter() - start}
    commit = git_commit()
    JOB_COMMITS.add(commit)
    for copy in (path, record):
        if copy is not None:
            save(copy, {"settings": settings, "result": result, "commit": commit})
    return result


def save(path: Path, job: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(job, indent=1) + "\n")


def job_folder(root: str | Path, seed: int, name: str, part: str | None = None, test_seed: int | None = None) -> Path:
    """``<root>/seed<seed>/<name>[/<part>]``: the part folder names a regenerated test part's seed."""
    folder = Path(root) / f"seed{seed}" / name
    if part is None:
        return folder
    return folder / (part if test_seed is None else f"{part}-seed{test_seed}")


def record_of(path: Path, args: argparse.Namespace) -> Path | None:
    """The committed copy of the job saved at ``path`` under ``--work``, or None without ``--records``."""
    return Path(args.records) / path.relative_to(args.work) if args.records else None


def saved_copy(path: Path, record: Path | None) -> Path | None:
    """Where a job is saved: ``path`` in the work folder, else its ``record``, else None."""
    return path if path.is_file() else record if record is not None and record.is_file() else None


def load_protocol(path: Path) -> dict:
    """The protocol file, checked: every claim names conditions and columns it defines."""
    protocol = yaml.safe_load(path.read_text())
    conditions, columns = protocol["conditions"], protocol["columns"]
    for claim in protocol["claims"]:
        names = [claim[k] for k in ("a", "b", "method", "low", "high") if k in claim]
        unknown = [n for n in names if n not in conditions] + ([claim["column"]] if claim["column"] not in columns else [])
        if unknown:
            raise ValueError(f"{path}: claim {claim} names {unknown}, which the protocol does not define")
    return protocol


def pretrain(name: str, seed: int, protocol: dict, args: argparse.Namespace,
             needs_checkpoint: bool = True) -> tuple[dict, str | None, dict]:
    """Pre-train condition ``name`` with ``seed`` (unless it has no pre-training): (its result, the
    checkpoint to evaluate or None for a random initialisation, the settings that made it). A
    recorded job whose checkpoint is not on this machine is trained again when ``needs_checkpoint``."""
    condition = protocol["conditions"][name]
    if condition.get("pretrain") is None:
        return {}, None, {}
    job = job_folder(args.work, seed, name)
    overrides = [*protocol["benchmark"], *condition["pretrain"], f"seed={seed}", *args.set]
    cfg = compose_config("train", overrides, job / "pretrain")
    settings = {"pretrain": overrides, "pretrain_config": config_digest(cfg)}
    key = "best_checkpoint" if condition.get("checkpoint") == "best" else "last_checkpoint"

    def stale(result: dict) -> bool:
        return needs_checkpoint and not Path(result.get(key) or "").is_file()

    result = cached(job / "pretrain.json", settings, lambda: train(cfg), record_of(job / "pretrain.json", args), stale)
    return result, result.get(key), settings


def evaluate_condition(name: str, seed: int, protocol: dict, args: argparse.Namespace) -> dict:
    """Pre-train and evaluate one condition with one seed: ``{"pretrain": metrics, "<evaluation>":
    {"metrics": ..., "hits": {key: 0/1 per held-out video}, "videos": names}}``."""
    condition = protocol["conditions"][name]
    job = job_folder(args.work, seed, name, args.part, args.test_seed)
    evaluations = {e: o for e, o in protocol["evaluations"].items() if e not in condition.get("skip", [])}
    done = all(saved_copy(job / f"{e}.json", record_of(job / f"{e}.json", args)) for e in evaluations)
    pretrained, checkpoint, pretrain_settings = pretrain(name, seed, protocol, args, needs_checkpoint=not done)
    runs = {"pretrain": pretrained.get("metrics", {}), "seconds/pretrain": pretrained.get("seconds", 0.0)}
    for evaluation, overrides in evaluations.items():
        eval_overrides = [*protocol["eval_data"], *overrides, f"input={condition['input']}", f"seed={seed}",
                          f"heldout={args.part}", f"ckpt={checkpoint or 'null'}",
                          f"paths.feature_cache={Path(args.work) / 'feature_cache'}", *args.eval_set,
                          *(protocol["random_evaluation"] if checkpoint is None else []),
                          *condition.get("eval", [])]
        cfg = compose_config("eval", eval_overrides, job / evaluation)
        settings = {**pretrain_settings, "eval": eval_overrides, "eval_config": config_digest(cfg)}

        def run(cfg=cfg, folder=job / evaluation):
            report = evaluate(cfg)
            hits = json.loads((folder / "per_video.json").read_text())
            return {"metrics": report["metrics"], "hits": hits["hits"], "videos": hits["videos"]}

        path = job / f"{evaluation}.json"
        runs[evaluation] = cached(path, settings, run, record_of(path, args))
    return runs


def hit_matrix(results: dict, name: str, column: tuple[str, str], seeds: list[int]) -> np.ndarray | None:
    """(S, N) hits of ``name`` for a column ``(evaluation, metric key)``, or None where not measured."""
    evaluation, key = column
    rows = [results[name][seed].get(evaluation, {}).get("hits", {}).get(key) for seed in seeds]
    return None if any(r is None for r in rows) else np.array(rows, dtype=np.int8)


def summarise(results: dict, protocol: dict, seeds: list[int]) -> tuple[dict, list[dict]]:
    """(condition -> column -> mean with interval in percent, the claims with their intervals)."""
    table = {}
    for name in results:
        row = {}
        for column, spec in protocol["columns"].items():
            hits = hit_matrix(results, name, tuple(spec), seeds)
            row[column] = None if hits is None else {k: 100 * v for k, v in stats.mean_interval(hits).as_dict().items()}
        table[name] = row
    claims = []
    for claim in protocol["claims"]:
        spec = tuple(protocol["columns"][claim["column"]])
        if claim["kind"] == "difference":
            a, b = (hit_matrix(results, claim[k], spec, seeds) for k in ("a", "b"))
            if a is None or b is None:
                continue
            interval = stats.difference_interval(a, b)
            met = interval.low > claim.get("margin", 0.0) / 100
            scale = 100
        else:  # gap_share
            matrices = [hit_matrix(results, claim[k], spec, seeds) for k in ("method", "low", "high")]
            if any(m is None for m in matrices):
                continue
            interval = stats.gap_share_interval(*matrices)
            met = interval.value >= claim["target"]
            scale = 100
        claims.append({**claim, "interval": {k: scale * v for k, v in interval.as_dict().items()},
                       "excludes_zero": interval.excludes_zero, "met": bool(met)})
    return table, claims


def claim_line(claim: dict, protocol: dict) -> str:
    """A claim in words, from its interval."""
    iv = claim["interval"]
    label = {n: c["label"] for n, c in protocol["conditions"].items()}
    if claim["kind"] == "difference":
        return (f"{label[claim['a']]} - {label[claim['b']]}, {claim['column']}: {iv['value']:+.1f} points "
                f"[{iv['low']:+.1f}, {iv['high']:+.1f}] -> {'met' if claim['met'] else 'NOT met'}"
                f" ({claim['statement']})")
    return (f"{label[claim['method']]} closes {iv['value']:.0f}% [{iv['low']:.0f}, {iv['high']:.0f}] of the gap between "
            f"{label[claim['low']]} and {label[claim['high']]}, {claim['column']} -> "
            f"{'met' if claim['met'] else 'NOT met'} (target {100 * claim['target']:.0f}%)")


def write_report(results: dict, protocol: dict, args: argparse.Namespace, wall: float) -> None:
    seeds = args.seeds
    table, claims = summarise(results, protocol, seeds)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    compute = sum(v for by_seed in results.values() for runs in by_seed.values()
                  for k, v in [("seconds/pretrain", runs.get("seconds/pretrain", 0.0))]
                  + [(e, r.get("seconds", 0.0)) for e, r in runs.items() if isinstance(r, dict) and "seconds" in r])
    labels = {name: protocol["conditions"][name]["label"] for name in results}
    payload = {
        "command": shlex.join(["python", "experiments/proof/run.py", *sys.argv[1:]]),
        "commit": git_commit(), "job_commits": sorted(JOB_COMMITS), "date": str(datetime.date.today()),
        "machine": f"{platform.machine()} {platform.processor() or ''}, {torch.get_num_threads()} torch threads".strip(),
        "part": args.part, "test_seed": args.test_seed, "seeds": seeds,
        "protocol": os.path.relpath(args.protocol, REPO),
        "minutes_of_jobs": compute / 60, "minutes_of_this_invocation": wall / 60,
        "labels": labels, "columns": list(protocol["columns"]), "table": table, "claims": claims,
        "runs": {name: {str(s): {k: (v["metrics"] if isinstance(v, dict) and "metrics" in v else v)
                                 for k, v in runs.items()} for s, runs in by_seed.items()}
                 for name, by_seed in results.items()},
    }
    (out / "proof.json").write_text(json.dumps(payload, indent=2) + "\n")
    videos = next((r["videos"] for by_seed in results.values() for runs in by_seed.values() for r in runs.values()
                   if isinstance(r, dict) and "videos" in r), [])
    (out / "per_video.json").write_text(json.dumps({
        "videos": videos,
        "hits": {name: {column: (None if (m := hit_matrix(results, name, tuple(spec), seeds)) is None else m.tolist())
                        for column, spec in protocol["columns"].items()} for name in results}}) + "\n")
    plot(table, labels, out / "proof.png", args.part)
    print("\n".join(claim_line(c, protocol) for c in claims))


def plot(table: dict, labels: dict, path: Path, part: str) -> None:
    """Bars of every measured column, the 95% intervals as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = [c for c in next(iter(table.values())) if any(row[c] for row in table.values())]
    figure, axis = plt.subplots(figsize=(max(8.0, 2 + 1.6 * len(columns)), 4.8))
    width = 0.8 / len(table)
    for i, (name, row) in enumerate(table.items()):
        means = [row[c]["value"] if row[c] else 0.0 for c in columns]
        errors = [[row[c]["value"] - row[c]["low"] if row[c] else 0 for c in columns],
                  [row[c]["high"] - row[c]["value"] if row[c] else 0 for c in columns]]
        axis.bar([x + i * width for x in range(len(columns))], means, width, yerr=errors, capsize=2, label=labels[name])
    axis.set_xticks([x + width * (len(table) - 1) / 2 for x in range(len(columns))], columns, rotation=12)
    axis.set_ylabel(f"% on the {part} part (95% bootstrap interval)")
    axis.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", default=str(HERE / "protocol.yaml"))
    parser.add_argument("--part", choices=("test", "val"), default="test",
                        help="the held-out part the evaluations score: test (reported) or val (choices)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="default: the protocol's")
    parser.add_argument("--conditions", nargs="+", default=None, help="default: every condition of the protocol")
    parser.add_argument("--test-seed", type=int, default=None,
                        help="regenerate the test part with this generator seed (the evaluations only: "
                             "pre-training never reads the test part)")
    parser.add_argument("--pretrain-only", action="store_true",
                        help="pre-train the conditions and stop (reads no held-out part; the evaluations reuse them)")
    parser.add_argument("--set", nargs="*", default=[], help="extra pre-training overrides of every condition")
    parser.add_argument("--eval-set", nargs="*", default=[], help="extra overrides of every evaluation")
    parser.add_argument("--work", default="logs/proof",
                        help="run folders (resumable; relative to the repository, which the jobs run in)")
    parser.add_argument("--records", default=str(HERE / "jobs"),
                        help="the finished jobs' committed records (settings, metrics, per-video hits; no "
                             "checkpoints): reused on any machine, so that seeds add up across runs; '' for none")
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args()
    # The jobs' settings name their folders (checkpoints, feature cache) relative to the repository,
    # so that a record made on one machine is the same job on another.
    args.protocol, args.out = Path(args.protocol).resolve(), Path(args.out).resolve()
    args.records = str(Path(args.records).resolve()) if args.records else ""
    os.chdir(REPO)
    protocol = load_protocol(Path(args.protocol))
    args.seeds = args.seeds if args.seeds is not None else protocol["seeds"]
    if args.test_seed is not None:
        args.eval_set = [f"data.source.test_seed={args.test_seed}", *args.eval_set]
    names = args.conditions or list(protocol["conditions"])
    unknown = sorted(set(names) - set(protocol["conditions"]))
    if unknown:
        raise SystemExit(f"--conditions {unknown}: the protocol defines {list(protocol['conditions'])}")
    start = time.perf_counter()
    results: dict[str, dict[int, dict]] = {name: {} for name in names}
    if args.pretrain_only:
        for seed in args.seeds:
            for name in names:
                print(f"=== seed {seed}: {name} (pre-training only) ===", flush=True)
                pretrain(name, seed, protocol, args)
        return
    for seed in args.seeds:
        for name in names:
            print(f"=== seed {seed}: {name} ({args.part} part) ===", flush=True)
            results[name][seed] = evaluate_condition(name, seed, protocol, args)
    write_report(results, protocol, args, time.perf_counter() - start)


if __name__ == "__main__":
    main()
