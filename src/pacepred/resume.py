"""Resuming a run: which checkpoint (:func:`checkpoint_to_resume`), whether its settings allow it
(:func:`check_resume`, :data:`RESUMABLE_CHANGES`), the command that resumes it and the earlier
segment's files kept beside the new ones."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from pacepred.checkpoint_file import load_checkpoint_file
from pacepred.config import renamed_setting
from pacepred.run_info import job_config

#: What a run writes that a resumed run would overwrite (CSVLogger deletes its metrics.csv).
SEGMENT_FILES = ("config.yaml", "run_info.json", "csv/metrics.csv")


def keep_earlier_segment(output_dir: Path) -> list[Path]:
    """Before a resumed run writes into ``output_dir``: move the earlier segment's files of
    :data:`SEGMENT_FILES` to ``<name>.segment<k><suffix>`` (k = 1, 2, ... one per resume), so that
    the metric history and the first command survive; returns the new paths."""
    present = [output_dir / name for name in SEGMENT_FILES if (output_dir / name).is_file()]

    def segment(path: Path, k: int) -> Path:
        return path.with_name(f"{path.stem}.segment{k}{path.suffix}")

    k = 1
    while any(segment(path, k).exists() for path in present):
        k += 1
    for path in present:
        path.rename(segment(path, k))
    return [segment(path, k) for path in present]


def resume_command(argv: list[str], output_dir: Path, sweep_dir: Path | None = None) -> str:
    """The command that resumes the run of overrides ``argv`` (a run's own, or ``sys.argv[1:]`` of
    ``python -m pacepred.train``) in ``output_dir``; with ``sweep_dir``, the whole sweep
    (``ckpt_path=last_if_any``: finished jobs stay, the others resume or start)."""
    dropped = ("ckpt_path=", "hydra.run.dir=", "hydra.sweep.dir=")
    kept = [a for a in argv if not a.lstrip("+~").startswith(dropped) and a not in ("-m", "--multirun")]
    if sweep_dir is not None:
        return shlex.join(["python", "-m", "pacepred.train", "-m", *kept, f"hydra.sweep.dir={sweep_dir}",
                           "ckpt_path=last_if_any"])
    return shlex.join(["python", "-m", "pacepred.train", *kept, f"hydra.run.dir={output_dir}", "ckpt_path=last"])


def newest_checkpoint(folder: Path) -> Path | None:
    """The checkpoint of ``folder`` saved last that loads: ``last.ckpt``, or the step or epoch
    checkpoint saved just before it when the run was killed between writing that one and its
    copy ``last.ckpt`` (or during the copy). None when the folder holds no ``*.ckpt``.

    Raises ValueError naming the files when none of them loads.
    """
    candidates = sorted(folder.glob("*.ckpt"), key=lambda p: (p.stat().st_mtime_ns, p.name == "last.ckpt"), reverse=True)
    reasons = []
    for path in candidates:
        try:
            load_checkpoint_file(path, weights_only=False)  # memory-mapped: reads the archive's index only
        except ValueError as err:
            reasons.append(str(err))
            continue
        if path.name != "last.ckpt":
            print(f"resuming from {path.name}, saved after checkpoints/last.ckpt (the run stopped between the two)")
        return path
    if reasons:
        raise ValueError(f"no checkpoint in {folder} can be loaded: " + "; ".join(reasons))
    return None


def checkpoint_to_resume(ckpt_path: str | None, output_dir: Path) -> str | None:
    """``None`` -> fresh start; ``'last'`` -> the newest checkpoint of ``<output_dir>/checkpoints``
    (:func:`newest_checkpoint`: ``last.ckpt`` as a rule); ``'last_if_any'`` -> that one when there
    is one, else a fresh start (a killed sweep resumed in one command: its finished jobs stay as
    they are, the killed one resumes, the others start); else the path.

    Raises FileNotFoundError naming what was looked for.
    """
    if ckpt_path is None:
        return None
    folder = output_dir / "checkpoints"
    if ckpt_path in ("last", "last_if_any"):
        newest = newest_checkpoint(folder) if folder.is_dir() else None
        if newest is not None or ckpt_path == "last_if_any":
            return str(newest) if newest is not None else None
        raise FileNotFoundError(f"checkpoint {folder / 'last.ckpt'} does not exist (ckpt_path=last resumes the run in "
                                "hydra.run.dir=<its run directory>; ckpt_path=last_if_any starts afresh where there is "
                                "none, as the jobs of a sweep that never started)")
    path = Path(ckpt_path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    return str(path)


#: Configuration keys (dotted, or prefixes ending in a dot) that a resumed run may change: the
#: settings that do not change what is learnt from a good video. Where files are, how the run
#: is spread over processes and loader workers, what it logs and checkpoints, and which videos
#: it leaves out (a broken video that stopped a run under ``data.on_bad_video=raise`` is skipped
#: or listed in ``data.skip_list`` by the resumed run). The one list of them: the resume check,
#: the printed resume hint and docs/training.md ("Resume") read it.
RESUMABLE_CHANGES = (
    "ckpt_path", "paths.", "trainer.default_root_dir", "trainer.devices", "trainer.num_nodes", "trainer.strategy",
    "trainer.log_every_n_steps", "trainer.enable_progress_bar",
    "data.num_workers", "data.pin_memory", "data.persistent_workers", "data.prefetch_factor", "data.cache_decoded",
    "data.retain_freed_memory", "data.root", "data.source.root", "data.on_bad_video", "data.skip_list",
    "data.min_frames", "logger.", "callbacks.",
)


#: Nodes whose values interpolate other settings (``data.reader.crop_size: ${data.crop_size}``):
#: those settings are compared, these are not.
DERIVED_NODES = ("data.videos.", "data.reader.", "data.loader.")


def describe_resumable_changes() -> str:
    """:data:`RESUMABLE_CHANGES` for a message: ``ckpt_path, paths..., ...``."""
    return ", ".join(key.rstrip(".") + ("..." if key.endswith(".") else "") for key in RESUMABLE_CHANGES)


#: Settings added since runs may have started whose default changes what such a run computes:
#: dotted key -> (the behaviour runs from before it had, whether it matters to a run: a test on
#: the run's configuration flattened by :func:`_flatten`). A resumed run without the key compares as that value.
LEGACY_VALUES = {
    "data.frame_folder_resize": ("whole", lambda flat: str(flat.get("data.source._target_.", "")).endswith("FramesSplit")),
    "backbone.stem": ("separable", lambda flat: str(flat.get("backbone._target_.", "")).endswith("S3DG")),
}


#: Classes that moved since runs may have started: an older run's ``_target_`` (a prefix of it)
#: compares as the new one.
MOVED_TARGETS = {"pacepred.data.records.": "pacepred.data.sources."}


def _moved(flat: dict[str, Any]) -> dict[str, Any]:
    """``flat`` with the ``_target_`` values of :data:`MOVED_TARGETS` renamed."""
    def renamed(value: Any) -> Any:
        for old, new in MOVED_TARGETS.items():
            if isinstance(value, str) and value.startswith(old):
                return new + value[len(old):]
        return value
    return {key: renamed(value) if key.endswith("_target_.") else value for key, value in flat.items()}


def _renamed_flat(key: str) -> str | None:
    """A flattened key (ending with a dot) under its new name (:func:`renamed_setting`), else None."""
    new = renamed_setting(key.rstrip("."))
    return None if new is None else new + "."


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """{dotted key: value} of a nested dict (lists are values)."""
    if not isinstance(node, dict):
        return {prefix: node}
    items: dict[str, Any] = {}
    for key, value in node.items():
        items.update(_flatten(value, f"{prefix}{key}."))
    return items if items or not prefix else {prefix[:-1]: {}}


def config_differences(before: DictConfig, after: DictConfig) -> dict[str, tuple[Any, Any]]:
    """{key: (before, after)} of the resolved configurations, but :data:`RESUMABLE_CHANGES`. A
    key only one of them has (a setting added to pacepred since the run started, with a default
    that keeps the old behaviour, or one removed) is no difference, unless the other holds a
    value at a parent key (a group replaced by an empty one), or the key is in
    :data:`LEGACY_VALUES` (the run before it compares as the behaviour it had)."""
    trees = [OmegaConf.to_container(job_config(c), resolve=True) for c in (before, after)]
    old, new = (_moved(_flatten(tree)) for tree in trees)
    old = {(_renamed_flat(key) or key): value for key, value in old.items()}
    for key, (legacy, matters) in LEGACY_VALUES.items():
        if f"{key}." in new and f"{key}." not in old and matters(old):  # _flatten's keys end with a dot
            old[f"{key}."] = legacy

    def at(tree: Any, dotted: str) -> Any:
        for part in dotted.split("."):
            tree = tree.get(part) if isinstance(tree, dict) else None
        return tree

    differences = {}
    for key in sorted(old.keys() | new.keys()):
        name = key.rstrip(".")
        if any(name == k or name.startswith(k) for k in RESUMABLE_CHANGES) or key.startswith(DERIVED_NODES):
            continue
        if key in old and key in new:
            if old[key] != new[key]:
                differences[name] = (old[key], new[key])
            continue
        # on one side only: a difference where the other side holds a value at a parent key (a
        # group replaced, e.g. scheduler=none's {} against a cosine schedule's entries)
        other = new if key in old else old
        parts = name.split(".")
        parents = (".".join(parts[:i]) for i in range(1, len(parts)))
        parent = next((p for p in parents if p in other or f"{p}." in other), None)  # an empty group, a value
        if parent is not None:
            differences[parent] = (at(trees[0], parent), at(trees[1], parent))
    return differences


def check_resume(cfg: DictConfig, checkpoint: str) -> bool:
    """Whether to resume from ``checkpoint``: False when its run has already trained for
    ``trainer.max_epochs`` (nothing to do: the run's files stay as they are).

    A checkpoint saved in the middle of an epoch resumes there (the training loader's position is
    in it: :class:`pacepred.data.datamodules.ResumableDataLoader`).

    Raises ValueError when ``cfg`` differs from the ``config.yaml`` of the checkpoint's run in
    anything but :data:`RESUMABLE_CHANGES` (the checkpoint's optimizer and schedule would
    override the new values that config.yaml recorded).
    """
    state = load_checkpoint_file(checkpoint, weights_only=False)
    if not isinstance(state, dict):
        raise ValueError(f"checkpoint {checkpoint} holds a {type(state).__name__}, not a Lightning checkpoint")
    loops = state.get("loops")  # absent from checkpoints of other trainers: their epoch is not known
    epochs = loops["fit_loop"]["epoch_progress"]["current"] if loops else {"started": 0, "processed": 0}
    run_config = Path(checkpoint).resolve().parent.parent / "config.yaml"
    if run_config.is_file():
        differences = config_differences(OmegaConf.load(run_config), cfg)
        if differences:
            listed = "; ".join(f"{key}: {old!r} -> {new!r}" for key, (old, new) in differences.items())
            raise ValueError(f"resuming {checkpoint} with settings that differ from its run's {run_config}: {listed}. "
                             "A run continued with other settings is a new run: start one (ckpt_path=null), "
                             f"or resume with the run's own settings (these may change: {describe_resumable_changes()})")
    max_epochs = cfg.trainer.get("max_epochs")
    return not loops or max_epochs is None or max_epochs < 0 or epochs["processed"] < max_epochs
