"""The four downstream tasks, each a function of an :class:`EvalSetup` and its own settings.

- :func:`run_retrieval`: test videos query train videos, protocols ``vcop`` and ``gap``;
- :func:`run_linear`: linear probe on frozen ``gap`` features;
- :func:`run_knn`: weighted kNN on frozen ``gap`` features;
- :func:`run_finetune`: the whole network fine-tuned, tested on ``num_clips`` clips per video.

Each adds its numbers to ``setup.report`` (protocol name next to every number) and writes its
figures into ``setup.output_dir``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pytorch_lightning as pl
import torch
from torch import Tensor, nn

from pacepred.data.clip_reader import ClipReader
from pacepred.data.records import VideoRecord
from pacepred.data.transforms import ClipBatchTransform
from pacepred.data.classify_datamodule import ClassifyDataModule
from pacepred.evaluation.features import PROTOCOLS, FeatureExtractor, VideoFeatures
from pacepred.evaluation.knn import knn_scores
from pacepred.evaluation.linear import fit_linear_probe, select_weight_decay
from pacepred.evaluation.report import Report
from pacepred.figures import SheetRow, save_embedding_plot, save_retrieval_sheet
from pacepred.evaluation.retrieval import DEFAULT_KS, retrieve, topk_hits
from pacepred.metrics import confusion_matrix, per_class_mean, topk_correct
from pacepred.modules.classify import ClassifierModule
from pacepred.figures import save_confusion_matrix


@dataclass(frozen=True)
class ClipInput:
    """How the evaluation reads clips: decoding and crop, the on-device transform (no jitter at
    test time), ``span`` decoded frames per clip, and the loader workers."""

    reader: ClipReader
    batch_transform: ClipBatchTransform
    span: int
    num_workers: int = 0


@dataclass
class EvalSetup:
    """What every task shares: the model, the two splits, how clips are read and where results go.

    ``model_key`` names the weights in the feature cache (checkpoint hash or random-initialisation
    recipe); the class names are the report's.
    """

    backbone: nn.Module
    model_key: str
    train_records: list[VideoRecord]
    test_records: list[VideoRecord]
    clips: ClipInput
    cache_dir: Path | None
    device: torch.device
    output_dir: Path
    report: Report
    seed: int = 0

    @property
    def class_names(self) -> list[str]:
        return self.report.class_names

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def features(self, protocols: Sequence[str], num_clips: int, batch_size: int) -> tuple[dict[str, VideoFeatures], dict[str, VideoFeatures]]:
        """(train, test) features for each protocol, through the cache; counts checked and recorded."""
        clips = self.clips
        extractor = FeatureExtractor(self.backbone, self.model_key, clips.batch_transform, clips.reader, num_clips,
                                     clips.span, batch_size, clips.num_workers, self.cache_dir, self.device)
        train = extractor("train", self.train_records, protocols)
        test = extractor("test", self.test_records, protocols)
        for protocol in protocols:
            counts = (train[protocol].features.shape[0], test[protocol].features.shape[0])
            if counts != (len(self.train_records), len(self.test_records)):
                raise RuntimeError(f"{protocol} features cover {counts} videos, the splits have "
                                   f"{len(self.train_records)} train and {len(self.test_records)} test videos")
        self.report.info.update({"train_videos": len(self.train_records), "test_videos": len(self.test_records),
                                 "clips_per_video": num_clips})
        return train, test

    def figure(self, name: str) -> Path:
        return self.output_dir / "figures" / name


def sheet_queries(labels: Tensor, count: int) -> list[int]:
    """Up to ``count`` query indices taken round-robin over the classes (first of each class first)."""
    seen: dict[int, int] = {}
    rank = []
    for label in labels.tolist():
        rank.append(seen.get(label, 0))
        seen[label] = rank[-1] + 1
    return sorted(range(len(rank)), key=lambda i: (rank[i], labels[i].item()))[:count]


def run_retrieval(setup: EvalSetup, protocols: Sequence[str] = ("vcop", "gap"), ks: Sequence[int] = DEFAULT_KS,
                  num_clips: int = 10, batch_size: int = 8, sheet_rows: int = 8, sheet_neighbours: int = 5) -> None:
    """Every test video queries all train videos (docs/evaluation.md, "The protocols"), for each protocol."""
    train, test = setup.features(protocols, num_clips, batch_size)
    print(f"retrieval: {len(setup.test_records)} queries (every test video) against a gallery of "
          f"{len(setup.train_records)} train videos (every one); none dropped", flush=True)
    thumbnails: dict[tuple[str, int], np.ndarray] = {}

    def thumb(split: str, index: int) -> np.ndarray:
        records = setup.train_records if split == "train" else setup.test_records
        if (split, index) not in thumbnails:
            thumbnails[split, index] = setup.clips.reader.thumbnail(records[index].path)
        return thumbnails[split, index]

    for protocol in protocols:
        q, g = test[protocol], train[protocol]
        result = retrieve(q.features, q.labels, g.features, g.labels, setup.num_classes, ks)
        assert (result.num_queries, result.num_gallery) == (len(setup.test_records), len(setup.train_records))
        setup.report.add(protocol, f"retrieval: {PROTOCOLS[protocol]}; {num_clips} clips per video, "
                                   "test queries train, hit = any of the k nearest has the query's class",
                         {**{f"top{k}": v for k, v in result.topk.items()}, "mAP": result.mean_ap})
        setup.report.add_per_class(protocol, "top1", result.per_class_top1)
        for k, hits in topk_hits(result.ranking, q.labels, g.labels, ks).items():
            setup.report.add_per_video(protocol, f"top{k}", hits)
        save_confusion_matrix(result.confusion, setup.class_names, setup.figure(f"confusion_retrieval_{protocol}.png"),
                              title=f"retrieval ({protocol}): query class vs nearest train video's class")
        rows = []
        for i in sheet_queries(q.labels, sheet_rows):
            nearest = result.ranking[i, :sheet_neighbours].tolist()
            rows.append(SheetRow(thumb("test", i), setup.class_names[q.labels[i]],
                                 [thumb("train", j) for j in nearest],
                                 [setup.class_names[g.labels[j]] for j in nearest]))
        save_retrieval_sheet(rows, setup.figure(f"retrieval_sheet_{protocol}.png"),
                             title=f"retrieval, protocol {protocol}: test queries and their nearest train videos")
        save_embedding_plot(q.features, q.labels, setup.class_names, setup.figure(f"embedding_{protocol}_test.png"),
                            title=f"test video features ({protocol}), PCA")


def _classification_report(setup: EvalSetup, protocol: str, description: str, scores: Tensor, labels: Tensor,
                           extra: dict[str, float] | None = None) -> None:
    """Top-1/top-5 of class scores (N, C), per-class top-1 and the confusion matrix."""
    top1 = topk_correct(scores, labels, 1)
    setup.report.add_per_video(protocol, "top1", top1)
    setup.report.add(protocol, description, {**(extra or {}), "top1": top1.float().mean().item(),
                                             "top5": topk_correct(scores, labels, 5).float().mean().item()})
    setup.report.add_per_class(protocol, "top1", per_class_mean(top1.float(), labels, setup.num_classes))
    task = setup.report.task
    save_confusion_matrix(confusion_matrix(labels, scores.argmax(dim=1), setup.num_classes), setup.class_names,
                          setup.figure(f"confusion_{task}_{protocol}.png"), title=f"{task} ({protocol}), test videos")


def run_linear(setup: EvalSetup, protocol: str = "gap", num_clips: int = 10, batch_size: int = 8,
               weight_decay: float | Sequence[float] = 1e-3, max_iter: int = 200, folds: int = 5) -> None:
    """Linear probe (L-BFGS, standardised features) on frozen features of ``protocol``; a list
    of weight decays is narrowed to one by ``folds``-fold cross-validation on the train set."""
    train, test = setup.features([protocol], num_clips, batch_size)
    train, test = train[protocol], test[protocol]
    candidates = [float(d) for d in weight_decay] if isinstance(weight_decay, Sequence) else [float(weight_decay)]
    weight_decay, cv_accuracy = select_weight_decay(train.features, train.labels, setup.num_classes, candidates,
                                                    folds, max_iter)
    if cv_accuracy:
        print("linear: train-set cross-validation top-1 per weight decay: "
              + ", ".join(f"{d:g}: {a:.3f}" for d, a in sorted(cv_accuracy.items())) + f" -> {weight_decay:g}")
    probe = fit_linear_probe(train.features, train.labels, setup.num_classes, weight_decay, max_iter)
    train_top1 = topk_correct(probe.logits(train.features), train.labels, 1).float().mean().item()
    _classification_report(
        setup, protocol,
        f"linear probe on frozen features ({PROTOCOLS[protocol]}; {num_clips} clips per video): standardised, "
        f"multinomial logistic regression, full-batch L-BFGS, weight decay {weight_decay}, at most {max_iter} iterations",
        probe.logits(test.features), test.labels, extra={"train_top1": train_top1, "weight_decay": weight_decay})
    save_embedding_plot(test.features, test.labels, setup.class_names, setup.figure(f"embedding_{protocol}_test.png"),
                        title=f"test video features ({protocol}), PCA")


def run_knn(setup: EvalSetup, protocol: str = "gap", num_clips: int = 10, batch_size: int = 8,
            k: int = 20, temperature: float = 0.07) -> None:
    """Weighted kNN (cosine, votes exp(sim / temperature)) of test videos among train videos."""
    train, test = setup.features([protocol], num_clips, batch_size)
    train, test = train[protocol], test[protocol]
    scores = knn_scores(test.features, train.features, train.labels, setup.num_classes, k, temperature)
    _classification_report(
        setup, protocol,
        f"weighted kNN on frozen features ({PROTOCOLS[protocol]}; {num_clips} clips per video): k={k} nearest "
        f"train videos by cosine, each votes exp(similarity / {temperature}) for its class",
        scores, test.labels)
    save_embedding_plot(test.features, test.labels, setup.class_names, setup.figure(f"embedding_{protocol}_test.png"),
                        title=f"test video features ({protocol}), PCA")


def run_finetune(setup: EvalSetup, trainer: pl.Trainer, optimizer: Callable[..., torch.optim.Optimizer],
                 scheduler: Callable[..., Any] | None, dropout: float, flip: bool, batch_size: int,
                 test_batch_size: int, num_clips: int = 10) -> None:
    """Fine-tune the whole network with a new classifier; test on ``num_clips`` clips per video.

    One device: the fine-tuning loaders do not shard, so under DDP every rank would train on the
    same batches and test every video (a multi-device trainer is refused with the reason)."""
    if trainer.world_size > 1:
        raise ValueError(f"fine-tuning runs on one device, the trainer has {trainer.world_size} processes "
                         "(trainer.devices / trainer.num_nodes): its loaders do not shard, so every rank would "
                         "repeat the same work; use trainer.devices=1 (the paper protocols do)")
    module = ClassifierModule(setup.backbone, setup.num_classes, optimizer, scheduler, dropout)
    clips = setup.clips
    datamodule = ClassifyDataModule(setup.train_records, setup.test_records, clips.reader, clips.batch_transform,
                                    clips.span, num_clips, flip, (batch_size, test_batch_size), clips.num_workers,
                                    setup.seed)
    trainer.fit(module, datamodule=datamodule)
    trainer.test(module, datamodule=datamodule, verbose=False)
    outputs = {name: torch.cat(chunks) for name, chunks in module.test_outputs.items()}
    if len(outputs["labels"]) != len(setup.test_records):
        raise RuntimeError(f"fine-tuning tested {len(outputs['labels'])} of {len(setup.test_records)} test videos")
    setup.report.info.update({"train_videos": len(setup.train_records), "test_videos": len(setup.test_records),
                              "clips_per_video": num_clips, "epochs": trainer.current_epoch})
    print(f"finetune: tested every test video ({len(outputs['labels'])}) on {num_clips} clips each", flush=True)
    _classification_report(
        setup, f"{num_clips}clip",
        f"whole network fine-tuned ({trainer.current_epoch} epochs, random single clips, new linear classifier); "
        f"test: {num_clips} evenly spaced clips per video, centre crop; clip_top1 scores each clip, "
        "top1/top5 the video (mean of the clip softmaxes)",
        outputs["probs"], outputs["labels"], extra={"clip_top1": outputs["clip_correct"].float().mean().item()})
    save_embedding_plot(outputs["features"], outputs["labels"], setup.class_names,
                        setup.figure("embedding_finetuned_test.png"), title="fine-tuned test video features (gap), PCA")
