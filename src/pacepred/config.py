"""Compose the project's Hydra configs from Python, as the command line would.

For code that runs several jobs in one process (the evidence benchmark, tests): the
``${hydra:...}`` values that a Hydra run would fill are set to ``output_dir``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, open_dict

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"


def compose_config(config_name: str, overrides: Sequence[str], output_dir: Path | str,
                   data_dir: Path | str | None = None) -> DictConfig:
    """``conf/<config_name>.yaml`` with ``overrides``, writing into ``output_dir``.

    ``data_dir`` replaces ``paths.data_dir`` when given (else the config's default stays).
    """
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name=config_name, overrides=list(overrides), return_hydra_config=True)
    with open_dict(cfg):
        cfg.paths.output_dir = str(output_dir)
        cfg.hydra.runtime.output_dir = str(output_dir)
        if data_dir is not None:
            cfg.paths.data_dir = str(data_dir)
    return cfg
