"""A full pre-training step (train + validation) on every dataset layout, over the real clips."""

import math

import pytest

from fixtures_layouts import folder_layout, frame_folders, frames_layout, hmdb51_layout, make_kinetics  # noqa: F401
from pacepred.train import train

STEP = ["debug=fast", "backbone=r3d_w16", "data.decode_size=[64,80]", "data.crop_size=56",
        "trainer.limit_train_batches=1", "trainer.limit_val_batches=1"]


@pytest.mark.parametrize("dataset", ["hmdb51", "kinetics400", "folder", "frames"])
def test_pretraining_step_on_each_layout(dataset, request, make_cfg, tmp_path, shared_videos):
    if dataset == "hmdb51":
        source = [f"data.root={request.getfixturevalue('hmdb51_layout')}"]
    elif dataset == "kinetics400":
        source = [f"data.root={make_kinetics(tmp_path / 'k400', shared_videos, 'per_class')}"]
    elif dataset == "folder":
        source = [f"data.root={request.getfixturevalue('folder_layout')}", "data.source.test_every=2"]
    else:
        source = [f"data.root={request.getfixturevalue('frames_layout')}", "data.source.frames_dir=frames",
                  "data.source.flat=false"]
    result = train(make_cfg([f"data={dataset}", *source, *STEP]))
    assert math.isfinite(result["metrics"]["train/loss"])
    assert 0.0 <= result["metrics"]["val/pace_acc"] <= 1.0
