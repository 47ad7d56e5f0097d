"""model=ctr_context: the same-context contrastive loss alone (no pace loss)."""

import math

import torch
from hydra.utils import instantiate

from pacepred.train import train
from tests.helpers.common import real_ucf101 as real


def test_contrastive_only_trains_a_step_on_the_contrastive_loss_alone(ucf101_layout, make_cfg):
    cfg = make_cfg(real(ucf101_layout) + ["backbone=r3d_w16", "model=ctr_context", "input=rgb"])
    assert cfg.model.contrastive.positives == "context" and cfg.model.loss_weights.pace == 0.0
    metrics = train(cfg)["metrics"]
    assert math.isfinite(metrics["train/contrastive_loss"]) and math.isfinite(metrics["train/pace_loss"])
    assert metrics["train/loss"] == metrics["train/contrastive_loss"]


def test_contrastive_only_leaves_the_pace_head_without_gradient(make_cfg):
    cfg = make_cfg(["backbone=r3d_w16", "model=ctr_context"])
    module = instantiate(cfg.model, backbone=instantiate(cfg.backbone), paces=instantiate(cfg.pace_set),
                         optimizer=instantiate(cfg.optim))
    logged = {}
    module.log = lambda name, value, **kwargs: logged.__setitem__(name, value)
    # two videos, two views each (at two different paces): the views of a video are positives
    batch = {"video": torch.randn(4, 3, 8, 32, 32), "pace_label": torch.tensor([0, 2, 1, 3]),
             "video_idx": torch.tensor([0, 0, 1, 1]), "label": torch.tensor([0, 0, 1, 1])}
    module.on_train_start()
    loss = module.training_step(batch, 0)
    assert torch.equal(loss, logged["train/contrastive_loss"])  # the pace loss is not in the total
    assert logged["train/pace_loss"] > 0
    loss.backward()
    assert all(p.grad is None or not p.grad.any() for p in module.pace_head.parameters())
    assert all(p.grad is not None and p.grad.any() for p in module.projection.parameters())
    assert any(p.grad is not None and p.grad.any() for p in module.backbone.parameters())
