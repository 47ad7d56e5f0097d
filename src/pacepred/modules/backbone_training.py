"""What the pre-training modules share: the backbone with its speed and memory switches, its
pooled features, and the optimiser and schedule made from partial factories."""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor, nn

from pacepred.models.checkpointing import checkpoint_blocks, heavy_blocks
from pacepred.modules.settings import Acceleration


class BackboneTraining:
    """LightningModule mixin: call :meth:`init_backbone` in the constructor and
    :meth:`setup_memory_format` in ``setup``; gives ``features`` and ``configure_optimizers``."""

    def init_backbone(
        self,
        backbone: nn.Module,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None,
        acceleration: Acceleration | None,
    ) -> None:
        """Keep ``backbone`` (block activations recomputed in the backward pass with
        ``acceleration.activation_checkpointing``, compiled in place with ``acceleration.compile``:
        parameter names unchanged) and the optimizer and scheduler factories."""
        acceleration = acceleration or Acceleration()
        self.backbone = backbone
        if acceleration.activation_checkpointing:
            checkpoint_blocks(heavy_blocks(backbone))
        if acceleration.compile:
            backbone.compile()
        self.channels_last = acceleration.channels_last
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler

    def setup_memory_format(self) -> None:
        """Decide ``channels_last`` on the training device (cuDNN is faster with it) and apply it."""
        if self.channels_last is None:
            self.channels_last = self.trainer.strategy.root_device.type == "cuda"
        if self.channels_last:
            self.backbone.to(memory_format=torch.channels_last_3d)

    def features(self, video: Tensor) -> Tensor:
        """(N, C, T, H, W) -> pooled backbone features (N, out_dim)."""
        if self.channels_last:
            video = video.contiguous(memory_format=torch.channels_last_3d)
        return self.backbone(video)

    def configure_optimizers(self) -> Any:
        optimizer = self.optimizer_factory(params=self.parameters())
        if self.scheduler_factory is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": self.scheduler_factory(optimizer=optimizer), "interval": "epoch"}}
