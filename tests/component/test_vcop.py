"""model=vcop: clip-order tuples (sampling, labels, dataset, batches) and the module (a short fit
and the evaluation of its checkpoint: tests/integration/test_vcop_fit.py)."""

import math

import numpy as np
import pytest
import torch
from hydra.utils import instantiate

from tests.helpers.common import TINY_SYNTHETIC
from pacepred.data.clip_reader import ClipReader
from pacepred.data.clip_order import (
    TupleLayout, draw_order, order_permutations, sample_tuple, tuple_indices, tuple_span,
)
from pacepred.data.decoding import read_clip
from pacepred.data.order_dataset import OrderTupleDataset
from pacepred.train import datamodule_options, train
from pacepred.data.datamodules import ClipRequest

# 3 clips of 8 frames, 4 apart: 32 frames, within the tiny synthetic videos' 40
SHORT_TUPLES = ["model=vcop", "data.clip_len=8", "model.interval=4", "input=rgb"]


def test_tuple_fits_the_video_clips_in_order_interval_frames_apart():
    starts = set()
    for seed in range(400):
        indices = sample_tuple(100, 3, 16, 8, np.random.default_rng(seed))
        assert indices.shape == (3, 16) and indices.dtype == np.int64
        start = int(indices[0, 0])
        assert (indices == start + np.arange(3)[:, None] * 24 + np.arange(16)).all()  # 16 frames, then 8 left out
        assert indices.max() <= 99
        starts.add(start)
    assert starts == set(range(100 - 64 + 1))  # every start whose tuple fits: uniform over 0..36
    assert tuple_span(3, 16, 8) == 64


def test_a_tuple_fills_a_video_of_its_span_exactly_and_wraps_only_in_a_shorter_one():
    exact = sample_tuple(64, 3, 16, 8, np.random.default_rng(0))
    assert exact[0, 0] == 0 and exact[2, -1] == 63
    short = sample_tuple(40, 3, 16, 8, np.random.default_rng(1))
    assert (short == (np.arange(3)[:, None] * 24 + np.arange(16)) % 40).all()  # from frame 0, on from 0 past the end
    assert short[1].tolist() == list(range(24, 40)) and short[2].tolist() == list(range(8, 24))


def test_residual_clips_take_one_more_frame_each_and_keep_the_interval():
    indices = tuple_indices(5, 3, 17, 8, 200)  # clip_len 16 + 1 for input=residual
    assert [row[0] for row in indices.tolist()] == [5, 30, 55]
    assert (np.diff(indices, axis=1) == 1).all() and tuple_span(3, 17, 8) == 67
    assert indices[1, 0] - indices[0, -1] - 1 == 8  # 8 frames left out between clips


def test_order_labels_cover_every_permutation_and_invert():
    orders = order_permutations(3)
    assert len(orders) == len(set(orders)) == 6 and orders[0] == (0, 1, 2) and orders[1] == (0, 2, 1)
    rng = np.random.default_rng(0)
    assert {draw_order(3, rng) for _ in range(200)} == set(range(6))
    clips = np.arange(3) * 10  # stand-ins for the chronological clips
    for label, order in enumerate(orders):
        shown = clips[list(order)]  # shown clip k is the video's order[k]-th
        assert (shown[np.argsort(order)] == clips).all()
        assert orders.index(tuple(int(c) // 10 for c in shown)) == label
    assert len(order_permutations(4)) == 24


def test_tuple_layout_checks_its_values():
    assert TupleLayout(3, 8) == TupleLayout(3, 8, "shared") != TupleLayout(3, 8, "per_clip")
    with pytest.raises(ValueError, match=r"model.num_clips=1: expected an integer >= 2"):
        TupleLayout(1, 8)
    with pytest.raises(ValueError, match=r"model.interval=-1"):
        TupleLayout(3, -1)
    with pytest.raises(ValueError, match=r"model.tuple_crop='each'"):
        TupleLayout(3, 8, "each")


@pytest.fixture
def tiny_records(make_cfg):
    cfg = make_cfg(TINY_SYNTHETIC)
    return instantiate(cfg.data.source).records("train")[0]


def test_dataset_items_are_the_clips_in_the_shown_order(tiny_records):
    record = tiny_records[0]
    dataset = OrderTupleDataset(tiny_records, ClipReader((64, 64), 56), TupleLayout(3, 4), 8, train=False, flip=False)
    whole = read_clip(record.path, lambda n: np.arange(n), (64, 64))[:, 4:60, 4:60]  # the centre crop
    labels = set()
    for seed in range(12):
        item = dataset[(0, seed)]
        assert item["video"].shape == (3, 8, 3, 56, 56) and item["video"].dtype == torch.uint8
        assert item["order_label"].dtype == torch.int64 and item["order_label"].shape == ()
        assert int(item["video_idx"]) == 0 and int(item["label"]) == record.label
        assert item["skipped_idx"].tolist() == [-1] * len(item["skipped_idx"])
        rng = np.random.default_rng(seed)  # the draws of the dataset, replayed
        label = draw_order(3, rng)
        chronological = sample_tuple(len(whole), 3, 8, 4, rng)
        assert int(item["order_label"]) == label
        for k, clip in enumerate(order_permutations(3)[label]):
            expected = torch.from_numpy(whole[chronological[clip]]).permute(0, 3, 1, 2)
            assert torch.equal(item["video"][k], expected), (seed, k)
        labels.add(label)
    assert len(labels) > 1
    per_clip = OrderTupleDataset(tiny_records, ClipReader((64, 64), 56), TupleLayout(3, 4, "per_clip"), 9, train=True,
                                 flip=True)
    assert per_clip[(1, 0)]["video"].shape == (3, 9, 3, 56, 56)


def test_bad_videos_are_skipped_as_in_the_pace_dataset(tiny_records, tmp_path):
    from pacepred.data.records import VideoRecord

    records = [VideoRecord(tmp_path / "missing.mp4", 0), *tiny_records[:2]]
    with pytest.raises(Exception, match="missing.mp4"):
        OrderTupleDataset(records, ClipReader((64, 64), 56), TupleLayout(3, 4), 8, train=True, flip=False)[(0, 0)]
    dataset = OrderTupleDataset(records, ClipReader((64, 64), 56), TupleLayout(3, 4), 8, train=True, flip=False,
                                on_bad_video="skip")
    item = dataset[(0, 3)]
    assert item["skipped_idx"][0] == 0 and int(item["video_idx"]) in (1, 2) and item["video"].shape[0] == 3


def test_the_datamodule_builds_tuples_and_flattens_their_clips(make_cfg):
    cfg = make_cfg(TINY_SYNTHETIC + SHORT_TUPLES + ["input=residual", "data.batch_size=2"])
    module = instantiate(cfg.model, backbone=instantiate(cfg.backbone), paces=instantiate(cfg.pace_set),
                         optimizer=instantiate(cfg.optim))
    assert module.order_tuples == TupleLayout(3, 4, "shared") and not hasattr(module, "num_views")
    datamodule = instantiate(datamodule_options(cfg.data), request=ClipRequest(instantiate(cfg.pace_set), 1, module.order_tuples))
    datamodule.setup("fit")
    assert type(datamodule.datasets["train"]) is type(datamodule.datasets["val"]) is OrderTupleDataset
    batch = next(iter(datamodule.val_dataloader()))
    assert batch["video"].shape == (2, 3, 9, 3, 56, 56)  # 8 frames + 1 for the residual, per clip
    flat = datamodule.on_after_batch_transfer(batch, 0)
    assert flat["video"].shape == (6, 3, 8, 56, 56)  # each clip its own 8 differences
    assert torch.equal(flat["order_label"], batch["order_label"]) and flat["order_label"].shape == (2,)
    assert flat["video_idx"].tolist() == [0, 0, 0, 1, 1, 1] and "pace_label" not in flat
    logits = module(flat["video"])
    assert logits.shape == (2, 6)


@pytest.mark.parametrize("backbone, extra", [
    ("c3d", ["backbone.base_width=8"]),
    ("r3d", ["backbone.base_width=8"]),
    ("r21d", ["backbone.base_width=8"]),
    ("s3d_g", ["backbone.width_mult=0.125"]),
])
def test_one_training_step_per_backbone(backbone, extra, make_cfg):
    cfg = make_cfg(["model=vcop", f"backbone={backbone}", *extra])
    module = instantiate(cfg.model, backbone=instantiate(cfg.backbone), paces=instantiate(cfg.pace_set),
                         optimizer=instantiate(cfg.optim))
    head = module.order_head
    assert head.pair[0].in_features == 2 * module.backbone.out_dim and head.pair[0].out_features == 512
    assert head.fc.in_features == 3 * 512 and head.fc.out_features == 6 and head.dropout.p == 0.5
    logged = {}
    module.log = lambda name, value, **kwargs: logged.__setitem__(name, value)
    module.on_train_start()
    batch = {"video": torch.randn(6, 3, 8, 32, 32), "order_label": torch.tensor([0, 5])}
    loss = module.training_step(batch, 0)
    loss.backward()
    assert math.isfinite(loss.item()) and torch.equal(logged["train/order_loss"], loss)
    parameters = [*module.backbone.parameters(), *module.order_head.parameters()]
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in parameters)
    module.on_before_optimizer_step(None)  # the finite-loss guard passes


def test_the_order_head_pairs_every_two_clips_in_order():
    from pacepred.models.heads import OrderHead

    head = OrderHead(4, 3, hidden=5, dropout=0.0).eval()
    features = torch.randn(2, 3, 4)
    pairs = [torch.cat([features[:, i], features[:, j]], dim=1) for i, j in ((0, 1), (0, 2), (1, 2))]
    expected = head.fc(torch.cat([head.pair(p) for p in pairs], dim=1))
    assert torch.allclose(head(features), expected, atol=1e-6)


