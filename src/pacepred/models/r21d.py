"""R(2+1)D backbone (Tran et al. 2018, VCOP / pace-prediction configuration).

Every 3D conv of kernel (t, d, d) is factorised into a spatial (1, d, d) conv to
M channels + BN + ReLU + a temporal (t, 1, 1) conv, with
M = floor(t*d*d*Cin*Cout / (d*d*Cin + t*Cout)) so the parameter count matches
the 3D conv. Input (B, C, T, H, W); forward_features ->
(B, 8*base_width, T/8, H/16, W/16), e.g. (B, 512, 2, 7, 7) for 16x112x112;
forward -> (B, out_dim).
"""
from typing import Sequence

import torch
from torch import nn

from .blocks import ResNet3D, Triple


class SpatioTemporalConv(nn.Module):
    """(2+1)D conv: (B, Cin, T, H, W) -> (B, Cout, T', H', W').

    Spatial conv carries the spatial kernel/stride/padding, temporal conv the
    temporal ones. Output is not normalised (the caller adds BN).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: Triple, stride: Triple, padding: Triple):
        super().__init__()
        t, d = kernel[0], kernel[1]
        mid = (t * d * d * in_channels * out_channels) // (d * d * in_channels + t * out_channels)
        self.spatial = nn.Conv3d(
            in_channels, mid, (1, d, d), (1, stride[1], stride[2]), (0, padding[1], padding[2]), bias=False
        )
        self.bn = nn.BatchNorm3d(mid)
        self.relu = nn.ReLU(inplace=True)
        self.temporal = nn.Conv3d(mid, out_channels, (t, 1, 1), (stride[0], 1, 1), (padding[0], 0, 0), bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.temporal(self.relu(self.bn(self.spatial(x))))


class R2Plus1D(ResNet3D):
    """ResNet with (2+1)D convs everywhere, stem and 1x1x1 stride-2 shortcuts included.

    ``layers=(1, 1, 1, 1)`` is the paper's R(2+1)D (14.4M params with a 4-way head),
    ``(2, 2, 2, 2)`` is R(2+1)D-18 (33.2M). Maps (B, in_channels, T, H, W) ->
    (B, out_dim) with ``out_dim = 8 * base_width``.
    """

    def __init__(self, layers: Sequence[int] = (1, 1, 1, 1), base_width: int = 64, in_channels: int = 3):
        super().__init__(SpatioTemporalConv, layers, base_width, in_channels)
