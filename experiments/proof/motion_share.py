"""How much of an RGB clip is motion? The share of a clip's pixel variance that changes over time.

    python experiments/proof/motion_share.py [--out experiments/proof/design/rgb_sanity]

For benchmark variants (scene clutter, object size, speed) it renders videos of every class with
the generator (no encoding), takes 16-frame clips at paces 1 and 4, and reports the share of the
clip's variance that is temporal (each pixel's deviation from its own mean over the clip) against
the whole (deviation from the clip's mean). A network fed RGB frames must find the pace in that
share; fed frame differences (``input=residual``) it sees nothing else. Writes ``motion_share.md``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np

from pacepred.data.synthetic import KIND_SPEED_LADDER, KINDS, render_video, video_rng

REPO = Path(__file__).resolve().parents[2]
#: (clutter, motion_scale, object_scale)
VARIANTS = [("full", 1.0, 1.0), ("none", 1.0, 1.0), ("full", 1.5, 1.5), ("low", 1.5, 1.5), ("none", 1.5, 1.5)]


def temporal_share(clip: np.ndarray) -> tuple[float, float]:
    """(temporal variance, total variance) of a float clip (T, H, W, 3)."""
    return float(((clip - clip.mean(0)) ** 2).mean()), float(((clip - clip.mean()) ** 2).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=40)
    parser.add_argument("--videos", type=int, default=6, help="videos per class")
    parser.add_argument("--out", default=str(REPO / "experiments" / "proof" / "design" / "rgb_sanity"))
    args = parser.parse_args()
    lines = [f"Command: `{shlex.join(['python', 'experiments/proof/motion_share.py', *sys.argv[1:]])}`. "
             f"{args.videos} videos per class of the 7 kinds ({args.size}x{args.size}, 75% typical objects, the "
             "kinds' speed ladder), 16-frame clips from frame 0. Temporal share = mean squared deviation of each "
             "pixel from its own mean over the clip / mean squared deviation from the clip's mean.\n",
             "| clutter | motion scale | object scale | share at pace 1 | share at pace 4 |", "|---|---|---|---|---|"]
    for clutter, motion, size in VARIANTS:
        shares = []
        for pace in (1, 4):
            temporal, total = [], []
            for ci, kind in enumerate(KINDS):
                for i in range(args.videos):
                    video = render_video(kind, video_rng(1, "train", ci, i), 16 * 4, args.size,
                                         KIND_SPEED_LADDER[kind] * motion, 75, "kinds", clutter, size)
                    t, a = temporal_share(video[np.arange(16) * pace].astype(np.float32) / 255)
                    temporal.append(t)
                    total.append(a)
            shares.append(np.mean(temporal) / np.mean(total))
        lines.append(f"| {clutter} | {motion:g} | {size:g} | {100 * shares[0]:.1f}% | {100 * shares[1]:.1f}% |")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "motion_share.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
