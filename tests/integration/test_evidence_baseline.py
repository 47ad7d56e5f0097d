"""The evidence benchmark's random baseline end to end: BatchNorm re-estimated, a label share."""

import pytest

from pacepred.eval import evaluate
from tests.helpers.common import TINY_SYNTHETIC, compose_eval


@pytest.mark.slow
def test_a_random_baseline_with_recalibrated_batchnorm_and_a_label_share(tmp_path, data_dir):
    """ckpt=null with bn_recalibration_clips: the statistics are re-estimated on train clips (no
    labels), its features cached apart from the plain random network's; label_fraction trains the
    probe on a class-balanced share; every held-out video's hit is written for the bootstrap."""
    common = TINY_SYNTHETIC + ["data.num_workers=0", "task=linear", "task.num_clips=1", "ckpt=null", "input=residual"]
    plain = evaluate(compose_eval(common, tmp_path / "plain", data_dir, tmp_path / "logs"))
    recal = evaluate(compose_eval(common + ["bn_recalibration_clips=20", "task.label_fraction=0.5"],
                                  tmp_path / "recal", data_dir, tmp_path / "logs"))
    assert recal["info"]["bn_recalibration_clips"] == 20 and recal["info"]["labelled_videos"] == 24
    assert "bn_recalibration_clips" not in plain["info"]
    assert recal["metrics"]["linear/gap/top1"] != plain["metrics"]["linear/gap/top1"] or \
        recal["metrics"]["linear/gap/train_top1"] != plain["metrics"]["linear/gap/train_top1"]
    import json

    hits = json.loads((tmp_path / "recal" / "per_video.json").read_text())
    assert len(hits["videos"]) == 24 and len(hits["hits"]["linear/gap/top1"]) == 24
    assert set(hits["hits"]["linear/gap/top1"]) <= {0, 1}
