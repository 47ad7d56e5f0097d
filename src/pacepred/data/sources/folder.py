"""Class folders: any videos sorted into one sub-folder per class, a deterministic split."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pacepred.data.records import VIDEO_EXTENSIONS, VideoRecord, _check_stage, _require_dir

log = logging.getLogger(__name__)

FOLDER_LAYOUT = "<root>/<class>/<video>.<ext>, one sub-folder per class"



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
