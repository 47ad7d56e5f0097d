"""Writing a whole dataset in UCF101's layout, in worker processes, cached and locked by its parameters."""

from __future__ import annotations

import contextlib
import glob
import json
import math
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from pacepred.data.synthetic.config import (
    CLIPS_PER_GROUP, GENERATOR_VERSION, PARTS, SyntheticConfig, _MARKER, _OWN_ENTRIES, _SPLIT_IDS,
)
from pacepred.data.synthetic.encode import encode_mp4
from pacepred.data.synthetic.render import render_video


def video_name(class_name: str, group: int, clip: int) -> str:
    return f"v_{class_name}_g{group:02d}_c{clip:02d}.mp4"


def _jobs(config: SyntheticConfig) -> list[tuple]:
    """(part, class index, index in part/class, group, clip) for every video; the parts' groups
    follow each other (train g01.., then validation, then test), so no group spans two parts."""
    jobs, first_group = [], 1
    for part in PARTS:
        count = config.part_size(part)
        for ci in range(len(config.classes)):
            for i in range(count):
                jobs.append((part, ci, i, first_group + i // CLIPS_PER_GROUP, 1 + i % CLIPS_PER_GROUP))
        first_group += math.ceil(count / CLIPS_PER_GROUP)
    return jobs


def video_rng(seed: int, split: str, class_index: int, index: int) -> np.random.Generator:
    """The generator of one video, from (its part's seed, split, class, index): independent of the
    worker count, and of the other parts' sizes and seeds."""
    return np.random.default_rng([seed, _SPLIT_IDS[split], class_index, index])


def _make_video(args: tuple) -> tuple[str, int, int]:
    out_dir, config_dict, (split, ci, index, group, clip) = args
    config = SyntheticConfig(**config_dict)
    class_name = config.classes[ci]
    rng = video_rng(config.part_seed(split), split, ci, index)
    frames = render_video(class_name, rng, config.num_frames, config.size, config.speed_factor(class_name),
                          config.typical_object_percent, config.class_set, config.clutter, config.object_scale,
                          config.colour_levels)
    rel = f"{class_name}/{video_name(class_name, group, clip)}"
    path = Path(out_dir) / "UCF-101" / rel
    packets = encode_mp4(path, frames, fps=config.fps, crf=config.crf, keyint=config.keyint)
    return rel, packets, path.stat().st_size


def _params(config: SyntheticConfig) -> dict:
    return {
        "generator": "pacepred.data.synthetic",
        "version": GENERATOR_VERSION,
        "config": asdict(config),
        "classes": list(config.classes),
        # the speeds themselves, so that a changed table never reuses videos rendered with another
        "class_speed_factors": {name: config.speed_factor(name) for name in config.classes},
    }


def _read_marker(root: Path) -> dict | None:
    try:
        with open(root / _MARKER) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _is_cached(root: Path, params: dict) -> bool:
    meta = _read_marker(root)
    if meta is None or meta.get("complete") is not True:
        return False
    try:  # a setting added since (its default renders as before) reads as its default
        meta = {**meta, "config": asdict(SyntheticConfig.from_any(meta.get("config") or {}))}
    except (TypeError, ValueError):
        return False
    if any(meta.get(k) != v for k, v in params.items()):
        return False
    lists = root / "ucfTrainTestlist"
    return all((lists / n).is_file() for n in ("classInd.txt", *_list_names(SyntheticConfig.from_any(meta["config"]))))


def _list_names(config: SyntheticConfig) -> list[str]:
    """The split lists the dataset has: train and test, and val when it has a validation part."""
    return [f"{part}list01.txt" for part in PARTS if part != "val" or config.num_val_per_class]


def _write_json(path: Path, obj: dict) -> None:
    part = path.with_name(path.name + ".part")
    with open(part, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(part, path)


@contextlib.contextmanager
def _lock(root: Path):
    """Exclusive inter-process lock next to ``root`` (several ranks may call ``ensure`` at once)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield
        return
    lock_path = root.parent / f".{root.name}.lock"
    with open(lock_path, "a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _pool_context():
    # Never fork: the caller is often a multi-threaded training process (torch, Lightning,
    # submitit), and forking it can deadlock the children on a lock held by another thread.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _render_all(out: Path, config: SyntheticConfig, workers: int) -> tuple[list, int]:
    jobs = _jobs(config)
    for name in config.classes:
        (out / "UCF-101" / name).mkdir(parents=True, exist_ok=True)
    cfg = asdict(config)
    tasks = [(str(out), cfg, job) for job in jobs]
    if workers <= 1 or len(tasks) <= 1:
        results = [_make_video(t) for t in tasks]
    else:
        with _pool_context().Pool(processes=min(workers, len(tasks))) as pool:
            results = pool.map(_make_video, tasks, chunksize=max(1, min(16, len(tasks) // (8 * workers))))
    bad = [(rel, n) for rel, n, _ in results if n != config.num_frames]
    if bad:
        raise RuntimeError(f"encoder wrote a wrong frame count, e.g. {bad[0][0]}: {bad[0][1]} != {config.num_frames}")
    return jobs, sum(b for _, _, b in results)


def _write_lists(out: Path, config: SyntheticConfig, jobs: list) -> None:
    lists = out / "ucfTrainTestlist"
    lists.mkdir(parents=True, exist_ok=True)
    classes = config.classes
    (lists / "classInd.txt").write_text("".join(f"{i + 1} {c}\n" for i, c in enumerate(classes)))
    lines: dict[str, list[str]] = {part: [] for part in PARTS}
    for part, ci, _, group, clip in jobs:
        rel = f"{classes[ci]}/{video_name(classes[ci], group, clip)}"
        lines[part].append(f"{rel} {ci + 1}\n" if part == "train" else f"{rel}\n")  # as UCF101: labels in train only
    for name in _list_names(config):
        (lists / name).write_text("".join(lines[name[: -len("list01.txt")]]))


def _check_replaceable(root: Path) -> None:
    if not root.exists():
        return
    if not root.is_dir():
        raise FileExistsError(f"{root} exists and is not a directory")
    foreign = sorted(p.name for p in root.iterdir() if p.name not in _OWN_ENTRIES)
    if foreign:
        raise FileExistsError(
            f"{root} holds files that are not a synthetic dataset ({', '.join(foreign[:5])}); "
            "refusing to replace it (pass overwrite=True or choose another root)"
        )


def _generate(root, config, workers: int, overwrite: bool) -> tuple[Path, bool, dict]:
    root = Path(root).expanduser().absolute()
    config = SyntheticConfig.from_any(config)
    params = _params(config)
    if not overwrite and _is_cached(root, params):
        return root, True, _read_marker(root) or {}
    root.parent.mkdir(parents=True, exist_ok=True)
    with _lock(root):
        if not overwrite and _is_cached(root, params):  # another process finished meanwhile
            return root, True, _read_marker(root) or {}
        if not overwrite:
            _check_replaceable(root)
        # leftovers of interrupted runs (we hold the lock, so nobody else is writing them)
        for stale in root.parent.glob(f".{glob.escape(root.name)}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        start = time.perf_counter()
        tmp = root.parent / f".{root.name}.tmp-{uuid.uuid4().hex[:8]}"
        old = None
        try:
            tmp.mkdir()  # not mkdtemp: the dataset folder gets the usual (umask) permissions
            _write_json(tmp / _MARKER, {**params, "complete": False})
            jobs, num_bytes = _render_all(tmp, config, max(1, int(workers)))
            _write_lists(tmp, config, jobs)
            seconds = time.perf_counter() - start
            meta = {
                **params,
                "num_videos": {part: config.part_size(part) * len(config.classes) for part in PARTS},
                "video_bytes": int(num_bytes),
                "seconds": round(seconds, 2),
                "workers": int(workers),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "complete": True,  # written last
            }
            _write_json(tmp / _MARKER, meta)
            if root.exists():
                old = root.parent / f".{root.name}.tmp-old-{uuid.uuid4().hex[:8]}"
                os.rename(root, old)
            os.rename(tmp, root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return root, False, meta


def generate(
    root: str | Path,
    config: SyntheticConfig | Mapping | None = SyntheticConfig(),
    workers: int = 2,
    overwrite: bool = False,
) -> Path:
    """Write the dataset under ``root`` (UCF101 layout) and return ``root``.

    If ``root/synthetic.json`` exists, says ``"complete": true`` and records the same parameters
    (generator version, config, classes), nothing is written (cached). Otherwise the dataset is
    rendered into a temporary folder next to ``root`` and renamed into place, so an interrupted
    run never leaves a half dataset that looks complete. ``overwrite=True`` always regenerates.
    A non-empty ``root`` that is not a synthetic dataset is never replaced unless ``overwrite``.
    """
    return _generate(root, config, workers, overwrite)[0]


def ensure(root: str | Path, config: SyntheticConfig | Mapping | None = None, workers: int = 2) -> Path:
    """Generate on first use, else reuse; prints one line saying which."""
    root_path, cached, meta = _generate(root, config, workers, overwrite=False)
    n = meta.get("num_videos", {})
    videos = " / ".join(f"{n.get(part, '?')} {part}" for part in PARTS if n.get(part, 1)) + " videos"
    if cached:
        print(f"[synthetic] reusing {root_path} ({videos})", flush=True)
    else:
        print(f"[synthetic] generated {root_path} ({videos}, {meta.get('seconds', 0):.1f} s)", flush=True)
    return root_path


def generate_in_subprocess(root: str | Path, config: SyntheticConfig, workers: int = 2) -> None:
    """Run the generator CLI in a fresh interpreter: its worker pool then starts without the
    caller's heavy imports (a training process would make every worker import torch)."""
    command = [sys.executable, "-m", "pacepred.data.synthetic", "--root", str(root), "--workers", str(workers),
               "--config", json.dumps(asdict(config))]
    subprocess.run(command, check=True)
    if not _is_cached(Path(root), _params(config)):
        raise RuntimeError(f"the generator CLI did not write the dataset asked for into {root} (parameters differ)")
