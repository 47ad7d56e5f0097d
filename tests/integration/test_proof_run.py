"""A reduced evidence benchmark (experiments/proof/run.py): one seed, a few epochs, through the
real command; validation pace accuracy must be clearly above chance. Comparing pace pre-training
with random initialisation is the benchmark's job (make proof), not this test's."""

import json
import shutil
import subprocess
import sys

import pytest

from tests.helpers.common import REPO


#: A protocol of the benchmark's shape, sized for CI: the tiny synthetic data with a validation part,
#: two conditions, one evaluation with one clip per video. Every class at one speed and little
#: clutter, so that pace is quickly learnt (the benchmark's ladder makes pace hard on purpose).
REDUCED_PROTOCOL = {
    "seeds": [0],
    "benchmark": ["experiment=proof", "data.source.class_speeds=uniform", "data.source.clutter=low",
                  "data.source.num_train_per_class=12", "data.source.num_val_per_class=6",
                  "data.source.num_test_per_class=6", "data.source.size=32", "data.decode_size=[32,32]",
                  "data.crop_size=24", "trainer.max_epochs=4", "data.batch_size=8"],
    "eval_data": ["data=synthetic_benchmark", "data.source.class_speeds=uniform", "data.source.clutter=low",
                  "data.source.num_train_per_class=12", "data.source.num_val_per_class=6",
                  "data.source.num_test_per_class=6", "data.source.size=32", "data.decode_size=[32,32]",
                  "data.crop_size=24"],
    "random_evaluation": ["bn_recalibration_clips=32"],
    "evaluations": {"linear": ["task=linear", "task.num_clips=1"]},
    "conditions": {"random": {"label": "random", "input": "residual", "pretrain": None},
                   "pace": {"label": "pace", "input": "residual", "pretrain": ["model=pace", "pace=2"]}},
    "columns": {"linear top-1": ["linear", "linear/gap/top1"]},
    "claims": [{"kind": "difference", "a": "pace", "b": "random", "column": "linear top-1",
                "statement": "pace beats random"}],
}


@pytest.mark.slow
def test_reduced_proof_learns_pace_and_writes_its_results_file(tmp_path):
    """The protocol runner end to end: pre-training learns its task (a learning signal) and the one
    results file holds every run, the means with intervals, the claims and the hits behind them."""
    import yaml

    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(yaml.safe_dump(REDUCED_PROTOCOL))
    out = tmp_path / "out"
    command = [sys.executable, str(REPO / "experiments" / "proof" / "run.py"), "--protocol", str(protocol),
               "--part", "val", "--work", str(tmp_path / "work"), "--out", str(out), "--records", str(tmp_path / "records")]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((out / "proof.json").read_text())
    # 2 paces: chance 0.5; the validation part has 42 clips
    accuracy = report["runs"]["pace"]["0"]["pretrain"]["val/pace_acc"]
    assert accuracy > 0.6, f"val/pace_acc {accuracy:.3f} is not clearly above chance (0.5)"
    row = report["table"]["pace"]["linear top-1"]
    assert row["low"] <= row["value"] <= row["high"] and report["part"] == "val"
    (claim,) = report["claims"]
    assert claim["interval"]["low"] <= claim["interval"]["value"] <= claim["interval"]["high"]
    hits = json.loads((out / "per_video.json").read_text())
    assert len(hits["videos"]) == 42 and len(hits["hits"]["pace"]["linear top-1"][0]) == 42
    assert (out / "proof.png").stat().st_size > 10_000
    again = subprocess.run(command, capture_output=True, text=True, cwd=REPO)  # finished jobs are reused
    assert again.returncode == 0 and json.loads((out / "proof.json").read_text())["table"] == report["table"]
    shutil.rmtree(tmp_path / "work")  # another machine: the committed records only, no checkpoints
    fresh = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    assert fresh.returncode == 0, fresh.stdout[-3000:] + fresh.stderr[-3000:]
    assert json.loads((out / "proof.json").read_text())["table"] == report["table"]
    assert not (tmp_path / "work" / "seed0" / "pace" / "pretrain").exists()  # nothing trained again
