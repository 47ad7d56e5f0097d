"""Pre-training entry point.

    python -m pacepred.train                         # CPU-sized default on generated videos
    python -m pacepred.train backbone=r21d pace=4    # the paper's R(2+1)D, 4 paces
    python -m pacepred.train -m pace=3,4,5           # a sweep, one run directory per job
    python -m pacepred.train model=vcop              # clip order prediction (VCOP) instead of pace

``main`` only composes the configuration; :func:`train` does the work and is what tests call.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import hydra
import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from pacepred.callbacks import ResumeHint
from pacepred.config import refuse_renamed_arguments
from pacepred.data.datamodules import ClipRequest
from pacepred.resume import check_resume, checkpoint_to_resume, keep_earlier_segment, resume_command
from pacepred.run_info import network_description, write_run_info


#: Keys of a data config that are set on the command line (``data.root=...``, ``data.crop_size=...``)
#: and read through ``data.source``, ``data.videos``, ``data.reader`` and ``data.loader``: not
#: arguments of the datamodule.
DATA_ALIASES = ("root", "split", "source", "skip_list", "on_bad_video", "min_frames", "decode_size", "crop_size",
                "decoder", "frame_folder_resize", "cache_decoded", "retain_freed_memory", "batch_size",
                "train_repeat", "num_workers", "pin_memory", "persistent_workers", "prefetch_factor")


def datamodule_options(data: DictConfig) -> dict[str, Any]:
    """The data config, resolved, without :data:`DATA_ALIASES`: what instantiates the datamodule."""
    options = OmegaConf.to_container(data, resolve=True)
    return {key: value for key, value in options.items() if key not in DATA_ALIASES}


def training_classes(data: DictConfig) -> list[str]:
    """The class names of the data's training split (``model.num_classes: null`` takes their count)."""
    return instantiate(data.source).records("train")[1]


def refuse_launched_processes_in_a_multirun(trainer: pl.Trainer, multirun: bool) -> None:
    """ValueError when Lightning would start the other ranks by running this command again: in
    a Hydra multirun (``-m``) each of them would run the whole sweep on its own."""
    strategy = trainer.strategy
    if (multirun and trainer.world_size > 1 and strategy.launcher is not None
            and not strategy.cluster_environment.creates_processes_externally):
        raise ValueError(
            f"a multirun (-m) cannot train with {trainer.world_size} processes that Lightning starts by running the "
            "command again (each would run the whole sweep): sweep with hydra/launcher=submitit_slurm (one "
            "task per rank), or run the jobs one by one")


def train(cfg: DictConfig) -> dict[str, Any]:
    """Pre-train as ``cfg`` says; returns the final metrics and the checkpoint paths."""
    pl.seed_everything(cfg.seed, workers=True)
    output_dir = Path(cfg.paths.output_dir)
    checkpoint = checkpoint_to_resume(cfg.get("ckpt_path"), output_dir)
    if checkpoint is not None and not check_resume(cfg, checkpoint):
        print(f"{checkpoint}: its run has already trained for trainer.max_epochs={cfg.trainer.max_epochs}; "
              f"nothing to resume, {output_dir} is left as it is")
        finished = output_dir / "metrics.json"
        return json.loads(finished.read_text()) if finished.is_file() else {"metrics": {}, "output_dir": str(output_dir)}
    paces = instantiate(cfg.pace_set)
    if cfg.model.get("loss_weights", {}).get("supervised", 0) > 0 and cfg.model.get("num_classes") is None:
        cfg.model.num_classes = len(training_classes(cfg.data))
    module = instantiate(
        cfg.model,
        backbone=instantiate(cfg.backbone),
        paces=paces,
        optimizer=instantiate(cfg.optim),
        scheduler=instantiate(cfg.scheduler) if cfg.get("scheduler") else None,
    )
    module.hparams["network"] = network_description(cfg, paces)  # in every checkpoint: how to rebuild and feed it
    # pace clips (num_views per video), or clip-order tuples where the module asks for them
    datamodule = instantiate(datamodule_options(cfg.data), request=ClipRequest.of(module, paces))
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c is not None]
    multirun = HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN
    run_command = None
    if HydraConfig.initialized():  # run from the command line: say how to resume it if it stops
        hydra_cfg = HydraConfig.get()
        run_command = resume_command(list(hydra_cfg.overrides.task), output_dir)
        # the sweep's own command line is this process's only with Hydra's launcher in this process
        in_process = multirun and hydra_cfg.launcher._target_.endswith("BasicLauncher")
        sweep_command = resume_command(sys.argv[1:], output_dir, Path(hydra_cfg.sweep.dir)) if in_process else None
        callbacks.append(ResumeHint(run_command, sweep_command))
    loggers = [instantiate(c) for c in (cfg.get("logger") or {}).values() if c is not None]
    trainer: pl.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    refuse_launched_processes_in_a_multirun(trainer, multirun)
    if trainer.max_epochs == 0 or trainer.limit_train_batches == 0:
        raise ValueError(f"trainer.max_epochs={trainer.max_epochs}, trainer.limit_train_batches="
                         f"{trainer.limit_train_batches}: nothing to train; expected both above 0")
    if trainer.is_global_zero:
        if checkpoint is not None:
            kept = keep_earlier_segment(output_dir)
            if kept:
                print(f"resuming: the earlier segment's files are kept as {', '.join(p.name for p in kept)}")
        write_run_info(cfg, output_dir, resume=run_command)
        if run_command is not None:  # a killed process (SIGKILL, a preempted job) prints nothing when it stops
            print(f"pacepred: if this run stops, resume it from its last checkpoint with\n  {run_command}")
    with warnings.catch_warnings():  # this run's filters only (the next job of a sweep warns again)
        if checkpoint is not None:
            # expected when resuming: the checkpoints are the run's, and the CSV logger's old metrics
            # file (which it warns it deletes) was just kept as a segment
            warnings.filterwarnings("ignore", message=r"(Experiment logs|Checkpoint) directory .* exists and is not empty")
        trainer.fit(module, datamodule=datamodule, ckpt_path=checkpoint)

    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
    headline, chance, classes = getattr(module, "headline_metric", ("val/pace_acc", 1.0 / len(paces), f"{len(paces)} paces"))
    result = {
        "metrics": metrics,
        "headline": headline,
        "paces": [str(p) for p in paces],
        "epochs": trainer.current_epoch,
        "last_checkpoint": getattr(trainer.checkpoint_callback, "last_model_path", "") or None,
        "output_dir": str(output_dir),
    }
    for callback in trainer.checkpoint_callbacks:  # a checkpoint that keeps the best epoch (callbacks=supervised_bound)
        if getattr(callback, "monitor", None) and callback.best_model_path:
            result["best_checkpoint"] = callback.best_model_path
            metrics[f"best/{callback.monitor}"] = float(callback.best_model_score)
    if trainer.is_global_zero:
        (output_dir / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
        accuracy = metrics.get(headline)
        print(
            f"\nfinal {headline} = {accuracy:.3f} (chance {chance:.3f}, {classes})"
            if accuracy is not None else "\nno validation metric was computed"
        )
        if "best_checkpoint" in result:
            print(f"best checkpoint: {result['best_checkpoint']}")
        print(f"last checkpoint: {result['last_checkpoint']}\nrun directory:   {output_dir}")
    return result


@hydra.main(version_base="1.3", config_path="../../conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    """Hydra entry point; returns val/pace_acc (val/order_acc for model=vcop), for sweepers."""
    result = train(cfg)
    return result["metrics"].get(result.get("headline", "val/pace_acc"))


if __name__ == "__main__":
    refuse_renamed_arguments()
    main()
