"""Pace prediction loss: cross-entropy over the pace classes, in float32."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def pace_loss(logits: Tensor, pace_label: Tensor) -> Tensor:
    """Mean cross-entropy; ``logits`` (N, num_paces) any float dtype, ``pace_label`` (N,) int64 -> scalar float32."""
    with torch.autocast(device_type=logits.device.type, enabled=False):
        return F.cross_entropy(logits.float(), pace_label)
