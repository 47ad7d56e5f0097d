"""Map-style dataset of clip-order tuples (VCOP): the clips of a tuple in a shuffled order."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from pacepred.data.clip_reader import ClipReader
from pacepred.data.clip_order import TupleLayout, draw_order, order_permutations, sample_tuple
from pacepred.data.datasets import VideoSampleDataset
from pacepred.data.records import VideoRecord


class OrderTupleDataset(VideoSampleDataset):
    """Tuples of ``layout.num_clips`` clips of a video, shown in a random order.

    ``dataset[(index, seed)]`` returns (and ``skipped_idx``, :class:`VideoSampleDataset`)::

        video       uint8 (K, T, C, H, W)  the K clips in the shown order, T = num_samples frames
        order_label int64 ()               index of the order in :func:`order_permutations`: shown
                                           clip k is the video's ``order[k]``-th
        label       int64 ()               class label of the video (not used by pre-training)
        video_idx   int64 ()               index of the video in this dataset

    Training draws the crop (and flip) once for the tuple (``layout.crop='shared'``) or per clip
    (``'per_clip'``, VCOP's code); evaluation takes the centre. ``num_samples`` includes the
    extra frame of the residual input: each clip gives its own differences.
    """

    def __init__(
        self,
        records: Sequence[VideoRecord],
        reader: ClipReader,
        layout: TupleLayout,
        num_samples: int,
        train: bool,
        flip: bool,
        on_bad_video: str = "raise",
    ):
        super().__init__(records, reader, train, flip, on_bad_video)
        self.layout = layout
        self.num_samples = num_samples
        self.orders = order_permutations(layout.num_clips)

    def _load(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """Decode, crop and label one tuple of video ``index``; raises VideoDecodeError."""
        record = self.records[index]
        layout = self.layout
        order_label = draw_order(layout.num_clips, rng)

        def choose(num_frames: int) -> np.ndarray:
            clips = sample_tuple(num_frames, layout.num_clips, self.num_samples, layout.interval, rng)
            return clips[list(self.orders[order_label])].reshape(-1)

        frames = self._read(index, choose)
        if layout.crop == "shared":
            clips = self._crop(index, frames, rng)
            video = clips.reshape(layout.num_clips, self.num_samples, *clips.shape[1:])
        else:
            video = torch.stack([self._crop(index, clip, rng) for clip in np.split(frames, layout.num_clips)])
        return {
            "video": video,
            "order_label": torch.tensor(order_label, dtype=torch.int64),
            "label": torch.tensor(record.label, dtype=torch.int64),
            "video_idx": torch.tensor(index, dtype=torch.int64),
        }
