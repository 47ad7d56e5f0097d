"""Clip transforms.

Two places, on purpose:

- in the data-loader workers, on uint8 only: one random (or centre) crop and one horizontal
  flip for the whole clip (:func:`crop_and_flip`), so workers decode and crop and nothing else;
- on the training device, on the whole batch after transfer (:class:`ClipBatchTransform`):
  colour jitter (per frame, as the paper's code, or per clip), normalisation, and the
  ``residual`` input (differences of consecutive sampled frames).
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: rgb: the frames (the paper); residual: differences of consecutive sampled frames; rgb_centred: the
#: frames minus each pixel's mean over the clip (the static scene removed: a diagnostic of RGB input).
INPUT_MODES = ("rgb", "residual", "rgb_centred")
JITTER_MODES = ("per_frame", "per_clip", "none")
JITTER_IMPLS = ("linear", "sequential")
JITTER_ORDERS = ("fixed", "random")
JITTER_CHANNELS = ("rgb", "bgr")
_LUMA = (0.299, 0.587, 0.114)
# RGB -> YIQ (NTSC); hue rotates the (I, Q) chroma plane about the grey axis Y.
_RGB_TO_YIQ = ((0.299, 0.587, 0.114), (0.595716, -0.274453, -0.321263), (0.211456, -0.522591, 0.311135))


@functools.cache
def _colour_constants(device: torch.device, dtype: torch.dtype) -> tuple[Tensor, Tensor, Tensor]:
    """(luma (3,), RGB->YIQ (3, 3), YIQ->RGB (3, 3)) on ``device``, made once per device and dtype:
    a tensor built from Python numbers on a GPU, or a GPU matrix inverse, waits for the GPU."""
    to_yiq = torch.tensor(_RGB_TO_YIQ, dtype=torch.float64)
    return tuple(x.to(device=device, dtype=dtype) for x in (torch.tensor(_LUMA, dtype=torch.float64), to_yiq,
                                                            torch.linalg.inv(to_yiq)))


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


def _grayscale(x: Tensor) -> Tensor:
    """ITU-R 601 luma of RGB images (..., 3, H, W) -> (..., 1, H, W)."""
    r, g, b = x.unbind(dim=-3)
    return (_LUMA[0] * r + _LUMA[1] * g + _LUMA[2] * b).unsqueeze(-3)


def _rgb_to_hsv(x: Tensor) -> Tensor:
    """RGB in [0, 1] (..., 3, H, W) -> HSV in [0, 1] (..., 3, H, W)."""
    r, g, b = x.unbind(dim=-3)
    maxc, _ = x.max(dim=-3)
    minc, _ = x.min(dim=-3)
    delta = maxc - minc
    safe_delta = torch.where(delta > 0, delta, torch.ones_like(delta))
    sat = torch.where(maxc > 0, delta / torch.where(maxc > 0, maxc, torch.ones_like(maxc)), torch.zeros_like(maxc))
    rc, gc, bc = (maxc - r) / safe_delta, (maxc - g) / safe_delta, (maxc - b) / safe_delta
    hue = torch.where(maxc == r, bc - gc, torch.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = torch.where(delta > 0, (hue / 6.0) % 1.0, torch.zeros_like(hue))
    return torch.stack((hue, sat, maxc), dim=-3)


def _hsv_to_rgb(x: Tensor) -> Tensor:
    """HSV in [0, 1] (..., 3, H, W) -> RGB in [0, 1] (..., 3, H, W)."""
    hue, sat, val = x.unbind(dim=-3)
    sector = torch.floor(hue * 6.0)
    frac = hue * 6.0 - sector
    sector = sector.long() % 6
    p, q, t = val * (1 - sat), val * (1 - sat * frac), val * (1 - sat * (1 - frac))
    choices = (
        (val, t, p), (q, val, p), (p, val, t), (p, q, val), (t, p, val), (val, p, q),
    )
    out = [torch.zeros_like(val) for _ in range(3)]
    for k, channels in enumerate(choices):
        mask = sector == k
        for c in range(3):
            out[c] = torch.where(mask, channels[c], out[c])
    return torch.stack(out, dim=-3)


def _brightness(x: Tensor, factor: Tensor) -> Tensor:
    return (x * factor.view(-1, 1, 1, 1)).clamp(0, 1)


def _contrast(x: Tensor, factor: Tensor) -> Tensor:
    mean = _grayscale(x).mean(dim=(-3, -2, -1), keepdim=True)
    return ((x - mean) * factor.view(-1, 1, 1, 1) + mean).clamp(0, 1)


def _saturation(x: Tensor, factor: Tensor) -> Tensor:
    gray = _grayscale(x)
    return ((x - gray) * factor.view(-1, 1, 1, 1) + gray).clamp(0, 1)


def _hue(x: Tensor, shift: Tensor) -> Tensor:
    hsv = _rgb_to_hsv(x)
    hue = (hsv[:, 0] + shift.view(-1, 1, 1)) % 1.0
    return _hsv_to_rgb(torch.stack((hue, hsv[:, 1], hsv[:, 2]), dim=1)).clamp(0, 1)


#: The four colour-jitter operations, in the fixed order (``jitter_order=fixed``).
JITTER_OPERATIONS = {"brightness": _brightness, "contrast": _contrast, "saturation": _saturation, "hue": _hue}


def _order_groups(orders: Tensor) -> tuple[Tensor, Tensor, list[int]]:
    """Host tensors only: int (N, 4) orders -> (the permutation (N,) sorting the images by order,
    the orders sorted (N, 4), the size of each group of equal orders (at most 24))."""
    codes = orders.long() @ torch.tensor([64, 16, 4, 1])
    permutation = torch.argsort(codes, stable=True)
    counts = torch.unique_consecutive(codes[permutation], return_counts=True)[1].tolist()
    return permutation, orders[permutation], counts


def color_jitter_sequential(x: Tensor, factors: dict[str, Tensor], orders: Tensor | None = None) -> Tensor:
    """Brightness, contrast, saturation, hue with per-image factors, one after another.

    torchvision's definitions, clamped after each, hue shifted in HSV.

    Args:
        x: float (N, 3, H, W) in [0, 1].
        factors: ``brightness``, ``contrast``, ``saturation`` (multiplicative, around 1) and
            ``hue`` (shift in turns, around 0), each float (N,).
        orders: int (N, 4) on the host, each image's order of the operations as indices into
            :data:`JITTER_OPERATIONS` (torchvision draws one per call); None: that fixed order.

    Returns:
        float (N, 3, H, W) in [0, 1].
    """
    names = list(JITTER_OPERATIONS)
    if orders is None:
        for name in names:
            x = JITTER_OPERATIONS[name](x, factors[name])
        return x
    # the images sorted by their order and grouped on the host, so that nothing waits for the
    # device: one copy of the permutation, then contiguous slices
    permutation, sorted_orders, counts = _order_groups(orders)
    if x.is_cuda:
        permutation = permutation.pin_memory().to(x.device, non_blocking=True)
    grouped = x.index_select(0, permutation)
    grouped_factors = {name: value.index_select(0, permutation) for name, value in factors.items()}
    start = 0
    for count in counts:
        rows = slice(start, start + count)
        part = grouped[rows]
        for k in sorted_orders[start].tolist():
            part = JITTER_OPERATIONS[names[k]](part, grouped_factors[names[k]][rows])
        grouped[rows] = part
        start += count
    return torch.empty_like(x).index_copy_(0, permutation, grouped)


def _hue_rotation(hue: Tensor) -> Tensor:
    """(N,) hue shifts in turns -> (N, 3, 3) RGB matrices rotating chroma about the grey axis."""
    _, to_yiq, from_yiq = _colour_constants(hue.device, hue.dtype)
    angle = hue * (-2 * torch.pi)  # the sign that turns red towards yellow, as the HSV hue does
    cos, sin = torch.cos(angle), torch.sin(angle)
    rotation = torch.zeros(hue.shape[0], 3, 3, dtype=hue.dtype, device=hue.device)
    rotation[:, 0, 0] = 1
    rotation[:, 1, 1], rotation[:, 1, 2] = cos, -sin
    rotation[:, 2, 1], rotation[:, 2, 2] = sin, cos
    return from_yiq @ rotation @ to_yiq


def color_jitter_linear(
    x: Tensor,
    factors: dict[str, Tensor],
    scale: float = 1.0,
    mean: Sequence[float] = (0.0, 0.0, 0.0),
    std: Sequence[float] = (1.0, 1.0, 1.0),
    swap_red_blue: bool = False,
) -> Tensor:
    """The four jitter operations composed into one affine colour map per image, one clamp,
    then ``(y - mean) / std``, written straight into the network's (N, 3, T, H, W) layout.

    Brightness ``b``, contrast ``c`` (around the image's mean luma ``g``), saturation ``s``
    (around each pixel's luma) and hue (a rotation of the YIQ chroma plane, which keeps luma
    and greys) are linear in RGB, so together: ``y = c b H S x + (1 - c) b g``, clamped to [0, 1].
    Equal to :func:`color_jitter_sequential` wherever no intermediate value leaves [0, 1], except
    hue, which rotates chroma instead of shifting the HSV hue angle (close, not equal). The
    normalisation is folded into the map and the clamp bounds, and each output channel is three
    multiply-adds of whole (T, H, W) planes: on a CPU half the cost of a batched 3x3 matrix product
    followed by a separate normalisation pass (`experiments/profile_clip_cost.py`).

    Args:
        x: float (N, T, 3, H, W), ``scale`` times the images in [0, 1] (``scale=1/255`` takes
            raw pixel values, folding the scaling in).
        factors: as :func:`color_jitter_sequential`, each float (N * T,), image ``n * T + t``.
        mean, std: per-channel normalisation of the result.
        swap_red_blue: jitter the images with red and blue swapped, then swap them back (the
            official code's jitter of BGR arrays as RGB): the map ``P M P`` with ``P`` the swap,
            the mean luma of ``P x``; no pixel is moved.

    Returns:
        float (N, 3, T, H, W).
    """
    n, t, c, h, w = x.shape
    luma = _colour_constants(x.device, x.dtype)[0]
    eye = torch.eye(3, dtype=x.dtype, device=x.device)
    sat = factors["saturation"].view(-1, 1, 1)
    saturation = sat * eye + (1 - sat) * luma.expand(3, 3)
    gain = (factors["contrast"] * factors["brightness"] * scale).view(-1, 1, 1)
    matrix = gain * (_hue_rotation(factors["hue"]) @ saturation)  # (N*T, 3, 3)
    if swap_red_blue:
        matrix, luma = matrix.flip(-2, -1), luma.flip(0)
    pixels = x.view(n, t, c, h * w)
    mean_luma = torch.einsum("c,ntcp->nt", luma, pixels).reshape(-1) * (scale / (h * w))
    offset = ((1 - factors["contrast"]) * factors["brightness"] * mean_luma).view(-1, 1)  # (N*T, 1)
    out = torch.empty((n, c, t, h * w), dtype=x.dtype, device=x.device)
    for k in range(c):
        coefficient = (matrix[:, k] / std[k]).view(n, t, 3, 1)
        channel = torch.mul(pixels[:, :, 0], coefficient[:, :, 0], out=out[:, k])
        channel.addcmul_(pixels[:, :, 1], coefficient[:, :, 1]).addcmul_(pixels[:, :, 2], coefficient[:, :, 2])
        channel.add_(((offset - mean[k]) / std[k]).view(n, t, 1)).clamp_(-mean[k] / std[k], (1 - mean[k]) / std[k])
    return out.view(n, c, t, h, w)


class ClipBatchTransform(nn.Module):
    """On-device batch transform: uint8 clips -> normalised float network input.

    Input ``video`` uint8 (B, V, T, C, H, W) (V views per video); output float
    (B*V, C, T', H, W) with T' = T for ``rgb`` and ``rgb_centred``, T - 1 for ``residual``.

    Colour jitter (training only) follows the official code's strengths (brightness,
    contrast, saturation 0.8, hue 0.2, applied with probability 0.8), drawn independently for
    every frame (``per_frame``, the paper) or once per clip (``per_clip``). ``jitter_order``:
    ``fixed`` (brightness, contrast, saturation, hue) or ``random`` (a random order per image, or
    per clip, as torchvision draws one per call; ``sequential`` only: the operations of
    ``linear`` commute, as it clamps once). ``jitter_impl`` chooses how:
    ``linear`` (default) composes them into one colour matrix per image with the hue as a YIQ
    chroma rotation and the normalisation folded in (:func:`color_jitter_linear`; the whole batch
    transform about 19 times cheaper on a CPU: `experiments/profile_clip_cost.py`),
    ``sequential`` applies torchvision's definitions one by one with the hue in HSV. The official
    code feeds raw 0-255 BGR values; pacepred feeds RGB normalised by ``mean``/``std``
    (docs/method.md, "Deviations from the paper and the official code"). ``jitter_channels``: ``rgb`` jitters the RGB frames; ``bgr`` jitters
    them as the official code does, whose OpenCV frames are BGR but whose ColorJitter takes them
    for RGB: red and blue swapped, jittered, swapped back (hue turns the other way, and the
    saturation's and contrast's grey weighs blue as red); the network still sees RGB.
    """

    def __init__(
        self,
        input_mode: str = "rgb",
        mean: Sequence[float] = (0.43216, 0.394666, 0.37645),
        std: Sequence[float] = (0.22803, 0.22145, 0.216989),
        jitter_mode: str = "per_frame",
        jitter_impl: str = "linear",
        jitter_order: str = "fixed",
        jitter_prob: float = 0.8,
        jitter_channels: str = "rgb",
        brightness: float = 0.8,
        contrast: float = 0.8,
        saturation: float = 0.8,
        hue: float = 0.2,
    ):
        super().__init__()
        if input_mode not in INPUT_MODES:
            raise ValueError(f"input={input_mode!r}: expected one of {INPUT_MODES}")
        if jitter_mode not in JITTER_MODES:
            raise ValueError(f"jitter_mode={jitter_mode!r}: expected one of {JITTER_MODES}")
        if jitter_impl not in JITTER_IMPLS:
            raise ValueError(f"jitter_impl={jitter_impl!r}: expected one of {JITTER_IMPLS}")
        if jitter_order not in JITTER_ORDERS:
            raise ValueError(f"jitter_order={jitter_order!r}: expected one of {JITTER_ORDERS}")
        if jitter_channels not in JITTER_CHANNELS:
            raise ValueError(f"jitter_channels={jitter_channels!r}: expected one of {JITTER_CHANNELS}")
        if jitter_order == "random" and jitter_impl != "sequential":
            raise ValueError("jitter_order=random needs jitter_impl=sequential: the linear jitter's operations commute "
                             "(one clamp at the end), so their order changes nothing")
        if not 0 <= hue <= 0.5:
            raise ValueError(f"hue={hue}: expected a value in [0, 0.5]")
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(f"mean={list(mean)}, std={list(std)}: expected 3 values each, std positive")
        self.input_mode = input_mode
        self.jitter_mode = jitter_mode
        self.jitter_impl = jitter_impl
        self.random_order = jitter_order == "random"
        self.swap_red_blue = jitter_channels == "bgr"
        self.jitter_prob = jitter_prob
        self.strengths = {"brightness": brightness, "contrast": contrast, "saturation": saturation}
        self.hue = hue
        self.mean_values, self.std_values = tuple(map(float, mean)), tuple(map(float, std))
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1, 1), persistent=False)

    def _draw_factors(self, num_clips: int, num_frames: int, generator: torch.Generator, device) -> dict[str, Tensor]:
        """Per-image factors (num_clips * num_frames,), identity where jitter is not applied; with
        ``jitter_order=random`` also ``orders`` (num_clips * num_frames, 4), on the host."""
        per_frame = self.jitter_mode == "per_frame"
        shape = (num_clips, num_frames if per_frame else 1)

        def uniform(low: float, high: float) -> Tensor:
            return torch.rand(shape, generator=generator, device=device) * (high - low) + low

        factors = {name: uniform(max(0.0, 1 - s), 1 + s) for name, s in self.strengths.items()}
        factors["hue"] = uniform(-self.hue, self.hue)
        applied = torch.rand(shape, generator=generator, device=device) < self.jitter_prob
        identity = {"brightness": 1.0, "contrast": 1.0, "saturation": 1.0, "hue": 0.0}
        drawn = {
            name: torch.where(applied, value, torch.full_like(value, identity[name]))
            .expand(num_clips, num_frames)
            .reshape(-1)
            for name, value in factors.items()
        }
        if self.random_order:  # drawn last, so that the fixed order's draws stay as they were
            # on the host, where the images are grouped by order: a GPU's own generator gives way
            # to a host one seeded alike
            host = generator if generator.device.type == "cpu" else torch.Generator().manual_seed(generator.initial_seed())
            keys = torch.rand((*shape, len(JITTER_OPERATIONS)), generator=host)
            drawn["orders"] = keys.argsort(dim=-1).expand(num_clips, num_frames, -1).reshape(-1, len(JITTER_OPERATIONS))
        return drawn

    def forward(self, video: Tensor, train: bool, generator: torch.Generator | None = None) -> Tensor:
        """uint8 (B, V, T, C, H, W) -> float (B*V, C, T', H, W); jitter only when ``train``."""
        b, v, t, c, h, w = video.shape
        jitter = train and self.jitter_mode != "none"
        if jitter:
            if generator is None:
                generator = torch.Generator(device=video.device).manual_seed(0)
            factors = self._draw_factors(b * v, t, generator, video.device)
        if jitter and self.jitter_impl == "linear":
            clips = video.reshape(b * v, t, c, h, w).float()
            normalised = color_jitter_linear(clips, factors, 1 / 255, self.mean_values, self.std_values,
                                             self.swap_red_blue)
        else:
            frames = video.reshape(b * v * t, c, h, w).float().div_(255.0)
            if jitter:
                swap = (lambda x: x.flip(-3)) if self.swap_red_blue else (lambda x: x)
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
