"""Clip-order tuples (VCOP, Xu et al., CVPR 2019): pure functions, no I/O.

A tuple is ``num_clips`` clips of ``num_samples`` consecutive frames with ``interval`` frames
left out between one clip's last frame and the next clip's first (VCOP's
``clip_start += clip_len + interval``), so it spans ``num_clips * num_samples + (num_clips - 1)
* interval`` frames: 64 for VCOP's 3 clips of 16 frames, 8 apart. Its start is drawn as the
pace sampler's ``fit`` policy draws a clip's: so that the whole tuple fits the video; only a
video shorter than the span wraps around its end to frame 0 (VCOP's lists leave such videos
out). The clips are then shown in one of the ``num_clips!`` orders: the label is the order's
index in :func:`order_permutations` (VCOP's list, ``itertools.permutations``), and position
``k`` of the shown tuple holds the clip that comes ``order[k]``-th in the video.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np

from pacepred.data.pace import sample_start

TUPLE_CROPS = ("shared", "per_clip")


class TupleLayout:
    """How the pre-training data cuts clip-order tuples; the clip-order module gives one to the
    datamodule (``train.py``). A plain object: Hydra's ``instantiate`` would turn a dataclass
    argument into a config.

    Args:
        num_clips: clips per tuple (VCOP: 3, i.e. 6 orders).
        interval: frames left out between consecutive clips (VCOP: 8).
        crop: ``shared`` (one random crop and flip for the whole tuple: its clips differ only in
            time) or ``per_clip`` (VCOP's code: each clip its own random crop and flip).
    """

    def __init__(self, num_clips: int, interval: int, crop: str = "shared"):
        if not isinstance(num_clips, int) or num_clips < 2:
            raise ValueError(f"model.num_clips={num_clips!r}: expected an integer >= 2")
        if not isinstance(interval, int) or interval < 0:
            raise ValueError(f"model.interval={interval!r}: expected an integer >= 0")
        if crop not in TUPLE_CROPS:
            raise ValueError(f"model.tuple_crop={crop!r}: expected one of {TUPLE_CROPS}")
        self.num_clips, self.interval, self.crop = num_clips, interval, crop

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TupleLayout) and vars(self) == vars(other)

    def __repr__(self) -> str:
        return f"TupleLayout(num_clips={self.num_clips}, interval={self.interval}, crop={self.crop!r})"


def order_permutations(num_clips: int) -> list[tuple[int, ...]]:
    """The fixed list of orders, label = index: ``order_permutations(3)[1] == (0, 2, 1)``."""
    return list(itertools.permutations(range(num_clips)))


def tuple_span(num_clips: int, num_samples: int, interval: int) -> int:
    """Consecutive source frames a tuple covers, from its first clip's first frame to its last clip's last."""
    return num_clips * num_samples + (num_clips - 1) * interval


def tuple_indices(start: int, num_clips: int, num_samples: int, interval: int, num_frames: int) -> np.ndarray:
    """Frame indices int64 (num_clips, num_samples) of the tuple starting at ``start``, in the
    video's order; indices past the last frame continue from frame 0."""
    offsets = np.arange(num_clips)[:, None] * (num_samples + interval) + np.arange(num_samples)[None, :]
    return ((start + offsets) % num_frames).astype(np.int64)


def sample_tuple(num_frames: int, num_clips: int, num_samples: int, interval: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Indices int64 (num_clips, num_samples) of a tuple with a random start that fits the video
    (start 0 and a wrap when the video is shorter than :func:`tuple_span`)."""
    span = tuple_span(num_clips, num_samples, interval)
    start = sample_start(num_frames, span, Fraction(1), "fit", rng)
    return tuple_indices(start, num_clips, num_samples, interval, num_frames)


def draw_order(num_clips: int, rng: np.random.Generator) -> int:
    """A uniform order label in ``[0, num_clips!)``."""
    return int(rng.integers(len(order_permutations(num_clips))))
