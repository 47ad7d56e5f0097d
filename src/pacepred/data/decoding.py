"""Video decoding: decord, resizing at decode time, frames returned as uint8 (T, H, W, C) RGB.

Every failure (missing file, unreadable container, broken stream) becomes a
:class:`VideoDecodeError` naming the file and the decoder's reason, never a silent wrong clip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np


class VideoDecodeError(RuntimeError):
    """A video could not be opened or decoded; ``path`` and ``reason`` say which and why."""

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"cannot decode video {path}: {reason}")
        self.path = Path(path)
        self.reason = reason


def read_clip(
    path: Path | str,
    choose_indices: Callable[[int], np.ndarray],
    size: tuple[int, int] | None = None,
    num_threads: int = 1,
) -> np.ndarray:
    """Decode the frames ``choose_indices(num_frames)`` asks for, in that order.

    Args:
        path: a video file decord reads (AVI/xvid, MP4/H.264, MKV, ...).
        choose_indices: maps the video's frame count to the wanted indices (K,) int64; repeats
            and any order are allowed (slow paces repeat frames, looping clips wrap around).
        size: ``(height, width)`` to resize to while decoding, or None for the native size.
        num_threads: decoder threads (1 inside data-loader workers, which already run in parallel).

    Returns:
        uint8 array (K, H, W, 3), RGB.
    """
    import decord

    path = Path(path)
    if not path.is_file():
        raise VideoDecodeError(path, "file does not exist")
    height, width = size if size is not None else (-1, -1)
    try:
        reader = decord.VideoReader(str(path), width=width, height=height, num_threads=num_threads)
        num_frames = len(reader)
    except Exception as err:  # decord raises its own DECORDError and plain RuntimeErrors
        raise VideoDecodeError(path, f"cannot open: {err}".splitlines()[0]) from err
    if num_frames < 1:
        raise VideoDecodeError(path, "the container reports no frames")
    indices = np.asarray(choose_indices(num_frames), dtype=np.int64)
    unique, inverse = np.unique(indices, return_inverse=True)
    try:
        frames = reader.get_batch(unique.tolist()).asnumpy()
    except Exception as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise VideoDecodeError(path, f"decoding frames failed ({reason})") from err
    return frames[inverse]
