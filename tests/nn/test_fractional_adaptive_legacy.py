"""FractionalMaxPool2d/3d, AdaptiveLogSoftmaxWithLoss, CrossMapLRN2d and NLLLoss2d against their
PyTorch twins (same samples, same weights, float64 values and gradients), and their messages."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import neuralab as nl
import neuralab.nn.functional as F
from neuralab import nn


def _t(a, grad=False):
    return nl.tensor(a, dtype=nl.float64 if a.dtype == np.float64 else a.dtype,
                     requires_grad=grad)


# ----------------------------------------------------------------------------- fractional pooling
@pytest.mark.parametrize("dims,dtype", [(2, np.float32), (2, np.float64), (3, np.float32),
                                        (3, np.float64)])
def test_fractional_max_pool_equals_pytorch_for_the_same_samples(dims, dtype):
    """Many random geometries: values and indices bit for bit, gradients of the input."""
    rng = np.random.default_rng(dims)
    ours, theirs = getattr(F, f"fractional_max_pool{dims}d"), getattr(TF,
                                                                      f"fractional_max_pool{dims}d")
    for _ in range(25):
        size = tuple(int(s) for s in rng.integers(3, 10, size=dims))
        kernel = tuple(int(rng.integers(1, min(3, s - 1) + 1)) for s in size)
        out = tuple(int(rng.integers(1, s - k + 2 - (dims == 3))) for s, k in zip(size, kernel))
        x = rng.standard_normal((2, 2) + size).astype(dtype)
        u = rng.random((2, 2, dims)).astype(dtype)
        xt = torch.tensor(x, requires_grad=True)
        zt, it = theirs(xt, kernel, output_size=out, return_indices=True,
                        _random_samples=torch.tensor(u))
        xn = _t(x, grad=True)
        z, i = ours(xn, kernel, output_size=out, return_indices=True, _random_samples=_t(u))
        np.testing.assert_array_equal(i.numpy(), it.numpy())
        np.testing.assert_array_equal(z.numpy(), zt.detach().numpy())
        g = rng.standard_normal(z.shape).astype(dtype)
        zt.backward(torch.tensor(g))
        (z * _t(g)).sum().backward()
        np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dims", [2, 3])
def test_fractional_max_pool_modules_match_pytorch(dims):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3) + (7,) * dims)
    u = rng.random((2, 3, dims))
    ours = getattr(nn, f"FractionalMaxPool{dims}d")(2, output_ratio=0.5, return_indices=True,
                                                     _random_samples=_t(u))
    theirs = getattr(torch.nn, f"FractionalMaxPool{dims}d")(
        2, output_ratio=0.5, return_indices=True, _random_samples=torch.tensor(u))
    (z, i), (zt, it) = ours(_t(x)), theirs(torch.tensor(x))
    np.testing.assert_array_equal(z.numpy(), zt.numpy())
    np.testing.assert_array_equal(i.numpy(), it.numpy())
    assert "_random_samples" in dict(ours.named_buffers())


def test_fractional_max_pool_draws_from_neuralab_generator():
    x = nl.randn(2, 3, 9, 9)
    nl.manual_seed(3)
    a = F.fractional_max_pool2d(x, 2, output_size=5)
    nl.manual_seed(3)
    b = F.fractional_max_pool2d(x, 2, output_size=5)
    c = F.fractional_max_pool2d(x, 2, output_size=5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(b.numpy(), c.numpy())  # fresh samples on each call
    z, i = F.fractional_max_pool3d_with_indices(nl.randn(3, 6, 6, 6), 2, output_ratio=0.5)
    assert z.shape == (3, 3, 3, 3) and i.shape == z.shape


def test_fractional_max_pool_messages():
    x = nl.randn(1, 2, 7, 7)
    with pytest.raises(ValueError, match="either an output_size or an output_ratio"):
        F.fractional_max_pool2d(x, 2)
    with pytest.raises(ValueError, match="pool height 5 too large"):
        F.fractional_max_pool2d(x, 5, output_size=4)
    with pytest.raises(ValueError, match="pool time 2 too large"):
        F.fractional_max_pool3d(nl.randn(1, 1, 5, 5, 5), 2, output_size=4)
    with pytest.raises(ValueError, match=r"_random_samples must have shape \(N, C, 2\)"):
        F.fractional_max_pool2d(x, 2, output_size=3, _random_samples=nl.rand(1, 2, 3))
    with pytest.raises(ValueError, match="must be 4-d"):
        F.fractional_max_pool2d(nl.randn(7, 7), 2, output_size=3)
    with pytest.raises(ValueError, match="only one of output_size and output_ratio"):
        nn.FractionalMaxPool2d(2, output_size=3, output_ratio=0.5)
    with pytest.raises(ValueError, match="output_ratio must be between 0 and 1"):
        nn.FractionalMaxPool3d(2, output_ratio=1.5)
    with pytest.raises(ValueError, match="requires specifying either"):
        nn.FractionalMaxPool2d(2)


# ----------------------------------------------------------------------------- adaptive softmax
def _adaptive_pair(head_bias):
    kw = dict(in_features=8, n_classes=12, cutoffs=[3, 7], div_value=2.0, head_bias=head_bias)
    ours = nn.AdaptiveLogSoftmaxWithLoss(**kw, dtype=nl.float64)
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(**kw).double()
    ours.load_state_dict({k: nl.tensor(v.detach().numpy(), dtype=nl.float64)
                          for k, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("head_bias", [False, True])
def test_adaptive_log_softmax_matches_pytorch(head_bias):
    ours, theirs = _adaptive_pair(head_bias)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((9, 8))
    target = np.array([0, 5, 11, 2, 7, 3, 10, 1, 4])  # shortlist and both clusters
    xn, xt = _t(x, grad=True), torch.tensor(x, requires_grad=True)
    out, loss = ours(xn, nl.tensor(target))
    out_t, loss_t = theirs(xt, torch.tensor(target))
    np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(loss.item(), loss_t.item(), rtol=1e-10)
    (loss + out[2] * 0.5).backward()
    (loss_t + out_t[2] * 0.5).backward()
    np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-12)
    params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), params[name].grad.numpy(), rtol=1e-8,
                                   atol=1e-12, err_msg=name)
    np.testing.assert_allclose(ours.log_prob(_t(x)).numpy(), theirs.log_prob(xt).detach().numpy(),
                               rtol=1e-10)
    np.testing.assert_array_equal(ours.predict(_t(x * 3)).numpy(),
                                  theirs.predict(torch.tensor(x * 3)).numpy())
    # one example (0-d target)
    o1, l1 = ours(_t(x[0]), nl.tensor(np.array(11)))
    t1, tl1 = theirs(torch.tensor(x[0]), torch.tensor(11))
    assert o1.shape == () and np.isclose(o1.item(), t1.item()) and np.isclose(l1.item(),
                                                                               tl1.item())


def test_adaptive_log_softmax_messages():
    with pytest.raises(ValueError, match="cutoffs should be a sequence of unique"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5, 3])
    with pytest.raises(ValueError, match="length larger than 0"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 10, [])
    m = nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3])
    with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 9\]"):
        m(nl.randn(2, 8), nl.tensor(np.array([1, 10])))
    with pytest.raises(RuntimeError, match="same size in the batch dimension"):
        m(nl.randn(3, 8), nl.tensor(np.array([1, 2])))
    with pytest.raises(RuntimeError, match="multi-target not supported"):
        m(nl.randn(2, 8), nl.tensor(np.zeros((2, 2), dtype=np.int64)))


# ----------------------------------------------------------------------------- legacy layers
@pytest.mark.parametrize("size", [3, 5])
def test_cross_map_lrn2d_is_local_response_norm_for_odd_sizes(size):
    """The intended window: PyTorch's local_response_norm, values and gradients."""
    rng = np.random.default_rng(size)
    x = rng.standard_normal((2, 7, 3, 4))
    xn, xt = _t(x, grad=True), torch.tensor(x, requires_grad=True)
    y = nn.CrossMapLRN2d(size, alpha=0.3, beta=0.7, k=1.5)(xn)
    yt = TF.local_response_norm(xt, size, alpha=0.3, beta=0.7, k=1.5)
    np.testing.assert_allclose(y.numpy() if not y.requires_grad else y.detach().numpy(),
                               yt.detach().numpy(), rtol=1e-10)
    g = rng.standard_normal(x.shape)
    (y * _t(g)).sum().backward()
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("size,channels", [(2, 6), (3, 6), (4, 5), (5, 8), (5, 3)])
def test_cross_map_lrn2d_forward_matches_pytorch(size, channels):
    """PyTorch's forward agrees where its legacy running sum is right: channel 0 zero (it never
    leaves the window there) or few channels."""
    rng = np.random.default_rng(channels)
    x = rng.standard_normal((2, channels, 3, 3))
    if channels > int((size - 1) / 2 + 1):
        x[:, 0] = 0.0
    y = nn.CrossMapLRN2d(size, alpha=0.2, beta=0.6, k=2.0)(_t(x))
    yt = torch.nn.CrossMapLRN2d(size, alpha=0.2, beta=0.6, k=2.0)(torch.tensor(x))
    np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-10)


def test_cross_map_lrn2d_gradcheck_and_messages():
    x = torch.tensor(np.random.default_rng(0).standard_normal((1, 4, 2, 2)))
    m = nn.CrossMapLRN2d(2, alpha=0.5, beta=0.8, k=1.0)
    xn = _t(x.numpy(), grad=True)
    m(xn).sum().backward()
    eps, num = 1e-6, np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        d = np.zeros(x.shape)
        d[idx] = eps
        num[idx] = (m(_t(x.numpy() + d)).sum().item() - m(_t(x.numpy() - d)).sum().item()) / (
            2 * eps)
    np.testing.assert_allclose(xn.grad.numpy(), num, rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="Expected input to be 4D, got 3D"):
        m(nl.randn(4, 2, 2))
    with pytest.raises(ValueError, match="size must be a positive int"):
        nn.CrossMapLRN2d(0)


def test_nll_loss2d_is_nll_loss():
    rng = np.random.default_rng(0)
    logp = np.log(rng.dirichlet(np.ones(4), size=(2, 3, 3)))
    logp = np.ascontiguousarray(logp.transpose(0, 3, 1, 2))
    target = rng.integers(0, 4, size=(2, 3, 3))
    target[0, 0, 0] = 1
    w = rng.uniform(0.5, 2, size=4)
    with pytest.warns(FutureWarning, match="NLLLoss2d"):
        ours = nn.NLLLoss2d(weight=_t(w), ignore_index=1, reduction="sum")
    assert isinstance(ours, nn.NLLLoss)
    with pytest.warns(FutureWarning):
        theirs = torch.nn.NLLLoss2d(weight=torch.tensor(w), ignore_index=1, reduction="sum")
    xn, xt = _t(logp, grad=True), torch.tensor(logp, requires_grad=True)
    loss, loss_t = ours(xn, nl.tensor(target)), theirs(xt, torch.tensor(target))
    np.testing.assert_allclose(loss.item(), loss_t.item(), rtol=1e-10)
    loss.backward()
    loss_t.backward()
    np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), rtol=1e-10)
    with pytest.warns(FutureWarning), pytest.warns(UserWarning, match="reduction='none'"):
        assert nn.NLLLoss2d(reduce=False).reduction == "none"
