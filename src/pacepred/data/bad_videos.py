"""Reporting of videos skipped under ``data.on_bad_video=skip``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

from pacepred.data.records import write_skip_list
from pacepred.distributed import gather_no_grad

#: dataset of the datamodule -> (logged metric, file in the run directory)
REPORTS = {"train": ("data/skipped_videos", "skipped_videos.txt"),
           "val": ("data/skipped_val_videos", "skipped_val_videos.txt")}


class BadVideoReport(pl.Callback):
    """Counts the broken videos the training and the validation data skipped and says which.

    Logs ``data/skipped_videos`` (distinct broken training videos seen so far, all ranks) every
    training epoch and ``data/skipped_val_videos`` (validation: a broken test video is replaced by
    another, so the validation metrics count that one twice) every validation, and writes their
    paths to ``<run dir>/skipped_videos.txt`` and ``skipped_val_videos.txt``: skip lists, as the
    evaluations write them (paths relative to the data's root, for ``data.skip_list``). Reads
    ``batch["skipped_idx"]`` (B, K) int64, on the host: the broken videos tried before each
    sample's, -1 for none.
    """

    def __init__(self) -> None:
        self.skipped: dict[str, set[int]] = {name: set() for name in REPORTS}
        self.paths: dict[str, list[str]] = {}  # per dataset: its videos' paths (set up before a checkpoint loads)

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        datasets = getattr(trainer.datamodule, "datasets", {}) if trainer.datamodule is not None else {}
        self.paths = {name: [str(r.path) for r in datasets[name].records] for name in REPORTS if name in datasets}

    @staticmethod
    def _note(seen: set[int], batch: dict[str, torch.Tensor]) -> None:
        seen.update(int(i) for i in batch["skipped_idx"].flatten().tolist() if i >= 0)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any,
                           batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._note(self.skipped["train"], batch)

    def on_validation_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any,
                                batch: dict[str, torch.Tensor], batch_idx: int, dataloader_idx: int = 0) -> None:
        self._note(self.skipped["val"], batch)

    def _report(self, name: str, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Gather every rank's skipped videos of dataset ``name``, log their count, list them."""
        dataset = trainer.datamodule.datasets[name]
        local = torch.zeros(len(dataset), dtype=torch.int64, device=pl_module.device)
        if self.skipped[name]:
            local[list(self.skipped[name])] = 1
        flags = gather_no_grad(local[None]).amax(dim=0)
        indices = flags.nonzero().flatten().tolist()
        self.skipped[name] = set(indices)  # every rank's, so the checkpoint (rank 0's state) keeps them all
        metric, file_name = REPORTS[name]
        pl_module.log(metric, float(len(indices)), sync_dist=True, reduce_fx="max")  # the same on every rank
        if trainer.is_global_zero and indices:
            write_skip_list(Path(trainer.default_root_dir) / file_name, trainer.datamodule.source.root,
                            [(dataset.records[i].path, None) for i in indices],
                            note="data.on_bad_video=skip replaced these videos (each one's reason is in the log)")

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._report("train", trainer, pl_module)

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._report("val", trainer, pl_module)

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"skipped": sorted(self.skipped["train"]), "skipped_val": sorted(self.skipped["val"])}
        if self.paths:  # by path too: a run resumed with a skip list numbers its videos anew
            state["skipped_paths"] = {name: [self.paths[name][i] for i in sorted(self.skipped[name])]
                                      for name in REPORTS if name in self.paths}
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.skipped = {"train": set(state_dict["skipped"]), "val": set(state_dict.get("skipped_val", []))}
        for name, paths in state_dict.get("skipped_paths", {}).items():
            if name in self.paths:  # the videos still in the data (a skip list may have left some out)
                index = {path: i for i, path in enumerate(self.paths[name])}
                self.skipped[name] = {index[path] for path in paths if path in index}
