"""Shared 3D-CNN building blocks.

All tensors are video batches of shape (B, C, T, H, W).

- ``ConvBNReLU3d``: Conv3d (no bias) + BatchNorm3d + ReLU.
- ``ResidualBlock``: basic two-conv residual block, parametrised by a conv
  builder so that R3D (plain 3D convs) and R(2+1)D (factorised convs) share it.
- ``ResNet3D``: stem + four residual stages, the common body of R3D / R(2+1)D.
- ``init_weights``: Kaiming init for convs, BN weight 1 / bias 0.
"""
from typing import Callable, Sequence, Tuple

import torch
from torch import nn

Triple = Tuple[int, int, int]
# (in_channels, out_channels, kernel, stride, padding) -> module mapping
# (B, in, T, H, W) -> (B, out, T', H', W'); no BN/ReLU on its output.
ConvBuilder = Callable[[int, int, Triple, Triple, Triple], nn.Module]


def init_weights(module: nn.Module) -> None:
    """Kaiming-normal init (fan_out, ReLU) for every Conv3d, BN weight 1 / bias 0."""
    for m in module.modules():
        if isinstance(m, nn.Conv3d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm3d, nn.BatchNorm1d)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class PooledBackbone(nn.Module):
    """Base of every backbone: subclasses set ``out_dim`` and define ``forward_features``
    (B, C, T, H, W) -> (B, out_dim, T', H', W'); ``forward`` global-average-pools it to (B, out_dim)."""

    out_dim: int

    def __init__(self) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool3d(1)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) -> globally average-pooled features (B, out_dim)."""
        return self.pool(self.forward_features(x)).flatten(1)


class ConvBNReLU3d(nn.Sequential):
    """Conv3d (bias-free) + BatchNorm3d + ReLU: (B, Cin, T, H, W) -> (B, Cout, T', H', W')."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size=3, stride=1, padding=0):
        super().__init__(
            nn.Conv3d(in_channels, out_channels, kernel_size, stride, padding, bias=False),
            nn.BatchNorm3d(out_channels),
            nn.ReLU(inplace=True),
        )


class ResidualBlock(nn.Module):
    """Basic residual block: two 3x3x3 convs (via ``conv_builder``), each followed by BN.

    (B, Cin, T, H, W) -> (B, Cout, T/s, H/s, W/s) for stride s. When the shape
    changes the shortcut is a 1x1x1 conv (same builder) with stride s + BN.
    """

    def __init__(self, conv_builder: ConvBuilder, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        s = (stride,) * 3
        self.conv1 = conv_builder(in_channels, out_channels, (3, 3, 3), s, (1, 1, 1))
        self.bn1 = nn.BatchNorm3d(out_channels)
        self.conv2 = conv_builder(out_channels, out_channels, (3, 3, 3), (1, 1, 1), (1, 1, 1))
        self.bn2 = nn.BatchNorm3d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                conv_builder(in_channels, out_channels, (1, 1, 1), s, (0, 0, 0)),
                nn.BatchNorm3d(out_channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ResNet3D(PooledBackbone):
    """Stem + 4 residual stages (VCOP-style R3D / R(2+1)D body).

    Stem: conv (3,7,7) stride (1,2,2) padding (1,3,3) -> ``base_width`` channels,
    BN, ReLU, no max-pool. Stages: widths ``base_width * (1, 2, 4, 8)``, stride 1
    for stage 1 and 2 (in T, H, W) in the first block of stages 2-4.

    Shapes: (B, C, T, H, W) -> forward_features (B, 8*base_width, T/8, H/16, W/16)
    (ceil) -> forward (B, out_dim). E.g. 16x112x112 -> (B, 512, 2, 7, 7) at width 64.
    """

    def __init__(self, conv_builder: ConvBuilder, layers: Sequence[int], base_width: int, in_channels: int):
        super().__init__()
        if len(layers) != 4:
            raise ValueError(f"layers must have 4 entries, got {layers}")
        self.stem = nn.Sequential(
            conv_builder(in_channels, base_width, (3, 7, 7), (1, 2, 2), (1, 3, 3)),
            nn.BatchNorm3d(base_width),
            nn.ReLU(inplace=True),
        )
        stages = []
        in_ch = base_width
        for i, num_blocks in enumerate(layers):
            width = base_width * 2**i
            blocks = [ResidualBlock(conv_builder, in_ch, width, stride=1 if i == 0 else 2)]
            blocks += [ResidualBlock(conv_builder, width, width) for _ in range(num_blocks - 1)]
            stages.append(nn.Sequential(*blocks))
            in_ch = width
        self.stages = nn.Sequential(*stages)
        self.out_dim = in_ch
        init_weights(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) -> last stage map (B, out_dim, T', H', W')."""
        return self.stages(self.stem(x))
