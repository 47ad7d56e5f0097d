"""Training throughput: pacepred's Lightning step against a plain PyTorch loop, and the full pipeline.

For each backbone, side by side in one process:

- ``plain``: a hand-written loop (forward, float32 cross-entropy, backward, SGD step) on fixed
  tensors already on the device: the floor the framework is measured against;
- ``framework``: ``Trainer.fit`` of ``PacePretrainModule`` on the same tensors, on the device
  (Lightning loop, metrics and logging included; no decoding, no host-to-device copy);
- ``pipeline``: ``Trainer.fit`` on real decoding of the generated videos (``data=synthetic``,
  64x64 frames resized at decode time; workers, on-device augmentation), each clip decoded when
  drawn (``data.cache_decoded=false``), with the training's bad-video report, warmed up for as
  many steps as the loader holds batches in flight (workers x prefetch), so that the timed steps
  see the loader's steady state; its rate over the framework's is what real data costs (loading,
  the host-to-device copy, the on-device augmentation).

The device is synchronised before the first timed step and after the last, in all three, never
per step (a training step waits for the GPU only to read its loss's finiteness, once the backward
pass is queued, and on logging steps).

On CUDA the ``fp32`` rows run their convolutions in TF32 (cuDNN's default in PyTorch).

Usage::

    python experiments/bench_training.py --device cpu              # CPU rows (narrow models)
    python experiments/bench_training.py --device cuda --workers 16 # the GPU rows (paper models)

Prints a Markdown table and saves it (with a JSON copy) under ``experiments/results/``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import resource
import tempfile
import time
from pathlib import Path

import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import open_dict

from pacepred.data.bad_videos import BadVideoReport
from pacepred.data.datamodules import ClipRequest
from pacepred.losses.pace import pace_loss
from pacepred.train import datamodule_options

REPO = Path(__file__).resolve().parents[1]


def compose_cfg(overrides: list[str], data_dir: Path, out_dir: Path):
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides)
    with open_dict(cfg):
        cfg.paths.output_dir = str(out_dir)
        cfg.paths.data_dir = str(data_dir)
    return cfg


def build_module(cfg):
    paces = instantiate(cfg.pace_set)
    return instantiate(cfg.model, backbone=instantiate(cfg.backbone), paces=paces,
                       optimizer=instantiate(cfg.optim), scheduler=None), paces


class StepTimer(pl.Callback):
    """Wall time of the training steps ``warmup`` .. ``warmup + steps - 1``.

    The device is synchronised only before the first timed step and after the last, as the plain
    loop is: a synchronisation per step would idle the GPU during every step's host work (hooks,
    the next batch) and charge that to the framework.
    """

    def __init__(self, warmup: int, steps: int):
        self.warmup, self.last = warmup, warmup + steps - 1
        self.start, self.end, self.steps = None, None, 0

    @staticmethod
    def _sync(module):
        if module.device.type == "cuda":
            torch.cuda.synchronize()

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        if batch_idx == self.warmup:
            self._sync(module)
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        if batch_idx == self.last:
            self._sync(module)
        self.end = time.perf_counter()
        if batch_idx >= self.warmup:
            self.steps += 1


def peak_memory_mb(device: str) -> float:
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fixed_batch(cfg, num_paces: int, device: str) -> dict[str, torch.Tensor]:
    b = cfg.data.batch_size
    size = cfg.data.crop_size
    return {
        "video": torch.randn(b, 3, cfg.data.clip_len, size, size, device=device),
        "pace_label": torch.randint(0, num_paces, (b,), device=device),
        "video_idx": torch.arange(b, device=device),
        "label": torch.zeros(b, dtype=torch.int64, device=device),
    }


def time_plain(cfg, device: str, steps: int, warmup: int) -> float:
    """Seconds per step of a plain loop with the same model, batch, optimizer and precision."""
    module, paces = build_module(cfg)
    model = torch.nn.Sequential(module.backbone, module.pace_head).to(device)
    if cfg.model.acceleration.channels_last or (cfg.model.acceleration.channels_last is None and device == "cuda"):
        model.to(memory_format=torch.channels_last_3d)
    optimizer = instantiate(cfg.optim)(params=model.parameters())
    batch = fixed_batch(cfg, len(paces), device)
    video = batch["video"]
    if device == "cuda" and (cfg.model.acceleration.channels_last is None or cfg.model.acceleration.channels_last):
        video = video.contiguous(memory_format=torch.channels_last_3d)
    dtype = torch.bfloat16 if "bf16" in str(cfg.trainer.precision) else None
    start = None
    for step in range(warmup + steps):
        if step == warmup:
            torch.cuda.synchronize() if device == "cuda" else None
            start = time.perf_counter()
        with torch.autocast(device_type=device, dtype=dtype, enabled=dtype is not None):
            loss = pace_loss(model(video), batch["pace_label"])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def time_framework(cfg, device: str, steps: int, warmup: int, datamodule=None) -> float:
    """Seconds per step of Trainer.fit (fixed tensors, or ``datamodule``)."""
    module, paces = build_module(cfg)
    timer = StepTimer(warmup, steps)
    trainer = pl.Trainer(
        accelerator="gpu" if device == "cuda" else "cpu", devices=1, precision=cfg.trainer.precision,
        max_epochs=1, limit_train_batches=warmup + steps, limit_val_batches=0, logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        benchmark=device == "cuda", use_distributed_sampler=False,
        callbacks=[timer] if datamodule is None else [timer, BadVideoReport()],  # the report reads every batch
        default_root_dir=cfg.paths.output_dir,
    )
    if datamodule is None:
        batch = fixed_batch(cfg, len(paces), device)  # already there: Lightning moves nothing
        loader = torch.utils.data.DataLoader([batch] * (warmup + steps), batch_size=None)
        trainer.fit(module, train_dataloaders=loader)
    else:
        trainer.fit(module, datamodule=datamodule)
    if timer.steps != steps:  # the last step's synchronisation never ran: the time would be short
        raise RuntimeError(f"the loader gave {timer.steps} of the {steps} timed steps after {warmup} warm-up steps")
    return (timer.end - timer.start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--backbones", nargs="+", default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="alternate plain/framework runs this many times")
    parser.add_argument("--data-dir", default=str(REPO / "data"))
    parser.add_argument("--out", default=str(REPO / "experiments" / "results"))
    args = parser.parse_args()
    cuda = args.device == "cuda"
    backbones = args.backbones or (["r21d", "r3d", "c3d", "s3d_g"] if cuda else ["r3d_w16"])
    steps = args.steps or (30 if cuda else 10)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="pacepred_bench_training_"))  # the trainers' root folder (nothing kept)

    variants = [("fp32", ["trainer.precision=32-true", "model.acceleration.channels_last=false"])]
    if cuda:
        variants.append(("bf16+channels_last", ["trainer.precision=bf16-mixed", "model.acceleration.channels_last=true"]))
    size = [] if cuda else ["data.batch_size=16"]
    if cuda:
        size = ["data=synthetic", "data.decode_size=[128,171]", "data.crop_size=112", "data.batch_size=32", "input=rgb"]

    rows = []
    for backbone in backbones:
        for name, variant in variants:
            overrides = [f"backbone={backbone}", "model=pace", *size, *variant]
            if backbone == "s3d_g" and cuda:
                overrides += ["data.clip_len=64", "data.decode_size=[256,256]", "data.crop_size=224", "data.batch_size=8",
                              "model.acceleration.activation_checkpointing=true"]
            cfg = compose_cfg(overrides, Path(args.data_dir), work)
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            plain, framework = [], []
            for _ in range(args.repeats):  # alternate, so machine noise hits both alike
                plain.append(time_plain(cfg, args.device, steps, args.warmup))
                framework.append(time_framework(cfg, args.device, steps, args.warmup))
            plain_s, framework_s = min(plain), min(framework)
            pipe_overrides = overrides + [f"data.num_workers={args.workers}", "data.persistent_workers=true",
                                          f"data.pin_memory={str(cuda).lower()}", "data.cache_decoded=false"]
            cfg_pipe = compose_cfg(pipe_overrides, Path(args.data_dir), work)
            pipe_warmup = max(args.warmup, args.workers * cfg_pipe.data.prefetch_factor)  # the loader's queue drained
            videos = len(instantiate(cfg_pipe.data.source).records("train")[0])
            repeat = -(-(pipe_warmup + steps) * cfg_pipe.data.batch_size // videos)  # enough batches in one epoch
            cfg_pipe = compose_cfg(pipe_overrides + [f"data.train_repeat={repeat}"], Path(args.data_dir), work)
            datamodule = instantiate(datamodule_options(cfg_pipe.data), request=ClipRequest(instantiate(cfg_pipe.pace_set)))
            pipe_s = time_framework(cfg_pipe, args.device, steps, pipe_warmup, datamodule)
            clips = cfg.data.batch_size
            rows.append({
                "backbone": backbone, "precision": name, "batch": clips,
                "clip": f"{cfg.data.clip_len}x{cfg.data.crop_size}x{cfg.data.crop_size}",
                "plain_clips_s": clips / plain_s, "framework_clips_s": clips / framework_s,
                "framework_over_plain_time": framework_s / plain_s,
                "pipeline_clips_s": clips / pipe_s, "pipeline_over_framework_rate": framework_s / pipe_s,
                "pipeline_warmup": pipe_warmup,
                "pipeline_steps": steps,
                "peak_memory_mb": peak_memory_mb(args.device),
            })
            print(json.dumps(rows[-1]), flush=True)

    device_name = torch.cuda.get_device_name() if cuda else f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"
    header = (f"Training throughput, {args.device} ({device_name}), {datetime.date.today()}, torch {torch.__version__}; "
              f"{steps} timed steps after {args.warmup} warm-up, best of {args.repeats} alternated runs for plain/framework; "
              f"pipeline with {args.workers} workers, each clip decoded when drawn, its timed steps after as many "
              f"warm-up steps as the loader holds batches (columns); pipeline/framework: the rate kept with real data "
              f"(loading, host-to-device copy, on-device augmentation); device synchronised before the first "
              f"and after the last timed step only"
              f"{'; fp32 convolutions in TF32 (cuDNN default)' if cuda else ''}.\n\n")
    table = ("| backbone | precision | clip | batch | plain loop clips/s | framework clips/s | framework/plain time | "
             "full pipeline clips/s | pipeline warm-up / timed steps | pipeline/framework rate | peak memory MB |\n"
             "|---|---|---|---|---|---|---|---|---|---|---|\n")
    for r in rows:
        table += (f"| {r['backbone']} | {r['precision']} | {r['clip']} | {r['batch']} | {r['plain_clips_s']:.1f} | "
                  f"{r['framework_clips_s']:.1f} | {r['framework_over_plain_time']:.3f} | {r['pipeline_clips_s']:.1f} | "
                  f"{r['pipeline_warmup']} / {r['pipeline_steps']} | "
                  f"{r['pipeline_over_framework_rate']:.2f} | {r['peak_memory_mb']:.0f} |\n")
    print("\n" + header + table)
    stem = f"training_throughput_{args.device}"
    (out_dir / f"{stem}.md").write_text(header + table)
    (out_dir / f"{stem}.json").write_text(json.dumps({"device": device_name, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
