#!/usr/bin/env bash
# Can RGB input learn on the evidence benchmark with a larger budget or an easier benchmark?
# Validation part only (rgb_sanity.py's probes; each run is added to design/rgb_sanity/probes.json
# and rendered in docs/evidence.md by `make results`). About 30 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
probe() { python experiments/proof/rgb_sanity.py "$@"; }
# the paper setting's pretext task, 40 epochs (5x the protocol's 8)
probe --probes pace_rgb --variants full --epochs 40 --set data.batch_transform.jitter.mode=per_frame data.boundary=loop
# no colour jitter and AdamW: RGB against the clip-centred frames (the static scene removed)
probe --probes pace_rgb pace_rgb_centred --variants full --epochs 20 --set data.batch_transform.jitter.mode=none optim=adamw
# larger, faster objects on a plain background
probe --probes pace_rgb --variants big_motion_clean --epochs 20 --set data.batch_transform.jitter.mode=none optim=adamw
# the appearance task with 8 colours (no per-video colour to memorise), and with 4x the videos per class
probe --probes supervised_rgb --variants big_appearance_8colours --epochs 30 --set optim=adamw
probe --probes supervised_rgb --variants big_appearance --epochs 30 --set optim=adamw data.source.num_train_per_class=320
# the protocol's own settings, 100 epochs (12.5x)
probe --probes pace_rgb --variants full --epochs 100
