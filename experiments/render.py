"""Render the results tables of README.md and docs/ from the committed result files (json).

    python experiments/render.py           # rewrite every marked section (= make results)
    python experiments/render.py --check   # exit 1 when a section differs from what its file renders to

A section is the text between ``<!-- results:NAME -->`` and ``<!-- /results:NAME -->`` in a target
file; NAME picks the result file and the function that renders it (``SECTIONS``). A rerun of a
study rewrites its json file; this script then updates every table that shows it, so no number is
typed by hand. Plots are linked from the repository in README.md and from the site's copies
(``PLOTS``, copied by docs/gen_pages.py) in docs/.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGETS = ("README.md", "docs/evidence.md", "docs/performance.md", "docs/recipes.md")
#: plot in the repository -> its name in the documentation site
PLOTS = {
    "experiments/proof/results/proof.png": "results/proof.png",
    "experiments/proof/design/phase1/proof.png": "results/design_phase1.png",
}


def plot_link(path: str, target: str, caption: str) -> str:
    """A Markdown image of a committed plot, with the path the target file can reach."""
    return f"![{caption}]({PLOTS[path] if target.startswith('docs/') else path})"


def cell(entry) -> str:
    """A table cell of a result: "value [low, high]" (new format), "mean ± std" (old) or "-"."""
    if entry is None:
        return "-"
    if isinstance(entry, dict):
        return f"{entry['value']:.1f} [{entry['low']:.1f}, {entry['high']:.1f}]"
    mean, std = entry
    return f"{mean:.1f} ± {std:.1f}"


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def is_reported(claim: dict) -> bool:
    """A comparison the protocol reports without a target (its statement starts with "reported")."""
    return claim["kind"] == "difference" and claim.get("statement", "").startswith("reported")


def claim_verdict(claim: dict) -> str:
    """met, not met, or reported (no target)."""
    return "reported" if is_reported(claim) else "met" if claim["met"] else "not met"


def claim_line(claim: dict, labels: dict) -> str:
    """A claim of the protocol with its interval and verdict (fields written by experiments/proof/run.py)."""
    iv = claim["interval"]
    verdict = f"**{claim_verdict(claim)}**"
    label = lambda name: labels.get(name, name)  # noqa: E731
    if claim["kind"] == "difference":
        statement = claim.get("statement", "")
        zero = ""
        if is_reported(claim):
            statement = statement.removeprefix("reported").lstrip(": ")
            zero = "; the interval excludes 0" if claim.get("excludes_zero") else "; the interval includes 0"
        margin = f", margin {claim['margin']:g} points" if claim.get("margin") else ""
        return (f"- {verdict}: {statement}: {label(claim['a'])} minus {label(claim['b'])}, "
                f"{claim['column']}: {iv['value']:+.1f} points [{iv['low']:+.1f}, {iv['high']:+.1f}]{margin}{zero}")
    return (f"- {verdict}: {label(claim['method'])} closes {iv['value']:.0f}% [{iv['low']:.0f}, {iv['high']:.0f}] "
            f"of the gap from {label(claim['low'])} to {label(claim['high'])}, {claim['column']} "
            f"(target {100 * claim['target']:.0f}%)")


def evidence_section(path: str, plot: str | None, target: str) -> list[str]:
    """A proof.json of experiments/proof/run.py: conditions x columns, the claims, the seeds and part."""
    result = json.loads((REPO / path).read_text())
    table = result["table"]
    if "labels" not in result:  # the earlier format: mean and standard deviation over seeds
        columns = list(next(iter(table.values())))
        lines = [f"`{path}` is in the earlier format (mean ± standard deviation over seeds, in %); "
                 "`make proof` rewrites it with 95% intervals and the protocol's claims.", ""]
        lines += markdown_table(["condition", *columns], [[name, *(cell(row[c]) for c in columns)]
                                                          for name, row in table.items()])
        return lines + plot_lines(plot, target, "mean and standard deviation over seeds")
    labels, columns = result["labels"], result["columns"]
    columns = [c for c in columns if any(row.get(c) for row in table.values())]
    seeds = ("seed " if len(result["seeds"]) == 1 else "seeds ") + ", ".join(str(s) for s in result["seeds"])
    part = {"val": "Validation", "test": "Test"}.get(result["part"], result["part"])
    lines = [f"{part} part, {seeds}; % with 95% bootstrap intervals over seeds and "
             f"held-out videos; protocol `{result['protocol']}`; every run in `{path}`.", ""]
    lines += markdown_table(["condition", *columns],
                            [[labels.get(name, name), *(cell(row.get(c)) for c in columns)] for name, row in table.items()])
    if result["claims"] and target == "README.md":  # the short form; the claims in full on the docs page
        verdicts = [claim_verdict(c) for c in result["claims"]]
        counts = ", ".join(f"{verdicts.count(v)} {v}" for v in ("met", "not met", "reported") if v in verdicts)
        lines += ["", f"Claims of the protocol: {counts}; each with its interval in "
                      "[docs/evidence.md](docs/evidence.md#result-on-the-test-part)."]
    elif result["claims"]:
        lines += ["", "Claims of the protocol:", ""] + [claim_line(c, labels) for c in result["claims"]]
    return lines + plot_lines(plot, target, f"{part.lower()} part, 95% intervals")


def rgb_sanity_section(probes_path: str, cnn_path: str, target: str) -> list[str]:
    """Why RGB learns little on the benchmark: the probes of rgb_sanity.py (validation accuracy per
    epoch) and the 2D-CNN check of appearance_2d.py (train and validation accuracy per step)."""
    probes = json.loads((REPO / probes_path).read_text())
    lines = [f"Validation part, accuracy in % (`{probes_path}`, each row's command and every epoch's value in the "
             "file; chance: 14.3% for the 7 classes of a supervised probe, 25% for the 4 paces of a pace probe). "
             "The last column is the training loss over the last epoch (chance: ln 7 = 1.95, ln 4 = 1.39).", ""]
    lines += markdown_table(
        ["variant", "probe", "extra overrides", "epochs", "first", "best (epoch)", "last", "train loss, last epoch"],
        [[r["variant"], r["probe"], " ".join(f"`{o}`" for o in r["extra"]) or "-", str(len(r["per_epoch"])),
          f"{100 * r['per_epoch'][0]:.1f}",
          f"{100 * max(r['per_epoch']):.1f} ({1 + r['per_epoch'].index(max(r['per_epoch']))})",
          f"{100 * r['per_epoch'][-1]:.1f}",
          f"{r['train_loss_last_epoch']:.2f}" if r.get("train_loss_last_epoch") is not None else "-"] for r in probes])
    if (REPO / cnn_path).is_file():
        cnn = json.loads((REPO / cnn_path).read_text())
        lines += ["", f"A plain 2D CNN on one frame per video of the `appearance` variant (`{cnn_path}`, "
                      f"`{cnn['command']}`; chance {100 * cnn['chance']:.1f}%), accuracy in % at the last step:", ""]
        lines += markdown_table(["optimiser", "steps of 16 frames", "train", "validation"],
                                [[name, str(run["steps"]), f"{100 * run['curve'][-1]['train_acc']:.1f}",
                                  f"{100 * run['curve'][-1]['val_acc']:.1f}"] for name, run in cnn["runs"].items()])
    return lines


def plot_lines(plot: str | None, target: str, caption: str) -> list[str]:
    return ["", plot_link(plot, target, caption)] if plot and (REPO / plot).is_file() else []


def training_section(path: str, target: str) -> list[str]:
    """A training_throughput_<device>.json of experiments/bench_training.py: one row per backbone and precision."""
    result = json.loads((REPO / path).read_text())
    header = ["backbone", "precision", "clip", "batch", "plain loop clips/s", "framework clips/s",
              "framework/plain time", "full pipeline clips/s", "pipeline/framework rate", "peak memory MB"]
    rows = [[r["backbone"], r["precision"], r["clip"], str(r["batch"]), f"{r['plain_clips_s']:.1f}",
             f"{r['framework_clips_s']:.1f}", f"{r['framework_over_plain_time']:.3f}", f"{r['pipeline_clips_s']:.1f}",
             f"{r['pipeline_clips_s'] / r['framework_clips_s']:.2f}", f"{r['peak_memory_mb']:.0f}"] for r in result["rows"]]
    return [f"Device: {result['device']}; every number in `{path}`.", ""] + markdown_table(header, rows)


def data_throughput_section(path: str, target: str) -> list[str]:
    """data_throughput.json of experiments/bench_data.py: rates, CPU time, ratios against targets, sizes."""
    result = json.loads((REPO / path).read_text())
    workers = [str(w) for w in result["workers"]]
    header = ["pipeline", *(f"clips/s, {w} worker{'s' if w != '1' else ''}" for w in workers),
              f"CPU ms per clip ({workers[-1]} workers)"]
    rows = [[name, *(f"{rates[w]:.1f}" for w in workers), f"{result['cpu_ms_per_clip'][name][workers[-1]]:.1f}"]
            for name, rates in result["clips_per_s"].items()]
    lines = [f"`{result['command']}` ({result['machine']}, median of {result['repeats']} rounds, "
             f"{result['clips']} clips); every round in `{path}`.", ""] + markdown_table(header, rows)
    ratio_rows = [[name, *(f"{r[w]:.2f}" for w in workers), f"{r['by_cpu_time']:.2f}",
                   "-" if r.get("target_min") is None else f">= {r['target_min']:g}"]
                  for name, r in result["ratios"].items()]
    lines += ["", "Ratios (rate of the first over the second):", ""]
    lines += markdown_table(["ratio", *(f"{w} worker{'s' if w != '1' else ''}" for w in workers), "by CPU time", "target"],
                            ratio_rows)
    disk = [[name, f"{mb:.2f}"] for name, mb in result["disk_mb"].items()]
    return lines + ["", "Size on disk of each form of the benchmark's videos:", ""] + markdown_table(["form", "MB"], disk)


UCF101_TRAIN_VIDEOS = 9537  # UCF101's split-1 train list
KINETICS400_TRAIN_VIDEOS = 240_000  # about: Kinetics-400's train CSV, less the clips no longer online
GPU_LOADER_WORKERS = 15  # a 16-core GPU machine: one core for the training process
#: preset -> (backbone of the GPU benchmark, train videos, clips per video and step, data pipelines
#: of bench_data.py for the original and the transcoded files; None: not measured at the preset's clip size)
RECIPES = {
    "paper_c3d_ucf101": ("c3d", UCF101_TRAIN_VIDEOS, 1, "real UCF101 AVI"),
    "paper_r3d_ucf101": ("r3d", UCF101_TRAIN_VIDEOS, 1, "real UCF101 AVI"),
    "paper_r21d_ucf101": ("r21d", UCF101_TRAIN_VIDEOS, 1, "real UCF101 AVI"),
    "paper_r21d_ucf101_ctr_context": ("r21d", UCF101_TRAIN_VIDEOS, 2, "real UCF101 AVI"),
    "paper_s3dg_ucf101": ("s3d_g", UCF101_TRAIN_VIDEOS, 1, None),
    "paper_r21d_kinetics400": ("r21d", KINETICS400_TRAIN_VIDEOS, 1, "MP4 H.264"),
}


def preset_schedule(name: str) -> tuple[int, int]:
    """(epochs, train-list repeats) of conf/experiment/<name>.yaml, following its parent preset."""
    import yaml

    cfg = yaml.safe_load((REPO / "conf" / "experiment" / f"{name}.yaml").read_text())
    parent = next((d[len("/experiment/"):] for d in cfg.get("defaults", []) if isinstance(d, str)
                   and d.startswith("/experiment/")), None)
    epochs, repeats = preset_schedule(parent) if parent else (None, None)
    return (cfg.get("trainer", {}).get("max_epochs", epochs), cfg.get("data", {}).get("train_repeat", repeats))


def data_pipelines(form: str | None) -> list[str]:
    """bench_data.py's names of the original and the transcoded pipeline of a file form."""
    if form is None:
        return []
    article = "the " if form.startswith("real") else ""
    return [f"pacepred video ({form})", f"pacepred video, transcoded (from {article}{form})"]


def recipe_times_section(gpu_path: str, data_path: str, target: str) -> list[str]:
    """Expected pre-training time of each paper preset: its clips over the slower of the GPU's rate
    (fp32 framework rate of the GPU benchmark) and the data path's (loader workers at the CPU time
    per clip of the data benchmark), for the original files and for a transcoded copy."""
    gpu = {r["backbone"]: r["framework_clips_s"] for r in json.loads((REPO / gpu_path).read_text())["rows"]
           if r["precision"] == "fp32"}
    cpu_ms = json.loads((REPO / data_path).read_text())["cpu_ms_per_clip"]
    rows = []
    for name, (backbone, videos, views, form) in RECIPES.items():
        epochs, repeats = preset_schedule(name)
        clips = epochs * repeats * videos * views
        hours = []
        for pipeline in data_pipelines(form):
            data_rate = GPU_LOADER_WORKERS * 1000 / cpu_ms[pipeline]["2"]
            hours.append(f"{clips / min(gpu[backbone], data_rate) / 3600:.1f} "
                         f"({'data' if data_rate < gpu[backbone] else 'GPU'})")
        hours = hours or [f"{clips / gpu[backbone] / 3600:.1f} (GPU; data not measured)"] * 2
        rows.append([f"`{name}`", f"{clips / 1e6:.2f} M", f"{gpu[backbone]:.0f}", *hours])
    header = ["preset", "clips", "GPU clips/s (fp32)", "hours, original files", "hours, transcoded"]
    return [f"Estimated, not measured by a run: the GPU rates from `{gpu_path}`, the CPU time per clip from "
            f"`{data_path}` with {GPU_LOADER_WORKERS} loader workers; pre-training only, one GPU.", ""] \
        + markdown_table(header, rows)


#: section name -> function of the target file's path that returns the section's lines
SECTIONS = {
    "proof": lambda target: evidence_section("experiments/proof/results/proof.json",
                                             "experiments/proof/results/proof.png", target),
    "design": lambda target: evidence_section("experiments/proof/design/phase1/proof.json",
                                              "experiments/proof/design/phase1/proof.png", target),
    "training_cpu": lambda target: training_section("experiments/results/training_throughput_cpu.json", target),
    "training_gpu": lambda target: training_section(
        "experiments/results/gpu_check/h200_7e490c5/training_throughput_cuda.json", target),
    "recipe_times": lambda target: recipe_times_section(
        "experiments/results/gpu_check/h200_7e490c5/training_throughput_cuda.json",
        "experiments/results/data_throughput.json", target),
    "data_throughput": lambda target: data_throughput_section("experiments/results/data_throughput.json", target),
    "rgb_sanity": lambda target: rgb_sanity_section("experiments/proof/design/rgb_sanity/probes.json",
                                                    "experiments/proof/design/rgb_sanity/appearance_2d.json", target),
}
MARKED = re.compile(r"(<!-- results:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /results:(?P=name) -->)", re.DOTALL)


def render(text: str, target: str) -> str:
    """The text with every marked section rewritten; an unknown section name is an error."""

    def replace(match: re.Match) -> str:
        name = match["name"]
        if name not in SECTIONS:
            raise SystemExit(f"{target}: unknown results section {name!r} (known: {sorted(SECTIONS)})")
        note = "<!-- rendered by experiments/render.py from the result file; edit that, not this -->\n"
        return match[1] + note + "\n".join(SECTIONS[name](target)) + "\n" + match[4]

    return MARKED.sub(replace, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a section is stale")
    args = parser.parse_args(argv)
    stale = []
    for target in TARGETS:
        path = REPO / target
        old = path.read_text()
        new = render(old, target)
        if new != old:
            stale.append(target)
            if not args.check:
                path.write_text(new)
    if args.check and stale:
        print(f"stale results sections in {', '.join(stale)}: run python experiments/render.py", file=sys.stderr)
        return 1
    print(("rewrote " + ", ".join(stale)) if stale and not args.check else "results sections are current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
