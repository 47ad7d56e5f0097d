"""Shape, parameter-count and gradient checks for the backbones and heads."""
import pytest
import torch
from torch import nn

from pacepred.models.c3d import C3D
from pacepred.models.heads import PaceHead, ProjectionHead
from pacepred.models.r21d import R2Plus1D
from pacepred.models.r3d import R3D
from pacepred.models.s3d_g import S3DG

# Narrow variants for fast CPU forward passes: (factory, input shape C, T, H, W).
NARROW = {
    "c3d": (lambda: C3D(base_width=8), (3, 8, 32, 32)),
    "r3d": (lambda: R3D(base_width=8), (3, 16, 56, 56)),
    "r21d": (lambda: R2Plus1D(base_width=8), (3, 8, 32, 32)),
    "s3dg": (lambda: S3DG(width_mult=0.25), (3, 16, 56, 56)),
}

# Paper-width models and the parameter counts of the official code (backbone + Linear(out_dim, 4)), rel. tolerance.
PARAM_TARGETS = {
    "c3d": (C3D, 27.7e6, 0.02),
    "r3d": (R3D, 14.4e6, 0.02),
    "r21d": (R2Plus1D, 14.4e6, 0.02),
    "r3d18": (lambda: R3D(layers=(2, 2, 2, 2)), 33.2e6, 0.02),
    "r21d18": (lambda: R2Plus1D(layers=(2, 2, 2, 2)), 33.2e6, 0.02),
    "s3dg": (S3DG, 9.1e6, 0.05),
}


def num_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("name", NARROW)
def test_forward_shapes(name):
    factory, shape = NARROW[name]
    model = factory().eval()
    x = torch.randn(2, *shape)
    with torch.no_grad():
        feats = model.forward_features(x)
        pooled = model(x)
    assert feats.dim() == 5
    assert feats.shape[:2] == (2, model.out_dim)
    assert min(feats.shape[2:]) >= 1
    assert pooled.shape == (2, model.out_dim)
    assert torch.isfinite(pooled).all()


@pytest.mark.parametrize("name", PARAM_TARGETS)
def test_param_counts(name):
    factory, target, rel = PARAM_TARGETS[name]
    model = factory()
    count = num_params(model) + num_params(nn.Linear(model.out_dim, 4))
    assert count == pytest.approx(target, rel=rel)


@pytest.mark.parametrize("stem, count", [("full", 9_129_172), ("separable", 9_139_156)])
def test_s3dg_stems_parameter_counts(stem, count):
    """The official pace code's S3D-G (``S3D(space_to_depth=False)``, fc to 4 paces) starts with a
    full 3x7x7 stride-2 conv: 9,129,172 parameters; the separable 7x7x7 stem has 9,984 more."""
    model = S3DG(stem=stem)
    assert num_params(model) + num_params(nn.Linear(model.out_dim, 4)) == count


def test_s3dg_stem_default_is_the_official_full_conv_and_both_keep_the_map_size():
    stem = S3DG(width_mult=0.25).features[0]
    assert isinstance(stem[0], nn.Conv3d) and stem[0].kernel_size == (3, 7, 7) and stem[0].stride == (2, 2, 2)
    x = torch.randn(1, 3, 16, 56, 56)
    with torch.no_grad():
        maps = [S3DG(width_mult=0.25, stem=s).eval().forward_features(x).shape for s in ("full", "separable")]
    assert maps[0] == maps[1] == (1, 256, 2, 2, 2)
    with pytest.raises(ValueError, match=r"backbone.stem='sep': expected one of \('full', 'separable'\)"):
        S3DG(stem="sep")


@pytest.mark.parametrize("factory, out_dim", [(C3D, 512), (R3D, 512), (R2Plus1D, 512), (S3DG, 1024)])
def test_paper_out_dim(factory, out_dim):
    assert factory().out_dim == out_dim


def test_r3d_retrieval_feature_map():
    model = R3D().eval()
    with torch.no_grad():
        feats = model.forward_features(torch.randn(1, 3, 16, 112, 112))
    assert feats.shape == (1, 512, 2, 7, 7)
    pooled = nn.functional.max_pool3d(feats, (1, 2, 2)).flatten(1)
    assert pooled.shape == (1, 9216)


def test_base_width_scales_r3d():
    model = R3D(base_width=16).eval()
    assert model.out_dim == 128
    with torch.no_grad():
        out = model(torch.randn(2, 3, 8, 32, 32))
    assert out.shape == (2, 128)


def test_heads_shapes():
    x = torch.randn(4, 32)
    assert PaceHead(32, 4)(x).shape == (4, 4)
    assert PaceHead(32, 5, dropout=0.5).train()(x).shape == (4, 5)
    assert ProjectionHead(32, 64, 16)(x).shape == (4, 16)


def test_pace_head_is_linear_by_default_and_an_mlp_with_hidden():
    linear, mlp = PaceHead(32, 4), PaceHead(32, 4, dropout=0.5, hidden=64)
    assert list(linear.state_dict()) == ["fc.weight", "fc.bias"]  # checkpoints of the linear head still load
    assert [tuple(p.shape) for p in linear.parameters()] == [(4, 32), (4,)]
    assert mlp.fc.in_features == 64 and mlp.hidden[0].in_features == 32
    assert mlp.train()(torch.randn(4, 32)).shape == (4, 4)
    with pytest.raises(ValueError, match="hidden=0"):
        PaceHead(32, 4, hidden=0)


def test_backward_finite_gradients():
    model = R2Plus1D(base_width=4)
    head = PaceHead(model.out_dim, 4)
    logits = head(model(torch.randn(2, 3, 8, 32, 32)))
    nn.functional.cross_entropy(logits, torch.tensor([0, 3])).backward()
    grads = [p.grad for p in list(model.parameters()) + list(head.parameters())]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)
