"""``python -m pacepred.prep.prepare`` on the real clips: transcode, frames and verify, resuming,
broken inputs, reading the outputs back, pixels against the originals, and skip lists."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import av
import decord
import numpy as np
import pytest
from hydra.utils import instantiate

from tests.helpers.common import REPO, compose_train, make_ucf101
from tests.helpers.layouts import AVI, CORRUPTED, MP4_ARM, broken_folder, make_kinetics  # noqa: F401  (fixture)
from pacepred.prep.convert import PARTIAL_PREFIX, TranscodeSettings
from pacepred.data.decoding import frame_count, probe_video, read_clip
from pacepred.prep.index import format_summary, index_source
from pacepred.prep.manifest import MANIFEST_NAME, read_manifest
from pacepred.prep.prepare import frames_key, prepare
from pacepred.data.records import drop_listed
from pacepred.data.sources import FramesSplit, Kinetics400Split, UCF101Split
from pacepred.train import datamodule_options
from pacepred.data.datamodules import ClipRequest

#: Videos of the UCF101 layout below: relative path -> (source clip, frames, fps, width, height).
UCF_VIDEOS = {
    "UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi": ("ucf101_apply_eye_makeup.avi", 164, 25.0, 320, 240),
    "UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.mkv": ("kinetics_flipping_pancake.mkv", 310, 30.0, 426, 240),
    "UCF-101/ArmWrestling/v_ArmWrestling_g01_c01.mp4": ("kinetics_arm_wrestling.mp4", 280, 28.0, 340, 256),
    "UCF-101/ArmWrestling/v_ArmWrestling_g02_c01.mp4": ("kinetics_cleaning_pool.mp4", 300, 30.0, 340, 256),
    "UCF-101/ArmWrestling/v_ArmWrestling_g03_c01.avi": (MP4_ARM, 280, 28.0, 340, 256),
}
BROKEN = "UCF-101/ArmWrestling/v_ArmWrestling_g04_c01.avi"
# Mean absolute difference (0-255) per frame between read_clip(original) and read_clip(output),
# both at 128x171, 12 frames per clip (0, 7, 16, 17, 31, 50, 99, 100, 127, n/2, n-2, n-1), decord.
# Measured (mean / max over the frames): transcoded at short side 128, crf 20: UCF101 AVI
# 2.62 / 2.91, arm wrestling 3.45 / 3.91, cleaning pool 3.48 / 3.93, pancake MKV 2.55 / 2.99;
# JPEG frames at short side 128, quality 90: 1.75 / 1.85, 2.77 / 3.08, 2.70 / 3.16, 1.69 / 2.03.
# (Consecutive frames of the arm-wrestling clip differ by 19.6, so a shifted frame fails.)
TRANSCODE_TOLERANCE = 5.0
FRAMES_TOLERANCE = 4.0
PICKED = [0, 7, 16, 17, 31, 50, 99, 100, 127]


def picked(count: int) -> np.ndarray:
    return np.array(PICKED + [count // 2, count - 2, count - 1])


def run_prepare(base: Path, overrides: list[str]):
    """prepare() with conf/prepare.yaml and ``overrides``, one worker unless they say otherwise."""
    cfg = compose_train(["workers=1", *overrides], base / "run", base / "data", config_name="prepare")
    return prepare(cfg)


@pytest.fixture(scope="module")
def ucf_transcoded(tmp_path_factory, real_videos):
    """(root, out, result): the UCF101 layout plus a high-motion clip named .avi and the
    corrupted clip, transcoded with the defaults in two worker processes."""
    base = tmp_path_factory.mktemp("prepare")
    root = make_ucf101(base / "ucf101", real_videos)
    shutil.copy(real_videos / MP4_ARM, root / "UCF-101/ArmWrestling/v_ArmWrestling_g03_c01.avi")
    shutil.copy(real_videos / CORRUPTED, root / BROKEN)
    lists = root / "ucfTrainTestlist"
    with open(lists / "trainlist01.txt", "a") as handle:
        handle.write("ArmWrestling/v_ArmWrestling_g03_c01.avi 2\n")
    with open(lists / "testlist01.txt", "a") as handle:
        handle.write("ArmWrestling/v_ArmWrestling_g04_c01.avi\n")
    out = base / "ucf101_h264_128"
    result = run_prepare(base, ["mode=transcode", "data=ucf101", f"data.root={root}", f"out={out}", "workers=2"])
    return root, out, result


@pytest.fixture
def tiny_folder(tmp_path, real_videos) -> Path:
    """Class folders with two copies of the short UCF101 clip and a text file (test_every=2)."""
    root = tmp_path / "tiny"
    (root / "a").mkdir(parents=True)
    for name in ("x1.avi", "x2.avi"):
        shutil.copy(real_videos / AVI, root / "a" / name)
    (root / "a" / "notes.txt").write_text("kept\n")
    return root


# ------------------------------------------------------------------------------- transcode


def test_transcode_keeps_frames_fps_and_layout(ucf_transcoded):
    root, out, result = ucf_transcoded
    assert sorted(result.done) == sorted(UCF_VIDEOS) and result.already == []
    for key, (_, frames, fps, width, height) in UCF_VIDEOS.items():
        info = probe_video(out / key)
        assert (info.num_frames, info.fps) == (frames, fps), key
        assert min(info.width, info.height) == 128 and info.width % 2 == 0 and info.height % 2 == 0, key
        assert abs(info.width / info.height - width / height) < 0.02, key
    assert probe_video(out / "UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.mkv").width == 228  # 426 * 128 / 240 = 227.2
    for name in ("classInd.txt", "trainlist01.txt", "testlist01.txt"):
        assert (out / "ucfTrainTestlist" / name).read_text() == (root / "ucfTrainTestlist" / name).read_text()
    assert not list(out.rglob(f"{PARTIAL_PREFIX}*"))
    manifest = read_manifest(out)
    assert manifest["complete"] and manifest["mode"] == "transcode" and manifest["source"]["root"] == str(root)
    assert manifest["source"]["data"] == "ucf101" and manifest["counts"] == {"videos": 6, "done": 5, "failed": 1}
    assert manifest["settings"] == {"short_side": 128, "size": None, "gop": 16, "preset": "veryfast", "crf": 20,
                                    "fps": None}


def test_transcode_keyframe_interval_and_container(ucf_transcoded):
    _, out, _ = ucf_transcoded
    for key, (_, frames, *_) in UCF_VIDEOS.items():
        with av.open(str(out / key)) as container:
            assert container.format.name.startswith("mov,mp4")  # MP4 inside, whatever the extension
            stream = container.streams.video[0]
            assert stream.codec_context.name == "h264"
            packets = [packet for packet in container.demux(stream) if packet.size > 0]
        assert [i for i, packet in enumerate(packets) if packet.is_keyframe] == list(range(0, frames, 16)), key
        assert [packet.pts for packet in packets] == sorted(packet.pts for packet in packets)  # no B-frames


def test_decord_random_access_into_a_transcoded_avi(ucf_transcoded):
    """H.264 in an AVI container breaks decord's seeking (frame i comes back as i mod 16); the
    .avi-named output holds MP4, where decord's random access returns the right frames."""
    _, out, _ = ucf_transcoded
    path = out / "UCF-101/ArmWrestling/v_ArmWrestling_g03_c01.avi"
    with av.open(str(path)) as container:
        every = np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]).astype(np.int16)
    wanted = [100, 10, 50, 17, 150, 3, 200]
    frames = decord.VideoReader(str(path)).get_batch(wanted).asnumpy()
    for index, frame in zip(wanted, frames):
        errors = np.abs(every - frame).mean(axis=(1, 2, 3))
        assert errors.argmin() == index and errors[index] < 1.0, (index, errors.argmin())


def test_transcode_reports_and_skips_the_broken_clip(ucf_transcoded):
    _, out, result = ucf_transcoded
    assert list(result.failed) == [BROKEN]
    assert result.failed[BROKEN].startswith("decoding failed after 28 frames")
    assert not (out / BROKEN).exists()
    assert (out / "skip_list.txt").read_text() == f"{BROKEN}\n"
    assert "data.skip_list=skip_list.txt" in result.read_with


def test_transcoded_dataset_reads_back(ucf_transcoded, tmp_path):
    root, out, result = ucf_transcoded
    cfg = compose_train([*result.read_with.split(), "data.num_workers=0"], tmp_path / "run", tmp_path / "data")
    datamodule = instantiate(datamodule_options(cfg.data), request=ClipRequest(instantiate(cfg.pace_set)))
    datamodule.setup("fit")
    original = {stage: UCF101Split(root).records(stage) for stage in ("train", "test")}
    for name, stage in (("train", "train"), ("val", "test")):
        records = datamodule.datasets[name].records
        assert [(r.path.relative_to(out), r.label) for r in records] == [
            (r.path.relative_to(root), r.label) for r in original[stage][0] if r.path.relative_to(root).as_posix() != BROKEN
        ]
        assert all(r.path.is_file() for r in records)
    assert datamodule.classes == original["train"][1]
    clip = read_clip(datamodule.datasets["train"].records[0].path, lambda n: np.arange(16), size=(128, 171))
    assert clip.shape == (16, 128, 171, 3)


def test_transcoded_pixels_match_the_original(ucf_transcoded):
    root, out, _ = ucf_transcoded
    for key, (_, frames, *_) in UCF_VIDEOS.items():
        original = read_clip(root / key, picked, size=(128, 171)).astype(np.float32)
        transcoded = read_clip(out / key, picked, size=(128, 171)).astype(np.float32)
        errors = np.abs(original - transcoded).mean(axis=(1, 2, 3))
        assert errors.max() < TRANSCODE_TOLERANCE, (key, errors.round(2))


def test_index_describes_a_prepared_root(ucf_transcoded):
    root, out, _ = ucf_transcoded
    summary = format_summary(index_source(UCF101Split(out), cache_dir=out.parent / "index_cache", workers=1))
    first = summary.splitlines()
    assert first[0].startswith(f"prepared dataset: transcode of {root} (data=ucf101)")
    assert "gop=16" in first[1] and "short_side=128" in first[1] and "5 prepared, 1 failed" in first[2]
    assert "unreadable: 1" in summary  # the broken video is still listed by the split file


def test_rerun_skips_finished_outputs_and_redoes_partial_ones(tiny_folder, tmp_path):
    out = tmp_path / "out"
    overrides = ["mode=transcode", "data=folder", f"data.root={tiny_folder}", "data.source.test_every=2", f"out={out}"]
    first = run_prepare(tmp_path, overrides)
    assert sorted(first.done) == ["a/x1.avi", "a/x2.avi"] and (out / "a" / "notes.txt").read_text() == "kept\n"
    finished = (out / "a" / "x1.avi").stat().st_mtime_ns

    again = run_prepare(tmp_path, overrides)
    assert again.done == [] and sorted(again.already) == ["a/x1.avi", "a/x2.avi"] and again.failed == {}

    # a run killed while writing x2 leaves its partial output in a temporary folder only
    (out / "a" / "x2.avi").unlink()
    partial = out / "a" / f"{PARTIAL_PREFIX}killed" / "x2.avi"
    partial.parent.mkdir()
    partial.write_bytes((out / "a" / "x1.avi").read_bytes()[:20_000])
    resumed = run_prepare(tmp_path, overrides)
    assert resumed.done == ["a/x2.avi"] and resumed.already == ["a/x1.avi"]
    assert not partial.parent.exists() and probe_video(out / "a" / "x2.avi").num_frames == 164
    assert (out / "a" / "x1.avi").stat().st_mtime_ns == finished

    with pytest.raises(ValueError, match="holds a transcode output with settings"):
        run_prepare(tmp_path, [*overrides, "transcode.crf=30"])


def test_transcode_fixed_size_fps_and_gop(tiny_folder, tmp_path):
    out = tmp_path / "out"
    run_prepare(tmp_path, ["mode=transcode", "data=folder", f"data.root={tiny_folder}", "data.source.test_every=2",
                           f"out={out}", "transcode.size=[112,96]", "transcode.fps=12.5", "transcode.gop=8"])
    info = probe_video(out / "a" / "x1.avi")
    assert (info.height, info.width, info.fps) == (112, 96, 12.5)
    assert info.num_frames == math.ceil(164 * 12.5 / 25)  # every second frame of the 25 fps clip
    with av.open(str(out / "a" / "x1.avi")) as container:
        keys = [i for i, p in enumerate(container.demux(video=0)) if p.size > 0 and p.is_keyframe]
    assert keys == list(range(0, 82, 8))
    original = read_clip(tiny_folder / "a" / "x1.avi", lambda n: np.array([0, 20, 100]), size=(112, 96)).astype(float)
    resampled = read_clip(out / "a" / "x1.avi", lambda n: np.array([0, 10, 50]), size=(112, 96)).astype(float)
    assert np.abs(original - resampled).mean() < TRANSCODE_TOLERANCE


@pytest.mark.parametrize("overrides, message", [
    (["transcode.size=[112,97]"], r"transcode.size width=97: expected an even integer"),
    (["transcode.short_side=127"], r"transcode.short_side=127: expected an even integer"),
    (["mode=frames", "frames.quality=100"], r"frames.quality=100: expected an integer in 1..95"),
    (["data=frames"], r"data.source is a FramesSplit"),
    (["out=null"], r"give its folder, out=<path>"),
    (["mode=shrink"], r"mode='shrink': expected one of"),
    (["mode=???"], r"mode=None: expected one of \('transcode', 'frames', 'verify'\)"),  # not given
    (["splits=[1,2]"], r"splits=\[1, 2\]: data=folder has no data.split to vary"),
])
def test_wrong_options_are_named(overrides, message, tiny_folder, tmp_path):
    base = ["mode=transcode", "data=folder", f"data.root={tiny_folder}", f"out={tmp_path / 'out'}"]
    with pytest.raises(ValueError, match=message):
        run_prepare(tmp_path, [*base, *overrides])


# ---------------------------------------------------------------------------------- frames


def test_frames_of_kinetics_read_back(tmp_path, real_videos):
    """Kinetics labels and folders hold spaces: frame folders and list files turn them into '_',
    the class index keeps the names."""
    root = make_kinetics(tmp_path / "k400", real_videos, "per_class")
    out = tmp_path / "frames"
    result = run_prepare(tmp_path, ["mode=frames", "data=kinetics400", f"data.root={root}", f"out={out}",
                                    "workers=2"])
    assert len(result.done) == 5 and result.failed == {}
    missing = json.loads((out / MANIFEST_NAME).read_text())["source"]["missing_on_disk"]
    assert sum(missing.values()) == 1  # 'gone1', listed in a CSV: counted, not failed
    source = Kinetics400Split(root)
    frames = instantiate(compose_train(result.read_with.split(), tmp_path / "run", tmp_path / "data").data.source)
    assert frames == FramesSplit(str(out), frames_dir="frames", class_index="classInd.txt")
    for stage in ("train", "test"):
        videos, classes = source.records(stage)
        extracted, frame_classes = frames.records(stage)
        assert frame_classes == classes and "arm wrestling" in classes
        assert [r.label for r in extracted] == [r.label for r in videos]
        assert [r.num_frames for r in extracted] == [probe_video(r.path).num_frames for r in videos]
        for video, folder in zip(videos, extracted):
            assert folder.path == out / "frames" / frames_key(video.path.relative_to(root).as_posix())
            assert frame_count(folder.path) == folder.num_frames and " " not in str(folder.path.relative_to(out))
    assert "data.source.class_index=classInd.txt" in result.read_with
    video, folder = source.records("train")[0][0], frames.records("train")[0][0]
    assert probe_video(folder.path).height == 128
    errors = np.abs(read_clip(video.path, picked, size=(128, 171)).astype(np.float32)
                    - read_clip(folder.path, picked, size=(128, 171))).mean(axis=(1, 2, 3))
    assert errors.max() < FRAMES_TOLERANCE, errors.round(2)


def test_frames_lists_count_earlier_outputs_and_skip_broken(broken_folder, tmp_path):
    out = tmp_path / "frames"
    overrides = ["mode=frames", "data=folder", f"data.root={broken_folder}", "data.source.test_every=2", f"out={out}",
                 "frames.short_side=32", "frames.quality=80"]
    first = run_prepare(tmp_path, overrides)
    assert sorted(first.failed) == ["b_bad/corrupted.mp4", "b_bad/empty.mp4", "b_bad/text.mp4"]
    assert first.failed["b_bad/empty.mp4"] == "file is empty (0 bytes)"
    again = run_prepare(tmp_path, overrides)
    assert again.done == [] and len(again.already) == 3
    lines = sorted((out / "train.list").read_text().splitlines() + (out / "test.list").read_text().splitlines())
    assert lines == ["a_good/clip1 0 164", "a_good/clip2 0 280", "a_good/clip3 0 310"]
    assert (out / "classInd.txt").read_text() == "1 a_good\n2 b_bad\n"
    assert probe_video(out / "frames" / "a_good" / "clip1").height == 32
    assert json.loads((out / MANIFEST_NAME).read_text())["settings"]["frames_dir"] == "frames"


def test_transcoding_a_folder_dataset_with_failures_warns_that_its_split_moved(broken_folder, tmp_path, capsys):
    for name in ("clip1.avi", "clip2.mp4", "clip3.mkv"):  # only the broken class: nothing to encode
        (broken_folder / "a_good" / name).unlink()
    result = run_prepare(tmp_path, ["mode=transcode", "data=folder", f"data.root={broken_folder}",
                                    "data.source.test_every=2", f"out={tmp_path / 'out'}"])
    assert len(result.failed) == 3
    assert "the output's train/test split differs from the source's" in capsys.readouterr().out


def test_frames_of_several_splits(tmp_path, real_videos):
    """HMDB51 leaves some videos unused in each split: splits=[1,2] prepares the union and
    writes list files for both splits."""
    root = tmp_path / "hmdb51_root"
    (root / "hmdb51" / "wave").mkdir(parents=True)
    (root / "testTrainMulti_7030_splits").mkdir()
    for k in range(3):
        shutil.copy(real_videos / AVI, root / "hmdb51" / "wave" / f"v{k}.avi")
    for split, ids in ((1, "120"), (2, "012"), (3, "201")):
        lines = "".join(f"v{k}.avi {i} \n" for k, i in enumerate(ids))
        (root / "testTrainMulti_7030_splits" / f"wave_test_split{split}.txt").write_text(lines)
    out = tmp_path / "frames"
    result = run_prepare(tmp_path, ["mode=frames", "data=hmdb51", f"data.root={root}", f"out={out}", "splits=[1,2]",
                                    "frames.short_side=32"])
    assert sorted(result.done) == ["hmdb51/wave/v0.avi", "hmdb51/wave/v1.avi", "hmdb51/wave/v2.avi"]
    lists = {name: (out / name).read_text() for name in ("train.list", "test.list", "train_split2.list", "test_split2.list")}
    assert lists == {"train.list": "hmdb51/wave/v0 0 164\n", "test.list": "hmdb51/wave/v1 0 164\n",
                     "train_split2.list": "hmdb51/wave/v1 0 164\n", "test_split2.list": "hmdb51/wave/v2 0 164\n"}


# ---------------------------------------------------------------------------------- verify


def test_verify_reports_broken_videos_and_the_datamodule_skips_them(broken_folder, tmp_path):
    report_dir = tmp_path / "report"
    result = run_prepare(tmp_path, ["mode=verify", "data=folder", f"data.root={broken_folder}",
                                    "data.source.test_every=2", f"out={report_dir}", "verify.skip_list=true"])
    broken = {"b_bad/corrupted.mp4": "decoding failed after 28 frames", "b_bad/empty.mp4": "file is empty (0 bytes)",
              "b_bad/text.mp4": "cannot open as a video"}
    assert sorted(result.done) == ["a_good/clip1.avi", "a_good/clip2.mp4", "a_good/clip3.mkv"]
    assert sorted(result.failed) == sorted(broken)
    report = json.loads((report_dir / "verify_report.json").read_text())
    assert report["counts"] == {"videos": 6, "ok": 3, "broken": 3}
    for key, reason in broken.items():
        assert report["broken"][key].startswith(reason)
    assert "`b_bad/corrupted.mp4` | decoding failed after 28 frames" in (report_dir / "verify_report.md").read_text()
    skip_list = report_dir / "skip_list.txt"
    assert skip_list.read_text().splitlines() == sorted(broken)
    assert not (report_dir / MANIFEST_NAME).exists()

    cfg = compose_train(["data=folder", f"data.root={broken_folder}", "data.source.test_every=2",
                         f"data.skip_list={skip_list}", "data.num_workers=0"], tmp_path / "train", tmp_path / "data")
    datamodule = instantiate(datamodule_options(cfg.data), request=ClipRequest(instantiate(cfg.pace_set)))
    datamodule.setup("fit")
    kept = [r.path.name for name in ("train", "val") for r in datamodule.datasets[name].records]
    assert sorted(kept) == ["clip1.avi", "clip2.mp4", "clip3.mkv"]


def test_verify_command_samples_frames_and_fails_with_strict(broken_folder, tmp_path):
    command = [sys.executable, "-m", "pacepred.prep.prepare", "mode=verify", "data=folder",
               f"data.root={broken_folder}", "data.source.test_every=2", "verify.sample=4", "workers=1", "strict=true",
               f"hydra.run.dir={tmp_path / 'run'}"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "verify summary: done now 3, already done 0, failed 3" in done.stdout
    assert "b_bad/corrupted.mp4: decoding frames failed" in done.stdout  # decord fails on a frame after the 28th
    assert (tmp_path / "run" / "verify_report.json").is_file() and not (tmp_path / "run" / "skip_list.txt").exists()


def test_a_truncated_video_fails_to_convert_instead_of_becoming_a_shorter_one(tmp_path, real_videos):
    """The UCF101 clip cut to 60% of its bytes still decodes 93 of its 164 frames."""
    from pacepred.prep.convert import FrameSettings, extract_frames, transcode_video
    from pacepred.data.decoding import VideoDecodeError

    cut = tmp_path / "cut.avi"
    data = (real_videos / AVI).read_bytes()
    cut.write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(VideoDecodeError, match="cut.avi.*ends inside its RIFF chunk at byte 0 .*a truncated file"):
        transcode_video(cut, tmp_path / "out.mp4", TranscodeSettings())
    with pytest.raises(VideoDecodeError, match="ends inside its RIFF chunk"):
        extract_frames(cut, tmp_path / "frames", FrameSettings())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.avi"]  # no output, not even a partial one


def test_drop_listed(tmp_path):
    from pacepred.data.records import VideoRecord

    records = [VideoRecord(tmp_path / "a" / "x.avi", 0), VideoRecord(tmp_path / "a" / "y.avi", 0),
               VideoRecord(tmp_path / "b c" / "z.mp4", 1)]
    (tmp_path / "skip.txt").write_text(f"# broken\na/x.avi\n\n{tmp_path / 'b c' / 'z.mp4'}\n")
    kept, dropped = drop_listed(records, "skip.txt", tmp_path)
    assert kept == [records[1]] and dropped == 2
    assert drop_listed(records, None, tmp_path) == (records, 0)
    with pytest.raises(FileNotFoundError, match="skip list .*missing.txt"):
        drop_listed(records, "missing.txt", tmp_path)


def test_settings_round_the_long_side_to_even():
    from pacepred.prep.convert import scaled_size

    assert scaled_size(320, 240, 128, even=True) == (170, 128)
    assert scaled_size(426, 240, 128, even=True) == (228, 128) and scaled_size(426, 240, 128) == (227, 128)
    assert scaled_size(240, 426, 128, even=True) == (128, 228)
    with pytest.raises(ValueError, match="exactly one of short_side"):
        TranscodeSettings(short_side=128, size=(112, 112))
