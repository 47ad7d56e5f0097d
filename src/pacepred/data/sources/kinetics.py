"""Kinetics-400's layout: CSV annotations, clips per class folder or flat."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

from pacepred.data.records import (
    SplitFileError, VideoRecord, _check_stage, _integer, _nonempty, _require_file, not_utf8,
)

log = logging.getLogger(__name__)

KINETICS_LAYOUTS = {
    "per_class": "<root>/<video_dir>/<split>/<label>/<youtube_id>_<start:06d>_<end:06d>.mp4",
    "flat": "<root>/<video_dir>/<split>/<youtube_id>_<start:06d>_<end:06d>.mp4",
}
KINETICS_COLUMNS = ("label", "youtube_id", "time_start", "time_end", "split")



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
