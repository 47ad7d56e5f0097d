"""Finding, hashing and importing pre-training checkpoints into a backbone, loudly.

Formats read (always with ``torch.load(..., weights_only=True)``):

- pacepred (Lightning): ``state_dict`` with ``backbone.*`` keys (heads ``pace_head.*`` and
  ``projection.*`` are ignored);
- the official pace-prediction code: ``{"epoch", "state_dict", "opt_dict"}`` whose keys carry
  ``module.`` (``nn.DataParallel``) and the official layer names (``conv1``, ``bn1``,
  ``conv2.block1.conv1.temporal_spatial_conv``, ``downsampleconv``, ``linear``...);
- the VCOP family: a bare state dict with ``base_network.`` (and possibly ``module.``) prefixes
  and the same layer names (VCOP's heads ``fc7``/``fc8`` are ignored);
- a bare state dict of one of our backbones.

Official / VCOP names are translated by explicit rules for R3D, R(2+1)D and C3D (written from
the official model files), never by parameter order: the official residual block registers its
shortcut (``downsampleconv``, ``downsamplebn``) before ``conv1``, and the shortcut's BatchNorm
has the same shapes as ``bn1``, so an order-and-shape match would silently swap them. The
official C3D convolutions carry a bias before BatchNorm; ours do not, and the bias is folded
exactly into the BatchNorm's running mean (BN(x + b) with mean m equals BN(x) with mean m - b,
and batch statistics absorb it in training). After translation every key and every shape must
match the backbone (strict); otherwise :class:`CheckpointMismatchError` lists the missing,
unexpected and mis-shaped keys.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Mapping

import torch
from torch import Tensor, nn

from pacepred.models.c3d import C3D
from pacepred.models.r21d import R2Plus1D
from pacepred.models.r3d import R3D
from pacepred.checkpoint_file import load_checkpoint_file

# Top-level names of heads in the formats above: dropped, and reported as dropped.
HEAD_PREFIXES = ("pace_head", "projection", "linear", "fc6", "fc7", "fc8")
# Official C3D layer name -> index of that ConvBNReLU3d in pacepred's ``C3D.features``.
C3D_LAYERS = {"1": 0, "2": 2, "3a": 4, "3b": 5, "4a": 7, "4b": 8, "5a": 10, "5b": 11}
_RESNET_RULES = [  # applied in order to each key of the official R3D / R(2+1)D
    (re.compile(r"^conv1\."), "stem.0."),
    (re.compile(r"^bn1\."), "stem.1."),
    (re.compile(r"^conv(\d)\.block1\."), lambda m: f"stages.{int(m[1]) - 2}.0."),
    (re.compile(r"^conv(\d)\.blocks\.(\d+)\."), lambda m: f"stages.{int(m[1]) - 2}.{int(m[2]) + 1}."),
    (re.compile(r"\.downsampleconv\."), ".shortcut.0."),
    (re.compile(r"\.downsamplebn\."), ".shortcut.1."),
    (re.compile(r"\.temporal_spatial_conv\."), "."),
    (re.compile(r"\.spatial_conv\."), ".spatial."),
    (re.compile(r"\.temporal_conv\."), ".temporal."),
]
_C3D_KEY = re.compile(r"^(conv|bn)(1|2|3a|3b|4a|4b|5a|5b)\.(.+)$")


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's weights do not fit the backbone; the message lists what differs."""


def file_sha256(path: Path | str) -> str:
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def find_latest_checkpoint(log_dir: Path | str) -> Path:
    """Newest ``checkpoints/last.ckpt`` of a run or multirun job under ``log_dir`` (by time written).

    Raises FileNotFoundError with what was searched and how to make one.
    """
    log_dir = Path(log_dir)
    patterns = ("*/runs/*/checkpoints/last.ckpt", "*/multiruns/*/*/checkpoints/last.ckpt")
    found = [p for pattern in patterns for p in log_dir.glob(pattern)]
    if not found:
        raise FileNotFoundError(
            f"no pre-training checkpoint under {log_dir}/ (looked for {' and '.join(patterns)}); "
            "pre-train first (python -m pacepred.train) or pass ckpt=<path> (ckpt=null: random initialisation)"
        )
    return max(found, key=lambda p: p.stat().st_mtime)


def checkpoint_to_evaluate(ckpt: str | None, log_dir: Path | str) -> Path | None:
    """``None`` -> None (random initialisation); ``'latest'`` -> :func:`find_latest_checkpoint`; else the file."""
    if ckpt is None:
        return None
    path = find_latest_checkpoint(log_dir) if ckpt == "latest" else Path(ckpt)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    return path


def run_config_path(checkpoint: Path) -> Path | None:
    """The ``config.yaml`` of the run that wrote ``<run>/checkpoints/<name>.ckpt``, if present."""
    candidate = checkpoint.parent.parent / "config.yaml"
    return candidate if checkpoint.parent.name == "checkpoints" and candidate.is_file() else None


def _strip(state: Mapping[str, Tensor], prefix: str) -> dict[str, Tensor]:
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def _translate_resnet(key: str) -> str:
    for pattern, replacement in _RESNET_RULES:
        key = pattern.sub(replacement, key, count=1)
    return key


def _translate_c3d(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Official C3D names -> ``features.<i>.{0,1}.*``, conv biases folded into BN running means."""
    out: dict[str, Tensor] = {}
    biases: dict[int, Tensor] = {}
    for key, value in state.items():
        match = _C3D_KEY.match(key)
        if match is None:
            out[key] = value  # left as is: reported as unexpected
            continue
        kind, layer, rest = match.groups()
        index = C3D_LAYERS[layer]
        if kind == "conv" and rest == "bias":
            biases[index] = value
        else:
            out[f"features.{index}.{0 if kind == 'conv' else 1}.{rest}"] = value
    for index, bias in biases.items():
        key = f"features.{index}.1.running_mean"
        if key not in out or out[key].shape != bias.shape:
            raise CheckpointMismatchError(f"conv{index} bias {tuple(bias.shape)} has no matching BatchNorm running mean to fold into")
        out[key] = out[key] - bias
    return out


def backbone_state(raw: Mapping, backbone: nn.Module) -> tuple[dict[str, Tensor], list[str]]:
    """Translate a loaded checkpoint to ``backbone``'s names; returns (state, ignored head keys).

    Accepts the formats in the module docstring; names are only translated when they are not
    already the backbone's own.
    """
    state = raw.get("state_dict", raw)
    if not isinstance(state, Mapping) or not all(isinstance(v, Tensor) for v in state.values()):
        raise CheckpointMismatchError("the checkpoint holds no state dict of tensors (expected a 'state_dict' entry or a bare state dict)")
    if any(k.startswith("backbone.") for k in state):  # pacepred / Lightning
        return _strip(state, "backbone."), sorted(k for k in state if not k.startswith("backbone."))
    state = {k.removeprefix("module."): v for k, v in state.items()}
    if any(k.startswith("base_network.") for k in state):  # VCOP family
        ignored = sorted(k for k in state if not k.startswith("base_network."))
        state = _strip(state, "base_network.")
    else:
        ignored = []
    ignored += sorted(k for k in state if k.split(".")[0] in HEAD_PREFIXES)
    state = {k: v for k, v in state.items() if k.split(".")[0] not in HEAD_PREFIXES}
    if set(state) == set(backbone.state_dict()):
        return state, ignored
    if isinstance(backbone, (R3D, R2Plus1D)):
        return {_translate_resnet(k): v for k, v in state.items()}, ignored
    if isinstance(backbone, C3D):
        return _translate_c3d(state), ignored
    return state, ignored  # no name map (e.g. S3D-G): the strict check below reports the difference


def first_conv_weight(backbone: nn.Module) -> str:
    """Name of the weight that sees the input channels (the first conv in registration order)."""
    for name, module in backbone.named_modules():
        if isinstance(module, nn.Conv3d):
            return f"{name}.weight"
    raise ValueError(f"{type(backbone).__name__} has no Conv3d")


def load_strict(backbone: nn.Module, state: Mapping[str, Tensor], source: str) -> None:
    """Load ``state`` into ``backbone`` requiring the same keys and shapes; else a readable error."""
    expected = backbone.state_dict()
    missing = [k for k in expected if k not in state]  # lists in the backbone's / checkpoint's order
    unexpected = [k for k in state if k not in expected]
    shapes = [f"{k}: checkpoint {tuple(state[k].shape)} vs backbone {tuple(v.shape)}"
              for k, v in expected.items() if k in state and state[k].shape != v.shape]
    if missing or unexpected or shapes:
        def listing(title: str, items: list[str]) -> str:
            shown = "".join(f"\n    {item}" for item in items[:40])
            more = f"\n    ... and {len(items) - 40} more" if len(items) > 40 else ""
            return f"\n  {title} ({len(items)}):{shown}{more}" if items else ""

        raise CheckpointMismatchError(
            f"{source} does not match the {type(backbone).__name__} backbone"
            f" (check backbone=... and its width/layers)"
            + listing("missing in the checkpoint", missing)
            + listing("unexpected in the checkpoint", unexpected)
            + listing("shape mismatches", shapes)
        )
    backbone.load_state_dict(state, strict=True)


def load_backbone_checkpoint(backbone: nn.Module, path: Path | str, channels: str = "rgb") -> list[str]:
    """Load the backbone weights of checkpoint ``path`` (any format above) strictly.

    ``channels='bgr'`` reverses the first conv's input channels, for weights trained on BGR
    input (the official pace code reads frames with OpenCV) so that RGB input gives the same
    output. Returns the ignored (head) keys.
    """
    if channels not in ("rgb", "bgr"):
        raise ValueError(f"ckpt_channels={channels!r}: expected 'rgb' or 'bgr'")
    raw = load_checkpoint_file(path, weights_only=True)
    if not isinstance(raw, Mapping):
        raise CheckpointMismatchError(f"{path} holds a {type(raw).__name__}, not a checkpoint dictionary")
    state, ignored = backbone_state(raw, backbone)
    if channels == "bgr":
        name = first_conv_weight(backbone)
        if name in state:
            state[name] = state[name].flip(1)
    load_strict(backbone, state, f"checkpoint {path}")
    return ignored
