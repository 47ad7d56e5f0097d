"""R3D backbone (3D ResNet, VCOP / pace-prediction configuration).

Input (B, C, T, H, W); forward_features -> (B, 8*base_width, T/8, H/16, W/16),
e.g. (B, 512, 2, 7, 7) for 16x112x112 at width 64; forward -> (B, out_dim).
"""
from typing import Sequence

from torch import nn

from .blocks import ResNet3D, Triple


def _conv3d(in_channels: int, out_channels: int, kernel: Triple, stride: Triple, padding: Triple) -> nn.Module:
    return nn.Conv3d(in_channels, out_channels, kernel, stride, padding, bias=False)


class R3D(ResNet3D):
    """3D ResNet with full 3x3x3 convs.

    ``layers=(1, 1, 1, 1)`` is the paper's R3D (14.4M params with a 4-way head),
    ``(2, 2, 2, 2)`` is R3D-18 (33.2M). Maps (B, in_channels, T, H, W) -> (B, out_dim)
    with ``out_dim = 8 * base_width``.
    """

    def __init__(self, layers: Sequence[int] = (1, 1, 1, 1), base_width: int = 64, in_channels: int = 3):
        super().__init__(_conv3d, layers, base_width, in_channels)
