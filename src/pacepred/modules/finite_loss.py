"""A check that the training loss is finite on every rank, without stalling the device.

Reading a CUDA loss on the host (``loss.item()``) waits for all the work queued before it: the
device then idles while the host goes on to launch the backward pass. Instead, right after the
forward pass, the check queues on the device the count of ranks whose loss is not finite (an
all-reduce under DDP) and a copy into pinned host memory; before the optimizer step, when the
backward pass is already queued and keeps the device busy, the host waits for that copy only.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor

from pacepred.distributed import is_distributed


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite."""


class QueuedFiniteCheck:
    """Whether one step's loss is finite on every rank, read later.

    Every rank must create one per training step (it joins an all-reduce under DDP), so that the
    ranks stop together: a rank stopping alone would leave the others waiting in the next
    collective operation until the process group's timeout.

    Args:
        loss: () the step's total loss.
        pace_loss: () its pace term, named in the error.
        where: "epoch E, step S", for the error.
    """

    def __init__(self, loss: Tensor, pace_loss: Tensor, where: str):
        values = torch.stack([loss.detach(), pace_loss.detach()]).float()
        not_finite_here = (~torch.isfinite(values[:1])).float()
        not_finite_ranks = not_finite_here.clone()
        if is_distributed():
            dist.all_reduce(not_finite_ranks)  # with NCCL the host does not wait for it
        packed = torch.cat([values, not_finite_here, not_finite_ranks])  # (4,)
        self.where = where
        self.ready = None
        if packed.is_cuda:
            self.host = torch.empty(packed.shape, dtype=packed.dtype, pin_memory=True)
            self.host.copy_(packed, non_blocking=True)
            self.ready = torch.cuda.Event()
            self.ready.record(torch.cuda.current_stream(packed.device))  # the stream of the copy
        else:
            self.host = packed

    def raise_if_not_finite(self) -> None:
        """Wait for the step's values; NonFiniteLossError when the loss is not finite on any rank."""
        if self.ready is not None:
            self.ready.synchronize()
        loss, pace_loss, not_finite_here, not_finite_ranks = self.host.tolist()
        if not_finite_ranks == 0:
            return
        distributed = is_distributed()
        if not_finite_here:
            what, where = loss, " on this rank" if distributed else ""
        else:
            what, where = "not finite", " on another rank"
        raise NonFiniteLossError(f"training loss is {what}{where} at {self.where} (pace loss here {pace_loss}); "
                                 "lower optim.lr or check the input data")
