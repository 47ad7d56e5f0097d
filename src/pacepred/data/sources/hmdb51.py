"""HMDB51's layout: one split file per class and split, ids 1 (train), 2 (test), 0 (unused)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pacepred.data.records import SplitFileError, VideoRecord, _check_stage, _fields, _lines, _nonempty, _require_dir

HMDB51_LAYOUT = (
    "<root>/<video_dir>/<class>/<video>.avi and "
    "<root>/<split_dir>/<class>_test_split{1,2,3}.txt with lines '<video>.avi <0|1|2>'"
)



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
