"""C3D backbone with BatchNorm (VCOP / pace-prediction configuration).

Input (B, C, T, H, W). forward_features returns the conv5b map (before pool5):
(B, 8*base_width, T/8, H/16, W/16) (ceil), e.g. (B, 512, 2, 7, 7) for 16x112x112;
forward -> (B, out_dim) by global average pooling.
"""
import torch
from torch import nn

from .blocks import ConvBNReLU3d, PooledBackbone, init_weights


class C3D(PooledBackbone):
    """8 conv layers (3x3x3, padding 1, each + BN + ReLU) and 4 max-poolings.

    conv1 w, pool1 (1,2,2); conv2 2w, pool2 (2,2,2); conv3a/b 4w, pool3 (2,2,2);
    conv4a/b 8w, pool4 (2,2,2); conv5a/b 8w, with w = ``base_width`` (64 in the paper,
    27.7M params with a 4-way head). Pools use ceil_mode so short/small clips
    (e.g. 8x32x32) never collapse to zero size. (B, in_channels, T, H, W) -> (B, out_dim).
    """

    def __init__(self, base_width: int = 64, in_channels: int = 3):
        super().__init__()
        w = base_width
        self.features = nn.Sequential(
            ConvBNReLU3d(in_channels, w, 3, padding=1),
            nn.MaxPool3d((1, 2, 2), (1, 2, 2), ceil_mode=True),
            ConvBNReLU3d(w, 2 * w, 3, padding=1),
            nn.MaxPool3d(2, 2, ceil_mode=True),
            ConvBNReLU3d(2 * w, 4 * w, 3, padding=1),
            ConvBNReLU3d(4 * w, 4 * w, 3, padding=1),
            nn.MaxPool3d(2, 2, ceil_mode=True),
            ConvBNReLU3d(4 * w, 8 * w, 3, padding=1),
            ConvBNReLU3d(8 * w, 8 * w, 3, padding=1),
            nn.MaxPool3d(2, 2, ceil_mode=True),
            ConvBNReLU3d(8 * w, 8 * w, 3, padding=1),
            ConvBNReLU3d(8 * w, 8 * w, 3, padding=1),
        )
        self.out_dim = 8 * w
        init_weights(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) -> conv5b map (B, out_dim, T', H', W')."""
        return self.features(x)
