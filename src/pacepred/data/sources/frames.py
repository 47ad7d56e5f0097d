"""Frame folders: pre-extracted JPEG frames listed by train/test list files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pacepred.data.records import (
    SplitFileError, VideoRecord, _check_stage, _fields, _integer, _lines, _nonempty, _require_dir, _require_file,
)
from pacepred.data.sources.ucf101 import read_class_index

FRAMES_LAYOUT = "<root>/<frames_dir>/<listed path>/frame000001.jpg ... and list files '<path> <label> <num_frames>'"



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
