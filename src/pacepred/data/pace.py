"""Pace sets and the pace sampler (docs/method.md, "Pace prediction"): pure functions, no I/O.

A pace ``p`` reads frame ``start + floor(i * p)`` for ``i = 0 .. n-1``: ``p = 2`` skips every
other frame (fast forward), ``p = 1/2`` shows every frame twice (slow motion by repetition).
Paces are exact ``Fraction``s so that ``floor(i * 1/3)`` never suffers from float rounding.
Labels are the index of the pace in the set, slowest first.

Boundary policies decide what happens at the end of the video:

- ``loop`` (the paper and the official code): the start is uniform over all frames and the
  clip restarts at frame 0 whenever its next index would pass the end. Clips that wrap contain a cut back to
  the first frame, more often at fast paces: a shortcut a network can read pace from.
- ``fit`` (pacepred's default): the start is drawn so that the clip fits in the video; only a
  video shorter than the clip's span wraps (it has no other way to give the clip).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Iterable, Sequence

import numpy as np

BOUNDARY_POLICIES = ("loop", "fit")


def _as_fraction(value: float | int | str | Fraction) -> Fraction:
    """Parse ``2``, ``0.5``, ``"1/3"`` or a Fraction into an exact positive Fraction."""
    try:
        pace = Fraction(value).limit_denominator(1000) if isinstance(value, float) else Fraction(value)
    except (ValueError, TypeError, ZeroDivisionError) as err:
        raise ValueError(f"pace {value!r} is not a number (expected e.g. 2, 0.5 or '1/3')") from err
    if pace <= 0:
        raise ValueError(f"pace {value!r} must be positive")
    return pace


def _pace_count(num_paces: object, minimum: int = 2) -> int:
    """``pace`` (the number of pace classes) as an int >= ``minimum``, else a ValueError naming the value."""
    if isinstance(num_paces, bool) or not isinstance(num_paces, int) or num_paces < minimum:
        raise ValueError(f"pace={num_paces!r}: the number of pace classes must be an integer >= {minimum} (e.g. pace=4; "
                         "an explicit list: pace_set=explicit pace_set.paces='[1/2,1,2]')")
    return num_paces


def fast_paces(num_paces: int) -> list[Fraction]:
    """The official code's set: paces 1..N (no slow motion). ``fast_paces(4) == [1, 2, 3, 4]``;
    ``fast_paces(1) == [1]``: natural speed only, for training on the labels (no pace task)."""
    return [Fraction(p) for p in range(1, _pace_count(num_paces, minimum=1) + 1)]


def slow_fast_paces(num_paces: int) -> list[Fraction]:
    """s = (N-1)//2 slow paces 1/(s+1) .. 1/2, then 1 .. N-s.

    ``slow_fast_paces(3) == [1/2, 1, 2]``, ``(4) == [1/2, 1, 2, 3]``, ``(5) == [1/3, 1/2, 1, 2, 3]``.
    """
    n = _pace_count(num_paces)
    num_slow = (n - 1) // 2
    slow = [Fraction(1, k) for k in range(num_slow + 1, 1, -1)]
    return slow + [Fraction(p) for p in range(1, n - num_slow + 1)]


def explicit_paces(paces: Iterable[float | int | str]) -> list[Fraction]:
    """An explicit list, e.g. ``[0.5, 1, 2, 4]`` or ``["1/3", 1, 3]``, sorted slowest first."""
    parsed = [_as_fraction(p) for p in paces]
    if not parsed:
        raise ValueError("the explicit pace list is empty")
    duplicates = sorted({str(p) for p in parsed if parsed.count(p) > 1})
    if duplicates:
        raise ValueError(f"explicit pace list {list(paces)!r} has duplicate paces: {duplicates}")
    return sorted(parsed)


def clip_span(num_samples: int, pace: Fraction) -> int:
    """Number of consecutive source frames a clip of ``num_samples`` frames covers at ``pace``."""
    return int((num_samples - 1) * pace) + 1


def clip_indices(start: int, num_samples: int, pace: Fraction, num_frames: int) -> np.ndarray:
    """Frame indices of one clip, int64 (num_samples,): ``start + floor(i * pace)`` until the next
    index would pass the last frame, then again from frame 0 at the same pace (the official code's
    loop: at pace 3 a 40-frame video gives ..., 36, 39, 0, 3, ...)."""
    indices, first, step = [], start, 0
    for _ in range(num_samples):
        indices.append(first + int(step * pace))
        if first + int((step + 1) * pace) > num_frames - 1:
            first, step = 0, 0
        else:
            step += 1
    return np.array(indices, dtype=np.int64)


def sample_start(
    num_frames: int, num_samples: int, pace: Fraction, boundary: str, rng: np.random.Generator
) -> int:
    """Draw the clip's first frame under a boundary policy (see module docstring)."""
    if num_frames < 1:
        raise ValueError(f"a video with {num_frames} frames cannot give a clip")
    if boundary == "loop":
        return int(rng.integers(num_frames))
    if boundary == "fit":
        last_start = num_frames - clip_span(num_samples, pace)
        return int(rng.integers(last_start + 1)) if last_start >= 0 else 0
    raise ValueError(f"boundary={boundary!r} is not a boundary policy; expected one of {BOUNDARY_POLICIES}")


def sample_pace_clip(
    num_frames: int,
    num_samples: int,
    pace: Fraction,
    boundary: str,
    rng: np.random.Generator,
) -> np.ndarray:
    """Indices (num_samples,) int64 of one clip at ``pace`` with a random start."""
    start = sample_start(num_frames, num_samples, pace, boundary, rng)
    return clip_indices(start, num_samples, pace, num_frames)


def draw_pace_labels(num_paces: int, num_views: int, rng: np.random.Generator) -> np.ndarray:
    """Pace labels (num_views,) int64 for the views of one video, all different from each other.

    One view: a uniform label. Two views (the contrastive setting): two different paces.
    """
    if num_views > num_paces:
        raise ValueError(f"{num_views} views need {num_views} different paces, the set has {num_paces}")
    return rng.choice(num_paces, size=num_views, replace=False).astype(np.int64)


def describe(paces: Sequence[Fraction]) -> str:
    """Human-readable pace list: ``'[1/2, 1, 2, 3]'``."""
    return "[" + ", ".join(str(p) for p in paces) + "]"
