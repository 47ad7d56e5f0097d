"""Real-video sanity run, end to end: the paper's R3D pre-training recipe (shrunk: narrow R3D,
small frames, a few steps on the CPU) on the real clips of tests/data/videos arranged as UCF101,
then the paper's retrieval protocol preset (both protocols) on the same layout with the
produced last.ckpt, through the same functions the command lines call."""

import json
import math
from pathlib import Path

import pytest

from pacepred.eval import evaluate
from pacepred.train import train
from tests.helpers.common import compose_eval

pytestmark = pytest.mark.slow

# Small frames and a narrow backbone keep the run to seconds; everything else is the preset's.
SMALL = ["data.decode_size=[64,80]", "data.crop_size=56", "data.num_workers=0", "data.pin_memory=false"]
KS = [1, 5, 10, 20, 50]


def test_pretrain_on_real_videos_then_retrieval(ucf101_layout, make_cfg, tmp_path, capsys):
    pretrain = make_cfg(["experiment=paper_r3d_ucf101", "backbone=r3d_w16", "trainer=cpu", "debug=fast",
                         f"data.root={ucf101_layout}", "data.train_repeat=3", "trainer.limit_train_batches=3",
                         *SMALL], run_name="pretrain")
    assert pretrain.input == "rgb" and pretrain.data.boundary == "loop"
    result = train(pretrain)
    run_dir = tmp_path / "pretrain"
    last = run_dir / "checkpoints" / "last.ckpt"
    assert last.is_file() and Path(result["last_checkpoint"]) == last
    assert math.isfinite(result["metrics"]["train/loss"])
    assert 0.0 <= result["metrics"]["val/pace_acc"] <= 1.0
    assert result["paces"] == ["1", "2", "3", "4"]
    assert (run_dir / "metrics.json").is_file() and (run_dir / "config.yaml").is_file()

    output = tmp_path / "retrieval"
    cfg = compose_eval(["protocol=paper_retrieval_ucf101", f"ckpt={last}", f"data.root={ucf101_layout}", "device=cpu",
                        *SMALL], output, tmp_path / "data", tmp_path / "logs")
    capsys.readouterr()
    report = evaluate(cfg)
    out = capsys.readouterr().out
    # Every test video is a query, every train video in the gallery (2 and 2 in this layout).
    assert "2 queries (every test video) against a gallery of 2 train videos" in out
    assert report["info"]["test_videos"] == 2 and report["info"]["train_videos"] == 2
    assert report["info"]["input"] == "rgb" and report["info"]["clips_per_video"] == 10
    assert report["info"]["checkpoint"] == str(last)
    assert "R3D" in report["info"]["backbone"]["_target_"] and report["info"]["backbone"]["base_width"] == 16
    metrics = report["metrics"]
    for protocol in ("vcop", "gap"):
        values = [metrics[f"retrieval/{protocol}/top{k}"] for k in KS]
        assert all(0.0 <= v <= 1.0 for v in values), values
        assert values == sorted(values), f"{protocol}: top-k must not decrease with k: {values}"
        assert values[-1] == 1.0  # k beyond the gallery: every class has a train video
        assert 0.0 <= metrics[f"retrieval/{protocol}/mAP"] <= 1.0
    stored = json.loads((output / "metrics.json").read_text())
    assert stored["metrics"] == metrics and stored["test_videos"] == 2
    markdown = (output / "metrics.md").read_text()
    assert "| retrieval | vcop | top1 |" in markdown and "| retrieval | gap | top50 |" in markdown
    for figure in ("retrieval_sheet_vcop.png", "retrieval_sheet_gap.png", "confusion_retrieval_vcop.png"):
        assert (output / "figures" / figure).stat().st_size > 0
    assert (output / "config.yaml").is_file() and (output / "run_info.json").is_file()
