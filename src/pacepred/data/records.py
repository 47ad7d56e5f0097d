"""Video records and what every dataset source shares: split-file parsing with named errors,
the held-out stage, class-balanced subsets, the skip list and the missing-file check. The
dataset layouts themselves are in :mod:`pacepred.data.sources`, one file each.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

STAGES = ("train", "test")
#: Extensions (lower case) that :class:`FolderSplit` takes for videos.
VIDEO_EXTENSIONS = (".avi", ".mp4", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ogv")


@dataclass(frozen=True)
class VideoRecord:
    """One video of a split: ``path`` (a video file or a frame folder), 0-based class
    ``label``, and ``num_frames`` where the split files give it (frame lists), else None."""

    path: Path
    label: int
    num_frames: int | None = None


class SplitFileError(ValueError):
    """A malformed line in a split or class-index file; the message names file and line."""


# ------------------------------------------------------------------------- shared helpers


def _check_stage(stage: str) -> None:
    if stage not in STAGES:
        raise ValueError(f"stage={stage!r}: expected one of {STAGES}")


def _require_dir(path: Path, dataset: str, layout: str) -> None:
    if not path.is_dir():
        raise FileNotFoundError(f"{dataset}: folder {path} does not exist (expected layout {layout})")


def _require_file(path: Path, dataset: str, layout: str) -> None:
    if not path.is_file():
        raise FileNotFoundError(f"{dataset}: file {path} does not exist (expected layout {layout})")


def _lines(path: Path) -> list[tuple[int, str]]:
    """Non-empty stripped lines with their 1-based line numbers (a UTF-8 byte-order mark is
    dropped); a file that is not UTF-8 text raises :class:`SplitFileError` naming it and the line."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise not_utf8(path, data, err) from None
    return [(n, line.strip()) for n, line in enumerate(io.StringIO(text, newline=None), start=1) if line.strip()]


def not_utf8(path: Path, data: bytes, err: UnicodeDecodeError) -> SplitFileError:
    """The error for a list file that is not UTF-8 text: its name, line and the byte."""
    line = data.count(b"\n", 0, err.start) + 1
    return SplitFileError(f"{path}:{line}: not UTF-8 text (byte 0x{data[err.start]:02x}: {err.reason}); "
                          "save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)")


def _fields(path: Path, number: int, line: str, counts: tuple[int, ...], expected: str) -> list[str]:
    """Whitespace-separated fields of a line, their number checked against ``counts``."""
    fields = line.split()
    if len(fields) not in counts:
        raise SplitFileError(f"{path}:{number}: expected {expected}, got {line!r}")
    return fields


def _integer(path: Path, number: int, value: str, what: str, minimum: int) -> int:
    """``value`` as an int >= ``minimum``, else a SplitFileError naming file, line and field."""
    try:
        result = int(value)
    except ValueError:
        result = None
    if result is None or result < minimum:
        raise SplitFileError(f"{path}:{number}: {what} {value!r} is not an integer >= {minimum}")
    return result


def _nonempty(items: list, what: str) -> list:
    """``items`` (records or parsed lines), or a SplitFileError when ``what`` lists nothing."""
    if not items:
        raise SplitFileError(f"{what} lists no videos")
    return items


def heldout_stage(source: object) -> str:
    """The stage a run's own monitoring scores: 'val' where ``source`` has a validation part (its
    ``stages`` name one: the generated benchmark), else 'test' (UCF101, HMDB51, Kinetics and class
    folders ship no validation split; pace accuracy on test videos uses no labels)."""
    return "val" if "val" in getattr(source, "stages", STAGES) else "test"


def balanced_subset(records: list[VideoRecord], fraction: float, seed: int) -> list[VideoRecord]:
    """A class-balanced share of ``records``: from each class, ``round(fraction * n)`` (at least 1)
    of its ``n`` videos, drawn with ``seed``; the kept records stay in their order."""
    if not 0 < fraction <= 1:
        raise ValueError(f"label_fraction={fraction}: expected a share in (0, 1]")
    if fraction == 1:
        return list(records)
    rng = np.random.default_rng([seed, 7919])
    by_class: dict[int, list[int]] = {}
    for i, record in enumerate(records):
        by_class.setdefault(record.label, []).append(i)
    kept = set()
    for label in sorted(by_class):
        members = by_class[label]
        count = max(1, round(fraction * len(members)))
        kept.update(members[j] for j in rng.choice(len(members), size=count, replace=False))
    return [record for i, record in enumerate(records) if i in kept]


def drop_listed(records: list[VideoRecord], skip_list: Path | str | None,
                root: Path | str) -> tuple[list[VideoRecord], int]:
    """``records`` without the videos named in the skip-list file ``skip_list``.

    The file (relative paths are relative to ``root``, the data root) has one video path per
    line, relative to ``root`` or absolute; blank lines and lines starting with '#' are
    ignored (``python -m pacepred.prep.prepare mode=verify verify.skip_list=true`` writes one).
    ``skip_list`` None keeps every record. Returns (kept records, number dropped).
    """
    if skip_list is None:
        return records, 0
    root = Path(root)
    path = root / skip_list
    if not path.is_file():
        raise FileNotFoundError(f"skip list {path} (data.skip_list={str(skip_list)!r}, relative to {root}) does not exist")
    listed = {os.path.abspath(root / line) for _, line in _lines(path) if not line.startswith("#")}
    kept = [record for record in records if os.path.abspath(record.path) not in listed]
    return kept, len(records) - len(kept)


def missing_or_empty(records: Iterable[VideoRecord]) -> list[tuple[VideoRecord, str]]:
    """(record, reason) of every record whose video is not there: a missing file or frame folder,
    or a file of 0 bytes. One ``os.stat`` per video: cheap enough to run on every listed video
    before training starts (whether a video decodes is found when it is read)."""
    found = []
    for record in records:
        try:
            stat = os.stat(record.path)
        except FileNotFoundError:
            found.append((record, "does not exist"))
            continue
        except OSError as err:
            found.append((record, f"cannot be read ({err.strerror})"))
            continue
        if stat.st_size == 0 and not os.path.isdir(record.path):
            found.append((record, "is empty (0 bytes)"))
    return found


def describe_missing(missing: list[tuple[VideoRecord, str]], total: int, what: str) -> str:
    """'N of the T <what> are missing or empty: <the first five, with their reasons>'."""
    named = "; ".join(f"{record.path} {reason}" for record, reason in missing[:5])
    more = f"; ... ({len(missing) - 5} more)" if len(missing) > 5 else ""
    return f"{len(missing)} of the {total} {what} are missing or empty: {named}{more}"


#: How to go on without the missing videos (the errors of the checks before training and evaluation say it).
LEAVE_OUT_HINT = ("Restore them, or leave them out: data.on_bad_video=skip (also replaces videos that fail to decode) "
                  "or data.skip_list=<a file listing them, relative to data.root>")


def write_skip_list(listing: Path, root: Path | str, videos: Iterable[tuple[Path | str, str | None]],
                    note: str | None = None) -> None:
    """Write the skip list that :func:`drop_listed` reads: ``note`` as a first comment line, then
    for each ``(video path, reason or None)`` the reason as a comment line and the path relative
    to ``root``."""
    base = os.path.abspath(root)
    lines = [f"# {note}\n"] if note else []
    for path, reason in videos:
        lines += ([f"# {reason}\n"] if reason is not None else []) + [f"{os.path.relpath(os.path.abspath(path), base)}\n"]
    Path(listing).write_text("".join(lines))
