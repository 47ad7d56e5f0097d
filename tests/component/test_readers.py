"""Dataset readers (HMDB51, Kinetics-400, class folders, frame folders) on the real clips
arranged in each layout, and the data configs that build them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hydra.utils import instantiate

from tests.helpers.layouts import (  # noqa: F401  (fixtures)
    EXTRACTED_FRAMES, folder_layout, frame_folders, frames_layout, hmdb51_layout, make_kinetics,
)
from pacepred.data.decoding import read_clip
from pacepred.data.records import SplitFileError, VideoRecord
from pacepred.data.sources import FolderSplit, FramesSplit, HMDB51Split, Kinetics400Split

#: UCF101 split-1 train as (class/video, label, frame count) lines (provenance: tests/data/lists/README.md)
UCF101_LIST = Path(__file__).resolve().parents[1] / "data" / "lists" / "ucf101_split1_train_frames.list"


def names(records: list[VideoRecord]) -> list[str]:
    return [r.path.name for r in records]


def test_video_record_stays_backwards_compatible():
    record = VideoRecord(Path("a.avi"), 3)
    assert record.num_frames is None and record == VideoRecord(path=Path("a.avi"), label=3, num_frames=None)


# ---------------------------------------------------------------------------------- HMDB51


def test_hmdb51_reads_ids_and_sorts_classes(hmdb51_layout):
    split = HMDB51Split(hmdb51_layout, split=1)
    train, classes = split.records("train")
    test, test_classes = split.records("test")
    assert classes == test_classes == ["brush_hair", "wave"]
    assert [(r.label, r.path.name) for r in train] == [(0, "brush_hair_clip_0.avi"), (1, "wave_clip_0.avi")]
    assert [(r.label, r.path.name) for r in test] == [(0, "brush_hair_clip_1.avi"), (1, "wave_clip_1.avi")]
    assert all(r.path.is_file() for r in train + test), "id 0 (unused) is in neither stage"
    assert len(HMDB51Split(hmdb51_layout, split=2).records("train")[0]) == 4


def test_hmdb51_bad_id_names_file_and_line(hmdb51_layout):
    split_file = hmdb51_layout / "testTrainMulti_7030_splits" / "wave_test_split1.txt"
    split_file.write_text(split_file.read_text() + "other.avi 3\n")
    with pytest.raises(SplitFileError, match=r"wave_test_split1.txt:4: split id '3'"):
        HMDB51Split(hmdb51_layout).records("train")
    split_file.write_text("just_a_name.avi\n")
    with pytest.raises(SplitFileError, match=r"wave_test_split1.txt:1: expected '<video>.avi <0\|1\|2>'"):
        HMDB51Split(hmdb51_layout).records("test")


def test_hmdb51_missing_root_names_path_and_layout(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nowhere.*testTrainMulti_7030_splits.*expected layout"):
        HMDB51Split(tmp_path / "nowhere").records("train")
    with pytest.raises(ValueError, match="split=4"):
        HMDB51Split(tmp_path, split=4).records("train")


# ---------------------------------------------------------------------------- Kinetics-400


@pytest.mark.parametrize("layout", ["per_class", "flat"])
def test_kinetics_reads_csv_and_reports_missing(tmp_path, real_videos, layout, caplog):
    root = make_kinetics(tmp_path / "k400", real_videos, layout)
    source = Kinetics400Split(root, layout=layout)
    with caplog.at_level(logging.WARNING, logger="pacepred.data.records"):
        train, classes = source.records("train")
    assert classes == ["arm wrestling", "cleaning pool"]
    assert [(r.label, r.path.name) for r in train] == [
        (0, "armA_000010_000020.mp4"), (1, "poolA_000000_000010.mp4"), (0, "armB_000030_000040.mp4")]
    assert all(r.path.is_file() for r in train)
    assert [p.name for p in source.missing["train"]] == ["gone1_000005_000015.mp4"]
    warning = [r.getMessage() for r in caplog.records]
    assert len(warning) == 1 and "1 of 4 clips" in warning[0] and "gone1_000005_000015.mp4" in warning[0]
    test, _ = source.records("test")  # the val split
    assert [(r.label, r.path.parent.parent.name if layout == "per_class" else r.path.parent.name) for r in test] == [
        (1, "val"), (0, "val")]
    assert source.missing["test"] == []


def test_kinetics_all_missing_is_an_error(tmp_path, real_videos):
    """Clips stored per class but read as flat: nothing is found."""
    root = make_kinetics(tmp_path / "k400", real_videos, "per_class")
    expected = r"none of the 2 clips of .*val.csv exists.*layout 'flat': <root>/<video_dir>/<split>/<youtube_id>"
    with pytest.raises(FileNotFoundError, match=expected):
        Kinetics400Split(root, layout="flat").records("test")


def test_kinetics_malformed_rows_name_file_and_line(tmp_path, real_videos):
    root = make_kinetics(tmp_path / "k400", real_videos, "flat")
    val = root / "annotations" / "val.csv"
    val.write_text(val.read_text() + "arm wrestling,x,ten,20,val\n")
    with pytest.raises(SplitFileError, match=r"val.csv:4: time_start 'ten'"):
        Kinetics400Split(root, layout="flat").records("test")
    val.write_text("label,youtube_id,time_start\n")
    with pytest.raises(SplitFileError, match=r"val.csv:1: header .* lacks the columns \['time_end', 'split'\]"):
        Kinetics400Split(root, layout="flat").records("test")
    with pytest.raises(FileNotFoundError, match=r"nowhere.*annotations.*train.csv"):
        Kinetics400Split(tmp_path / "nowhere").records("train")


# ------------------------------------------------------------------------- class folders


def test_folder_split_every_nth_video_per_class_is_test(folder_layout):
    source = FolderSplit(folder_layout, test_every=2)
    train, classes = source.records("train")
    test, _ = source.records("test")
    assert classes == ["cooking", "sports"]
    assert [(r.label, r.path.name) for r in train] == [(0, "c0.mkv"), (0, "c2.AVI"), (1, "s0.mp4")]
    assert [(r.label, r.path.name) for r in test] == [(0, "c1.mp4"), (1, "s1.avi")]
    assert FolderSplit(folder_layout, test_every=2).records("test") == (test, classes), "deterministic"
    with pytest.raises(FileNotFoundError, match="no test videos.*test_every=5"):
        FolderSplit(folder_layout, test_every=5).records("test")


def test_folder_split_missing_root(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nowhere does not exist.*one sub-folder per class"):
        FolderSplit(tmp_path / "nowhere").records("train")


# -------------------------------------------------------------------------- frame folders


def test_frames_split_reads_lists_and_frames(frames_layout):
    source = FramesSplit(frames_layout, "train.list", "test.list", frames_dir="frames")
    train, classes = source.records("train")
    test, _ = source.records("test")
    assert classes == ["ApplyEyeMakeup", "ArmWrestling"]
    assert [(r.label, r.num_frames, r.path.name) for r in train] == [
        (0, EXTRACTED_FRAMES, "v_ApplyEyeMakeup_g01_c01"), (1, EXTRACTED_FRAMES, "v_ArmWrestling_g01_c01")]
    assert [r.label for r in test] == [0]
    clip = read_clip(train[1].path, lambda n: [0, n - 1], size=(64, 80))  # a folder: the frames backend
    assert clip.shape == (2, 64, 80, 3)


def test_frames_split_flat_and_class_index(frames_layout):
    flat = frames_layout / "flat"
    flat.mkdir()
    for folder in (frames_layout / "frames").glob("*/*"):
        folder.rename(flat / folder.name)
    (frames_layout / "classInd.txt").write_text("1 Makeup\n2 Wrestling\n")
    source = FramesSplit(frames_layout, frames_dir="flat", flat=True, class_index="classInd.txt")
    train, classes = source.records("train")
    assert classes == ["Makeup", "Wrestling"]
    assert all(r.path.is_dir() and r.path.parent == flat for r in train)


def test_frames_split_malformed_lines(frames_layout):
    listing = frames_layout / "train.list"
    listing.write_text(listing.read_text() + "ArmWrestling/v_x 1\n")
    with pytest.raises(SplitFileError, match=r"train.list:3: expected '<path> <label> <num_frames>'"):
        FramesSplit(frames_layout, frames_dir="frames").records("train")
    listing.write_text("ArmWrestling/v_x 1 -5\n")
    with pytest.raises(SplitFileError, match=r"train.list:1: num_frames '-5' is not an integer >= 1"):
        FramesSplit(frames_layout, frames_dir="frames").records("test")
    listing.write_text("ApplyEyeMakeup/v_x 1 10\nArmWrestling/v_y 1 10\n")
    with pytest.raises(SplitFileError, match=r"train.list:2: label 1 is class 'ApplyEyeMakeup' elsewhere"):
        FramesSplit(frames_layout, frames_dir="frames").records("train")


def test_frames_split_parses_the_ucf101_split1_list():
    source = FramesSplit(UCF101_LIST.parent, UCF101_LIST.name, UCF101_LIST.name)
    records, classes = source.records("train")
    lengths = [r.num_frames for r in records]
    assert len(records) == 9537 and len(classes) == 101 and classes[0] == "ApplyEyeMakeup"
    assert (min(lengths), max(lengths), sum(n < 61 for n in lengths)) == (29, 1776, 121)


# --------------------------------------------------------------------------------- configs


@pytest.mark.parametrize("config", ["hmdb51", "kinetics400", "folder", "frames"])
def test_data_config_builds_its_reader(config, make_cfg, tmp_path, real_videos, hmdb51_layout, folder_layout,
                                       frames_layout):
    roots = {
        "hmdb51": hmdb51_layout,
        "kinetics400": make_kinetics(tmp_path / "k400", real_videos, "per_class"),
        "folder": folder_layout,
        "frames": frames_layout,
    }
    overrides = [f"data={config}", f"data.root={roots[config]}"]
    if config == "frames":
        overrides += ["data.source.frames_dir=frames", "data.source.flat=false"]
    if config == "folder":
        overrides.append("data.source.test_every=2")
    source = instantiate(make_cfg(overrides).data.source)
    for stage in ("train", "test"):
        records, classes = source.records(stage)
        assert records and len(classes) == 2
        assert all(r.path.exists() for r in records)


def test_split_files_saved_with_a_byte_order_mark_read_the_same(tmp_path, real_videos, hmdb51_layout):
    """Spreadsheet and Windows editors save CSV and text files with a UTF-8 byte-order mark."""
    root = make_kinetics(tmp_path / "k400", real_videos, "flat")
    expected = Kinetics400Split(root, layout="flat").records("test")
    val = root / "annotations" / "val.csv"
    val.write_bytes(b"\xef\xbb\xbf" + val.read_bytes())
    assert Kinetics400Split(root, layout="flat").records("test") == expected
    expected = HMDB51Split(hmdb51_layout).records("train")
    for split_file in (hmdb51_layout / "testTrainMulti_7030_splits").glob("*_split1.txt"):
        split_file.write_bytes(b"\xef\xbb\xbf" + split_file.read_bytes())
    assert HMDB51Split(hmdb51_layout).records("train") == expected


def test_frame_folder_clips_resize_the_crop_or_whole_frames(frame_folders):
    """data.frame_folder_resize: ``whole`` crops the frames resized to decode_size, exactly;
    ``crop`` resizes only the crop's region (the same draws, pixels within a sub-pixel shift);
    anything else is refused with the value named."""
    from fractions import Fraction

    import numpy as np
    import torch

    from pacepred.data.clip_reader import ClipReader
    from pacepred.data.datasets import PaceClipDataset
    from pacepred.data.transforms import crop_and_flip
    from pacepred.data.clip_positions import protocol_clip_indices
    from pacepred.data.datasets import MultiClipDataset

    records = [VideoRecord(folder, 0) for folder in frame_folders.values()]

    def train_set(resize: str) -> PaceClipDataset:
        return PaceClipDataset(records, ClipReader((128, 171), 112, frame_folder_resize=resize),
                               [Fraction(1), Fraction(2)], 8, 1, "fit", train=True, flip=True)

    crop, whole = train_set("crop"), train_set("whole")
    for index in range(len(records)):
        a, b = crop[(index, 1234 + index)], whole[(index, 1234 + index)]
        assert torch.equal(a["pace_label"], b["pace_label"]) and a["video"].shape == b["video"].shape == (1, 8, 3, 112, 112)
        assert (a["video"].int() - b["video"].int()).abs().float().mean() < 2.5
    test_crop = MultiClipDataset(records, ClipReader((128, 171), 112), 2, 8)[0]["video"]
    test_whole = MultiClipDataset(records, ClipReader((128, 171), 112, frame_folder_resize="whole"), 2, 8)[0]["video"]
    frames = read_clip(records[0].path, lambda n: protocol_clip_indices(n, 2, 8).reshape(-1), (128, 171))
    assert torch.equal(test_whole.flatten(0, 1), crop_and_flip(frames, 112, None, False))
    assert (test_crop.int() - test_whole.int()).abs().float().mean() < 1.5
    with pytest.raises(ValueError, match=r"data.frame_folder_resize='both': expected one of \('crop', 'whole'\)"):
        ClipReader((128, 171), 112, frame_folder_resize="both")
