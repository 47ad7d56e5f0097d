"""Shared fixtures of every tier: composed configs, the real clips (also in each dataset layout:
:mod:`tests.helpers.layouts`) and generated videos."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import DictConfig

from tests.helpers.common import REAL_VIDEO_FILES, REAL_VIDEOS, compose_train, make_ucf101
from tests.helpers.layouts import (  # noqa: F401  (fixtures shared by every tier)
    broken_folder, folder_layout, frame_folders, frames_layout, hmdb51_layout,
)


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
