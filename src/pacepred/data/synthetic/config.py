"""The generator's settings (:class:`SyntheticConfig`), its classes and their speeds. The rules they
keep (pace well posed, no shortcut): docs/notes/synthetic_benchmark.md ("notes" below)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields


#: Bump when the rendering changes, so cached datasets of an older generator are regenerated.
GENERATOR_VERSION = 3


CLASSES: tuple[str, ...] = (
    "MoveRight",
    "MoveLeft",
    "MoveUp",
    "MoveDown",
    "OrbitClockwise",
    "OrbitCounterClockwise",
    "ZigZag",
    "Oscillate",
    "Expand",
    "Contract",
    "Spin",
    "Static",
)


#: Typical object speed in px/frame at size 64 (scaled linearly with the frame size).
BASE_SPEED = 0.8


#: ``class_speeds="ladder"``: each class's typical speed as a multiple of BASE_SPEED, on four steps
#: (0.5, 0.7, 1.0, 1.4), as real actions have their own natural speeds. The two classes of a
#: direction pair differ by 2x, so the amount of motion alone does not tell the pace: a pace
#: predictor has to recognise the motion (its direction and kind, or its typical object) to know
#: its natural speed. Fast factors go to motions that cannot alias at pace 4 (translations,
#: orbit, oscillation; <= 4.5 px per sampled frame), spins and radial flows stay <= 1 (notes, rule 2).
#: (A ladder of 12 different speeds, 0.5-1.4, was tried too: 24 % instead of 36 % of the
#: random-to-supervised gap closed on the linear probe, one seed; experiments/proof/LOG.md.)
SPEED_LADDER: dict[str, float] = {
    "MoveRight": 1.0,
    "MoveLeft": 0.5,
    "MoveUp": 0.7,
    "MoveDown": 1.4,
    "OrbitClockwise": 1.4,
    "OrbitCounterClockwise": 0.7,
    "ZigZag": 1.0,
    "Oscillate": 1.4,
    "Expand": 1.0,
    "Contract": 0.5,
    "Spin": 0.7,
    "Static": 1.0,
}


CLASS_SPEEDS = ("uniform", "ladder")


#: ``class_set="kinds"``: classes that are kinds of motion, each in a random direction per video
#: (``Translate``: a straight line at a uniform random angle; ``Orbit`` and ``Spin`` either way;
#: ``Radial``: the texture flows out or in; ``ZigZag`` drifts left or right), as real action classes
#: are kinds of movement (a throw, a swing) rather than directions of one. A pace network cannot
#: tell directions apart (a pace is the same in every direction), but it must tell the kind of
#: motion to know the class's natural speed. Every direction is drawn after the draws all classes
#: share, so frame 0 is the same for every class (as for the directions).
KINDS: tuple[str, ...] = ("Translate", "Orbit", "ZigZag", "Oscillate", "Radial", "Spin", "Static")


#: ``class_speeds="ladder"`` with ``class_set="kinds"``: the same four steps, three pairs of kinds
#: 2x apart (translation / orbit, zig-zag / radial flow, oscillation / spin), spins and radial
#: flows <= 1 (notes, rule 2).
KIND_SPEED_LADDER: dict[str, float] = {
    "Translate": 1.4,
    "Orbit": 0.7,
    "ZigZag": 1.0,
    "Oscillate": 1.4,
    "Radial": 0.5,
    "Spin": 0.7,
    "Static": 1.0,
}


#: The class sets: their classes (label order) and ladders.
CLASS_SETS: dict[str, tuple[tuple[str, ...], dict[str, float]]] = {
    "directions": (CLASSES, SPEED_LADDER),
    "kinds": (KINDS, KIND_SPEED_LADDER),
}


#: Maximum relative per-video deviation from the typical speed.
SPEED_SPREAD = 0.10


#: Clips per group (UCF101 has 4-7); the last group of a split may be smaller.
CLIPS_PER_GROUP = 4


#: A split's id in a video's generator seed (:func:`video_rng`): parts never share a video.
_SPLIT_IDS = {"train": 0, "test": 1, "val": 2}


#: The parts in the order their groups are numbered (train g01.., then validation, then test).
PARTS = ("train", "val", "test")


#: ``clutter``: how busy the scene is. full: any of the four backgrounds and 0-3 distractors;
#: low: a solid or gradient background and 0-1 distractor; none: a solid background, no distractor.
CLUTTER_LEVELS = {"full": (("solid", "gradient", "noise", "stripes"), 3),
                  "low": (("solid", "gradient"), 1),
                  "none": (("solid",), 0)}


_MARKER = "synthetic.json"


_OWN_ENTRIES = {"UCF-101", "ucfTrainTestlist", _MARKER}


@dataclass(frozen=True)
class SyntheticConfig:
    """Parameters of the generated dataset (all of them are part of the cache key)."""

    num_train_per_class: int = 40
    num_test_per_class: int = 30
    num_frames: int = 96  # >= 64 so that a 17-frame clip at pace 4 (span 65) mostly fits
    size: int = 64  # square frames, even (H.264 / yuv420p)
    seed: int = 0
    fps: int = 25
    crf: int = 23  # libx264 constant rate factor
    keyint: int = 1  # GOP length; 1 = intra-only (no codec state shared between frames: notes, rule 4)
    # "uniform": every class at BASE_SPEED; "ladder": SPEED_LADDER (KIND_SPEED_LADDER for the kinds)
    class_speeds: str = "uniform"
    typical_object_percent: int = 0  # chance in % that a video's object is its class's typical one
    class_set: str = "directions"  # "directions": CLASSES (12); "kinds": KINDS (7 kinds, random directions)
    num_val_per_class: int = 0  # a validation part (vallist01.txt) between train and test; 0: none
    val_seed: int | None = None  # the validation part's generator seed; None: seed
    test_seed: int | None = None  # the test part's generator seed; None: seed
    clutter: str = "full"  # full | low | none: the scene's backgrounds and distractors (CLUTTER_LEVELS)
    motion_scale: float = 1.0  # every class's typical speed times this (1.0: BASE_SPEED and its ladder)
    object_scale: float = 1.0  # the moving object's radius times this (1.0: 0.14-0.20 of the frame)
    colour_levels: int = 0  # >= 2: every colour's channels take that many values (2: 8 colours); 0: any colour

    def __post_init__(self) -> None:
        if self.num_train_per_class < 1 or self.num_test_per_class < 0 or self.num_val_per_class < 0:
            raise ValueError("need num_train_per_class >= 1, num_test_per_class >= 0 and num_val_per_class >= 0")
        for name in ("val_seed", "test_seed"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0 or None, got {value}")
        if not 0 < self.motion_scale <= 2:
            raise ValueError(f"motion_scale must be in (0, 2], got {self.motion_scale}")
        if not 0 < self.object_scale <= 1.5:  # a larger object's window would wrap onto itself
            raise ValueError(f"object_scale must be in (0, 1.5], got {self.object_scale}")
        if self.colour_levels == 1 or not 0 <= self.colour_levels <= 256:
            raise ValueError(f"colour_levels must be 0 (any colour) or in [2, 256], got {self.colour_levels}")
        if self.clutter not in CLUTTER_LEVELS:
            raise ValueError(f"clutter must be one of {tuple(CLUTTER_LEVELS)}, got {self.clutter!r}")
        if self.num_frames < 2:
            raise ValueError(f"num_frames must be >= 2, got {self.num_frames}")
        if self.size < 16 or self.size % 2:
            raise ValueError(f"size must be an even number >= 16, got {self.size}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        if self.fps < 1:
            raise ValueError(f"fps must be >= 1, got {self.fps}")
        if not 0 <= self.crf <= 51:
            raise ValueError(f"crf must be in [0, 51], got {self.crf}")
        if self.keyint < 1:
            raise ValueError(f"keyint must be >= 1, got {self.keyint}")
        if self.class_speeds not in CLASS_SPEEDS:
            raise ValueError(f"class_speeds must be one of {CLASS_SPEEDS}, got {self.class_speeds!r}")
        if not 0 <= self.typical_object_percent <= 100:
            raise ValueError(f"typical_object_percent must be in [0, 100], got {self.typical_object_percent}")
        if self.class_set not in CLASS_SETS:
            raise ValueError(f"class_set must be one of {tuple(CLASS_SETS)}, got {self.class_set!r}")

    def part_seed(self, part: str) -> int:
        """The generator seed of ``part`` ('train', 'val' or 'test')."""
        own = {"train": self.seed, "val": self.val_seed, "test": self.test_seed}[part]
        return self.seed if own is None else own

    def part_size(self, part: str) -> int:
        """Videos per class of ``part``."""
        return {"train": self.num_train_per_class, "val": self.num_val_per_class,
                "test": self.num_test_per_class}[part]

    @property
    def classes(self) -> tuple[str, ...]:
        """The class names in label order."""
        return CLASS_SETS[self.class_set][0]

    def speed_factor(self, class_name: str) -> float:
        """The class's typical speed relative to BASE_SPEED (its ladder step times ``motion_scale``)."""
        return (CLASS_SETS[self.class_set][1][class_name] if self.class_speeds == "ladder" else 1.0) * self.motion_scale

    @classmethod
    def from_any(cls, config: "SyntheticConfig | Mapping | None") -> "SyntheticConfig":
        """Accept a config, a mapping (e.g. a Hydra/OmegaConf node) or None (defaults)."""
        if config is None:
            return cls()
        if isinstance(config, cls):
            return config
        if not isinstance(config, Mapping):
            try:  # OmegaConf DictConfig without importing omegaconf here
                config = dict(config.items())  # type: ignore[union-attr]
            except AttributeError as err:
                raise TypeError(f"cannot build a SyntheticConfig from {type(config).__name__}") from err
        known = {f.name for f in fields(cls)}
        unknown = set(config) - known
        if unknown:
            raise TypeError(f"unknown SyntheticConfig fields: {sorted(unknown)}")
        types = {f.name: f.type for f in fields(cls)}
        def convert(key, value):
            if value is None or types[key] == "str":
                return None if value is None else str(value)
            return float(value) if types[key] == "float" else int(value)

        return cls(**{k: convert(k, v) for k, v in config.items()})
