"""The feature cache's data key: the same videos give the same key, a replaced file another."""

import os

import pytest
import torch

from pacepred.data.clip_reader import ClipReader
from pacepred.data.records import VideoRecord
from pacepred.data.transforms import ClipBatchTransform
from pacepred.evaluation.features import FeatureExtractor


def test_a_video_replaced_in_place_gets_new_features(tmp_path):
    video = tmp_path / "a.mp4"
    video.write_bytes(b"x" * 10)
    extractor = FeatureExtractor(torch.nn.Identity(), "key", ClipBatchTransform(), ClipReader((64, 64), 56), 3, 16, 4,
                                 0, tmp_path / "cache", torch.device("cpu"))
    records = [VideoRecord(video, 0)]
    key = extractor.data_key(records)
    assert extractor.data_key(records) == key
    video.write_bytes(b"y" * 11)  # re-encoded: another size
    resized = extractor.data_key(records)
    assert resized != key
    os.utime(video, ns=(1_000_000_000, 1_000_000_000))  # same size, another mtime
    assert extractor.data_key(records) not in (key, resized)
    video.unlink()  # missing: a key all the same (the decoder names the file when extracting)
    assert extractor.data_key(records) not in (key, resized)


def test_the_decoder_and_the_frame_folder_resize_are_part_of_the_key(tmp_path):
    video = tmp_path / "a.mp4"
    video.write_bytes(b"x")
    keys = {FeatureExtractor(torch.nn.Identity(), "key", ClipBatchTransform(), ClipReader((64, 64), 56, decoder=decoder),
                             3, 16, 4, 0, None, torch.device("cpu")).data_key([VideoRecord(video, 0)])
            for decoder in ("decord", "pyav")}
    assert len(keys) == 2
    keys = {FeatureExtractor(torch.nn.Identity(), "key", ClipBatchTransform(),
                             ClipReader((64, 64), 56, frame_folder_resize=resize), 3, 16, 4, 0, None, torch.device("cpu")).data_key([VideoRecord(video, 0)])
            for resize in ("crop", "whole")}
    assert len(keys) == 2
    with pytest.raises(ValueError, match=r"data.frame_folder_resize='both'"):  # refused when built, not at extraction
        ClipReader((64, 64), 56, frame_folder_resize="both")


def test_frames_extracted_again_in_place_get_new_features(tmp_path):
    """Re-extraction over the old files keeps the folder's entries and mtime, not the files'."""
    from pacepred.data.decoding import FRAME_NAME

    folder = tmp_path / "v_a"
    folder.mkdir()
    for i in range(3):
        (folder / FRAME_NAME.format(i + 1)).write_bytes(b"jpeg")
    os.utime(folder, ns=(1_000_000_000, 1_000_000_000))
    extractor = FeatureExtractor(torch.nn.Identity(), "key", ClipBatchTransform(), ClipReader((64, 64), 56), 3, 16, 4,
                                 0, None, torch.device("cpu"))
    key = extractor.data_key([VideoRecord(folder, 0)])
    folder_mtime = folder.stat().st_mtime_ns
    (folder / FRAME_NAME.format(1)).write_bytes(b"JPEG")  # rewritten: same name, same size
    os.utime(folder / FRAME_NAME.format(1), ns=(2_000_000_000, 2_000_000_000))
    assert folder.stat().st_mtime_ns == folder_mtime
    assert extractor.data_key([VideoRecord(folder, 0)]) != key
