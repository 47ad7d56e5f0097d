"""The evidence benchmark's tools: class-balanced label subsets, the held-out part of a run, the
BatchNorm re-estimation of a random baseline, and the bootstrap intervals of experiments/proof."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pacepred.data.records import VideoRecord, balanced_subset, heldout_stage
from pacepred.evaluation.batchnorm import recalibrate_batchnorm
from pacepred.models.r3d import R3D
from tests.helpers.common import load_run_module


def test_balanced_subset_keeps_a_share_of_every_class_drawn_by_the_seed():
    records = [VideoRecord(Path(f"v{i}.mp4"), i % 3) for i in range(30)]
    subset = balanced_subset(records, 0.2, seed=4)
    assert [sum(r.label == c for r in subset) for c in range(3)] == [2, 2, 2]
    assert subset == [r for r in records if r in subset]  # record order kept
    assert balanced_subset(records, 0.2, seed=4) == subset and balanced_subset(records, 0.2, seed=5) != subset
    assert len(balanced_subset(records, 0.01, seed=0)) == 3  # at least one video of each class
    assert balanced_subset(records, 1.0, seed=0) == records
    with pytest.raises(ValueError, match="label_fraction=0: expected a share in"):
        balanced_subset(records, 0, seed=0)


def test_heldout_stage_is_the_validation_part_where_there_is_one():
    class WithValidation:
        stages = ("train", "val", "test")

    assert heldout_stage(WithValidation()) == "val"
    assert heldout_stage(object()) == "test"  # real layouts ship no validation split


def test_batchnorm_recalibration_sets_running_statistics_and_changes_no_weight():
    torch.manual_seed(0)
    network = R3D(base_width=4).eval()
    weights = {k: v.clone() for k, v in network.state_dict().items() if "running" not in k and "num_batches" not in k}
    first = next(m for m in network.modules() if isinstance(m, torch.nn.BatchNorm3d))
    momentum = first.momentum
    clips = torch.randint(0, 256, (6, 1, 4, 3, 16, 16), dtype=torch.uint8)

    class Identity(torch.nn.Module):
        def forward(self, video, train):
            return video.flatten(0, 1).permute(0, 2, 1, 3, 4).float() / 255

    seen = recalibrate_batchnorm(network, [{"video": clips[:3]}, {"video": clips[3:]}], Identity(), torch.device("cpu"))
    assert seen == 6 and not network.training and first.momentum == momentum
    assert first.num_batches_tracked.item() == 2
    inputs = clips.flatten(0, 1).permute(0, 2, 1, 3, 4).float() / 255
    with torch.no_grad():
        conv_out = network.stem[0](inputs)
    # cumulative average: the first BatchNorm's mean is the average of the two batches' means
    means = torch.stack([conv_out[:3].mean(dim=(0, 2, 3, 4)), conv_out[3:].mean(dim=(0, 2, 3, 4))]).mean(0)
    assert torch.allclose(first.running_mean, means, atol=1e-5)
    for key, value in network.state_dict().items():
        if key in weights:
            assert torch.equal(value, weights[key]), key


def test_bootstrap_intervals_cover_known_differences_and_the_gap_share():
    stats = load_run_module("stats")
    rng = np.random.default_rng(0)
    low = (rng.random((5, 400)) < 0.3).astype(np.int8)
    high = (rng.random((5, 400)) < 0.7).astype(np.int8)
    method = (rng.random((5, 400)) < 0.5).astype(np.int8)
    same = stats.difference_interval(low, low)
    assert same.value == 0 and same.low == 0 and same.high == 0
    diff = stats.difference_interval(high, low)
    assert diff.excludes_zero and diff.low < 0.4 < diff.high and diff.high - diff.low < 0.12
    share = stats.gap_share_interval(method, low, high)
    assert share.low < 0.5 < share.high and 0.3 < share.value < 0.7
    noise = stats.difference_interval((rng.random((5, 400)) < 0.5).astype(np.int8),
                                      (rng.random((5, 400)) < 0.5).astype(np.int8))
    assert not noise.excludes_zero
    with pytest.raises(ValueError, match="no gap to close"):
        stats.gap_share_interval(method, high, low)
    with pytest.raises(ValueError, match="one shape"):
        stats.difference_interval(low, low[:, :10])


def test_rekeying_a_record_reads_old_names_as_new_and_refuses_any_other_change():
    """experiments/proof/rekey_records.py: the old config, read under the new names, must equal the
    new one but for the settings added with their old behaviour (ADDED)."""
    rekey = load_run_module("rekey_records")
    assert rekey.new_name("data.batch_transform.jitter_mode") == "data.batch_transform.jitter.mode"
    assert rekey.new_name("callbacks.knn_monitor.batch_transform.hue") == "callbacks.knn_monitor.batch_transform.jitter.hue"
    assert rekey.new_name("model.contrastive") == "model.contrastive.positives"
    assert rekey.renamed_override("model.temperature=0.5") == "model.contrastive.temperature=0.5"
    old = {"model": {"contrastive": None, "temperature": 0.5}, "data": {"source": {"seed": 1}}}
    new = {"model": {"contrastive": {"_target_": "pacepred.modules.settings.Contrastive", "positives": None,
                                     "temperature": 0.5}},
           "data": {"source": {"seed": 1, "colour_levels": 0}}}
    rekey.compare(old, new, "same")
    with pytest.raises(SystemExit, match="model.contrastive.temperature: 0.5 -> 0.2"):
        rekey.compare(old, {**new, "model": {"contrastive": {**new["model"]["contrastive"], "temperature": 0.2}}}, "x")
    with pytest.raises(SystemExit, match="data.source.colour_levels: '<absent>' -> 2"):
        rekey.compare(old, {**new, "data": {"source": {"seed": 1, "colour_levels": 2}}}, "x")
