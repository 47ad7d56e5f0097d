"""How the object moves: one trajectory per class (or kind of motion), at the class's speed."""

from __future__ import annotations

import math

import numpy as np

from pacepred.data.synthetic.config import BASE_SPEED, SPEED_SPREAD
from pacepred.data.synthetic.scene import _random_sign


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


def _spin_reference_radius(size: int) -> float:
    # 0.7 x the mean object radius (0.17 * size): the spin speed there equals the typical speed
    return 0.7 * 0.17 * size
