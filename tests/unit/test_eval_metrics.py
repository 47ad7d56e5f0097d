"""Retrieval top-k / mAP, kNN and the linear probe on hand-made features with known answers."""

import math

import pytest
import torch

from pacepred.evaluation.knn import knn_scores
from pacepred.evaluation.linear import fit_linear_probe, select_weight_decay
from pacepred.evaluation.retrieval import average_precision, rank_gallery, cosine_similarity, retrieve
from pacepred.metrics import confusion_matrix, per_class_mean, topk_correct

# Gallery (train videos): four 2-D features and their classes.
GALLERY = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]])
GALLERY_LABELS = torch.tensor([0, 1, 1, 2])
# Queries (test videos), worked by hand:
#   q0 = (1, .1), class 1: cosines g0 .995, g2 .774, g1 .100, g3 -.995 -> ranking [0, 2, 1, 3]:
#        nearest is class 0 (miss at k=1), the 2nd is class 1 (hit from k=2); AP = (1/2 + 2/3) / 2
#   q1 = (0, 1), class 2: g1 1, g2 .707, then g0 and g3 tie at 0 (lower index first) -> [1, 2, 0, 3]:
#        first class-2 neighbour at rank 4; AP = 1/4
#   q2 = (-1, -.2), class 2: g3 first -> hit at k=1; AP = 1
QUERIES = torch.tensor([[1.0, 0.1], [0.0, 1.0], [-1.0, -0.2]])
QUERY_LABELS = torch.tensor([1, 2, 2])


def test_ranking_breaks_ties_by_lower_gallery_index():
    ranking = rank_gallery(cosine_similarity(QUERIES, GALLERY))
    assert ranking.tolist()[:2] == [[0, 2, 1, 3], [1, 2, 0, 3]]


def test_topk_counts_a_hit_when_any_of_the_k_nearest_has_the_class():
    result = retrieve(QUERIES, QUERY_LABELS, GALLERY, GALLERY_LABELS, num_classes=3, ks=(1, 2, 3, 4, 50))
    assert result.topk == pytest.approx({1: 1 / 3, 2: 2 / 3, 3: 2 / 3, 4: 1.0, 50: 1.0})  # k > gallery: all of it
    assert result.mean_ap == pytest.approx(((1 / 2 + 2 / 3) / 2 + 1 / 4 + 1) / 3)
    assert (result.num_queries, result.num_gallery) == (3, 4)
    assert math.isnan(result.per_class_top1[0]) and result.per_class_top1[1:].tolist() == [0.0, 0.5]
    # rows: query class; columns: class of the nearest gallery video
    assert result.confusion.tolist() == [[0, 0, 0], [1, 0, 0], [0, 1, 1]]


def test_average_precision_is_zero_when_the_class_is_not_in_the_gallery():
    ranking = rank_gallery(cosine_similarity(QUERIES[:1], GALLERY))
    assert average_precision(ranking, torch.tensor([5]), GALLERY_LABELS).tolist() == [0.0]


def test_retrieval_is_invariant_to_feature_scale():
    a = retrieve(QUERIES, QUERY_LABELS, GALLERY, GALLERY_LABELS, 3)
    b = retrieve(QUERIES * 7, QUERY_LABELS, GALLERY * 0.1, GALLERY_LABELS, 3)
    assert a.topk == b.topk and torch.equal(a.ranking, b.ranking)


def test_knn_votes_are_exp_similarity_over_temperature():
    scores = knn_scores(QUERIES[:1], GALLERY, GALLERY_LABELS, num_classes=3, k=2, temperature=0.07)
    sims = cosine_similarity(QUERIES[:1], GALLERY)[0]
    expected = torch.tensor([math.exp(sims[0] / 0.07), math.exp(sims[2] / 0.07), float("-inf")])
    expected /= math.exp(max(sims[0], sims[2]) / 0.07)  # relative to the nearest neighbour's vote
    assert torch.allclose(scores[0], expected, rtol=1e-5)  # the class without a vote: -inf
    # with fewer voted classes than k, an unvoted class is no top-k hit
    assert topk_correct(scores, torch.tensor([2]), 3).tolist() == [False]
    assert topk_correct(scores, torch.tensor([1]), 3).tolist() == [True]
    # k beyond the gallery uses all of it; the nearest neighbour dominates at a low temperature
    assert knn_scores(QUERIES, GALLERY, GALLERY_LABELS, 3, k=100, temperature=0.01).argmax(dim=1).tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="temperature"):
        knn_scores(QUERIES, GALLERY, GALLERY_LABELS, 3, k=2, temperature=0)


def test_knn_majority_wins_at_temperatures_where_exp_would_overflow():
    """Four neighbours at similarity 0.995, three of class 1: exp(0.995 / 0.01) is inf in float32."""
    gallery = torch.tensor([[0.995, (1 - 0.995**2) ** 0.5]] * 4)
    scores = knn_scores(torch.tensor([[1.0, 0.0]]), gallery, torch.tensor([0, 1, 1, 1]), 2, k=4, temperature=0.01)
    assert torch.isfinite(scores).all() and scores.argmax(dim=1).tolist() == [1]


def test_linear_probe_separates_separable_classes_deterministically():
    generator = torch.Generator().manual_seed(0)
    centres = torch.randn(4, 16, generator=generator) * 4
    labels = torch.arange(4).repeat_interleave(25)
    features = centres[labels] + torch.randn(100, 16, generator=generator)
    probe = fit_linear_probe(features, labels, num_classes=4)
    assert topk_correct(probe.logits(features), labels, 1).all()
    again = fit_linear_probe(features, labels, num_classes=4)
    assert torch.equal(probe.weight, again.weight)


def test_weight_decay_is_chosen_on_train_folds_and_regularises_noisy_high_dimensional_features():
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(4).repeat_interleave(12)
    signal = torch.randn(4, 3, generator=generator)[labels] * 2      # 3 informative dimensions
    noise = torch.randn(48, 200, generator=generator)                # 200 noise dimensions: easy to overfit
    features = torch.cat([signal + 0.5 * torch.randn(48, 3, generator=generator), noise], dim=1)
    best, accuracy = select_weight_decay(features, labels, 4, [1e-4, 1.0, 10.0], folds=4)
    assert set(accuracy) == {1e-4, 1.0, 10.0} and all(0 <= a <= 1 for a in accuracy.values())
    assert accuracy[best] == max(accuracy.values()) and best > 1e-4  # the strong decay generalises better
    assert select_weight_decay(features, labels, 4, [0.01]) == (0.01, {})  # one candidate: no search


def test_weight_decay_folds_are_contiguous_blocks_of_each_class(monkeypatch):
    """Videos listed by group (UCF101: g08_c01, g08_c02, ...) keep a group on one side of a fold."""
    import pacepred.evaluation.linear as linear

    held_out = []

    class Probe:
        def logits(self, features):
            held_out.append(features[:, 0].long().tolist())
            return torch.zeros(len(features), 2)

    monkeypatch.setattr(linear, "fit_linear_probe", lambda *args: Probe())
    labels = torch.tensor([0] * 10 + [1] * 10)
    linear.select_weight_decay(torch.arange(20.0)[:, None], labels, 2, [1.0, 2.0], folds=5)
    assert held_out[:5] == [[0, 1, 10, 11], [2, 3, 12, 13], [4, 5, 14, 15], [6, 7, 16, 17], [8, 9, 18, 19]]


def test_scores_helpers():
    scores = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]])
    labels = torch.tensor([2, 0])
    assert topk_correct(scores, labels, 1).tolist() == [False, True]
    assert topk_correct(scores, labels, 2).tolist() == [True, True]
    assert topk_correct(scores, labels, 5).tolist() == [True, True]  # k capped at the class count
    assert confusion_matrix(labels, scores.argmax(dim=1), 3).tolist() == [[1, 0, 0], [0, 0, 0], [0, 1, 0]]
    means = per_class_mean(torch.tensor([1.0, 0.0, 1.0]), torch.tensor([0, 0, 2]), 3)
    assert means[0] == 0.5 and math.isnan(means[1]) and means[2] == 1.0
