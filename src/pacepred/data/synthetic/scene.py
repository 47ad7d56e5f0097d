"""What a video shows: object shapes and textures, backgrounds, distractors, each class's typical object."""

from __future__ import annotations

import math

import numpy as np

from pacepred.data.synthetic.config import CLASS_SETS


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


def _random_colour(rng: np.random.Generator, levels: int = 0) -> np.ndarray:
    """A uniform RGB colour; with ``levels`` >= 2 each channel rounded to one of ``levels`` values
    (2: the 8 corners of the RGB cube), after the same draw, so the scene's other draws stay put."""
    colour = rng.uniform(0.0, 255.0, size=3)
    if levels:
        colour = np.round(colour / 255.0 * (levels - 1)) * (255.0 / (levels - 1))
    return colour.astype(np.float32)


def _luma(c: np.ndarray) -> float:
    return float(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2])


def _sample_background(rng: np.random.Generator, size: int, kinds: tuple[str, ...] = _BACKGROUNDS,
                       colour_levels: int = 0) -> dict:
    kind = kinds[rng.integers(len(kinds))]
    bg = {"kind": kind, "c1": _random_colour(rng, colour_levels), "c2": _random_colour(rng, colour_levels)}
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


def _sample_distractor(rng: np.random.Generator, size: int, colour_levels: int = 0) -> dict:
    return {
        "shape": _SHAPES[rng.integers(len(_SHAPES))],
        "texture": _DISTRACTOR_TEXTURES[rng.integers(len(_DISTRACTOR_TEXTURES))],
        "radius": rng.uniform(0.06, 0.12) * size,
        "x": rng.uniform(0, size),
        "y": rng.uniform(0, size),
        "angle": rng.uniform(0, 2 * math.pi),
        "c1": _random_colour(rng, colour_levels),
        "c2": _random_colour(rng, colour_levels),
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
                   object_scale: float = 1.0, colour_levels: int = 0) -> dict:
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
        c1, c2 = _random_colour(rng, colour_levels), _random_colour(rng, colour_levels)
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


def typical_object(class_name: str, class_set: str = "directions") -> tuple[str, str]:
    """The (shape, texture) a class's object has in ``typical_object_percent`` % of its videos:
    a different pair for every class of a class set, as real actions come with typical objects."""
    i = CLASS_SETS[class_set][0].index(class_name)
    return _SHAPES[i % len(_SHAPES)], _OBJECT_TEXTURES[i % 2 + 2 * (i // len(_SHAPES))]
