"""Cross-rank gathering that keeps gradients (for contrastive negatives under DDP)."""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def gather_with_grad(x: Tensor) -> tuple[Tensor, int]:
    """Concatenate ``x`` (N, ...) from all ranks -> ((world * N, ...), row offset of this rank).

    Gradients flow back to every rank's own rows (``torch.distributed.nn.all_gather``). Every
    rank must pass the same N (samplers pad and the training loader drops the last partial
    batch). Without a process group, returns ``(x, 0)``.
    """
    if not is_distributed():
        return x, 0
    from torch.distributed.nn.functional import all_gather

    gathered = all_gather(x.contiguous())
    return torch.cat(gathered, dim=0), dist.get_rank() * x.shape[0]


def gather_no_grad(x: Tensor) -> Tensor:
    """Concatenate ``x`` (N, ...) from all ranks without gradients (keys, labels)."""
    if not is_distributed():
        return x
    out = [torch.empty_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(out, x.contiguous())
    return torch.cat(out, dim=0)
