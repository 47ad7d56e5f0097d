"""S3D-G backbone (Xie et al. 2018, "Rethinking Spatiotemporal Feature Learning").

Inception-v1 layout with separable (2+1)D convs and self-gating on every
inception branch (as in the authors' S3D-G) and after the stem's Conv_2c.
The first convolution (``stem``) is the official pace code's full 3x7x7 stride-2 conv
(``full``, 9,129,172 parameters with a 4-way head) or a separable 7x7x7 one (``separable``,
pacepred's earlier default, 9,139,156).
Input (B, C, T, H, W); forward_features -> (B, 1024, T/8, H/32, W/32) (ceil) at
width_mult 1, e.g. (B, 1024, 8, 7, 7) for 64x224x224 and (B, 1024, 2, 2, 2) for
16x56x56; forward -> (B, out_dim).
"""
from typing import Sequence

import torch
from torch import nn

from .blocks import ConvBNReLU3d, PooledBackbone, init_weights

#: Choices of ``S3DG(stem=...)``: the first convolution.
STEMS = ("full", "separable")

# Inception-v1 channels per block:
# (1x1, 3x3-reduce, 3x3, 3x3-reduce (second), 3x3 (second), pool-proj)
_MIXED = {
    "Mixed_3b": (64, 96, 128, 16, 32, 32),
    "Mixed_3c": (128, 128, 192, 32, 96, 64),
    "Mixed_4b": (192, 96, 208, 16, 48, 64),
    "Mixed_4c": (160, 112, 224, 24, 64, 64),
    "Mixed_4d": (128, 128, 256, 24, 64, 64),
    "Mixed_4e": (112, 144, 288, 32, 64, 64),
    "Mixed_4f": (256, 160, 320, 32, 128, 128),
    "Mixed_5b": (256, 160, 320, 32, 128, 128),
    "Mixed_5c": (384, 192, 384, 48, 128, 128),
}


class SepConv3d(nn.Sequential):
    """Separable conv: (1,k,k) conv + BN + ReLU, then (k,1,1) conv + BN + ReLU.

    (B, Cin, T, H, W) -> (B, Cout, T/s, H/s, W/s) with padding k//2.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1):
        k, s, p = kernel_size, stride, kernel_size // 2
        super().__init__(
            ConvBNReLU3d(in_channels, out_channels, (1, k, k), (1, s, s), (0, p, p)),
            ConvBNReLU3d(out_channels, out_channels, (k, 1, 1), (s, 1, 1), (p, 0, 0)),
        )


class SelfGating(nn.Module):
    """Feature gating: x * sigmoid(W mean_{T,H,W}(x) + b), (B, C, T, H, W) -> same shape."""

    def __init__(self, channels: int):
        super().__init__()
        self.fc = nn.Linear(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self.fc(x.mean(dim=(2, 3, 4))))
        return x * gate[:, :, None, None, None]


class InceptionBlock(nn.Module):
    """S3D-G inception block with a self-gate per branch.

    Branches: 1x1; 1x1 -> sep 3x3x3; 1x1 -> sep 3x3x3; maxpool 3x3x3 -> 1x1.
    (B, Cin, T, H, W) -> (B, out_dim, T, H, W), out_dim = sum of branch widths.
    """

    def __init__(self, in_channels: int, channels: Sequence[int]):
        super().__init__()
        c0, c1r, c1, c2r, c2, c3 = channels
        self.branches = nn.ModuleList([
            ConvBNReLU3d(in_channels, c0, 1),
            nn.Sequential(ConvBNReLU3d(in_channels, c1r, 1), SepConv3d(c1r, c1, 3)),
            nn.Sequential(ConvBNReLU3d(in_channels, c2r, 1), SepConv3d(c2r, c2, 3)),
            nn.Sequential(nn.MaxPool3d(3, 1, 1), ConvBNReLU3d(in_channels, c3, 1)),
        ])
        self.gates = nn.ModuleList([SelfGating(c) for c in (c0, c1, c2, c3)])
        self.out_dim = c0 + c1 + c2 + c3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([gate(branch(x)) for branch, gate in zip(self.branches, self.gates)], dim=1)


class S3DG(PooledBackbone):
    """S3D-G backbone, (B, in_channels, T, H, W) -> (B, out_dim) (1024 at width_mult 1).

    Stem: conv 3x7x7 s2 pad (1,3,3) (64) with ``stem='full'`` (the official pace code's
    ``S3D(space_to_depth=False)``) or SepConv 7x7x7 s2 (64) with ``stem='separable'``; maxpool
    (1,3,3) s(1,2,2), conv 1x1 (64), SepConv 3x3x3 (192), gating, maxpool (1,3,3) s(1,2,2);
    Mixed_3b-3c, maxpool 3x3x3 s2, Mixed_4b-4f, maxpool 2x2x2 s2, Mixed_5b-5c. All channel
    numbers are scaled by ``width_mult``. Max-pools are padded (3-kernels) or ceil-mode
    (2-kernel) so 16x56x56 clips keep a non-empty map. Both stems give the same output size
    (T/2, H/2, W/2, rounded up).
    """

    def __init__(self, width_mult: float = 1.0, in_channels: int = 3, stem: str = "full"):
        super().__init__()
        if stem not in STEMS:
            raise ValueError(f"backbone.stem={stem!r}: expected one of {STEMS}")

        def ch(c: int) -> int:
            return max(1, round(c * width_mult))

        first = (ConvBNReLU3d(in_channels, ch(64), (3, 7, 7), 2, (1, 3, 3)) if stem == "full"
                 else SepConv3d(in_channels, ch(64), 7, stride=2))
        layers = [
            first,
            nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)),
            ConvBNReLU3d(ch(64), ch(64), 1),
            SepConv3d(ch(64), ch(192), 3),
            SelfGating(ch(192)),
            nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)),
        ]
        in_ch = ch(192)
        for name, channels in _MIXED.items():
            block = InceptionBlock(in_ch, [ch(c) for c in channels])
            layers.append(block)
            in_ch = block.out_dim
            if name == "Mixed_3c":
                layers.append(nn.MaxPool3d(3, 2, 1))
            elif name == "Mixed_4f":
                layers.append(nn.MaxPool3d(2, 2, ceil_mode=True))
        self.features = nn.Sequential(*layers)
        self.out_dim = in_ch
        init_weights(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) -> Mixed_5c map (B, out_dim, T', H', W')."""
        return self.features(x)
