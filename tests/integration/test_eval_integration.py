"""Integration: pre-train briefly on the tiny synthetic data with the online monitor, then run
the four downstream tasks through ``pacepred.eval.evaluate`` (features cached and reused only
for the same checkpoint)."""

import json

import pytest

from tests.helpers.common import TINY_SYNTHETIC
import pacepred.data.clip_reader as reader_module
from pacepred.eval import evaluate
from pacepred.train import train
from tests.helpers.common import compose_eval

pytestmark = pytest.mark.slow

FAST = TINY_SYNTHETIC + ["data.num_workers=0"]
# 3 clips per video instead of the protocol's 10 keeps this test short (positions are unit-tested).
CLIPS = ["task.num_clips=3"]


def test_pretrain_then_every_task(make_cfg, data_dir, tmp_path, capsys, monkeypatch):
    pretrain = make_cfg(FAST + [
        "callbacks=monitor", "callbacks.knn_monitor.train_per_class=2", "callbacks.knn_monitor.test_per_class=1",
        "debug=fast", "trainer.max_epochs=2",
    ], run_name="pretrain")
    result = train(pretrain)
    assert 0.0 <= result["metrics"]["monitor/knn_top1"] <= 1.0  # the online monitor ran and logged
    assert 0.0 <= result["metrics"]["monitor/retrieval_top1"] <= result["metrics"]["monitor/retrieval_top5"] <= 1.0
    assert 0.0 <= result["metrics"]["monitor/linear_top1"] <= 1.0
    run_dir = tmp_path / "pretrain"
    last, first = run_dir / "checkpoints" / "last.ckpt", run_dir / "checkpoints" / "epoch000.ckpt"
    logs = tmp_path / "logs"

    def run(task: str, *overrides: str) -> dict:
        cfg = compose_eval(FAST + CLIPS + [f"task={task}", *overrides], tmp_path / f"eval_{task}_{len(overrides)}", data_dir, logs)
        capsys.readouterr()
        return evaluate(cfg)

    retrieval = run("retrieval", f"ckpt={last}")
    out = capsys.readouterr().out
    assert "24 queries (every test video) against a gallery of 48 train videos" in out
    assert "[retrieval | protocol vcop] top1=" in out and "[retrieval | protocol gap] top1=" in out
    for protocol in ("vcop", "gap"):
        assert {f"retrieval/{protocol}/{m}" for m in ("top1", "top5", "top10", "top20", "top50", "mAP")} <= set(retrieval["metrics"])
    assert retrieval["info"]["input"] == "residual" and retrieval["info"]["test_videos"] == 24
    output = tmp_path / "eval_retrieval_1"
    stored = json.loads((output / "metrics.json").read_text())
    assert stored["metrics"] == retrieval["metrics"] and len(stored["per_class"]["retrieval/vcop/top1"]) == 12
    assert "| retrieval | vcop | top1 |" in (output / "metrics.md").read_text()
    for figure in ("retrieval_sheet_vcop.png", "confusion_retrieval_gap.png", "embedding_vcop_test.png"):
        assert (output / "figures" / figure).stat().st_size > 0

    linear = run("linear", f"ckpt={last}")
    assert "train features (gap) from cache" in capsys.readouterr().out
    cached = list((logs / "feature_cache").rglob("*"))
    assert any(p.suffix == ".pt" for p in cached) and not any(p.name.endswith(".partial") for p in cached)
    assert {"linear/gap/top1", "linear/gap/top5", "linear/gap/train_top1"} <= set(linear["metrics"])

    knn = run("knn", f"ckpt={last}")
    assert "test features (gap) from cache" in capsys.readouterr().out
    assert 0.0 <= knn["metrics"]["knn/gap/top1"] <= 1.0

    other = run("knn", f"ckpt={first}")  # another checkpoint file: its own features, never the cached ones
    out = capsys.readouterr().out
    assert "from cache" not in out and "extracting train features (gap)" in out
    assert other["info"]["checkpoint_sha256"] != knn["info"]["checkpoint_sha256"]
    run("knn", f"ckpt={last}", "ckpt_channels=bgr")  # the same file loaded as BGR weights: other features
    out = capsys.readouterr().out
    assert "from cache" not in out and "extracting train features (gap)" in out
    backends, read_clip = [], reader_module.read_clip

    def recording(*args, backend="decord", **kwargs):
        backends.append(backend)
        return read_clip(*args, backend=backend, **kwargs)

    monkeypatch.setattr(reader_module, "read_clip", recording)
    run("knn", f"ckpt={last}", "data.decoder=pyav")  # another decoder: its own features, read with it
    assert "extracting train features (gap)" in capsys.readouterr().out and set(backends) == {"pyav"}
    monkeypatch.undo()

    finetune = run("finetune", f"ckpt={last}", "task.max_epochs=1", "trainer.limit_train_batches=2",
                   "data.batch_size=4", "+trainer.enable_progress_bar=false")
    assert "tested every test video (24) on 3 clips each" in capsys.readouterr().out
    assert {"finetune/3clip/clip_top1", "finetune/3clip/top1", "finetune/3clip/top5"} <= set(finetune["metrics"])
    assert (tmp_path / "eval_finetune_5" / "figures" / "confusion_finetune_3clip.png").is_file()

    scratch = run("knn", "ckpt=null", "input=residual")
    assert scratch["info"]["checkpoint"] == "none (random initialisation)" and "knn/gap/top1" in scratch["metrics"]


def test_a_sweep_over_tasks_lands_in_one_folder_with_its_summary(tmp_path, data_dir):
    """``pacepred.eval -m task=knn,linear``: one sweep folder (not one per task), summarised per task."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PACEPRED_LOG_DIR": str(tmp_path / "logs"), "PACEPRED_DATA_DIR": str(data_dir)}
    result = subprocess.run([sys.executable, "-m", "pacepred.eval", "-m", "task=knn,linear", "ckpt=null", *FAST],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    (sweep,) = (tmp_path / "logs" / "eval" / "multiruns").iterdir()
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["0", "1"]
    summary = json.loads((sweep / "summary.json").read_text())
    assert summary["count"] == 2 and sorted(g["setting"] for g in summary["groups"]) == ["task=knn", "task=linear"]
