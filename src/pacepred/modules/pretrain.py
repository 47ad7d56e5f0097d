"""PacePretrainModule: a backbone, the pace head and the optional contrastive branch.

L = w_pace * CE(pace_head(f), pace) + w_ctr * NT-Xent(proj_head(f)) + w_sup * CE(class_head(f), label),
f = backbone(video). The supervised term (off by default) trains on the action labels: the upper
bound the evidence benchmark compares pace pre-training with (``model=supervised``).
The contrastive positives are clips of the same video ("context", the paper's better variant)
or clips of the same pace ("pace"); under DDP the candidates are gathered from every rank with
gradients. Both losses run in float32 under mixed precision.
"""

from __future__ import annotations

from dataclasses import asdict
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Sequence

import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities import rank_zero_warn
from torch import Tensor, nn
from torchmetrics.classification import MulticlassAccuracy, MulticlassConfusionMatrix

from pacepred.distributed import gather_no_grad, gather_with_grad
from pacepred.losses.contrastive import nt_xent
from pacepred.losses.pace import pace_loss
from pacepred.models.heads import PaceHead, ProjectionHead
from pacepred.modules.backbone_training import BackboneTraining
from pacepred.modules.finite_loss import FiniteLossGuard
from pacepred.modules.settings import Acceleration, Contrastive
from pacepred.figures import save_confusion_matrix


class PacePretrainModule(BackboneTraining, FiniteLossGuard, pl.LightningModule):
    """Pace prediction (+ contrastive) pre-training.

    Args:
        backbone: video network with ``out_dim``; (N, C, T, H, W) -> (N, out_dim).
        paces: the pace set, slowest first; the head has ``len(paces)`` outputs.
        optimizer: partial optimizer, called with the parameters.
        scheduler: partial LR scheduler, called with the optimizer (stepped per epoch), or None.
        contrastive: the contrastive branch (:class:`~pacepred.modules.settings.Contrastive`;
            None or ``positives`` None: none).
        loss_weights: ``{"pace": w_pace, "contrastive": w_ctr, "supervised": w_sup}``.
        num_classes: action classes of the supervised term (needed when ``w_sup > 0``).
        head_dropout: dropout before the pace classifier.
        head_hidden: None for a linear pace classifier (the official code), N for an MLP head
            with N hidden units (:class:`PaceHead`).
        acceleration: speed and memory switches (:class:`~pacepred.modules.settings.Acceleration`).
    """

    def __init__(
        self,
        backbone: nn.Module,
        paces: Sequence[Fraction],
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        contrastive: Contrastive | None = None,
        loss_weights: dict[str, float] | None = None,
        head_dropout: float = 0.0,
        head_hidden: int | None = None,
        acceleration: Acceleration | None = None,
        num_classes: int | None = None,
    ):
        super().__init__()
        if isinstance(contrastive, str):  # a preset or override from before the settings were grouped
            raise ValueError(f"model.contrastive={contrastive!r}: the contrastive settings are a node now, "
                             f"model.contrastive.positives={contrastive}")
        contrastive = contrastive or Contrastive()
        self.init_backbone(backbone, optimizer, scheduler, acceleration)
        self.paces = [str(p) for p in paces]
        self.pace_head = PaceHead(backbone.out_dim, len(paces), dropout=head_dropout, hidden=head_hidden)
        self.contrastive = contrastive.positives
        self.projection = (ProjectionHead(backbone.out_dim, contrastive.proj_hidden, contrastive.proj_dim)
                           if self.contrastive else None)
        self.temperature = contrastive.temperature
        # Plain floats (not an OmegaConf node): checkpoints stay loadable with weights_only=True.
        loss_weights = {"pace": 1.0, "contrastive": 1.0, "supervised": 0.0,
                        **{k: float(v) for k, v in (loss_weights or {}).items()}}
        self.loss_weights = loss_weights
        if loss_weights["pace"] > 0 and len(paces) < 2:
            raise ValueError(f"a pace task needs at least 2 paces, the pace set is {[str(p) for p in paces]}: set pace >= 2 "
                             "(a single pace suits model=supervised, which trains on the labels alone)")
        if loss_weights["supervised"] > 0 and not num_classes:
            raise ValueError("model.loss_weights.supervised > 0 needs model.num_classes (the dataset's classes)")
        self.class_head = nn.Linear(backbone.out_dim, num_classes) if loss_weights["supervised"] > 0 else None
        num_paces = len(paces)
        # validate_args=False: the checks of the inputs wait for the device at every update
        self.train_acc = MulticlassAccuracy(num_paces, average="micro", validate_args=False)
        # the epoch's counts so far go into checkpoints: a run resumed inside an epoch reports its accuracy
        self.train_acc.persistent(True)
        self.val_acc = MulticlassAccuracy(num_paces, average="micro", validate_args=False)
        self.val_confusion = MulticlassConfusionMatrix(num_paces, validate_args=False)
        # the supervised term's accuracy on the held-out part: what early stopping of the bound watches
        self.val_class_acc = (MulticlassAccuracy(num_classes, average="micro", validate_args=False)
                              if self.class_head is not None else None)
        # plain values (not dataclasses, not OmegaConf nodes): checkpoints stay loadable with
        # weights_only=True; given to save_hyperparameters, so that the loggers record them too
        self.save_hyperparameters({
            "contrastive": asdict(contrastive), "loss_weights": loss_weights, "head_dropout": head_dropout,
            "head_hidden": head_hidden, "acceleration": asdict(acceleration or Acceleration()),
            "num_classes": num_classes, "paces": self.paces})

    @property
    def has_pace_task(self) -> bool:
        """Whether the pace set has paces to tell apart (one pace: a supervised run at natural speed)."""
        return len(self.paces) > 1

    @property
    def num_views(self) -> int:
        """Clips per video the data must provide: 2 with a contrastive loss, else 1."""
        return 2 if self.contrastive else 1

    def setup(self, stage: str) -> None:
        classes = getattr(getattr(self.trainer, "datamodule", None), "classes", None)
        if self.class_head is not None and classes and len(classes) != self.class_head.out_features:
            raise ValueError(f"model.num_classes={self.class_head.out_features}, but the training data has "
                             f"{len(classes)} classes ({', '.join(classes[:3])}, ...): set model.num_classes="
                             f"{len(classes)}, or null to take the data's")
        self.setup_memory_format()

    def forward(self, video: Tensor) -> Tensor:
        """(N, C, T, H, W) -> pace logits (N, num_paces)."""
        return self.pace_head(self.features(video))

    def _contrastive_loss(self, features: Tensor, batch: dict[str, Tensor]) -> Tensor:
        keys = batch["video_idx"] if self.contrastive == "context" else batch["pace_label"]
        projections = self.projection(features)
        candidates, offset = gather_with_grad(projections)
        return nt_xent(projections, keys, candidates, gather_no_grad(keys), offset, self.temperature)

    def _check_head_norm_batch(self, rows: int) -> None:
        """ValueError when the heads' BatchNorm cannot train on ``rows`` clips per process: one
        clip has no batch statistics, and in ``context`` mode the two views of a single video
        are normalised into opposite vectors (each other's negative: a useless positive pair)."""
        heads = [self.pace_head, *([self.projection] if self.projection is not None else [])]
        norms = [m for head in heads for m in head.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        if not norms:
            return
        if rows < 2:
            raise ValueError("a training batch of 1 clip per process cannot train the BatchNorm of the pace head's "
                             "MLP (model.head_hidden) or of the projection head: set data.batch_size >= 2")
        synced = isinstance(norms[-1], nn.SyncBatchNorm) and self._trainer is not None and self.trainer.world_size > 1
        if self.contrastive == "context" and rows == self.num_views and not synced:
            raise ValueError("1 video per process in the context contrastive mode: the projection head's BatchNorm "
                             "maps its two views to opposite vectors; set data.batch_size >= 2 (or, with several "
                             "processes, trainer.sync_batchnorm=true)")

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        self._check_head_norm_batch(batch["video"].shape[0])
        features = self.features(batch["video"])
        logits = self.pace_head(features)
        loss_pace = pace_loss(logits, batch["pace_label"])
        loss = self.loss_weights["pace"] * loss_pace
        batch_size = logits.shape[0]
        if self.contrastive:
            candidates = batch_size * (self.trainer.world_size if self._trainer is not None else 1)
            if self.contrastive == "pace" and candidates <= len(self.paces):
                rank_zero_warn(f"model.contrastive.positives=pace with {candidates} clips per step over all processes and "
                               f"{len(self.paces)} paces: a batch whose clips all differ in pace has no positive pair "
                               f"and adds no contrastive loss; use more than {len(self.paces)} clips")
            loss_ctr = self._contrastive_loss(features, batch)
            loss = loss + self.loss_weights["contrastive"] * loss_ctr
            self.log("train/contrastive_loss", loss_ctr, batch_size=batch_size)
        if self.class_head is not None:
            loss_sup = nn.functional.cross_entropy(self.class_head(features), batch["label"])
            loss = loss + self.loss_weights["supervised"] * loss_sup
            self.log("train/class_loss", loss_sup, batch_size=batch_size)
        self.queue_finite_check(loss, {"pace loss": loss_pace})
        self.log("train/loss", loss, batch_size=batch_size)  # shown by pacepred.callbacks.ProgressBar
        if self.has_pace_task:
            self.train_acc(logits.detach(), batch["pace_label"])
            self.log("train/pace_loss", loss_pace, batch_size=batch_size)
            self.log("train/pace_acc", self.train_acc, prog_bar=True, on_step=False, on_epoch=True, batch_size=batch_size)
        return loss

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        features = self.features(batch["video"])
        logits = self.pace_head(features)
        if self.class_head is not None:
            self.val_class_acc(self.class_head(features), batch["label"])
            self.log("val/class_acc", self.val_class_acc, on_step=False, on_epoch=True, batch_size=logits.shape[0])
        if not self.has_pace_task:
            return
        self.val_acc(logits, batch["pace_label"])
        self.val_confusion(logits, batch["pace_label"])
        batch_size = logits.shape[0]
        self.log("val/pace_loss", pace_loss(logits, batch["pace_label"]), batch_size=batch_size, sync_dist=True)
        self.log("val/pace_acc", self.val_acc, prog_bar=True, on_step=False, on_epoch=True, batch_size=batch_size)

    def on_validation_epoch_end(self) -> None:
        if not self.has_pace_task:
            return
        matrix = self.val_confusion.compute().cpu()
        self.val_confusion.reset()
        if self.trainer.is_global_zero and not self.trainer.sanity_checking:
            path = Path(self.trainer.default_root_dir) / "confusion" / f"val_pace_epoch{self.current_epoch:03d}.png"
            save_confusion_matrix(matrix, [f"x{p}" for p in self.paces], path,
                                  title=f"validation pace confusion, epoch {self.current_epoch}")

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """A checkpoint from before the training accuracy's counts were saved resumes with them at 0."""
        state = checkpoint.get("state_dict")
        if state is not None:
            for key, value in self.train_acc.state_dict(prefix="train_acc.").items():
                state.setdefault(key, torch.zeros_like(value))
