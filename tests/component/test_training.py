"""One training step per backbone and model variant, and the clear failures of train()."""

import math
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import open_dict

from pacepred.modules.finite_loss import NonFiniteLossError
from pacepred.train import train

from tests.helpers.common import REAL_UCF101 as REAL, real_ucf101 as real


@pytest.mark.parametrize("backbone, extra", [
    ("c3d", ["backbone.base_width=8"]),
    ("r3d", ["backbone.base_width=8"]),
    ("r21d", ["backbone.base_width=8", "backbone.layers=[2,2,2,2]"]),
    ("s3d_g", ["backbone.width_mult=0.125"]),
])
def test_one_training_step_per_backbone_on_real_videos(backbone, extra, ucf101_layout, make_cfg):
    result = train(make_cfg(real(ucf101_layout) + [f"backbone={backbone}"] + extra))
    assert math.isfinite(result["metrics"]["train/loss"])
    assert 0.0 <= result["metrics"]["val/pace_acc"] <= 1.0
    assert result["last_checkpoint"].endswith("last.ckpt")


@pytest.mark.parametrize("model, overrides", [
    ("pace_ctr_context", ["input=rgb"]),
    ("pace_ctr_pace", ["pace_set=slow_fast", "pace=3", "trainer.precision=bf16-mixed"]),
])
def test_contrastive_variants_step(model, overrides, ucf101_layout, make_cfg):
    result = train(make_cfg(real(ucf101_layout) + ["backbone=r3d_w16", f"model={model}"] + overrides))
    assert math.isfinite(result["metrics"]["train/contrastive_loss"])
    assert result["paces"] == (["1/2", "1", "2"] if "pace=3" in overrides else ["1", "2", "3", "4"])


def test_supervised_model_trains_on_the_labels_and_checks_num_classes(ucf101_layout, make_cfg):
    # model.num_classes: null (the preset's) takes the training data's 2 classes
    cfg = make_cfg(real(ucf101_layout) + ["backbone=r3d_w16", "model=supervised"])
    result = train(cfg)
    assert cfg.model.num_classes == 2
    assert math.isfinite(result["metrics"]["train/class_loss"])
    assert math.isclose(result["metrics"]["train/loss"], result["metrics"]["train/class_loss"], rel_tol=1e-5)
    with pytest.raises(Exception, match=r"model.num_classes=5, but the training data has 2 classes"):
        train(make_cfg(real(ucf101_layout) + ["backbone=r3d_w16", "model=supervised", "model.num_classes=5"]))


def test_run_directory_keeps_config_commit_versions_and_confusion_png(ucf101_layout, make_cfg, tmp_path):
    cfg = make_cfg(real(ucf101_layout) + ["backbone=r3d_w16", "logger=csv"])
    train(cfg)
    run = tmp_path / "run"
    info = (run / "run_info.json").read_text()
    assert '"git_commit"' in info and '"torch"' in info
    assert "r3d" in (run / "config.yaml").read_text().lower()
    assert (run / "confusion" / "val_pace_epoch000.png").stat().st_size > 1000
    assert (run / "csv" / "metrics.csv").is_file()


@pytest.mark.parametrize("override, message", [
    ("backbone=resnet", "Could not find 'backbone/resnet'"),
    ("pace_set=medium", "Could not find 'pace_set/medium'"),
])
def test_unknown_group_option_names_value_and_choices(override, message, make_cfg):
    with pytest.raises(Exception, match=message):
        make_cfg([override])


def test_clip_larger_than_frames_is_named(ucf101_layout, make_cfg):
    # Hydra wraps constructor errors in an InstantiationException that keeps the message.
    with pytest.raises(Exception, match=r"data.crop_size=112 is larger than data.decode_size=\[64, 80\]"):
        train(make_cfg(real(ucf101_layout) + ["data.crop_size=112"]))


def test_a_batch_larger_than_the_training_set_is_named(ucf101_layout, make_cfg):
    """Not an epoch of no step that ends 'successfully' (the training loader drops a partial batch)."""
    with pytest.raises(ValueError, match=r"data.batch_size=3 is larger than the 2 training samples per process "
                                         r"\(2 train videos x data.train_repeat=1 over 1 process"):
        train(make_cfg(real(ucf101_layout) + ["data.batch_size=3"]))


@pytest.mark.parametrize("override, message", [
    ("data.clip_len=0", r"data.clip_len=0: expected an integer >= 1"),
    ("data.crop_size=0", r"data.crop_size=0: expected an integer >= 1"),
    ("data.batch_size=0", r"data.batch_size=0: expected an integer >= 1"),
    ("data.train_repeat=0", r"data.train_repeat=0: expected an integer >= 1"),
    ("data.num_workers=-1", r"data.num_workers=-1: expected an integer >= 0"),
    ("data.decode_size=[64]", r"data.decode_size=\[64\]: expected \[height, width\]"),
    ("trainer.max_epochs=0", r"trainer.max_epochs=0, trainer.limit_train_batches=1.0: nothing to train"),
    ("trainer.limit_train_batches=0", r"trainer.limit_train_batches=0: nothing to train"),
])
def test_data_values_out_of_range_are_named(make_cfg, override, message):
    with pytest.raises(Exception, match=message):
        train(make_cfg([override]))


def test_duplicate_explicit_paces_are_named(make_cfg):
    cfg = make_cfg(["pace_set=explicit", "pace_set.paces=[1,2,2]"])
    with pytest.raises(Exception, match="duplicate paces: \\['2'\\]"):
        instantiate(cfg.pace_set)


def test_missing_dataset_root_is_named(make_cfg, tmp_path):
    cfg = make_cfg(["data=ucf101", f"data.root={tmp_path / 'no_ucf'}", "debug=fast"])
    with pytest.raises(FileNotFoundError, match=r"no_ucf does not have the expected layout"):
        train(cfg)


def test_nan_loss_stops_with_a_clear_message(ucf101_layout, make_cfg):
    cfg = make_cfg(real(ucf101_layout) + ["backbone=r3d_w16", "optim.lr=1e30", "trainer.max_epochs=3"])
    with pytest.raises(NonFiniteLossError, match=r"training loss is (nan|inf).*lower optim.lr"):
        train(cfg)


def test_a_non_finite_loss_is_raised_before_the_optimizer_step(make_cfg):
    """The training step only queues the check (no wait for the device); the hook before the
    optimizer step raises, so the weights never take a non-finite step."""
    from fractions import Fraction

    cfg = make_cfg(["backbone=r3d_w16"])
    module = instantiate(cfg.model, backbone=instantiate(cfg.backbone), paces=[Fraction(1), Fraction(2)],
                         optimizer=instantiate(cfg.optim))
    batch = {"video": torch.full((2, 3, 8, 32, 32), float("nan")), "pace_label": torch.tensor([0, 1]),
             "video_idx": torch.tensor([0, 1])}
    module.on_train_start()
    module.training_step(batch, 0)
    with pytest.raises(NonFiniteLossError, match=r"training loss is nan at epoch 0, step 0 \(pace loss here nan\)"):
        module.on_before_optimizer_step(None)
    module.on_before_optimizer_step(None)  # each step's check is read once


def _run_with_checkpoint(run_dir: Path, cfg, started: int, processed: int) -> Path:
    """A run directory holding ``cfg`` as its config.yaml and a checkpoint whose epoch counters
    say ``started`` and ``processed`` (all that the resume checks read)."""
    from omegaconf import OmegaConf

    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]),
                                                          resolve=True))
    counters = {"ready": started, "started": started, "processed": processed, "completed": processed - 1}
    checkpoint = run_dir / "checkpoints" / "last.ckpt"
    torch.save({"loops": {"fit_loop": {"epoch_progress": {"current": counters}}}}, checkpoint)
    return checkpoint


def test_resume_refuses_other_settings_but_accepts_fixes_and_mid_epoch_checkpoints(make_cfg, tmp_path):
    from pacepred.resume import check_resume

    cfg = make_cfg(["trainer.max_epochs=3"])
    checkpoint = _run_with_checkpoint(tmp_path / "run", cfg, started=2, processed=2)
    assert check_resume(make_cfg(["trainer.max_epochs=3", "ckpt_path=last", "data.num_workers=3"]), str(checkpoint))
    moved = make_cfg(["trainer.max_epochs=3", "ckpt_path=last"], run_name="moved")
    assert moved.trainer.default_root_dir.endswith("moved")  # follows the run directory
    assert check_resume(moved, str(checkpoint))  # a run directory moved elsewhere resumes
    with pytest.raises(ValueError, match=r"differ from its run's .*config.yaml: optim.lr: 0.05 -> 0.5; scheduler.T_max: 3 -> 5; "
                                         r"trainer.max_epochs: 3 -> 5\. A run continued with other settings is a new run"):
        check_resume(make_cfg(["trainer.max_epochs=5", "optim.lr=0.5"]), str(checkpoint))
    older = make_cfg(["trainer.max_epochs=3"])  # a run started before a setting was added
    with open_dict(older):
        del older.data.batch_transform.jitter["order"]
    older_run = _run_with_checkpoint(tmp_path / "older", older, started=2, processed=2)
    assert check_resume(cfg, str(older_run))
    # a setting added with a default that changes what an older run computed: the older run
    # compares as the behaviour it had, where the setting matters to it (frame folders)
    for source, refused in (("pacepred.data.sources.FramesSplit", True), ("pacepred.data.sources.UCF101Split", False)):
        before_setting = make_cfg(["trainer.max_epochs=3"])
        with open_dict(before_setting):
            del before_setting.data["frame_folder_resize"]
            del before_setting.data["reader"]  # (runs from before it had no reader node either)
            before_setting.data.source._target_ = source
        run = _run_with_checkpoint(tmp_path / source, before_setting, started=2, processed=2)
        now = make_cfg(["trainer.max_epochs=3"])
        with open_dict(now):
            now.data.source._target_ = source
        if refused:
            with pytest.raises(ValueError, match=r"data.frame_folder_resize: 'whole' -> 'crop'"):
                check_resume(now, str(run))
            with open_dict(now):
                now.data.frame_folder_resize = "whole"
        assert check_resume(now, str(run))
    with pytest.raises(ValueError, match=r"scheduler: \{'_target_': 'torch.optim.lr_scheduler.CosineAnnealingLR'"):
        check_resume(make_cfg(["trainer.max_epochs=3", "scheduler=none"]), str(checkpoint))  # a group replaced
    middle = _run_with_checkpoint(tmp_path / "middle", cfg, started=2, processed=1)
    assert check_resume(cfg, str(middle))  # a checkpoint inside an epoch resumes there (its loader state)
    # the settings that do not change what is learnt from a good video may be added (issue 25, item 3)
    fixes = ["data.on_bad_video=skip", "data.skip_list=skip.txt", "data.min_frames=20", "data.num_workers=7",
             "data.persistent_workers=false", "callbacks.step_checkpoint.every_n_train_steps=100"]
    assert check_resume(make_cfg(["trainer.max_epochs=3", "ckpt_path=last", *fixes]), str(checkpoint))
    with pytest.raises(ValueError, match=r"data.decoder: 'decord' -> 'pyav'.*\(these may change: ckpt_path, paths\.\.\., "
                                         r".*data.on_bad_video, data.skip_list"):
        check_resume(make_cfg(["trainer.max_epochs=3", "data.decoder=pyav"]), str(checkpoint))


@pytest.mark.parametrize("ckpt_path", ["last", "last_if_any"])
def test_resuming_a_finished_run_leaves_it_as_it_is(make_cfg, capsys, ckpt_path):
    cfg = make_cfg(["trainer.max_epochs=3", f"ckpt_path={ckpt_path}"])
    run_dir = Path(cfg.paths.output_dir)
    _run_with_checkpoint(run_dir, cfg, started=3, processed=3)
    (run_dir / "metrics.json").write_text('{"metrics": {"val/pace_acc": 0.5}}')
    before = sorted(p.name for p in run_dir.rglob("*"))
    assert train(cfg)["metrics"] == {"val/pace_acc": 0.5}
    assert "has already trained for trainer.max_epochs=3; nothing to resume" in capsys.readouterr().out
    assert sorted(p.name for p in run_dir.rglob("*")) == before


def test_a_multirun_refuses_ddp_processes_started_by_running_the_command_again(make_cfg):
    from pacepred.train import refuse_launched_processes_in_a_multirun

    trainer = instantiate(make_cfg(["trainer=ddp_cpu"]).trainer, logger=False, enable_checkpointing=False)
    refuse_launched_processes_in_a_multirun(trainer, multirun=False)  # a single run may
    with pytest.raises(ValueError, match="a multirun .-m. cannot train with 2 processes"):
        refuse_launched_processes_in_a_multirun(trainer, multirun=True)


def test_head_batchnorm_needs_two_clips_or_two_videos_per_process(make_cfg):
    from fractions import Fraction

    def module(*overrides):
        cfg = make_cfg(["backbone=r3d_w16", *overrides])
        return instantiate(cfg.model, backbone=instantiate(cfg.backbone), paces=[Fraction(1), Fraction(2)],
                           optimizer=instantiate(cfg.optim))

    video = torch.randn(1, 3, 8, 32, 32)
    batch = {"video": video, "pace_label": torch.tensor([0]), "video_idx": torch.tensor([0])}
    with pytest.raises(ValueError, match="a training batch of 1 clip per process .* data.batch_size >= 2"):
        module("model.head_hidden=16").training_step(batch, 0)
    pair = {"video": video.repeat(2, 1, 1, 1, 1), "pace_label": torch.tensor([0, 1]), "video_idx": torch.tensor([0, 0])}
    with pytest.raises(ValueError, match="1 video per process in the context contrastive mode"):
        module("model=pace_ctr_context").training_step(pair, 0)
    module("model.head_hidden=16")._check_head_norm_batch(2)  # two clips: trains
    module()._check_head_norm_batch(1)  # the official head (no BatchNorm) trains on one clip


def test_missing_resume_checkpoint_is_named(ucf101_layout, make_cfg, tmp_path):
    from pacepred.resume import checkpoint_to_resume

    with pytest.raises(FileNotFoundError, match=r"checkpoints/last.ckpt does not exist .*ckpt_path=last_if_any"):
        train(make_cfg(real(ucf101_layout) + ["ckpt_path=last"]))
    assert checkpoint_to_resume("last_if_any", tmp_path) is None  # a sweep's job that never started: afresh
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.ckpt").write_bytes(b"")
    with pytest.raises(ValueError, match=r"no checkpoint in .*checkpoints can be loaded: .*last.ckpt is not a PyTorch"):
        checkpoint_to_resume("last_if_any", tmp_path)  # a run's broken checkpoint is no fresh start
    torch.save({"epoch": 0}, tmp_path / "checkpoints" / "last.ckpt")
    assert checkpoint_to_resume("last_if_any", tmp_path) == str(tmp_path / "checkpoints" / "last.ckpt")
    # killed between saving a step checkpoint and its copy last.ckpt (or while writing the copy)
    import os

    torch.save({"epoch": 1}, tmp_path / "checkpoints" / "step0000012.ckpt")
    os.utime(tmp_path / "checkpoints" / "last.ckpt", ns=(10**18, 10**18))
    os.utime(tmp_path / "checkpoints" / "step0000012.ckpt", ns=(2 * 10**18, 2 * 10**18))
    assert checkpoint_to_resume("last", tmp_path) == str(tmp_path / "checkpoints" / "step0000012.ckpt")
    (tmp_path / "checkpoints" / "last.ckpt").write_bytes(b"PK\x03\x04 cut short")  # written after it, newer
    assert checkpoint_to_resume("last", tmp_path) == str(tmp_path / "checkpoints" / "step0000012.ckpt")


def _add_broken_train_video(root):
    import shutil

    from tests.helpers.common import REAL_VIDEOS

    broken = root / "UCF-101" / "ApplyEyeMakeup" / "v_ApplyEyeMakeup_g03_c01.mp4"
    shutil.copy(REAL_VIDEOS / "corrupted_h264.mp4", broken)
    trainlist = root / "ucfTrainTestlist" / "trainlist01.txt"
    trainlist.write_text(trainlist.read_text() + "ApplyEyeMakeup/v_ApplyEyeMakeup_g03_c01.mp4 1\n")
    return broken


def test_bad_video_raise_names_the_file(ucf101_layout, make_cfg):
    _add_broken_train_video(ucf101_layout)
    cfg = make_cfg(real(ucf101_layout) + ["backbone=r3d_w16", "data.batch_size=3", "data.on_bad_video=raise"])
    with pytest.raises(Exception, match=r"v_ApplyEyeMakeup_g03_c01.mp4: decoding frames failed"):
        train(cfg)


def test_bad_video_skip_counts_and_lists_it(ucf101_layout, make_cfg, tmp_path):
    broken = _add_broken_train_video(ucf101_layout)
    cfg = make_cfg(real(ucf101_layout) + ["backbone=r3d_w16", "data.batch_size=3", "data.on_bad_video=skip"])
    result = train(cfg)
    assert result["metrics"]["data/skipped_videos"] == 1.0
    listed = (tmp_path / "run" / "skipped_videos.txt").read_text().splitlines()
    assert listed[1:] == [str(broken.relative_to(ucf101_layout))] and listed[0].startswith("# ")  # a skip list


def test_a_broken_validation_video_is_counted_and_listed(ucf101_layout, make_cfg, tmp_path):
    """Under skip a broken test video is replaced by another: the validation metrics count that
    one twice, so the run says so."""
    broken = ucf101_layout / "UCF-101" / "ApplyEyeMakeup" / "v_ApplyEyeMakeup_g09_c01.mp4"
    broken.write_text("not a video\n")  # every clip of it fails (the corrupted MP4's first 28 frames decode)
    testlist = ucf101_layout / "ucfTrainTestlist" / "testlist01.txt"
    testlist.write_text(testlist.read_text() + "ApplyEyeMakeup/v_ApplyEyeMakeup_g09_c01.mp4\n")
    result = train(make_cfg(real(ucf101_layout) + ["backbone=r3d_w16", "data.batch_size=2", "data.on_bad_video=skip",
                                                   "trainer.limit_val_batches=null"]))
    assert result["metrics"]["data/skipped_val_videos"] == 1.0
    assert (tmp_path / "run" / "skipped_val_videos.txt").read_text().splitlines()[1:] == [
        "UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g09_c01.mp4"]


def test_each_accumulated_batch_draws_its_own_jitter(ucf101_layout, make_cfg, monkeypatch):
    """With gradient accumulation, the batches of one optimizer step get different colour jitter
    (their seed counts batches, not optimizer steps)."""
    from pacepred.data.transforms import ClipBatchTransform

    seeds, forward = [], ClipBatchTransform.forward

    def recording(self, video, train, generator=None):
        if train:
            seeds.append(generator.initial_seed())
        return forward(self, video, train, generator)

    monkeypatch.setattr(ClipBatchTransform, "forward", recording)
    train(make_cfg(real(ucf101_layout) + ["backbone=r3d_w16", "data.batch_size=1", "trainer.limit_train_batches=2",
                                          "trainer.max_epochs=2", "trainer.accumulate_grad_batches=2"]))
    assert len(seeds) == 4 and len(set(seeds)) == 4, seeds


def test_a_non_finite_fine_tuning_loss_stops_too():
    from pacepred.models.r3d import R3D
    from pacepred.modules.classify import ClassifierModule

    module = ClassifierModule(R3D(base_width=8), num_classes=3, optimizer=lambda params: torch.optim.SGD(params, lr=0.1))
    module.on_train_start()
    module.training_step({"video": torch.full((2, 3, 8, 32, 32), float("inf")), "label": torch.tensor([0, 1])}, 0)
    with pytest.raises(NonFiniteLossError, match=r"training loss is nan at epoch 0, step 0; lower optim.lr"):
        module.on_before_optimizer_step(None)


@pytest.mark.parametrize("accumulate, batches, changes", [(1, 5, [1, 3]), (2, 8, [3, 7])])
def test_the_progress_bar_shows_the_loss_read_on_logging_steps(accumulate, batches, changes, make_cfg, monkeypatch):
    """Reading a logged tensor waits for the device: the bar shows the training loss as read once
    per logging step (every trainer.log_every_n_steps optimizer steps, when the loggers read it;
    the micro-batches of an accumulation share one step) and at the epoch's end."""
    from pacepred.callbacks import ProgressBar

    shown, get_metrics = [], ProgressBar.get_metrics

    def recording(self, trainer, pl_module):
        metrics = get_metrics(self, trainer, pl_module)
        if trainer.training:
            shown.append(metrics.get("train/loss"))
        return metrics

    monkeypatch.setattr(ProgressBar, "get_metrics", recording)
    train(make_cfg(["backbone=r3d_w16", "debug=fast", f"trainer.limit_train_batches={batches}",
                    "trainer.log_every_n_steps=2", f"trainer.accumulate_grad_batches={accumulate}",
                    "trainer.limit_val_batches=0"]))
    per_batch, at_epoch_end = shown[:batches], shown[batches]
    assert per_batch[: changes[0]] == [None] * changes[0]
    assert [i for i in range(1, batches) if per_batch[i] != per_batch[i - 1]] == changes, per_batch
    assert at_epoch_end is not None


def test_a_checkpoint_every_epoch_when_validation_runs_less_often(ucf101_layout, make_cfg):
    result = train(make_cfg(real(ucf101_layout) + ["backbone=r3d_w16", "trainer.max_epochs=2",
                                                   "trainer.check_val_every_n_epoch=2"]))
    checkpoints = Path(result["last_checkpoint"]).parent
    assert sorted(p.name for p in checkpoints.glob("epoch*.ckpt")) == ["epoch000.ckpt", "epoch001.ckpt"]


def test_a_broken_replacement_is_reported_too(tmp_path, real_videos):
    """A sample whose video and whose first replacement are both broken lists both."""
    from fractions import Fraction

    from pacepred.data.clip_reader import ClipReader
    from pacepred.data.datasets import PaceClipDataset
    from pacepred.data.records import VideoRecord

    records = [VideoRecord(tmp_path / "missing0.mp4", 0), VideoRecord(tmp_path / "missing1.mp4", 0),
               VideoRecord(real_videos / "ucf101_apply_eye_makeup.avi", 0)]
    dataset = PaceClipDataset(records, ClipReader((32, 40), 24), [Fraction(1), Fraction(2)], 4, 1, "fit", train=True,
                              flip=False,
                              on_bad_video="skip")
    chains = set()
    for seed in range(12):
        sample = dataset[(0, seed)]
        tried = [i for i in sample["skipped_idx"].tolist() if i >= 0]
        assert tried[0] == 0 and set(tried) <= {0, 1} and int(sample["video_idx"]) == 2
        chains.add(tuple(tried))
    assert any(1 in chain for chain in chains)  # some seed drew the other broken video as a replacement


def test_skipped_videos_of_every_rank_reach_the_checkpoint(monkeypatch):
    """Under DDP the checkpoint holds rank 0's callback state: after the epoch's gather it has
    the videos every rank skipped, so a resumed run's report still lists them all."""
    from types import SimpleNamespace

    import pacepred.data.bad_videos as reporting

    other_rank = torch.tensor([[0, 0, 0, 1, 0]])
    monkeypatch.setattr(reporting, "gather_no_grad", lambda local: torch.cat([local, other_rank]))
    report = reporting.BadVideoReport()
    report.skipped["train"] = {1}
    trainer = SimpleNamespace(datamodule=SimpleNamespace(datasets={"train": [None] * 5}), is_global_zero=False)
    module = SimpleNamespace(device=torch.device("cpu"), log=lambda *args, **kwargs: None)
    report.on_train_epoch_end(trainer, module)
    assert report.state_dict() == {"skipped": [1, 3], "skipped_val": []}
    report.load_state_dict({"skipped": [2]})  # a checkpoint from before validation skips were counted
    assert report.skipped == {"train": {2}, "val": set()}


def test_a_stopped_run_says_how_to_resume_it(tmp_path, capsys):
    from types import SimpleNamespace

    from pacepred.callbacks import ResumeHint
    from pacepred.resume import resume_command

    argv = ["backbone=r21d", "ckpt_path=last", "++hydra.run.dir=old", "pace=4"]
    assert resume_command(argv, tmp_path / "run") == (
        f"python -m pacepred.train backbone=r21d pace=4 hydra.run.dir={tmp_path / 'run'} ckpt_path=last")
    assert resume_command(["-m", "pace=3,4,5"], tmp_path / "run", sweep_dir=tmp_path / "sweep") == (
        f"python -m pacepred.train -m pace=3,4,5 hydra.sweep.dir={tmp_path / 'sweep'} ckpt_path=last_if_any")
    hint = ResumeHint("python -m pacepred.train ... ckpt_path=last")
    trainer = SimpleNamespace(is_global_zero=True, default_root_dir=str(tmp_path))
    hint.on_exception(trainer, None, KeyboardInterrupt())
    assert "the run stopped (KeyboardInterrupt) before its first checkpoint; nothing to resume" in capsys.readouterr().out
    hint.on_exception(trainer, None, FileNotFoundError("data.root"))
    assert capsys.readouterr().out == ""  # an error before the first checkpoint speaks for itself
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.ckpt").write_bytes(b"")
    hint.on_exception(trainer, None, KeyboardInterrupt())
    assert "pacepred: the run stopped (KeyboardInterrupt); resume it from" in capsys.readouterr().out
    ResumeHint("run", "python -m pacepred.train -m ... ckpt_path=last_if_any").on_exception(trainer, None, KeyboardInterrupt())
    assert "resume its sweep (finished jobs stay" in capsys.readouterr().out  # a sweep: its command in any case
