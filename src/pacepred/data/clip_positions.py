"""The evaluation protocol's clip positions (the pre-training's are in :mod:`pacepred.data.pace`).

Clip positions (VCOP's retrieval and test protocol, docs/evaluation.md, "The protocols"): ``num_clips`` clips of
``span`` consecutive frames whose centres are evenly spaced over the video,
``centres = linspace(span / 2, num_frames - span / 2, num_clips)`` and
``start = int(centre - span / 2)``, exactly the reference's arithmetic. ``span`` is the number of
decoded frames per clip: ``clip_len``, plus one for the ``residual`` input (which feeds the
differences of consecutive frames). A video shorter than ``span`` (the reference would slice
from a negative start) gives clips that start at frame 0 and loop back to frame 0, as the
pre-training sampler does for such videos, so every clip is still exactly ``span`` frames.
"""

from __future__ import annotations

from fractions import Fraction
import numpy as np

from pacepred.data.pace import clip_indices
from pacepred.data.transforms import INPUT_MODES


def frames_per_clip(clip_len: int, input_mode: str) -> int:
    """Frames decoded per clip: ``clip_len`` for ``rgb``, ``clip_len + 1`` for ``residual``."""
    if input_mode not in INPUT_MODES:
        raise ValueError(f"input={input_mode!r}: expected one of {INPUT_MODES}")
    return clip_len + (1 if input_mode == "residual" else 0)


def clip_starts(num_frames: int, num_clips: int, span: int) -> np.ndarray:
    """First frame of each protocol clip, int64 (num_clips,) (see the module docstring).

    ``clip_starts(100, 10, 16) == [0, 9, 18, 28, 37, 46, 56, 65, 74, 84]``; a video shorter than
    ``span`` gives ``num_clips`` zeros.
    """
    if num_frames < 1 or num_clips < 1 or span < 1:
        raise ValueError(f"need num_frames, num_clips, span >= 1, got {num_frames}, {num_clips}, {span}")
    if num_frames < span:
        return np.zeros(num_clips, dtype=np.int64)
    centres = np.linspace(span / 2, num_frames - span / 2, num_clips)
    return np.array([int(c - span / 2) for c in centres], dtype=np.int64)


def protocol_clip_indices(num_frames: int, num_clips: int, span: int) -> np.ndarray:
    """Frame indices of every protocol clip, int64 (num_clips, span), looping in short videos."""
    return np.stack([
        clip_indices(int(start), span, Fraction(1), num_frames)
        for start in clip_starts(num_frames, num_clips, span)
    ])
