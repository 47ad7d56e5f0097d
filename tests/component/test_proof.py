"""The evidence benchmark's runner and tools (experiments/proof): the pace ceiling, reused jobs,
config digests. The reduced benchmark itself runs in tests/integration/test_proof_run.py."""

import json
from pathlib import Path

import pytest

from tests.helpers.common import REPO, load_run_module


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


def test_a_committed_record_is_reused_on_a_machine_without_the_run_folder(tmp_path):
    """The records (experiments/proof/jobs) let seeds add up across machines: a job found only as
    a record is not run again, unless its result is stale (a checkpoint an evaluation needs is gone)."""
    proof_run = load_run_module()
    calls = []

    def job():
        calls.append(1)
        return {"last_checkpoint": str(tmp_path / "last.ckpt")}

    path, record = tmp_path / "work" / "seed0" / "pace" / "pretrain.json", tmp_path / "records" / "seed0" / "pace" / "pretrain.json"
    settings = {"pretrain": ["model=pace"], "pretrain_config": "0123"}
    proof_run.cached(path, settings, job, record)
    assert json.loads(record.read_text()) == json.loads(path.read_text()) and len(calls) == 1
    path.unlink()  # a fresh clone: the record only
    proof_run.cached(path, settings, job, record)
    assert len(calls) == 1 and path.is_file()
    with pytest.raises(SystemExit, match="made with other settings"):
        proof_run.cached(tmp_path / "elsewhere.json", {**settings, "pretrain_config": "4567"}, job, record)
    proof_run.cached(path, settings, job, record, stale=lambda result: not Path(result["last_checkpoint"]).is_file())
    assert len(calls) == 2  # no checkpoint on this machine: trained again


def test_job_folders_name_a_regenerated_test_part(tmp_path):
    proof_run = load_run_module()
    assert proof_run.job_folder("w", 1, "pace") == Path("w/seed1/pace")
    assert proof_run.job_folder("w", 1, "pace", "test") == Path("w/seed1/pace/test")
    assert proof_run.job_folder("w", 1, "pace", "test", 123) == Path("w/seed1/pace/test-seed123")


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
