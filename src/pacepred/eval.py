"""Downstream evaluation entry point.

    python -m pacepred.eval task=retrieval                  # newest pre-training run's last.ckpt
    python -m pacepred.eval task=finetune ckpt=path/to/last.ckpt
    python -m pacepred.eval task=linear ckpt=null input=residual   # random-initialisation baseline
    python -m pacepred.eval -m task=finetune data=ucf101 data.split=1,2,3 ckpt=...   # + mean/std

``main`` only composes the configuration (``conf/eval.yaml``); :func:`evaluate` does the work
and is what tests call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hydra
import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf, open_dict

from pacepred.callbacks import ProgressBar
from pacepred.config import refuse_renamed_arguments
from pacepred.data.clip_reader import ClipReader
from pacepred.data.video_index import build_index
from pacepred.data.records import (
    LEAVE_OUT_HINT, VideoRecord, balanced_subset, describe_missing, missing_or_empty, write_skip_list,
)
from pacepred.data.video_list import VideoList
from pacepred.evaluation.batchnorm import recalibrated
from pacepred.evaluation.checkpoints import (
    CheckpointMismatchError, checkpoint_to_evaluate, file_sha256, load_backbone_checkpoint, run_config_path,
)
from pacepred.data.clip_positions import frames_per_clip
from pacepred.evaluation.features import short_hash
from pacepred.evaluation.report import Report
from pacepred.evaluation.tasks import ClipInput, EvalSetup, run_finetune, run_knn, run_linear, run_retrieval
from pacepred.checkpoint_file import load_checkpoint_file
from pacepred.resume import LEGACY_VALUES, _flatten
from pacepred.run_info import write_run_info

TASKS = ("retrieval", "finetune", "linear", "knn")
# Data settings that should match between pre-training and evaluation (a note is printed if not).
MATCHED_DATA = ("clip_len", "crop_size", "decode_size")


#: Settings of the evaluation that feed the network: taken from its pre-training (the checkpoint's
#: ``network``, else its run's config.yaml) unless given on the command line, where another value
#: than the pre-training's is an error naming both.
FED_SETTINGS = ("data.batch_transform.mean", "data.batch_transform.std")


def explicit_overrides(cfg: DictConfig) -> set[str]:
    """The keys the command line (or ``compose``) set: ``backbone``, ``input``, ``data.clip_len``..."""
    if HydraConfig.initialized():
        overrides = list(HydraConfig.get().overrides.task)
    else:
        overrides = list(OmegaConf.select(cfg, "hydra.overrides.task", default=None) or [])
    return {override.split("=", 1)[0].lstrip("+~") for override in overrides}


def checkpoint_network(checkpoint: Path) -> DictConfig | None:
    """What the checkpoint's ``hyper_parameters.network`` says about its network
    (:func:`pacepred.run_info.network_description`), shaped as a run's config.yaml (``backbone``,
    ``input``, ``data.clip_len``, ``data.batch_transform.mean``, ...); None for a checkpoint without
    it (pacepred before it, other trainers)."""
    raw = load_checkpoint_file(checkpoint, weights_only=True)
    network = raw.get("hyper_parameters", {}).get("network") if isinstance(raw, dict) else None
    if not isinstance(network, dict):
        return None
    return OmegaConf.create({
        "backbone": network["backbone"], "input": network["input"], "pacepred_version": network.get("pacepred_version"),
        "data": {"clip_len": network["clip_len"], "crop_size": network["crop_size"],
                 "decode_size": network.get("decode_size"),
                 "batch_transform": {"mean": network["mean"], "std": network["std"]}},
    })


def _adopt_run_config(cfg: DictConfig, run_cfg: DictConfig | None, explicit: set[str] | frozenset = frozenset()) -> None:
    """Take the backbone, the normalisation and (with ``input=auto``) the input of the checkpoint's
    pre-training ``run_cfg`` (:func:`checkpoint_network`, or its run's config.yaml); note data
    differences; refuse another input than the run's (a network pre-trained on frame differences
    gives meaningless features of RGB frames, and the other way round), and another backbone or
    normalisation given on the command line (keys in ``explicit``)."""
    if run_cfg is not None:
        for key in ("backbone", *FED_SETTINGS):
            ours, theirs = OmegaConf.select(cfg, key), OmegaConf.select(run_cfg, key)
            if theirs is None:
                continue
            given = any(k == key or k.startswith(f"{key}.") for k in explicit)
            if given and _plain(ours) != _plain(theirs):
                raise ValueError(f"the checkpoint was pre-trained with {key}={_plain(theirs)} but the evaluation asks "
                                 f"for {key}={_plain(ours)}; leave {key} out to evaluate it as it was trained")
            with open_dict(cfg):
                OmegaConf.update(cfg, key, theirs, merge=False)
    with open_dict(cfg):
        if run_cfg is not None:
            run_settings = _flatten(OmegaConf.to_container(run_cfg))
            for key, (legacy, matters) in LEGACY_VALUES.items():  # a backbone setting added since the run
                if key.startswith("backbone.") and f"{key}." not in run_settings and matters(run_settings):
                    OmegaConf.update(cfg, key, legacy)  # its weights are of the behaviour it had
        if cfg.input == "auto":
            cfg.input = run_cfg.input if run_cfg is not None else "rgb"
            print(f"input={cfg.input} ({'from the pre-training' if run_cfg is not None else 'no run config: rgb'})")
    if run_cfg is None:
        return
    if run_cfg.input != cfg.input:
        raise ValueError(f"the checkpoint was pre-trained with input={run_cfg.input} but the evaluation asks for "
                         f"input={cfg.input} (a protocol preset sets the paper's rgb); pass input={run_cfg.input} "
                         "or input=auto to evaluate it on the input it learned from")
    for key in MATCHED_DATA:
        if OmegaConf.select(run_cfg, f"data.{key}") != OmegaConf.select(cfg, f"data.{key}"):
            print(f"note: data.{key} is {OmegaConf.select(cfg, f'data.{key}')} here, "
                  f"{OmegaConf.select(run_cfg, f'data.{key}')} in pre-training")


def _plain(value: Any) -> Any:
    """A config value as plain Python (a node as dicts and lists)."""
    return OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value


def _leave_out_unreadable(
    splits: dict[str, list[VideoRecord]], root: Path, workers: int, output_dir: Path, info: dict[str, Any]
) -> dict[str, list[VideoRecord]]:
    """``data.on_bad_video=skip``: leave out of every split the videos that the video index
    (:mod:`pacepred.data.video_index`: every frame decoded once, in ``workers`` processes, cached beside
    the data) finds unreadable. They are counted in the report's ``skipped_videos`` and listed in
    ``<output_dir>/skipped_videos.txt``, each path (relative to ``root``) after a ``#`` line with
    its reason: a skip list, for ``data.skip_list`` (see :func:`pacepred.data.records.drop_listed`)."""
    paths = [record.path for records in splits.values() for record in records]
    unreadable = build_index(paths, root, workers=max(1, workers), decode=True).unreadable
    kept = {name: [r for r in records if Path(r.path) not in unreadable] for name, records in splits.items()}
    info["skipped_videos"] = {name: len(splits[name]) - len(kept[name]) for name in splits}
    if unreadable:
        listing = output_dir / "skipped_videos.txt"
        write_skip_list(listing, root, sorted(unreadable.items()))
        counts = " and ".join(f"{n} {name}" for name, n in info["skipped_videos"].items())
        print(f"data.on_bad_video=skip: left out {counts} videos that cannot be decoded (listed in {listing})")
    return kept


def check_task_values(task: DictConfig) -> None:
    """ValueError naming a task setting that cannot give a meaningful number."""
    if task.num_clips < 1:
        raise ValueError(f"task.num_clips={task.num_clips}: expected an integer >= 1")
    if task.name == "retrieval" and min(task.ks) < 1:
        raise ValueError(f"task.ks={list(task.ks)}: every k must be >= 1")
    decays = task.weight_decay if task.name == "linear" else None
    if OmegaConf.is_list(decays) and len(decays) > 1 and task.folds < 2:
        raise ValueError(f"task.folds={task.folds}: choosing among task.weight_decay={list(decays)} by cross-validation "
                         "needs folds >= 2 (or give task.weight_decay a single value)")


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Run the downstream task ``cfg.task.name`` as ``cfg`` says; returns the report as a dict."""
    task = cfg.task.name
    if task not in TASKS:
        raise ValueError(f"task.name={task!r}: expected one of {TASKS}")
    check_task_values(cfg.task)
    pl.seed_everything(cfg.seed, workers=True)
    output_dir = Path(cfg.paths.output_dir)
    checkpoint = checkpoint_to_evaluate(cfg.ckpt, cfg.paths.log_dir)
    network = checkpoint_network(checkpoint) if checkpoint is not None else None
    run_cfg_file = run_config_path(checkpoint) if checkpoint is not None and network is None else None
    network_from = ("the checkpoint's hyper_parameters" if network is not None
                    else str(run_cfg_file) if run_cfg_file is not None else "the eval config (backbone=...)")
    if network is None and run_cfg_file is not None:  # a checkpoint from before it described its network
        network = OmegaConf.load(run_cfg_file)
    _adopt_run_config(cfg, network, explicit_overrides(cfg))
    with open_dict(cfg):
        cfg.ckpt = str(checkpoint) if checkpoint is not None else None  # config.yaml records the file used
    write_run_info(cfg, output_dir)
    print(f"backbone {cfg.backbone._target_} from {network_from}")

    backbone = instantiate(cfg.backbone)
    info: dict[str, Any] = {"checkpoint": str(checkpoint) if checkpoint else "none (random initialisation)",
                            "backbone": OmegaConf.to_container(cfg.backbone, resolve=True), "input": cfg.input,
                            "backbone_from": network_from}
    if checkpoint is not None:
        digest = file_sha256(checkpoint)
        ignored = load_backbone_checkpoint(backbone, checkpoint, cfg.ckpt_channels)
        print(f"loaded {type(backbone).__name__} from {checkpoint} (sha256 {digest[:16]}; "
              f"{len(ignored)} head keys ignored)")
        info.update({"checkpoint_sha256": digest, "ignored_keys": ignored})
        model_key = f"sha256-{digest[:16]}-{cfg.ckpt_channels}"  # bgr loads other weights from the same file
    else:
        model_key = f"random-{short_hash({'backbone': info['backbone'], 'seed': cfg.seed, 'torch': torch.__version__})}"
        print(f"random initialisation of {type(backbone).__name__} (seed {cfg.seed})")

    reader: ClipReader = instantiate(cfg.data.reader)
    reader.prepare_process()  # this process; the loaders' workers set it through their worker_init_fn
    videos: VideoList = instantiate(cfg.data.videos)
    source = videos.source
    heldout = cfg.get("heldout", "test")
    if heldout not in ("test", "val"):
        raise ValueError(f"heldout={heldout!r}: expected test (reported) or val (for choices)")
    train_records, class_names, dropped_train = videos.listed("train")
    test_records, _, dropped_test = videos.listed(heldout)
    info["heldout"] = heldout
    skip_list = videos.skip_list
    if skip_list is not None:
        print(f"skip list {skip_list}: dropped {dropped_train} train and {dropped_test} test videos")
    missing = getattr(source, "missing", None)  # Kinetics: clips listed in the CSVs but not on disk
    if missing:
        info["missing_videos"] = {"train": len(missing.get("train", [])), "test": len(missing.get("test", []))}
    if videos.on_bad_video == "raise":
        absent = missing_or_empty(train_records + test_records)  # found now, not after extracting features
        if absent:
            total = len(train_records) + len(test_records)
            raise FileNotFoundError(f"{describe_missing(absent, total, 'videos')}. {LEAVE_OUT_HINT}")
    else:
        kept = _leave_out_unreadable({"train": train_records, "test": test_records}, Path(source.root),
                                     cfg.data.num_workers, output_dir, info)
        train_records, test_records = kept["train"], kept["test"]
    for name, records in (("train", train_records), ("test", test_records)):
        if not records:
            raise ValueError(f"no {name} videos left to evaluate on (data.skip_list={skip_list}, "
                             f"data.on_bad_video={videos.on_bad_video}): check the dataset")
    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if cfg.device == "auto" else cfg.device)
    span = frames_per_clip(cfg.data.clip_len, cfg.input)
    batch_transform = instantiate(cfg.data.batch_transform)
    recalibration = int(cfg.get("bn_recalibration_clips", 0) or 0)
    if recalibration:
        seen = recalibrated(backbone, train_records, reader, recalibration, span, batch_transform, device, cfg.seed)
        print(f"BatchNorm statistics re-estimated on {seen} unlabelled train clips (no weight changed)")
        info["bn_recalibration_clips"] = seen
        model_key += f"-bn{seen}-seed{cfg.seed}"
    fraction = float(cfg.task.get("label_fraction", 1.0))
    if fraction < 1:
        labelled = balanced_subset(train_records, fraction, cfg.seed)
        print(f"label_fraction={fraction}: the classifier trains on {len(labelled)} of {len(train_records)} "
              "train videos (class-balanced)")
        info["labelled_videos"] = len(labelled)
        train_records = labelled
    report = Report(task, class_names, info=info, heldout_videos=[Path(r.path).name for r in test_records])
    setup = EvalSetup(
        backbone=backbone, model_key=model_key, train_records=train_records, test_records=test_records,
        clips=ClipInput(reader, batch_transform, span, cfg.data.num_workers),
        cache_dir=Path(cfg.paths.feature_cache) if cfg.paths.feature_cache else None, device=device,
        output_dir=output_dir, report=report, seed=cfg.seed,
    )
    t = cfg.task
    if task == "retrieval":
        run_retrieval(setup, t.protocols, t.ks, t.num_clips, t.batch_size, t.sheet_rows, t.sheet_neighbours)
    elif task == "linear":
        weight_decay = OmegaConf.to_object(t.weight_decay) if OmegaConf.is_config(t.weight_decay) else t.weight_decay
        run_linear(setup, t.protocol, t.num_clips, t.batch_size, weight_decay, t.max_iter, t.folds)
    elif task == "knn":
        run_knn(setup, t.protocol, t.num_clips, t.batch_size, t.k, t.temperature)
    else:
        loggers = [instantiate(c) for c in (cfg.get("logger") or {}).values() if c is not None]
        progress = [ProgressBar()] if cfg.trainer.get("enable_progress_bar", True) else []
        trainer = instantiate(cfg.trainer, logger=loggers or False, enable_checkpointing=False, callbacks=progress)
        run_finetune(setup, trainer, instantiate(cfg.optim), instantiate(cfg.scheduler) if cfg.get("scheduler") else None,
                     t.dropout, cfg.data.flip, t.batch_size, t.test_batch_size, t.num_clips)
    report.write(output_dir)
    print(f"results: {output_dir / 'metrics.md'} (figures in {output_dir / 'figures'})")
    return {"task": task, "metrics": report.metrics, "info": report.info, "output_dir": str(output_dir)}


@hydra.main(version_base="1.3", config_path="../../conf", config_name="eval")
def main(cfg: DictConfig) -> None:
    """Hydra entry point; a missing file or a checkpoint that does not fit ends with its message only."""
    try:
        evaluate(cfg)
    except (FileNotFoundError, CheckpointMismatchError) as err:
        raise SystemExit(f"error: {err}") from None


if __name__ == "__main__":
    refuse_renamed_arguments()
    main()
