"""Weighted k-nearest-neighbour classifier on frozen features (Wu et al. 2018, "InstDisc").

Each query takes its ``k`` most cosine-similar gallery (train) videos; neighbour ``j`` votes for
its class with weight ``exp(s_j / temperature)``; the class scores are the summed votes.
Defaults: ``k = 20``, ``temperature = 0.07``. A ``k`` larger than the gallery uses all of it.
"""

from __future__ import annotations

import torch
from torch import Tensor

from pacepred.evaluation.retrieval import cosine_similarity


def knn_scores(
    queries: Tensor, gallery: Tensor, gallery_labels: Tensor, num_classes: int,
    k: int = 20, temperature: float = 0.07,
) -> Tensor:
    """Class scores float32 (Q, num_classes) for queries (Q, D) against a labelled gallery (G, D).

    A class's score is the sum of its neighbours' votes, each divided by the nearest one's
    ``exp(s_1 / temperature)`` (the same for every class of a query); a class none of the k neighbours has
    scores -inf, so that it never counts as a top-5 hit by a tie among unvoted classes. Ties
    between equally similar neighbours go to the lower gallery index.
    """
    if k < 1 or temperature <= 0:
        raise ValueError(f"kNN needs k >= 1 and temperature > 0, got k={k}, temperature={temperature}")
    similarity = cosine_similarity(queries, gallery)
    top = torch.sort(similarity, dim=1, descending=True, stable=True)
    k = min(k, gallery.shape[0])
    nearest = top.values[:, :k]
    # relative to each query's nearest neighbour: the same ranking of classes, and no overflow
    # (exp(1 / temperature) is inf in float32 below temperature 0.0113)
    weights = ((nearest - nearest[:, :1]) / temperature).exp()
    votes = gallery_labels[top.indices[:, :k]]
    scores = torch.zeros(queries.shape[0], num_classes).scatter_add_(1, votes, weights)
    voted = torch.zeros(queries.shape[0], num_classes, dtype=torch.bool).scatter_(1, votes, True)
    return scores.masked_fill_(~voted, float("-inf"))
