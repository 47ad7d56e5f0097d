"""NT-Xent (SimCLR) generalised to any positive relation, in float32.

Clips are positives when they share a key: the video index ("same context": two clips of one
video at two paces) or the pace label ("same pace"). For an anchor ``i`` with positives ``P(i)``
among the candidates (all clips but itself)::

    loss_i = -1/|P(i)| * sum_{p in P(i)} log( exp(s_ip / t) / sum_{k != i} exp(s_ik / t) )

with ``s`` the cosine similarity of L2-normalised projections and ``t`` the temperature. With
exactly one positive per anchor this is SimCLR's NT-Xent; with several it is the "L_out" form of
supervised contrastive learning. Anchors without any positive are left out of the mean (0 when
no anchor has one: no pair to learn from). Nothing here waits for the device (no boolean indexing,
no host check of values).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

CONTRASTIVE_MODES = ("context", "pace")


def nt_xent(
    anchors: Tensor,
    anchor_keys: Tensor,
    candidates: Tensor | None = None,
    candidate_keys: Tensor | None = None,
    anchor_offset: int = 0,
    temperature: float = 0.1,
) -> Tensor:
    """Contrastive loss of ``anchors`` against ``candidates`` (default: the anchors themselves).

    Args:
        anchors: (N, D) projections of this process's clips (any float dtype).
        anchor_keys: (N,) int64; equal keys mark positives.
        candidates: (M, D) projections of all clips (e.g. gathered from every DDP rank), which
            contain the anchors at rows ``anchor_offset .. anchor_offset + N - 1``.
        candidate_keys: (M,) int64.
        anchor_offset: row of the first anchor in ``candidates`` (excluded as its own positive).
        temperature: softmax temperature t > 0.

    Returns:
        scalar float32, mean over anchors that have at least one positive (0 when none has).
    """
    if temperature <= 0:
        raise ValueError(f"temperature={temperature}: expected a positive value")
    if candidates is None:
        candidates, candidate_keys = anchors, anchor_keys
    with torch.autocast(device_type=anchors.device.type, enabled=False):
        a = F.normalize(anchors.float(), dim=1)
        c = F.normalize(candidates.float(), dim=1)
        logits = a @ c.T / temperature  # (N, M)
        rows = torch.arange(a.shape[0], device=a.device)
        columns = torch.arange(c.shape[0], device=a.device)
        self_mask = columns[None, :] == (rows + anchor_offset)[:, None]  # (N, M): each anchor's own row
        logits = logits.masked_fill(self_mask, float("-inf"))
        log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        positives = (anchor_keys[:, None] == candidate_keys[None, :]) & ~self_mask
        num_positives = positives.sum(dim=1)
        summed = torch.where(positives, log_prob, torch.zeros_like(log_prob)).sum(dim=1)
        per_anchor = -summed / num_positives.clamp(min=1)  # 0 for an anchor without positives
        return per_anchor.sum() / (num_positives > 0).sum().clamp(min=1)
