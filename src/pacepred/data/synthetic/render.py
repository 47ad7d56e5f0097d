"""Rendering one video: the scene moved along its trajectory, with camera jitter and pixel noise, uint8 frames."""

from __future__ import annotations

import math

import numpy as np

from pacepred.data.synthetic.config import CLASS_SETS, CLUTTER_LEVELS
from pacepred.data.synthetic.motion import _trajectory
from pacepred.data.synthetic.scene import (
    _background_mean, _composite, _coverage, _draw_distractor, _extent, _object_texture, _render_background,
    _sample_background, _sample_distractor, _sample_object, _shape_sdf, _sprite_window, typical_object,
)


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
    colour_levels: int = 0,
) -> np.ndarray:
    """Render one video of ``class_name``: uint8 array (T, H, W, 3), RGB, H = W = ``size``;
    the object moves at ``speed_factor`` times the typical speed; ``clutter`` picks the scene's
    backgrounds and most distractors (:data:`CLUTTER_LEVELS`); ``object_scale`` the object's size;
    ``colour_levels`` >= 2 limits every colour to that many values per channel (0: any colour).

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
    bg = _sample_background(rng, S, backgrounds, colour_levels)
    count = int(rng.integers(0, most_distractors + 1)) if most_distractors else 0
    distractors = [_sample_distractor(rng, S, colour_levels) for _ in range(count)]

    # ---- object appearance and camera (per video, class independent) ----------------------
    obj = _sample_object(rng, S, scale, _background_mean(bg), object_scale, colour_levels)
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
