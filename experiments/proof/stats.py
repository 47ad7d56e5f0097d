"""Intervals for the evidence benchmark: a bootstrap over seeds and test videos (pure numpy).

A condition's result is a 0/1 hit matrix (S seeds, N test videos): did seed s's network get video
v right (linear top-1, retrieval top-5, fine-tuned top-1)? Its score is the mean hit. Two sources
of chance move that score: the seed (initialisation, data order, labelled subset) and which test
videos happened to be drawn. One bootstrap resample draws S seeds and N videos with replacement,
the same draws for every condition compared (conditions share the test videos and, through the
seed, the labelled subset), and recomputes the statistic; the 95% interval is the 2.5 and 97.5
percentiles of the resampled statistics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RESAMPLES = 10_000
LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    """A statistic and its bootstrap interval, in the statistic's units."""

    value: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high}


def resample_weights(num_seeds: int, num_videos: int, resamples: int = RESAMPLES, seed: int = 0):
    """How often each seed and each video is drawn in every resample: int (R, S) and (R, N)."""
    rng = np.random.default_rng(seed)
    seeds = rng.multinomial(num_seeds, np.full(num_seeds, 1 / num_seeds), size=resamples)
    videos = rng.multinomial(num_videos, np.full(num_videos, 1 / num_videos), size=resamples)
    return seeds, videos


def resampled_means(hits: np.ndarray, seeds: np.ndarray, videos: np.ndarray) -> np.ndarray:
    """Mean hit of (S, N) ``hits`` under each resample's draws -> float (R,)."""
    hits = np.asarray(hits, dtype=np.float64)
    num_seeds, num_videos = hits.shape
    return np.einsum("rs,sn,rn->r", seeds, hits, videos) / (num_seeds * num_videos)


def _interval(value: float, resampled: np.ndarray) -> Interval:
    tail = 100 * (1 - LEVEL) / 2
    low, high = np.percentile(resampled, [tail, 100 - tail])
    return Interval(float(value), float(low), float(high))


def _check(matrices: list[np.ndarray]) -> tuple[int, int]:
    shapes = {np.shape(m) for m in matrices}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(f"hit matrices must all be (seeds, videos) of one shape, got {sorted(shapes)}")
    return next(iter(shapes))


def mean_interval(hits: np.ndarray, resamples: int = RESAMPLES, seed: int = 0) -> Interval:
    """The mean hit of (S, N) ``hits`` with its interval."""
    weights = resample_weights(*_check([hits]), resamples, seed)
    return _interval(float(np.mean(hits)), resampled_means(hits, *weights))


def difference_interval(a: np.ndarray, b: np.ndarray, resamples: int = RESAMPLES, seed: int = 0) -> Interval:
    """mean(a) - mean(b) for two (S, N) hit matrices of the same seeds and videos, with its interval."""
    weights = resample_weights(*_check([a, b]), resamples, seed)
    return _interval(float(np.mean(a) - np.mean(b)), resampled_means(a, *weights) - resampled_means(b, *weights))


def gap_share_interval(method: np.ndarray, low: np.ndarray, high: np.ndarray, resamples: int = RESAMPLES,
                       seed: int = 0) -> Interval:
    """(method - low) / (high - low): the share of the gap between a baseline ``low`` and a bound
    ``high`` that ``method`` closes, with its interval (resamples where the bound does not beat
    the baseline are left out; if more than 1% are, the interval is not meaningful: ValueError)."""
    weights = resample_weights(*_check([method, low, high]), resamples, seed)
    m, lo, hi = (resampled_means(x, *weights) for x in (method, low, high))
    gap = hi - lo
    valid = gap > 0
    if valid.mean() < 0.99:
        raise ValueError(f"the bound beats the baseline in only {100 * valid.mean():.1f}% of the resamples: "
                         "no gap to close")
    value = (np.mean(method) - np.mean(low)) / (np.mean(high) - np.mean(low))
    return _interval(float(value), (m[valid] - lo[valid]) / gap[valid])
