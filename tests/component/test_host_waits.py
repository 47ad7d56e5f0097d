"""Training steps do nothing that would make the host wait for a GPU, checked on the CPU.

On a GPU each such wait idles the device while the host prepares the next step. CUDA's own
detector (``torch.cuda.set_sync_debug_mode``) runs in tests/component/test_gpu.py where a GPU is present;
here :mod:`host_waits` records, during steady training steps, the operators that would wait for a
CUDA device whatever their input (the two-process DDP run of tests/integration/test_integration.py checks
that no step waits in a cross-rank barrier).
"""

import pytest

from tests.helpers.host_waits import RecordSteadySteps
from pacepred.train import train


@pytest.mark.parametrize("extra", [
    ["model=pace_ctr_context"],
    ["model=pace_ctr_pace"],
    ["data.batch_transform.jitter.mode=per_frame", "data.batch_transform.jitter.impl=sequential",
     "data.batch_transform.jitter.order=random"],  # the paper recipes' jitter
])
def test_steady_training_steps_have_no_waiting_operator(extra, make_cfg, first_callback):
    watch = RecordSteadySteps(first=2)
    first_callback(watch)
    train(make_cfg(["backbone=r3d_w16", *extra, "data.batch_size=4", "data.num_workers=2",
                    "trainer.max_epochs=1", "trainer.limit_train_batches=6", "trainer.limit_val_batches=0",
                    "trainer.log_every_n_steps=1000"]))
    assert watch.recorder.step == 5  # the steps ran
    assert not watch.recorder.waits, "\n".join(map(str, watch.recorder.waits))
