"""LoaderSettings: batch size, passes per epoch and the DataLoader's worker options of a run,
built once from ``data.loader`` (whose fields interpolate ``data.batch_size``, ``data.num_workers``...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class LoaderSettings:
    """Args:
        batch_size: videos per batch and per process.
        train_repeat: passes over the train list per epoch (the official recipe repeats it 10 times).
        num_workers: loader worker processes (0: load in the training process).
        pin_memory: batches in page-locked memory when training on a GPU (ignored elsewhere).
        persistent_workers, prefetch_factor: as DataLoader's (only with workers).
    """

    batch_size: int = 1
    train_repeat: int = 1
    num_workers: int = 0
    pin_memory: bool = False
    persistent_workers: bool = False
    prefetch_factor: int | None = None

    def __post_init__(self) -> None:
        for name, value, least in (("batch_size", self.batch_size, 1), ("train_repeat", self.train_repeat, 1),
                                   ("num_workers", self.num_workers, 0)):
            if not isinstance(value, int) or value < least:
                raise ValueError(f"data.{name}={value!r}: expected an integer >= {least}")

    def options(self, worker_init: Callable[[int], None] | None, on_gpu: bool) -> dict[str, Any]:
        """DataLoader keyword arguments (but batch size, sampler and dataset)."""
        workers = self.num_workers
        return {"num_workers": workers, "pin_memory": self.pin_memory and on_gpu,
                "persistent_workers": self.persistent_workers and workers > 0,
                "prefetch_factor": self.prefetch_factor if workers > 0 else None, "worker_init_fn": worker_init}
