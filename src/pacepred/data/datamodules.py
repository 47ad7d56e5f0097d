"""LightningDataModule for pace pre-training.

Workers decode and crop uint8 clips; after the batch reaches the training device,
:meth:`PaceDataModule.on_after_batch_transfer` applies colour jitter, normalisation and the
input representation there, and flattens the views. The batch the LightningModule sees::

    video      float (N, C, T, H, W)   N = B * V clips, T = clip_len
    pace_label int64 (N,)              (pace clips)
    order_label int64 (B,)             (clip-order tuples: V = the tuple's clips, in the shown order)
    label      int64 (N,)
    video_idx  int64 (N,)              the clip's video (global index in the split)
    skipped_idx int64 (B, K)           per video: the broken videos tried before it, then -1;
                                       stays on the host (read there every step)
"""

from __future__ import annotations

import logging
from fractions import Fraction
from typing import Any, Sequence

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader

from pacepred.data.clip_order import TupleLayout, tuple_span
from pacepred.data.datasets import PaceClipDataset, SeededShardSampler, VideoSampleDataset
from pacepred.data.decoding import check_frame_folder_resize
from pacepred.data.memory import loader_worker_init, retain_freed_memory
from pacepred.data.order_dataset import OrderTupleDataset
from pacepred.data.pace import BOUNDARY_POLICIES, clip_span
from pacepred.data.records import drop_listed
from pacepred.data.transforms import ClipBatchTransform

log = logging.getLogger(__name__)


def training_batches_before(trainer: pl.Trainer) -> int:
    """Training batches this run has taken before the current one (restored on resume).

    The seed of a batch's on-device augmentation: unlike ``global_step``, which counts optimizer
    steps, it differs between the batches of one gradient accumulation, and it equals
    ``global_step`` without accumulation. Meant for ``on_after_batch_transfer``, which runs before
    the loop counts the batch.
    """
    return trainer.fit_loop.total_batch_idx + 1


def jitter_seed(seed: int, batches_before: int, rank: int, world_size: int) -> int:
    """Seed of the batch transform's draws for one training batch: a different one for every
    (batch, rank) pair of a run (the batch count strides by at least the number of ranks), the
    same again when a resumed run reaches that batch."""
    return seed * 1_000_003 + batches_before * max(101, world_size) + rank


class PaceDataModule(pl.LightningDataModule):
    """Pace clips of a dataset ``source`` (anything with ``records(stage)``, e.g. UCF101Split).

    Args:
        source: gives (records, class names) for 'train' and 'test'.
        paces: the pace set, slowest first (label = index).
        clip_len: frames the network sees per clip.
        input_mode: 'rgb' or 'residual' (decodes clip_len + 1 frames and feeds differences).
        num_views: clips per video (2 for the contrastive losses, at two different paces).
        boundary: 'fit' or 'loop' (see :mod:`pacepred.data.pace`).
        decode_size: (height, width) the decoder resizes to, or None.
        crop_size: side of the square crop.
        flip: random horizontal flip in training (off for direction-defined classes).
        batch_transform: the on-device :class:`ClipBatchTransform`.
        batch_size: videos per batch and per process (a batch holds batch_size * num_views clips).
        train_repeat: passes over the train list per epoch (the official recipe repeats it 10 times).
        seed: run seed for the sampler and the on-device jitter.
        on_bad_video: 'raise' (stop, naming the file) or 'skip' (replace it and count it; see
            :class:`pacepred.data.reporting.BadVideoReport`).
        decoder: 'decord' (default) or 'pyav' for video files; frame folders are always read
            by the JPEG 'frames' backend.
        skip_list: a file of videos to leave out of both stages, one path per line relative to
            the source's root (``source.root``, i.e. ``data.root``), or None (see
            :func:`pacepred.data.records.drop_listed`).
        cache_decoded: keep every decoded video in memory (per process).
        frame_folder_resize: frame folders: ``crop`` (resize only the crop) or ``whole`` (resize whole
            frames, then crop; :func:`pacepred.data.decoding.check_frame_folder_resize`).
        retain_freed_memory: keep freed heap memory in this process and the workers instead of
            giving it back to the OS after every clip (:mod:`pacepred.data.memory`, glibc only).
        pin_memory: batches in page-locked memory when training on a GPU (ignored elsewhere):
            copies from it do not wait for the GPU.
        order_tuples: None for pace clips; a :class:`TupleLayout` for clip-order tuples instead
            (:class:`pacepred.data.order_dataset.OrderTupleDataset`; the clip-order module's
            ``order_tuples``): ``paces``, ``num_views`` and ``boundary`` do not apply to them.
    """

    def __init__(
        self,
        source: Any,
        paces: Sequence[Fraction],
        clip_len: int,
        input_mode: str,
        num_views: int,
        boundary: str,
        decode_size: Sequence[int] | None,
        crop_size: int,
        flip: bool,
        batch_transform: ClipBatchTransform,
        batch_size: int,
        train_repeat: int = 1,
        num_workers: int = 0,
        pin_memory: bool = False,
        persistent_workers: bool = False,
        prefetch_factor: int | None = None,
        seed: int = 0,
        on_bad_video: str = "raise",
        decoder: str = "decord",
        skip_list: str | None = None,
        cache_decoded: bool = False,
        retain_freed_memory: bool = True,
        frame_folder_resize: str = "crop",
        order_tuples: TupleLayout | None = None,
    ):
        super().__init__()
        if boundary not in BOUNDARY_POLICIES:
            raise ValueError(f"data.boundary={boundary!r}: expected one of {BOUNDARY_POLICIES}")
        if input_mode != batch_transform.input_mode:
            raise ValueError(f"input_mode {input_mode!r} differs from the batch transform's {batch_transform.input_mode!r}")
        for name, value, least in (("clip_len", clip_len, 1), ("crop_size", crop_size, 1), ("batch_size", batch_size, 1),
                                   ("train_repeat", train_repeat, 1), ("num_workers", num_workers, 0)):
            if not isinstance(value, int) or value < least:
                raise ValueError(f"data.{name}={value!r}: expected an integer >= {least}")
        if decode_size is not None and (len(decode_size) != 2 or min(decode_size) < 1):
            raise ValueError(f"data.decode_size={list(decode_size)}: expected [height, width] (positive), or null")
        if decode_size is not None and min(decode_size) < crop_size:
            raise ValueError(f"data.crop_size={crop_size} is larger than data.decode_size={list(decode_size)}")
        self.source = source
        self.paces = list(paces)
        self.clip_len = clip_len
        self.num_views = num_views
        self.boundary = boundary
        self.decode_size = tuple(decode_size) if decode_size is not None else None
        self.crop_size = crop_size
        self.flip = flip
        self.batch_transform = batch_transform
        self.batch_size = batch_size
        self.train_repeat = train_repeat
        self.loader_options = {
            "num_workers": num_workers,
            "pin_memory": pin_memory,
            "persistent_workers": persistent_workers and num_workers > 0,
            "prefetch_factor": prefetch_factor if num_workers > 0 else None,
            # forked workers inherit the setting from setup(); spawned ones set it themselves
            "worker_init_fn": loader_worker_init(retain_freed_memory, num_workers),
        }
        self.retain_freed_memory = retain_freed_memory
        self.seed = seed
        self.on_bad_video = on_bad_video
        self.decoder = decoder
        self.skip_list = skip_list
        self.cache_decoded = cache_decoded
        self.frame_folder_resize = check_frame_folder_resize(frame_folder_resize)
        self.num_samples = clip_len + (1 if input_mode == "residual" else 0)
        self.order_tuples = order_tuples
        self.datasets: dict[str, VideoSampleDataset] = {}
        self.classes: list[str] = []

    def _dataset(self, stage: str, train: bool, num_views: int) -> VideoSampleDataset:
        records, self.classes = self.source.records(stage)
        if self.skip_list is not None:
            records, dropped = drop_listed(records, self.skip_list, self.source.root)
            print(f"skip list {self.skip_list}: dropped {dropped} of {len(records) + dropped} {stage} videos")
        self._warn_of_wrapping_clips(records, stage)
        if self.order_tuples is not None:
            return OrderTupleDataset(
                records, self.order_tuples, self.num_samples, self.decode_size, self.crop_size, train=train,
                flip=self.flip, on_bad_video=self.on_bad_video, decoder=self.decoder, cache_decoded=self.cache_decoded,
                frame_folder_resize=self.frame_folder_resize,
            )
        return PaceClipDataset(
            records, self.paces, self.num_samples, num_views, self.boundary,
            self.decode_size, self.crop_size, train=train, flip=self.flip, on_bad_video=self.on_bad_video,
            decoder=self.decoder, cache_decoded=self.cache_decoded, frame_folder_resize=self.frame_folder_resize,
        )

    def _warn_of_wrapping_clips(self, records: list, stage: str) -> None:
        """Warn when the fastest pace's clip is longer than videos whose frame count the split
        files give: their clips of that pace wrap around the video's end (a cut inside the clip,
        which the pace task can learn from instead of the motion); with order tuples, when the
        tuple's span is longer (its clips then repeat frames of each other)."""
        lengths = [r.num_frames for r in records if r.num_frames is not None]
        if self.order_tuples is not None:
            layout = self.order_tuples
            span = tuple_span(layout.num_clips, self.num_samples, layout.interval)
            short = sum(length < span for length in lengths)
            if short:
                log.warning("a tuple of %d clips of %d frames, %d apart, spans %d frames, longer than %d of the %d %s "
                            "videos whose length is known (shortest %d frames): their tuples wrap around the end",
                            layout.num_clips, self.num_samples, layout.interval, span, short, len(lengths), stage,
                            min(lengths))
            return
        fastest = max(self.paces)
        span = clip_span(self.num_samples, fastest)
        short = sum(length < span for length in lengths)
        if short:
            log.warning("pace %s: a clip of %d frames spans %d, longer than %d of the %d %s videos whose length is "
                        "known (shortest %d frames): their clips of that pace wrap around the end (a cut inside the "
                        "clip)", fastest, self.num_samples, span, short, len(lengths), stage, min(lengths))

    def setup(self, stage: str | None = None) -> None:
        if self.retain_freed_memory:
            retain_freed_memory()
        if "train" not in self.datasets:
            self.datasets["train"] = self._dataset("train", train=True, num_views=self.num_views)
            self.datasets["val"] = self._dataset("test", train=False, num_views=1)

    def _loader(self, name: str, shuffle: bool, repeat: int = 1) -> DataLoader:
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
        dataset = self.datasets[name]
        # training shards are padded to equal lengths (DDP steps in lockstep); validation shards are
        # not, so that every validation video is counted once over the processes
        sampler = SeededShardSampler(len(dataset), self.seed, shuffle, rank, world, repeat, pad=shuffle)
        if shuffle and len(sampler) < self.batch_size:  # the training loader drops a last partial batch
            raise ValueError(
                f"data.batch_size={self.batch_size} is larger than the {len(sampler)} training samples per process "
                f"({len(dataset)} train videos x data.train_repeat={repeat} over {world} process(es)): no training "
                f"batch; lower data.batch_size or raise data.train_repeat")
        on_gpu = trainer is not None and trainer.strategy.root_device.type == "cuda"
        options = {**self.loader_options, "pin_memory": self.loader_options["pin_memory"] and on_gpu}
        return DataLoader(dataset, batch_size=self.batch_size, sampler=sampler, drop_last=shuffle, **options)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True, repeat=self.train_repeat)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def transfer_batch_to_device(self, batch: dict[str, torch.Tensor], device: torch.device,
                                 dataloader_idx: int) -> dict[str, torch.Tensor]:
        """Everything but ``skipped_idx`` to ``device``: the bad-video report reads that one on the
        host every step, where reading it does not wait for the device."""
        on_device = super().transfer_batch_to_device({k: v for k, v in batch.items() if k != "skipped_idx"},
                                                     device, dataloader_idx)
        return {**on_device, "skipped_idx": batch["skipped_idx"]}

    def on_after_batch_transfer(self, batch: dict[str, torch.Tensor], dataloader_idx: int) -> dict[str, torch.Tensor]:
        """uint8 (B, V, T, C, H, W) -> float (B*V, C, T, H, W), labels flattened to (B*V,)."""
        trainer = self.trainer
        training = trainer is not None and trainer.training
        generator = None
        if training:
            generator = torch.Generator(device=batch["video"].device)
            generator.manual_seed(jitter_seed(self.seed, training_batches_before(trainer), trainer.global_rank,
                                              trainer.world_size))
        views = batch["video"].shape[1]
        self.batch_transform.to(batch["video"].device)  # its mean/std buffers follow the batch
        flat = {
            "video": self.batch_transform(batch["video"], train=training, generator=generator),
            "label": batch["label"].repeat_interleave(views),
            "video_idx": batch["video_idx"].repeat_interleave(views),
        }
        if "pace_label" in batch:
            flat["pace_label"] = batch["pace_label"].reshape(-1)
        return {**batch, **flat}  # other keys (order_label: one per video, skipped_idx) as they are
