"""Lightning callbacks of pacepred."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import LearningRateMonitor, ModelCheckpoint, RichProgressBar

from pacepred.data.decoding import VideoDecodeError
from pacepred.resume import describe_resumable_changes

log = logging.getLogger(__name__)


class RNGStateCallback(pl.Callback):
    """Save Python, NumPy and torch RNG states in every checkpoint and restore them on resume.

    Data sampling and on-device jitter are seeded per sample and per step already; this keeps
    anything else that draws from the global generators (dropout, user code) reproducible.
    """

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]) -> None:
        name, keys, pos, has_gauss, cached_gauss = np.random.get_state()
        checkpoint["rng_states"] = {
            "python": random.getstate(),
            "numpy": (name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached_gauss),
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        }

    def on_load_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]) -> None:
        states = checkpoint.get("rng_states")
        if states is None:
            return
        random.setstate(states["python"])
        name, keys, pos, has_gauss, cached_gauss = states["numpy"]
        np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached_gauss))
        torch.set_rng_state(states["torch"])
        if states["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(states["cuda"])


class StepCheckpoint(ModelCheckpoint):
    """A checkpoint every ``every_n_train_steps`` optimizer steps inside an epoch (0: none), so that
    a killed run loses at most that many steps: ``<dirpath>/step<global step>.ckpt`` (the newest
    one only) and ``last.ckpt``, from which ``ckpt_path=last`` resumes at that step (the loader's
    position is in it: :class:`pacepred.data.datamodules.ResumableDataLoader`).

    It saves after an optimizer step only: never between the micro-batches of a gradient
    accumulation (their summed gradients are in no checkpoint), nor after the epoch's last batch
    (the validation and the epoch's own checkpoint follow it).
    """

    def __init__(self, dirpath: str, every_n_train_steps: int = 0, filename: str = "step{step:07d}"):
        if not isinstance(every_n_train_steps, int) or every_n_train_steps < 0:
            raise ValueError(f"callbacks.step_checkpoint.every_n_train_steps={every_n_train_steps!r}: expected an "
                             "integer >= 0 (0: no checkpoints inside an epoch)")
        super().__init__(dirpath=dirpath, filename=filename, auto_insert_metric_name=False, save_top_k=1,
                         save_last=True, every_n_train_steps=every_n_train_steps, every_n_epochs=0,
                         enable_version_counter=False)  # a resumed run saves its step again: overwritten

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        last = trainer.fit_loop.epoch_loop.batch_progress.is_last_batch or batch_idx + 1 >= trainer.num_training_batches
        if self._every_n_train_steps < 1 or last or (batch_idx + 1) % trainer.accumulate_grad_batches:
            return
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._every_n_train_steps >= 1:  # disabled: writes nothing
            super().on_train_end(trainer, pl_module)


def resume_settings_note(exception: BaseException | None = None) -> str:
    """What a resume command may add (:data:`pacepred.resume.RESUMABLE_CHANGES`): the fix for a
    broken video first when one stopped the run."""
    note = ("\n  (it may add settings that do not change what is learnt from a good video: "
            f"{describe_resumable_changes()})")
    if stopped_by_a_broken_video(exception):
        note = (f"\n  a broken video stopped it ({getattr(exception, 'path', 'named above')}): add "
                "data.on_bad_video=skip (replace broken videos and count them) or data.skip_list=<a file listing it, "
                "relative to data.root>" + note)
    return note


def stopped_by_a_broken_video(exception: BaseException | None) -> bool:
    """Whether ``exception`` is a :class:`VideoDecodeError`, here or in a loader worker (whose
    errors the loader raises again as a RuntimeError holding the worker's traceback)."""
    return isinstance(exception, VideoDecodeError) or f"Caught {VideoDecodeError.__name__}" in str(exception)


class EpochLearningRateMonitor(LearningRateMonitor):
    """Lightning's learning-rate monitor, which also logs the epoch's rate when a run resumes
    inside an epoch (Lightning calls no ``on_train_epoch_start`` then)."""

    def on_train_start(self, trainer: pl.Trainer, *args: Any, **kwargs: Any) -> None:
        super().on_train_start(trainer, *args, **kwargs)
        if trainer.fit_loop.restarted_mid_epoch:
            self.on_train_epoch_start(trainer, *args, **kwargs)


class ResumeHint(pl.Callback):
    """When a fit stops on an exception (Ctrl-C included), says how to resume it: the whole sweep
    with ``sweep_command`` where one is known, else this run from its last checkpoint with
    ``run_command`` (or, after Ctrl-C, that none was saved yet; an error before the first
    checkpoint speaks for itself), and which settings may be added to it
    (:func:`resume_settings_note`)."""

    def __init__(self, run_command: str, sweep_command: str | None = None):
        self.run_command, self.sweep_command = run_command, sweep_command

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        if not trainer.is_global_zero:
            return
        stopped = f"\npacepred: the run stopped ({type(exception).__name__})"
        last = Path(trainer.default_root_dir) / "checkpoints" / "last.ckpt"
        if self.sweep_command is not None:
            print(f"{stopped}; resume its sweep (finished jobs stay as they are, this one resumes from its last "
                  f"checkpoint or starts again, the others start) with\n  {self.sweep_command}"
                  f"{resume_settings_note(exception)}")
        elif last.is_file():
            print(f"{stopped}; resume it from {last} with\n  {self.run_command}{resume_settings_note(exception)}")
        elif isinstance(exception, KeyboardInterrupt):
            print(f"{stopped} before its first checkpoint; nothing to resume")
        elif stopped_by_a_broken_video(exception):
            print(f"{stopped} before its first checkpoint by a broken video: start it again with "
                  "data.on_bad_video=skip or data.skip_list=<a file listing it>")


class ProgressBar(RichProgressBar):
    """Rich progress bar that shows the training step metrics ``step_metrics`` as read every
    ``trainer.log_every_n_steps`` training steps (when the loggers read them too) and at the ends
    of epochs and validations, the values last read in between.

    Reading a metric of the GPU waits for the GPU, idling it while the host prepares the next
    step; Lightning reads every step metric logged with ``prog_bar=True`` after every step, so
    pacepred logs none that way and this bar reads them instead.
    """

    def __init__(self, step_metrics: Sequence[str] = ("train/loss",), **kwargs: Any):
        super().__init__(**kwargs)
        self.step_metrics = tuple(step_metrics)
        self._read = True
        self._last_read_step = -1
        self._shown: dict[str, float] = {}

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        every = trainer.log_every_n_steps  # 0: never on steps
        step = trainer.global_step  # optimizer steps: the micro-batches of an accumulation share one
        self._read = every > 0 and step > 0 and step % every == 0 and step != self._last_read_step
        if self._read:
            self._last_read_step = step
        try:
            super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
        finally:
            self._read = True

    def get_metrics(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict[str, Any]:
        if self._read:
            logged = trainer.callback_metrics
            self._shown = {name: float(logged[name]) for name in self.step_metrics if name in logged}
        return {**super().get_metrics(trainer, pl_module), **self._shown}
