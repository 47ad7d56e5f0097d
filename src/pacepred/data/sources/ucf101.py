"""UCF101's layout: class index, three train/test splits (and the generated benchmark's val lists)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pacepred.data.records import (
    STAGES, SplitFileError, VideoRecord, _fields, _integer, _lines, _nonempty, _require_file,
)

UCF101_LAYOUT = (
    "<root>/UCF-101/<Class>/<video>.avi and <root>/ucfTrainTestlist/"
    "{classInd.txt, trainlist0N.txt, testlist0N.txt}"
)



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
