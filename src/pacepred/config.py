"""Compose the project's Hydra configs from Python, as the command line would.

For code that runs several jobs in one process (the evidence benchmark, tests): the
``${hydra:...}`` values that a Hydra run would fill are set to ``output_dir``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, open_dict

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"


#: Settings that were renamed when related ones were grouped into one object (old dotted key ->
#: new). An override naming an old key is refused with the new name (:func:`refuse_renamed`); an
#: older run's configuration compares as if written with the new names (resume).
RENAMED_SETTINGS = {
    **{f"data.batch_transform.jitter_{k}": f"data.batch_transform.jitter.{k}"
       for k in ("mode", "impl", "order", "prob", "channels")},
    **{f"data.batch_transform.{k}": f"data.batch_transform.jitter.{k}"
       for k in ("brightness", "contrast", "saturation", "hue")},
    **{f"model.{k}": f"model.acceleration.{k}" for k in ("channels_last", "compile", "activation_checkpointing")},
    **{f"model.{k}": f"model.contrastive.{k}" for k in ("proj_hidden", "proj_dim", "temperature")},
}


#: Values that moved one level down when their key became a group (exact keys only: the group's
#: own settings keep the key as their prefix): ``model.contrastive=context`` was the positives.
MOVED_INTO_GROUP = {"model.contrastive": "model.contrastive.positives"}


def renamed_setting(key: str) -> str | None:
    """The new name of a renamed dotted ``key`` (or of the setting under it), else None."""
    if key in MOVED_INTO_GROUP:
        return MOVED_INTO_GROUP[key]
    for old, new in RENAMED_SETTINGS.items():
        if key == old or key.startswith(old + "."):
            return new + key[len(old):]
    return None


def refuse_renamed(overrides: Sequence[str]) -> None:
    """Raise ValueError naming the new key for every override that names a renamed setting
    (``model.temperature=0.1`` -> ``model.contrastive.temperature``); ``model.contrastive=<mode>``
    (any value but a node or null, sweeps included) became ``model.contrastive.positives=<mode>``."""
    problems = []
    for override in overrides:
        key, _, value = override.lstrip("+~").partition("=")
        new = renamed_setting(key)
        # a group's key stays valid given a node or null
        group_value = key in MOVED_INTO_GROUP and (value.strip() in ("null", "None", "") or value.lstrip().startswith("{"))
        if new is not None and not group_value:
            problems.append(f"{key} is now {new} ({new}={value})")
    if problems:
        raise ValueError("renamed settings: " + "; ".join(problems))


def refuse_renamed_arguments(argv: Sequence[str] | None = None) -> None:
    """Exit with :func:`refuse_renamed`'s message where the command line (``sys.argv[1:]``) names a
    renamed setting: before Hydra, whose own error would only say the old key is unknown."""
    try:
        refuse_renamed(sys.argv[1:] if argv is None else argv)
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None


def compose_config(config_name: str, overrides: Sequence[str], output_dir: Path | str,
                   data_dir: Path | str | None = None) -> DictConfig:
    """``conf/<config_name>.yaml`` with ``overrides``, writing into ``output_dir``.

    ``data_dir`` replaces ``paths.data_dir`` when given (else the config's default stays).
    """
    refuse_renamed(overrides)
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name=config_name, overrides=list(overrides), return_hydra_config=True)
    with open_dict(cfg):
        cfg.paths.output_dir = str(output_dir)
        cfg.hydra.runtime.output_dir = str(output_dir)
        if data_dir is not None:
            cfg.paths.data_dir = str(data_dir)
    return cfg
