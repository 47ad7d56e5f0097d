"""Shared fixtures: the real config folder, composed configs, real and generated videos."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from omegaconf import DictConfig

from pacepred.config import CONF_DIR, compose_config

REPO = Path(__file__).resolve().parents[1]
#: The real clips (provenance and licences in their README), or another folder of the same files
#: named by ``PACEPRED_TEST_VIDEOS``.
REAL_VIDEOS = Path(os.environ.get("PACEPRED_TEST_VIDEOS", Path(__file__).resolve().parent / "data" / "videos"))

REAL_VIDEO_FILES = ("ucf101_apply_eye_makeup.avi", "kinetics_arm_wrestling.mp4", "kinetics_cleaning_pool.mp4",
                    "kinetics_flipping_pancake.mkv", "corrupted_h264.mp4")

# A small synthetic dataset for tests: every class, few short videos.
TINY_SYNTHETIC = [
    "data.source.num_train_per_class=4",
    "data.source.num_test_per_class=2",
    "data.source.num_frames=40",
]


def compose_train(overrides: list[str], output_dir: Path, data_dir: Path, config_name: str = "train") -> DictConfig:
    """Compose conf/<config_name>.yaml with ``overrides`` as the command line would, outside a Hydra run."""
    return compose_config(config_name, overrides, output_dir, data_dir)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    """One data folder for the session, so the tiny synthetic dataset is generated once."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture
def make_cfg(tmp_path, data_dir):
    """``make_cfg(overrides)`` -> a composed training config writing into tmp_path/run."""

    def make(overrides: list[str], run_name: str = "run") -> DictConfig:
        return compose_train(overrides, tmp_path / run_name, data_dir)

    return make


@pytest.fixture
def first_callback(monkeypatch):
    """``first_callback(callback)``: every Trainer built afterwards (``train`` builds its own) runs
    ``callback`` before its configured callbacks."""
    import pytorch_lightning as pl

    real_trainer = pl.Trainer

    def add(callback: pl.Callback) -> None:
        monkeypatch.setattr(pl, "Trainer", lambda **kw: real_trainer(**{**kw, "callbacks": [callback, *kw["callbacks"]]}))

    return add


@pytest.fixture(scope="session")
def real_videos() -> Path:
    """The folder of the real fixture clips; they ship with the repository, so a missing one is an error."""
    missing = [name for name in REAL_VIDEO_FILES if not (REAL_VIDEOS / name).is_file()]
    if missing:
        pytest.fail(f"real fixture videos missing from {REAL_VIDEOS}: {missing} (they ship in tests/data/videos; "
                    "PACEPRED_TEST_VIDEOS names another folder of the same files)")
    return REAL_VIDEOS


@pytest.fixture
def ucf101_layout(tmp_path, real_videos) -> Path:
    """The real clips arranged as UCF101 (two classes, one video each in train and test)."""
    return make_ucf101(tmp_path / "ucf101", real_videos)


def make_ucf101(root: Path, real_videos: Path) -> Path:
    """Arrange the real clips as UCF101 under ``root`` (see :func:`ucf101_layout`); video names
    keep their clip's extension."""
    lists = root / "ucfTrainTestlist"
    lists.mkdir(parents=True)
    clips = {
        "ApplyEyeMakeup": ["ucf101_apply_eye_makeup.avi", "kinetics_flipping_pancake.mkv"],
        "ArmWrestling": ["kinetics_arm_wrestling.mp4", "kinetics_cleaning_pool.mp4"],
    }
    train, test = [], []
    for label, (name, files) in enumerate(clips.items(), start=1):
        (root / "UCF-101" / name).mkdir(parents=True)
        for k, source in enumerate(files, start=1):
            video = f"v_{name}_g0{k}_c01{Path(source).suffix}"
            shutil.copy(real_videos / source, root / "UCF-101" / name / video)
            (train if k == 1 else test).append((f"{name}/{video}", label))
    (lists / "classInd.txt").write_text("".join(f"{i} {n}\n" for i, n in enumerate(clips, start=1)))
    (lists / "trainlist01.txt").write_text("".join(f"{p} {l}\n" for p, l in train))
    (lists / "testlist01.txt").write_text("".join(f"{p}\n" for p, _ in test))
    return root
