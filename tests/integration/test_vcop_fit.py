"""model=vcop end to end: a short fit logs order accuracy and its checkpoint evaluates."""

import math

import pytest
import torch

from pacepred.train import train
from tests.component.test_vcop import SHORT_TUPLES
from tests.helpers.common import TINY_SYNTHETIC


@pytest.mark.slow
def test_a_short_fit_logs_order_accuracy_and_its_checkpoint_evaluates(make_cfg, data_dir, tmp_path, capsys):
    from pacepred.eval import evaluate
    from tests.helpers.common import compose_eval

    result = train(make_cfg(TINY_SYNTHETIC + SHORT_TUPLES + ["debug=fast", "trainer.max_epochs=2"], run_name="vcop"))
    metrics = result["metrics"]
    assert 0.0 <= metrics["val/order_acc"] <= 1.0 and math.isfinite(metrics["val/order_loss"])
    assert math.isfinite(metrics["train/order_loss"]) and 0.0 <= metrics["train/order_acc"] <= 1.0
    assert result["headline"] == "val/order_acc" and "val/pace_acc" not in metrics
    assert "final val/order_acc = " in capsys.readouterr().out
    checkpoint = torch.load(result["last_checkpoint"], weights_only=True)
    assert any(k.startswith("order_head.") for k in checkpoint["state_dict"])
    cfg = compose_eval(TINY_SYNTHETIC + ["data.num_workers=0", "task=retrieval", "task.num_clips=3",
                                         f"ckpt={result['last_checkpoint']}"], tmp_path / "eval", data_dir, tmp_path / "logs")
    retrieval = evaluate(cfg)
    assert "R3D from" in capsys.readouterr().out  # the run's backbone, from its config.yaml
    assert {"order_head.fc.weight", "order_head.pair.0.weight"} <= set(retrieval["info"]["ignored_keys"])
    assert 0.0 <= retrieval["metrics"]["retrieval/gap/top1"] <= retrieval["metrics"]["retrieval/gap/top5"] <= 1.0
    assert retrieval["info"]["input"] == "rgb"
