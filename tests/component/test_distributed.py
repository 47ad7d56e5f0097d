"""Contrastive negatives gathered across ranks: two gloo processes give the single-process loss
on the concatenated batch, and the gradients of the whole batch."""

import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from pacepred.distributed import gather_no_grad, gather_with_grad
from pacepred.losses.contrastive import nt_xent
from pacepred.modules.finite_loss import NonFiniteLossError, QueuedFiniteCheck


def _worker(rank: int, world: int, port: int, z: torch.Tensor, keys: torch.Tensor, out: dict) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        n = z.shape[0] // world
        local = z[rank * n : (rank + 1) * n].clone().requires_grad_(True)
        local_keys = keys[rank * n : (rank + 1) * n]
        candidates, offset = gather_with_grad(local)
        loss = nt_xent(local, local_keys, candidates, gather_no_grad(local_keys), offset, temperature=0.2)
        loss.backward()
        grad = local.grad / world  # DDP averages gradients over ranks
        dist.all_reduce(loss_avg := loss.detach().clone())
        # the backward leaves the gradient it receives as it is: autograd hands the same tensor to
        # both inputs of a sum, and the other branch (run after it) must not see it summed over the ranks
        w = torch.zeros(z.shape, requires_grad=True)
        branch = w * 2
        ((gather_with_grad(local.detach().requires_grad_(True))[0] + branch) * torch.ones(z.shape)).sum().backward()
        out[rank] = (loss_avg.item() / world, grad, w.grad)
    finally:
        dist.destroy_process_group()


def test_gathered_loss_and_gradients_equal_single_process(unused_port=29517):
    torch.manual_seed(0)
    z = torch.randn(8, 5)
    keys = torch.arange(4).repeat(2)  # views of video k sit on different ranks
    reference = z.clone().requires_grad_(True)
    expected = nt_xent(reference, keys, temperature=0.2)
    expected.backward()

    manager = mp.Manager()
    out = manager.dict()
    mp.spawn(_worker, args=(2, unused_port, z, keys, out), nprocs=2, join=True)
    for rank in (0, 1):
        loss, grad, branch_grad = out[rank]
        assert loss == pytest.approx(expected.item(), rel=1e-6)
        assert torch.allclose(grad, reference.grad[rank * 4 : (rank + 1) * 4], atol=1e-6)
        assert torch.equal(branch_grad, torch.full(z.shape, 2.0))


def _finite_check_worker(rank: int, world: int, port: int, out: dict) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        loss = torch.tensor(float("nan") if rank == 1 else 1.5)
        check = QueuedFiniteCheck(loss, "epoch 0, step 7", {"pace loss": loss})
        try:
            check.raise_if_not_finite()
            out[rank] = "no error"
        except NonFiniteLossError as error:
            out[rank] = str(error)
    finally:
        dist.destroy_process_group()


def test_a_non_finite_loss_on_one_rank_stops_every_rank(unused_port=29519):
    """The ranks decide together (a rank stopping alone would leave the others waiting in the
    next collective until the process group's timeout)."""
    out = mp.Manager().dict()
    mp.spawn(_finite_check_worker, args=(2, unused_port, out), nprocs=2, join=True)
    assert out[0].startswith("training loss is not finite on another rank at epoch 0, step 7 (pace loss here 1.5)")
    assert out[1].startswith("training loss is nan on this rank at epoch 0, step 7 (pace loss here nan)")
