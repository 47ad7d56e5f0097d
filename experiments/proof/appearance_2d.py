"""Is the benchmark's appearance cue learnable at all? A small 2D CNN on single frames.

    python experiments/proof/appearance_2d.py        # about 4 minutes on 2 cores

The RGB probes (rgb_sanity.py) found that a supervised R3D with RGB input stays at chance on the
``appearance`` variant (every object its class's typical shape and texture, plain background),
where the shape alone names the class. This separates the benchmark from the framework: a plain
2D CNN (3 conv-BN-ReLU blocks, global pooling), outside pacepred's training path, on the centre
32x32 crop of one frame per video (train part seed 10, 80 videos per class; validation part seed
11, 40 per class), trained with SGD as the benchmark's runs and with Adam. If it cannot
generalise either, the cue is too weak for a network learnt from this many videos, whatever the
input path. Writes ``design/rgb_sanity/appearance_2d.json``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pacepred.data.synthetic import SyntheticConfig, render_video, video_rng

OUT = Path(__file__).resolve().parent / "design" / "rgb_sanity" / "appearance_2d.json"
CONFIG = SyntheticConfig(class_set="kinds", class_speeds="ladder", typical_object_percent=100, clutter="none", size=40)
#: (name, optimiser, learning rate, steps of 16 frames)
RUNS = [("sgd_lr0.05", "sgd", 0.05, 600), ("adam_lr0.001", "adam", 0.001, 3000)]


def frames(split: str, seed: int, per_class: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 3, 32, 32) standardised first frames (centre crop) and (N,) class labels."""
    images, labels = [], []
    for ci, name in enumerate(CONFIG.classes):
        for i in range(per_class):
            video = render_video(name, video_rng(seed, split, ci, i), 4, 40, CONFIG.speed_factor(name), 100,
                                 "kinds", "none", 1.0)
            images.append(video[0, 4:36, 4:36])
            labels.append(ci)
    x = torch.tensor(np.stack(images)).permute(0, 3, 1, 2).float() / 255
    return (x - x.mean((0, 2, 3), keepdim=True)) / x.std((0, 2, 3), keepdim=True), torch.tensor(labels)


def small_cnn(num_classes: int) -> nn.Module:
    blocks, width = [], 3
    for out in (16, 32, 64):
        blocks += [nn.Conv2d(width, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(), nn.MaxPool2d(2)]
        width = out
    return nn.Sequential(*blocks[:-1], nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes))


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        value = (model(x).argmax(1) == y).float().mean().item()
    model.train()
    return value


def main() -> None:
    torch.manual_seed(0)
    train_x, train_y = frames("train", 10, 80)
    val_x, val_y = frames("val", 11, 40)
    results = {"command": "python experiments/proof/appearance_2d.py", "chance": 1 / len(CONFIG.classes), "runs": {}}
    for name, optimiser, lr, steps in RUNS:
        model = small_cnn(len(CONFIG.classes))
        opt = (torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-3) if optimiser == "sgd"
               else torch.optim.Adam(model.parameters(), lr=lr))
        curve, start = [], time.perf_counter()
        for step in range(1, steps + 1):
            idx = torch.randint(0, len(train_x), (16,))
            loss = nn.functional.cross_entropy(model(train_x[idx]), train_y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % (steps // 6) == 0:
                curve.append({"step": step, "train_acc": accuracy(model, train_x, train_y),
                              "val_acc": accuracy(model, val_x, val_y)})
                print(name, curve[-1], flush=True)
        results["runs"][name] = {"optimiser": optimiser, "lr": lr, "steps": steps, "batch": 16, "curve": curve,
                                 "seconds": time.perf_counter() - start}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
