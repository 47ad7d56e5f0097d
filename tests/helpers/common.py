"""Paths and config composition shared by the test tiers (no fixtures: those are in conftest.py
and :mod:`tests.helpers.layouts`)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

from omegaconf import DictConfig, open_dict

from pacepred.config import CONF_DIR, compose_config

__all__ = ["CONF_DIR", "REPO", "REAL_VIDEOS", "REAL_VIDEO_FILES", "TINY_SYNTHETIC", "compose_train", "compose_eval",
           "make_ucf101", "load_run_module", "REAL_UCF101", "real_ucf101"]

REPO = Path(__file__).resolve().parents[2]
#: The real clips (provenance and licences in their README), or another folder of the same files
#: named by ``PACEPRED_TEST_VIDEOS``.
REAL_VIDEOS = Path(os.environ.get("PACEPRED_TEST_VIDEOS", REPO / "tests" / "data" / "videos"))

REAL_VIDEO_FILES = ("ucf101_apply_eye_makeup.avi", "kinetics_arm_wrestling.mp4", "kinetics_cleaning_pool.mp4",
                    "kinetics_flipping_pancake.mkv", "corrupted_h264.mp4")

# A small synthetic dataset for tests: every class, few short videos.
TINY_SYNTHETIC = [
    "data.source.num_train_per_class=4",
    "data.source.num_test_per_class=2",
    "data.source.num_frames=40",
]


#: A few training steps on the real clips arranged as UCF101 (:func:`real_ucf101`).
REAL_UCF101 = ["data=ucf101", "debug=fast", "data.decode_size=[64,80]", "data.crop_size=56",
               "trainer.limit_train_batches=1", "trainer.limit_val_batches=1"]


def real_ucf101(ucf101_layout: Path) -> list[str]:
    """:data:`REAL_UCF101` reading the layout of the ``ucf101_layout`` fixture."""
    return REAL_UCF101 + [f"data.root={ucf101_layout}"]


def compose_train(overrides: list[str], output_dir: Path, data_dir: Path, config_name: str = "train") -> DictConfig:
    """Compose conf/<config_name>.yaml with ``overrides`` as the command line would, outside a Hydra run."""
    return compose_config(config_name, overrides, output_dir, data_dir)


def compose_eval(overrides: list[str], output_dir: Path, data_dir: Path, log_dir: Path) -> DictConfig:
    """Compose conf/eval.yaml with ``overrides`` as the command line would, outside a Hydra run."""
    cfg = compose_train(overrides, output_dir, data_dir, config_name="eval")
    with open_dict(cfg):
        cfg.paths.log_dir = str(log_dir)
        cfg.paths.feature_cache = str(log_dir / "feature_cache")
    return cfg


def load_run_module(name: str = "run"):
    """experiments/proof/<name>.py as a module (a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location(f"proof_{name}", REPO / "experiments" / "proof" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


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
