"""The multi-clip protocol: 10 clips, centres evenly spaced (VCOP's arithmetic), centre crop."""

import numpy as np
import pytest
import torch

import pacepred.data.clip_reader as reader_module
from pacepred.data.clip_reader import ClipReader
from pacepred.data.records import VideoRecord
from pacepred.data.clip_positions import clip_starts, frames_per_clip, protocol_clip_indices
from pacepred.data.datasets import MultiClipDataset

# Hand-computed starts int(c - 8) for c in linspace(8, n - 8, 10) (VCOP's retrieve_clips.py).
EXPECTED_STARTS_16 = {
    160: [0, 16, 32, 48, 64, 80, 96, 112, 128, 144],
    100: [0, 9, 18, 28, 37, 46, 56, 65, 74, 84],
    25: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    16: [0] * 10,
    10: [0] * 10,   # shorter than a clip: start at 0 and loop
    1: [0] * 10,
}


@pytest.mark.parametrize("num_frames", sorted(EXPECTED_STARTS_16))
def test_clip_starts_are_the_protocol_positions(num_frames):
    assert clip_starts(num_frames, 10, 16).tolist() == EXPECTED_STARTS_16[num_frames]
    if num_frames >= 16:  # the reference formula, for the record
        reference = [int(c - 16 / 2) for c in np.linspace(16 / 2, num_frames - 16 / 2, 10)]
        assert clip_starts(num_frames, 10, 16).tolist() == reference


def test_clips_are_consecutive_frames_inside_the_video_or_looping_when_short():
    for num_frames in (17, 40, 96, 1000):
        indices = protocol_clip_indices(num_frames, 10, 17)
        assert indices.shape == (10, 17)
        assert (np.diff(indices, axis=1) == 1).all() and indices.max() < num_frames
        assert indices[0, 0] == 0 and indices[-1, -1] == num_frames - 1  # first and last frames covered
    short = protocol_clip_indices(10, 10, 16)
    assert (short == np.array(list(range(10)) + list(range(6)))).all()


def test_frames_per_clip_adds_one_for_the_residual_input():
    assert frames_per_clip(16, "rgb") == 16 and frames_per_clip(16, "residual") == 17
    with pytest.raises(ValueError, match="input"):
        frames_per_clip(16, "flow")


@pytest.mark.parametrize("num_frames", [100, 25, 10])
def test_dataset_decodes_the_protocol_frames_and_crops_the_centre(monkeypatch, num_frames):
    """A fake decoder paints frame index, row and column into the three channels."""
    height, width, crop = 20, 30, 12

    def fake_read_clip(path, choose_indices, size, num_threads=1, backend="decord", cache=False, defer_frame_resize=False):
        assert size == (height, width) and backend == "decord"
        t = np.asarray(choose_indices(num_frames))
        frames = np.zeros((len(t), height, width, 3), dtype=np.uint8)
        frames[..., 0] = t[:, None, None]
        frames[..., 1] = np.arange(height)[None, :, None]
        frames[..., 2] = np.arange(width)[None, None, :]
        return frames

    monkeypatch.setattr(reader_module, "read_clip", fake_read_clip)
    dataset = MultiClipDataset([VideoRecord("video.avi", 3)], ClipReader((height, width), crop), num_clips=10, span=16)
    item = dataset[0]
    video = item["video"]
    assert video.shape == (10, 16, 3, crop, crop) and video.dtype == torch.uint8
    assert item["label"] == 3 and item["video_idx"] == 0
    expected = (np.array(EXPECTED_STARTS_16.get(num_frames, clip_starts(num_frames, 10, 16)))[:, None] + np.arange(16)) % num_frames
    assert (video[:, :, 0, 0, 0].numpy() == expected).all()
    top, left = (height - crop) // 2, (width - crop) // 2  # centre crop, the same for every frame
    assert (video[:, :, 1, :, 0].numpy() == np.arange(top, top + crop)).all()
    assert (video[:, :, 2, 0, :].numpy() == np.arange(left, left + crop)).all()


def test_dataset_on_a_real_ucf101_video(real_videos):
    dataset = MultiClipDataset([VideoRecord(real_videos / "ucf101_apply_eye_makeup.avi", 0)],
                               ClipReader((128, 171), 112), num_clips=10, span=16)
    assert dataset[0]["video"].shape == (10, 16, 3, 112, 112)


def test_dataset_reads_video_files_with_the_configured_decoder(monkeypatch, real_videos):
    """data.decoder=pyav reaches the evaluation clips (decord misreads some MPEG-4 AVIs)."""
    backends = []
    real_read_clip = reader_module.read_clip

    def recording(*args, backend="decord", **kwargs):
        backends.append(backend)
        return real_read_clip(*args, backend=backend, **kwargs)

    monkeypatch.setattr(reader_module, "read_clip", recording)
    video = real_videos / "ucf101_apply_eye_makeup.avi"
    pyav = MultiClipDataset([VideoRecord(video, 0)], ClipReader((64, 80), 56, decoder="pyav"), num_clips=2,
                            span=16)[0]["video"]
    decord = MultiClipDataset([VideoRecord(video, 0)], ClipReader((64, 80), 56), num_clips=2, span=16)[0]["video"]
    assert backends == ["pyav", "decord"]
    assert pyav.shape == decord.shape
