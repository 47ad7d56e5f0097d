"""Dataset preparation: re-encode, extract frames or verify every video of a data source.

    python -m pacepred.prep.prepare mode=transcode data=ucf101 data.root=/datasets/ucf101 out=/datasets/ucf101_h264_128
    python -m pacepred.prep.prepare mode=frames data=ucf101 data.root=/datasets/ucf101 out=/datasets/ucf101_frames128
    python -m pacepred.prep.prepare mode=verify data=ucf101 data.root=/datasets/ucf101 verify.skip_list=true

Works on the videos of both stages (train, test) of ``data.source`` (and of every split in
``splits``, e.g. ``splits=[1,2,3]`` for HMDB51, whose splits leave different videos unused),
in ``workers`` processes with a progress bar. Options are in ``conf/prepare.yaml``.

``transcode``
    Each video becomes small H.264 (:func:`pacepred.prep.convert.transcode_video`) at
    ``<out>/<its path relative to data.root>``, same name; the other files of the root (split
    files, class index, annotation CSVs: every file that is neither a video nor a frame JPEG,
    nor an archive) are copied, so ``data=<same> data.root=<out> data.skip_list=skip_list.txt``
    reads the output (the split files still list the videos that failed: ``skip_list.txt``
    names them).
``frames``
    Each video becomes ``<out>/<frames.frames_dir>/<relative path without extension>/
    frame000001.jpg ...`` (whitespace in the path turned into '_'), plus ``train.list`` and
    ``test.list`` of ``data.split`` (``<path> <0-based label> <num_frames>``; the other splits
    of ``splits`` get ``{train,test}_split<N>.list``) and ``classInd.txt``, written at the end from every
    finished output, for ``data=frames data.root=<out> data.source.frames_dir=<frames_dir>
    data.source.flat=false data.source.class_index=classInd.txt``.
``verify``
    Decodes every video fully (or ``verify.sample`` evenly spaced frames through
    :func:`pacepred.data.decoding.read_clip` with ``data.decoder``) and writes
    ``verify_report.json`` / ``verify_report.md`` and, with ``verify.skip_list=true``,
    ``skip_list.txt`` (paths relative to data.root, for ``data.skip_list``) into ``out``, or
    into the run directory when ``out`` is null.

Resumable: outputs are renamed into place only when complete, so a re-run skips every finished
output and redoes the rest (a killed run's temporary folders are deleted). A run into an
``out`` prepared with other settings stops with an error. Broken inputs are reported by name
with the decoder's reason and skipped; the command exits non-zero for them only with
``strict=true``. ``<out>/pacepred_prepared.json`` (:mod:`pacepred.prep.manifest`) records the
mode, settings, source and counts.
"""

from __future__ import annotations

import copy
import datetime
import json
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf, open_dict

import pacepred
from pacepred.data.decoding import FRAME_FILE, frame_count
from pacepred.data.records import STAGES, VIDEO_EXTENSIONS, VideoRecord
from pacepred.data.sources import FramesSplit
from pacepred.data.video_index import CACHE_NAME, disk_size
from pacepred.prep.convert import FrameSettings, TranscodeSettings, atomic_output, remove_partials
from pacepred.prep.jobs import Job, VerifySettings, run_jobs
from pacepred.prep.manifest import MANIFEST_NAME, read_manifest, write_manifest

MODES = ("transcode", "frames", "verify")
CLASS_INDEX = "classInd.txt"
REPORT_NAME = "verify_report"
SKIP_LIST_NAME = "skip_list.txt"
#: Files of a data root that a transcoded copy leaves out besides videos and frame JPEGs:
#: archives (the downloaded dataset may sit beside its extraction) and pacepred's own files.
NOT_COPIED_EXTENSIONS = (".rar", ".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z")
NOT_COPIED_NAMES = (CACHE_NAME, MANIFEST_NAME, SKIP_LIST_NAME)


@dataclass
class PrepareResult:
    """What a run did: keys of the videos done now and already done before, failed ones with
    the reason, the output folder and its size, the wall time, the files written."""

    mode: str
    done: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    out: Path | None = None
    size_bytes: int = 0
    seconds: float = 0.0
    files: list[Path] = field(default_factory=list)
    read_with: str = ""


# ------------------------------------------------------------------------------- planning


def _data_name(cfg: DictConfig) -> str | None:
    """The data config chosen (``data=...``), from Hydra's run or a composed config."""
    if HydraConfig.initialized():
        return HydraConfig.get().runtime.choices.get("data")
    return OmegaConf.select(cfg, "hydra.runtime.choices.data")


def _sources(cfg: DictConfig) -> dict[int | None, Any]:
    """Split -> source: ``data.split`` (None where the data config has none) first, then every
    split of ``splits``."""
    split = cfg.data.get("split")
    splits = list(cfg.get("splits") or [])
    if splits and split is None:
        raise ValueError(f"splits={splits}: data={_data_name(cfg)} has no data.split to vary (ucf101 and hmdb51 have)")
    sources = {}
    for number in dict.fromkeys([split, *splits]):
        variant = copy.deepcopy(cfg)
        with open_dict(variant):
            variant.data.split = number
        sources[number] = instantiate(variant.data.source)
    return sources


def _records(sources: dict[int | None, Any]) -> tuple[dict[tuple[int | None, str], list[VideoRecord]], list[str]]:
    """(split, stage) -> records, and the class names (of the first split)."""
    records, classes = {}, None
    for split, source in sources.items():
        for stage in STAGES:
            records[split, stage], names = source.records(stage)
            classes = classes or names
    return records, classes


def _key(path: Path, root: Path) -> str:
    """A video's path relative to the (absolute) data root ``root``; symbolic links are kept."""
    try:
        return Path(os.path.abspath(path)).relative_to(root).as_posix()
    except ValueError:
        raise ValueError(f"video {path} lies outside data.root {root}: prepare mirrors paths relative to the root") from None


def frames_key(key: str) -> str:
    """A video's frame-folder path (relative to frames_dir) from its key: no extension, and no
    whitespace, which list files cannot hold."""
    return re.sub(r"\s", "_", str(Path(key).with_suffix("")))


def _plan(mode: str, videos: Iterable[Path], root: Path, out: Path | None, frames_dir: str, settings: Any) -> list[Job]:
    """One job per video; two videos bound for the same output are an error."""
    jobs, owners = [], {}
    for path in videos:
        key = _key(path, root)
        destination = None
        if mode == "transcode":
            destination = out / key
        elif mode == "frames":
            destination = out / frames_dir / frames_key(key)
        if destination is not None and owners.setdefault(destination, key) != key:
            raise ValueError(f"videos {owners[destination]} and {key} would both be written to {destination}")
        jobs.append(Job(key, Path(path), destination, settings))
    return jobs


def _read_with(mode: str, data_name: str | None, data_split: int | None, out: Path, frames_dir: str) -> str:
    """The command-line overrides that read the output of ``mode`` back."""
    if mode == "frames":
        return (f"data=frames data.root={out} data.source.frames_dir={frames_dir} data.source.flat=false "
                f"data.source.class_index={CLASS_INDEX}")
    split = f" data.split={data_split}" if data_split is not None else ""
    return f"data={data_name} data.root={out}{split} data.skip_list={SKIP_LIST_NAME}"


def _check_out(mode: str, out: Path | None, root: Path, source: Any) -> None:
    """A new dataset needs an ``out`` outside the source's root and a video source (verify
    reads anything and writes its reports anywhere)."""
    if mode == "verify":
        return
    if out is None:
        raise ValueError(f"mode={mode} writes a new dataset: give its folder, out=<path>")
    if out == root or root in out.parents:
        raise ValueError(f"out={out} lies inside data.root={root}: choose a folder outside the source dataset")
    if isinstance(source, FramesSplit):
        raise ValueError(
            f"mode={mode} reads video files, but data.source is a FramesSplit (frame folders under {root}); "
            f"use a video data config (ucf101, hmdb51, kinetics400, folder), or mode=verify for frame folders"
        )


def _check_resume(out: Path, mode: str, settings: dict[str, Any]) -> None:
    """Stop when ``out`` holds an output of another mode or other settings."""
    manifest = read_manifest(out)
    if manifest is not None and (manifest.get("mode"), manifest.get("settings")) != (mode, settings):
        raise ValueError(
            f"{out / MANIFEST_NAME}: this folder holds a {manifest.get('mode')} output with settings "
            f"{manifest.get('settings')}, this run asks for {mode} with {settings}; choose another out or delete it"
        )


def _settings(cfg: DictConfig) -> Any:
    """The mode's settings object, checked (a wrong value raises ValueError naming it)."""
    if cfg.mode == "transcode":
        t = cfg.transcode
        size = tuple(t.size) if t.size is not None else None
        return TranscodeSettings(short_side=None if size else t.short_side, size=size, gop=t.gop, preset=t.preset,
                                 crf=t.crf, fps=t.fps)
    if cfg.mode == "frames":
        return FrameSettings(short_side=cfg.frames.short_side, quality=cfg.frames.quality)
    sample = cfg.verify.sample
    if sample is not None and (not isinstance(sample, int) or sample < 1):
        raise ValueError(f"verify.sample={sample!r}: expected a number of frames >= 1 or null")
    return VerifySettings(sample=sample, backend=cfg.data.decoder)


# -------------------------------------------------------------------------------- outputs


def _copy_aux_files(root: Path, out: Path) -> int:
    """Copy every file under ``root`` that is not a video, a frame JPEG, an archive or
    pacepred's own to the same relative path under ``out`` (skipping copies already there
    with the same size and time); returns how many were copied now."""
    copied = 0
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".pacepred-partial-")]
        for name in names:
            suffix = Path(name).suffix.lower()
            if (suffix in VIDEO_EXTENSIONS or suffix in NOT_COPIED_EXTENSIONS or name in NOT_COPIED_NAMES
                    or FRAME_FILE.fullmatch(name)):
                continue
            source = Path(folder) / name
            target = out / source.relative_to(root)
            stat = source.stat()
            if target.is_file() and (target.stat().st_size, target.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns):
                continue
            with atomic_output(target) as partial:
                shutil.copy2(source, partial)
            copied += 1
    return copied


def _write_text(path: Path, lines: Iterable[str]) -> Path:
    with atomic_output(path) as partial:
        partial.write_text("".join(f"{line}\n" for line in lines))
    return path


def _write_frame_lists(out: Path, frames_dir: str, records: dict, classes: list[str], data_split,
                       root: Path) -> list[Path]:
    """The class index and the list files of every finished frame folder: ``{train,test}.list``
    for ``data_split``, ``{train,test}_split<N>.list`` for the other splits of ``records``."""

    def lines(split, stage):
        for record in records[split, stage]:
            listed = frames_key(_key(record.path, root))
            folder = out / frames_dir / listed
            if folder.is_dir():
                yield f"{listed} {record.label} {frame_count(folder)}"

    written = [_write_text(out / CLASS_INDEX, (f"{i} {name}" for i, name in enumerate(classes, start=1)))]
    for split, stage in records:
        name = f"{stage}.list" if split == data_split else f"{stage}_split{split}.list"
        written.append(_write_text(out / name, lines(split, stage)))
    return written


def _write_verify_report(folder: Path, result: PrepareResult, header: dict[str, Any], skip_list: bool) -> list[Path]:
    """verify_report.json / .md (and skip_list.txt) in ``folder``."""
    report = {**header, "counts": {"videos": len(result.done) + len(result.failed), "ok": len(result.done),
                                   "broken": len(result.failed)}, "broken": dict(sorted(result.failed.items()))}
    json_path = _write_text(folder / f"{REPORT_NAME}.json", [json.dumps(report, indent=1)])
    sample = header["settings"]["sample"]
    checked = "every frame decoded" if sample is None else f"{sample} evenly spaced frames read per video"
    md = [f"# Video check of {header['source']['root']} (data={header['source']['data']})", "",
          f"{report['counts']['videos']} videos, {len(result.failed)} broken; {checked} ({header['date']}).", ""]
    if result.failed:
        md += ["| video | reason |", "| --- | --- |"] + [f"| `{k}` | {v} |" for k, v in sorted(result.failed.items())]
    written = [json_path, _write_text(folder / f"{REPORT_NAME}.md", md)]
    if skip_list:
        written.append(_write_text(folder / SKIP_LIST_NAME, sorted(result.failed)))
    return written


# ------------------------------------------------------------------------------------ run


def prepare(cfg: DictConfig) -> PrepareResult:
    """Run ``cfg.mode`` over ``cfg.data.source`` as the module docstring says; prints the
    summary and returns what was done."""
    started = time.perf_counter()
    mode = None if OmegaConf.is_missing(cfg, "mode") else cfg.mode
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: expected one of {MODES}")
    settings = _settings(cfg)
    sources = _sources(cfg)
    data_split = next(iter(sources))
    root = Path(os.path.abspath(sources[data_split].root))
    out = Path(os.path.abspath(cfg.out)) if cfg.get("out") else None
    _check_out(mode, out, root, sources[data_split])
    records, classes = _records(sources)
    videos = dict.fromkeys(record.path for stage_records in records.values() for record in stage_records)

    frames_dir = cfg.frames.frames_dir
    jobs = _plan(mode, videos, root, out, frames_dir, settings)
    settings_dict = json.loads(json.dumps({**asdict(settings), **({"frames_dir": frames_dir} if mode == "frames" else {})}))
    data_name = _data_name(cfg)
    # listed but absent (Kinetics: many clips are gone from the web): counted, not failed
    missing = {stage: len(paths) for source in sources.values() for stage, paths in getattr(source, "missing", {}).items()
               if paths}
    if missing:
        print(f"listed in the annotations but missing on disk, left out: {missing}")
    header = {
        "mode": mode, "settings": settings_dict, "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "source": {"root": str(root), "data": data_name, "splits": list(sources), "missing_on_disk": missing,
                   "config": OmegaConf.to_container(cfg.data.source, resolve=True)},
        "pacepred_version": pacepred.__version__,
    }
    result = PrepareResult(mode=mode, out=out)
    todo = jobs
    if mode != "verify":
        _check_resume(out, mode, settings_dict)
        result.read_with = header["read_with"] = _read_with(mode, data_name, data_split, out, frames_dir)
        write_manifest(out, {**header, "complete": False})
        removed = sum(remove_partials(folder) for folder in {job.destination.parent for job in jobs})
        if removed:
            print(f"deleted {removed} unfinished outputs of an earlier run")
        todo = [job for job in jobs if not job.destination.exists()]
        result.already = [job.key for job in jobs if job.destination.exists()]

    print(f"{mode}: {len(jobs)} videos of data={data_name} under {root}" + (f" -> {out}" if out else ""))
    for key, reason in run_jobs(todo, cfg.workers, mode).items():
        if reason is None:
            result.done.append(key)
        else:
            result.failed[key] = reason

    if mode == "verify":
        folder = out if out is not None else Path(cfg.paths.output_dir)
        result.files = _write_verify_report(folder, result, header, cfg.verify.skip_list)
        result.size_bytes = sum(disk_size(job.source) for job in jobs if job.source.exists())
    else:
        if mode == "transcode":
            copied = _copy_aux_files(root, out)
            print(f"copied {copied} non-video files (split files, annotations) from {root}")
            result.files = [_write_text(out / SKIP_LIST_NAME, sorted(result.failed))]
            if data_name == "folder" and result.failed:  # positions decide its split (records.FolderSplit)
                print(f"warning: data=folder takes every test_every-th video of a class as a test video: the "
                      f"{len(result.failed)} failed videos are missing from {out}, so later videos of their classes "
                      "moved to other positions and the output's train/test split differs from the source's; "
                      "repair or remove the failed videos in the source and prepare again")
        else:
            result.files = _write_frame_lists(out, frames_dir, records, classes, data_split, root)
        counts = {"videos": len(jobs), "done": len(result.done) + len(result.already), "failed": len(result.failed)}
        result.files.append(write_manifest(out, {**header, "complete": True, "counts": counts, "failed": result.failed}))
        result.size_bytes = disk_size(out)
    result.seconds = time.perf_counter() - started
    print(format_result(result))
    return result


def format_result(result: PrepareResult) -> str:
    """The summary a run prints: counts, failed videos with reasons, size, wall time, files."""
    lines = [f"{result.mode} summary: done now {len(result.done)}, already done {len(result.already)}, "
             f"failed {len(result.failed)}"]
    if result.failed:
        action = "listed in the report" if result.mode == "verify" else "skipped"
        lines.append(f"failed videos ({action}):")
        lines.extend(f"  {key}: {reason}" for key, reason in sorted(result.failed.items()))
    what = "input size (the videos checked)" if result.mode == "verify" else f"output size on disk ({result.out})"
    lines.append(f"{what}: {result.size_bytes / 1e6:.1f} MB; wall time {result.seconds:.1f} s")
    lines.extend(f"wrote {path}" for path in result.files)
    if result.read_with:
        lines.append(f"read it with: {result.read_with}")
    return "\n".join(lines)


@hydra.main(version_base="1.3", config_path="../../../conf", config_name="prepare")
def main(cfg: DictConfig) -> None:
    """Hydra entry point; a wrong option or a missing dataset ends with its message only, and
    failed videos make the exit status 1 with ``strict=true``."""
    try:
        result = prepare(cfg)
    except (FileNotFoundError, ValueError) as err:
        raise SystemExit(f"error: {err}") from None
    if cfg.strict and result.failed:
        raise SystemExit(f"strict=true: {len(result.failed)} videos failed")


if __name__ == "__main__":
    main()
