"""Video records and the readers of the real dataset layouts (METHOD.md section 6).

A reader ("source") is built from ``data.source`` of a data config and answers
``records(stage) -> (list[VideoRecord], class names)`` for stage 'train' or 'test'; labels
are 0-based indices into the class names. Constructors do not touch the disk; ``records``
reads the split files and fails with a clear error: a missing root names the path and the
expected layout, a malformed line raises :class:`SplitFileError` naming the file and its
1-based line number. Whether each video decodes is the decoder's and the index's business
(:mod:`pacepred.data.decoding`, :mod:`pacepred.data.index`).

Layouts (``<root>`` is the reader's ``root``; folder names are constructor arguments)::

    UCF101Split       <root>/UCF-101/<Class>/v_<Class>_gXX_cYY.avi
                      <root>/ucfTrainTestlist/classInd.txt          "1 ApplyEyeMakeup" (1-based)
                      <root>/ucfTrainTestlist/trainlist0{1,2,3}.txt "ApplyEyeMakeup/v_...avi 1"
                      <root>/ucfTrainTestlist/testlist0{1,2,3}.txt  "ApplyEyeMakeup/v_...avi"
    HMDB51Split       <root>/hmdb51/<class>/<video>.avi
                      <root>/testTrainMulti_7030_splits/<class>_test_split{1,2,3}.txt
                          "<video>.avi <id>", id 1 = train, 2 = test, 0 = unused
    Kinetics400Split  <root>/annotations/{train,val}.csv  "label,youtube_id,time_start,time_end,split"
                      <root>/{train,val}/<label>/<youtube_id>_<start:06d>_<end:06d>.mp4  (per_class)
                      <root>/{train,val}/<youtube_id>_<start:06d>_<end:06d>.mp4          (flat)
    FolderSplit       <root>/<class>/<video>.{avi,mp4,mkv,webm,mov,...}
    FramesSplit       <root>/<frames_dir>/<Class>/<video>/frame000001.jpg ...
                      list files "<Class>/<video> <0-based label> <num_frames>"
"""

from __future__ import annotations

import csv
import io
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

STAGES = ("train", "test")
UCF101_LAYOUT = (
    "<root>/UCF-101/<Class>/<video>.avi and <root>/ucfTrainTestlist/"
    "{classInd.txt, trainlist0N.txt, testlist0N.txt}"
)
HMDB51_LAYOUT = (
    "<root>/<video_dir>/<class>/<video>.avi and "
    "<root>/<split_dir>/<class>_test_split{1,2,3}.txt with lines '<video>.avi <0|1|2>'"
)
KINETICS_LAYOUTS = {
    "per_class": "<root>/<video_dir>/<split>/<label>/<youtube_id>_<start:06d>_<end:06d>.mp4",
    "flat": "<root>/<video_dir>/<split>/<youtube_id>_<start:06d>_<end:06d>.mp4",
}
KINETICS_COLUMNS = ("label", "youtube_id", "time_start", "time_end", "split")
FOLDER_LAYOUT = "<root>/<class>/<video>.<ext>, one sub-folder per class"
FRAMES_LAYOUT = "<root>/<frames_dir>/<listed path>/frame000001.jpg ... and list files '<path> <label> <num_frames>'"
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
    ignored (``python -m pacepred.data.prepare mode=verify verify.skip_list=true`` writes one).
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


# -------------------------------------------------------------------------------- UCF101


def read_class_index(path: Path) -> list[str]:
    """``classInd.txt`` -> class names in label order (label 0 first). A name is the rest of
    its line after the id, so it may hold spaces ("1 arm wrestling", Kinetics labels)."""
    names: dict[int, str] = {}
    for number, line in _lines(path):
        fields = line.split(maxsplit=1)
        if len(fields) != 2:
            raise SplitFileError(f"{path}:{number}: expected '<1-based id> <ClassName>', got {line!r}")
        class_id = _integer(path, number, fields[0], "class id", 1)
        if class_id in names:
            raise SplitFileError(f"{path}:{number}: class id {class_id} again ({names[class_id]!r} had it), got {line!r}")
        names[class_id] = fields[1]
    expected = list(range(1, len(names) + 1))
    if sorted(names) != expected:
        raise SplitFileError(f"{path}: class ids must be 1..{len(names)} without gaps, got {sorted(names)}")
    return [names[i] for i in expected]


def read_ucf101_split(root: Path, split: int, stage: str, video_dir: str = "UCF-101",
                      split_dir: str = "ucfTrainTestlist") -> tuple[list[VideoRecord], list[str]]:
    """Records of UCF101 ``split`` (1-3) for ``stage`` ('train' or 'test') and the class names.

    Train labels come from the file (1-based, checked against the class folder); test labels
    come from the class folder, as in the official lists. Stage 'val' reads ``vallist0N.txt``
    (as the test lists), which the generated benchmark writes and real UCF101 does not have.
    """
    root = Path(root)
    lists = root / split_dir
    if not lists.is_dir() or not (root / video_dir).is_dir():
        raise FileNotFoundError(f"UCF101 root {root} does not have the expected layout {UCF101_LAYOUT}")
    if split not in (1, 2, 3):
        raise ValueError(f"UCF101 split={split!r}: expected 1, 2 or 3")
    if stage not in (*STAGES, "val"):
        raise ValueError(f"stage={stage!r}: expected one of {(*STAGES, 'val')}")
    classes = read_class_index(lists / "classInd.txt")
    label_of = {name: i for i, name in enumerate(classes)}
    list_file = lists / f"{stage}list0{split}.txt"
    _require_file(list_file, "UCF101", UCF101_LAYOUT)
    records = []
    for number, line in _lines(list_file):
        fields = _fields(list_file, number, line, (1, 2), "'<Class>/<video> [label]'")
        if "/" not in fields[0]:
            raise SplitFileError(f"{list_file}:{number}: expected '<Class>/<video> [label]', got {line!r}")
        class_name = fields[0].split("/")[0]
        if class_name not in label_of:
            raise SplitFileError(f"{list_file}:{number}: class {class_name!r} is not in classInd.txt")
        label = label_of[class_name]
        if len(fields) == 2 and (not fields[1].isdigit() or int(fields[1]) - 1 != label):
            raise SplitFileError(
                f"{list_file}:{number}: label {fields[1]!r} does not match class {class_name!r} "
                f"(id {label + 1} in classInd.txt)"
            )
        records.append(VideoRecord(path=root / video_dir / fields[0], label=label))
    return _nonempty(records, str(list_file)), classes


@dataclass(frozen=True)
class UCF101Split:
    """A UCF101-layout dataset on disk and one of its splits; ``records(stage)`` reads it."""

    root: Path
    split: int = 1
    video_dir: str = "UCF-101"
    split_dir: str = "ucfTrainTestlist"

    def records(self, stage: str) -> tuple[list[VideoRecord], list[str]]:
        """(records, class names) of ``stage`` 'train' or 'test'."""
        return read_ucf101_split(Path(self.root), self.split, stage, self.video_dir, self.split_dir)


# -------------------------------------------------------------------------------- HMDB51


@dataclass(frozen=True)
class HMDB51Split:
    """HMDB51 in its official layout and one of its three splits.

    ``<root>/<split_dir>/<class>_test_split<split>.txt`` lists each video of ``<class>`` with
    an id: 1 = train, 2 = test, 0 = unused in this split (70/30 per class). Class names are
    the ``<class>`` parts of the split-file names, sorted alphabetically (label 0 = first),
    since HMDB51 ships no class index. Videos live at ``<root>/<video_dir>/<class>/<video>``.
    """

    root: Path
    split: int = 1
    video_dir: str = "hmdb51"
    split_dir: str = "testTrainMulti_7030_splits"

    def records(self, stage: str) -> tuple[list[VideoRecord], list[str]]:
        """(records, class names) of ``stage`` 'train' (id 1) or 'test' (id 2)."""
        _check_stage(stage)
        if self.split not in (1, 2, 3):
            raise ValueError(f"HMDB51 split={self.split!r}: expected 1, 2 or 3")
        root = Path(self.root)
        _require_dir(root / self.split_dir, "HMDB51", HMDB51_LAYOUT)
        _require_dir(root / self.video_dir, "HMDB51", HMDB51_LAYOUT)
        suffix = f"_test_split{self.split}.txt"
        split_files = {p.name[: -len(suffix)]: p for p in (root / self.split_dir).glob(f"*{suffix}")}
        if not split_files:
            raise FileNotFoundError(
                f"HMDB51: no '*{suffix}' files in {root / self.split_dir} (expected layout {HMDB51_LAYOUT})"
            )
        classes = sorted(split_files)
        unsplit = sorted(p.name for p in (root / self.video_dir).iterdir()
                         if p.is_dir() and not p.name.startswith(".") and p.name not in split_files)
        if unsplit:  # left out, it would shift the labels of every class sorted after it
            raise FileNotFoundError(
                f"HMDB51: the class folders {unsplit} of {root / self.video_dir} have no split file "
                f"{root / self.split_dir}/<class>{suffix} (expected layout {HMDB51_LAYOUT})")
        wanted_id = 1 if stage == "train" else 2
        records = []
        for label, name in enumerate(classes):
            split_file = split_files[name]
            for number, line in _lines(split_file):
                video, split_id = _fields(split_file, number, line, (2,), "'<video>.avi <0|1|2>'")
                if split_id not in ("0", "1", "2"):
                    raise SplitFileError(
                        f"{split_file}:{number}: split id {split_id!r} is not 0 (unused), 1 (train) or 2 (test)"
                    )
                if int(split_id) == wanted_id:
                    records.append(VideoRecord(path=root / self.video_dir / name / video, label=label))
        return _nonempty(records, f"HMDB51 split {self.split} ({stage}) in {root / self.split_dir}"), classes


# ---------------------------------------------------------------------------- Kinetics-400


class Kinetics400Split:
    """Kinetics-400 (or a Kinetics-style subset) from its CSV annotations.

    ``annotations.format(split=...)`` (relative to ``root``) is the CSV of a split, with the
    header ``label,youtube_id,time_start,time_end,split`` (extra columns are ignored). The
    clip of a row is ``<youtube_id>_<time_start:06d>_<time_end:06d>.mp4`` in
    ``<root>/<video_dir>/<split>/<label>/`` (``layout='per_class'``; a label folder may also
    spell spaces as underscores) or in ``<root>/<video_dir>/<split>/`` (``layout='flat'``).

    Stage 'train' reads the 'train' split; stage 'test' reads ``test_split`` ('val' by
    default: Kinetics publishes no labels for its test split, so results are reported on
    val). Class names are the sorted labels of the train CSV.

    Many Kinetics videos are gone from YouTube, so a missing clip is not an error: it is left
    out, listed in ``missing[stage]`` and reported in a one-line warning (count and first
    names). Only a split with no clip at all on disk raises FileNotFoundError.
    """

    def __init__(self, root: str | Path, annotations: str = "annotations/{split}.csv", video_dir: str = ".",
                 layout: str = "per_class", test_split: str = "val"):
        if layout not in KINETICS_LAYOUTS:
            raise ValueError(f"Kinetics layout={layout!r}: expected one of {tuple(KINETICS_LAYOUTS)}")
        self.root = Path(root)
        self.annotations = annotations
        self.video_dir = video_dir
        self.layout = layout
        self.split_names = {"train": "train", "test": test_split}
        self.missing: dict[str, list[Path]] = {}

    def _rows(self, split: str) -> list[tuple[int, str, str]]:
        """(line number, label, clip file name) of each row of ``split``'s CSV."""
        path = self.root / self.annotations.format(split=split)
        _require_file(path, "Kinetics", f"<root>/{self.annotations} with the header {','.join(KINETICS_COLUMNS)} "
                                        f"and clips {KINETICS_LAYOUTS[self.layout]}")
        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")  # with or without a byte-order mark
        except UnicodeDecodeError as err:
            raise not_utf8(path, data, err) from None
        reader = csv.reader(io.StringIO(text, newline=""))
        header = [name.strip() for name in next(reader, [])]
        absent = [name for name in KINETICS_COLUMNS if name not in header]
        if absent:
            raise SplitFileError(f"{path}:1: header {header} lacks the columns {absent}")
        column = {name: header.index(name) for name in KINETICS_COLUMNS}
        rows = []
        for fields in reader:
            number = reader.line_num
            if not any(field.strip() for field in fields):
                continue
            if len(fields) < len(header):
                raise SplitFileError(f"{path}:{number}: expected {len(header)} comma-separated fields, got {fields}")
            row = {name: fields[i].strip() for name, i in column.items()}
            if row["split"] != split:
                raise SplitFileError(f"{path}:{number}: split {row['split']!r}, expected {split!r} in this file")
            start = _integer(path, number, row["time_start"], "time_start", 0)
            end = _integer(path, number, row["time_end"], "time_end", 0)
            rows.append((number, row["label"], f"{row['youtube_id']}_{start:06d}_{end:06d}.mp4"))
        return _nonempty(rows, str(path))

    def _clip_path(self, split: str, label: str, name: str) -> Path:
        folder = self.root / self.video_dir / split
        if self.layout == "flat":
            return folder / name
        path = folder / label / name
        if not path.exists() and " " in label:
            underscored = folder / label.replace(" ", "_") / name
            if underscored.exists():
                return underscored
        return path

    def records(self, stage: str) -> tuple[list[VideoRecord], list[str]]:
        """(records of the clips on disk, class names) of ``stage`` 'train' or 'test' (val)."""
        _check_stage(stage)
        classes = sorted({label for _, label, _ in self._rows("train")})
        label_of = {name: i for i, name in enumerate(classes)}
        split = self.split_names[stage]
        csv_path = self.root / self.annotations.format(split=split)
        records, missing = [], []
        for number, label, name in self._rows(split):
            if label not in label_of:
                raise SplitFileError(f"{csv_path}:{number}: label {label!r} does not occur in the train CSV")
            path = self._clip_path(split, label, name)
            if path.is_file():
                records.append(VideoRecord(path=path, label=label_of[label]))
            else:
                missing.append(path)
        self.missing[stage] = missing
        if not records:
            raise FileNotFoundError(
                f"Kinetics: none of the {len(missing)} clips of {csv_path} exists, e.g. {missing[0]} "
                f"(layout {self.layout!r}: {KINETICS_LAYOUTS[self.layout]})"
            )
        if missing:
            examples = ", ".join(p.name for p in missing[:3])
            log.warning(
                "Kinetics %s: %d of %d clips listed in %s are missing on disk and left out (e.g. %s)",
                split, len(missing), len(missing) + len(records), csv_path.name, examples,
            )
        return records, classes


# ------------------------------------------------------------------------- class folders


@dataclass(frozen=True)
class FolderSplit:
    """Any videos sorted into one sub-folder per class: ``<root>/<class>/<video>.<ext>``.

    Classes are the sub-folders (hidden ones skipped) that hold videos, sorted by name (a folder
    without videos is left out, with a warning naming it). Videos are the files
    whose lower-cased extension is in ``extensions``, other files are ignored. The split is
    deterministic: within each class, sorted by file name, the ``test_every``-th, then the
    ``2 * test_every``-th, ... video (1-based) is a test video, all others train videos; a
    class with fewer than ``test_every`` videos has no test video.
    """

    root: Path
    test_every: int = 5
    extensions: tuple[str, ...] = VIDEO_EXTENSIONS

    def records(self, stage: str) -> tuple[list[VideoRecord], list[str]]:
        """(records, class names) of ``stage`` 'train' or 'test'."""
        _check_stage(stage)
        if self.test_every < 2:
            raise ValueError(f"test_every={self.test_every}: expected an integer >= 2")
        root = Path(self.root)
        _require_dir(root, "folder dataset", FOLDER_LAYOUT)
        extensions = {e.lower() for e in self.extensions}
        folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not folders:
            raise FileNotFoundError(f"folder dataset: {root} has no class sub-folders (expected layout {FOLDER_LAYOUT})")
        videos_of = {folder: sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in extensions)
                     for folder in folders}
        empty = [folder.name for folder, videos in videos_of.items() if not videos]
        if empty:  # a class nothing can be learnt or tested on is no class
            log.warning("folder dataset: the class folders %s of %s hold no videos with extensions %s: they are "
                        "left out of the classes", empty, root, sorted(extensions))
            folders = [folder for folder in folders if videos_of[folder]]
        records = []
        for label, folder in enumerate(folders):
            videos = videos_of[folder]
            for position, video in enumerate(videos, start=1):
                if (position % self.test_every == 0) == (stage == "test"):
                    records.append(VideoRecord(path=video, label=label))
        if not records:
            raise FileNotFoundError(
                f"folder dataset: no {stage} videos with extensions {sorted(extensions)} under {root} "
                f"(test videos need classes of at least test_every={self.test_every} videos)"
            )
        return records, [folder.name for folder in folders]


# -------------------------------------------------------------------------- frame folders


@dataclass(frozen=True)
class FramesSplit:
    """Pre-extracted JPEG frames, one folder of ``frame000001.jpg ...`` per video.

    ``train_list`` and ``test_list`` (relative to ``root``) have one line per video:
    ``<path> <0-based label> <num_frames>``, e.g. ``ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01 0 120``
    (the official code's lists). The frame folder is ``<root>/<frames_dir>/<path>``, or, with
    ``flat``, ``<root>/<frames_dir>/<last part of path>`` (the shared ``jpegs_256`` UCF101
    frames keep every video folder directly under one folder). Records carry ``num_frames``.

    Class names come from ``class_index`` (a ``classInd.txt``-style file relative to ``root``,
    "1 ApplyEyeMakeup", 1-based ids) or else from the first part of the listed paths, which
    must then be the same folder for every video of a label and cover labels 0..K-1.
    """

    root: Path
    train_list: str = "train.list"
    test_list: str = "test.list"
    frames_dir: str = "."
    flat: bool = False
    class_index: str | None = None

    def _read_list(self, path: Path) -> list[tuple[int, str, int, int]]:
        """(line number, listed path, label, num_frames) of each line of a list file."""
        _require_file(path, "frames dataset", FRAMES_LAYOUT)
        rows = []
        for number, line in _lines(path):
            listed, label, num_frames = _fields(path, number, line, (3,), "'<path> <label> <num_frames>'")
            rows.append((number, listed, _integer(path, number, label, "label", 0),
                         _integer(path, number, num_frames, "num_frames", 1)))
        return _nonempty(rows, str(path))

    def _classes_from_paths(self, lists: dict[Path, list[tuple[int, str, int, int]]]) -> list[str]:
        names: dict[int, str] = {}
        for path, rows in lists.items():
            for number, listed, label, _ in rows:
                parts = Path(listed).parts
                if len(parts) < 2:
                    raise SplitFileError(
                        f"{path}:{number}: {listed!r} has no class folder to name label {label} after; "
                        f"give class_index"
                    )
                if names.setdefault(label, parts[0]) != parts[0]:
                    raise SplitFileError(
                        f"{path}:{number}: label {label} is class {names[label]!r} elsewhere, here {parts[0]!r}"
                    )
        if sorted(names) != list(range(len(names))):
            raise SplitFileError(f"labels of {sorted(lists)} must be 0..{len(names) - 1} without gaps, got {sorted(names)}")
        return [names[i] for i in range(len(names))]

    def records(self, stage: str) -> tuple[list[VideoRecord], list[str]]:
        """(records with ``num_frames``, class names) of ``stage`` 'train' or 'test'."""
        _check_stage(stage)
        root = Path(self.root)
        _require_dir(root / self.frames_dir, "frames dataset", FRAMES_LAYOUT)
        lists = {root / name: self._read_list(root / name) for name in (self.train_list, self.test_list)}
        if self.class_index is not None:
            classes = read_class_index(root / self.class_index)
        else:
            classes = self._classes_from_paths(lists)
        list_file = root / (self.train_list if stage == "train" else self.test_list)
        records = []
        for number, listed, label, num_frames in lists[list_file]:
            if label >= len(classes):
                raise SplitFileError(f"{list_file}:{number}: label {label} is not below the {len(classes)} classes")
            folder = Path(listed).name if self.flat else listed
            records.append(VideoRecord(path=root / self.frames_dir / folder, label=label, num_frames=num_frames))
        return records, classes
