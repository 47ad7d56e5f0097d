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


# ------------------------------------------------------------------ item 3: a resume may add the fix


def test_a_run_stopped_by_a_broken_video_resumes_with_on_bad_video_skip(ucf101_layout, make_cfg, first_callback):
    """Epoch 0 trains; a training video then breaks and stops the run (on_bad_video=raise); the
    run resumes from its epoch-0 checkpoint with data.on_bad_video=skip added, and counts the video."""
    import shutil

    import pytorch_lightning as pl

    from conftest import REAL_VIDEOS
    from pacepred.train import train

    video = ucf101_layout / "UCF-101" / "ArmWrestling" / "v_ArmWrestling_g01_c01.mp4"

    class BreakAfterEpoch0(pl.Callback):
        def on_train_epoch_end(self, trainer, pl_module):
            shutil.copy(REAL_VIDEOS / "corrupted_h264.mp4", video)

    common = ["data=ucf101", f"data.root={ucf101_layout}", "debug=fast", "data.decode_size=[64,80]",
              "data.crop_size=56", "trainer.limit_val_batches=1", "trainer.max_epochs=2", "backbone=r3d_w16"]
    first_callback(BreakAfterEpoch0())
    with pytest.raises(Exception, match=r"v_ArmWrestling_g01_c01.mp4: decoding frames failed"):
        train(make_cfg(common))
    result = train(make_cfg(common + ["ckpt_path=last", "data.on_bad_video=skip"]))
    assert result["epochs"] == 2 and result["metrics"]["data/skipped_videos"] == 1.0


def test_the_resume_hint_names_the_fix_for_a_broken_video(tmp_path, capsys):
    from pacepred.callbacks import ResumeHint
    from pacepred.data.decoding import VideoDecodeError

    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.ckpt").write_bytes(b"")
    trainer = SimpleNamespace(is_global_zero=True, default_root_dir=str(tmp_path))
    error = VideoDecodeError(tmp_path / "broken.mp4", "decoding frames failed")
    for raised in (error, RuntimeError(f"Caught VideoDecodeError in DataLoader worker process 0.\n{error}")):
        ResumeHint("python -m pacepred.train x=1 ckpt_path=last").on_exception(trainer, None, raised)
        out = capsys.readouterr().out
        assert "resume it from" in out and "python -m pacepred.train x=1 ckpt_path=last" in out
        assert "a broken video stopped it" in out and "add data.on_bad_video=skip" in out and "data.skip_list=" in out
        assert "it may add settings that do not change what is learnt from a good video: ckpt_path" in out


# ------------------------------------------------- item 4: checkpoints that describe their network


def test_a_copied_checkpoint_keeps_its_identity(make_cfg, data_dir, tmp_path, capsys):
    import shutil

    from conftest import TINY_SYNTHETIC
    from pacepred.eval import evaluate
    from pacepred.run_info import load_checkpoint_file
    from pacepred.train import train
    from test_eval_configs import compose_eval

    fast = TINY_SYNTHETIC + ["data.num_workers=0"]
    train(make_cfg(fast + ["debug=fast", "backbone.base_width=8", "data.batch_transform.mean=[0.5,0.5,0.5]"],
                   run_name="pretrain"))
    copied = tmp_path / "elsewhere" / "model.ckpt"
    copied.parent.mkdir()
    shutil.copy(tmp_path / "pretrain" / "checkpoints" / "last.ckpt", copied)
    network = load_checkpoint_file(copied, weights_only=True)["hyper_parameters"]["network"]
    assert network["input"] == "residual" and network["backbone"]["base_width"] == 8
    assert network["backbone"]["_target_"] == "pacepred.models.r3d.R3D" and network["paces"] == ["1", "2", "3", "4"]
    assert network["mean"] == [0.5, 0.5, 0.5] and network["clip_len"] == 16 and network["crop_size"] == 56
    assert network["decode_size"] == [64, 64] and network["pacepred_version"]

    def evaluation(*overrides):
        return compose_eval(fast + ["task=knn", "task.num_clips=1", f"ckpt={copied}", *overrides],
                            tmp_path / f"eval{len(overrides)}", data_dir, tmp_path / "logs")

    report = evaluate(evaluation())  # the eval config's backbone (width 16) and input (auto -> rgb) do not apply
    assert report["info"]["input"] == "residual" and report["info"]["backbone"]["base_width"] == 8
    assert report["info"]["backbone_from"] == "the checkpoint's hyper_parameters"
    config = (tmp_path / "eval0" / "config.yaml").read_text()
    assert "- 0.5\n" in config  # the pre-training's normalisation
    with pytest.raises(ValueError, match="pre-trained with input=residual but the evaluation asks for input=rgb"):
        evaluate(evaluation("input=rgb"))
    with pytest.raises(ValueError, match=r"pre-trained with backbone=\{.*'base_width': 8.*\} but the evaluation asks "
                                         r"for backbone=\{.*'base_width': 16"):
        evaluate(evaluation("backbone=r3d_w16"))
    with pytest.raises(ValueError, match=r"data.batch_transform.mean=\[0.5, 0.5, 0.5\] but the evaluation asks for "
                                         r"data.batch_transform.mean=\[0.4"):
        evaluate(evaluation("data.batch_transform.mean=[0.43216,0.394666,0.37645]"))
    # a checkpoint from before it described its network still reads its run's config.yaml
    old = torch.load(tmp_path / "pretrain" / "checkpoints" / "last.ckpt", weights_only=False)
    del old["hyper_parameters"]["network"]
    torch.save(old, tmp_path / "pretrain" / "checkpoints" / "old.ckpt")
    report = evaluate(compose_eval(fast + ["task=knn", "task.num_clips=1",
                                           f"ckpt={tmp_path / 'pretrain' / 'checkpoints' / 'old.ckpt'}"],
                                   tmp_path / "eval_old", data_dir, tmp_path / "logs"))
    assert report["info"]["input"] == "residual" and report["info"]["backbone"]["base_width"] == 8
    assert report["info"]["backbone_from"].endswith("pretrain/config.yaml")
