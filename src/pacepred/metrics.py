"""Classification metrics of the tasks, the monitor and fine-tuning: top-k hits, per-class means, confusion matrix."""

from __future__ import annotations

import torch
from torch import Tensor


def topk_correct(scores: Tensor, labels: Tensor, k: int) -> Tensor:
    """bool (N,): is the label among the k highest of float (N, C) ``scores``? (k is capped at C;
    a score of -inf, no score at all, is never a hit)."""
    values, top = scores.topk(min(k, scores.shape[1]), dim=1)
    return ((top == labels[:, None]) & (values > float("-inf"))).any(dim=1)


def per_class_mean(values: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    """Mean of float (N,) ``values`` per class of int64 (N,) ``labels`` -> (num_classes,), NaN where a class is absent."""
    sums = torch.zeros(num_classes).index_add_(0, labels, values.float())
    counts = torch.zeros(num_classes).index_add_(0, labels, torch.ones(labels.shape[0]))
    return torch.where(counts > 0, sums / counts.clamp(min=1), torch.full_like(sums, float("nan")))


def confusion_matrix(labels: Tensor, predictions: Tensor, num_classes: int) -> Tensor:
    """int64 (C, C) counts, rows = true class of int64 (N,) ``labels``, columns = ``predictions``."""
    matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    return matrix.index_put_((labels, predictions), torch.ones_like(labels), accumulate=True)
