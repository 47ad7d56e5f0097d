"""Clip transforms.

Two places, on purpose:

- in the data-loader workers, on uint8 only: one random (or centre) crop and one horizontal
  flip for the whole clip (:func:`crop_and_flip`), so workers decode and crop and nothing else;
- on the training device, on the whole batch after transfer (:class:`ClipBatchTransform`):
  colour jitter (per frame, as the paper's code, or per clip), normalisation, and the
  ``residual`` input (differences of consecutive sampled frames).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pacepred.data.colour_jitter import ColourJitter, color_jitter_linear, color_jitter_sequential

#: rgb: the frames (the paper); residual: differences of consecutive sampled frames; rgb_centred: the
#: frames minus each pixel's mean over the clip (the static scene removed: a diagnostic of RGB input).
INPUT_MODES = ("rgb", "residual", "rgb_centred")


class CropTooLargeError(ValueError):
    """The crop does not fit in the frames (``data.decode_size=null`` and a video smaller than the
    crop); the datasets raise it again as a :class:`~pacepred.data.decoding.VideoDecodeError`
    naming the file, which ``data.on_bad_video=skip`` skips."""


def crop_and_flip(
    frames: np.ndarray,
    crop_size: int,
    rng: np.random.Generator | None,
    flip: bool,
    size: tuple[int, int] | None = None,
) -> torch.Tensor:
    """One crop (random when ``rng`` is given, else centre) and optional flip for all frames.

    Args:
        frames: uint8 (T, H, W, C).
        crop_size: side of the square crop; must not exceed the frames' size.
        rng: generator for the crop position and the flip; None means centre crop, no flip.
        flip: allow a horizontal flip (with probability 1/2) when ``rng`` is given.
        size: ``(height, width)`` the frames stand for (``data.decode_size``), None: their own.
            Frames of another size (a frame folder read as stored: ``read_clip`` with
            ``defer_frame_resize``) are cut at the region the crop covers at ``size`` (rounded
            to whole pixels) and only that region is resized to ``crop_size`` (bilinear with
            antialiasing, as the frame folder's own resize): half the cost of resizing whole
            frames first. The crop position is drawn at ``size`` either way, from the same draws.

    Returns:
        uint8 tensor (T, C, crop_size, crop_size).
    """
    _, height, width, _ = frames.shape
    target_height, target_width = size if size is not None else (height, width)
    if crop_size > target_height or crop_size > target_width:
        raise CropTooLargeError(
            f"crop_size={crop_size} is larger than the decoded frames ({target_height}x{target_width}); "
            "lower data.crop_size or raise data.decode_size"
        )
    if rng is None:
        top, left = (target_height - crop_size) // 2, (target_width - crop_size) // 2
    else:
        top = int(rng.integers(target_height - crop_size + 1))
        left = int(rng.integers(target_width - crop_size + 1))
    mirror = rng is not None and flip and rng.random() < 0.5
    if (target_height, target_width) == (height, width):
        clip = torch.from_numpy(frames[:, top : top + crop_size, left : left + crop_size])
        # flip copies; numpy's copy of a reversed view is 10x slower (1 ms a clip)
        return (clip.flip(2) if mirror else clip.contiguous()).permute(0, 3, 1, 2)
    scale_y, scale_x = height / target_height, width / target_width
    y0, x0 = round(top * scale_y), round(left * scale_x)
    y1, x1 = max(round((top + crop_size) * scale_y), y0 + 1), max(round((left + crop_size) * scale_x), x0 + 1)
    region = torch.from_numpy(frames[:, y0:y1, x0:x1]).permute(0, 3, 1, 2)
    clip = F.interpolate(region, size=(crop_size, crop_size), mode="bilinear", antialias=True, align_corners=False)
    return clip.flip(3) if mirror else clip


class ClipBatchTransform(nn.Module):
    """On-device batch transform: uint8 clips -> normalised float network input.

    Input ``video`` uint8 (B, V, T, C, H, W) (V views per video); output float
    (B*V, C, T', H, W) with T' = T for ``rgb`` and ``rgb_centred``, T - 1 for ``residual``.
    ``jitter`` (training only): :class:`~pacepred.data.colour_jitter.ColourJitter`; None (or the
    node removed): no jitter. The configs set the paper's per-frame jitter (``data/_clips.yaml``). The official code feeds raw 0-255 BGR values; pacepred feeds RGB
    normalised by ``mean``/``std`` (docs/method.md, "Deviations from the paper and the official code").
    """

    def __init__(
        self,
        input_mode: str = "rgb",
        mean: Sequence[float] = (0.43216, 0.394666, 0.37645),
        std: Sequence[float] = (0.22803, 0.22145, 0.216989),
        jitter: ColourJitter | None = None,
    ):
        super().__init__()
        if input_mode not in INPUT_MODES:
            raise ValueError(f"input={input_mode!r}: expected one of {INPUT_MODES}")
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(f"mean={list(mean)}, std={list(std)}: expected 3 values each, std positive")
        self.input_mode = input_mode
        self.jitter = jitter if jitter is not None else ColourJitter(mode="none")
        self.mean_values, self.std_values = tuple(map(float, mean)), tuple(map(float, std))
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1, 1), persistent=False)

    def forward(self, video: Tensor, train: bool, generator: torch.Generator | None = None) -> Tensor:
        """uint8 (B, V, T, C, H, W) -> float (B*V, C, T', H, W); jitter only when ``train``."""
        b, v, t, c, h, w = video.shape
        jitter = train and self.jitter.mode != "none"
        swap_red_blue = self.jitter.channels == "bgr"
        if jitter:
            if generator is None:
                generator = torch.Generator(device=video.device).manual_seed(0)
            factors = self.jitter.draw_factors(b * v, t, generator, video.device)
        if jitter and self.jitter.impl == "linear":
            clips = video.reshape(b * v, t, c, h, w).float()
            normalised = color_jitter_linear(clips, factors, 1 / 255, self.mean_values, self.std_values,
                                             swap_red_blue)
        else:
            frames = video.reshape(b * v * t, c, h, w).float().div_(255.0)
            if jitter:
                swap = (lambda x: x.flip(-3)) if swap_red_blue else (lambda x: x)
                frames = swap(color_jitter_sequential(swap(frames), factors, factors.pop("orders", None)))
            clips = frames.reshape(b * v, t, c, h, w).permute(0, 2, 1, 3, 4)
            # (x - mean) / std in one pass, written straight into the (B*V, C, T, H, W) layout
            normalised = torch.empty(clips.shape, dtype=clips.dtype, device=clips.device)
            torch.addcmul(-self.mean / self.std, clips, 1 / self.std, out=normalised)
        if self.input_mode == "residual":
            return normalised[:, :, 1:] - normalised[:, :, :-1]
        if self.input_mode == "rgb_centred":
            return normalised - normalised.mean(dim=2, keepdim=True)
        return normalised
