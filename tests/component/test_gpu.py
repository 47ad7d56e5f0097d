"""CUDA path: bf16 with channels-last, fp16, torch.compile, S3D-G with activation checkpointing, and
the DDP strategy with one process (NCCL starts, the run trains; gathered negatives and SyncBatchNorm
need a second rank: tests/component/test_distributed.py and the two-process gloo run of
tests/integration/test_integration.py check them on CPU). Skipped without a GPU."""

import math
import warnings

import pytest
import pytorch_lightning as pl
import torch

from pacepred.train import train

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]

GPU = ["trainer=gpu", "debug=fast", "trainer.accelerator=gpu", "data.num_workers=2",
       "data.source.num_train_per_class=4", "data.source.num_test_per_class=2", "data.source.num_frames=40"]


@pytest.mark.parametrize("extra", [
    ["model=pace_ctr_context", "trainer.precision=bf16-mixed", "model.acceleration.channels_last=true"],
    ["backbone=r21d", "trainer.precision=16-mixed"],
    ["model.acceleration.compile=true", "trainer.precision=bf16-mixed"],
    ["backbone=s3d_g", "model.acceleration.activation_checkpointing=true", "trainer.precision=bf16-mixed"],
])
def test_gpu_training_steps(extra, make_cfg):
    result = train(make_cfg(GPU + extra))
    assert math.isfinite(result["metrics"]["train/loss"])


def test_ddp_single_node_strategy_runs(make_cfg):
    result = train(make_cfg(GPU + ["trainer=ddp", "trainer.devices=1", "model=pace_ctr_context"]))
    assert math.isfinite(result["metrics"]["train/contrastive_loss"])


class _SyncWatch(pl.Callback):
    """Turns on CUDA's synchronisation warnings from training step ``first`` to the end of the
    epoch and notes how many warnings were recorded before each step."""

    def __init__(self, first: int):
        self.first, self.records, self.marks = first, [], {}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.marks[batch_idx] = len(self.records)
        if batch_idx == self.first:
            torch.cuda.set_sync_debug_mode("warn")

    def on_train_epoch_end(self, trainer, pl_module):
        torch.cuda.set_sync_debug_mode("default")


def test_training_steps_do_not_wait_for_the_device(make_cfg, first_callback):
    """Between logging steps the host never waits for the GPU (a loss read, a metric's argument
    check, the bad-video bookkeeping, the progress bar): each wait idles the GPU while the host
    prepares the next step. The default callbacks are on; logging is every 1000 steps here."""
    watch = _SyncWatch(first=2)
    first_callback(watch)
    cfg = make_cfg(GPU + ["model=pace_ctr_context", "trainer.limit_train_batches=8", "trainer.log_every_n_steps=1000",
                          "trainer.limit_val_batches=0"])
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            watch.records = caught
            train(cfg)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    marks = watch.marks
    waits = [(step, str(w.message)[:160], f"{w.filename}:{w.lineno}") for step in range(2, 7)
             for w in caught[marks[step]:marks[step + 1]]
             if "called a synchronizing CUDA operation" in str(w.message)]
    assert not waits, "\n".join(map(str, waits))
