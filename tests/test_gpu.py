"""CUDA path: bf16 with channels-last, fp16, torch.compile, S3D-G with activation checkpointing, and
the DDP strategy with one process (NCCL starts, the run trains; gathered negatives and SyncBatchNorm
need a second rank: tests/test_distributed.py and the two-process gloo run of
tests/test_integration.py check them on CPU). Skipped without a GPU."""

import math

import pytest
import torch

from pacepred.train import train

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]

GPU = ["trainer=gpu", "debug=fast", "trainer.accelerator=gpu", "data.num_workers=2",
       "data.source.num_train_per_class=4", "data.source.num_test_per_class=2", "data.source.num_frames=40"]


@pytest.mark.parametrize("extra", [
    ["model=pace_ctr_context", "trainer.precision=bf16-mixed", "model.channels_last=true"],
    ["backbone=r21d", "trainer.precision=16-mixed"],
    ["model.compile=true", "trainer.precision=bf16-mixed"],
    ["backbone=s3d_g", "model.activation_checkpointing=true", "trainer.precision=bf16-mixed"],
])
def test_gpu_training_steps(extra, make_cfg):
    result = train(make_cfg(GPU + extra))
    assert math.isfinite(result["metrics"]["train/loss"])


def test_ddp_single_node_strategy_runs(make_cfg):
    result = train(make_cfg(GPU + ["trainer=ddp", "trainer.devices=1", "model=pace_ctr_context"]))
    assert math.isfinite(result["metrics"]["train/contrastive_loss"])
