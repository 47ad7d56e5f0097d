"""Activation checkpointing for the backbones' heavy blocks (large inputs such as S3D-G at
64x224x224): activations are recomputed in the backward pass instead of being stored.

The blocks keep their parameter names (the wrapper replaces ``forward`` on the instance), and the
recomputation leaves BatchNorm running statistics as the forward pass set them (PyTorch's own
checkpointing would update them a second time), so a run with checkpointing trains and saves the
same model as one without.
"""

from __future__ import annotations

import contextlib
from typing import Iterable, Iterator

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


@contextlib.contextmanager
def _norm_statistics_kept(block: nn.Module) -> Iterator[None]:
    """Restore the block's BatchNorm running statistics (mean, var, batch count) on exit."""
    norms = [m for m in block.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    saved = [[buffer.clone() for buffer in (m.running_mean, m.running_var, m.num_batches_tracked)] for m in norms]
    try:
        yield
    finally:
        with torch.no_grad():
            for m, (mean, var, count) in zip(norms, saved):
                m.running_mean.copy_(mean)
                m.running_var.copy_(var)
                m.num_batches_tracked.copy_(count)


def checkpoint_blocks(blocks: Iterable[nn.Module]) -> None:
    """Make each block recompute its activations in the backward pass (while gradients are on)."""
    for block in blocks:
        forward = block.forward

        def contexts(_block=block):  # (forward pass, recomputation)
            return contextlib.nullcontext(), _norm_statistics_kept(_block)

        def checkpointed(x: torch.Tensor, _forward=forward, _contexts=contexts) -> torch.Tensor:
            if torch.is_grad_enabled():
                return checkpoint(_forward, x, use_reentrant=False, context_fn=_contexts)
            return _forward(x)

        block.forward = checkpointed
