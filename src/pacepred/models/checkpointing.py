"""Activation checkpointing for the backbones' heavy blocks (large inputs such as S3D-G at
64x224x224): activations are recomputed in the backward pass instead of being stored.

The blocks keep their parameter names (the wrapper replaces ``forward`` on the instance), so
checkpoints are interchangeable with and without it. BatchNorm running statistics are updated
once more during the recomputation (PyTorch's documented behaviour).
"""

from __future__ import annotations

from typing import Iterable

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint


def heavy_blocks(backbone: nn.Module) -> list[nn.Module]:
    """The sequential blocks of a pacepred backbone: ResNet stages' blocks or ``features`` layers."""
    if hasattr(backbone, "stages"):
        return [block for stage in backbone.stages for block in stage]
    if hasattr(backbone, "features"):
        return [layer for layer in backbone.features if any(p.requires_grad for p in layer.parameters())]
    raise TypeError(f"{type(backbone).__name__} has neither 'stages' nor 'features' to checkpoint")


def checkpoint_blocks(blocks: Iterable[nn.Module]) -> None:
    """Make each block recompute its activations in the backward pass (while gradients are on)."""
    for block in blocks:
        forward = block.forward

        def checkpointed(x: torch.Tensor, _forward=forward) -> torch.Tensor:
            if torch.is_grad_enabled() and x.requires_grad:
                return checkpoint(_forward, x, use_reentrant=False)
            return _forward(x)

        block.forward = checkpointed
