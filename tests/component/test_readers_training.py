"""A full pre-training step (train + validation) on every dataset layout, over the real clips."""

import math

import pytest

from tests.helpers.layouts import broken_folder, folder_layout, frame_folders, frames_layout, hmdb51_layout, make_kinetics  # noqa: F401
from pacepred.train import train

STEP = ["debug=fast", "backbone=r3d_w16", "data.decode_size=[64,80]", "data.crop_size=56",
        "trainer.limit_train_batches=1", "trainer.limit_val_batches=1"]


@pytest.mark.parametrize("dataset", ["hmdb51", "kinetics400", "folder", "frames"])
def test_pretraining_step_on_each_layout(dataset, request, make_cfg, tmp_path, real_videos):
    if dataset == "hmdb51":
        source = [f"data.root={request.getfixturevalue('hmdb51_layout')}"]
    elif dataset == "kinetics400":
        source = [f"data.root={make_kinetics(tmp_path / 'k400', real_videos, 'per_class')}"]
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
    from tests.helpers.common import compose_eval

    def run(policy: str, *overrides: str, name: str = "") -> dict:
        cfg = compose_eval(["task=knn", "ckpt=null", "input=rgb", "backbone=r3d_w16", "data=folder",
                            f"data.root={broken_folder}", "data.source.test_every=2", "data.decode_size=[64,80]",
                            "data.crop_size=56", "data.num_workers=0", "task.num_clips=1", f"data.on_bad_video={policy}",
                            *overrides], tmp_path / (name or policy), tmp_path / "data", tmp_path / "logs")
        return evaluate(cfg)

    with pytest.raises(FileNotFoundError, match=r"1 of the 6 videos are missing or empty: .*b_bad/empty\.mp4 is empty"):
        run("raise")  # found before any feature is extracted
    (broken_folder / "b_bad" / "empty.mp4").rename(tmp_path / "empty.mp4")
    with pytest.raises(VideoDecodeError, match=r"b_bad/(corrupted|text)\.mp4"):
        run("raise", name="raise_decoding")  # a file that is there but does not decode: when it is read
    (tmp_path / "empty.mp4").rename(broken_folder / "b_bad" / "empty.mp4")
    result = run("skip")
    # test_every=2: clip2.mp4 and empty.mp4 are the test videos, the other four train
    assert result["info"]["skipped_videos"] == {"train": 2, "test": 1}
    assert (result["info"]["train_videos"], result["info"]["test_videos"]) == (2, 1)
    assert 0.0 <= result["metrics"]["knn/gap/top1"] <= 1.0
    # the list is a skip list: each path relative to data.root after a comment line with its reason
    listing = tmp_path / "skip" / "skipped_videos.txt"
    lines = listing.read_text().splitlines()
    assert lines[1::2] == ["b_bad/corrupted.mp4", "b_bad/empty.mp4", "b_bad/text.mp4"]
    assert lines[2] == "# file is empty (0 bytes)" and all(line.startswith("# ") for line in lines[0::2])
    listed = run("raise", f"data.skip_list={listing}", name="listed")  # no decoding pass
    assert listed["metrics"]["knn/gap/top1"] == result["metrics"]["knn/gap/top1"]
    test_only = tmp_path / "test_videos.txt"
    test_only.write_text("a_good/clip2.mp4\n")
    with pytest.raises(ValueError, match=r"no test videos left to evaluate on \(data.skip_list=.*test_videos.txt, "
                                         r"data.on_bad_video=skip\)"):
        run("skip", f"data.skip_list={test_only}", name="empty")
