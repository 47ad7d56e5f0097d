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
        where: "epoch E, step S", for the error.
        terms: () terms of the loss named in the error, e.g. ``{"pace loss": ...}``.
    """

    def __init__(self, loss: Tensor, where: str, terms: dict[str, Tensor] | None = None):
        terms = terms or {}
        values = torch.stack([loss.detach(), *(t.detach() for t in terms.values())]).float()
        not_finite_here = (~torch.isfinite(values[:1])).float()
        not_finite_ranks = not_finite_here.clone()
        if is_distributed():
            dist.all_reduce(not_finite_ranks)  # with NCCL the host does not wait for it
        packed = torch.cat([not_finite_here, not_finite_ranks, values])  # (2 + 1 + len(terms),)
        self.where, self.term_names = where, list(terms)
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
        not_finite_here, not_finite_ranks, loss, *terms = self.host.tolist()
        if not_finite_ranks == 0:
            return
        distributed = is_distributed()
        if not_finite_here:
            what, where = loss, " on this rank" if distributed else ""
        else:
            what, where = "not finite", " on another rank"
        detail = "".join(f" ({name} here {value})" for name, value in zip(self.term_names, terms))
        raise NonFiniteLossError(f"training loss is {what}{where} at {self.where}{detail}; "
                                 "lower optim.lr or check the input data")


class FiniteLossGuard:
    """LightningModule mixin: ``self.queue_finite_check(loss, terms)`` in ``training_step``;
    NonFiniteLossError before the optimizer step when any queued step's loss (on any rank) is not
    finite, so it never reaches the weights."""

    def queue_finite_check(self, loss: Tensor, terms: dict[str, Tensor] | None = None) -> None:
        where = f"epoch {self.current_epoch}, step {self.global_step}"
        self._finite_checks.append(QueuedFiniteCheck(loss, where, terms))

    def on_train_start(self) -> None:
        self._finite_checks: list[QueuedFiniteCheck] = []  # steps since the last optimizer step

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        checks, self._finite_checks = self._finite_checks, []
        for check in checks:
            check.raise_if_not_finite()
