"""Video index: frame count, fps and size of every video of a dataset root, cached as JSON.

The cache is one file per data root, ``<root>/pacepred_index.json`` (or
``<cache_dir>/<root name>-<hash of root>.json``)::

    {"version": 1, "root": "/datasets/ucf101",
     "videos": {"UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi":
                    {"size": 294566, "mtime_ns": ..., "decoded": true,
                     "info": {"num_frames": 164, "fps": 25.0, "width": 320, "height": 240}},
                "UCF-101/.../broken.avi": {"size": 0, "mtime_ns": ..., "decoded": true,
                                           "error": "file is empty (0 bytes)"}}}

Keys are paths relative to the root. An entry is reused while the file's size and mtime are
unchanged (for a frame folder: its number of entries and mtime) and, when ``decode`` is
asked for, it was decoded; only new or changed files are probed again. A missing file is
reported as unreadable and never cached. ``python -m pacepred.prep.index`` builds it for a
whole dataset and prints a summary (:mod:`pacepred.prep.index`).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from pacepred.data.decoding import FRAME_NAME, VideoDecodeError, VideoInfo, probe_video

#: 3: an AVI or MP4 file cut short is unreadable (decoding.check_complete), and complete files
#: that version 2 refused for declaring more frames than they hold are read again; frame folders'
#: signatures include their first frame file's mtime (2). 4: the frames of MP4/MOV files that an
#: edit list hides (a clip cut by stream copy) are not counted. 5: a video with a display rotation
#: (a phone video) has its displayed width and height.
CACHE_VERSION = 5
CACHE_NAME = "pacepred_index.json"

__all__ = ["VideoIndex", "VideoInfo", "build_index", "cache_path_for", "disk_size", "file_signature",
           "known_frame_counts", "load_index"]


@dataclass
class VideoIndex:
    """The index of a set of videos.

    Attributes:
        videos: path -> :class:`VideoInfo` of every readable video.
        unreadable: path -> reason of every video that is missing or cannot be decoded.
        probed: the paths probed by this call (the others came from the cache).
        cache_path: the JSON file the index lives in.
    """

    videos: dict[Path, VideoInfo]
    unreadable: dict[Path, str]
    probed: list[Path]
    cache_path: Path


def _writable_dir(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK)


def cache_path_for(root: Path | str, cache_dir: Path | str | None = None) -> Path:
    """The cache file of data root ``root``: ``<root>/pacepred_index.json`` when ``root`` is
    writable and no ``cache_dir`` is given, else ``<cache_dir or ~/.cache/pacepred/index>/
    <root name>-<8 hex digits of the root's path>.json``."""
    root = Path(root).resolve()
    if cache_dir is None and _writable_dir(root):
        return root / CACHE_NAME
    folder = Path(cache_dir) if cache_dir is not None else Path.home() / ".cache" / "pacepred" / "index"
    digest = hashlib.sha1(str(root).encode()).hexdigest()[:8]
    return folder / f"{root.name}-{digest}.json"


def file_signature(path: Path) -> tuple[int, int]:
    """(size, mtime_ns) of a file; (number of entries, the later mtime_ns of the folder and of its
    first frame file) of a frame folder: frames extracted again in place (``ffmpeg -y``) leave the
    folder's entries and mtime as they were, not the files' mtimes."""
    stat = path.stat()
    if not path.is_dir():
        return stat.st_size, stat.st_mtime_ns
    first = path / FRAME_NAME.format(1)
    return len(os.listdir(path)), max(stat.st_mtime_ns, first.stat().st_mtime_ns if first.exists() else 0)


def _probe(job: tuple[Path, bool]) -> tuple[Path, VideoInfo | None, str | None]:
    """Worker: (path, info or None, error reason or None)."""
    path, decode = job
    try:
        return path, probe_video(path, decode=decode), None
    except VideoDecodeError as err:
        return path, None, err.reason


def _read_cache(cache_path: Path) -> dict[str, Any]:
    try:
        cache = json.loads(cache_path.read_text())
    except (OSError, ValueError):
        return {}
    return cache.get("videos", {}) if cache.get("version") == CACHE_VERSION else {}


def _write_cache(cache_path: Path, root: Path, entries: dict[str, Any]) -> None:
    """Write atomically (a temporary file renamed over the cache), so readers never see half."""
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"version": CACHE_VERSION, "root": str(root), "videos": entries}, indent=1, sort_keys=True)
    handle, temporary = tempfile.mkstemp(dir=cache_path.parent, prefix=cache_path.name, suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); a cache in a shared data root must be readable
        # by the other users as any file they write would be (0666 less the umask)
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(handle, 0o666 & ~umask)
        with os.fdopen(handle, "w") as stream:
            stream.write(text + "\n")
        os.replace(temporary, cache_path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _key(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path.resolve())


def build_index(paths: Sequence[Path | str], root: Path | str, cache_dir: Path | str | None = None,
                workers: int = 4, decode: bool = True) -> VideoIndex:
    """Index ``paths`` (videos or frame folders under data root ``root``), probing in
    ``workers`` processes only what the cache lacks or what changed, and update the cache.

    Entries of other files in the cache are kept, so indexing one stage keeps the other's.
    Missing and undecodable videos are listed in ``unreadable`` with the reason, not raised.
    """
    root = Path(root).resolve()
    cache_path = cache_path_for(root, cache_dir)
    entries = _read_cache(cache_path)
    unreadable: dict[Path, str] = {}
    signatures: dict[Path, tuple[int, int]] = {}
    jobs = []
    for path in dict.fromkeys(Path(p) for p in paths):
        if not path.exists():
            unreadable[path] = "file does not exist"
            continue
        signatures[path] = file_signature(path)
        entry = entries.get(_key(path, root))
        fresh = entry is not None and (entry["size"], entry["mtime_ns"]) == signatures[path]
        if not fresh or (decode and not entry["decoded"]):
            jobs.append((path, decode))
    if workers > 1 and len(jobs) > 1:
        with multiprocessing.get_context("spawn").Pool(min(workers, len(jobs))) as pool:
            results = pool.map(_probe, jobs, chunksize=max(1, len(jobs) // (8 * workers)))
    else:
        results = [_probe(job) for job in jobs]
    for path, info, error in results:
        size, mtime_ns = signatures[path]
        entry = {"size": size, "mtime_ns": mtime_ns, "decoded": decode}
        entry.update({"info": asdict(info)} if info is not None else {"error": error})
        entries[_key(path, root)] = entry
    if results:
        _write_cache(cache_path, root, entries)
    videos = {}
    for path in signatures:
        entry = entries[_key(path, root)]
        if "error" in entry:
            unreadable[path] = entry["error"]
        else:
            videos[path] = VideoInfo(**entry["info"])
    return VideoIndex(videos=videos, unreadable=unreadable, probed=[path for path, _ in jobs], cache_path=cache_path)


def load_index(paths: Sequence[Path | str], root: Path | str, cache_dir: Path | str | None = None,
               workers: int = 4, decode: bool = True) -> dict[Path, VideoInfo]:
    """path -> :class:`VideoInfo` of the readable videos among ``paths`` (built or updated as
    :func:`build_index` does; unreadable videos are absent from the result)."""
    return build_index(paths, root, cache_dir, workers, decode).videos


def known_frame_counts(paths: Sequence[Path | str], root: Path | str, cache_dir: Path | str | None = None
                       ) -> dict[Path, int]:
    """path -> frame count of the ``paths`` that the index cache of ``root`` (written by
    ``python -m pacepred.prep.index``, or by an evaluation under ``data.on_bad_video=skip``)
    holds for the file as it is now (same size and mtime); nothing is probed."""
    cache_path = cache_path_for(root, cache_dir)
    entries = _read_cache(cache_path) if cache_path.is_file() else {}
    if not entries:
        return {}
    root = Path(root).resolve()
    counts = {}
    for path in map(Path, paths):
        entry = entries.get(_key(path, root))
        if entry is None or "info" not in entry:
            continue
        try:
            if (entry["size"], entry["mtime_ns"]) == file_signature(path):
                counts[path] = entry["info"]["num_frames"]
        except OSError:  # gone since: the missing-file check names it
            continue
    return counts


def disk_size(path: Path) -> int:
    """Bytes of the files under ``path`` (a file or a folder)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum((Path(folder) / name).stat().st_size for folder, _, names in os.walk(path) for name in names)
