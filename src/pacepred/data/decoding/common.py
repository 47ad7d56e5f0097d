"""What every decoder shares: the errors naming a file and a reason, a video's facts, the backends' names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np



BACKENDS = ("decord", "pyav", "frames")


#: Name of frame ``i`` (0-based index) in a frame folder: ``FRAME_NAME.format(i + 1)``.
FRAME_NAME = "frame{:06d}.jpg"


FRAME_FILE = re.compile(r"frame\d{6}\.jpg")


#: ``data.frame_folder_resize``: resize only the crop of a frame folder's frames, or whole frames first.
FRAME_FOLDER_RESIZES = ("crop", "whole")


#: swscale filter of decord (measured: the closest of all swscale filters to decord's output).
SWSCALE_FILTER = "BILINEAR"


class VideoFileError(RuntimeError):
    """Something could not be done to a video file; ``path`` and ``reason`` say which and why."""

    action = "use video"

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"cannot {self.action} {path}: {reason}")
        self.path = Path(path)
        self.reason = reason

    def __reduce__(self):
        """Rebuilt from (path, reason) when it crosses a process boundary (loader workers, pools)."""
        return type(self), (self.path, self.reason)


class VideoDecodeError(VideoFileError):
    """A video could not be opened or decoded."""

    action = "decode video"


@dataclass(frozen=True)
class VideoInfo:
    """What the index stores per video: frame count, frames per second (None for a frame
    folder), and the native frame size in pixels."""

    num_frames: int
    fps: float | None
    width: int
    height: int


def check_frame_folder_resize(frame_folder_resize: str) -> str:
    """``frame_folder_resize`` if it is one of :data:`FRAME_FOLDER_RESIZES`, else ValueError.

    ``data.frame_folder_resize``: ``crop`` (``read_clip`` with ``defer_frame_resize``: resize only
    the crop, the decoded frames' region under it, half the CPU time) or ``whole`` (whole frames
    resized to ``data.decode_size``, then cropped: the official code's order). The two differ
    by a shift of at most half a source pixel (the region is rounded to whole pixels) and at the
    crop's border (the filter's support): a mean absolute difference of 1.1-1.5 out of 255 on the
    real clips at 128x171 (tests/component/test_decoding.py)."""
    if frame_folder_resize not in FRAME_FOLDER_RESIZES:
        raise ValueError(f"data.frame_folder_resize={frame_folder_resize!r}: expected one of {FRAME_FOLDER_RESIZES}")
    return frame_folder_resize


def _unique_indices(path: Path, choose_indices: Callable[[int], np.ndarray], num_frames: int):
    """(sorted unique wanted indices, positions of the requested frames among them)."""
    indices = np.asarray(choose_indices(num_frames), dtype=np.int64)
    if indices.ndim != 1 or indices.size == 0:
        raise ValueError(f"{path}: choose_indices must return a non-empty (K,) array, got shape {indices.shape}")
    if indices.min() < 0 or indices.max() >= num_frames:
        raise IndexError(
            f"{path}: frame indices must lie in [0, {num_frames}), got {indices.min()}..{indices.max()}"
        )
    unique, inverse = np.unique(indices, return_inverse=True)
    return unique, inverse.reshape(-1)

