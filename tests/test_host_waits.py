"""Training steps do nothing that would make the host wait for a GPU, checked on the CPU.

On a GPU each such wait idles the device while the host prepares the next step. CUDA's own
detector (``torch.cuda.set_sync_debug_mode``) runs in tests/test_gpu.py where a GPU is present;
here a dispatch mode records, during steady training steps, the operators that wait for a CUDA
device whatever their input: a value read on the host, an output whose size depends on values, a
check of values that raises, a tensor made from a list of Python numbers (a blocking copy to a
GPU).
"""

import traceback

import pytest
import pytorch_lightning as pl
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from pacepred.train import train

aten = torch.ops.aten
WAITING = {
    aten._local_scalar_dense.default, aten.nonzero.default, aten.masked_select.default, aten.linalg_inv_ex.default,
    aten._unique2.default, aten.unique_dim.default, aten.unique_consecutive.default, aten.bincount.default,
    aten.repeat_interleave.Tensor, aten.is_nonzero.default, aten.equal.default,
}
INDEXING = {aten.index.Tensor, aten.index_put.default, aten.index_put_.default, aten._index_put_impl_.default}
#: functions that work on host tensors by contract (here every tensor is on the host)
HOST_SIDE = {"_order_groups"}


def _caller() -> traceback.FrameSummary | None:
    """The innermost frame outside torch: where the operator was asked for."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        if "/torch/" not in frame.filename and "tests/test_host_waits.py" not in frame.filename:
            return frame
    return None


class _WaitRecorder(TorchDispatchMode):
    """Records the waiting operators it sees (boolean-mask indexing included) and where."""

    def __init__(self):
        super().__init__()
        self.waits: list[tuple[int, str, str]] = []
        self.step = -1

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        masks = func in INDEXING and any(i is not None and i.dtype == torch.bool for i in args[1])
        from_list = func is aten.lift_fresh.default and args[0].dim() > 0  # a Python scalar is no copy
        if func in WAITING or masks or from_list:
            caller = _caller()
            if caller is None or caller.name not in HOST_SIDE:
                where = f"{caller.filename}:{caller.lineno} ({caller.line})" if caller else "?"
                self.waits.append((self.step, str(func), where))
        return func(*args, **(kwargs or {}))


class _RecordSteadySteps(pl.Callback):
    """The recorder on from training step ``first`` to the end of the epoch."""

    def __init__(self, first: int):
        self.first, self.recorder = first, _WaitRecorder()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.recorder.step = batch_idx
        if batch_idx == self.first:
            self.recorder.__enter__()

    def on_train_epoch_end(self, trainer, pl_module):
        if self.recorder.step >= self.first:
            self.recorder.__exit__(None, None, None)


@pytest.mark.parametrize("extra", [
    ["model=pace_ctr_context"],
    ["model=pace_ctr_pace"],
    ["data.batch_transform.jitter_mode=per_frame", "data.batch_transform.jitter_impl=sequential",
     "data.batch_transform.jitter_order=random"],  # the paper recipes' jitter
])
def test_steady_training_steps_have_no_waiting_operator(extra, make_cfg, monkeypatch):
    watch = _RecordSteadySteps(first=2)
    real_trainer = pl.Trainer
    monkeypatch.setattr(pl, "Trainer", lambda **kw: real_trainer(**{**kw, "callbacks": [watch, *kw["callbacks"]]}))
    train(make_cfg(["backbone=r3d_w16", *extra, "data.batch_size=4", "data.num_workers=2",
                    "trainer.max_epochs=1", "trainer.limit_train_batches=6", "trainer.limit_val_batches=0",
                    "trainer.log_every_n_steps=1000"]))
    assert watch.recorder.step == 5  # the steps ran
    assert not watch.recorder.waits, "\n".join(map(str, watch.recorder.waits))
