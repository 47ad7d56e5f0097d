"""Checkpoint import: pacepred, the official pace code (nn.DataParallel, its layer names) and the
VCOP family (base_network.), strict keys with readable errors, weights_only loading, latest run.

The official formats are built here by small replicas of the official model files (same module
names, same registration order, e.g. the residual block's shortcut registered before conv1),
trained for nothing but with random BatchNorm statistics, so the test checks that the imported
backbone computes exactly what the official network computes.
"""

import math
import os
import pickle
import time

import pytest
import torch
from torch import nn

from pacepred.evaluation.checkpoints import (
    CheckpointMismatchError, file_sha256, find_latest_checkpoint, load_backbone_checkpoint, checkpoint_to_evaluate,
    run_config_path,
)
from pacepred.models.c3d import C3D
from pacepred.models.r21d import R2Plus1D
from pacepred.models.r3d import R3D


# ---- replicas of the official pace-prediction model files (laura-wang/video-pace, models/) ----

class OfficialR3DConv(nn.Module):
    def __init__(self, cin, cout, kernel, stride=1, padding=0):
        super().__init__()
        self.temporal_spatial_conv = nn.Conv3d(cin, cout, kernel, stride=stride, padding=padding, bias=False)

    def forward(self, x):
        return self.temporal_spatial_conv(x)


class OfficialR21DConv(nn.Module):
    def __init__(self, cin, cout, kernel, stride=1, padding=0):
        super().__init__()
        k = kernel if isinstance(kernel, (tuple, list)) else (kernel,) * 3
        s = stride if isinstance(stride, (tuple, list)) else (stride,) * 3
        p = padding if isinstance(padding, (tuple, list)) else (padding,) * 3
        mid = int(math.floor((k[0] * k[1] * k[2] * cin * cout) / (k[1] * k[2] * cin + k[0] * cout)))
        self.spatial_conv = nn.Conv3d(cin, mid, (1, k[1], k[2]), stride=(1, s[1], s[2]), padding=(0, p[1], p[2]), bias=False)
        self.bn = nn.BatchNorm3d(mid)
        self.relu = nn.ReLU()
        self.temporal_conv = nn.Conv3d(mid, cout, (k[0], 1, 1), stride=(s[0], 1, 1), padding=(p[0], 0, 0), bias=False)

    def forward(self, x):
        return self.temporal_conv(self.relu(self.bn(self.spatial_conv(x))))


class OfficialResBlock(nn.Module):
    def __init__(self, conv, cin, cout, kernel_size, downsample=False):
        super().__init__()
        self.downsample = downsample
        padding = kernel_size // 2
        if downsample:
            self.downsampleconv = conv(cin, cout, 1, stride=2)
            self.downsamplebn = nn.BatchNorm3d(cout)
            self.conv1 = conv(cin, cout, kernel_size, padding=padding, stride=2)
        else:
            self.conv1 = conv(cin, cout, kernel_size, padding=padding)
        self.bn1 = nn.BatchNorm3d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = conv(cout, cout, kernel_size, padding=padding)
        self.bn2 = nn.BatchNorm3d(cout)
        self.outrelu = nn.ReLU()

    def forward(self, x):
        res = self.relu1(self.bn1(self.conv1(x)))
        res = self.bn2(self.conv2(res))
        if self.downsample:
            x = self.downsamplebn(self.downsampleconv(x))
        return self.outrelu(x + res)


class OfficialResLayer(nn.Module):
    def __init__(self, conv, cin, cout, kernel_size, layer_size, downsample=False):
        super().__init__()
        self.block1 = OfficialResBlock(conv, cin, cout, kernel_size, downsample)
        self.blocks = nn.ModuleList([OfficialResBlock(conv, cout, cout, kernel_size) for _ in range(layer_size - 1)])

    def forward(self, x):
        x = self.block1(x)
        for block in self.blocks:
            x = block(x)
        return x


class OfficialResNet(nn.Module):
    """R3DNet / R2Plus1DNet of the official code at width ``w`` (64 there)."""

    def __init__(self, conv, layer_sizes=(1, 1, 1, 1), w=64, num_classes=4):
        super().__init__()
        self.conv1 = conv(3, w, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3))
        self.bn1 = nn.BatchNorm3d(w)
        self.relu1 = nn.ReLU()
        self.conv2 = OfficialResLayer(conv, w, w, 3, layer_sizes[0])
        self.conv3 = OfficialResLayer(conv, w, 2 * w, 3, layer_sizes[1], downsample=True)
        self.conv4 = OfficialResLayer(conv, 2 * w, 4 * w, 3, layer_sizes[2], downsample=True)
        self.conv5 = OfficialResLayer(conv, 4 * w, 8 * w, 3, layer_sizes[3], downsample=True)
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.linear = nn.Linear(8 * w, num_classes)

    def features(self, x):
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.conv5(self.conv4(self.conv3(self.conv2(x))))
        return self.pool(x).flatten(1)


class OfficialC3D(nn.Module):
    """C3D of the official code (convs with bias, BN) at width ``w``."""

    def __init__(self, w=64, num_classes=4):
        super().__init__()
        channels = {"1": (3, w), "2": (w, 2 * w), "3a": (2 * w, 4 * w), "3b": (4 * w, 4 * w), "4a": (4 * w, 8 * w),
                    "4b": (8 * w, 8 * w), "5a": (8 * w, 8 * w), "5b": (8 * w, 8 * w)}
        for name, (cin, cout) in channels.items():
            setattr(self, f"conv{name}", nn.Conv3d(cin, cout, 3, padding=1))
            setattr(self, f"bn{name}", nn.BatchNorm3d(cout))
        self.pools = {"1": nn.MaxPool3d((1, 2, 2), (1, 2, 2)), "2": nn.MaxPool3d(2, 2), "3b": nn.MaxPool3d(2, 2),
                      "4b": nn.MaxPool3d(2, 2)}
        self.pool5 = nn.AdaptiveAvgPool3d(1)
        self.linear = nn.Linear(8 * w, num_classes)
        self.names = list(channels)

    def features(self, x):
        for name in self.names:
            x = torch.relu(getattr(self, f"bn{name}")(getattr(self, f"conv{name}")(x)))
            if name in self.pools:
                x = self.pools[name](x)
        return self.pool5(x).flatten(1)


def randomise(model: nn.Module) -> nn.Module:
    """Random weights, biases and BatchNorm statistics (so any swapped tensor shows), eval mode."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point():
                values = torch.rand(tensor.shape, generator=generator) * 0.5 + 0.5 if "running_var" in name \
                    else torch.randn(tensor.shape, generator=generator) * 0.2
                tensor.copy_(values)
    return model.eval()


def save_official(model: nn.Module, path) -> None:
    """The official train.py: nn.DataParallel keys and {'epoch', 'state_dict', 'opt_dict'}."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.linear(torch.zeros(1, model.linear.in_features)).sum().backward()
    optimizer.step()
    state = {f"module.{k}": v for k, v in model.state_dict().items()}
    torch.save({"epoch": 3, "state_dict": state, "opt_dict": optimizer.state_dict()}, path)


CASES = {
    "r3d": (lambda: OfficialResNet(OfficialR3DConv, (1, 1, 1, 1), w=8), lambda: R3D((1, 1, 1, 1), base_width=8)),
    "r3d_2111": (lambda: OfficialResNet(OfficialR3DConv, (2, 1, 1, 1), w=8), lambda: R3D((2, 1, 1, 1), base_width=8)),
    "r21d": (lambda: OfficialResNet(OfficialR21DConv, (1, 1, 1, 1), w=8), lambda: R2Plus1D((1, 1, 1, 1), base_width=8)),
    "c3d": (lambda: OfficialC3D(w=8), lambda: C3D(base_width=8)),
}
CLIP = torch.randn(2, 3, 8, 32, 32, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("name", sorted(CASES))
def test_official_pace_checkpoint_imports_and_computes_the_same_features(name, tmp_path):
    official_factory, ours_factory = CASES[name]
    official = randomise(official_factory())
    path = tmp_path / "epoch-03.pth.tar"
    save_official(official, path)
    ours = ours_factory()
    ignored = load_backbone_checkpoint(ours, path)
    assert ignored == ["linear.bias", "linear.weight"]
    with torch.no_grad():
        assert torch.allclose(ours.eval()(CLIP), official.features(CLIP), atol=1e-5)


def test_vcop_base_network_checkpoint_imports(tmp_path):
    official = randomise(OfficialResNet(OfficialR3DConv, w=8))
    state = {f"base_network.{k}": v for k, v in official.state_dict().items() if not k.startswith("linear")}
    state.update({"fc7.weight": torch.zeros(16, 128), "fc7.bias": torch.zeros(16), "fc8.weight": torch.zeros(6, 48)})
    torch.save(state, tmp_path / "vcop.pt")
    ours = R3D(base_width=8)
    assert load_backbone_checkpoint(ours, tmp_path / "vcop.pt") == ["fc7.bias", "fc7.weight", "fc8.weight"]
    with torch.no_grad():
        assert torch.allclose(ours.eval()(CLIP), official.features(CLIP), atol=1e-5)


def test_bgr_channels_reverse_the_first_conv(tmp_path):
    official = randomise(OfficialResNet(OfficialR3DConv, w=8))
    save_official(official, tmp_path / "official.pth.tar")
    ours = R3D(base_width=8)
    load_backbone_checkpoint(ours, tmp_path / "official.pth.tar", channels="bgr")
    with torch.no_grad():  # RGB into ours == BGR into the official network
        assert torch.allclose(ours.eval()(CLIP), official.features(CLIP.flip(1)), atol=1e-5)


def test_pacepred_lightning_checkpoint_loads_backbone_and_ignores_heads(tmp_path):
    source = randomise(R3D(base_width=8))
    state = {f"backbone.{k}": v for k, v in source.state_dict().items()}
    state.update({"pace_head.fc.weight": torch.zeros(4, 64), "pace_head.fc.bias": torch.zeros(4)})
    torch.save({"epoch": 1, "state_dict": state, "hyper_parameters": {"paces": ["1", "2"]}}, tmp_path / "last.ckpt")
    ours = R3D(base_width=8)
    assert load_backbone_checkpoint(ours, tmp_path / "last.ckpt") == ["pace_head.fc.bias", "pace_head.fc.weight"]
    assert all(torch.equal(a, b) for a, b in zip(ours.state_dict().values(), source.state_dict().values()))


def test_mismatch_lists_missing_unexpected_and_mis_shaped_keys(tmp_path):
    torch.save({"state_dict": {f"backbone.{k}": v for k, v in R3D(base_width=8).state_dict().items()}},
               tmp_path / "w8.ckpt")
    with pytest.raises(CheckpointMismatchError) as wider:
        load_backbone_checkpoint(R3D(base_width=16), tmp_path / "w8.ckpt")
    message = str(wider.value)
    assert "shape mismatches" in message and "stem.0.weight: checkpoint (8, 3, 3, 7, 7) vs backbone (16, 3, 3, 7, 7)" in message
    assert "w8.ckpt" in message
    with pytest.raises(CheckpointMismatchError) as other:
        load_backbone_checkpoint(C3D(base_width=8), tmp_path / "w8.ckpt")
    message = str(other.value)
    assert "missing in the checkpoint" in message and "features.0.0.weight" in message
    assert "unexpected in the checkpoint" in message and "stages.0.0.conv1.weight" in message


class NotATensor:
    pass


def test_checkpoints_load_with_weights_only(tmp_path):
    torch.save({"state_dict": {"backbone.x": torch.zeros(1)}, "payload": NotATensor()}, tmp_path / "unsafe.ckpt")
    with pytest.raises(ValueError, match="holding objects other than tensors and plain containers") as caught:
        load_backbone_checkpoint(R3D(base_width=8), tmp_path / "unsafe.ckpt")
    assert isinstance(caught.value.__cause__, pickle.UnpicklingError)  # refused by weights_only, never unpickled


def test_latest_checkpoint_is_the_newest_run_and_a_missing_one_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m pacepred.train"):
        find_latest_checkpoint(tmp_path)
    old = tmp_path / "train" / "runs" / "2026-01-01_00-00-00" / "checkpoints" / "last.ckpt"
    new = tmp_path / "train" / "multiruns" / "2026-01-02_00-00-00" / "1" / "checkpoints" / "last.ckpt"
    for path in (old, new):
        path.parent.mkdir(parents=True)
        path.write_bytes(path.parent.parent.name.encode())
    os.utime(old, (time.time() - 100, time.time() - 100))
    assert find_latest_checkpoint(tmp_path) == new
    assert checkpoint_to_evaluate("latest", tmp_path) == new
    assert checkpoint_to_evaluate(None, tmp_path) is None
    with pytest.raises(FileNotFoundError, match="nope.ckpt"):
        checkpoint_to_evaluate(str(tmp_path / "nope.ckpt"), tmp_path)
    (old.parent.parent / "config.yaml").write_text("input: rgb\n")
    assert run_config_path(old) == old.parent.parent / "config.yaml" and run_config_path(new) is None
    assert file_sha256(old) != file_sha256(new)


def test_a_file_that_is_not_a_checkpoint_is_named(tmp_path):
    from pacepred.models.r3d import R3D
    from pacepred.resume import check_resume

    text = tmp_path / "notes.ckpt"
    text.write_text("not a checkpoint\n")
    with pytest.raises(ValueError, match=r"notes.ckpt: torch.load\(weights_only=True\) cannot read it: not a PyTorch checkpoint"):
        load_backbone_checkpoint(R3D(base_width=4), text)
    with pytest.raises(ValueError, match=r"notes.ckpt is not a PyTorch checkpoint \(torch.load: invalid load key"):
        check_resume(None, str(text))  # a training resumed from it
