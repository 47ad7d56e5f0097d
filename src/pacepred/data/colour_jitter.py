"""Colour jitter on the training device: its settings (:class:`ColourJitter`, the
``data.batch_transform.jitter`` node) and two implementations of brightness, contrast, saturation
and hue with per-image factors (torchvision's operations one by one, or one colour matrix)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor

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


@dataclass(frozen=True)
class ColourJitter:
    """How the batch transform jitters colours (training only).

    The official code's strengths (brightness, contrast, saturation 0.8, hue 0.2, each image
    jittered with probability ``prob`` 0.8), drawn independently for every frame (``mode``
    ``per_frame``, the paper) or once per clip (``per_clip``); ``none`` turns it off. ``order``:
    ``fixed`` (brightness, contrast, saturation, hue) or ``random`` (a random order per image, or
    per clip, as torchvision draws one per call; ``sequential`` only: the operations of ``linear``
    commute, as it clamps once). ``impl``: ``linear`` (one colour matrix per image with the hue as
    a YIQ chroma rotation and the normalisation folded in: :func:`color_jitter_linear`, about 19
    times cheaper on a CPU) or ``sequential`` (torchvision's definitions one by one, hue in HSV).
    ``channels``: ``rgb`` jitters the RGB frames; ``bgr`` jitters them as the official code does,
    whose OpenCV frames are BGR but whose ColorJitter takes them for RGB (red and blue swapped,
    jittered, swapped back: hue turns the other way); the network still sees RGB.
    """

    mode: str = "per_frame"
    impl: str = "linear"
    order: str = "fixed"
    prob: float = 0.8
    channels: str = "rgb"
    brightness: float = 0.8
    contrast: float = 0.8
    saturation: float = 0.8
    hue: float = 0.2

    def __post_init__(self) -> None:
        for name, allowed in (("mode", JITTER_MODES), ("impl", JITTER_IMPLS), ("order", JITTER_ORDERS),
                              ("channels", JITTER_CHANNELS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"data.batch_transform.jitter.{name}={getattr(self, name)!r}: expected one of {allowed}")
        if self.order == "random" and self.impl != "sequential":
            raise ValueError("data.batch_transform.jitter.order=random needs jitter.impl=sequential: the linear "
                             "jitter's operations commute (one clamp at the end), so their order changes nothing")
        if not 0 <= self.hue <= 0.5:
            raise ValueError(f"data.batch_transform.jitter.hue={self.hue}: expected a value in [0, 0.5]")

    def draw_factors(self, num_clips: int, num_frames: int, generator: torch.Generator, device) -> dict[str, Tensor]:
        """Per-image factors (num_clips * num_frames,), identity where jitter is not applied; with
        ``order=random`` also ``orders`` (num_clips * num_frames, 4), on the host."""
        shape = (num_clips, num_frames if self.mode == "per_frame" else 1)

        def uniform(low: float, high: float) -> Tensor:
            return torch.rand(shape, generator=generator, device=device) * (high - low) + low

        strengths = {"brightness": self.brightness, "contrast": self.contrast, "saturation": self.saturation}
        factors = {name: uniform(max(0.0, 1 - s), 1 + s) for name, s in strengths.items()}
        factors["hue"] = uniform(-self.hue, self.hue)
        applied = torch.rand(shape, generator=generator, device=device) < self.prob
        identity = {"brightness": 1.0, "contrast": 1.0, "saturation": 1.0, "hue": 0.0}
        drawn = {
            name: torch.where(applied, value, torch.full_like(value, identity[name]))
            .expand(num_clips, num_frames)
            .reshape(-1)
            for name, value in factors.items()
        }
        if self.order == "random":  # drawn last, so that the fixed order's draws stay as they were
            # on the host, where the images are grouped by order: a GPU's own generator gives way
            # to a host one seeded alike
            host = generator if generator.device.type == "cpu" else torch.Generator().manual_seed(generator.initial_seed())
            keys = torch.rand((*shape, len(JITTER_OPERATIONS)), generator=host)
            drawn["orders"] = keys.argsort(dim=-1).expand(num_clips, num_frames, -1).reshape(-1, len(JITTER_OPERATIONS))
        return drawn


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


#: The four colour-jitter operations, in the fixed order (``order=fixed``).
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
