"""Every file of every config group composes and instantiates (the real conf/ folder)."""

from fractions import Fraction
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from tests.helpers.common import CONF_DIR
from pacepred.train import datamodule_options
from pacepred.data.datamodules import ClipRequest

GROUPS = ["backbone", "pace_set", "data", "model", "optim", "scheduler", "trainer", "logger", "callbacks", "experiment", "debug"]


def options(group: str) -> list[str]:
    """Selectable files of a group (files starting with '_' are building blocks)."""
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml") if not p.stem.startswith("_"))


CASES = [(g, o) for g in GROUPS for o in options(g)]


def test_every_group_has_options():
    for group in GROUPS:
        assert options(group), f"conf/{group}/ is empty"


@pytest.mark.parametrize("group, option", CASES, ids=[f"{g}={o}" for g, o in CASES])
def test_config_composes_and_instantiates(group, option, make_cfg, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    overrides = [f"{group}={option}"]
    if group == "pace_set" and option == "explicit":
        overrides.append("pace_set.paces=[1/2,1,2,4]")
    cfg = make_cfg(overrides)
    OmegaConf.resolve(cfg)  # every interpolation resolves

    paces = instantiate(cfg.pace_set)
    assert all(isinstance(p, Fraction) for p in paces) and paces == sorted(paces)
    backbone = instantiate(cfg.backbone)
    assert backbone.out_dim > 0
    if cfg.model.get("num_classes", 0) is None and cfg.model.loss_weights.get("supervised", 0) > 0:
        cfg.model.num_classes = 12  # train() takes the data's classes (test_training.py), here without the disk
    module = instantiate(cfg.model, backbone=backbone, paces=paces, optimizer=instantiate(cfg.optim),
                         scheduler=instantiate(cfg.scheduler) if cfg.get("scheduler") else None)
    if group == "model" and option == "vcop":  # clip order prediction: no pace head, 3! orders
        assert module.order_head.fc.out_features == 6
    else:
        assert module.pace_head.fc.out_features == len(paces)
    optim = module.configure_optimizers()
    assert optim is not None
    # The datamodule instantiates without touching the disk (sources are read in setup()).
    datamodule = instantiate(datamodule_options(cfg.data), request=ClipRequest.of(module, paces))
    assert datamodule.reader.crop_size <= min(datamodule.reader.decode_size)
    if group in ("trainer", "logger", "callbacks"):
        if group == "trainer" and option in ("gpu", "ddp") and not torch.cuda.is_available():
            pytest.skip("a GPU trainer is only constructed where a GPU is present")
        callbacks = [instantiate(c) for c in cfg.callbacks.values()]
        loggers = [instantiate(c) for c in (cfg.get("logger") or {}).values()]
        trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
        assert Path(trainer.default_root_dir) == Path(cfg.paths.output_dir)


def test_pace_is_a_plain_number_on_the_command_line(make_cfg):
    cfg = make_cfg(["pace=5", "pace_set=slow_fast"])
    assert [str(p) for p in instantiate(cfg.pace_set)] == ["1/3", "1/2", "1", "2", "3"]


@pytest.mark.parametrize("experiment", [o for o in options("experiment") if o.startswith("paper_")])
def test_paper_recipes_pin_the_official_hyper_parameters(experiment, make_cfg):
    cfg = make_cfg([f"experiment={experiment}"])
    assert cfg.optim.lr == 0.001 and cfg.optim.momentum == 0.9 and cfg.optim.weight_decay == 0.005
    assert cfg.scheduler.step_size == 6 and cfg.scheduler.gamma == 0.1
    # UCF101's train list is repeated 10 times per epoch; Kinetics-400 (~240k clips) is read once.
    assert cfg.trainer.max_epochs == 18 and cfg.data.train_repeat == (1 if "kinetics" in experiment else 10)
    assert cfg.data.boundary == "loop" and cfg.input == "rgb" and cfg.pace == 4
    assert cfg.data.batch_transform.jitter.mode == "per_frame" and cfg.data.batch_transform.jitter.impl == "sequential"
    assert [str(p) for p in instantiate(cfg.pace_set)] == ["1", "2", "3", "4"]


def test_data_root_and_split_are_the_user_facing_keys(make_cfg):
    cfg = make_cfg(["data=ucf101", "data.root=/datasets/ucf", "data.split=2"])
    source = instantiate(cfg.data.source)
    assert str(source.root) == "/datasets/ucf" and source.split == 2
    assert "root" not in datamodule_options(cfg.data) and "split" not in datamodule_options(cfg.data)


def test_the_online_monitor_decodes_with_the_pre_training_decoder(make_cfg):
    cfg = make_cfg(["callbacks=monitor", "data.decoder=pyav", "data.crop_size=48", "data.skip_list=skip.txt"])
    assert cfg.callbacks.knn_monitor.reader.decoder == "pyav" and cfg.callbacks.knn_monitor.reader.crop_size == 48
    assert cfg.callbacks.knn_monitor.videos.skip_list == "skip.txt"


def test_an_s3dg_run_from_before_backbone_stem_resumes_only_with_its_separable_stem(make_cfg):
    from omegaconf import open_dict

    from pacepred.resume import config_differences

    before = make_cfg(["backbone=s3d_g"])
    with open_dict(before):
        del before.backbone["stem"]  # its run had the separable stem
    assert config_differences(before, make_cfg(["backbone=s3d_g"])) == {"backbone.stem": ("separable", "full")}
    assert config_differences(before, make_cfg(["backbone=s3d_g", "backbone.stem=separable"])) == {}


@pytest.mark.parametrize("old, new", [
    ("data.batch_transform.jitter_mode=none", "data.batch_transform.jitter.mode"),
    ("model.temperature=0.1", "model.contrastive.temperature"),
    ("model.channels_last=true", "model.acceleration.channels_last"),
    ("model.contrastive=context", "model.contrastive.positives"),
    ("model.contrastive=pace", "model.contrastive.positives"),
])
def test_a_renamed_setting_is_refused_with_its_new_name(old, new, make_cfg):
    with pytest.raises(ValueError, match=f"renamed settings: .*{new}="):
        make_cfg([old])
    key, _, value = old.partition("=")
    assert str(OmegaConf.select(make_cfg([f"{new}={value}"]), new)).lower() == value  # the new name takes it


def test_every_old_spelling_of_the_contrastive_mode_is_refused_and_the_new_ones_pass():
    from pacepred.config import refuse_renamed

    for old in ("model.contrastive=context,pace", "model.contrastive='context'"):
        with pytest.raises(ValueError, match="model.contrastive.positives="):
            refuse_renamed([old])
    refuse_renamed(["model=pace_ctr_context", "model.contrastive=null", "+model.contrastive.temperature=0.1",
                    "model.contrastive.positives=context", "~model.contrastive", "model.contrastive={positives: pace}"])


def test_the_grouped_settings_build_their_objects(make_cfg):
    from pacepred.data.colour_jitter import ColourJitter
    from pacepred.modules.settings import Acceleration, Contrastive

    cfg = make_cfg(["model=pace_ctr_context", "model.contrastive.temperature=0.2", "data.batch_transform.jitter.mode=none"])
    assert instantiate(cfg.model.contrastive) == Contrastive("context", 512, 128, 0.2)
    assert instantiate(cfg.model.acceleration) == Acceleration()
    assert instantiate(cfg.data.batch_transform).jitter == ColourJitter(mode="none")
    with pytest.raises(ValueError, match="model.contrastive.positives='both': expected null or one of"):
        Contrastive("both")


def test_a_run_from_before_the_settings_were_grouped_resumes_under_the_new_names(make_cfg):
    """An older run's config.yaml holds the old names (jitter_mode, model.temperature, ...): it
    compares as the same settings, and a changed value is still a difference."""
    from omegaconf import open_dict

    from pacepred.resume import config_differences

    def older(overrides: list[str]):
        cfg = make_cfg(overrides)
        with open_dict(cfg):
            jitter = cfg.data.batch_transform.pop("jitter")
            for key in ("mode", "impl", "order", "channels", "prob"):
                cfg.data.batch_transform[f"jitter_{key}"] = jitter[key]
            for key in ("brightness", "contrast", "saturation", "hue"):
                cfg.data.batch_transform[key] = jitter[key]
            contrastive = cfg.model.pop("contrastive")
            cfg.model.contrastive = contrastive.positives
            for key in ("proj_hidden", "proj_dim", "temperature"):
                cfg.model[key] = contrastive[key]
            cfg.model.update({k: v for k, v in cfg.model.pop("acceleration").items() if k != "_target_"})
        return cfg

    assert config_differences(older(["model=pace_ctr_context"]), make_cfg(["model=pace_ctr_context"])) == {}
    assert config_differences(older([]), make_cfg(["model.contrastive.temperature=0.2"])) == {
        "model.contrastive.temperature": (0.5, 0.2)}
