"""conf/eval.yaml and its task group compose from the real conf/ folder; the monitor config too."""

from pathlib import Path

import pytest
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf, open_dict

from tests.helpers.common import CONF_DIR, compose_eval, compose_train
from pacepred.data.clip_reader import ClipReader
from pacepred.data.video_list import VideoList
from pacepred.evaluation.monitor import KNNMonitor, MonitorProbes
from pacepred.eval import TASKS, _adopt_run_config

TASK_FILES = sorted(p.stem for p in (CONF_DIR / "task").glob("*.yaml"))


def test_every_task_file_is_a_task():
    assert TASK_FILES == sorted(TASKS)


@pytest.mark.parametrize("task", TASK_FILES)
def test_eval_config_composes_for_every_task(task, tmp_path):
    cfg = compose_eval([f"task={task}", "input=residual"], tmp_path / "run", tmp_path / "data", tmp_path / "logs")
    OmegaConf.resolve(cfg)
    assert cfg.task.name == task and cfg.task_name == f"eval_{task}" and cfg.ckpt == "latest"
    assert instantiate(cfg.backbone).out_dim == 128
    assert instantiate(cfg.data.batch_transform).input_mode == "residual"
    assert cfg.hydra.callbacks.summary._target_ == "pacepred.evaluation.summary.MultirunSummary"
    if task == "finetune":
        assert cfg.trainer.max_epochs == cfg.task.max_epochs == cfg.scheduler.T_max
        trainer = instantiate(cfg.trainer, logger=False, enable_checkpointing=False)
        assert trainer.max_epochs == cfg.task.max_epochs


def test_checkpoint_run_config_gives_backbone_and_input(tmp_path):
    cfg = compose_eval(["task=knn"], tmp_path / "run", tmp_path / "data", tmp_path / "logs")
    run_cfg = OmegaConf.create({"backbone": {"_target_": "pacepred.models.c3d.C3D", "base_width": 8},
                                "input": "residual", "data": {"clip_len": 16, "crop_size": 56, "decode_size": [64, 64]}})
    _adopt_run_config(cfg, run_cfg)
    assert cfg.input == "residual" and cfg.backbone.base_width == 8 and type(instantiate(cfg.backbone)).__name__ == "C3D"
    cfg = compose_eval(["task=knn"], tmp_path / "run", tmp_path / "data", tmp_path / "logs")
    _adopt_run_config(cfg, None)
    assert cfg.input == "rgb"  # no run config: the paper's input
    cfg = compose_eval(["task=knn", "input=residual"], tmp_path / "run", tmp_path / "data", tmp_path / "logs")
    _adopt_run_config(cfg, None)
    assert cfg.input == "residual"
    old_s3dg = OmegaConf.create({"backbone": {"_target_": "pacepred.models.s3d_g.S3DG", "width_mult": 0.25},
                                 "input": "residual"})  # a run from before backbone.stem: the separable stem
    cfg = compose_eval(["task=knn"], tmp_path / "run", tmp_path / "data", tmp_path / "logs")
    _adopt_run_config(cfg, old_s3dg)
    assert cfg.backbone.stem == "separable"
    cfg = compose_eval(["task=knn"], tmp_path / "run", tmp_path / "data", tmp_path / "logs")
    _adopt_run_config(cfg, OmegaConf.merge(old_s3dg, {"backbone": {"stem": "full"}}))
    assert cfg.backbone.stem == "full"
    cfg = compose_eval(["task=retrieval", "protocol=paper_retrieval_ucf101"], tmp_path / "run", tmp_path / "data",
                       tmp_path / "logs")
    with pytest.raises(ValueError, match="pre-trained with input=residual but the evaluation asks for input=rgb"):
        _adopt_run_config(cfg, run_cfg)  # the paper protocol's rgb on the default (residual) pre-training


def test_monitor_callbacks_config_composes_without_touching_the_data(make_cfg):
    cfg = make_cfg(["callbacks=monitor"])
    default = make_cfg(["callbacks=default"], run_name="default")
    assert set(cfg.callbacks) == set(default.callbacks) | {"knn_monitor"}  # the defaults plus the monitor
    monitor = instantiate(cfg.callbacks.knn_monitor)
    assert isinstance(monitor, KNNMonitor) and monitor.span == cfg.data.clip_len + 1 and not monitor.clips
    assert monitor.probes == MonitorProbes(k=20, temperature=0.07, linear_weight_decay=[1e-4, 1e-3, 1e-2, 1e-1, 1.0])


def test_monitor_leaves_out_a_broken_video_only_when_told_to(tmp_path, real_videos):
    """data.on_bad_video reaches the online monitor: raise stops at a broken video of its subset,
    skip leaves it out and takes the next video of its class."""
    from pacepred.data.decoding import VideoDecodeError
    from pacepred.data.records import VideoRecord
    from pacepred.data.transforms import ClipBatchTransform

    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"")
    records = [VideoRecord(broken, 0), VideoRecord(real_videos / "ucf101_apply_eye_makeup.avi", 0),
               VideoRecord(real_videos / "kinetics_arm_wrestling.mp4", 1)]

    class Source:
        root = tmp_path

        def records(self, stage):
            return records, ["a", "b"]

    def monitor(policy, skip_list=None):
        return KNNMonitor(VideoList(Source(), skip_list, policy), ClipReader((32, 40), 32), ClipBatchTransform("rgb"), 4,
                          train_per_class=1, test_per_class=1)

    with pytest.raises(VideoDecodeError, match="broken.mp4: file is empty"):
        monitor("raise").setup(None, None, "fit")
    (tmp_path / "skip.txt").write_text("# listed by prepare mode=verify\nbroken.mp4\n")
    listed = monitor("raise", skip_list=str(tmp_path / "skip.txt"))  # data.skip_list, as the pre-training reads it
    listed.setup(None, None, "fit")
    assert listed.labels["train"].tolist() == [0, 1]
    skipping = monitor("skip")
    skipping.setup(None, None, "fit")
    assert skipping.labels["train"].tolist() == [0, 1] and skipping.clips["train"].shape == (2, 1, 4, 3, 32, 32)
    with pytest.raises(ValueError, match="data.on_bad_video='ignore'"):
        monitor("ignore")
    records[1:] = [VideoRecord(broken, 1)]
    with pytest.raises(RuntimeError, match="online monitor: none of the 2 train videos of data.source could be decoded"):
        monitor("skip").setup(None, None, "fit")


def test_fine_tuning_refuses_a_multi_device_trainer():
    import pytorch_lightning as pl

    from pacepred.evaluation.tasks import run_finetune

    trainer = pl.Trainer(accelerator="cpu", devices=2, strategy="ddp", logger=False, enable_checkpointing=False)
    with pytest.raises(ValueError, match="fine-tuning runs on one device, the trainer has 2 processes"):
        run_finetune(None, trainer, None, None, 0.5, False, 4, 4)


@pytest.mark.parametrize("max_epochs, measured", [(5, [1, 3, 4]), (-1, [1, 3, 5]), (None, [1, 3, 5])])
def test_monitor_measures_every_n_epochs_and_after_the_last(max_epochs, measured):
    from types import SimpleNamespace

    from pacepred.data.transforms import ClipBatchTransform

    monitor = KNNMonitor(None, ClipReader((32, 40), 32), ClipBatchTransform("rgb"), 4, every_n_epochs=2)
    epochs = []  # the epochs after which it measured (-1 and None: no last epoch)
    module = SimpleNamespace(backbone=None, device="cpu", log=None)
    for epoch in range(6 if max_epochs is None or max_epochs < 0 else max_epochs):
        monitor.measure = lambda backbone, device, epoch=epoch: epochs.append(epoch) or {}
        monitor.on_train_epoch_end(SimpleNamespace(current_epoch=epoch, max_epochs=max_epochs), module)
    assert epochs == measured


@pytest.mark.parametrize("overrides, message", [
    (["task=retrieval", "task.ks=[0,5]"], r"task.ks=\[0, 5\]: every k must be >= 1"),
    (["task=linear", "task.folds=1"], r"task.folds=1: choosing among task.weight_decay=.* needs folds >= 2"),
    (["task=knn", "task.num_clips=0"], r"task.num_clips=0: expected an integer >= 1"),
])
def test_task_values_without_a_meaningful_number_are_named(overrides, message, tmp_path):
    from pacepred.eval import check_task_values

    cfg = compose_eval(overrides, tmp_path / "out", tmp_path / "data", tmp_path / "logs")
    with pytest.raises(ValueError, match=message):
        check_task_values(cfg.task)
    check_task_values(compose_eval(overrides[:1], tmp_path / "out", tmp_path / "data", tmp_path / "logs").task)
