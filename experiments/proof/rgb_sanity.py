"""Why did RGB input learn nothing on the evidence benchmark, even with labels? Learning probes.

    python experiments/proof/rgb_sanity.py --probes supervised_rgb pace_rgb --variants clean appearance
    python experiments/proof/rgb_sanity.py --list

Each probe pre-trains one network (``experiment=proof`` with the probe's overrides) on one variant
of the benchmark at 40x40 (32x32 crops) and records the validation-part accuracy after every epoch
(the class accuracy of a supervised run, the pace accuracy of a pace run): does the network learn
at all, and how fast? The variants go from the benchmark as it was (full clutter) to a task that
appearance alone solves (one object per video, always its class's typical shape and texture, on a
plain background): a network that sees RGB frames and cannot learn that one has a broken input
path. Writes ``<out>/probes.json`` (every run, accumulated over invocations; docs/evidence.md
renders it: ``make results``) and prints its table.
"""

from __future__ import annotations

import argparse
import csv
import json
import shlex
import sys
import time
from pathlib import Path

from pacepred.config import compose_config
from pacepred.train import train

REPO = Path(__file__).resolve().parents[2]
#: The benchmark's train part (seed 10) and validation part (seed 11): the test part is never read here.
PARTS = ["data.source.num_val_per_class=40", "data.source.seed=10", "data.source.val_seed=11",
         "data.source.size=40", "data.decode_size=[40,40]", "data.crop_size=32", "trainer.check_val_every_n_epoch=1"]
VARIANTS = {
    "full": ["data.source.clutter=full"],
    "clean": ["data.source.clutter=none"],
    "appearance": ["data.source.clutter=none", "data.source.typical_object_percent=100"],
    "big_full": ["data.source.clutter=full", "data.source.motion_scale=1.5", "data.source.object_scale=1.5"],
    "big_low": ["data.source.clutter=low", "data.source.motion_scale=1.5", "data.source.object_scale=1.5"],
    "big_clean": ["data.source.clutter=none", "data.source.motion_scale=1.5", "data.source.object_scale=1.5"],
    "big_appearance": ["data.source.clutter=none", "data.source.typical_object_percent=100",
                       "data.source.object_scale=1.5"],
    "big_appearance_8colours": ["data.source.clutter=none", "data.source.typical_object_percent=100",
                                "data.source.object_scale=1.5", "data.source.colour_levels=2"],
    "big_motion_clean": ["data.source.clutter=none", "data.source.motion_scale=2", "data.source.object_scale=1.5"],
}
PROBES = {
    "supervised_rgb": ["model=supervised", "pace=1", "input=rgb"],
    "supervised_residual": ["model=supervised", "pace=1", "input=residual"],
    "pace_rgb": ["model=pace", "pace=4", "input=rgb"],
    "pace_residual": ["model=pace", "pace=4", "input=residual"],
    "pace_rgb_centred": ["model=pace", "pace=4", "input=rgb_centred"],
}
METRIC = {"supervised": "val/class_acc", "pace": "val/pace_acc"}


def epoch_values(run_dir: Path, metric: str) -> list[float]:
    """``metric`` at every validation, in order, from the run's csv log."""
    with open(run_dir / "csv" / "metrics.csv") as f:
        return [float(row[metric]) for row in csv.DictReader(f) if row.get(metric)]


def last_epoch_train_loss(run_dir: Path) -> float | None:
    """The mean training loss over the last epoch's logged steps (ln K where nothing is learnt)."""
    with open(run_dir / "csv" / "metrics.csv") as f:
        rows = [row for row in csv.DictReader(f) if row.get("train/loss")]
    last = [float(row["train/loss"]) for row in rows if rows and row["epoch"] == rows[-1]["epoch"]]
    return sum(last) / len(last) if last else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", nargs="+", default=list(PROBES), choices=list(PROBES))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", nargs="*", default=[], help="extra overrides of every probe (e.g. optim.lr=0.01)")
    parser.add_argument("--work", default=str(REPO / "logs" / "rgb_sanity"))
    parser.add_argument("--out", default=str(REPO / "experiments" / "proof" / "design" / "rgb_sanity"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    store = out / "probes.json"
    runs = json.loads(store.read_text()) if store.is_file() else []
    command = shlex.join(["python", "experiments/proof/rgb_sanity.py", *sys.argv[1:]])
    for variant in args.variants:
        for probe in args.probes:
            overrides = ["experiment=proof", *PROBES[probe], f"seed={args.seed}", f"trainer.max_epochs={args.epochs}",
                         *PARTS, *VARIANTS[variant], *args.set]
            name = (f"{variant}_{probe}_seed{args.seed}" + (f"_{args.epochs}epochs" if args.epochs != 6 else "")
                    + "".join(f"_{o}" for o in args.set).replace("/", "-"))
            run_dir = Path(args.work) / name
            start = time.perf_counter()
            train(compose_config("train", overrides, run_dir))
            values = epoch_values(run_dir, METRIC[probe.split("_")[0]])
            runs = [r for r in runs if r["name"] != name] + [{
                "name": name, "variant": variant, "probe": probe, "extra": args.set, "metric": METRIC[probe.split("_")[0]],
                "per_epoch": values, "train_loss_last_epoch": last_epoch_train_loss(run_dir), "seconds": time.perf_counter() - start, "overrides": overrides, "command": command}]
            store.write_text(json.dumps(runs, indent=2) + "\n")
            print(name, [round(v, 3) for v in values], flush=True)
    width = max(len(r["per_epoch"]) for r in runs)
    lines = ["Validation-part accuracy after each epoch (7 classes: chance 14.3%; 4 paces: chance 25%). "
             "Each row's command is in probes.json.\n",
             "| variant | probe | extra | " + " | ".join(f"ep {e + 1}" for e in range(width)) + " | s |",
             "|---" * (width + 4) + "|"]
    for r in runs:
        cells = [f"{100 * v:.1f}" for v in r["per_epoch"]] + [""] * (width - len(r["per_epoch"]))
        lines.append(f"| {r['variant']} | {r['probe']} | {' '.join(r['extra'])} | " + " | ".join(cells)
                     + f" | {r['seconds']:.0f} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
