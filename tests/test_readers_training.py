"""A full pre-training step (train + validation) on every dataset layout, over the real clips."""

import math

import pytest

from fixtures_layouts import broken_folder, folder_layout, frame_folders, frames_layout, hmdb51_layout, make_kinetics  # noqa: F401
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


def test_evaluation_on_a_folder_with_broken_videos(tmp_path, broken_folder):
    """data.on_bad_video in pacepred.eval: raise stops at the first broken video, naming it; skip
    leaves out every video the index cannot decode, lists them and counts them per split."""
    from pacepred.data.decoding import VideoDecodeError
    from pacepred.eval import evaluate
    from test_eval_configs import compose_eval

    def run(policy: str) -> dict:
        cfg = compose_eval(["task=knn", "ckpt=null", "input=rgb", "backbone=r3d_w16", "data=folder",
                            f"data.root={broken_folder}", "data.source.test_every=2", "data.decode_size=[64,80]",
                            "data.crop_size=56", "data.num_workers=0", "task.num_clips=1", f"data.on_bad_video={policy}"],
                           tmp_path / policy, tmp_path / "data", tmp_path / "logs")
        return evaluate(cfg)

    with pytest.raises(VideoDecodeError, match=r"b_bad/(corrupted|empty|text)\.mp4"):
        run("raise")
    result = run("skip")
    # test_every=2: clip2.mp4 and empty.mp4 are the test videos, the other four train
    assert result["info"]["skipped_videos"] == {"train": 2, "test": 1}
    assert (result["info"]["train_videos"], result["info"]["test_videos"]) == (2, 1)
    listed = (tmp_path / "skip" / "skipped_videos.txt").read_text().splitlines()
    assert sorted(line.split("\t")[0].rsplit("/", 1)[1] for line in listed) == ["corrupted.mp4", "empty.mp4", "text.mp4"]
    assert 0.0 <= result["metrics"]["knn/gap/top1"] <= 1.0
