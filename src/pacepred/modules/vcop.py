"""ClipOrderModule: video clip order prediction (VCOP; Xu et al., CVPR 2019) with pacepred's
backbones, data, optimiser and trainer.

A tuple of K clips of a video comes in one of K! orders; every clip goes through the backbone
(pooled features f), and :class:`~pacepred.models.heads.OrderHead` classifies the order from
the pairs of clip features: L = CE(order_head(f_1..f_K), order). Only the backbone is kept for
evaluation (its ``backbone.`` keys, as a pace checkpoint's).
"""

from __future__ import annotations

import math
from dataclasses import asdict
from fractions import Fraction
from typing import Any, Callable, Sequence

import pytorch_lightning as pl
import torch
from torch import Tensor, nn
from torchmetrics.classification import MulticlassAccuracy

from pacepred.data.clip_order import TupleLayout
from pacepred.models.heads import OrderHead
from pacepred.modules.backbone_training import BackboneTraining
from pacepred.modules.finite_loss import FiniteLossGuard
from pacepred.modules.settings import Acceleration


class ClipOrderModule(BackboneTraining, FiniteLossGuard, pl.LightningModule):
    """Clip order prediction pre-training.

    Args:
        backbone: video network with ``out_dim``; (N, C, T, H, W) -> (N, out_dim).
        optimizer: partial optimizer, called with the parameters.
        scheduler: partial LR scheduler, called with the optimizer (stepped per epoch), or None.
        num_clips: clips per tuple, K (K! order classes).
        interval: frames left out between consecutive clips of a tuple.
        hidden: width of the pair layer (VCOP's fc7: 512).
        dropout: dropout before the order classifier (VCOP: 0.5).
        tuple_crop: ``shared`` (one crop and flip per tuple) or ``per_clip`` (VCOP's code).
        acceleration: speed and memory switches (:class:`~pacepred.modules.settings.Acceleration`).
        paces: not used (the training entry point gives every pre-training module the pace set).
    """

    def __init__(
        self,
        backbone: nn.Module,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        num_clips: int = 3,
        interval: int = 8,
        hidden: int = 512,
        dropout: float = 0.5,
        tuple_crop: str = "shared",
        acceleration: Acceleration | None = None,
        paces: Sequence[Fraction] | None = None,
    ):
        super().__init__()
        self.layout = TupleLayout(num_clips, interval, tuple_crop)
        self.init_backbone(backbone, optimizer, scheduler, acceleration)
        self.order_head = OrderHead(backbone.out_dim, num_clips, hidden, dropout)
        self.num_orders = math.factorial(num_clips)
        # validate_args=False: the checks of the inputs wait for the device at every update
        self.train_acc = MulticlassAccuracy(self.num_orders, average="micro", validate_args=False)
        self.val_acc = MulticlassAccuracy(self.num_orders, average="micro", validate_args=False)
        # plain values (weights_only loading), given to save_hyperparameters so that the loggers record them
        self.save_hyperparameters({"num_clips": num_clips, "interval": interval, "hidden": hidden, "dropout": dropout,
                                   "tuple_crop": tuple_crop, "acceleration": asdict(acceleration or Acceleration())})

    @property
    def order_tuples(self) -> TupleLayout:
        """How the data must cut tuples (the datamodule's ``order_tuples``)."""
        return self.layout

    @property
    def headline_metric(self) -> tuple[str, float, str]:
        """(metric, its chance level, what the classes are) for the end-of-run line."""
        return "val/order_acc", 1.0 / self.num_orders, f"{self.num_orders} orders"

    def setup(self, stage: str) -> None:
        self.setup_memory_format()

    def forward(self, video: Tensor) -> Tensor:
        """(B * K, C, T, H, W), the clips of each tuple together -> order logits (B, K!)."""
        features = self.features(video)
        return self.order_head(features.view(-1, self.layout.num_clips, features.shape[1]))

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        logits = self(batch["video"])
        loss = nn.functional.cross_entropy(logits.float(), batch["order_label"])
        batch_size = logits.shape[0]
        self.queue_finite_check(loss, {"order loss": loss})
        self.train_acc(logits.detach(), batch["order_label"])
        self.log("train/order_loss", loss, batch_size=batch_size)
        self.log("train/loss", loss, batch_size=batch_size)  # shown by pacepred.callbacks.ProgressBar
        self.log("train/order_acc", self.train_acc, prog_bar=True, on_step=False, on_epoch=True, batch_size=batch_size)
        return loss

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        logits = self(batch["video"])
        batch_size = logits.shape[0]
        self.val_acc(logits, batch["order_label"])
        self.log("val/order_loss", nn.functional.cross_entropy(logits.float(), batch["order_label"]),
                 batch_size=batch_size, sync_dist=True)
        self.log("val/order_acc", self.val_acc, prog_bar=True, on_step=False, on_epoch=True, batch_size=batch_size)
