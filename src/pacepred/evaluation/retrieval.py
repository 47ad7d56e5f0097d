"""Video retrieval: cosine ranking, top-k hit rates, mAP, per-class top-1 (pure functions).

Protocol (VCOP's retrieval script, docs/evaluation.md, "The protocols"): every test video is a query against all
train videos; a query counts as a hit at k when ANY of its k nearest train videos has its class.
Nearest = highest cosine similarity; ties are broken by the lower gallery index (stable sort), so
results never depend on the sort algorithm. A k larger than the gallery means "all of it".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor

from pacepred.metrics import confusion_matrix, per_class_mean

DEFAULT_KS = (1, 5, 10, 20, 50)


def cosine_similarity(queries: Tensor, gallery: Tensor) -> Tensor:
    """float (Q, D), (G, D) -> cosine similarities float32 (Q, G)."""
    q = torch.nn.functional.normalize(queries.float(), dim=1)
    g = torch.nn.functional.normalize(gallery.float(), dim=1)
    return q @ g.T


def rank_gallery(similarity: Tensor) -> Tensor:
    """Similarities (Q, G) -> gallery indices int64 (Q, G), most similar first (ties: lower index)."""
    return torch.sort(similarity, dim=1, descending=True, stable=True).indices


def topk_hits(ranking: Tensor, query_labels: Tensor, gallery_labels: Tensor, ks: Sequence[int]) -> dict[int, Tensor]:
    """For each k, bool (Q,): does any of the k nearest gallery videos share the query's class?

    Args:
        ranking: int64 (Q, G) from :func:`rank_gallery`.
        query_labels: int64 (Q,); gallery_labels: int64 (G,).
    """
    same = gallery_labels[ranking] == query_labels[:, None]  # (Q, G) bool, in rank order
    first_hit = torch.where(same.any(dim=1), same.float().argmax(dim=1), torch.full_like(query_labels, same.shape[1]))
    return {int(k): first_hit < min(int(k), same.shape[1]) for k in ks}


def average_precision(ranking: Tensor, query_labels: Tensor, gallery_labels: Tensor) -> Tensor:
    """Average precision float (Q,) of each query over the full ranked gallery.

    Relevant = same class. A query whose class has no gallery video gets AP 0 (it cannot be
    retrieved; counting it keeps every query in the mean).
    """
    same = (gallery_labels[ranking] == query_labels[:, None]).float()  # (Q, G)
    ranks = torch.arange(1, same.shape[1] + 1, dtype=torch.float32)
    precision_at_hit = same.cumsum(dim=1) / ranks * same
    relevant = same.sum(dim=1)
    return torch.where(relevant > 0, precision_at_hit.sum(dim=1) / relevant.clamp(min=1), torch.zeros_like(relevant))


@dataclass
class RetrievalResult:
    """Retrieval of ``num_queries`` queries in a gallery of ``num_gallery`` videos.

    ``topk`` maps k to the hit rate, ``per_class_top1`` is (num_classes,) float (NaN: no query
    of that class), ``ranking`` int64 (Q, G), ``confusion`` int64 (C, C) of query class (rows)
    against the class of the nearest gallery video (columns).
    """

    topk: dict[int, float]
    mean_ap: float
    per_class_top1: Tensor
    ranking: Tensor
    confusion: Tensor
    num_queries: int
    num_gallery: int


def retrieve(
    queries: Tensor, query_labels: Tensor, gallery: Tensor, gallery_labels: Tensor,
    num_classes: int, ks: Sequence[int] = DEFAULT_KS,
) -> RetrievalResult:
    """Rank the gallery (G, D) for every query (Q, D) by cosine similarity and score it."""
    if queries.shape[0] == 0 or gallery.shape[0] == 0:
        raise ValueError(f"retrieval needs queries and a gallery, got {queries.shape[0]} and {gallery.shape[0]}")
    ranking = rank_gallery(cosine_similarity(queries, gallery))
    hits = topk_hits(ranking, query_labels, gallery_labels, ks)
    nearest = gallery_labels[ranking[:, 0]]
    return RetrievalResult(
        topk={k: hit.float().mean().item() for k, hit in hits.items()},
        mean_ap=average_precision(ranking, query_labels, gallery_labels).mean().item(),
        per_class_top1=per_class_mean((nearest == query_labels).float(), query_labels, num_classes),
        ranking=ranking,
        confusion=confusion_matrix(query_labels, nearest, num_classes),
        num_queries=queries.shape[0],
        num_gallery=gallery.shape[0],
    )
