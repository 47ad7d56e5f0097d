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
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Sequence

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader

from pacepred.data.clip_order import TupleLayout, tuple_span
from pacepred.data.clip_reader import ClipReader
from pacepred.data.datasets import PaceClipDataset, SeededShardSampler, VideoSampleDataset
from pacepred.data.video_index import known_frame_counts
from pacepred.data.loading import LoaderSettings
from pacepred.data.order_dataset import OrderTupleDataset
from pacepred.data.pace import BOUNDARY_POLICIES, clip_span
from pacepred.data.records import VideoRecord
from pacepred.data.transforms import ClipBatchTransform
from pacepred.data.video_list import VideoList

log = logging.getLogger(__name__)


def training_batches_before(trainer: pl.Trainer) -> int:
    """Training batches this run has taken before the current one (restored on resume).

    The seed of a batch's on-device augmentation: unlike ``global_step``, which counts optimizer
    steps, it differs between the batches of one gradient accumulation, and it equals
    ``global_step`` without accumulation. Meant for ``on_after_batch_transfer``, which runs before
    the loop counts the batch.
    """
    return trainer.fit_loop.total_batch_idx + 1


def training_position(trainer: pl.Trainer) -> tuple[int, int]:
    """(epoch, training batches this process has taken in it) as a checkpoint saved now records
    them: a checkpoint at the end of an epoch's training is at the start of the next epoch."""
    epochs = trainer.fit_loop.epoch_progress.current
    if epochs.processed >= epochs.started:  # between epochs
        return epochs.processed, 0
    return epochs.processed, trainer.fit_loop.epoch_loop.batch_progress.current.processed


class ResumableDataLoader(DataLoader):
    """The training loader, with the ``state_dict`` / ``load_state_dict`` of Lightning's stateful
    loaders: Lightning stores its state in every checkpoint (``FitLoop.on_save_checkpoint``) and
    hands it back on resume before the loader's first iterator is made, so a run resumed at any
    step (an epoch's end or its middle) takes the samples it would have taken, with any number of
    workers. The state is the position of the training loop (:func:`training_position`, read by
    ``position``), not of the loader's iterator, which its workers and Lightning's prefetching
    run ahead of. ``sampler`` is a :class:`SeededShardSampler`.
    """

    def __init__(self, *args: Any, position: Callable[[], tuple[int, int]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.position = position

    def state_dict(self) -> dict[str, int]:
        epoch, batches = self.position()
        sampler = self.sampler
        return {"epoch": epoch, "samples": batches * self.batch_size * sampler.world_size,
                "dataset_size": sampler.size, "world_size": sampler.world_size, "batch_size": self.batch_size}

    def load_state_dict(self, state: dict[str, int]) -> None:
        sampler = self.sampler
        changed = [f"{name} {state[name]} -> {now}" for name, now in
                   (("dataset_size", sampler.size), ("world_size", sampler.world_size), ("batch_size", self.batch_size))
                   if state.get(name, now) != now]
        if changed and state["samples"]:
            log.warning("resuming in the middle of epoch %d with %s: the epoch goes on after the first %d samples of "
                        "its order over the new setting (not the samples the interrupted run would have taken)",
                        state["epoch"], ", ".join(changed), state["samples"])
        sampler.resume(state["epoch"], state["samples"])


def jitter_seed(seed: int, batches_before: int, rank: int, world_size: int) -> int:
    """Seed of the batch transform's draws for one training batch: a different one for every
    (batch, rank) pair of a run (the batch count strides by at least the number of ranks), the
    same again when a resumed run reaches that batch."""
    return seed * 1_000_003 + batches_before * max(101, world_size) + rank


@dataclass(frozen=True)
class ClipRequest:
    """What a pre-training module asks of the data: the pace set (slowest first, label = index),
    clips per video (2 for the contrastive losses, at two different paces), and clip-order tuples
    instead of pace clips (a :class:`TupleLayout`: the clip-order module's ``order_tuples``)."""

    paces: Sequence[Fraction]
    num_views: int = 1
    order_tuples: TupleLayout | None = None

    @classmethod
    def of(cls, module: object, paces: Sequence[Fraction]) -> "ClipRequest":
        """The request of a pre-training ``module`` (its ``num_views`` and ``order_tuples``, where it has them)."""
        return cls(list(paces), getattr(module, "num_views", 1), getattr(module, "order_tuples", None))


class PaceDataModule(pl.LightningDataModule):
    """Pace clips (or clip-order tuples) of the videos of ``videos``.

    Args:
        videos: the :class:`pacepred.data.video_list.VideoList` (source, skip list, bad-video
            policy, ``min_frames``); validation reads its held-out stage ('val' where the source
            has a validation part, else 'test').
        reader: the :class:`pacepred.data.clip_reader.ClipReader` (decoding, resizing, crop).
        loader: the :class:`pacepred.data.loading.LoaderSettings` (batch size, repeats, workers).
        batch_transform: the on-device :class:`ClipBatchTransform`; its ``input_mode`` ('rgb',
            'residual': decodes clip_len + 1 frames and feeds differences) is the data's.
        clip_len: frames the network sees per clip.
        request: the module's :class:`ClipRequest` (paces, clips per video, or clip-order tuples
            (:class:`pacepred.data.order_dataset.OrderTupleDataset`), to which paces, views and
            ``boundary`` do not apply).
        boundary: 'fit' or 'loop' (see :mod:`pacepred.data.pace`).
        flip: random horizontal flip in training (off for direction-defined classes).
        seed: run seed for the sampler and the on-device jitter.
    """

    def __init__(
        self,
        videos: VideoList,
        reader: ClipReader,
        loader: LoaderSettings,
        batch_transform: ClipBatchTransform,
        clip_len: int,
        request: ClipRequest,
        boundary: str = "fit",
        flip: bool = True,
        seed: int = 0,
    ):
        super().__init__()
        if boundary not in BOUNDARY_POLICIES:
            raise ValueError(f"data.boundary={boundary!r}: expected one of {BOUNDARY_POLICIES}")
        if not isinstance(clip_len, int) or clip_len < 1:
            raise ValueError(f"data.clip_len={clip_len!r}: expected an integer >= 1")
        self.videos, self.reader, self.loader = videos, reader, loader
        self.source = videos.source
        self.paces = list(request.paces)
        self.clip_len = clip_len
        self.num_views = request.num_views
        self.boundary = boundary
        self.flip = flip
        self.batch_transform = batch_transform
        self.seed = seed
        self.num_samples = clip_len + (1 if batch_transform.input_mode == "residual" else 0)
        self.order_tuples = request.order_tuples
        self.datasets: dict[str, VideoSampleDataset] = {}
        self.classes: list[str] = []

    def _dataset(self, stage: str, train: bool, num_views: int) -> VideoSampleDataset:
        """The dataset of ``stage`` ('train' or 'test'), its videos checked before the first step:
        the skip list's left out, missing or empty files found (:meth:`VideoList.present`), short
        videos counted or left out (:meth:`_check_lengths`); an empty result is an error."""
        videos = self.videos
        records, self.classes, dropped = videos.listed(stage, report=True)
        listed = len(records) + dropped
        records = self._check_lengths(videos.present(records, f"{stage} videos", "found before training"), stage)
        if not records:
            raise ValueError(f"no {stage} videos left of the {listed} that data.source lists (data.skip_list="
                             f"{videos.skip_list}, data.on_bad_video={videos.on_bad_video}, data.min_frames="
                             f"{videos.min_frames}): check the dataset and these settings")
        if self.order_tuples is not None:
            return OrderTupleDataset(records, self.reader, self.order_tuples, self.num_samples, train=train,
                                     flip=self.flip, on_bad_video=videos.on_bad_video)
        return PaceClipDataset(records, self.reader, self.paces, self.num_samples, num_views, self.boundary,
                               train=train, flip=self.flip, on_bad_video=videos.on_bad_video)

    def _check_lengths(self, records: list[VideoRecord], stage: str) -> list[VideoRecord]:
        """Videos shorter than the clip at the fastest pace, where their frame count is known (the
        frame lists', or the video index's: ``python -m pacepred.prep.index``): their clips of the
        fast paces wrap around the video's end (a cut inside the clip, which the pace task can
        learn from instead of the motion; a 3-frame video gives the same clip at paces 3 and 4, with
        different labels). Counted in a warning; ``data.min_frames`` leaves out those shorter than it."""
        counts = {r.path: r.num_frames for r in records if r.num_frames is not None}
        unknown = [r.path for r in records if r.num_frames is None]
        if unknown:
            counts.update(known_frame_counts(unknown, self.source.root))
        min_frames = self.videos.min_frames
        if min_frames is not None:
            kept = [r for r in records if counts.get(r.path, min_frames) >= min_frames]
            print(f"data.min_frames={min_frames}: left out {len(records) - len(kept)} of {len(records)} {stage} "
                  f"videos shorter than it ({len(records) - len(counts)} of unknown length kept: "
                  "python -m pacepred.prep.index counts them)")
            records = kept
        lengths = [counts[r.path] for r in records if r.path in counts]
        if self.order_tuples is not None:
            self._warn_of_wrapping_tuples(lengths, stage)
            return records
        fastest = max(self.paces)
        span = clip_span(self.num_samples, fastest)
        short = sum(length < span for length in lengths)
        if short:
            log.warning("pace %s: a clip of %d frames spans %d, longer than %d of the %d %s videos whose length is "
                        "known (shortest %d frames): their clips of the fast paces wrap around the end (a cut inside "
                        "the clip; clips of different paces can be alike); data.min_frames=%d leaves them out",
                        fastest, self.num_samples, span, short, len(lengths), stage, min(lengths), span)
        return records

    def _warn_of_wrapping_tuples(self, lengths: list[int], stage: str) -> None:
        """Warn when a clip-order tuple spans more frames than videos of known length: their tuples
        wrap around the end (its clips then repeat frames of each other)."""
        layout = self.order_tuples
        span = tuple_span(layout.num_clips, self.num_samples, layout.interval)
        short = sum(length < span for length in lengths)
        if short:
            log.warning("a tuple of %d clips of %d frames, %d apart, spans %d frames, longer than %d of the %d %s "
                        "videos whose length is known (shortest %d frames): their tuples wrap around the end",
                        layout.num_clips, self.num_samples, layout.interval, span, short, len(lengths), stage,
                        min(lengths))

    def setup(self, stage: str | None = None) -> None:
        self.reader.prepare_process()
        if "train" not in self.datasets:
            self.datasets["train"] = self._dataset("train", train=True, num_views=self.num_views)
            self.datasets["val"] = self._dataset(self.videos.heldout, train=False, num_views=1)

    def _loader(self, name: str, shuffle: bool, repeat: int = 1) -> DataLoader:
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
        dataset = self.datasets[name]
        # training shards are padded to equal lengths (DDP steps in lockstep); validation shards are
        # not, so that every validation video is counted once over the processes
        batch_size = self.loader.batch_size
        sampler = SeededShardSampler(len(dataset), self.seed, shuffle, rank, world, repeat, pad=shuffle)
        if shuffle and len(sampler) < batch_size:  # the training loader drops a last partial batch
            raise ValueError(
                f"data.batch_size={batch_size} is larger than the {len(sampler)} training samples per process "
                f"({len(dataset)} train videos x data.train_repeat={repeat} over {world} process(es)): no training "
                f"batch; lower data.batch_size or raise data.train_repeat")
        on_gpu = trainer is not None and trainer.strategy.root_device.type == "cuda"
        options = {**self.loader_options(on_gpu),
                   # its own generator: making an iterator draws its workers' base seed from it, not
                   # from the global one (which a resumed run must find as the checkpoint left it)
                   "generator": torch.Generator().manual_seed(self.seed)}
        if not shuffle or trainer is None:
            return DataLoader(dataset, batch_size=batch_size, sampler=sampler, drop_last=shuffle, **options)
        # the epoch the fit loop is at (restored on resume) before its first iterator is made: the
        # workers take their first indices then, before Lightning sets the epoch
        sampler.set_epoch(trainer.fit_loop.epoch_progress.current.processed)
        return ResumableDataLoader(dataset, batch_size=batch_size, sampler=sampler, drop_last=True,
                                   position=lambda: training_position(trainer), **options)

    def loader_options(self, on_gpu: bool) -> dict[str, Any]:
        """DataLoader options of both loaders; forked workers inherit the reader's memory setting
        from :meth:`setup`, spawned ones set it themselves (``worker_init_fn``)."""
        return self.loader.options(self.reader.worker_init(self.loader.num_workers), on_gpu)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True, repeat=self.loader.train_repeat)

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
