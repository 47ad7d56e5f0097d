"""Video features of a frozen backbone under a named pooling protocol, cached on disk.

Protocols (the name is written next to every number computed from them):

- ``vcop``: the last conv block's map, max-pooled with kernel (1, 2, 2) and flattened
  (9,216-d for R3D at 16x112x112), averaged over the clips of the video (VCOP's retrieval).
- ``gap``: the global-average-pooled map (``out_dim``, 512-d for R3D), L2-normalised per clip,
  averaged over the clips of the video.

Every backbone's ``forward`` is the global average pool of its ``forward_features``, so one
forward pass gives both. A cache file is named after the model (the checkpoint file's SHA-256 and
the channel order it was loaded in, or the random-initialisation recipe), the protocol, the split
and the data (clip settings and the list of videos with each file's size, a frame folder's entry
count, and mtime: :func:`pacepred.data.video_index.file_signature`), so a changed
checkpoint or data never reuses old features.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from pacepred.data.clip_reader import ClipReader
from pacepred.data.video_index import file_signature
from pacepred.data.records import VideoRecord
from pacepred.data.transforms import ClipBatchTransform
from pacepred.data.datasets import MultiClipDataset

#: Part of every cached feature file's key: raised whenever a change of the clip sampling,
#: decoding, pooling or forward pass changes what the same settings extract, so that features
#: computed by older code are never reused. 2: AVI and packed xvid files read right by decord's
#: backend (some came back with earlier frames). 3: frame folders decoded at a DCT scale up to 1%
#: short of data.decode_size (decoding.DCT_SHORTFALL: 340x256 frames at 1/2 for 128x171). 4: the
#: frames of MP4/MOV files that an edit list hides are not counted (decord's reads were shifted).
FEATURE_CACHE_VERSION = 4

PROTOCOLS = {
    "vcop": "last conv block max-pooled (1,2,2), flattened, mean over clips, cosine (VCOP)",
    "gap": "global-average-pooled, L2-normalised per clip, mean over clips, cosine",
}


def pool_clips(maps: Tensor, protocol: str) -> Tensor:
    """Last conv block maps float (N, C, T, H, W) -> clip features (N, D) of ``protocol``."""
    if protocol == "vcop":
        return nn.functional.max_pool3d(maps, kernel_size=(1, 2, 2)).flatten(1)
    if protocol == "gap":
        return nn.functional.normalize(maps.mean(dim=(2, 3, 4)), dim=1)
    raise ValueError(f"feature protocol {protocol!r} is unknown; expected one of {sorted(PROTOCOLS)}")


@dataclass
class VideoFeatures:
    """Features float32 (N, D) and labels int64 (N,) of one split, in record order."""

    features: Tensor
    labels: Tensor


def short_hash(obj) -> str:
    """First 16 hex digits of the SHA-256 of ``obj`` as canonical JSON."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


@torch.no_grad()
def extract_features(
    backbone: nn.Module, loader: DataLoader, batch_transform: ClipBatchTransform,
    protocols: Sequence[str], device: torch.device,
) -> dict[str, Tensor]:
    """Features float32 (N, D) per protocol of every video of ``loader``, in dataset order.

    The loader yields ``video`` uint8 (B, K, S, C, H, W) and ``video_idx`` (B,); the backbone is
    put in eval mode. Raises if any video is missing or repeated (nothing dropped).
    """
    backbone.eval().to(device)
    batch_transform.to(device)
    outputs: dict[str, list[Tensor]] = {p: [] for p in protocols}
    seen: list[Tensor] = []
    total, step = len(loader.dataset), max(1, len(loader) // 4)
    for i, batch in enumerate(loader):
        video = batch["video"].to(device)
        b, k = video.shape[:2]
        maps = backbone.forward_features(batch_transform(video, train=False))
        for protocol in protocols:
            outputs[protocol].append(pool_clips(maps, protocol).view(b, k, -1).mean(dim=1).float().cpu())
        seen.append(batch["video_idx"])
        if (i + 1) % step == 0 or i + 1 == len(loader):
            print(f"  features: {sum(len(s) for s in seen)}/{total} videos", flush=True)
    order = torch.cat(seen)
    if not torch.equal(order, torch.arange(total)):
        raise RuntimeError(f"feature extraction saw {order.numel()} of {total} videos, or out of order")
    return {p: torch.cat(chunks) for p, chunks in outputs.items()}


class FeatureExtractor:
    """Multi-clip features of a backbone for any split, through a disk cache.

    Args:
        backbone: (N, C, T, H, W) -> forward_features (N, D, T', H', W').
        model_key: identifies the weights (checkpoint hash or random-init recipe).
        batch_transform: uint8 (B, K, S, C, H, W) -> float (B*K, C, T, H, W), eval mode.
        reader: decoding and crop (:class:`ClipReader`); its settings are part of the cache key.
        num_clips, span: the clip protocol (:class:`MultiClipDataset`).
        batch_size: videos per batch (each gives ``num_clips`` clips).
        num_workers: data-loader workers.
        cache_dir: where feature files go; None disables the cache.
        device: where the backbone runs.
    """

    def __init__(
        self, backbone: nn.Module, model_key: str, batch_transform: ClipBatchTransform, reader: ClipReader,
        num_clips: int, span: int, batch_size: int, num_workers: int, cache_dir: Path | None, device: torch.device,
    ):
        self.backbone = backbone
        self.model_key = model_key
        self.batch_transform = batch_transform
        self.reader = reader
        self.num_clips, self.span = num_clips, span
        self.batch_size, self.num_workers = batch_size, num_workers
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.device = device
        self.worker_init = reader.worker_init(num_workers)

    def data_key(self, records: Sequence[VideoRecord]) -> str:
        """Hash of everything besides the weights that the features depend on."""
        return short_hash({
            "version": FEATURE_CACHE_VERSION,
            "num_clips": self.num_clips, "span": self.span, **self.reader.key(), "input": self.batch_transform.input_mode,
            "mean": self.batch_transform.mean.flatten().tolist(), "std": self.batch_transform.std.flatten().tolist(),
            # a missing video has no signature: the decoder names it when the features are extracted
            "videos": [(str(r.path), r.label, file_signature(Path(r.path)) if Path(r.path).exists() else None)
                       for r in records],
        })

    def cache_path(self, protocol: str, split: str, records: Sequence[VideoRecord]) -> Path | None:
        """``<cache_dir>/<model_key>/<protocol>_<split>_<data key>.pt``, or None without a cache."""
        if self.cache_dir is None:
            return None
        return self.cache_dir / self.model_key / f"{protocol}_{split}_{self.data_key(records)}.pt"

    def __call__(self, split: str, records: Sequence[VideoRecord], protocols: Sequence[str]) -> dict[str, VideoFeatures]:
        """Features of ``records`` (named ``split`` in the cache) for each protocol."""
        paths = [str(r.path) for r in records]
        labels = torch.tensor([r.label for r in records], dtype=torch.int64)
        result: dict[str, VideoFeatures] = {}
        for protocol in protocols:
            cache = self.cache_path(protocol, split, records)
            if cache is not None and cache.is_file():
                stored = torch.load(cache, weights_only=True)
                print(f"  {split} features ({protocol}) from cache {cache}")
                result[protocol] = VideoFeatures(stored["features"], labels)
        missing = [p for p in protocols if p not in result]
        if missing:
            print(f"  extracting {split} features ({', '.join(missing)}): {len(records)} videos x {self.num_clips} clips")
            dataset = MultiClipDataset(records, self.reader, self.num_clips, self.span)
            loader = DataLoader(dataset, batch_size=self.batch_size, shuffle=False, drop_last=False,
                                num_workers=self.num_workers, worker_init_fn=self.worker_init)
            extracted = extract_features(self.backbone, loader, self.batch_transform, missing, self.device)
            for protocol, features in extracted.items():
                result[protocol] = VideoFeatures(features, labels)
                cache = self.cache_path(protocol, split, records)
                if cache is not None:
                    cache.parent.mkdir(parents=True, exist_ok=True)
                    # renamed when complete: no torn files, also when parallel jobs of a sweep write the same one
                    partial = cache.with_name(f"{cache.name}.{os.getpid()}.partial")
                    torch.save({"features": features, "protocol": protocol, "split": split,
                                "model_key": self.model_key, "paths": paths}, partial)
                    partial.replace(cache)
        return result
