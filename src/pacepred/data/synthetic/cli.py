"""Command line of the generator: ``python -m pacepred.data.synthetic --root DIR ...``."""

from __future__ import annotations

import argparse
import json
import time

from pacepred.data.synthetic.config import CLASS_SETS, CLASS_SPEEDS, CLUTTER_LEVELS, PARTS, SyntheticConfig
from pacepred.data.synthetic.generate import _generate
from pacepred.data.video_index import disk_size


def main(argv: list[str] | None = None) -> int:
    defaults = SyntheticConfig()
    p = argparse.ArgumentParser(prog="python -m pacepred.data.synthetic", description=__doc__.splitlines()[0])
    p.add_argument("--root", required=True, help="output folder (UCF101 layout)")
    p.add_argument("--train-per-class", type=int, default=defaults.num_train_per_class)
    p.add_argument("--test-per-class", type=int, default=defaults.num_test_per_class)
    p.add_argument("--size", type=int, default=defaults.size)
    p.add_argument("--frames", type=int, default=defaults.num_frames)
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--fps", type=int, default=defaults.fps)
    p.add_argument("--crf", type=int, default=defaults.crf)
    p.add_argument("--keyint", type=int, default=defaults.keyint, help="GOP length; 1 = intra-only")
    p.add_argument("--class-speeds", choices=CLASS_SPEEDS, default=defaults.class_speeds,
                   help="uniform: every class at the same typical speed; ladder: per-class speeds")
    p.add_argument("--typical-object-percent", type=int, default=defaults.typical_object_percent,
                   help="%% of a class's videos whose object has the class's typical shape and texture")
    p.add_argument("--class-set", choices=tuple(CLASS_SETS), default=defaults.class_set,
                   help="directions: 12 motions, directions apart; kinds: 7 kinds of motion, random directions")
    p.add_argument("--val-per-class", type=int, default=defaults.num_val_per_class,
                   help="videos per class of a validation part (vallist01.txt); 0: none")
    p.add_argument("--val-seed", type=int, default=None, help="the validation part's seed (default: --seed)")
    p.add_argument("--test-seed", type=int, default=None, help="the test part's seed (default: --seed)")
    p.add_argument("--clutter", choices=tuple(CLUTTER_LEVELS), default=defaults.clutter,
                   help="full: four kinds of background, 0-3 distractors; low: solid or gradient, 0-1; none: solid, 0")
    p.add_argument("--config", default=None, help="every SyntheticConfig field as a JSON object (replaces the options)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--overwrite", action="store_true", help="regenerate even if a matching dataset exists")
    a = p.parse_args(argv)
    if a.config is not None:
        config = SyntheticConfig.from_any(json.loads(a.config))
    else:
        config = SyntheticConfig(
            num_train_per_class=a.train_per_class, num_test_per_class=a.test_per_class, num_frames=a.frames,
            size=a.size, seed=a.seed, fps=a.fps, crf=a.crf, keyint=a.keyint, class_speeds=a.class_speeds,
            typical_object_percent=a.typical_object_percent, class_set=a.class_set,
            num_val_per_class=a.val_per_class, val_seed=a.val_seed, test_seed=a.test_seed, clutter=a.clutter,
        )
    start = time.perf_counter()
    root, cached, meta = _generate(a.root, config, a.workers, a.overwrite)
    elapsed = time.perf_counter() - start
    n = meta.get("num_videos", {})
    total = disk_size(root)
    state = "reused existing (parameters match)" if cached else "wrote"
    print(
        f"{state} {root}: {len(config.classes)} classes, "
        + " + ".join(f"{n.get(part)} {part}" for part in PARTS if n.get(part))
        + f" videos ({config.num_frames} frames, {config.size}x{config.size}, seeds "
        + "/".join(str(config.part_seed(part)) for part in PARTS) + "), "
        + f"{total / 2**20:.1f} MiB on disk, {elapsed:.1f} s"
        + ("" if cached else f" with {a.workers} worker(s)")
    )
    return 0
