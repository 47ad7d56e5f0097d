"""Reliability (issue 25): exact resume at any step, settings a resume may add, checkpoints that
describe their network, and the bad inputs found before the first training step."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch.utils.data import Dataset

from pacepred.data.clip_reader import ClipReader
from pacepred.data.datamodules import ClipRequest, ResumableDataLoader
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

    from tests.helpers.common import REAL_VIDEOS
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

    from tests.helpers.common import TINY_SYNTHETIC
    from pacepred.eval import evaluate
    from pacepred.checkpoint_file import load_checkpoint_file
    from pacepred.train import train
    from tests.helpers.common import compose_eval

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


# --------------------------------------------------------------- item 6: rotated (phone) videos


def write_rotated_video(path, rotation: int, frames: int = 12, width: int = 64, height: int = 48):
    """An H.264 MP4 whose frames are stored ``width`` x ``height`` and shown turned by
    ``rotation`` degrees counter-clockwise (the display matrix a phone writes). Each frame is
    asymmetric (a red corner block) and differs from the others (a moving green bar)."""
    import av
    import numpy as np

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.set_display_rotation(rotation)
        for i in range(frames):
            image = np.full((height, width, 3), 60, np.uint8)
            image[:12, :20] = (230, 30, 30)
            image[24:32, 3 * i:3 * i + 6] = (30, 220, 30)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_both_decoders_return_a_rotated_video_as_displayed(tmp_path, rotation):
    import av
    import decord
    import numpy as np

    from pacepred.data.decoding import probe_video, read_clip

    video = write_rotated_video(tmp_path / f"phone_{rotation}.mp4", rotation)
    with av.open(str(video)) as container:
        stored = np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])
    displayed = np.stack([np.rot90(frame, rotation // 90) for frame in stored])  # counter-clockwise turns
    wanted = np.array([0, 5, 11, 11, 3])  # the last frame too (decord's is read through PyAV)
    for backend in ("decord", "pyav"):
        native = read_clip(video, lambda n: wanted, backend=backend)
        assert native.shape == (5, *displayed.shape[1:]), backend
        assert np.array_equal(native, displayed[wanted]), backend
    turned = rotation in (90, 270)
    size = (40, 30) if turned else (30, 40)  # (height, width) of the displayed frames
    resized = {b: read_clip(video, lambda n: wanted, size, backend=b).astype(int) for b in ("decord", "pyav")}
    decord_itself = decord.VideoReader(str(video), height=size[0], width=size[1]).get_batch(list(wanted)).asnumpy()
    for backend, frames in resized.items():
        assert frames.shape == (5, *size, 3), backend
        assert np.abs(frames - decord_itself).mean() < 3, backend  # decord turns frames it resizes
    assert displayed.shape != stored.shape if turned else not np.array_equal(displayed, stored)  # not as stored
    for decode in (False, True):  # the displayed size
        info = probe_video(video, decode=decode)
        assert (info.height, info.width) == ((64, 48) if turned else (48, 64)) and info.num_frames == 12


# ------------------------------------ items 5, 7, 8: bad inputs found before the first step


from tests.helpers.layouts import folder_layout, frame_folders, frames_layout, hmdb51_layout  # noqa: E402,F401

REAL = ["data=ucf101", "debug=fast", "data.decode_size=[64,80]", "data.crop_size=56", "backbone=r3d_w16",
        "trainer.limit_val_batches=1"]


def datamodule(cfg):
    """The datamodule ``train`` would build from ``cfg``, set up (its datasets made)."""
    from hydra.utils import instantiate

    from pacepred.train import datamodule_options

    module = instantiate(datamodule_options(cfg.data), request=ClipRequest(instantiate(cfg.pace_set)))
    module.setup("fit")
    return module


def list_video(root, stage: str, listed: str) -> None:
    lists = root / "ucfTrainTestlist" / f"{stage}list01.txt"
    lists.write_text(lists.read_text() + listed + "\n")


def test_missing_and_empty_videos_are_found_before_the_first_step(ucf101_layout, make_cfg, first_callback, caplog,
                                                                  tmp_path):
    import pytorch_lightning as pl

    from pacepred.train import train

    trainlist = (ucf101_layout / "ucfTrainTestlist" / "trainlist01.txt").read_text()
    (ucf101_layout / "UCF-101" / "ArmWrestling" / "v_ArmWrestling_g05_c01.avi").write_bytes(b"")
    list_video(ucf101_layout, "train", "ArmWrestling/v_ArmWrestling_g05_c01.avi 2")
    list_video(ucf101_layout, "test", "ArmWrestling/v_ArmWrestling_g09_c01.avi")  # not on disk
    steps = []

    class Steps(pl.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            steps.append(batch_idx)

    first_callback(Steps())
    cfg = make_cfg(REAL + [f"data.root={ucf101_layout}"])
    with pytest.raises(FileNotFoundError, match=r"1 of the 3 train videos are missing or empty: .*v_ArmWrestling_g05_c01"
                                                r"\.avi is empty \(0 bytes\) \(found before training\)\. .*on_bad_video=skip"):
        train(cfg)
    assert steps == [] and not (tmp_path / "run" / "checkpoints").exists()  # no step, no checkpoint
    (ucf101_layout / "ucfTrainTestlist" / "trainlist01.txt").write_text(trainlist)
    with pytest.raises(FileNotFoundError, match=r"1 of the 3 test videos are missing or empty: .*g09_c01.avi does not exist"):
        train(cfg)  # the validation's missing video, before the first training step too
    assert steps == []
    with caplog.at_level("WARNING"):
        module = datamodule(make_cfg(REAL + [f"data.root={ucf101_layout}", "data.on_bad_video=skip"]))
    assert "left out 1 of the 3 test videos are missing or empty" in caplog.text
    assert (len(module.datasets["train"]), len(module.datasets["val"])) == (2, 2)


def write_video(path, frames: int, size: int = 64):
    """A short H.264 MP4 of ``frames`` frames."""
    import av
    import numpy as np

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            image = np.full((size, size, 3), 20 * i % 255, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_videos_shorter_than_the_fastest_clip_are_counted_and_min_frames_leaves_them_out(ucf101_layout, make_cfg,
                                                                                       caplog, capsys):
    from pacepred.prep.index import index_source
    from pacepred.data.sources import UCF101Split

    write_video(ucf101_layout / "UCF-101" / "ArmWrestling" / "v_ArmWrestling_g07_c01.mp4", frames=3)
    list_video(ucf101_layout, "train", "ArmWrestling/v_ArmWrestling_g07_c01.mp4 2")
    base = REAL + [f"data.root={ucf101_layout}"]  # residual input, 4 paces: the pace-4 clip of 17 frames spans 65
    with caplog.at_level("WARNING"):
        datamodule(make_cfg(base))
    assert "spans 65" not in caplog.text  # no frame counts known yet: nothing said
    index_source(UCF101Split(ucf101_layout), workers=1, decode=False)  # python -m pacepred.prep.index
    with caplog.at_level("WARNING"):
        module = datamodule(make_cfg(base))
    assert ("pace 4: a clip of 17 frames spans 65, longer than 1 of the 3 train videos whose length is known (shortest "
            "3 frames)") in caplog.text and "data.min_frames=65 leaves them out" in caplog.text
    assert len(module.datasets["train"]) == 3
    module = datamodule(make_cfg(base + ["data.min_frames=65"]))
    assert "data.min_frames=65: left out 1 of 3 train videos shorter than it" in capsys.readouterr().out
    assert len(module.datasets["train"]) == 2 and all("g07" not in str(r.path) for r in module.datasets["train"].records)


def test_a_video_smaller_than_the_crop_is_a_named_bad_video(real_videos):
    from fractions import Fraction

    from pacepred.data.datasets import PaceClipDataset
    from pacepred.data.decoding import VideoDecodeError
    from pacepred.data.records import VideoRecord

    records = [VideoRecord(real_videos / "ucf101_apply_eye_makeup.avi", 0),  # 320 x 240
               VideoRecord(real_videos / "kinetics_arm_wrestling.mp4", 0)]  # 340 x 256
    paces = [Fraction(1), Fraction(2)]
    raising = PaceClipDataset(records, ClipReader(None, 250), paces, 4, 1, "fit", train=True, flip=False)
    with pytest.raises(VideoDecodeError, match=r"ucf101_apply_eye_makeup.avi: crop_size=250 is larger than the decoded"):
        raising[(0, 1)]
    skipping = PaceClipDataset(records, ClipReader(None, 250), paces, 4, 1, "fit", train=True, flip=False,
                               on_bad_video="skip")
    sample = skipping[(0, 1)]
    assert int(sample["video_idx"]) == 1 and sample["skipped_idx"][0] == 0 and sample["video"].shape[-1] == 250


def test_an_empty_class_folder_is_named_and_left_out(folder_layout, caplog):
    from pacepred.data.sources import FolderSplit

    (folder_layout / "b_nothing_here").mkdir()
    (folder_layout / "b_nothing_here" / "readme.txt").write_text("no videos\n")
    with caplog.at_level("WARNING"):
        records, classes = FolderSplit(folder_layout, test_every=2).records("train")
    assert classes == ["cooking", "sports"] and "['b_nothing_here']" in caplog.text and "left out" in caplog.text


def test_an_hmdb51_class_without_its_split_file_is_an_error(hmdb51_layout):
    from pacepred.data.sources import HMDB51Split

    (hmdb51_layout / "hmdb51" / "run").mkdir()
    with pytest.raises(FileNotFoundError, match=r"class folders \['run'\] of .*hmdb51 have no split file "
                                                r".*testTrainMulti_7030_splits/<class>_test_split1.txt"):
        HMDB51Split(hmdb51_layout).records("train")


def test_a_split_file_that_is_not_utf8_names_the_file_and_line(ucf101_layout, tmp_path, real_videos):
    from tests.helpers.layouts import make_kinetics
    from pacepred.data.records import SplitFileError
    from pacepred.data.sources import Kinetics400Split, UCF101Split

    lists = ucf101_layout / "ucfTrainTestlist" / "trainlist01.txt"
    lists.write_bytes(lists.read_bytes() + "ArmWrestling/v_Caf\u00e9_g01_c01.avi 2\n".encode("latin-1"))
    with pytest.raises(SplitFileError, match=r"trainlist01.txt:3: not UTF-8 text \(byte 0xe9"):
        UCF101Split(ucf101_layout).records("train")
    root = make_kinetics(tmp_path / "k400", real_videos, "per_class")
    csv = root / "annotations" / "val.csv"
    csv.write_bytes(csv.read_bytes() + b'"caf\xe9",x,1,2,val\n')
    with pytest.raises(SplitFileError, match=r"val.csv:4: not UTF-8 text"):
        Kinetics400Split(root).records("test")


def test_a_pace_count_that_is_not_a_number_is_named(make_cfg):
    from hydra.utils import instantiate

    # (Hydra's instantiate names the target and this message)
    with pytest.raises(Exception, match=r"pace='abc': the number of pace classes must be an integer >= 1"):
        instantiate(make_cfg(["pace=abc"]).pace_set)
    with pytest.raises(Exception, match=r"pace='abc'"):
        instantiate(make_cfg(["pace=abc", "pace_set=slow_fast"]).pace_set)


def test_a_skip_list_that_empties_the_training_split_is_named(ucf101_layout, make_cfg):
    (ucf101_layout / "skip.txt").write_text("UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi\n"
                                            "UCF-101/ArmWrestling/v_ArmWrestling_g01_c01.mp4\n")
    with pytest.raises(ValueError, match=r"no train videos left of the 2 that data.source lists \(data.skip_list=skip.txt"):
        datamodule(make_cfg(REAL + [f"data.root={ucf101_layout}", "data.skip_list=skip.txt"]))


def test_a_frame_list_that_disagrees_with_its_folder_is_flagged(frames_layout, caplog):
    from fractions import Fraction

    from pacepred.data.datasets import PaceClipDataset
    from pacepred.prep.index import format_summary, index_source
    from pacepred.data.sources import FramesSplit

    train = frames_layout / "train.list"
    train.write_text(train.read_text().replace("v_ApplyEyeMakeup_g01_c01 0 64", "v_ApplyEyeMakeup_g01_c01 0 80"))
    source = FramesSplit(frames_layout, frames_dir="frames")
    records, _ = source.records("train")
    dataset = PaceClipDataset(records, ClipReader((32, 32), 32), [Fraction(1), Fraction(2)], 4, 1, "fit", train=True,
                              flip=False)
    with caplog.at_level("WARNING"):
        dataset[(0, 0)], dataset[(0, 1)], dataset[(1, 0)]
    assert caplog.text.count("holds 64 frames, its list line says 80") == 1  # once per video and process
    summary = format_summary(index_source(source, workers=1, decode=False))
    assert "frame counts of the list files that disagree with the folders: 1" in summary
    assert "v_ApplyEyeMakeup_g01_c01: listed 80, found 64" in summary


def test_kinetics_missing_clips_are_counted_in_the_evaluation_report(tmp_path, real_videos):
    import json

    from tests.helpers.layouts import make_kinetics
    from pacepred.eval import evaluate
    from tests.helpers.common import compose_eval

    root = make_kinetics(tmp_path / "k400", real_videos, "per_class")  # one train clip ('gone1') is missing
    cfg = compose_eval(["task=knn", "ckpt=null", "input=rgb", "data=kinetics400", f"data.root={root}",
                        "data.decode_size=[64,80]", "data.crop_size=56", "data.num_workers=0", "task.num_clips=1",
                        "task.k=2"], tmp_path / "eval", tmp_path / "data", tmp_path / "logs")
    report = evaluate(cfg)
    assert report["info"]["missing_videos"] == {"train": 1, "test": 0}
    assert json.loads((tmp_path / "eval" / "metrics.json").read_text())["missing_videos"] == {"train": 1, "test": 0}
