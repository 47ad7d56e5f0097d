"""Speed/memory switches change nothing numerically: activation checkpointing, channels-last."""

import copy
from fractions import Fraction

import pytest
import torch
from torch import nn

from pacepred.models.c3d import C3D
from pacepred.models.checkpointing import checkpoint_blocks, heavy_blocks
from pacepred.models.r21d import R2Plus1D
from pacepred.models.s3d_g import S3DG


def _grads(model: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    model.zero_grad()
    model(x).square().sum().backward()
    return [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("make", [lambda: R2Plus1D(base_width=4), lambda: C3D(base_width=4), lambda: S3DG(width_mult=0.0625)])
def test_activation_checkpointing_keeps_gradients_and_names(make):
    torch.manual_seed(0)
    reference = make().eval()  # eval: BN uses running stats, so recomputation is exact
    checkpointed = copy.deepcopy(reference)
    checkpoint_blocks(heavy_blocks(checkpointed))
    x = torch.randn(2, 3, 8, 32, 32, requires_grad=True)
    assert list(reference.state_dict()) == list(checkpointed.state_dict())
    for a, b in zip(_grads(reference, x), _grads(checkpointed, x)):
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("make", [lambda: R2Plus1D(base_width=4), lambda: S3DG(width_mult=0.0625)])
def test_activation_checkpointing_in_training_keeps_norm_statistics(make):
    """In train mode the recomputation does not update BatchNorm's running statistics a second
    time, and the first layer (whose input needs no gradient) is checkpointed too."""
    torch.manual_seed(0)
    reference = make().train()
    checkpointed = copy.deepcopy(reference)
    checkpoint_blocks(heavy_blocks(checkpointed))
    x = torch.randn(2, 3, 8, 32, 32)
    for a, b in zip(_grads(reference, x), _grads(checkpointed, x)):
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-4)
    for (name, a), b in zip(reference.state_dict().items(), checkpointed.state_dict().values()):
        assert torch.equal(a, b) if a.dtype == torch.long else torch.allclose(a, b, atol=1e-6), name
    inputs = []  # the first block's input in a forward pass
    hook = heavy_blocks(reference)[0].register_forward_pre_hook(lambda block, args: inputs.append(args[0]))
    reference(x)
    hook.remove()
    stored = {}
    for name, model in (("reference", reference), ("checkpointed", checkpointed)):
        saved = []
        with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
            heavy_blocks(model)[0](inputs[0])
        stored[name] = len(saved)
    assert stored["checkpointed"] == 1 < stored["reference"]  # only the input: the activations are recomputed


def test_channels_last_3d_same_output():
    torch.manual_seed(0)
    model = R2Plus1D(base_width=4).eval()
    x = torch.randn(2, 3, 8, 32, 32)
    expected = model(x)
    model.to(memory_format=torch.channels_last_3d)
    assert torch.allclose(model(x.contiguous(memory_format=torch.channels_last_3d)), expected, atol=1e-5)


def test_module_switches_construct(make_cfg):
    from hydra.utils import instantiate

    cfg = make_cfg(["model.acceleration.activation_checkpointing=true", "model.acceleration.channels_last=true", "backbone=r3d_w16"])
    module = instantiate(cfg.model, backbone=instantiate(cfg.backbone), paces=[Fraction(1), Fraction(2)],
                         optimizer=instantiate(cfg.optim))
    module.channels_last = True
    module.backbone.to(memory_format=torch.channels_last_3d)
    logits = module(torch.randn(2, 3, 8, 32, 32))
    assert logits.shape == (2, 2)
