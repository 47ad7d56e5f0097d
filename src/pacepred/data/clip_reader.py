"""ClipReader: how videos are read into uint8 crops, one object for every dataset of the house.

Built once from ``data.reader`` (whose fields interpolate ``data.decode_size``, ``data.crop_size``,
``data.decoder``, ``data.frame_folder_resize``, ``data.cache_decoded`` and
``data.retain_freed_memory``) and handed to the pre-training datasets, the evaluation and the
online monitor, so that they all decode, resize and crop alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from pacepred.data.decoding import VideoDecodeError, check_frame_folder_resize, read_clip
from pacepred.data.memory import loader_worker_init, retain_freed_memory
from pacepred.data.transforms import CropTooLargeError, crop_and_flip


@dataclass(frozen=True)
class ClipReader:
    """Decoding and cropping settings.

    Args:
        decode_size: ``(height, width)`` frames are resized to while decoding, or None (native size).
        crop_size: side of the square crop, at most ``decode_size``.
        decoder: video files' backend, ``decord`` or ``pyav`` (frame folders are read as JPEGs).
        frame_folder_resize: frame folders: ``crop`` (resize only the crop's region) or ``whole``
            (resize whole frames, then crop; :func:`pacepred.data.decoding.check_frame_folder_resize`).
        cache_decoded: keep every video decoded whole in the reading process after its first read
            (``read_clip(cache=True)``): later clips are slices.
        retain_freed_memory: the reading processes keep freed heap memory (:mod:`pacepred.data.memory`).
        decode_threads: decoder threads per read (1 in loader workers, which run in parallel).
    """

    decode_size: tuple[int, int] | None = None
    crop_size: int = 112
    decoder: str = "decord"
    frame_folder_resize: str = "crop"
    cache_decoded: bool = False
    retain_freed_memory: bool = True
    decode_threads: int = 1

    def __post_init__(self) -> None:
        size = self.decode_size
        if size is not None:
            size = tuple(int(v) for v in size)
            object.__setattr__(self, "decode_size", size)
        if not isinstance(self.crop_size, int) or self.crop_size < 1:
            raise ValueError(f"data.crop_size={self.crop_size!r}: expected an integer >= 1")
        if size is not None and (len(size) != 2 or min(size) < 1):
            raise ValueError(f"data.decode_size={list(size)}: expected [height, width] (positive), or null")
        if size is not None and min(size) < self.crop_size:
            raise ValueError(f"data.crop_size={self.crop_size} is larger than data.decode_size={list(size)}")
        check_frame_folder_resize(self.frame_folder_resize)

    def read(self, path: Path | str, choose: Callable[[int], np.ndarray]) -> np.ndarray:
        """uint8 (K, H, W, 3): the frames ``choose(num_frames)`` asks for (:func:`read_clip`)."""
        return read_clip(path, choose, self.decode_size, num_threads=self.decode_threads, backend=self.decoder,
                         cache=self.cache_decoded, defer_frame_resize=self.frame_folder_resize == "crop")

    def crop(self, path: Path | str, frames: np.ndarray, rng: np.random.Generator | None,
             flip: bool = False) -> torch.Tensor:
        """uint8 (T, C, crop, crop): a random crop (and flip) with ``rng``, the centre without; a
        video smaller than the crop is a :class:`VideoDecodeError` naming ``path``."""
        try:
            return crop_and_flip(frames, self.crop_size, rng, flip, self.decode_size)
        except CropTooLargeError as err:
            raise VideoDecodeError(path, str(err)) from err

    def thumbnail(self, path: Path | str) -> np.ndarray:
        """The middle frame of a video, uint8 (H, W, 3), at ``decode_size``, not cached."""
        return read_clip(path, lambda n: np.array([n // 2]), self.decode_size, backend=self.decoder)[0]

    def key(self) -> dict[str, Any]:
        """What read clips depend on (a feature cache's key)."""
        return {"decode_size": list(self.decode_size) if self.decode_size is not None else None,
                "crop_size": self.crop_size, "decoder": self.decoder, "frame_folder_resize": self.frame_folder_resize}

    def worker_init(self, num_workers: int) -> Callable[[int], None] | None:
        """A loader's ``worker_init_fn`` for these settings (:func:`pacepred.data.memory.loader_worker_init`)."""
        return loader_worker_init(self.retain_freed_memory, num_workers)

    def prepare_process(self) -> None:
        """Settings of the reading process itself: keep freed memory where asked."""
        if self.retain_freed_memory:
            retain_freed_memory()

