"""The paper presets: every pre-training recipe (conf/experiment/paper_*.yaml) and every downstream
protocol preset (conf/protocol/) composes with the official values of docs/method.md (or pacepred's
stated choices where the paper gives none) and instantiates without touching the disk."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate

from tests.helpers.common import CONF_DIR, compose_train
from pacepred.train import datamodule_options
from pacepred.data.datamodules import ClipRequest

UCF = "pacepred.data.sources.UCF101Split"
HMDB = "pacepred.data.sources.HMDB51Split"
K400 = "pacepred.data.sources.Kinetics400Split"

# The official recipe (docs/method.md, "The official pre-training recipe") shared by every pre-training preset.
SMALL = {"clip_len": 16, "decode_size": [128, 171], "crop_size": 112}
LARGE = {"clip_len": 64, "decode_size": [256, 256], "crop_size": 224}

# preset -> backbone class, data source, clip sizes, train_repeat, per-process batch (videos),
# processes, views per video (clips per video per step), the model.
TRAIN_PRESETS = {
    "paper_c3d_ucf101": dict(backbone="C3D", source=UCF, sizes=SMALL, repeat=10, batch=30, devices=1, views=1, model="pace"),
    "paper_r3d_ucf101": dict(backbone="R3D", source=UCF, sizes=SMALL, repeat=10, batch=30, devices=1, views=1, model="pace"),
    "paper_r21d_ucf101": dict(backbone="R2Plus1D", source=UCF, sizes=SMALL, repeat=10, batch=30, devices=1, views=1, model="pace"),
    "paper_s3dg_ucf101": dict(backbone="S3DG", source=UCF, sizes=LARGE, repeat=10, batch=8, devices=4, views=1, model="pace"),
    "paper_r21d_ucf101_ctr_context": dict(backbone="R2Plus1D", source=UCF, sizes=SMALL, repeat=10, batch=15, devices=1,
                                          views=2, model="pace_ctr_context"),
    # Kinetics-400: train list read once per epoch (pacepred's choice, see the file's comment).
    "paper_r21d_kinetics400": dict(backbone="R2Plus1D", source=K400, sizes=SMALL, repeat=1, batch=30, devices=1, views=1,
                                   model="pace"),
}

FINETUNE = dict(task="finetune", optim=dict(lr=0.001, momentum=0.9, weight_decay=0.0005), epochs=150, dropout=0.5,
                scheduler="cosine", num_clips=10)
RETRIEVAL = dict(task="retrieval", protocols=["vcop", "gap"], ks=[1, 5, 10, 20, 50], num_clips=10)
PROTOCOL_PRESETS = {
    "paper_finetune_ucf101": dict(FINETUNE, source=UCF, sizes=SMALL, batch=30),
    "paper_finetune_hmdb51": dict(FINETUNE, source=HMDB, sizes=SMALL, batch=30),
    "paper_finetune_ucf101_s3dg": dict(FINETUNE, source=UCF, sizes=LARGE, batch=8),
    "paper_finetune_hmdb51_s3dg": dict(FINETUNE, source=HMDB, sizes=LARGE, batch=8),
    "paper_retrieval_ucf101": dict(RETRIEVAL, source=UCF, sizes=SMALL),
    "paper_retrieval_hmdb51": dict(RETRIEVAL, source=HMDB, sizes=SMALL),
}


def _files(group: str, prefix: str = "") -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob(f"{prefix}*.yaml"))


def test_every_paper_preset_has_expectations():
    assert _files("experiment", "paper_") == sorted(TRAIN_PRESETS)
    assert _files("protocol") == sorted(PROTOCOL_PRESETS)


def _assert_sizes(data, sizes: dict) -> None:
    assert data.clip_len == sizes["clip_len"]
    assert list(data.decode_size) == sizes["decode_size"] and data.crop_size == sizes["crop_size"]


@pytest.mark.parametrize("preset", sorted(TRAIN_PRESETS))
def test_pretraining_preset_pins_the_official_recipe(preset, tmp_path):
    want = TRAIN_PRESETS[preset]
    data_dir = tmp_path / "absent"  # nothing may be read or created here
    cfg = compose_train([f"experiment={preset}"], tmp_path / "run", data_dir)
    assert cfg.task_name == preset
    # Optimisation: SGD lr 0.001 momentum 0.9 wd 0.005, StepLR(6, 0.1), 18 epochs, fp32.
    assert cfg.optim._target_ == "torch.optim.SGD"
    assert (cfg.optim.lr, cfg.optim.momentum, cfg.optim.weight_decay) == (0.001, 0.9, 0.005)
    assert cfg.scheduler._target_ == "torch.optim.lr_scheduler.StepLR"
    assert (cfg.scheduler.step_size, cfg.scheduler.gamma) == (6, 0.1)
    assert cfg.trainer.max_epochs == 18 and cfg.trainer.precision == "32-true"
    assert cfg.trainer.accelerator == "gpu" and cfg.trainer.devices == want["devices"]
    # Clips: paces 1-4, RGB, per-frame sequential jitter, looping boundary, the paper's sizes.
    assert cfg.pace == 4 and cfg.input == "rgb" and cfg.data.boundary == "loop"
    assert cfg.data.batch_transform.jitter.mode == "per_frame" and cfg.data.batch_transform.jitter.impl == "sequential"
    assert cfg.data.batch_transform.jitter.order == "random"  # torchvision draws the order per call
    assert cfg.data.flip is True
    _assert_sizes(cfg.data, want["sizes"])
    assert cfg.data.train_repeat == want["repeat"] and cfg.data.batch_size == want["batch"]
    # Clips per optimisation step over all processes: 30 on one GPU, 32 over four (S3D-G).
    assert want["batch"] * want["views"] * want["devices"] == (32 if preset.startswith("paper_s3dg") else 30)
    assert cfg.data.source._target_ == want["source"]
    if want["source"] == UCF:
        assert cfg.data.split == 1 and cfg.data.root == f"{data_dir}/ucf101"
    else:
        assert cfg.data.root == f"{data_dir}/kinetics400"
    assert cfg.hydra.runtime.choices.model == want["model"]

    paces = instantiate(cfg.pace_set)
    assert [str(p) for p in paces] == ["1", "2", "3", "4"]
    backbone = instantiate(cfg.backbone)
    assert type(backbone).__name__ == want["backbone"] and backbone.out_dim > 0
    module = instantiate(cfg.model, backbone=backbone, paces=paces, optimizer=instantiate(cfg.optim),
                         scheduler=instantiate(cfg.scheduler))
    assert module.num_views == want["views"] and module.pace_head.fc.out_features == 4
    optimizers = module.configure_optimizers()
    optimizer = optimizers["optimizer"] if isinstance(optimizers, dict) else optimizers[0][0]
    assert isinstance(optimizer, torch.optim.SGD) and optimizer.defaults["lr"] == 0.001
    # The datamodule instantiates without touching the disk (sources are read in setup()).
    datamodule = instantiate(datamodule_options(cfg.data), request=ClipRequest.of(module, paces))
    assert (datamodule.boundary, datamodule.loader.train_repeat, datamodule.loader.batch_size) == ("loop", want["repeat"], want["batch"])
    assert datamodule.clip_len == want["sizes"]["clip_len"] and datamodule.reader.crop_size == want["sizes"]["crop_size"]
    assert datamodule.reader.decode_size == tuple(want["sizes"]["decode_size"])
    assert datamodule.batch_transform.jitter.mode == "per_frame" and datamodule.batch_transform.input_mode == "rgb"
    assert not data_dir.exists()


def compose_protocol(preset: str, tmp_path: Path, *overrides: str):
    return compose_train([f"protocol={preset}", *overrides], tmp_path / "run", tmp_path / "absent", config_name="eval")


@pytest.mark.parametrize("preset", sorted(PROTOCOL_PRESETS))
def test_protocol_preset_values(preset, tmp_path):
    want = PROTOCOL_PRESETS[preset]
    data_dir = tmp_path / "absent"
    cfg = compose_protocol(preset, tmp_path)
    assert cfg.task.name == want["task"] and cfg.task_name == f"eval_{want['task']}"
    assert cfg.input == "rgb" and cfg.ckpt == "latest"  # the paper's networks take RGB; ckpt from the command line
    assert cfg.task.num_clips == want["num_clips"]
    _assert_sizes(cfg.data, want["sizes"])
    assert cfg.data.source._target_ == want["source"] and cfg.data.split == 1 and cfg.data.source.split == 1
    dataset = "ucf101" if want["source"] == UCF else "hmdb51"
    assert cfg.data.root == f"{data_dir}/{dataset}"

    source = instantiate(cfg.data.source)  # constructing a source reads nothing
    assert str(source.root) == f"{data_dir}/{dataset}" and source.split == 1
    transform = instantiate(cfg.data.batch_transform)
    assert transform.input_mode == "rgb"
    assert instantiate(cfg.backbone).out_dim > 0  # used only without a checkpoint run config

    if want["task"] == "retrieval":
        assert list(cfg.task.protocols) == want["protocols"] and list(cfg.task.ks) == want["ks"]
    else:
        assert cfg.task.max_epochs == cfg.trainer.max_epochs == cfg.scheduler.T_max == want["epochs"]
        assert cfg.task.dropout == want["dropout"] and cfg.task.batch_size == cfg.data.batch_size == want["batch"]
        assert cfg.hydra.runtime.choices.scheduler == want["scheduler"]
        assert cfg.trainer.accelerator == "gpu" and cfg.trainer.devices == 1 and cfg.trainer.precision == "32-true"
        assert cfg.data.flip is True and transform.jitter.mode == "none"
        optimizer = instantiate(cfg.optim)(params=[torch.nn.Parameter(torch.zeros(1))])
        assert isinstance(optimizer, torch.optim.SGD)
        assert {k: optimizer.defaults[k] for k in want["optim"]} == want["optim"]
        scheduler = instantiate(cfg.scheduler)(optimizer=optimizer)
        assert isinstance(scheduler, torch.optim.lr_scheduler.CosineAnnealingLR) and scheduler.T_max == want["epochs"]
        if torch.cuda.is_available():
            trainer = instantiate(cfg.trainer, logger=False, enable_checkpointing=False)
            assert trainer.max_epochs == want["epochs"]
    assert not data_dir.exists()


def test_command_line_overrides_a_protocol_preset(tmp_path):
    cfg = compose_protocol("paper_finetune_ucf101", tmp_path, "data.split=3", "task.max_epochs=2", "data.root=/datasets/u")
    assert cfg.data.source.split == 3 and cfg.data.source.root == "/datasets/u"
    assert cfg.trainer.max_epochs == cfg.scheduler.T_max == 2
    cfg = compose_protocol("paper_retrieval_ucf101", tmp_path, "task.protocols=[vcop]", "input=residual")
    assert list(cfg.task.protocols) == ["vcop"] and cfg.input == "residual"


def test_no_protocol_keeps_the_eval_defaults(tmp_path):
    cfg = compose_train([], tmp_path / "run", tmp_path / "absent", config_name="eval")
    assert cfg.hydra.runtime.choices.protocol is None
    assert cfg.task.name == "retrieval" and cfg.input == "auto" and cfg.data.source._target_.endswith("SyntheticUCF101")
    assert cfg.trainer.accelerator == "cpu"
