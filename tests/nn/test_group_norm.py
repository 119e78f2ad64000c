"""nn.GroupNorm, nn.InstanceNorm1d/2d/3d and nn.RMSNorm against their torch.nn twins: outputs,
input and parameter gradients (random γ, β copied in), running statistics over several steps,
evaluation mode, unbatched inputs, state-dict keys, reprs, and the messages of bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn as nn


def _twin(ours, theirs, rng):
    """Random parameters in torch's module, copied into ours (float64 in both)."""
    theirs.double()
    ours.double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape))))
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})


def _compare(ours, theirs, x, rtol=1e-7, atol=1e-9):
    """Outputs, input gradient and every parameter gradient of both modules agree."""
    xo = nl.tensor(x, dtype=np.float64, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert yo.shape == tuple(yt.shape)
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(1).standard_normal(yt.shape)
    (yo * nl.tensor(g, dtype=np.float64)).sum().backward()
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=atol)
    named = dict(theirs.named_parameters())
    assert sorted(named) == sorted(n for n, _ in ours.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), named[name].grad.numpy(), rtol=rtol,
                                   atol=atol, err_msg=name)


@pytest.mark.parametrize(("args", "kw", "shape"), [
    ((3, 6), {}, (2, 6, 5)),
    ((2, 4), {"eps": 1e-3}, (3, 4, 3, 2)),
    ((1, 3), {"affine": False}, (2, 3, 2, 2, 2)),
    ((4, 4), {"bias": False}, (2, 4, 3)),
    ((2, 6), {}, (4, 6)),
])
def test_group_norm_matches_torch(args, kw, shape):
    rng = np.random.default_rng(0)
    ours, theirs = nn.GroupNorm(*args, **kw), torch.nn.GroupNorm(*args, **kw)
    _twin(ours, theirs, rng)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    _compare(ours, theirs, rng.standard_normal(shape) * 2 + 0.5)


INSTANCE = [
    (nn.InstanceNorm1d, torch.nn.InstanceNorm1d, (3, 3, 5), {}),
    (nn.InstanceNorm1d, torch.nn.InstanceNorm1d, (3, 4), {"affine": True}),  # unbatched
    (nn.InstanceNorm2d, torch.nn.InstanceNorm2d, (2, 3, 4, 3),
     {"affine": True, "track_running_stats": True, "momentum": 0.3}),
    (nn.InstanceNorm2d, torch.nn.InstanceNorm2d, (3, 2, 3),
     {"track_running_stats": True, "eps": 1e-3}),  # unbatched
    (nn.InstanceNorm3d, torch.nn.InstanceNorm3d, (2, 2, 2, 3, 2),
     {"affine": True, "bias": False, "track_running_stats": True, "momentum": None}),
    (nn.InstanceNorm3d, torch.nn.InstanceNorm3d, (2, 2, 3, 2), {"affine": True}),  # unbatched
]


@pytest.mark.parametrize(("ours_cls", "theirs_cls", "shape", "kw"), INSTANCE,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(INSTANCE)])
def test_instance_norm_matches_torch(ours_cls, theirs_cls, shape, kw):
    rng = np.random.default_rng(0)
    C = shape[1] if len(shape) == ours_cls._unbatched + 1 else shape[0]
    ours, theirs = ours_cls(C, **kw), theirs_cls(C, **kw)
    _twin(ours, theirs, rng)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    for _ in range(3):  # training steps: the running statistics follow torch's
        _compare(ours, theirs, rng.standard_normal(shape) * 3 - 1)
        for name, buf in theirs.named_buffers():
            np.testing.assert_allclose(getattr(ours, name).numpy(), buf.numpy(), rtol=1e-7,
                                       atol=1e-9, err_msg=name)
        for m in (ours, theirs):
            m.zero_grad()
    ours.eval()
    theirs.eval()  # with track_running_stats: the running statistics; else the input's
    _compare(ours, theirs, rng.standard_normal(shape) + 0.5)


def test_instance_norm_moves_running_stats_only_when_tracking():
    layer = nn.InstanceNorm1d(2, track_running_stats=True, momentum=0.5)
    x = nl.tensor(np.arange(12.0).reshape(1, 2, 6))
    layer(x)
    np.testing.assert_allclose(layer.running_mean.numpy(), [1.25, 4.25])  # 0.5·0 + 0.5·μ
    layer.eval()
    layer(x)
    np.testing.assert_allclose(layer.running_mean.numpy(), [1.25, 4.25])
    assert nn.InstanceNorm1d(2).running_mean is None


@pytest.mark.parametrize(("shape", "normalized", "kw"), [
    ((4, 6), 6, {}),
    ((2, 3, 4), (3, 4), {"eps": 1e-3}),
    ((3, 5), [5], {"elementwise_affine": False}),
    ((2, 2, 3), (3,), {"eps": 0.5}),
])
def test_rms_norm_matches_torch(shape, normalized, kw):
    rng = np.random.default_rng(0)
    ours, theirs = nn.RMSNorm(normalized, **kw), torch.nn.RMSNorm(normalized, **kw)
    _twin(ours, theirs, rng)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    _compare(ours, theirs, rng.standard_normal(shape) * 2)


def test_rms_norm_default_eps_is_the_dtype_epsilon():
    # float32 inputs of mean square ~ 1e-7: ε = finfo(float32).eps ≈ 1.19e-7 matters.
    x = np.full((2, 4), 3e-4, dtype=np.float32)
    ours = nn.RMSNorm(4)(nl.tensor(x)).numpy()
    theirs = torch.nn.RMSNorm(4)(torch.tensor(x)).detach().numpy()
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    assert not np.allclose(ours, 1.0, rtol=1e-2)  # without ε the result would be 1


def test_norm_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups "
                                         r"\(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match=r"GroupNorm\(2, 6\): the input has 4 channels"):
        nn.GroupNorm(2, 6)(nl.randn(2, 4, 3))
    with pytest.raises(ValueError, match="divisible by num_groups.*num_groups=4"):
        nl.group_norm(nl.randn(2, 6, 3), 4)
    with pytest.raises(ValueError, match=r"weight must have shape \(6,\)"):
        nl.group_norm(nl.randn(2, 6, 3), 3, nl.ones(5))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nl.group_norm(nl.randn(6), 3)
    with pytest.raises(ValueError, match="num_groups must be positive"):
        nl.group_norm(nl.randn(2, 6), 0)
    with pytest.raises(ValueError, match="InstanceNorm1d: expected a 2-D .* or 3-D input"):
        nn.InstanceNorm1d(3)(nl.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"InstanceNorm2d\(4\): the input has 3 channels"):
        nn.InstanceNorm2d(4, affine=True)(nl.randn(2, 3, 4, 4))
    with pytest.warns(UserWarning, match="affine=False"):
        nn.InstanceNorm2d(4)(nl.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        nl.instance_norm(nl.randn(2, 3, 1))
    with pytest.raises(ValueError, match="needs running_mean and running_var"):
        nl.instance_norm(nl.randn(2, 3, 4), use_input_stats=False)
    with pytest.raises(ValueError, match=r"running_mean must have shape \(3,\)"):
        nl.instance_norm(nl.randn(2, 3, 4), nl.zeros(2), nl.ones(3))
    with pytest.raises(ValueError, match="momentum"):
        nn.InstanceNorm1d(3, momentum=1.5)
    with pytest.raises(ValueError, match=r"last 1 dimensions must be normalized_shape \(4,\)"):
        nl.rms_norm(nl.randn(2, 3), 4)
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        nl.rms_norm(nl.randn(2, 3), 3, nl.ones(2))
    with pytest.raises(ValueError, match="RMSNorm: normalized_shape"):
        nn.RMSNorm(0)
    with pytest.raises(ValueError, match="eps"):
        nn.RMSNorm(3, eps=-1.0)
    with pytest.raises(TypeError, match="floating-point"):
        nl.rms_norm(nl.tensor([[1, 2]]), 2)
