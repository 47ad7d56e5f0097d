"""Reporting of videos skipped under ``data.on_bad_video=skip``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

from pacepred.distributed import gather_no_grad


class BadVideoReport(pl.Callback):
    """Counts the broken videos the training data skipped and says which.

    Logs ``data/skipped_videos`` (distinct broken videos seen so far, all ranks) every epoch and
    writes their paths to ``<run dir>/skipped_videos.txt``. Reads ``batch["skipped_idx"]`` (B, K)
    int64: the broken videos tried before each sample's, -1 for none.
    """

    def __init__(self) -> None:
        self.skipped: set[int] = set()

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any,
                           batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self.skipped.update(int(i) for i in batch["skipped_idx"].flatten().tolist() if i >= 0)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        local = torch.zeros(len(trainer.datamodule.datasets["train"]), dtype=torch.int64, device=pl_module.device)
        if self.skipped:
            local[list(self.skipped)] = 1
        flags = gather_no_grad(local[None]).amax(dim=0)
        indices = flags.nonzero().flatten().tolist()
        self.skipped = set(indices)  # every rank's, so the checkpoint (rank 0's state) keeps them all
        pl_module.log("data/skipped_videos", float(len(indices)), rank_zero_only=True)
        if trainer.is_global_zero and indices:
            records = trainer.datamodule.datasets["train"].records
            path = Path(trainer.default_root_dir) / "skipped_videos.txt"
            path.write_text("".join(f"{records[i].path}\n" for i in indices))

    def state_dict(self) -> dict[str, Any]:
        return {"skipped": sorted(self.skipped)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.skipped = set(state_dict["skipped"])
