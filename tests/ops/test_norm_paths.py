"""batch_norm's memory layouts, forced: inputs laid out as convolutions return them (NCHW views of
NHWC or CHWN memory), rows of several pixels against repeated per-channel vectors, and the
blocked passes cut into blocks of one row (also shared between two threads), must give the
reference kernel's (the lecture's formulas) and PyTorch's values, running statistics and
gradients, and keep the input's layout. (The op specs' small C-order inputs only reach the plain
(N, C, L) path.)"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import neuralab as nl
from neuralab.kernels import norm as fast_norm

VARIANTS = {
    "default": {},
    "one-row-blocks": {"block_bytes": 1},
    "one-pixel-rows": {"row_numbers": 1},
    # one-row blocks shared between two threads (neuralab.parallel) however small the input
    "two-threads": {"block_bytes": 1, "parallel_bytes": 0, "block_per_thread": False},
    # shared between two threads, one block per thread
    "two-threads-one-block-each": {"parallel_bytes": 0},
}


MEMORY_ORDERS = {"nhwc": (0, 2, 3, 1), "chwn": (1, 2, 3, 0)}


def laid_out(shape, rng, order):
    """Random values of shape (N, C, H, W) whose memory runs through the axes in ``order``."""
    memory = rng.standard_normal([shape[axis] for axis in order]) * 2 + 0.5
    return memory.transpose(np.argsort(order))


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("training", [True, False], ids=["training", "eval"])
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "plain"])
@pytest.mark.parametrize("shape", [(4, 3, 4, 2), (3, 5, 2, 6), (2, 4, 1, 1)])
@pytest.mark.parametrize("grad_layout", ["same", "nchw"])
@pytest.mark.parametrize("memory", list(MEMORY_ORDERS))
def test_batch_norm_layouts_match_pytorch(shape, affine, training, variant, grad_layout, memory):
    with fast_norm.options(**VARIANTS[variant]):
        batch_norm_layout_matches(shape, affine, training, variant, grad_layout, memory)


def run_batch_norm(x, dy, w, b, mean, var, affine, training):
    """(y, running mean, running var, x̄, γ̄, β̄) of neuralab's batch_norm in float64."""
    f64 = np.float64
    xo = nl.Tensor(x, dtype=f64, requires_grad=True)
    wo = nl.tensor(w, dtype=f64, requires_grad=True)
    bo = nl.tensor(b, dtype=f64, requires_grad=True)
    rm, rv = nl.tensor(mean, dtype=f64), nl.tensor(var, dtype=f64)
    out = nl.batch_norm(xo, rm, rv, *((wo, bo) if affine else ()), training=training)
    out.backward(nl.Tensor(dy, dtype=f64))
    grads = [xo.grad.numpy()] + ([wo.grad.numpy(), bo.grad.numpy()] if affine else [])
    return [out.numpy(), rm.numpy(), rv.numpy(), *grads]


def batch_norm_layout_matches(shape, affine, training, variant, grad_layout, memory):
    nl.set_num_threads(2 if variant.startswith("two-threads") else 1)  # conftest restores it
    rng = np.random.default_rng(sum(shape))
    C = shape[1]
    x = laid_out(shape, rng, MEMORY_ORDERS[memory])
    dy = laid_out(shape, rng, MEMORY_ORDERS[memory])
    if grad_layout == "nchw":
        dy = np.ascontiguousarray(dy)
    w, b = rng.standard_normal(C), rng.standard_normal(C)
    mean, var = rng.standard_normal(C), rng.random(C) + 0.5

    fast = run_batch_norm(x, dy, w, b, mean, var, affine, training)
    assert fast[0].transpose(MEMORY_ORDERS[memory]).flags.c_contiguous, \
        f"the output left the input's {memory} layout"
    with nl.use_kernels("reference"):
        reference = run_batch_norm(x, dy, w, b, mean, var, affine, training)
    for got, want in zip(fast, reference):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)
    out, rm, rv, *grads = fast

    xt = torch.tensor(x, requires_grad=True)
    wt, bt = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    rmt, rvt = torch.tensor(mean), torch.tensor(var)
    out_t = TF.batch_norm(xt, rmt, rvt, *((wt, bt) if affine else ()), training=training)
    out_t.backward(torch.tensor(dy))

    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(rm, rmt.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv, rvt.numpy(), rtol=1e-12)
    np.testing.assert_allclose(grads[0], xt.grad.numpy(), rtol=1e-9, atol=1e-10)
    if affine:
        np.testing.assert_allclose(grads[1], wt.grad.numpy(), rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(grads[2], bt.grad.numpy(), rtol=1e-9, atol=1e-10)


def test_channel_view_uses_long_rows_for_conv_outputs():
    """ResNet's first stage: 16 channels, 128·32·32 pixels, seen as rows of 64 pixels."""
    x = np.zeros((128, 32, 32, 16), dtype=np.float32).transpose(0, 3, 1, 2)
    view = fast_norm._ChannelView(x)
    assert view.k == 64 and view.v.shape == (2048, 1024, 1)
    assert np.shares_memory(view.v, x)  # a view, not a copy


@pytest.mark.parametrize("memory", list(MEMORY_ORDERS))
def test_batch_norm_float32_far_from_zero_mean(memory):
    """y = x·γ/σ + (β − μ·γ/σ) and x̄ = x·k + c + ȳ·γ/σ (the fast kernel's one-multiply forms, as
    PyTorch's CPU kernel) stay within float32's precision of the float64 reference when the
    batch mean is far from zero (μ/σ = 200: x·γ/σ and μ·γ/σ cancel)."""
    rng = np.random.default_rng(7)
    shape = (16, 8, 6, 6)
    x = (laid_out(shape, rng, MEMORY_ORDERS[memory]) * 0.25 + 100.0).astype(np.float32)
    dy = laid_out(shape, rng, MEMORY_ORDERS[memory]).astype(np.float32)
    w, b = rng.standard_normal(8).astype(np.float32), rng.standard_normal(8).astype(np.float32)
    xo = nl.Tensor(x, requires_grad=True)
    wo, bo = nl.tensor(w, requires_grad=True), nl.tensor(b, requires_grad=True)
    out = nl.batch_norm(xo, None, None, wo, bo, training=True)
    out.backward(nl.Tensor(dy))
    assert out.dtype == nl.float32 and xo.grad.dtype == nl.float32
    x64, dy64 = x.astype(np.float64), dy.astype(np.float64)
    mean, var = x64.mean(axis=(0, 2, 3), keepdims=True), x64.var(axis=(0, 2, 3), keepdims=True)
    xhat = (x64 - mean) / np.sqrt(var + 1e-5)
    g = w.reshape(1, -1, 1, 1).astype(np.float64)
    y = xhat * g + b.reshape(1, -1, 1, 1)
    dxhat = dy64 * g
    dx = (dxhat - dxhat.mean(axis=(0, 2, 3), keepdims=True)
          - xhat * (dxhat * xhat).mean(axis=(0, 2, 3), keepdims=True)) / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(out.numpy(), y, rtol=0, atol=1e-4)
    np.testing.assert_allclose(xo.grad.numpy(), dx, rtol=0, atol=1e-4)  # |x̄| up to 30
