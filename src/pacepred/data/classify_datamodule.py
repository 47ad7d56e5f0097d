"""LightningDataModule for fine-tuning: random labelled clips to train, protocol clips to test.

Train batches reuse the pre-training dataset with the single pace 1 (one random clip per video,
``fit`` boundary, random crop, optional flip) and its ``label`` field; test batches are
:class:`pacepred.data.datasets.MultiClipDataset` (``num_clips`` evenly spaced clips, centre
crop). After transfer, the on-device batch transform gives the module::

    video  float (B*K, C, T, H, W)   K = 1 in training, num_clips in testing
    label  int64 (B,)                one label per video
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader

from pacepred.data.clip_reader import ClipReader
from pacepred.data.datamodules import training_batches_before
from pacepred.data.datasets import MultiClipDataset, PaceClipDataset, SeededShardSampler
from pacepred.data.records import VideoRecord
from pacepred.data.transforms import ClipBatchTransform


class ClassifyDataModule(pl.LightningDataModule):
    """Labelled clips of ``train_records`` and ``test_records``.

    Args:
        reader: decoding and crop, as in pre-training (:class:`ClipReader`).
        batch_transform: jitter (training only), normalisation, input representation.
        span: decoded frames per clip (clip_len, +1 for the residual input).
        num_clips: test clips per video; flip: random horizontal flip in training.
        batch_sizes: videos per (training, test) batch; num_workers: loader workers; seed: sampling and jitter.
    """

    def __init__(
        self, train_records: Sequence[VideoRecord], test_records: Sequence[VideoRecord], reader: ClipReader,
        batch_transform: ClipBatchTransform, span: int, num_clips: int, flip: bool, batch_sizes: tuple[int, int],
        num_workers: int = 0, seed: int = 0,
    ):
        super().__init__()
        self.train_set = PaceClipDataset(train_records, reader, [Fraction(1)], span, 1, "fit", train=True, flip=flip)
        self.test_set = MultiClipDataset(test_records, reader, num_clips, span)
        self.batch_transform = batch_transform
        self.batch_size, self.test_batch_size = batch_sizes
        self.num_workers, self.seed = num_workers, seed
        self.worker_init = reader.worker_init(num_workers)

    def train_dataloader(self) -> DataLoader:
        sampler = SeededShardSampler(len(self.train_set), self.seed, shuffle=True)
        return DataLoader(self.train_set, batch_size=self.batch_size, sampler=sampler, drop_last=False,
                          num_workers=self.num_workers, worker_init_fn=self.worker_init)

    def test_dataloader(self) -> DataLoader:
        return DataLoader(self.test_set, batch_size=self.test_batch_size, shuffle=False, drop_last=False,
                          num_workers=self.num_workers, worker_init_fn=self.worker_init)

    def on_after_batch_transfer(self, batch: dict[str, torch.Tensor], dataloader_idx: int) -> dict[str, torch.Tensor]:
        """uint8 (B, K, S, C, H, W) -> float (B*K, C, T, H, W); labels stay (B,)."""
        trainer = self.trainer
        training = trainer is not None and trainer.training
        device = batch["video"].device
        self.batch_transform.to(device)  # its mean/std buffers follow the batch (a no-op once there)
        generator = None
        if training:
            generator = torch.Generator(device=device).manual_seed(self.seed * 1_000_003 + training_batches_before(trainer))
        return {"video": self.batch_transform(batch["video"], train=training, generator=generator),
                "label": batch["label"]}
