"""Pace and contrastive losses against hand-computed values."""

import math

import pytest
import torch

from pacepred.losses.contrastive import nt_xent
from pacepred.losses.pace import pace_loss


def test_pace_loss_is_float32_cross_entropy_under_bf16():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]], dtype=torch.bfloat16)
    labels = torch.tensor([0, 1])
    expected = (math.log(1 + math.exp(-2)) + math.log(1 + math.exp(-1))) / 2
    loss = pace_loss(logits, labels)
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_nt_xent_hand_computed_two_pairs():
    # Unit vectors: clips 0,1 of video A are identical, clips 2,3 of video B orthogonal to A.
    z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    keys = torch.tensor([0, 0, 1, 1])
    t = 0.5
    # For anchor 0: positives {1}: sim 1; negatives {2,3}: sim 0.
    expected = -math.log(math.exp(1 / t) / (math.exp(1 / t) + 2 * math.exp(0)))
    assert nt_xent(z, keys, temperature=t).item() == pytest.approx(expected, rel=1e-6)


def test_nt_xent_matches_simclr_formula_on_random_data():
    torch.manual_seed(0)
    z = torch.randn(8, 5)
    keys = torch.arange(4).repeat_interleave(2)
    t = 0.2
    zn = torch.nn.functional.normalize(z, dim=1)
    sim = zn @ zn.T / t
    losses = []
    for i in range(8):
        j = i + 1 if i % 2 == 0 else i - 1
        denom = sum(math.exp(sim[i, k]) for k in range(8) if k != i)
        losses.append(-math.log(math.exp(sim[i, j]) / denom))
    assert nt_xent(z, keys, temperature=t).item() == pytest.approx(sum(losses) / 8, rel=1e-5)


def test_nt_xent_several_positives_average_log_probs():
    z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    keys = torch.tensor([0, 0, 0, 1])  # anchor 3 has no positive and is left out
    t = 1.0
    e = math.e
    per_anchor = -math.log(e / (2 * e + 1))  # anchors 0,1,2: two positives (sim 1), one negative (sim 0)
    assert nt_xent(z, keys, temperature=t).item() == pytest.approx(per_anchor, rel=1e-6)


def test_nt_xent_anchor_subset_against_gathered_candidates_equals_full_batch():
    torch.manual_seed(1)
    z = torch.randn(12, 6)
    keys = torch.arange(6).repeat(2)
    full = nt_xent(z, keys, temperature=0.3)
    halves = [nt_xent(z[s : s + 6], keys[s : s + 6], z, keys, anchor_offset=s, temperature=0.3) for s in (0, 6)]
    assert (sum(halves) / 2).item() == pytest.approx(full.item(), rel=1e-6)


def test_nt_xent_float32_under_bf16_and_gradients_flow():
    z = torch.randn(6, 4, dtype=torch.bfloat16, requires_grad=True)
    loss = nt_xent(z, torch.tensor([0, 0, 1, 1, 2, 2]), temperature=0.1)
    assert loss.dtype == torch.float32
    loss.backward()
    assert torch.isfinite(z.grad.float()).all()


def test_nt_xent_without_any_positive_is_zero_and_errors():
    z = torch.randn(3, 4, requires_grad=True)
    loss = nt_xent(z, torch.tensor([0, 1, 2]))
    loss.backward()
    assert loss.item() == 0.0 and torch.equal(z.grad, torch.zeros_like(z))
    with pytest.raises(ValueError, match="temperature"):
        nt_xent(z, torch.tensor([0, 0, 1]), temperature=0.0)
