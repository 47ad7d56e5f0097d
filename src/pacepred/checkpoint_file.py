"""Reading a checkpoint file: ``torch.load`` on the CPU, with a named error for what is not one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pacepred.messages import first_line


def load_checkpoint_file(path: str | Path, weights_only: bool) -> Any:
    """``torch.load`` of ``path`` on the CPU (memory-mapped where the format allows); a file that
    is not a PyTorch checkpoint is a ValueError naming it and the loader's reason."""
    import torch

    try:
        try:
            return torch.load(path, map_location="cpu", weights_only=weights_only, mmap=True)
        except RuntimeError:  # a checkpoint in torch's legacy (not zip) format cannot be memory-mapped
            return torch.load(path, map_location="cpu", weights_only=weights_only)
    except Exception as err:  # torch.load raises pickle, zip, EOF and index errors, among others
        if weights_only and "Weights only load failed" in str(err):
            raise ValueError(f"{path}: torch.load(weights_only=True) cannot read it: not a PyTorch checkpoint, or one "
                             "holding objects other than tensors and plain containers") from err
        raise ValueError(f"{path} is not a PyTorch checkpoint (torch.load: {first_line(err)})") from err
