"""3-d convolution, 3-d pooling, max unpooling, Lp pooling and BatchNorm3d against torch.nn."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn as nn
import neuralab.nn.functional as F
from tests.nn.test_conv_layers import _compare, _twin_params

RNG = np.random.default_rng(0)


def _distinct(shape):
    """Values 0.05 apart in random order: no ties, so every argmax is unambiguous."""
    n = math.prod(shape)
    return ((RNG.permutation(n) - n / 2) * 0.05).reshape(shape)


CONV3D_CASES = [
    dict(in_channels=2, out_channels=3, kernel_size=3, padding=1),
    dict(in_channels=4, out_channels=6, kernel_size=(2, 3, 1), stride=(2, 1, 2), groups=2,
         bias=False),
    dict(in_channels=2, out_channels=2, kernel_size=(2, 3, 2), padding="same", dilation=(2, 1, 1)),
    dict(in_channels=2, out_channels=3, kernel_size=2, padding="valid"),
    dict(in_channels=2, out_channels=3, kernel_size=3, padding=(1, 2, 1),
         padding_mode="reflect"),
    dict(in_channels=2, out_channels=2, kernel_size=3, padding=1, stride=2,
         padding_mode="replicate"),
    dict(in_channels=2, out_channels=2, kernel_size=(3, 2, 3), padding="same",
         padding_mode="circular"),
]


@pytest.mark.parametrize("kw", CONV3D_CASES, ids=[str(i) for i in range(len(CONV3D_CASES))])
def test_conv3d_matches_torch(kw):
    ours, theirs = nn.Conv3d(**kw), torch.nn.Conv3d(**kw)
    _twin_params(ours, theirs)
    with warnings.catch_warnings():  # torch: 'same' with an even kernel copies the input
        warnings.simplefilter("ignore", UserWarning)
        _compare(ours, theirs, RNG.standard_normal((2, kw["in_channels"], 5, 6, 4)))
        _compare(ours, theirs, RNG.standard_normal((kw["in_channels"], 4, 5, 5)))  # unbatched
    assert repr(ours) == repr(theirs)


def test_conv3d_default_init_is_torchs_distribution():
    nl.manual_seed(0)
    conv = nn.Conv3d(4, 16, 3)
    bound = 1 / math.sqrt(4 * 27)
    w, b = conv.weight.numpy(), conv.bias.numpy()
    assert w.shape == (16, 4, 3, 3, 3) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert np.abs(b).max() <= bound and b.shape == (16,)


CONV_T3D_CASES = [
    dict(in_channels=2, out_channels=3, kernel_size=3),
    dict(in_channels=4, out_channels=2, kernel_size=(2, 3, 2), stride=(2, 1, 2),
         padding=(1, 1, 0), output_padding=(1, 0, 1), groups=2),
    dict(in_channels=2, out_channels=2, kernel_size=2, stride=2, dilation=(1, 2, 1),
         bias=False),
]


@pytest.mark.parametrize("kw", CONV_T3D_CASES, ids=[str(i) for i in range(len(CONV_T3D_CASES))])
def test_conv_transpose3d_matches_torch(kw):
    ours, theirs = nn.ConvTranspose3d(**kw), torch.nn.ConvTranspose3d(**kw)
    _twin_params(ours, theirs)
    _compare(ours, theirs, RNG.standard_normal((2, kw["in_channels"], 3, 4, 3)))
    assert repr(ours) == repr(theirs)


def test_conv_transpose3d_output_size_undoes_a_strided_conv3d():
    ours = nn.ConvTranspose3d(2, 3, 3, stride=2, padding=1)
    theirs = torch.nn.ConvTranspose3d(2, 3, 3, stride=2, padding=1)
    _twin_params(ours, theirs)
    x = RNG.standard_normal((1, 2, 3, 4, 3))
    for size in [(6, 8, 5), (1, 3, 5, 7, 6)]:
        got = ours(nl.tensor(x, dtype=np.float64), output_size=size)
        want = theirs(torch.tensor(x), output_size=size)
        np.testing.assert_allclose(got.numpy(), want.detach().numpy(), atol=1e-12)
        assert got.shape[2:] == tuple(size[-3:])
    with pytest.raises(ValueError, match="dimension 0 can only be between 5 and 6"):
        ours(nl.tensor(x, dtype=np.float64), output_size=(7, 8, 5))


POOL_CASES = [
    (nn.MaxPool3d, torch.nn.MaxPool3d, dict(kernel_size=2)),
    (nn.MaxPool3d, torch.nn.MaxPool3d, dict(kernel_size=(3, 2, 3), stride=2, padding=1,
                                            dilation=(1, 2, 1), ceil_mode=True)),
    (nn.AvgPool3d, torch.nn.AvgPool3d, dict(kernel_size=3, stride=2, padding=1,
                                            count_include_pad=False, ceil_mode=True)),
    (nn.AvgPool3d, torch.nn.AvgPool3d, dict(kernel_size=(2, 3, 2), stride=1,
                                            divisor_override=7)),
    (nn.AdaptiveAvgPool3d, torch.nn.AdaptiveAvgPool3d, dict(output_size=(3, None, 2))),
    (nn.AdaptiveAvgPool3d, torch.nn.AdaptiveAvgPool3d, dict(output_size=1)),
    (nn.AdaptiveMaxPool3d, torch.nn.AdaptiveMaxPool3d, dict(output_size=(2, 4, 3))),
    (nn.LPPool1d, torch.nn.LPPool1d, dict(norm_type=2, kernel_size=3, stride=2)),
    (nn.LPPool2d, torch.nn.LPPool2d, dict(norm_type=1.5, kernel_size=(2, 3), ceil_mode=True)),
    (nn.LPPool3d, torch.nn.LPPool3d, dict(norm_type=3, kernel_size=2, stride=(1, 2, 2))),
]


@pytest.mark.parametrize(("ours_cls", "theirs_cls", "kw"), POOL_CASES,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(POOL_CASES)])
def test_pooling_layers_match_torch(ours_cls, theirs_cls, kw):
    ours, theirs = ours_cls(**kw), theirs_cls(**kw)
    dims = {"1d": 1, "2d": 2, "3d": 3}[ours_cls.__name__[-2:]]
    shape = (2, 3, 7, 6, 5)[:2 + dims]
    x = np.abs(_distinct(shape)) + 0.1 if "LP" in ours_cls.__name__ else _distinct(shape)
    _compare(ours, theirs, x, rtol=1e-10, atol=1e-12)
    _compare(ours, theirs, x[0], rtol=1e-10, atol=1e-12)  # unbatched
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_max_unpool_inverts_max_pool_like_torch(n):
    """MaxPoolNd(return_indices) then MaxUnpoolNd, with the indices of both libraries."""
    kw = dict(kernel_size=2, stride=2, padding=1)
    pool_ours = getattr(nn, f"MaxPool{n}d")(return_indices=True, **kw)
    pool_theirs = getattr(torch.nn, f"MaxPool{n}d")(return_indices=True, **kw)
    unpool_ours, unpool_theirs = getattr(nn, f"MaxUnpool{n}d")(**kw), \
        getattr(torch.nn, f"MaxUnpool{n}d")(**kw)
    assert repr(unpool_ours) == repr(unpool_theirs)
    x = _distinct((2, 3, 5, 6, 5)[:2 + n])
    xo, xt = nl.tensor(x, dtype=np.float64, requires_grad=True), torch.tensor(x,
                                                                             requires_grad=True)
    (yo, io), (yt, it) = pool_ours(xo), pool_theirs(xt)
    np.testing.assert_array_equal(io.numpy(), it.numpy())
    zo = unpool_ours(yo, io, output_size=x.shape)
    zt = unpool_theirs(yt, it, output_size=x.shape)
    assert zo.shape == x.shape
    np.testing.assert_allclose(zo.numpy(), zt.detach().numpy(), atol=1e-12)
    g = RNG.standard_normal(x.shape)
    (zo * nl.tensor(g, dtype=np.float64)).sum().backward()
    zt.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("momentum", [0.3, None])
def test_batchnorm3d_matches_torch_over_steps(momentum):
    ours = nn.BatchNorm3d(3, eps=1e-3, momentum=momentum)
    theirs = torch.nn.BatchNorm3d(3, eps=1e-3, momentum=momentum)
    theirs.weight.data.uniform_(0.5, 1.5)
    theirs.bias.data.uniform_(-0.5, 0.5)
    _twin_params(ours, theirs)
    for _ in range(3):
        _compare(ours, theirs, RNG.standard_normal((2, 3, 3, 4, 2)) * 2 + 1)
        for name in ("running_mean", "running_var"):
            np.testing.assert_allclose(getattr(ours, name).numpy(),
                                       getattr(theirs, name).numpy(), rtol=1e-10)
        assert int(ours.num_batches_tracked.numpy()) == int(theirs.num_batches_tracked)
    ours.eval()
    theirs.eval()
    _compare(ours, theirs, RNG.standard_normal((2, 3, 2, 3, 4)))


def test_batchnorm_bias_false_and_repr_match_torch():
    """PyTorch's keyword-only bias=False keeps γ alone; the printed form names it."""
    ours, theirs = nn.BatchNorm3d(2, bias=False), torch.nn.BatchNorm3d(2, bias=False)
    assert ours.bias is None and [n for n, _ in ours.named_parameters()] == ["weight"]
    theirs.weight.data.uniform_(0.5, 1.5)
    _twin_params(ours, theirs)
    _compare(ours, theirs, RNG.standard_normal((2, 2, 3, 2, 3)))
    for name, kw in [("BatchNorm1d", dict(affine=False)), ("BatchNorm2d", {}),
                     ("BatchNorm3d", dict(bias=False, momentum=None))]:
        assert repr(getattr(nn, name)(4, **kw)) == repr(getattr(torch.nn, name)(4, **kw))


# ----------------------------------------------------------------------------- bad input
def test_bad_input_messages():
    x = nl.randn(1, 2, 4, 4, 4)
    with pytest.raises(ValueError, match="conv3d: input has 2 channels but the weight"):
        F.conv3d(x, nl.randn(3, 3, 2, 2, 2))
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv3d(2, 3, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="expected a 4-D .unbatched. or 5-D"):
        F.conv3d(nl.randn(2, 4, 4), nl.randn(3, 2, 2, 2, 2))
    with pytest.raises(ValueError, match="kernel .* spans 5 voxels along the depth"):
        F.conv3d(x, nl.randn(3, 2, 5, 1, 1))
    with pytest.raises(ValueError, match="conv_transpose3d: padding must be an int"):
        F.conv_transpose3d(x, nl.randn(2, 3, 2, 2, 2), padding="same")
    with pytest.raises(ValueError, match="output_padding .* must be smaller"):
        F.conv_transpose3d(x, nl.randn(2, 3, 2, 2, 2), stride=2, output_padding=2)
    with pytest.raises(ValueError, match="max_pool3d: padding 2 must be at most half"):
        F.max_pool3d(x, 3, padding=2)
    with pytest.raises(ValueError, match="avg_pool3d: input must be .N, C, D, H, W."):
        F.avg_pool3d(nl.randn(2, 4, 4), 2)
    with pytest.raises(ValueError, match="output_size must be positive"):
        F.adaptive_max_pool3d(x, (2, 0, 2))
    with pytest.raises(ValueError, match=r"BatchNorm3d: expected 5D input \(got 4D input\)"):
        nn.BatchNorm3d(2)(nl.randn(2, 2, 3, 3))
    with pytest.raises(ValueError, match="lp_pool2d: norm_type must be non-zero"):
        F.lp_pool2d(nl.randn(1, 1, 4, 4), 0, 2)


def test_max_unpool_bad_input_messages():
    y, i = F.max_pool2d(nl.randn(1, 2, 4, 4), 2, return_indices=True)
    with pytest.raises(RuntimeError, match="invalid max index 17: the output planes are 3x3"):
        F.max_unpool2d(y, i + 2, 2, output_size=(3, 3))
    with pytest.raises(ValueError, match=r"invalid output_size \(6, 4\) \(dim 0 must be between "
                                         "2 and 6"):
        F.max_unpool2d(y, i, 2, output_size=(6, 4))
    with pytest.raises(ValueError, match="containing 2 or 4 elements, but it has a length of 3"):
        F.max_unpool2d(y, i, 2, output_size=(4, 4, 4))
    with pytest.raises(TypeError, match="indices must be int64"):
        F.max_unpool2d(y, i.int(), 2)
    with pytest.raises(ValueError, match="indices must have the shape of the input"):
        F.max_unpool2d(y, i[..., :1], 2)
    with pytest.raises(ValueError, match="max_unpool1d: input must be 3-D"):
        F.max_unpool1d(nl.randn(4), nl.zeros(4, dtype=nl.int64), 2)
