"""Synthetic motion benchmark: short videos in UCF101's layout whose class is defined by motion only.

Settings (:mod:`.config`), scene (:mod:`.scene`), motion (:mod:`.motion`), rendering (:mod:`.render`),
encoding (:mod:`.encode`), the dataset writer (:mod:`.generate`), its command line (:mod:`.cli`) and
the dataset source (:mod:`.source`). Why the benchmark is built as it is: docs/notes/synthetic_benchmark.md.

    python -m pacepred.data.synthetic --root data/synthetic --workers 2
"""

from pacepred.data.synthetic.config import (
    BASE_SPEED, CLASS_SETS, CLASSES, GENERATOR_VERSION, KIND_SPEED_LADDER, KINDS, PARTS, SPEED_LADDER, SPEED_SPREAD,
    SyntheticConfig,
)
from pacepred.data.synthetic.scene import typical_object
from pacepred.data.synthetic.render import render_video
from pacepred.data.synthetic.encode import encode_mp4
from pacepred.data.synthetic.generate import ensure, generate, generate_in_subprocess, video_name, video_rng
from pacepred.data.synthetic.cli import main
from pacepred.data.synthetic.source import SyntheticUCF101

__all__ = [
    "BASE_SPEED", "CLASS_SETS", "CLASSES", "encode_mp4", "ensure", "generate", "generate_in_subprocess",
    "GENERATOR_VERSION", "KIND_SPEED_LADDER", "KINDS", "main", "PARTS", "render_video", "SPEED_LADDER",
    "SPEED_SPREAD", "SyntheticConfig", "SyntheticUCF101", "typical_object", "video_name", "video_rng",
]
