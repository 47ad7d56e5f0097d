"""Synthetic motion benchmark: short videos whose class is defined by motion only.

What it is
----------
A generated, deterministic-by-seed dataset written exactly like UCF101 (H.264 MP4 files in
``UCF-101/<Class>/v_<Class>_gGG_cCC.mp4`` plus ``ucfTrainTestlist/{classInd,trainlist01,
testlist01}.txt``), so it goes through the same reading path as the real data. It is the
CPU-sized default dataset of the project and the benchmark on which pace pre-training is
compared against random initialisation (linear probe, retrieval): the only thing that tells
the classes apart is *how something moves*, so a probe can only succeed with features that
encode motion direction / type.

Layout::

    <root>/UCF-101/<ClassName>/v_<ClassName>_g<GG>_c<CC>.mp4   libx264, yuv420p, config.fps
    <root>/ucfTrainTestlist/classInd.txt                       "1 MoveRight" (1-based)
    <root>/ucfTrainTestlist/trainlist01.txt                    "MoveRight/v_MoveRight_g01_c01.mp4 1"
    <root>/ucfTrainTestlist/testlist01.txt                     "MoveRight/v_MoveRight_g11_c01.mp4"
    <root>/synthetic.json                                      parameters, stats, "complete": true (last)

Group/clip names follow UCF101 (``CLIPS_PER_GROUP`` clips per group); train videos use
groups ``g01..`` and test videos the following group numbers, so train and test never share a
group. Unlike UCF101 the clips of a group do NOT share a scene: every video draws its own
appearance, because a scene shared by several training clips of one class is an appearance
shortcut a network can memorise instead of learning the motion.

Classes (label order, see :data:`CLASSES`)
------------------------------------------
``MoveRight``, ``MoveLeft``, ``MoveUp``, ``MoveDown``
    translation on a torus (the object wraps around and is drawn partially at both edges
    while crossing), so the motion is continuous for any video length.
``OrbitClockwise``, ``OrbitCounterClockwise``
    the object travels along a circle (clockwise as seen on screen, image y axis down).
``ZigZag``
    horizontal drift (left or right at random) plus a triangle-wave vertical motion.
``Oscillate``
    sinusoidal back-and-forth along a random axis.
``Expand``, ``Contract``
    the object stays in place while its (polar) texture flows radially outward / inward at
    constant speed: ``texture(r - s*t, phi)``, continuous in time, no periodic reset.
``Spin``
    the object rotates in place (direction random).
``Static``
    no object motion (only the camera jitter and pixel noise every class has).

These are the default ``class_set="directions"``. ``class_set="kinds"`` (:data:`KINDS`) makes the
classes kinds of motion whose direction is drawn per video: ``Translate`` (a straight line at
a uniform random angle), ``Orbit`` (either way), ``ZigZag``, ``Oscillate``, ``Radial`` (expand or
contract), ``Spin`` and ``Static``. Real action classes are kinds of movement more than
directions of one, and pace, which is the same in every direction, cannot tell directions apart:
on the 12 directional classes 8 of 12 are told apart by direction alone, which no pace feature
encodes (experiments/proof/README.md, "Benchmark design"). A horizontal flip keeps a kind's label.

Appearance factors (sampled independently of the class by default)
------------------------------------------------------------------
object shape (disc, square, triangle, pentagon, ring, cross), size, orientation, position,
two colours and a texture (polar checker, plaid, blobs or smooth noise, always laid out in
polar coordinates around the object centre so that rotation and radial flow are visible on
every object and a polar-looking texture is not a give-away of Spin/Expand/Contract);
background (solid, gradient, low-frequency colour noise, broad stripes); 0-3 static
distractor objects (solid, stripes, checker; some drawn in front of the moving object);
global brightness; i.i.d. per-frame sub-pixel camera jitter; i.i.d. per-pixel noise.
The start position / phase / orientation is random per video, so frame 0 alone does not
identify the class. ``typical_object_percent`` = p gives each video, independently with
probability p %, the class's own (shape, texture) pair (:func:`typical_object`), as real actions
come with typical objects (a ball, a bow, a horse); so about p % of a class's videos (a binomial
count: 30 +- 2.7 of 40 at 75 %); colours, size and everything else stay random.

Class speeds
------------
``class_speeds="uniform"`` (default): every class moves at the same typical speed. Then the
pace of a clip can be told from the amount of motion alone, which carries no class
information. ``class_speeds="ladder"``: every class has its own typical speed
(:data:`SPEED_LADDER`, 0.5x to 1.4x; :data:`KIND_SPEED_LADDER` for the kinds), as real actions
do, so telling the pace needs knowing what moves. The evidence benchmark (``experiment=proof``)
uses the kinds with the ladder and 75 % typical objects: on the uniform data pace pre-training
learns its task but no better features than random initialisation (experiments/proof/README.md).

Rules that keep pace prediction well posed
------------------------------------------
1. The typical speed is ``BASE_SPEED`` = 0.8 px/frame at size 64 (scaled with the frame
   size; times the class's ladder factor with ``class_speeds="ladder"``), with a per-video
   spread of +-10 %: the linear speed of translations, orbits and zig-zags, the RMS speed of
   oscillations, the radial speed of the texture flow and, for spins, the speed at 0.7 x the
   mean object radius. With the ladder the pace is ambiguous from the amount of motion alone
   and well posed once the motion (or its typical object) is recognised.
2. Nothing aliases at pace 4 (every 4th frame): orbit and oscillation periods, the radial
   texture period and the angular periods of textures/shapes are long enough that 4x the
   per-frame motion stays well below half a period; a 16-frame clip at pace 4 (61 frames) still
   shows a meaningful, unambiguous motion.
3. Camera jitter is i.i.d. per frame (at most 1 px), never a random walk, and distractors are
   static: otherwise the frame-difference energy would grow with the frame gap and predict the
   pace without looking at the class motion (a shortcut).
4. The videos are coded intra-only by default (``keyint=1``: every frame an I-frame). With
   P-frames the codec copies unchanged blocks from the previous frame, so adjacent decoded
   frames are far more alike (exactly equal pixels) than frames 4 apart even in a static
   scene: measured on Static videos, the mean |frame difference| grew by ~25-80 % from gap 1
   to gap 4, a pace cue that has nothing to do with motion. Intra-only costs ~6x the bytes
   (about 46 KB per 96-frame 64x64 video) and keeps that ratio at 1.0.

Cost: the default config (12 classes x 70 videos x 96 frames, 64x64) renders and encodes in
about 13 s with 2 workers on 2 CPU cores and takes about 38 MiB.

Caveat: with ``class_set="directions"`` a horizontal flip turns ``MoveLeft`` into ``MoveRight``
and clockwise into counter-clockwise (a vertical flip swaps ``MoveUp``/``MoveDown``), i.e. it
changes the label. Flip augmentation must be switched off for that class set.

Usage::

    python -m pacepred.data.synthetic --root data/synthetic --workers 2
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import math
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import numpy as np

from pacepred.data.convert import disk_size

__all__ = [
    "BASE_SPEED",
    "CLASSES",
    "GENERATOR_VERSION",
    "SyntheticConfig",
    "ensure",
    "generate",
    "render_video",
    "video_name",
    "video_rng",
]

#: Bump when the rendering changes, so cached datasets of an older generator are regenerated.
GENERATOR_VERSION = 3

CLASSES: tuple[str, ...] = (
    "MoveRight",
    "MoveLeft",
    "MoveUp",
    "MoveDown",
    "OrbitClockwise",
    "OrbitCounterClockwise",
    "ZigZag",
    "Oscillate",
    "Expand",
    "Contract",
    "Spin",
    "Static",
)

#: Typical object speed in px/frame at size 64 (scaled linearly with the frame size).
BASE_SPEED = 0.8
#: ``class_speeds="ladder"``: each class's typical speed as a multiple of BASE_SPEED, on four steps
#: (0.5, 0.7, 1.0, 1.4), as real actions have their own natural speeds. The two classes of a
#: direction pair differ by 2x, so the amount of motion alone does not tell the pace: a pace
#: predictor has to recognise the motion (its direction and kind, or its typical object) to know
#: its natural speed. Fast factors go to motions that cannot alias at pace 4 (translations,
#: orbit, oscillation; <= 4.5 px per sampled frame), spins and radial flows stay <= 1 (rule 2).
#: (A ladder of 12 different speeds, 0.5-1.4, was tried too: 24 % instead of 36 % of the
#: random-to-supervised gap closed on the linear probe, one seed; experiments/proof/README.md.)
SPEED_LADDER: dict[str, float] = {
    "MoveRight": 1.0,
    "MoveLeft": 0.5,
    "MoveUp": 0.7,
    "MoveDown": 1.4,
    "OrbitClockwise": 1.4,
    "OrbitCounterClockwise": 0.7,
    "ZigZag": 1.0,
    "Oscillate": 1.4,
    "Expand": 1.0,
    "Contract": 0.5,
    "Spin": 0.7,
    "Static": 1.0,
}
CLASS_SPEEDS = ("uniform", "ladder")

#: ``class_set="kinds"``: classes that are kinds of motion, each in a random direction per video
#: (``Translate``: a straight line at a uniform random angle; ``Orbit`` and ``Spin`` either way;
#: ``Radial``: the texture flows out or in; ``ZigZag`` drifts left or right), as real action classes
#: are kinds of movement (a throw, a swing) rather than directions of one. A pace network cannot
#: tell directions apart (a pace is the same in every direction), but it must tell the kind of
#: motion to know the class's natural speed. Every direction is drawn after the draws all classes
#: share, so frame 0 is the same for every class (as for the directions).
KINDS: tuple[str, ...] = ("Translate", "Orbit", "ZigZag", "Oscillate", "Radial", "Spin", "Static")
#: ``class_speeds="ladder"`` with ``class_set="kinds"``: the same four steps, three pairs of kinds
#: 2x apart (translation / orbit, zig-zag / radial flow, oscillation / spin), spins and radial
#: flows <= 1 (rule 2).
KIND_SPEED_LADDER: dict[str, float] = {
    "Translate": 1.4,
    "Orbit": 0.7,
    "ZigZag": 1.0,
    "Oscillate": 1.4,
    "Radial": 0.5,
    "Spin": 0.7,
    "Static": 1.0,
}
#: The class sets: their classes (label order) and ladders.
CLASS_SETS: dict[str, tuple[tuple[str, ...], dict[str, float]]] = {
    "directions": (CLASSES, SPEED_LADDER),
    "kinds": (KINDS, KIND_SPEED_LADDER),
}
#: Maximum relative per-video deviation from the typical speed.
SPEED_SPREAD = 0.10
#: Clips per group (UCF101 has 4-7); the last group of a split may be smaller.
CLIPS_PER_GROUP = 4

#: A split's id in a video's generator seed (:func:`video_rng`): parts never share a video.
_SPLIT_IDS = {"train": 0, "test": 1, "val": 2}
#: The parts in the order their groups are numbered (train g01.., then validation, then test).
PARTS = ("train", "val", "test")
#: ``clutter``: how busy the scene is. full: any of the four backgrounds and 0-3 distractors;
#: low: a solid or gradient background and 0-1 distractor; none: a solid background, no distractor.
CLUTTER_LEVELS = {"full": (("solid", "gradient", "noise", "stripes"), 3),
                  "low": (("solid", "gradient"), 1),
                  "none": (("solid",), 0)}
_MARKER = "synthetic.json"
_OWN_ENTRIES = {"UCF-101", "ucfTrainTestlist", _MARKER}


@dataclass(frozen=True)
class SyntheticConfig:
    """Parameters of the generated dataset (all of them are part of the cache key)."""

    num_train_per_class: int = 40
    num_test_per_class: int = 30
    num_frames: int = 96  # >= 64 so that a 17-frame clip at pace 4 (span 65) mostly fits
    size: int = 64  # square frames, even (H.264 / yuv420p)
    seed: int = 0
    fps: int = 25
    crf: int = 23  # libx264 constant rate factor
    keyint: int = 1  # GOP length; 1 = intra-only (no codec state shared between frames, see rule 4)
    class_speeds: str = "uniform"  # "uniform": every class at BASE_SPEED; "ladder": SPEED_LADDER (KIND_SPEED_LADDER for the kinds)
    typical_object_percent: int = 0  # chance in % that a video's object is its class's typical one
    class_set: str = "directions"  # "directions": CLASSES (12); "kinds": KINDS (7 kinds, random directions)
    num_val_per_class: int = 0  # a validation part (vallist01.txt) between train and test; 0: none
    val_seed: int | None = None  # the validation part's generator seed; None: seed
    test_seed: int | None = None  # the test part's generator seed; None: seed
    clutter: str = "full"  # full | low | none: the scene's backgrounds and distractors (CLUTTER_LEVELS)
    motion_scale: float = 1.0  # every class's typical speed times this (1.0: BASE_SPEED and its ladder)
    object_scale: float = 1.0  # the moving object's radius times this (1.0: 0.14-0.20 of the frame)

    def __post_init__(self) -> None:
        if self.num_train_per_class < 1 or self.num_test_per_class < 0 or self.num_val_per_class < 0:
            raise ValueError("need num_train_per_class >= 1, num_test_per_class >= 0 and num_val_per_class >= 0")
        for name in ("val_seed", "test_seed"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0 or None, got {value}")
        if not 0 < self.motion_scale <= 2:
            raise ValueError(f"motion_scale must be in (0, 2], got {self.motion_scale}")
        if not 0 < self.object_scale <= 1.5:  # a larger object's window would wrap onto itself
            raise ValueError(f"object_scale must be in (0, 1.5], got {self.object_scale}")
        if self.clutter not in CLUTTER_LEVELS:
            raise ValueError(f"clutter must be one of {tuple(CLUTTER_LEVELS)}, got {self.clutter!r}")
        if self.num_frames < 2:
            raise ValueError(f"num_frames must be >= 2, got {self.num_frames}")
        if self.size < 16 or self.size % 2:
            raise ValueError(f"size must be an even number >= 16, got {self.size}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        if self.fps < 1:
            raise ValueError(f"fps must be >= 1, got {self.fps}")
        if not 0 <= self.crf <= 51:
            raise ValueError(f"crf must be in [0, 51], got {self.crf}")
        if self.keyint < 1:
            raise ValueError(f"keyint must be >= 1, got {self.keyint}")
        if self.class_speeds not in CLASS_SPEEDS:
            raise ValueError(f"class_speeds must be one of {CLASS_SPEEDS}, got {self.class_speeds!r}")
        if not 0 <= self.typical_object_percent <= 100:
            raise ValueError(f"typical_object_percent must be in [0, 100], got {self.typical_object_percent}")
        if self.class_set not in CLASS_SETS:
            raise ValueError(f"class_set must be one of {tuple(CLASS_SETS)}, got {self.class_set!r}")

    def part_seed(self, part: str) -> int:
        """The generator seed of ``part`` ('train', 'val' or 'test')."""
        own = {"train": self.seed, "val": self.val_seed, "test": self.test_seed}[part]
        return self.seed if own is None else own

    def part_size(self, part: str) -> int:
        """Videos per class of ``part``."""
        return {"train": self.num_train_per_class, "val": self.num_val_per_class,
                "test": self.num_test_per_class}[part]

    @property
    def classes(self) -> tuple[str, ...]:
        """The class names in label order."""
        return CLASS_SETS[self.class_set][0]

    def speed_factor(self, class_name: str) -> float:
        """The class's typical speed relative to BASE_SPEED (its ladder step times ``motion_scale``)."""
        return (CLASS_SETS[self.class_set][1][class_name] if self.class_speeds == "ladder" else 1.0) * self.motion_scale

    @classmethod
    def from_any(cls, config: "SyntheticConfig | Mapping | None") -> "SyntheticConfig":
        """Accept a config, a mapping (e.g. a Hydra/OmegaConf node) or None (defaults)."""
        if config is None:
            return cls()
        if isinstance(config, cls):
            return config
        if not isinstance(config, Mapping):
            try:  # OmegaConf DictConfig without importing omegaconf here
                config = dict(config.items())  # type: ignore[union-attr]
            except AttributeError as err:
                raise TypeError(f"cannot build a SyntheticConfig from {type(config).__name__}") from err
        known = {f.name for f in fields(cls)}
        unknown = set(config) - known
        if unknown:
            raise TypeError(f"unknown SyntheticConfig fields: {sorted(unknown)}")
        types = {f.name: f.type for f in fields(cls)}
        def convert(key, value):
            if value is None or types[key] == "str":
                return None if value is None else str(value)
            return float(value) if types[key] == "float" else int(value)

        return cls(**{k: convert(k, v) for k, v in config.items()})


# ---------------------------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------------------------

_SHAPES = ("disc", "square", "triangle", "pentagon", "ring", "cross")
_OBJECT_TEXTURES = ("checker", "plaid", "blobs", "noise")
_BACKGROUNDS = ("solid", "gradient", "noise", "stripes")
_DISTRACTOR_TEXTURES = ("solid", "stripes", "checker")


def _polygon_sdf(u: np.ndarray, v: np.ndarray, sides: int, apothem: float) -> np.ndarray:
    """Approximate signed distance (exact on the edges' supporting lines) to a regular polygon."""
    out = None
    for k in range(sides):
        ang = 2.0 * math.pi * k / sides - math.pi / 2.0
        d = u * math.cos(ang) + v * math.sin(ang) - apothem
        out = d if out is None else np.maximum(out, d)
    return out


def _shape_sdf(shape: str, u: np.ndarray, v: np.ndarray, radius: float) -> np.ndarray:
    """Signed distance in pixels (negative inside) of a shape of circumradius ~``radius``."""
    if shape == "disc":
        return np.sqrt(u * u + v * v) - radius
    if shape == "square":
        return np.maximum(np.abs(u), np.abs(v)) - 0.8 * radius
    if shape == "triangle":
        return _polygon_sdf(u, v, 3, 0.6 * radius)
    if shape == "pentagon":
        return _polygon_sdf(u, v, 5, 0.85 * radius)
    if shape == "ring":
        return np.abs(np.sqrt(u * u + v * v) - 0.68 * radius) - 0.32 * radius
    if shape == "cross":
        au, av_ = np.abs(u), np.abs(v)
        arm, half = 0.95 * radius, 0.38 * radius
        return np.minimum(np.maximum(au - arm, av_ - half), np.maximum(au - half, av_ - arm))
    raise ValueError(shape)


def _coverage(sdf: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage from a signed distance (1 px soft edge)."""
    return np.clip(0.5 - sdf, 0.0, 1.0)


def _bilinear_periodic(grid: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sample ``grid`` (Na, Nb[, C]) bilinearly at fractional cell coordinates, wrapping both axes."""
    na, nb = grid.shape[:2]
    a0 = np.floor(a)
    b0 = np.floor(b)
    fa = (a - a0).astype(np.float32)
    fb = (b - b0).astype(np.float32)
    i0 = np.mod(a0.astype(np.int64), na)
    j0 = np.mod(b0.astype(np.int64), nb)
    i1 = np.where(i0 + 1 == na, 0, i0 + 1)
    j1 = np.where(j0 + 1 == nb, 0, j0 + 1)
    if grid.ndim == 3:
        fa = fa[..., None]
        fb = fb[..., None]
    top = grid[i0, j0] * (1 - fb) + grid[i0, j1] * fb
    bottom = grid[i1, j0] * (1 - fb) + grid[i1, j1] * fb
    return top * (1 - fa) + bottom * fa


def _smooth_noise_grid(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Periodic noise in [0, 1] with a 1-2-1 blur along both axes (no single-cell spikes)."""
    g = rng.standard_normal(shape)
    for axis in (0, 1):
        g = 0.25 * np.roll(g, 1, axis) + 0.5 * g + 0.25 * np.roll(g, -1, axis)
    g = (g - g.min()) / max(g.max() - g.min(), 1e-6)
    return g.astype(np.float32)


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0.0, 255.0, size=3).astype(np.float32)


def _luma(c: np.ndarray) -> float:
    return float(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2])


def _sample_background(rng: np.random.Generator, size: int, kinds: tuple[str, ...] = _BACKGROUNDS) -> dict:
    kind = kinds[rng.integers(len(kinds))]
    bg = {"kind": kind, "c1": _random_colour(rng), "c2": _random_colour(rng)}
    if kind == "gradient":
        ang = rng.uniform(0, 2 * math.pi)
        bg["dir"] = (math.cos(ang), math.sin(ang))
    elif kind == "noise":
        k = int(rng.integers(3, 6))
        bg["grid"] = rng.uniform(0.0, 255.0, size=(k, k, 3)).astype(np.float32)
    elif kind == "stripes":
        ang = rng.uniform(0, math.pi)
        bg["dir"] = (math.cos(ang), math.sin(ang))
        bg["period"] = rng.uniform(0.25, 0.5) * size
        bg["phase"] = rng.uniform(0, 2 * math.pi)
    return bg


def _render_background(bg: dict, xs: np.ndarray, ys: np.ndarray, size: int, shape: tuple) -> list[np.ndarray]:
    """Background planes [R, G, B], each (T, S, S) float32, at the jittered pixel coordinates."""
    kind, c1, c2 = bg["kind"], bg["c1"], bg["c2"]
    if kind == "solid":
        return [np.full(shape, c1[c], dtype=np.float32) for c in range(3)]
    if kind == "noise":
        grid = bg["grid"]
        k = grid.shape[0]
        nodes = np.arange(k, dtype=np.float32)

        def hat(coord):  # (T, S) coordinates -> (T, S, k) linear interpolation weights
            pos = np.clip(coord / size * (k - 1), 0.0, k - 1.0)
            return np.maximum(0.0, 1.0 - np.abs(pos[..., None] - nodes)).astype(np.float32)

        wy = hat(ys[:, :, 0])  # (T, S, k)
        wx = hat(xs[:, 0, :])  # (T, S, k)
        return [np.matmul(wy @ grid[:, :, c], wx.transpose(0, 2, 1)) for c in range(3)]
    dx, dy = bg["dir"]
    if kind == "gradient":
        m = np.clip(((xs - size / 2) * dx + (ys - size / 2) * dy) / size + 0.5, 0.0, 1.0)
    else:  # stripes
        m = 0.5 + 0.5 * np.tanh(2.0 * np.sin(2 * math.pi * (xs * dx + ys * dy) / bg["period"] + bg["phase"]))
    m = np.broadcast_to(m.astype(np.float32), shape)
    return [c1[c] + (c2[c] - c1[c]) * m for c in range(3)]


def _sprite_window(cx: np.ndarray, cy: np.ndarray, jitter: np.ndarray, half: int, size: int):
    """Per-frame square window of side ``2 * half + 2`` around a sprite centre on the torus.

    Returns the pixel-centre offsets from the sprite centre ``dx`` (T, 1, W), ``dy`` (T, W, 1)
    (float32, already torus-wrapped) and the flat indices (T, W, W) of the window pixels in a
    (T, S, S) plane. Requires W <= S so that no pixel appears twice in a frame.
    """
    w = 2 * half + 2
    k = np.arange(w)
    jx, jy = jitter[:, 0], jitter[:, 1]
    # screen pixel p shows scene coordinate p + 0.5 + j; pick unwrapped columns around the centre
    px = np.floor(cx - jx).astype(np.int64)[:, None] - half + k  # (T, W)
    py = np.floor(cy - jy).astype(np.int64)[:, None] - half + k
    dx = (px + 0.5 + (jx - cx)[:, None]).astype(np.float32)[:, None, :]
    dy = (py + 0.5 + (jy - cy)[:, None]).astype(np.float32)[:, :, None]
    t = np.arange(len(cx), dtype=np.int64)[:, None, None] * (size * size)
    flat = t + np.mod(py, size)[:, :, None] * size + np.mod(px, size)[:, None, :]
    return dx, dy, flat


def _composite(planes: list[np.ndarray], flat: np.ndarray, alpha: np.ndarray, colour: list) -> None:
    """Alpha-blend ``colour`` (per channel: scalar or (T, W, W)) into the window ``flat`` in place."""
    for c in range(3):
        region = np.take(planes[c], flat)
        region += alpha * (colour[c] - region)
        np.put(planes[c], flat, region)


def _extent(radius: float) -> int:
    # every shape lies within 1.2 x its radius (triangle circumradius), plus 1 px soft edge
    return int(math.ceil(1.2 * radius)) + 1


def _sample_distractor(rng: np.random.Generator, size: int) -> dict:
    return {
        "shape": _SHAPES[rng.integers(len(_SHAPES))],
        "texture": _DISTRACTOR_TEXTURES[rng.integers(len(_DISTRACTOR_TEXTURES))],
        "radius": rng.uniform(0.06, 0.12) * size,
        "x": rng.uniform(0, size),
        "y": rng.uniform(0, size),
        "angle": rng.uniform(0, 2 * math.pi),
        "c1": _random_colour(rng),
        "c2": _random_colour(rng),
        "period": rng.uniform(0.05, 0.09) * size,
        "front": bool(rng.random() < 0.3),
    }


def _draw_distractor(planes: list[np.ndarray], d: dict, jitter: np.ndarray, size: int) -> None:
    t = len(jitter)
    cx = np.full(t, d["x"])
    cy = np.full(t, d["y"])
    dx, dy, flat = _sprite_window(cx, cy, jitter, _extent(d["radius"]), size)
    ca, sa = math.cos(d["angle"]), math.sin(d["angle"])
    u = dx * ca + dy * sa
    v = dy * ca - dx * sa
    alpha = _coverage(_shape_sdf(d["shape"], u, v, d["radius"]))
    c1, c2 = d["c1"], d["c2"]
    if d["texture"] == "solid":
        colour = [c1[c] for c in range(3)]
    else:
        w = 2 * math.pi / d["period"]
        if d["texture"] == "stripes":
            m = 0.5 + 0.5 * np.tanh(3.0 * np.sin(w * u))
        else:
            m = 0.5 + 0.5 * np.tanh(3.0 * np.sin(w * u) * np.sin(w * v))
        colour = [c1[c] + (c2[c] - c1[c]) * m for c in range(3)]
    _composite(planes, flat, alpha, colour)


def _background_mean(bg: dict) -> np.ndarray:
    if bg["kind"] == "solid":
        return bg["c1"]
    if bg["kind"] == "noise":
        return bg["grid"].reshape(-1, 3).mean(0)
    return 0.5 * (bg["c1"] + bg["c2"])


def _sample_object(rng: np.random.Generator, size: int, scale: float, bg_mean: np.ndarray,
                   object_scale: float = 1.0) -> dict:
    obj = {
        "shape": _SHAPES[rng.integers(len(_SHAPES))],
        "texture": _OBJECT_TEXTURES[rng.integers(len(_OBJECT_TEXTURES))],
        "radius": rng.uniform(0.14, 0.20) * size * object_scale,
        # radial period >= 9 px at size 64: at pace 4 the radial flow moves <= 3.5 px per frame,
        # below half a period (no aliasing of Expand / Contract)
        "radial_period": rng.uniform(9.0, 13.0) * scale,
        # angular periods 2*pi/n with n <= 5: at pace 4 a spin turns <= 0.47 rad per frame < pi/5
        "sectors": int(rng.integers(3, 6)),
        "angular_phase": rng.uniform(0, 2 * math.pi),
        "radial_phase": rng.uniform(0, 100.0),
        "noise": _smooth_noise_grid(rng, (12, 8)),
    }
    # two texture colours with enough contrast that internal motion (spin, radial flow) shows,
    # and an object colour distinguishable from the background
    for _ in range(1000):
        c1, c2 = _random_colour(rng), _random_colour(rng)
        if (
            np.abs(c1 - c2).sum() >= 150
            and abs(_luma(c1) - _luma(c2)) >= 40
            and np.abs(0.5 * (c1 + c2) - bg_mean).sum() >= 60
        ):
            break
    obj["c1"], obj["c2"] = c1, c2
    return obj


def _object_texture(obj: dict, r: np.ndarray, phi: np.ndarray, radial_shift: np.ndarray) -> np.ndarray:
    """Texture mix in [0, 1] laid out in polar coordinates (r - radial_shift, phi)."""
    a = r - radial_shift + obj["radial_phase"]
    ang = phi + obj["angular_phase"]
    kind = obj["texture"]
    if kind == "noise":
        nb = obj["noise"].shape[1]
        cell = obj["radial_period"] / 2.0
        return _bilinear_periodic(obj["noise"], a / cell, ang * (nb / (2 * math.pi)))
    sr = np.sin(a * (2 * math.pi / obj["radial_period"]))
    sa = np.sin(ang * obj["sectors"])
    if kind == "checker":
        return 0.5 + 0.5 * np.tanh(4.0 * sr * sa)
    if kind == "plaid":
        return 0.5 + 0.25 * (sr + sa)
    if kind == "blobs":
        return 0.5 + 0.5 * np.tanh(6.0 * (sr * sa - 0.3))
    raise ValueError(kind)


def _random_sign(rng: np.random.Generator) -> float:
    """+1.0 or -1.0 with equal chance (one draw): a direction of a motion."""
    return 1.0 if rng.random() < 0.5 else -1.0


def _trajectory(class_name: str, rng: np.random.Generator, num_frames: int, size: int, speed_factor: float) -> dict:
    """Per-frame object centre (x, y), orientation and radial texture shift for one class.

    The object position at frame 0 is uniform on the torus and the orientation uniform for every
    class; the class only determines how these evolve. ``speed`` is the per-video typical speed,
    ``speed_factor`` times BASE_SPEED (+- SPEED_SPREAD).
    """
    t = np.arange(num_frames, dtype=np.float64)
    scale = size / 64.0
    speed = BASE_SPEED * speed_factor * scale * rng.uniform(1 - SPEED_SPREAD, 1 + SPEED_SPREAD)
    x0, y0 = rng.uniform(0, size, size=2)
    theta0 = rng.uniform(0, 2 * math.pi)
    x = np.full_like(t, x0)
    y = np.full_like(t, y0)
    theta = np.full_like(t, theta0)
    radial = np.zeros_like(t)
    if class_name == "Translate":  # class_set="kinds": a straight line at a random angle
        angle = rng.uniform(0, 2 * math.pi)
        x = x0 + speed * math.cos(angle) * t
        y = y0 + speed * math.sin(angle) * t
    elif class_name == "MoveRight":
        x = x0 + speed * t
    elif class_name == "MoveLeft":
        x = x0 - speed * t
    elif class_name == "MoveUp":
        y = y0 - speed * t
    elif class_name == "MoveDown":
        y = y0 + speed * t
    elif class_name in ("OrbitClockwise", "OrbitCounterClockwise", "Orbit"):
        # radius 11.5-17.9 px at size 64: period >= 80 frames, <= 0.31 rad per frame at pace 4
        rho = rng.uniform(0.18, 0.28) * size
        psi0 = rng.uniform(0, 2 * math.pi)
        if class_name == "Orbit":  # class_set="kinds": either way
            sign = _random_sign(rng)
        else:
            sign = 1.0 if class_name == "OrbitClockwise" else -1.0  # y axis points down
        psi = psi0 + sign * (speed / rho) * t
        x = x0 + rho * (np.cos(psi) - math.cos(psi0))
        y = y0 + rho * (np.sin(psi) - math.sin(psi0))
    elif class_name == "ZigZag":
        direction = _random_sign(rng)
        amp = rng.uniform(0.10, 0.16) * size  # triangle wave period 4*amp/(speed/sqrt2) >= 45 frames
        comp = speed / math.sqrt(2.0)
        p0 = rng.uniform(0, 4 * amp)

        def tri(p):
            return np.abs(np.mod(p, 4 * amp) - 2 * amp) - amp

        x = x0 + direction * comp * t
        y = y0 + tri(p0 + comp * t) - tri(p0)
    elif class_name == "Oscillate":
        beta = rng.uniform(0, math.pi)
        amp = rng.uniform(0.12, 0.20) * size
        omega = math.sqrt(2.0) * speed / amp  # RMS speed == speed; period >= 49 frames
        ph0 = rng.uniform(0, 2 * math.pi)
        disp = amp * (np.sin(ph0 + omega * t) - math.sin(ph0))
        x = x0 + disp * math.cos(beta)
        y = y0 + disp * math.sin(beta)
    elif class_name in ("Expand", "Contract", "Radial"):
        if class_name == "Radial":  # class_set="kinds": out or in
            sign = _random_sign(rng)
        else:
            sign = 1.0 if class_name == "Expand" else -1.0
        radial = sign * speed * t
    elif class_name == "Spin":
        sign = _random_sign(rng)
        radius = _spin_reference_radius(size)
        theta = theta0 + sign * (speed / radius) * t
    elif class_name == "Static":
        pass
    else:
        raise ValueError(f"unknown motion {class_name!r}")
    return {
        "x": np.mod(x, size),
        "y": np.mod(y, size),
        "theta": theta,
        "radial": radial,
        "speed": speed,
    }


def typical_object(class_name: str, class_set: str = "directions") -> tuple[str, str]:
    """The (shape, texture) a class's object has in ``typical_object_percent`` % of its videos:
    a different pair for every class of a class set, as real actions come with typical objects."""
    i = CLASS_SETS[class_set][0].index(class_name)
    return _SHAPES[i % len(_SHAPES)], _OBJECT_TEXTURES[i % 2 + 2 * (i // len(_SHAPES))]


def _spin_reference_radius(size: int) -> float:
    # 0.7 x the mean object radius (0.17 * size): the spin speed there equals the typical speed
    return 0.7 * 0.17 * size


def render_video(
    class_name: str,
    rng: np.random.Generator,
    num_frames: int,
    size: int,
    speed_factor: float = 1.0,
    typical_object_percent: int = 0,
    class_set: str = "directions",
    clutter: str = "full",
    object_scale: float = 1.0,
) -> np.ndarray:
    """Render one video of ``class_name``: uint8 array (T, H, W, 3), RGB, H = W = ``size``;
    the object moves at ``speed_factor`` times the typical speed; ``clutter`` picks the scene's
    backgrounds and most distractors (:data:`CLUTTER_LEVELS`); ``object_scale`` the object's size.

    Pure: the output depends only on the arguments (and the generator's state). All appearance
    and camera draws come before the motion draws, so two videos of different classes rendered
    from equally seeded generators share scene, object, jitter and noise and differ only in motion.
    """
    classes = CLASS_SETS[class_set][0]
    if class_name not in classes:
        raise ValueError(f"unknown class {class_name!r} of class_set {class_set!r}; expected one of {classes}")
    if size % 2 or size < 16:
        raise ValueError(f"size must be an even number >= 16, got {size}")
    T, S = int(num_frames), int(size)
    scale = S / 64.0

    # ---- scene -------------------------------------------------------------------------------
    backgrounds, most_distractors = CLUTTER_LEVELS[clutter]
    bg = _sample_background(rng, S, backgrounds)
    count = int(rng.integers(0, most_distractors + 1)) if most_distractors else 0
    distractors = [_sample_distractor(rng, S) for _ in range(count)]

    # ---- object appearance and camera (per video, class independent) ----------------------
    obj = _sample_object(rng, S, scale, _background_mean(bg), object_scale)
    brightness = rng.uniform(0.75, 1.25)
    jitter_std = rng.uniform(0.0, 0.4) * scale
    jitter = np.clip(rng.normal(0.0, 1.0, size=(T, 2)) * jitter_std, -1.0, 1.0)  # i.i.d. per frame
    noise_std = rng.uniform(0.0, 4.0)
    noise_seed = int(rng.integers(2**63 - 1))

    # ---- motion (the only class-dependent part) --------------------------------------------
    traj = _trajectory(class_name, rng, T, S, speed_factor)
    if typical_object_percent and rng.random() * 100 < typical_object_percent:
        obj["shape"], obj["texture"] = typical_object(class_name, class_set)

    # ---- draw --------------------------------------------------------------------------------
    pix = np.arange(S, dtype=np.float32) + 0.5
    xs = pix[None, None, :] + jitter[:, 0, None, None].astype(np.float32)  # (T, 1, S)
    ys = pix[None, :, None] + jitter[:, 1, None, None].astype(np.float32)  # (T, S, 1)
    planes = _render_background(bg, xs, ys, S, (T, S, S))
    planes = [np.array(p, dtype=np.float32, copy=True) for p in planes]
    for d in distractors:
        if not d["front"]:
            _draw_distractor(planes, d, jitter, S)

    dx, dy, flat = _sprite_window(traj["x"], traj["y"], jitter, _extent(obj["radius"]), S)
    ct = np.cos(traj["theta"]).astype(np.float32)[:, None, None]
    st = np.sin(traj["theta"]).astype(np.float32)[:, None, None]
    u = dx * ct + dy * st
    v = dy * ct - dx * st
    alpha = _coverage(_shape_sdf(obj["shape"], u, v, obj["radius"]))
    r = np.sqrt(u * u + v * v)
    phi = np.arctan2(v, u)
    m = _object_texture(obj, r, phi, traj["radial"].astype(np.float32)[:, None, None])
    c1, c2 = obj["c1"], obj["c2"]
    _composite(planes, flat, alpha, [c1[c] + (c2[c] - c1[c]) * m for c in range(3)])

    for d in distractors:
        if d["front"]:
            _draw_distractor(planes, d, jitter, S)

    out = np.empty((T, S, S, 3), dtype=np.uint8)
    noise_rng = np.random.default_rng(noise_seed)
    amp = np.float32(noise_std * math.sqrt(12.0))  # uniform noise with standard deviation noise_std
    for c in range(3):
        plane = planes[c]
        plane *= np.float32(brightness)
        if noise_std > 0:
            plane += (noise_rng.random((T, S, S), dtype=np.float32) - np.float32(0.5)) * amp
        plane += np.float32(0.5)
        np.clip(plane, 0, 255, out=plane)
        out[..., c] = plane
    return out


# ---------------------------------------------------------------------------------------------
# encoding and dataset layout
# ---------------------------------------------------------------------------------------------


def encode_mp4(path: str | Path, frames: np.ndarray, fps: int = 25, crf: int = 23, keyint: int = 1) -> int:
    """Write uint8 RGB frames (T, H, W, 3) as H.264 (libx264, yuv420p); returns the packet count.

    ``keyint`` is the GOP length (1: every frame is an I-frame).
    """
    import av

    frames = np.ascontiguousarray(frames)
    t, h, w, _ = frames.shape
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=int(fps))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {
            "crf": str(int(crf)),
            "preset": "veryfast",
            "threads": "1",
            "x264-params": f"keyint={int(keyint)}:min-keyint={int(keyint)}:scenecut=0",
        }
        stream.codec_context.thread_count = 1
        for i in range(t):
            vf = av.VideoFrame.from_ndarray(frames[i], format="rgb24")
            vf.pts = i
            for packet in stream.encode(vf):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with av.open(str(path)) as container:
        return sum(1 for p in container.demux(video=0) if p.size)


def video_name(class_name: str, group: int, clip: int) -> str:
    return f"v_{class_name}_g{group:02d}_c{clip:02d}.mp4"


def _jobs(config: SyntheticConfig) -> list[tuple]:
    """(part, class index, index in part/class, group, clip) for every video; the parts' groups
    follow each other (train g01.., then validation, then test), so no group spans two parts."""
    jobs, first_group = [], 1
    for part in PARTS:
        count = config.part_size(part)
        for ci in range(len(config.classes)):
            for i in range(count):
                jobs.append((part, ci, i, first_group + i // CLIPS_PER_GROUP, 1 + i % CLIPS_PER_GROUP))
        first_group += math.ceil(count / CLIPS_PER_GROUP)
    return jobs


def video_rng(seed: int, split: str, class_index: int, index: int) -> np.random.Generator:
    """The generator of one video, from (its part's seed, split, class, index): independent of the
    worker count, and of the other parts' sizes and seeds."""
    return np.random.default_rng([seed, _SPLIT_IDS[split], class_index, index])


def _make_video(args: tuple) -> tuple[str, int, int]:
    out_dir, config_dict, (split, ci, index, group, clip) = args
    config = SyntheticConfig(**config_dict)
    class_name = config.classes[ci]
    rng = video_rng(config.part_seed(split), split, ci, index)
    frames = render_video(class_name, rng, config.num_frames, config.size, config.speed_factor(class_name),
                          config.typical_object_percent, config.class_set, config.clutter, config.object_scale)
    rel = f"{class_name}/{video_name(class_name, group, clip)}"
    path = Path(out_dir) / "UCF-101" / rel
    packets = encode_mp4(path, frames, fps=config.fps, crf=config.crf, keyint=config.keyint)
    return rel, packets, path.stat().st_size


def _params(config: SyntheticConfig) -> dict:
    return {
        "generator": "pacepred.data.synthetic",
        "version": GENERATOR_VERSION,
        "config": asdict(config),
        "classes": list(config.classes),
        # the speeds themselves, so that a changed table never reuses videos rendered with another
        "class_speed_factors": {name: config.speed_factor(name) for name in config.classes},
    }


def _read_marker(root: Path) -> dict | None:
    try:
        with open(root / _MARKER) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _is_cached(root: Path, params: dict) -> bool:
    meta = _read_marker(root)
    if meta is None or meta.get("complete") is not True:
        return False
    if any(meta.get(k) != v for k, v in params.items()):
        return False
    lists = root / "ucfTrainTestlist"
    return all((lists / n).is_file() for n in ("classInd.txt", *_list_names(SyntheticConfig.from_any(meta["config"]))))


def _list_names(config: SyntheticConfig) -> list[str]:
    """The split lists the dataset has: train and test, and val when it has a validation part."""
    return [f"{part}list01.txt" for part in PARTS if part != "val" or config.num_val_per_class]


def _write_json(path: Path, obj: dict) -> None:
    part = path.with_name(path.name + ".part")
    with open(part, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(part, path)


@contextlib.contextmanager
def _lock(root: Path):
    """Exclusive inter-process lock next to ``root`` (several ranks may call ``ensure`` at once)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield
        return
    lock_path = root.parent / f".{root.name}.lock"
    with open(lock_path, "a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _pool_context():
    # Never fork: the caller is often a multi-threaded training process (torch, Lightning,
    # submitit), and forking it can deadlock the children on a lock held by another thread.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _render_all(out: Path, config: SyntheticConfig, workers: int) -> tuple[list, int]:
    jobs = _jobs(config)
    for name in config.classes:
        (out / "UCF-101" / name).mkdir(parents=True, exist_ok=True)
    cfg = asdict(config)
    tasks = [(str(out), cfg, job) for job in jobs]
    if workers <= 1 or len(tasks) <= 1:
        results = [_make_video(t) for t in tasks]
    else:
        with _pool_context().Pool(processes=min(workers, len(tasks))) as pool:
            results = pool.map(_make_video, tasks, chunksize=max(1, min(16, len(tasks) // (8 * workers))))
    bad = [(rel, n) for rel, n, _ in results if n != config.num_frames]
    if bad:
        raise RuntimeError(f"encoder wrote a wrong frame count, e.g. {bad[0][0]}: {bad[0][1]} != {config.num_frames}")
    return jobs, sum(b for _, _, b in results)


def _write_lists(out: Path, config: SyntheticConfig, jobs: list) -> None:
    lists = out / "ucfTrainTestlist"
    lists.mkdir(parents=True, exist_ok=True)
    classes = config.classes
    (lists / "classInd.txt").write_text("".join(f"{i + 1} {c}\n" for i, c in enumerate(classes)))
    lines: dict[str, list[str]] = {part: [] for part in PARTS}
    for part, ci, _, group, clip in jobs:
        rel = f"{classes[ci]}/{video_name(classes[ci], group, clip)}"
        lines[part].append(f"{rel} {ci + 1}\n" if part == "train" else f"{rel}\n")  # as UCF101: labels in train only
    for name in _list_names(config):
        (lists / name).write_text("".join(lines[name[: -len("list01.txt")]]))


def _check_replaceable(root: Path) -> None:
    if not root.exists():
        return
    if not root.is_dir():
        raise FileExistsError(f"{root} exists and is not a directory")
    foreign = sorted(p.name for p in root.iterdir() if p.name not in _OWN_ENTRIES)
    if foreign:
        raise FileExistsError(
            f"{root} holds files that are not a synthetic dataset ({', '.join(foreign[:5])}); "
            "refusing to replace it (pass overwrite=True or choose another root)"
        )


def _generate(root, config, workers: int, overwrite: bool) -> tuple[Path, bool, dict]:
    root = Path(root).expanduser().absolute()
    config = SyntheticConfig.from_any(config)
    params = _params(config)
    if not overwrite and _is_cached(root, params):
        return root, True, _read_marker(root) or {}
    root.parent.mkdir(parents=True, exist_ok=True)
    with _lock(root):
        if not overwrite and _is_cached(root, params):  # another process finished meanwhile
            return root, True, _read_marker(root) or {}
        if not overwrite:
            _check_replaceable(root)
        # leftovers of interrupted runs (we hold the lock, so nobody else is writing them)
        for stale in root.parent.glob(f".{glob.escape(root.name)}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        start = time.perf_counter()
        tmp = root.parent / f".{root.name}.tmp-{uuid.uuid4().hex[:8]}"
        old = None
        try:
            tmp.mkdir()  # not mkdtemp: the dataset folder gets the usual (umask) permissions
            _write_json(tmp / _MARKER, {**params, "complete": False})
            jobs, num_bytes = _render_all(tmp, config, max(1, int(workers)))
            _write_lists(tmp, config, jobs)
            seconds = time.perf_counter() - start
            meta = {
                **params,
                "num_videos": {part: config.part_size(part) * len(config.classes) for part in PARTS},
                "video_bytes": int(num_bytes),
                "seconds": round(seconds, 2),
                "workers": int(workers),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "complete": True,  # written last
            }
            _write_json(tmp / _MARKER, meta)
            if root.exists():
                old = root.parent / f".{root.name}.tmp-old-{uuid.uuid4().hex[:8]}"
                os.rename(root, old)
            os.rename(tmp, root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return root, False, meta


def generate(
    root: str | Path,
    config: SyntheticConfig | Mapping | None = SyntheticConfig(),
    workers: int = 2,
    overwrite: bool = False,
) -> Path:
    """Write the dataset under ``root`` (UCF101 layout) and return ``root``.

    If ``root/synthetic.json`` exists, says ``"complete": true`` and records the same parameters
    (generator version, config, classes), nothing is written (cached). Otherwise the dataset is
    rendered into a temporary folder next to ``root`` and renamed into place, so an interrupted
    run never leaves a half dataset that looks complete. ``overwrite=True`` always regenerates.
    A non-empty ``root`` that is not a synthetic dataset is never replaced unless ``overwrite``.
    """
    return _generate(root, config, workers, overwrite)[0]


def ensure(root: str | Path, config: SyntheticConfig | Mapping | None = None, workers: int = 2) -> Path:
    """Generate on first use, else reuse; prints one line saying which."""
    root_path, cached, meta = _generate(root, config, workers, overwrite=False)
    n = meta.get("num_videos", {})
    videos = " / ".join(f"{n.get(part, '?')} {part}" for part in PARTS if n.get(part, 1)) + " videos"
    if cached:
        print(f"[synthetic] reusing {root_path} ({videos})", flush=True)
    else:
        print(f"[synthetic] generated {root_path} ({videos}, {meta.get('seconds', 0):.1f} s)", flush=True)
    return root_path


def main(argv: list[str] | None = None) -> int:
    defaults = SyntheticConfig()
    p = argparse.ArgumentParser(prog="python -m pacepred.data.synthetic", description=__doc__.splitlines()[0])
    p.add_argument("--root", required=True, help="output folder (UCF101 layout)")
    p.add_argument("--train-per-class", type=int, default=defaults.num_train_per_class)
    p.add_argument("--test-per-class", type=int, default=defaults.num_test_per_class)
    p.add_argument("--size", type=int, default=defaults.size)
    p.add_argument("--frames", type=int, default=defaults.num_frames)
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--fps", type=int, default=defaults.fps)
    p.add_argument("--crf", type=int, default=defaults.crf)
    p.add_argument("--keyint", type=int, default=defaults.keyint, help="GOP length; 1 = intra-only")
    p.add_argument("--class-speeds", choices=CLASS_SPEEDS, default=defaults.class_speeds,
                   help="uniform: every class at the same typical speed; ladder: per-class speeds")
    p.add_argument("--typical-object-percent", type=int, default=defaults.typical_object_percent,
                   help="%% of a class's videos whose object has the class's typical shape and texture")
    p.add_argument("--class-set", choices=tuple(CLASS_SETS), default=defaults.class_set,
                   help="directions: 12 motions, directions apart; kinds: 7 kinds of motion, random directions")
    p.add_argument("--val-per-class", type=int, default=defaults.num_val_per_class,
                   help="videos per class of a validation part (vallist01.txt); 0: none")
    p.add_argument("--val-seed", type=int, default=None, help="the validation part's seed (default: --seed)")
    p.add_argument("--test-seed", type=int, default=None, help="the test part's seed (default: --seed)")
    p.add_argument("--clutter", choices=tuple(CLUTTER_LEVELS), default=defaults.clutter,
                   help="full: four kinds of background, 0-3 distractors; low: solid or gradient, 0-1; none: solid, 0")
    p.add_argument("--config", default=None, help="every SyntheticConfig field as a JSON object (replaces the options)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--overwrite", action="store_true", help="regenerate even if a matching dataset exists")
    a = p.parse_args(argv)
    if a.config is not None:
        config = SyntheticConfig.from_any(json.loads(a.config))
    else:
        config = SyntheticConfig(
            num_train_per_class=a.train_per_class, num_test_per_class=a.test_per_class, num_frames=a.frames,
            size=a.size, seed=a.seed, fps=a.fps, crf=a.crf, keyint=a.keyint, class_speeds=a.class_speeds,
            typical_object_percent=a.typical_object_percent, class_set=a.class_set,
            num_val_per_class=a.val_per_class, val_seed=a.val_seed, test_seed=a.test_seed, clutter=a.clutter,
        )
    start = time.perf_counter()
    root, cached, meta = _generate(a.root, config, a.workers, a.overwrite)
    elapsed = time.perf_counter() - start
    n = meta.get("num_videos", {})
    total = disk_size(root)
    state = "reused existing (parameters match)" if cached else "wrote"
    print(
        f"{state} {root}: {len(config.classes)} classes, "
        + " + ".join(f"{n.get(part)} {part}" for part in PARTS if n.get(part))
        + f" videos ({config.num_frames} frames, {config.size}x{config.size}, seeds "
        + "/".join(str(config.part_seed(part)) for part in PARTS) + "), "
        + f"{total / 2**20:.1f} MiB on disk, {elapsed:.1f} s"
        + ("" if cached else f" with {a.workers} worker(s)")
    )
    return 0


def generate_in_subprocess(root: str | Path, config: SyntheticConfig, workers: int = 2) -> None:
    """Run the generator CLI in a fresh interpreter: its worker pool then starts without the
    caller's heavy imports (a training process would make every worker import torch)."""
    command = [sys.executable, "-m", "pacepred.data.synthetic", "--root", str(root), "--workers", str(workers),
               "--config", json.dumps(asdict(config))]
    subprocess.run(command, check=True)
    if not _is_cached(Path(root), _params(config)):
        raise RuntimeError(f"the generator CLI did not write the dataset asked for into {root} (parameters differ)")


class SyntheticUCF101:
    """Dataset source for the data configs: generated on first use, then read as UCF101 split 1.

    Each parameter set gets its own folder under ``root`` (named after the parameters, the
    encoding ones only where they differ from the defaults), so datasets of different parameters
    live side by side and are never regenerated by mistake.
    """

    def __init__(self, root: str | Path, workers: int = 2, **config):
        self.config = SyntheticConfig.from_any(config)
        c, defaults = self.config, SyntheticConfig()
        encoding = "".join(f"_{key}{getattr(c, key)}" for key in ("fps", "crf", "keyint")
                           if getattr(c, key) != getattr(defaults, key))
        parts = [part for part in PARTS if part != "val" or c.num_val_per_class]
        seeds = [c.part_seed(part) for part in parts]
        self.root = Path(root) / (
            f"motion{len(c.classes)}_n" + "-".join(str(c.part_size(part)) for part in parts)
            + f"_f{c.num_frames}_s{c.size}_seed" + ("-".join(map(str, seeds)) if len(set(seeds)) > 1 else str(c.seed))
            + encoding
            + (f"_{c.class_speeds}" if c.class_speeds != "uniform" else "")
            + (f"_typical{c.typical_object_percent}" if c.typical_object_percent else "")
            + (f"_{c.class_set}" if c.class_set != "directions" else "")
            + (f"_clutter-{c.clutter}" if c.clutter != "full" else "")
            + (f"_motion{c.motion_scale:g}" if c.motion_scale != 1 else "")
            + (f"_object{c.object_scale:g}" if c.object_scale != 1 else "")
        )
        self.workers = workers
        #: the stages ``records`` answers: 'val' only where the dataset has a validation part
        self.stages = tuple(part for part in ("train", "val", "test") if part in parts)
        self._split = None

    def records(self, stage: str):
        """(records, class names) of ``stage`` 'train', 'val' (where :attr:`stages` has it) or
        'test' (generating the data if needed); every record carries the videos' frame count."""
        if stage not in self.stages:
            raise ValueError(f"the synthetic dataset {self.root.name} has no {stage!r} part (its parts: "
                             f"{', '.join(self.stages)}); data.source.num_val_per_class adds a validation part")
        from pacepred.data.records import UCF101Split

        if self._split is None:
            if _is_cached(self.root, _params(self.config)):
                ensure(self.root, self.config, self.workers)
            else:
                generate_in_subprocess(self.root, self.config, self.workers)
            self._split = UCF101Split(self.root, split=1)
        records, classes = self._split.records(stage)
        return [replace(r, num_frames=self.config.num_frames) for r in records], classes


if __name__ == "__main__":
    sys.exit(main())
