"""The lazy modules against PyTorch's: shapes inferred at the first forward, the module becoming
its ordinary class (cls_to_become), state dicts before initialization (placeholders), loading a
checkpoint into an uninitialized module, outputs and gradients equal to torch's once the
weights are copied in, dtype changes before materialization, UninitializedParameter itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn as nn

CASES = [
    ("LazyLinear", (3,), {}, (2, 5), "Linear"),
    ("LazyLinear", (4,), {"bias": False}, (2, 3, 6), "Linear"),
    ("LazyConv1d", (4, 3), {"stride": 2, "groups": 2}, (2, 6, 9), "Conv1d"),
    ("LazyConv2d", (3, 2), {"padding": 1, "bias": False}, (2, 2, 5, 4), "Conv2d"),
    ("LazyConvTranspose1d", (4, 3), {"stride": 2}, (2, 3, 5), "ConvTranspose1d"),
    ("LazyConvTranspose2d", (2, 2), {"output_padding": 1, "stride": 2}, (1, 3, 3, 4),
     "ConvTranspose2d"),
    ("LazyConv3d", (2, 2), {"stride": (1, 2, 1)}, (2, 3, 3, 4, 3), "Conv3d"),
    ("LazyConvTranspose3d", (2, 2), {"groups": 2}, (1, 4, 2, 3, 2), "ConvTranspose3d"),
    ("LazyBatchNorm1d", (), {"momentum": 0.3}, (4, 3, 5), "BatchNorm1d"),
    ("LazyBatchNorm3d", (), {"momentum": None}, (2, 3, 2, 3, 2), "BatchNorm3d"),
    ("LazyBatchNorm2d", (), {"affine": False}, (3, 2, 3, 3), "BatchNorm2d"),
    ("LazyInstanceNorm1d", (), {}, (2, 3, 6), "InstanceNorm1d"),
    ("LazyInstanceNorm2d", (), {"track_running_stats": False}, (2, 3, 4, 4), "InstanceNorm2d"),
    ("LazyInstanceNorm3d", (), {"bias": False}, (2, 2, 3, 3, 2), "InstanceNorm3d"),
]


def _pair(name, args, kw):
    ours, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    return ours, theirs


@pytest.mark.parametrize(("name", "args", "kw", "shape", "becomes"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_lazy_module_matches_torch(name, args, kw, shape, becomes):
    ours, theirs = _pair(name, args, kw)
    assert repr(ours).split("(")[0] == repr(theirs).split("(")[0] == name
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd)
    for k in sd:  # the placeholders themselves, as torch's
        assert repr(sd[k]).replace("array(0)", "tensor(0)") == repr(tsd[k])
    assert ours.has_uninitialized_params()
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    ours.double()
    theirs.double()
    xo, xt = nl.tensor(x, dtype=nl.float64, requires_grad=True), torch.tensor(x, requires_grad=True)
    yt = theirs(xt)
    ours(xo)  # the dry run: materializes
    assert type(ours) is getattr(nn, becomes) and type(theirs) is getattr(torch.nn, becomes)
    assert not hasattr(ours, "_initialize_hook")
    assert ours._forward_pre_hooks == []
    for (n, p), (tn, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert n == tn and p.shape == tuple(tp.shape) and type(p) is nn.Parameter
        assert p.dtype == np.float64
    for (n, b), (tn, tb) in zip(ours.named_buffers(), theirs.named_buffers()):
        assert n == tn and b.shape == tuple(tb.shape) and type(b) is nl.Tensor
    # copy torch's weights (and running statistics) in, then a second call must agree
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.tensor(rng.uniform(0.5, 1.5, size=tuple(p.shape))))
    ours.load_state_dict({k: v.numpy().copy() for k, v in theirs.state_dict().items()})
    xt.grad = None
    yo, yt = ours(xo), theirs(xt)
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-7, atol=1e-9)
    g = rng.standard_normal(tuple(yt.shape))
    (yo * nl.tensor(g, dtype=nl.float64)).sum().backward()
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-7, atol=1e-9)
    named = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), named[n].grad.numpy(), rtol=1e-7,
                                   atol=1e-9, err_msg=n)
    assert repr(ours).split("(")[0] == becomes


def test_lazy_default_initialization_is_the_ordinary_layers():
    nl.manual_seed(0)
    lazy = nn.LazyLinear(5)
    lazy(nl.randn(2, 400))
    bound = 1 / np.sqrt(400)
    assert np.abs(lazy.weight.numpy()).max() <= bound and lazy.weight.numpy().std() > bound / 3
    bn = nn.LazyBatchNorm2d()
    bn(nl.randn(2, 3, 2, 2))
    assert bn.num_batches_tracked.item() == 1
    np.testing.assert_array_equal(bn.weight.numpy(), np.ones(3))


def test_load_state_dict_into_uninitialized_module():
    src, tsrc = nn.Linear(4, 3), torch.nn.Linear(4, 3)
    ours, theirs = nn.LazyLinear(3), torch.nn.LazyLinear(3)
    ours.load_state_dict(src.state_dict())
    theirs.load_state_dict(tsrc.state_dict())
    assert type(ours) is nn.LazyLinear and type(theirs) is torch.nn.LazyLinear
    assert ours.weight.shape == tuple(theirs.weight.shape) == (3, 4)
    np.testing.assert_array_equal(ours.weight.numpy(), src.weight.numpy())
    assert repr(ours) == repr(theirs)  # in_features stays 0 until the first forward
    x = nl.randn(2, 4)
    np.testing.assert_allclose(ours(x).numpy(), src(x).numpy())
    theirs(torch.randn(2, 4))
    assert repr(ours) == repr(theirs) == "Linear(in_features=4, out_features=3, bias=True)"
    # nested: the placeholders' keys carry the prefix, and an initialized checkpoint loads
    net = nn.Sequential(nn.LazyConv2d(2, 3), nn.ReLU(), nn.LazyBatchNorm2d())
    assert list(net.state_dict()) == list(torch.nn.Sequential(
        torch.nn.LazyConv2d(2, 3), torch.nn.ReLU(), torch.nn.LazyBatchNorm2d()).state_dict())
    trained = nn.Sequential(nn.Conv2d(3, 2, 3), nn.ReLU(), nn.BatchNorm2d(2))
    net.load_state_dict(trained.state_dict())
    x = nl.randn(2, 3, 5, 5)
    net.eval()
    trained.eval()
    np.testing.assert_allclose(net(x).numpy(), trained(x).numpy(), rtol=1e-6)
    assert type(net[0]) is nn.Conv2d and net[0].in_channels == 3


def test_uninitialized_parameter():
    p = nn.UninitializedParameter(dtype=nl.float64)
    assert isinstance(p, nn.Parameter) and p.requires_grad and nn.parameter.is_lazy(p)
    assert repr(p) == repr(torch.nn.UninitializedParameter()) == "<UninitializedParameter>"
    with pytest.raises(RuntimeError, match="uninitialized parameter"):
        _ = p.shape
    p.materialize((2, 3))
    assert type(p) is nn.Parameter and p.shape == (2, 3) and p.dtype == np.float64
    assert not nn.parameter.is_lazy(p)
    b = nn.UninitializedBuffer()
    assert isinstance(b, nn.Buffer) and repr(b) == "<UninitializedBuffer>"
    b.materialize(4)
    assert type(b) is nl.Tensor and b.shape == (4,)


def test_lazy_errors():
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\)"):
        nn.LazyConv2d(2, 3)(nl.randn(2, 3))
    with pytest.raises(ValueError, match="must be divisible by groups=2"):
        nn.LazyConv1d(4, 3, groups=2)(nl.randn(1, 3, 5))
    with pytest.raises(ValueError, match="out_features must be a positive integer"):
        nn.LazyLinear(0)
    with pytest.raises(RuntimeError, match="uninitialized"):
        nn.Linear(4, 3).load_state_dict(nn.LazyLinear(3).state_dict())
    lazy = nn.LazyLinear(3)
    lazy.load_state_dict(nn.Linear(4, 3).state_dict())
    with pytest.raises(ValueError, match="loaded weight"):
        lazy(nl.randn(2, 5))
