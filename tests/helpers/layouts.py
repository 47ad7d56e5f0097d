"""The real clips of tests/data/videos arranged in each dataset's layout (HMDB51, Kinetics-400,
class folders, JPEG frame folders, a folder of good and broken files).

conftest.py imports the fixtures, so every tier has them; the constants and ``make_kinetics``
are imported from here.
They depend on ``real_videos`` from conftest.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import decord
import pytest
from PIL import Image

from pacepred.data.decoding import FRAME_NAME

AVI, MP4_ARM, MP4_POOL, MKV = (
    "ucf101_apply_eye_makeup.avi", "kinetics_arm_wrestling.mp4", "kinetics_cleaning_pool.mp4",
    "kinetics_flipping_pancake.mkv",
)
CORRUPTED = "corrupted_h264.mp4"
#: Frames extracted per clip for frame-folder layouts (enough for the tests, quick to write).
EXTRACTED_FRAMES = 64
JPEG_QUALITY = 95


def extract_frames(video: Path, folder: Path, count: int = EXTRACTED_FRAMES) -> Path:
    """Write the first ``count`` frames of ``video`` as ``folder/frame000001.jpg ...``."""
    folder.mkdir(parents=True)
    frames = decord.VideoReader(str(video)).get_batch(list(range(count))).asnumpy()
    for index, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / FRAME_NAME.format(index + 1), quality=JPEG_QUALITY)
    return folder


@pytest.fixture(scope="session")
def frame_folders(tmp_path_factory, real_videos) -> dict[str, Path]:
    """Clip name -> a folder of its first EXTRACTED_FRAMES frames as JPEG (made once)."""
    root = tmp_path_factory.mktemp("frames")
    return {name: extract_frames(real_videos / name, root / Path(name).stem) for name in (AVI, MP4_ARM, MKV)}


@pytest.fixture
def hmdb51_layout(tmp_path, real_videos) -> Path:
    """HMDB51 split 1 over the real clips: two classes, ids 1 (train), 2 (test), 0 (unused)."""
    root = tmp_path / "hmdb51_root"
    splits = root / "testTrainMulti_7030_splits"
    splits.mkdir(parents=True)
    layout = {
        "wave": [(AVI, "1"), (MKV, "2"), (MP4_POOL, "0")],
        "brush_hair": [(MP4_ARM, "1"), (MP4_POOL, "2")],
    }
    for name, clips in layout.items():
        (root / "hmdb51" / name).mkdir(parents=True)
        lines = []
        for k, (clip, split_id) in enumerate(clips):
            video = f"{name}_clip_{k}.avi"
            shutil.copy(real_videos / clip, root / "hmdb51" / name / video)
            lines.append(f"{video} {split_id} \n")  # the official files end lines with a space
        (splits / f"{name}_test_split1.txt").write_text("".join(lines))
        (splits / f"{name}_test_split2.txt").write_text("".join(line.replace(" 2 ", " 1 ") for line in lines))
    return root


KINETICS_ROWS = {
    "train": [("arm wrestling", "armA", 10, 20, MP4_ARM), ("cleaning pool", "poolA", 0, 10, MP4_POOL),
              ("arm wrestling", "armB", 30, 40, MKV), ("cleaning pool", "gone1", 5, 15, None)],
    "val": [("cleaning pool", "poolV", 12, 22, MP4_POOL), ("arm wrestling", "armV", 1, 11, AVI)],
}


def make_kinetics(root: Path, real_videos: Path, layout: str) -> Path:
    """Kinetics CSVs and clips (``layout`` 'per_class' or 'flat'); 'gone1' is missing on disk.
    Per-class folders spell spaces as underscores for 'cleaning pool', as some downloaders do."""
    (root / "annotations").mkdir(parents=True)
    for split, rows in KINETICS_ROWS.items():
        lines = ["label,youtube_id,time_start,time_end,split"]
        for label, youtube_id, start, end, clip in rows:
            lines.append(f'"{label}",{youtube_id},{start},{end},{split}')
            if clip is None:
                continue
            folder = root / split
            if layout == "per_class":
                folder = folder / (label.replace(" ", "_") if label == "cleaning pool" else label)
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(real_videos / clip, folder / f"{youtube_id}_{start:06d}_{end:06d}.mp4")
        (root / "annotations" / f"{split}.csv").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture
def folder_layout(tmp_path, real_videos) -> Path:
    """Class folders with mixed extensions (one upper-case), a text file and a hidden folder."""
    root = tmp_path / "folder_root"
    layout = {"cooking": {"c0.mkv": MKV, "c1.mp4": MP4_POOL, "c2.AVI": AVI}, "sports": {"s0.mp4": MP4_ARM, "s1.avi": AVI}}
    for name, clips in layout.items():
        (root / name).mkdir(parents=True)
        for video, clip in clips.items():
            shutil.copy(real_videos / clip, root / name / video)
        (root / name / "notes.txt").write_text("not a video\n")
    (root / ".hidden").mkdir()
    return root


@pytest.fixture
def frames_layout(tmp_path, frame_folders) -> Path:
    """Frame folders ``<root>/frames/<Class>/<video>/`` and list files ``path label num_frames``."""
    root = tmp_path / "frames_root"
    videos = {("ApplyEyeMakeup", "v_ApplyEyeMakeup_g01_c01"): AVI, ("ArmWrestling", "v_ArmWrestling_g01_c01"): MP4_ARM,
              ("ApplyEyeMakeup", "v_ApplyEyeMakeup_g02_c01"): MKV}
    for (name, video), clip in videos.items():
        shutil.copytree(frame_folders[clip], root / "frames" / name / video)
    (root / "train.list").write_text(
        f"ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01 0 {EXTRACTED_FRAMES}\n"
        f"ArmWrestling/v_ArmWrestling_g01_c01 1 {EXTRACTED_FRAMES}\n"
    )
    (root / "test.list").write_text(f"ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01 0 {EXTRACTED_FRAMES}\n")
    return root


@pytest.fixture
def broken_folder(tmp_path, real_videos) -> Path:
    """A class-folder dataset mixing good clips with a corrupted MP4, a zero-byte file and a
    text file named .mp4 (test_every=2 puts some of each kind in both stages)."""
    root = tmp_path / "broken_root"
    for name in ("a_good", "b_bad"):
        (root / name).mkdir(parents=True)
    shutil.copy(real_videos / AVI, root / "a_good" / "clip1.avi")
    shutil.copy(real_videos / MP4_ARM, root / "a_good" / "clip2.mp4")
    shutil.copy(real_videos / MKV, root / "a_good" / "clip3.mkv")
    shutil.copy(real_videos / CORRUPTED, root / "b_bad" / "corrupted.mp4")
    (root / "b_bad" / "empty.mp4").write_bytes(b"")
    (root / "b_bad" / "text.mp4").write_text("this is not a video\n")
    return root
