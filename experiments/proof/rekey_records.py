"""Re-key the proof's committed job records after settings were renamed, without retraining.

A job record (experiments/proof/jobs/) carries the overrides it ran with and the digest of the
config they composed (run.py's ``config_digest``); a run reuses it only if both match what the
current code composes. Grouping settings into objects (``data.batch_transform.jitter.*``,
``model.contrastive.*``, ``model.acceleration.*``: pacepred.config.RENAMED_SETTINGS) changes every
digest without changing what a job computes. This tool proves that for each record, then
rewrites its settings:

    # 1. with the package and configs the records were made with (a checkout of that commit):
    git worktree add /tmp/old <commit>
    PYTHONPATH=/tmp/old/src python experiments/proof/rekey_records.py dump --out /tmp/old_configs.json
    # 2. with the current code:
    python experiments/proof/rekey_records.py apply --old /tmp/old_configs.json

``dump`` recomposes each record's configs and checks that they give the recorded digests (so the
dump is the records' own configs). ``apply`` composes the renamed overrides with the current code
and requires the two configs to agree setting by setting (old keys read under their new names;
the only settings allowed on one side are those listed in ADDED, at their values); it then stores
the new overrides and digests, and the old settings under ``rekeyed``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pacepred.config import compose_config

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import config_digest, job_settings  # noqa: E402  (experiments/proof/run.py)

#: Settings the current code has and the records' code had not (the end of their dotted key: the
#: data nodes recur where other nodes interpolate them), with the value that keeps the old
#: behaviour (a record's config must hold exactly that), and the new groups' class names.
ADDED = {
    "source.colour_levels": 0,
    "batch_transform.jitter._target_": "pacepred.data.colour_jitter.ColourJitter",
    "model.contrastive._target_": "pacepred.modules.settings.Contrastive",
    "model.acceleration._target_": "pacepred.modules.settings.Acceleration",
}


def added(key: str):
    """The (ending, value) of ADDED that ``key`` is, else None."""
    return next(((end, value) for end, value in ADDED.items() if key == end or key.endswith("." + end)), None)

#: The two configs a record holds: (overrides key, digest key, config name).
KINDS = (("pretrain", "pretrain_config", "train"), ("eval", "eval_config", "eval"))


def flat(node: dict) -> dict:
    """{dotted key: value} of a nested dict (lists are values)."""
    from pacepred.resume import _flatten  # the current code's (dump does not flatten)

    return {key.rstrip("."): value for key, value in _flatten(node).items()}


def new_name(key: str) -> str:
    """An old flattened key under its current name; the batch transform's settings also where
    another node interpolates it (the monitor's)."""
    from pacepred.config import RENAMED_SETTINGS, renamed_setting  # the current code's (dump runs with the records')

    for old, new in RENAMED_SETTINGS.items():
        if old.startswith("data.batch_transform.") and key.endswith("." + old[len("data."):]):
            return key[: -len(old) + len("data.")] + new[len("data."):]
    return renamed_setting(key) or key


def renamed_override(override: str) -> str:
    key, sep, value = override.partition("=")
    return (new_name(key) if sep and key.startswith(("data.", "model.")) else key) + sep + value


def records(root: Path) -> list[Path]:
    return sorted(root.rglob("*.json"))


def dump(args: argparse.Namespace) -> None:
    out = {}
    for path in records(Path(args.records)):
        settings = json.loads(path.read_text())["settings"]
        entry = {}
        for overrides_key, digest_key, name in KINDS:
            if overrides_key not in settings:
                continue
            cfg = compose_config(name, settings[overrides_key], Path("/tmp/rekey") / path.stem)
            if config_digest(cfg) != settings[digest_key]:
                raise SystemExit(f"{path}: its {overrides_key} overrides compose a config of another digest with this "
                                 "code: dump with the code the record was made with")
            entry[overrides_key] = job_settings(cfg)[0]
        out[str(path.relative_to(args.records))] = entry
    Path(args.out).write_text(json.dumps(out) + "\n")
    print(f"{len(out)} records: every recorded digest recomposed; configs in {args.out}")


def compare(old: dict, new: dict, where: str) -> None:
    """Raise SystemExit unless ``old`` (renamed) and ``new`` agree on every setting."""
    old_flat = {new_name(k): v for k, v in flat(old).items()}
    new_flat = flat(new)
    problems = []
    for k in sorted(old_flat.keys() | new_flat.keys()):
        extra = added(k)
        expected = old_flat[k] if k in old_flat else extra[1] if extra else "<absent>"
        if (extra and k in old_flat) or expected != new_flat.get(k, "<absent>"):
            problems.append(f"{k}: {old_flat.get(k, '<absent>')!r} -> {new_flat.get(k, '<absent>')!r}")
    if problems:
        raise SystemExit(f"{where}: the renamed overrides compose another job: " + "; ".join(problems))


def apply(args: argparse.Namespace) -> None:
    old_configs = json.loads(Path(args.old).read_text())
    root = Path(args.records)
    paths = records(root)
    if sorted(old_configs) != sorted(str(p.relative_to(root)) for p in paths):
        raise SystemExit(f"{args.old} does not hold the records under {root}: dump them again")
    for path in paths:
        job = json.loads(path.read_text())
        settings = dict(job["settings"])
        for overrides_key, digest_key, name in KINDS:
            if overrides_key not in settings:
                continue
            overrides = [renamed_override(o) for o in settings[overrides_key]]
            cfg = compose_config(name, overrides, Path("/tmp/rekey") / path.stem)
            compare(old_configs[str(path.relative_to(root))][overrides_key], job_settings(cfg)[0], f"{path} ({overrides_key})")
            settings[overrides_key], settings[digest_key] = overrides, config_digest(cfg)
        if settings != job["settings"]:
            job["rekeyed"] = {"settings": job["settings"], "tool": "experiments/proof/rekey_records.py"}
            job["settings"] = settings
            path.write_text(json.dumps(job, indent=1) + "\n")
    print(f"{len(paths)} records: the same settings under the current names; settings and digests rewritten")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["dump", "apply"])
    parser.add_argument("--records", default=str(HERE / "jobs"))
    parser.add_argument("--out", default="/tmp/old_configs.json", help="dump: where to write the configs")
    parser.add_argument("--old", default="/tmp/old_configs.json", help="apply: the dump")
    args = parser.parse_args()
    (dump if args.step == "dump" else apply)(args)


if __name__ == "__main__":
    main()
