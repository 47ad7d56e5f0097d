"""A reduced evidence benchmark (experiments/proof/run.py): one seed, a few epochs, through the
real command; validation pace accuracy must be clearly above chance. Comparing pace pre-training
with random initialisation is the benchmark's job (make proof), not this test's."""

import json
import subprocess
import sys

import pytest

from conftest import REPO


def load_run_module(name: str = "run"):
    """experiments/proof/<name>.py as a module (a script, not part of the package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"proof_{name}", REPO / "experiments" / "proof" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_pace_ceiling_integral_matches_sampled_clips():
    """The ideal readers of experiments/proof/pace_ceiling.py against 200k sampled (class, pace,
    speed) draws on the kinds ladder, and the degenerate cases: one speed per class is readable."""
    import numpy as np

    ceiling = load_run_module("pace_ceiling")
    factors, paces = [1.4, 0.7, 1.0, 1.4, 0.5, 0.7], [1.0, 2.0, 3.0, 4.0]
    intervals = ceiling.speed_intervals(factors, paces)
    rng = np.random.default_rng(0)
    c, p = rng.integers(0, len(factors), 200_000), rng.integers(0, len(paces), 200_000)
    speed = np.array(paces)[p] * np.array(factors)[c] * rng.uniform(0.9, 1.1, 200_000)
    inside = (intervals[None, ..., 0] <= speed[:, None, None]) & (speed[:, None, None] < intervals[None, ..., 1])
    score = (inside / (intervals[..., 1] - intervals[..., 0])).sum(axis=1)  # (N, P)
    assert ceiling.class_blind_accuracy(intervals) == pytest.approx((score.argmax(1) == p).mean(), abs=0.005)
    assert ceiling.class_aware_accuracy(intervals) == pytest.approx(1.0)
    assert ceiling.class_blind_accuracy(ceiling.speed_intervals([1.0] * 6, paces)) == pytest.approx(1.0)


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
               "--part", "val", "--work", str(tmp_path / "work"), "--out", str(out)]
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


def test_a_finished_job_is_reused_only_with_the_same_settings(tmp_path):
    """Resuming must never put a number made with other settings (e.g. fewer fine-tuning epochs) in the table."""
    proof_run = load_run_module()
    calls = []

    def job():
        calls.append(1)
        return {"top1": 0.5}

    path = tmp_path / "seed0" / "pace" / "finetune_metrics.json"
    settings = {"eval": ["task.max_epochs=2"], "eval_config": "0123"}
    first = proof_run.cached(path, settings, job)
    again = proof_run.cached(path, dict(settings), job)
    assert first == again and first["top1"] == 0.5 and "seconds" in first and len(calls) == 1
    assert json.loads(path.read_text())["commit"] in proof_run.JOB_COMMITS  # the report names the code of every job
    with pytest.raises(SystemExit, match=r"finetune_metrics.json was made with other settings .*max_epochs=2.*max_epochs=10"):
        proof_run.cached(path, {**settings, "eval": ["task.max_epochs=10"]}, job)
    with pytest.raises(SystemExit, match="made with other settings"):  # the same overrides, another config
        proof_run.cached(path, {**settings, "eval_config": "4567"}, job)
    assert len(calls) == 1


def test_a_changed_default_changes_the_config_digest(tmp_path):
    """A job's settings hold its composed config's digest: a default that changes under the same
    overrides (the benchmark's classes, a loss's setting) is a change of settings."""
    from pacepred.config import compose_config

    proof_run = load_run_module()
    base = ["experiment=proof", "model=pace", "seed=0"]
    digest = proof_run.config_digest(compose_config("train", base, tmp_path / "a"))
    assert proof_run.config_digest(compose_config("train", base, tmp_path / "b")) == digest  # paths do not count
    assert proof_run.config_digest(compose_config("train", [*base, "data.source.class_set=directions"],
                                                  tmp_path / "a")) != digest


@pytest.mark.parametrize("name", ["protocol.yaml", "protocol_design.yaml"])
def test_the_committed_protocols_compose(name, tmp_path):
    """Every condition's pre-training and every evaluation of the committed protocols composes into a
    config (a renamed option breaks this test, not a 90-minute run), and every claim names what the
    protocol defines."""
    from pacepred.config import compose_config

    proof_run = load_run_module()
    protocol = proof_run.load_protocol(REPO / "experiments" / "proof" / name)
    for condition, spec in protocol["conditions"].items():
        if spec["pretrain"] is not None:
            cfg = compose_config("train", [*protocol["benchmark"], *spec["pretrain"], "seed=0"], tmp_path / condition)
            assert cfg.input == spec["input"], condition
        for evaluation, overrides in protocol["evaluations"].items():
            if evaluation not in spec.get("skip", []):
                compose_config("eval", [*protocol["eval_data"], *overrides, f"input={spec['input']}", "heldout=val",
                                        "ckpt=null", *protocol["random_evaluation"]], tmp_path / evaluation)
