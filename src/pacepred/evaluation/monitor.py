"""The online monitor of pre-training: kNN, retrieval and linear-probe top-1 on a small fixed
subset of the pre-training data, logged every few epochs."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import pytorch_lightning as pl
import torch

from pacepred.data.clip_reader import ClipReader
from pacepred.data.decoding import VideoDecodeError
from pacepred.data.transforms import ClipBatchTransform
from pacepred.data.video_list import VideoList
from pacepred.data.clip_positions import frames_per_clip
from pacepred.data.datasets import MultiClipDataset
from pacepred.evaluation.features import pool_clips
from pacepred.evaluation.knn import knn_scores
from pacepred.evaluation.linear import fit_linear_probe, select_weight_decay
from pacepred.evaluation.retrieval import retrieve

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MonitorProbes:
    """How the monitor scores features: weighted kNN (``k`` neighbours, ``temperature``) and a
    linear probe whose weight decay is chosen among ``linear_weight_decay`` by ``linear_folds``-fold
    cross-validation (as ``task=linear`` does)."""

    k: int = 20
    temperature: float = 0.07
    linear_weight_decay: Sequence[float] = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
    linear_folds: int = 5


class KNNMonitor(pl.Callback):
    """Online monitor of pre-training on a small fixed subset: weighted-kNN top-1, retrieval
    top-1/top-5 and linear-probe top-1 (``gap`` features), logged as ``monitor/knn_top1``,
    ``monitor/retrieval_top1``, ``monitor/retrieval_top5`` and ``monitor/linear_top1``.

    At the start of fitting it decodes once, and keeps in memory, the first ``train_per_class``
    train videos and the first ``test_per_class`` test videos of every class (``num_clips``
    protocol clips each, centre crop, uint8). Every ``every_n_epochs`` epochs (and after the last
    one) it runs the backbone in eval mode on them, takes the ``gap`` features and classifies the
    test videos by weighted kNN among the train videos (see :mod:`pacepred.evaluation.knn`) and
    by a linear probe fitted on the train videos (weight decay chosen among ``linear_weight_decay``
    by ``linear_folds``-fold cross-validation, as ``task=linear`` does).

    Args:
        videos: the pre-training's :class:`VideoList`: its skip list is left out before the subset
            is chosen; under ``on_bad_video='raise'`` a broken video of the subset stops the run,
            under ``'skip'`` it is left out with a warning and the next video of its class taken.
        reader: the pre-training's :class:`ClipReader`.
        batch_transform: the pre-training :class:`ClipBatchTransform` (used without jitter; its
            input mode decides the frames per clip).
        clip_len: frames the network sees per clip.
        every_n_epochs, train_per_class, test_per_class, num_clips, batch_size (clips).
        probes: the kNN and linear-probe settings (:class:`MonitorProbes`).
    """

    def __init__(
        self, videos: VideoList, reader: ClipReader, batch_transform: ClipBatchTransform, clip_len: int,
        every_n_epochs: int = 1, train_per_class: int = 10, test_per_class: int = 5, num_clips: int = 1,
        batch_size: int = 32, probes: MonitorProbes = MonitorProbes(),
    ):
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs={every_n_epochs}: expected >= 1")
        self.videos, self.reader = videos, reader
        self.span = frames_per_clip(clip_len, batch_transform.input_mode)
        self.batch_transform = batch_transform
        self.every_n_epochs = every_n_epochs
        self.per_class = {"train": train_per_class, "test": test_per_class}
        self.num_clips, self.batch_size, self.probes = num_clips, batch_size, probes
        self.clips: dict[str, torch.Tensor] = {}
        self.labels: dict[str, torch.Tensor] = {}
        self.num_classes = 0

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if stage != "fit" or self.clips:
            return
        for stage_name, per_class in self.per_class.items():
            # the held-out videos are the validation part where the data has one: a monitor chooses
            records, classes, _ = self.videos.listed(self.videos.heldout if stage_name == "test" else stage_name)
            dataset = MultiClipDataset(records, self.reader, self.num_clips, self.span)
            taken: dict[int, int] = {}
            items = []
            for index, record in enumerate(records):
                if taken.get(record.label, 0) == per_class:
                    continue
                try:
                    items.append(dataset[index])
                except VideoDecodeError as err:
                    if self.videos.on_bad_video == "raise":
                        raise
                    log.warning("online monitor: leaving out a broken %s video (data.on_bad_video=skip), "
                                "the next of its class is taken: %s", stage_name, err)
                    continue
                taken[record.label] = taken.get(record.label, 0) + 1
            if not items:
                raise RuntimeError(f"online monitor: none of the {len(records)} {stage_name} videos of data.source "
                                   "could be decoded (data.on_bad_video=skip left every one out); check the dataset")
            self.clips[stage_name] = torch.stack([item["video"] for item in items])   # (N, K, S, C, H, W) uint8
            self.labels[stage_name] = torch.stack([item["label"] for item in items])  # (N,)
            self.num_classes = len(classes)

    @torch.no_grad()
    def _features(self, backbone: torch.nn.Module, clips: torch.Tensor, device: torch.device) -> torch.Tensor:
        """uint8 (N, K, S, C, H, W) -> gap features (N, D), L2-normalised per clip, mean over clips."""
        self.batch_transform.to(device)
        out = []
        videos_per_batch = max(1, self.batch_size // self.num_clips)
        for chunk in clips.split(videos_per_batch):
            maps = backbone.forward_features(self.batch_transform(chunk.to(device), train=False))
            out.append(pool_clips(maps, "gap").view(chunk.shape[0], self.num_clips, -1).mean(dim=1).float().cpu())
        return torch.cat(out)

    def measure(self, backbone: torch.nn.Module, device: torch.device) -> dict[str, float]:
        """kNN top-1, retrieval top-1/top-5 and linear-probe top-1 of the cached test subset against
        the cached train subset."""
        was_training = backbone.training
        backbone.eval()
        try:
            train, test = (self._features(backbone, self.clips[s], device) for s in ("train", "test"))
        finally:
            backbone.train(was_training)
        probes = self.probes
        scores = knn_scores(test, train, self.labels["train"], self.num_classes, probes.k, probes.temperature)
        retrieval = retrieve(test, self.labels["test"], train, self.labels["train"], self.num_classes, ks=(1, 5))
        decay, _ = select_weight_decay(train, self.labels["train"], self.num_classes,
                                       [float(d) for d in probes.linear_weight_decay], probes.linear_folds)
        probe = fit_linear_probe(train, self.labels["train"], self.num_classes, decay)
        return {
            "monitor/knn_top1": (scores.argmax(dim=1) == self.labels["test"]).float().mean().item(),
            "monitor/retrieval_top1": retrieval.topk[1],
            "monitor/retrieval_top5": retrieval.topk[5],
            "monitor/linear_top1": (probe.logits(test).argmax(dim=1) == self.labels["test"]).float().mean().item(),
        }

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        epoch = trainer.current_epoch
        last = trainer.max_epochs is not None and 0 < trainer.max_epochs <= epoch + 1  # -1: no last epoch
        if (epoch + 1) % self.every_n_epochs and not last:
            return
        for name, value in self.measure(pl_module.backbone, pl_module.device).items():
            pl_module.log(name, value, on_step=False, on_epoch=True, batch_size=1)
