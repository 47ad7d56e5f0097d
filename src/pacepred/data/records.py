"""Video records and the split-file parsers of the real dataset layouts (METHOD.md section 6).

UCF101 on disk::

    <root>/UCF-101/<Class>/v_<Class>_gXX_cYY.avi
    <root>/ucfTrainTestlist/classInd.txt        "1 ApplyEyeMakeup"           (1-based)
    <root>/ucfTrainTestlist/trainlist0{1,2,3}.txt "ApplyEyeMakeup/v_...avi 1"  (1-based label)
    <root>/ucfTrainTestlist/testlist0{1,2,3}.txt  "ApplyEyeMakeup/v_...avi"    (label from folder)

Labels in a :class:`VideoRecord` are 0-based.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

UCF101_LAYOUT = (
    "<root>/UCF-101/<Class>/<video>.avi and <root>/ucfTrainTestlist/"
    "{classInd.txt, trainlist0N.txt, testlist0N.txt}"
)


@dataclass(frozen=True)
class VideoRecord:
    """One video of a split: absolute ``path`` and 0-based class ``label``."""

    path: Path
    label: int


class SplitFileError(ValueError):
    """A malformed line in a split or class-index file; the message names file and line."""


def _lines(path: Path) -> list[tuple[int, str]]:
    """Non-empty stripped lines with their 1-based line numbers."""
    with open(path, encoding="utf-8") as handle:
        return [(n, line.strip()) for n, line in enumerate(handle, start=1) if line.strip()]


def read_class_index(path: Path) -> list[str]:
    """``classInd.txt`` -> class names in label order (label 0 first)."""
    names: dict[int, str] = {}
    for number, line in _lines(path):
        fields = line.split()
        if len(fields) != 2 or not fields[0].isdigit():
            raise SplitFileError(f"{path}:{number}: expected '<1-based id> <ClassName>', got {line!r}")
        names[int(fields[0])] = fields[1]
    expected = list(range(1, len(names) + 1))
    if sorted(names) != expected:
        raise SplitFileError(f"{path}: class ids must be 1..{len(names)} without gaps, got {sorted(names)}")
    return [names[i] for i in expected]


def read_ucf101_split(root: Path, split: int, stage: str, video_dir: str = "UCF-101",
                      split_dir: str = "ucfTrainTestlist") -> tuple[list[VideoRecord], list[str]]:
    """Records of UCF101 ``split`` (1-3) for ``stage`` ('train' or 'test') and the class names.

    Train labels come from the file (1-based, checked against the class folder); test labels
    come from the class folder, as in the official lists.
    """
    root = Path(root)
    lists = root / split_dir
    if not lists.is_dir() or not (root / video_dir).is_dir():
        raise FileNotFoundError(f"UCF101 root {root} does not have the expected layout {UCF101_LAYOUT}")
    if split not in (1, 2, 3):
        raise ValueError(f"UCF101 split={split!r}: expected 1, 2 or 3")
    if stage not in ("train", "test"):
        raise ValueError(f"stage={stage!r}: expected 'train' or 'test'")
    classes = read_class_index(lists / "classInd.txt")
    label_of = {name: i for i, name in enumerate(classes)}
    list_file = lists / f"{stage}list0{split}.txt"
    if not list_file.is_file():
        raise FileNotFoundError(f"split file {list_file} is missing (expected layout {UCF101_LAYOUT})")
    records = []
    for number, line in _lines(list_file):
        fields = line.split()
        if len(fields) not in (1, 2) or "/" not in fields[0]:
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
    if not records:
        raise SplitFileError(f"{list_file} lists no videos")
    return records, classes


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
