"""Re-estimate a network's BatchNorm running statistics on unlabelled clips (no weight changes).

A randomly initialised network evaluates its BatchNorm layers with their initial statistics
(mean 0, variance 1), which scale its features badly; any user would first let the statistics
settle on their data. :func:`recalibrate_batchnorm` does that: forward passes in training mode,
without gradients, with every BatchNorm's momentum set to ``None`` (a cumulative average over the
batches), then the layers are restored to their own momentum and to eval mode. The evidence
benchmark's random baseline is a network treated so.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

import torch
from torch import nn
from torch.utils.data import DataLoader

from pacepred.data.clip_reader import ClipReader
from pacepred.data.datasets import PaceClipDataset, SeededShardSampler
from pacepred.data.records import VideoRecord
from pacepred.data.transforms import ClipBatchTransform

_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


@torch.no_grad()
def recalibrate_batchnorm(network: nn.Module, batches, batch_transform: ClipBatchTransform,
                          device: torch.device) -> int:
    """Replace the running mean and variance of every BatchNorm of ``network`` by their averages
    over ``batches`` (dicts with ``video`` uint8 (B, V, T, C, H, W)); returns the clips seen.

    The transform runs without jitter (the clips as the evaluation will see them).
    """
    norms = [m for m in network.modules() if isinstance(m, _NORMS)]
    if not norms:
        return 0
    momenta = [m.momentum for m in norms]
    was_training = network.training
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average: every batch weighs the same
    network.train().to(device)
    batch_transform.to(device)
    seen = 0
    try:
        for batch in batches:
            video = batch_transform(batch["video"].to(device), train=False)
            network(video)
            seen += video.shape[0]
    finally:
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
        network.train(was_training)
    if seen == 0:
        raise ValueError("BatchNorm recalibration saw no clip: the train split is empty")
    return seen


def recalibration_batches(records: Sequence[VideoRecord], reader: ClipReader, num_clips: int, span: int,
                          batch_size: int, seed: int) -> DataLoader:
    """A loader of ``num_clips`` unlabelled clips (one per video, natural pace, random position and
    crop, no flip) of videos drawn from ``records`` without replacement while any remain; batches of
    ``batch_size`` clips, ``video`` uint8 (B, 1, span, C, H, W)."""
    if num_clips < 1:
        raise ValueError(f"recalibration clips={num_clips}: expected >= 1")
    dataset = PaceClipDataset(records, reader, [Fraction(1)], span, 1, "fit", train=True, flip=False)
    sampler = SeededShardSampler(len(dataset), seed, shuffle=True, repeat=-(-num_clips // len(dataset)))
    keys = list(sampler)[:num_clips]
    return DataLoader(dataset, batch_size=batch_size, sampler=keys, drop_last=False)


def recalibrated(network: nn.Module, records: Sequence[VideoRecord], reader: ClipReader, num_clips: int, span: int,
                 batch_transform: ClipBatchTransform, device: torch.device, seed: int, batch_size: int = 16) -> int:
    """:func:`recalibrate_batchnorm` on ``num_clips`` train clips (:func:`recalibration_batches`).
    Returns the clips seen."""
    loader = recalibration_batches(records, reader, num_clips, span, batch_size, seed)
    return recalibrate_batchnorm(network, loader, batch_transform, device)

