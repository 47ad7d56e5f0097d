"""Test helper callback (imported by a training subprocess): writes the video indices each rank
trained on to ``<dir>/seen_rank<r>.json`` and those it validated on (every validation epoch) to
``<dir>/val_rank<r>.json``."""

import json
from pathlib import Path

import pytorch_lightning as pl


class SeenVideos(pl.Callback):
    def __init__(self, dir: str):
        self.dir, self.seen, self.validated = Path(dir), [], []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.seen += batch["video_idx"].tolist()

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        if not trainer.sanity_checking:
            self.validated += batch["video_idx"].tolist()

    def on_train_end(self, trainer, pl_module):
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / f"seen_rank{trainer.global_rank}.json").write_text(json.dumps(self.seen))
        (self.dir / f"val_rank{trainer.global_rank}.json").write_text(json.dumps(self.validated))
