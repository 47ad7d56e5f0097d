"""What a run directory keeps about its run: ``config.yaml`` (the resolved configuration),
``run_info.json`` (git commit, package versions, command line, host, time) and the description of
its network that every checkpoint carries. Whether and where a run resumes: :mod:`pacepred.resume`.
"""

from __future__ import annotations

import datetime
import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

PACKAGES = (
    "pacepred", "torch", "torchvision", "pytorch-lightning", "torchmetrics", "hydra-core",
    "omegaconf", "decord", "av", "numpy",
)


def git_commit(directory: Path) -> str:
    """HEAD commit of the repository holding ``directory`` (``+dirty`` if modified), or 'unknown'."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True,
                                text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=directory,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed versions of the packages ``names`` (by default those a result depends on)."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def job_config(cfg: DictConfig) -> DictConfig:
    """The run's configuration without Hydra's own node: what ``config.yaml`` records."""
    return OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])


def write_run_info(cfg: DictConfig, output_dir: Path, resume: str | None = None) -> None:
    """Write ``config.yaml`` and ``run_info.json`` into ``output_dir`` (with ``resume``, the
    command that resumes the run, when there is one)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "config.yaml").write_text(OmegaConf.to_yaml(job_config(cfg), resolve=True))
    info = {
        "git_commit": git_commit(Path(__file__).resolve().parent),
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "command": sys.argv,
        "host": platform.node(),
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        **({"resume_command": resume} if resume is not None else {}),
    }
    (output_dir / "run_info.json").write_text(json.dumps(info, indent=2) + "\n")


def network_description(cfg: DictConfig, paces: list) -> dict[str, Any]:
    """What rebuilds and feeds a pre-trained network, for its checkpoints' ``hyper_parameters``
    (``network``), so that a checkpoint copied out of its run folder still says it: the backbone
    (target and arguments), the input, the clip settings, the pace set, the normalisation and the
    pacepred version. Plain values only (``torch.load(weights_only=True)`` reads them)."""
    from pacepred import __version__

    data = cfg.data
    decode_size = OmegaConf.select(data, "decode_size")
    return {
        "backbone": OmegaConf.to_container(cfg.backbone, resolve=True),
        "input": str(cfg.input),
        "clip_len": int(data.clip_len),
        "crop_size": int(data.crop_size),
        "decode_size": [int(v) for v in decode_size] if decode_size is not None else None,
        "paces": [str(p) for p in paces],
        "mean": [float(v) for v in data.batch_transform.mean],
        "std": [float(v) for v in data.batch_transform.std],
        "pacepred_version": __version__,
    }
