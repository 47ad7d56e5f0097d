"""Test helper: records, during steady training steps, what would make the host wait for a CUDA
device: operators that read a value on the host (through ``item``, ``float``, ``bool``), whose
output size depends on values, that index with boolean masks, that check values and raise, or that
make a tensor from a Python list (a blocking copy to a GPU); and cross-rank barriers (each waits
for the GPU under NCCL). ``tolist``, ``cpu`` and ``numpy`` pass no operator on CPU tensors and are
not seen. Used in process by tests/component/test_host_waits.py and, as a Hydra callback
(``+callbacks.waits._target_=tests.helpers.host_waits.RecordSteadySteps``), by the two-process DDP run of
tests/integration/test_integration.py, which reads ``<dir>/waits_rank<r>.json``.
"""

from __future__ import annotations

import json
import traceback
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch.utils._python_dispatch import TorchDispatchMode

WAITING = {
    "aten._local_scalar_dense.default", "aten.nonzero.default", "aten.masked_select.default",
    "aten.linalg_inv_ex.default", "aten._unique2.default", "aten.unique_dim.default",
    "aten.unique_consecutive.default", "aten.bincount.default", "aten.repeat_interleave.Tensor",
    "aten.is_nonzero.default", "aten.equal.default", "c10d.barrier.default",
}
INDEXING = {"aten.index.Tensor", "aten.index_put.default", "aten.index_put_.default", "aten._index_put_impl_.default"}
#: functions that work on host tensors by contract (in these CPU runs every tensor is on the host)
HOST_SIDE = {"_order_groups"}


def _caller() -> traceback.FrameSummary | None:
    """The innermost frame outside torch and this file: where the operator was asked for."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        if "/torch/" not in frame.filename and not frame.filename.endswith("host_waits.py"):
            return frame
    return None


class WaitRecorder(TorchDispatchMode):
    """Notes each waiting operator it sees as (training step, operator, where)."""

    def __init__(self):
        super().__init__()
        self.waits: list[tuple[int, str, str]] = []
        self.step = -1

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = str(func)
        masks = name in INDEXING and any(i is not None and i.dtype == torch.bool for i in args[1])
        from_list = name == "aten.lift_fresh.default" and args[0].dim() > 0  # a Python scalar is no copy
        if name in WAITING or masks or from_list:
            caller = _caller()
            if caller is None or caller.name not in HOST_SIDE:
                where = f"{caller.filename}:{caller.lineno} ({caller.line})" if caller else "?"
                self.waits.append((self.step, name, where))
        return func(*args, **(kwargs or {}))


class RecordSteadySteps(pl.Callback):
    """The recorder on from training step ``first`` to the end of the first epoch's last training
    step (before validation); with ``dir``, its notes written to ``<dir>/waits_rank<r>.json`` as
    {"last_step": s, "waits": [...]}."""

    def __init__(self, first: int = 2, dir: str | None = None):
        self.first, self.dir, self.recorder = first, dir, WaitRecorder()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.current_epoch == 0:
            self.recorder.step = batch_idx
            if batch_idx == self.first:
                self.recorder.__enter__()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.current_epoch != 0 or batch_idx != trainer.num_training_batches - 1 or batch_idx < self.first:
            return
        self.recorder.__exit__(None, None, None)
        if self.dir is not None:
            Path(self.dir).mkdir(parents=True, exist_ok=True)
            notes = {"last_step": self.recorder.step, "waits": self.recorder.waits}
            (Path(self.dir) / f"waits_rank{trainer.global_rank}.json").write_text(json.dumps(notes))
