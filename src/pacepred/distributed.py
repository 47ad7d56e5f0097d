"""Cross-rank gathering that keeps gradients (for contrastive negatives under DDP)."""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class _GatherWithGrad(torch.autograd.Function):
    """All-gather whose backward hands every rank the gradient of its own rows summed over the
    ranks (each rank's loss reads every rank's rows): an all-reduce of the gathered gradient,
    then this rank's slice. (``torch.distributed.nn.functional.all_gather`` did this; torch 2.14
    deprecates it.)"""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        out = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(out, x)
        return torch.cat(out, dim=0)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        grad = grad.clone(memory_format=torch.contiguous_format)  # all_reduce works in place: not autograd's tensor
        dist.all_reduce(grad)
        rows = grad.shape[0] // dist.get_world_size()
        return grad[dist.get_rank() * rows : (dist.get_rank() + 1) * rows]


def gather_with_grad(x: Tensor) -> tuple[Tensor, int]:
    """Concatenate ``x`` (N, ...) from all ranks -> ((world * N, ...), row offset of this rank).

    Gradients flow back to every rank's own rows, summed over the ranks' losses. Every rank
    must pass the same N (samplers pad and the training loader drops the last partial batch).
    Without a process group, returns ``(x, 0)``.
    """
    if not is_distributed():
        return x, 0
    return _GatherWithGrad.apply(x.contiguous()), dist.get_rank() * x.shape[0]


def gather_no_grad(x: Tensor) -> Tensor:
    """Concatenate ``x`` (N, ...) from all ranks without gradients (keys, labels)."""
    if not is_distributed():
        return x
    out = [torch.empty_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(out, x.contiguous())
    return torch.cat(out, dim=0)
