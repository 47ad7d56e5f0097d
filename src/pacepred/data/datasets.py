"""Map-style datasets of videos (pace clips, and every protocol clip of a video for the
evaluation) and the seeded sampler that drives the randomness of the first.

Randomness is an argument: the sampler yields ``(index, seed)`` keys, and every random choice
of a sample (paces, starts, crop, flip) comes from ``numpy.random.default_rng(seed)``. The seed
is derived from (run seed, epoch, index), so a sample is the same whatever the number of
workers, the rank layout or an interruption and resume at any step (the sampler restarts at a
position of an epoch's order: :meth:`SeededShardSampler.resume`).
"""

from __future__ import annotations

import logging
import os
from fractions import Fraction
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from pacepred.data.clip_positions import protocol_clip_indices
from pacepred.data.clip_reader import ClipReader
from pacepred.data.decoding import VideoDecodeError, frame_count
from pacepred.data.pace import draw_pace_labels, sample_pace_clip
from pacepred.data.records import VideoRecord
from pacepred.data.video_list import check_bad_video_policy

log = logging.getLogger(__name__)

MAX_CONSECUTIVE_BAD = 20


def sample_seed(run_seed: int, epoch: int, index: int) -> int:
    """A 63-bit seed for one sample of one epoch (``-1`` epoch = evaluation)."""
    return int(np.random.SeedSequence([run_seed, epoch + 1, index]).generate_state(2, np.uint64)[0] >> 1)


class VideoSampleDataset(Dataset):
    """Base of the pre-training datasets: seeded samples of videos, and what to do with a video
    that cannot be decoded. Subclasses define ``_load(index, rng)``, a sample's dict.

    ``dataset[(index, seed)]`` (or ``dataset[index]``, seed derived from the index) returns
    ``_load``'s dict and::

        skipped_idx int64 (MAX_CONSECUTIVE_BAD,) the videos that could not be decoded before this
                                           one, in the order tried (a replacement can be broken
                                           too; ``on_bad_video='skip'``), then -1

    ``on_bad_video='raise'`` stops at the first broken video with its file name and the
    decoder's reason; ``'skip'`` logs the file once per process and draws another video.

    ``reader`` decodes and crops (:class:`pacepred.data.clip_reader.ClipReader`): a random crop
    (and a flip with ``flip``) in training, the centre otherwise.
    """

    def __init__(self, records: Sequence[VideoRecord], reader: ClipReader, train: bool, flip: bool,
                 on_bad_video: str = "raise"):
        check_bad_video_policy(on_bad_video)
        self.records = list(records)
        self.reader = reader
        self.train = train
        self.flip = flip
        self.on_bad_video = on_bad_video
        self._reported: set[int] = set()
        self._counted: set[int] = set()  # frame folders whose count was compared with their list line

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, torch.Tensor]:
        index, seed = key if isinstance(key, tuple) else (key, sample_seed(0, -1, key))
        rng = np.random.default_rng(seed)
        skipped, last_error = [], None
        for _ in range(MAX_CONSECUTIVE_BAD):
            try:
                sample = self._load(index, rng)
            except VideoDecodeError as err:
                if self.on_bad_video == "raise":
                    raise
                last_error = err
                if index not in self._reported:
                    self._reported.add(index)
                    log.warning("skipping broken video (data.on_bad_video=skip): %s", err)
                skipped.append(index)
                index = int(rng.integers(len(self.records)))
                continue
            sample["skipped_idx"] = torch.tensor(skipped + [-1] * (MAX_CONSECUTIVE_BAD - len(skipped)))
            return sample
        raise RuntimeError(f"{MAX_CONSECUTIVE_BAD} videos in a row could not be decoded (last: {last_error}); check the dataset")

    def _check_listed_count(self, index: int, record: VideoRecord) -> None:
        """Warn once (per process) when a frame folder holds another number of frames than its
        list line says: the clips are drawn from the folder's frames (the list's count only
        decides which videos ``data.min_frames`` leaves out)."""
        if record.num_frames is None or index in self._counted or not os.path.isdir(record.path):
            return
        self._counted.add(index)
        found = frame_count(record.path)
        if found != record.num_frames:
            log.warning("frame folder %s holds %d frames, its list line says %d: the clips use the folder's %d "
                        "(correct the list)", record.path, found, record.num_frames, found)

    def _load(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """Decode, crop and label one sample of video ``index``; raises VideoDecodeError."""
        raise NotImplementedError

    def _read(self, index: int, choose: Callable[[int], np.ndarray]) -> np.ndarray:
        """uint8 (K, H, W, C): the frames ``choose(num_frames)`` asks for of video ``index``, decoded
        with this dataset's settings."""
        record = self.records[index]
        self._check_listed_count(index, record)
        return self.reader.read(record.path, choose)

    def _crop(self, index: int, frames: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        """The reader's crop of decoded frames (random crop and flip in training, centre crop
        otherwise); a video smaller than the crop is a bad video named by its file."""
        return self.reader.crop(self.records[index].path, frames, rng if self.train else None, self.flip)


class PaceClipDataset(VideoSampleDataset):
    """Clips of videos at random paces.

    ``dataset[(index, seed)]`` returns (and ``skipped_idx``, :class:`VideoSampleDataset`)::

        video      uint8 (V, T, C, H, W)   V views, T = num_samples frames, H = W = reader.crop_size
        pace_label int64 (V,)              index of each view's pace, slowest first; views differ
        label      int64 ()                class label of the video (not used by pre-training)
        video_idx  int64 ()                index of the video in this dataset
    """

    def __init__(
        self,
        records: Sequence[VideoRecord],
        reader: ClipReader,
        paces: Sequence[Fraction],
        num_samples: int,
        num_views: int,
        boundary: str,
        train: bool,
        flip: bool,
        on_bad_video: str = "raise",
    ):
        super().__init__(records, reader, train, flip, on_bad_video)
        if num_views > len(paces):
            raise ValueError(f"{num_views} views need as many different paces; the pace set has {len(paces)}")
        self.paces = list(paces)
        self.num_samples = num_samples
        self.num_views = num_views
        self.boundary = boundary

    def _load(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """Decode, crop and label one sample of video ``index``; raises VideoDecodeError."""
        record = self.records[index]
        pace_labels = draw_pace_labels(len(self.paces), self.num_views, rng)

        def choose(num_frames: int) -> np.ndarray:
            return np.concatenate([
                sample_pace_clip(num_frames, self.num_samples, self.paces[label], self.boundary, rng)
                for label in pace_labels
            ])

        frames = self._read(index, choose)
        views = [self._crop(index, view, rng) for view in np.split(frames, self.num_views)]
        return {
            "video": torch.stack(views),
            "pace_label": torch.from_numpy(pace_labels),
            "label": torch.tensor(record.label, dtype=torch.int64),
            "video_idx": torch.tensor(index, dtype=torch.int64),
        }


class SeededShardSampler(Sampler):
    """Shuffled (or ordered) indices for one rank, yielded as ``(index, seed)`` keys.

    An epoch covers the ``size`` indices ``repeat`` times. Rank ``r`` of ``world_size`` takes
    every ``world_size``-th position of a permutation drawn from (seed, epoch). With ``pad`` (for
    training) the list is padded by wrapping so that every rank has the same length (as
    ``DistributedSampler``); without it (for validation) every position is taken once over all
    ranks, so a metric reduced over ranks counts each video once, and ranks may differ by one
    sample. Call :meth:`set_epoch` before each epoch (Lightning does).

    :meth:`resume` starts the next iteration at a position of an epoch's order (the samples
    the ranks took before it, over all ranks): a run resumed in the middle of an epoch takes
    the samples it would have taken. The length stays the whole epoch's (Lightning counts the
    epoch's batches from it and the restored batch count).
    """

    def __init__(self, size: int, seed: int, shuffle: bool, rank: int = 0, world_size: int = 1, repeat: int = 1,
                 pad: bool = True):
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not in [0, {world_size})")
        if size < 1 or repeat < 1:
            raise ValueError(f"sampler needs size >= 1 and repeat >= 1, got size={size}, repeat={repeat}")
        self.size, self.seed, self.shuffle, self.repeat, self.pad = size, seed, shuffle, repeat, pad
        self.rank, self.world_size = rank, world_size
        self.epoch = 0
        self.start = 0  # position in the epoch's order (over all ranks) where the next iteration begins

    def set_epoch(self, epoch: int) -> None:
        if epoch != self.epoch:
            self.start = 0
        self.epoch = epoch

    def resume(self, epoch: int, start: int) -> None:
        """Begin the next iteration at position ``start`` of epoch ``epoch``'s order (``start``
        samples taken over all ranks; a multiple of the number of ranks when they took whole
        batches). The iteration after it begins at 0 again."""
        if start < 0:
            raise ValueError(f"sampler start {start}: expected >= 0")
        self.epoch, self.start = epoch, start

    def __len__(self) -> int:
        positions = self.size * self.repeat
        if self.pad:
            return -(-positions // self.world_size)
        return len(range(self.rank, positions, self.world_size))

    def __iter__(self) -> Iterator[tuple[int, int]]:
        positions = self.size * self.repeat
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(positions)
        else:
            order = np.arange(positions)
        if self.pad:
            order = np.resize(order, len(self) * self.world_size)
        epoch = self.epoch if self.shuffle else -1
        start, self.start = self.start, 0  # a resumed position holds for one iteration
        for position in order[start + self.rank :: self.world_size]:
            yield int(position) % self.size, sample_seed(self.seed, epoch, int(position))


class MultiClipDataset(Dataset):
    """All protocol clips of each video, centre-cropped, as uint8.

    ``dataset[i]`` returns::

        video      uint8 (K, S, C, H, W)   K = num_clips, S = span frames, H = W = reader.crop_size
        label      int64 ()
        video_idx  int64 ()                i

    The batch transform (:class:`pacepred.data.transforms.ClipBatchTransform`) turns a batch
    (B, K, S, C, H, W) into network input (B*K, C, T, H, W).
    """

    def __init__(self, records: Sequence[VideoRecord], reader: ClipReader, num_clips: int, span: int):
        self.records = list(records)
        self.reader = reader
        self.num_clips = num_clips
        self.span = span

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        record = self.records[index]

        def choose(num_frames: int) -> np.ndarray:
            return protocol_clip_indices(num_frames, self.num_clips, self.span).reshape(-1)

        clips = self.reader.crop(record.path, self.reader.read(record.path, choose), None)  # one centre crop for all
        return {
            "video": clips.reshape(self.num_clips, self.span, *clips.shape[1:]),
            "label": torch.tensor(record.label, dtype=torch.int64),
            "video_idx": torch.tensor(index, dtype=torch.int64),
        }
