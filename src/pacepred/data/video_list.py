"""VideoList: the videos a run reads of a dataset source, and what to do with a bad one.

The one place where a split's records are listed and the skip list dropped from them; built once
from ``data.videos`` (whose fields interpolate ``data.source``, ``data.skip_list``,
``data.on_bad_video`` and ``data.min_frames``) for pre-training, the evaluation and the monitor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pacepred.data.records import (
    LEAVE_OUT_HINT, VideoRecord, describe_missing, drop_listed, heldout_stage, missing_or_empty,
)

log = logging.getLogger(__name__)
BAD_VIDEO_POLICIES = ("raise", "skip")


def check_bad_video_policy(policy: str) -> str:
    """``policy`` if it is one of :data:`BAD_VIDEO_POLICIES` (``data.on_bad_video``), else ValueError."""
    if policy not in BAD_VIDEO_POLICIES:
        raise ValueError(f"data.on_bad_video={policy!r}: expected one of {BAD_VIDEO_POLICIES}")
    return policy


@dataclass
class VideoList:
    """Videos of ``source`` (anything with ``records(stage)`` and ``root``, e.g. UCF101Split).

    Args:
        source: gives (records, class names) for 'train' and 'test' (and 'val' where it has one).
        skip_list: a file of videos to leave out of every stage, one path per line relative to
            ``source.root`` (:func:`pacepred.data.records.drop_listed`), or None.
        on_bad_video: 'raise' (stop, naming the file) or 'skip' (leave it out or replace it, and count it).
        min_frames: leave out videos shorter than this where their length is known, or None.
    """

    source: Any
    skip_list: str | None = None
    on_bad_video: str = "raise"
    min_frames: int | None = None

    def __post_init__(self) -> None:
        check_bad_video_policy(self.on_bad_video)
        if self.min_frames is not None and (not isinstance(self.min_frames, int) or self.min_frames < 1):
            raise ValueError(f"data.min_frames={self.min_frames!r}: expected an integer >= 1, or null")

    @property
    def root(self) -> Path:
        return Path(self.source.root)

    @property
    def heldout(self) -> str:
        """The stage a run's own monitoring scores (:func:`pacepred.data.records.heldout_stage`)."""
        return heldout_stage(self.source)

    def listed(self, stage: str, report: bool = False) -> tuple[list[VideoRecord], list[str], int]:
        """(records of ``stage`` without the skip list's, class names, number dropped); ``report``
        prints the count."""
        records, classes = self.source.records(stage)
        records, dropped = drop_listed(records, self.skip_list, self.source.root)
        if report and self.skip_list is not None:
            print(f"skip list {self.skip_list}: dropped {dropped} of {len(records) + dropped} {stage} videos")
        return records, classes, dropped

    def present(self, records: list[VideoRecord], what: str, when: str) -> list[VideoRecord]:
        """``records`` whose videos are on disk (:func:`missing_or_empty`, one stat each): under
        ``raise`` the missing or empty ones are an error naming them (found ``when``), under
        ``skip`` they are left out with their count."""
        missing = missing_or_empty(records)
        if not missing:
            return records
        found = describe_missing(missing, len(records), what)
        if self.on_bad_video == "raise":
            raise FileNotFoundError(f"{found} ({when}). {LEAVE_OUT_HINT}")
        log.warning("data.on_bad_video=skip: left out %s", found)
        gone = {id(record) for record, _ in missing}
        return [record for record in records if id(record) not in gone]
