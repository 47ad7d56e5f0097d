"""The pre-training modules' grouped settings, each one config node (``model.acceleration``,
``model.contrastive``), kept as plain dicts in checkpoints."""

from __future__ import annotations

from dataclasses import dataclass

from pacepred.losses.contrastive import CONTRASTIVE_MODES


@dataclass(frozen=True)
class Acceleration:
    """Speed and memory switches (the same numbers, faster or leaner).

    ``channels_last``: channels_last_3d memory format for the backbone and its input; None = on
    CUDA only (where cuDNN is faster with it). ``compile``: ``torch.compile`` the backbone (in
    place: parameter names unchanged). ``activation_checkpointing``: recompute the backbone's
    block activations in the backward pass (64x224x224 S3D-G at the official batch on one GPU).
    """

    channels_last: bool | None = None
    compile: bool = False
    activation_checkpointing: bool = False


@dataclass(frozen=True)
class Contrastive:
    """The contrastive branch: ``positives`` None (no branch), ``context`` (clips of one video,
    the paper's better variant) or ``pace`` (clips at one pace); the projection MLP's sizes and
    the NT-Xent temperature."""

    positives: str | None = None
    proj_hidden: int = 512
    proj_dim: int = 128
    temperature: float = 0.5

    def __post_init__(self) -> None:
        if self.positives not in (None, *CONTRASTIVE_MODES):
            raise ValueError(f"model.contrastive.positives={self.positives!r}: expected null or one of {CONTRASTIVE_MODES}")
