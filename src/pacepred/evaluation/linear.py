"""Linear probe: multinomial logistic regression on frozen, cached features.

Features are standardised with the train set's mean and standard deviation, then a linear
layer is fitted full-batch with L-BFGS (strong-Wolfe line search) on the mean cross-entropy
plus ``weight_decay / 2 * ||W||^2``, from zero weights: deterministic, no learning rate to tune.
Given several weight decays, :func:`select_weight_decay` keeps the one with the best mean
accuracy over k folds of the TRAIN set (the test set is never looked at).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor


@dataclass
class LinearProbe:
    """A fitted probe: ``logits(x) = ((x - mean) / std) @ weight.T + bias``."""

    mean: Tensor    # (D,)
    std: Tensor     # (D,)
    weight: Tensor  # (C, D)
    bias: Tensor    # (C,)

    def logits(self, features: Tensor) -> Tensor:
        """float (N, D) -> logits float32 (N, C)."""
        return ((features.float() - self.mean) / self.std) @ self.weight.T + self.bias


def fit_linear_probe(
    features: Tensor, labels: Tensor, num_classes: int, weight_decay: float = 1e-3, max_iter: int = 200,
) -> LinearProbe:
    """Fit on float (N, D) features and int64 (N,) labels; returns the probe."""
    x = features.float()
    mean, std = x.mean(dim=0), x.std(dim=0, unbiased=False).clamp(min=1e-6)
    x = (x - mean) / std
    weight = torch.zeros(num_classes, x.shape[1], requires_grad=True)
    bias = torch.zeros(num_classes, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=1.0, max_iter=max_iter, history_size=20,
                                  tolerance_grad=1e-6, tolerance_change=1e-9, line_search_fn="strong_wolfe")

    def closure() -> Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(x @ weight.T + bias, labels)
        loss = loss + 0.5 * weight_decay * weight.pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    return LinearProbe(mean, std, weight.detach(), bias.detach())


def select_weight_decay(
    features: Tensor, labels: Tensor, num_classes: int, candidates: Sequence[float], folds: int = 5,
    max_iter: int = 200,
) -> tuple[float, dict[float, float]]:
    """The candidate weight decay with the best mean held-out top-1 over ``folds`` folds of the
    train features; returns it and the mean accuracy of every candidate. Ties go to the stronger
    decay. Each class is cut into ``folds`` contiguous blocks in the given order, so every fold
    holds every class and, with videos listed by group as in UCF101's and HMDB51's split files,
    a group's clips (same actor, same scene) stay on one side but at the blocks' edges."""
    if len(candidates) == 1:
        return float(candidates[0]), {}
    fold_of = torch.zeros_like(labels)
    for label in labels.unique():
        members = (labels == label).nonzero().flatten()
        fold_of[members] = torch.arange(len(members)) * folds // len(members)
    accuracy = {}
    for decay in sorted(candidates, reverse=True):
        correct = []
        for fold in range(folds):
            held = fold_of == fold
            probe = fit_linear_probe(features[~held], labels[~held], num_classes, decay, max_iter)
            correct.append(probe.logits(features[held]).argmax(dim=1) == labels[held])
        accuracy[float(decay)] = torch.cat(correct).float().mean().item()
    best = max(accuracy, key=lambda d: (accuracy[d], d))
    return best, accuracy
