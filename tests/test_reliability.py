"""Reliability (issue 25): exact resume at any step, settings a resume may add, checkpoints that
describe their network, and the bad inputs found before the first training step."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch.utils.data import Dataset

from pacepred.data.datamodules import ResumableDataLoader
from pacepred.data.datasets import SeededShardSampler


class Keys(Dataset):
    """The sampler's keys themselves, as (index, seed) tensors."""

    def __len__(self) -> int:
        return 20

    def __getitem__(self, key):
        return torch.tensor(key)


@pytest.mark.parametrize("world_size", [1, 2])
def test_the_sampler_resumes_at_a_position_of_its_epoch(world_size):
    def keys(sampler):
        return list(sampler)

    for rank in range(world_size):
        whole = SeededShardSampler(20, seed=3, shuffle=True, rank=rank, world_size=world_size, repeat=2)
        whole.set_epoch(4)
        expected = keys(whole)
        resumed = SeededShardSampler(20, seed=3, shuffle=True, rank=rank, world_size=world_size, repeat=2)
        resumed.resume(4, 6 * world_size)  # 6 samples per rank taken before the interruption
        resumed.set_epoch(4)  # Lightning sets the epoch again: the position holds
        assert keys(resumed) == expected[6:]
        assert keys(resumed) == expected  # the next iteration starts at 0 again
        assert len(resumed) == len(expected)  # the whole epoch's length (Lightning counts batches from it)


@pytest.mark.parametrize("num_workers", [0, 1])
def test_the_training_loader_state_restores_its_position_with_workers(num_workers):
    """Lightning hands the state back before the first iterator is made; the workers take their
    first indices then, so the position (and the epoch) must already be set."""
    def loader(position):
        sampler = SeededShardSampler(20, seed=1, shuffle=True)
        return ResumableDataLoader(Keys(), batch_size=4, sampler=sampler, drop_last=True, num_workers=num_workers,
                                   position=lambda: position)

    reference = loader((2, 0))
    reference.sampler.set_epoch(2)
    batches = [b.tolist() for b in reference]
    state = loader((2, 3)).state_dict()  # saved after 3 batches of epoch 2
    assert state == {"epoch": 2, "samples": 12, "dataset_size": 20, "world_size": 1, "batch_size": 4}
    resumed = loader((0, 0))
    resumed.load_state_dict(state)
    assert [b.tolist() for b in resumed] == batches[3:]
    at_epoch_end = loader((3, 0)).state_dict()  # an epoch's end: the next epoch from its start
    fresh = loader((0, 0))
    fresh.load_state_dict(at_epoch_end)
    following = loader((0, 0))
    following.sampler.set_epoch(3)
    assert [b.tolist() for b in fresh] == [b.tolist() for b in following] != batches


def test_the_position_is_the_training_loops_not_the_loaders():
    from pacepred.data.datamodules import training_position

    def trainer(started, processed, batches):
        epochs = SimpleNamespace(started=started, processed=processed)
        loop = SimpleNamespace(epoch_progress=SimpleNamespace(current=epochs),
                               epoch_loop=SimpleNamespace(batch_progress=SimpleNamespace(
                                   current=SimpleNamespace(processed=batches))))
        return SimpleNamespace(fit_loop=loop)

    assert training_position(trainer(started=3, processed=2, batches=5)) == (2, 5)  # inside epoch 2
    assert training_position(trainer(started=3, processed=3, batches=6)) == (3, 0)  # epoch 2 done
