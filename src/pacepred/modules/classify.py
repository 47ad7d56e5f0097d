"""ClassifierModule: fine-tune a (pre-trained) backbone with a new linear classifier.

The paper's recognition protocol (docs/evaluation.md, "The protocols"): keep the conv weights, initialise a new
fully connected layer, train the WHOLE network with cross-entropy. Testing takes K clips per
video: clip-level accuracy scores each clip on its own, video-level accuracy the mean of the
clip softmaxes.
"""

from __future__ import annotations

from typing import Any, Callable

import pytorch_lightning as pl
import torch
from torch import Tensor, nn

from pacepred.metrics import topk_correct
from pacepred.modules.finite_loss import FiniteLossGuard


class ClassifierModule(FiniteLossGuard, pl.LightningModule):
    """Backbone + dropout + linear classifier, all trained.

    Args:
        backbone: (N, C, T, H, W) -> (N, out_dim).
        num_classes: classifier outputs.
        optimizer: partial optimizer, called with the parameters.
        scheduler: partial LR scheduler (stepped per epoch), or None.
        dropout: before the classifier.

    Batches: ``video`` float (B*K, C, T, H, W), ``label`` int64 (B,) (K = 1 in training).
    After :meth:`test` (Lightning's), :attr:`test_outputs` holds ``probs`` float (B, C) per video
    (mean clip softmax), ``clip_correct`` bool (B*K,), ``features`` float (B, out_dim) (mean
    pooled backbone feature) and ``labels`` (B,), concatenated over the test set.
    """

    def __init__(
        self, backbone: nn.Module, num_classes: int, optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None, dropout: float = 0.0,
    ):
        super().__init__()
        self.backbone = backbone
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(backbone.out_dim, num_classes))
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.test_outputs: dict[str, list[Tensor]] = {}

    def forward(self, video: Tensor) -> Tensor:
        """(N, C, T, H, W) -> logits (N, num_classes)."""
        return self.classifier(self.backbone(video))

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        logits = self(batch["video"])
        loss = nn.functional.cross_entropy(logits, batch["label"])
        accuracy = (logits.argmax(dim=1) == batch["label"]).float().mean()
        self.queue_finite_check(loss)
        self.log("train/loss", loss, batch_size=logits.shape[0])  # shown by pacepred.callbacks.ProgressBar
        self.log("train/acc", accuracy, prog_bar=True, on_step=False, on_epoch=True, batch_size=logits.shape[0])
        return loss

    def on_test_epoch_start(self) -> None:
        self.test_outputs = {"probs": [], "clip_correct": [], "features": [], "labels": []}

    def test_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        labels = batch["label"]
        b = labels.shape[0]
        features = self.backbone(batch["video"])                  # (B*K, D)
        probs = self.classifier(features).float().softmax(dim=1)  # (B*K, C)
        k = probs.shape[0] // b
        clip_labels = labels.repeat_interleave(k)
        video_probs = probs.view(b, k, -1).mean(dim=1)
        self.test_outputs["probs"].append(video_probs.cpu())
        self.test_outputs["clip_correct"].append((probs.argmax(dim=1) == clip_labels).cpu())
        self.test_outputs["features"].append(features.view(b, k, -1).mean(dim=1).float().cpu())
        self.test_outputs["labels"].append(labels.cpu())
        self.log("test/clip_top1", (probs.argmax(dim=1) == clip_labels).float().mean(), batch_size=b * k)
        self.log("test/video_top1", topk_correct(video_probs, labels, 1).float().mean(), batch_size=b)

    def configure_optimizers(self) -> Any:
        optimizer = self.optimizer_factory(params=self.parameters())
        if self.scheduler_factory is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": self.scheduler_factory(optimizer=optimizer), "interval": "epoch"}}
