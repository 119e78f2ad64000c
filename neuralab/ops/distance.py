"""Norms between vectors: ``F.normalize``, ``F.cosine_similarity``, ``F.pairwise_distance``.

All three are built on the p-norm ‖v‖_p = (Σ |v_i|^p)^(1/p) of vectors along one dimension,
whose gradient is ∂‖v‖/∂v_i = sign(v_i) |v_i|^(p−1) / ‖v‖^(p−1) (v/‖v‖ for p = 2; for p = ∞
the gradient is shared among the entries of largest magnitude, as PyTorch; 0 where ‖v‖ = 0).
PyTorch's eps conventions: each guard is a clamp, max(‖·‖, eps), and no gradient flows through
a norm while it is clamped.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.function import Function, unbroadcast
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import broadcast_shape, normalize_dim

__all__ = ["normalize", "cosine_similarity", "pairwise_distance", "cdist"]


def _pnorm(v: Any, p: float, axis: int, keepdims: bool = True) -> Any:
    a = xp.abs(v)
    if p == xp.inf:
        return a.max(axis=axis, keepdims=keepdims, initial=0.0)
    if p == -xp.inf:
        return a.min(axis=axis, keepdims=keepdims)
    if p == 0:
        return (a != 0).sum(axis=axis, keepdims=keepdims).astype(v.dtype)
    if p == 1:
        return a.sum(axis=axis, keepdims=keepdims)
    if p == 2:
        return xp.sqrt((v * v).sum(axis=axis, keepdims=keepdims))
    return (a ** p).sum(axis=axis, keepdims=keepdims) ** (1.0 / p)


def _pnorm_grad(v: Any, n: Any, p: float, axis: int) -> Any:
    """∂‖v‖_p/∂v with n = ‖v‖_p kept along ``axis``; 0 where the norm is 0."""
    if p == 0:
        return xp.zeros_like(v)
    if p == 1:
        return xp.sign(v)
    if p in (xp.inf, -xp.inf):
        hit = (xp.abs(v) == n).astype(v.dtype)
        return xp.sign(v) * hit / xp.maximum(hit.sum(axis=axis, keepdims=True), 1)
    safe = xp.where(n == 0, 1, n)
    if p == 2:
        return xp.where(n == 0, 0, v / safe)
    return xp.where(n == 0, 0, xp.sign(v) * xp.abs(v) ** (p - 1) / safe ** (p - 1))


class Normalize(Function):
    """y = x / m with m = max(‖x‖_p, eps) along ``axis``.

    x̄ = ȳ/m − [‖x‖ ≥ eps] (Σ ȳ ⊙ x)/m² · ∂‖x‖/∂x.
    """

    @staticmethod
    def forward(ctx, x, p=2.0, axis=1, eps=1e-12):
        n = _pnorm(x, p, axis)
        m = xp.maximum(n, eps)
        ctx.x, ctx.n, ctx.m, ctx.p, ctx.axis, ctx.eps = x, n, m, p, axis, eps
        return (x / m).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dout):
        x, n, m = ctx.x, ctx.n, ctx.m
        through = (n >= ctx.eps) * (dout * x).sum(axis=ctx.axis, keepdims=True) / (m * m)
        return dout / m - through * _pnorm_grad(x, n, ctx.p, ctx.axis)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,  # noqa: A002
              out: Any = None) -> Tensor:
    """``input`` divided by its p-norm along ``dim``: x / max(‖x‖_p, eps) (PyTorch's
    ``F.normalize``; the eps guard is a clamp, so tiny vectors are divided by eps)."""
    if out is not None:
        raise TypeError("normalize: out= is not supported; use the returned tensor")
    x = input if isinstance(input, Tensor) else Tensor(input)
    axis = normalize_dim("normalize", dim, x.ndim)
    if x.ndim == 0:  # a 0-d tensor is its own one-element vector: x / max(|x|, eps)
        return Normalize.apply(x.reshape(1), p=float(p), axis=0, eps=float(eps)).reshape(())
    return Normalize.apply(x, p=float(p), axis=axis, eps=float(eps))


class CosineSimilarity(Function):
    """c = Σ_d a b / (m_a m_b), m = max(‖·‖₂, eps) for each operand separately (PyTorch 2.x).

    ā = c̄ (b/(m_a m_b) − c [‖a‖ ≥ eps] a/(‖a‖ m_a)), and b̄ likewise; summed over broadcast
    dimensions.
    """

    @staticmethod
    def forward(ctx, a, b, axis=1, eps=1e-8):
        shape = xp.broadcast_shapes(a.shape, b.shape)
        a2, b2 = xp.broadcast_to(a, shape), xp.broadcast_to(b, shape)
        na, nb = _pnorm(a2, 2, axis), _pnorm(b2, 2, axis)
        ma, mb = xp.maximum(na, eps), xp.maximum(nb, eps)
        c = (a2 * b2).sum(axis=axis, keepdims=True) / (ma * mb)
        ctx.saved = a2, b2, na, nb, ma, mb, c
        ctx.shapes, ctx.axis, ctx.eps = (a.shape, b.shape), axis, eps
        return xp.squeeze(c, axis).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, dout):
        a, b, na, nb, ma, mb, c = ctx.saved
        g = xp.expand_dims(dout, ctx.axis)
        eps = ctx.eps

        def grad(x, y, nx, mx, my):
            own = (nx >= eps) * c * _pnorm_grad(x, nx, 2, ctx.axis) / mx
            return g * (y / (mx * my) - own)

        da = unbroadcast(grad(a, b, na, ma, mb), ctx.shapes[0]) if ctx.needs_input_grad[0] \
            else None
        db = unbroadcast(grad(b, a, nb, mb, ma), ctx.shapes[1]) if ctx.needs_input_grad[1] \
            else None
        return da, db


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """The cosine of the angle between x1 and x2 along ``dim`` (they broadcast):
    Σ x1 x2 / (max(‖x1‖, eps) · max(‖x2‖, eps)), PyTorch 2.x's formula (each norm clamped)."""
    a = x1 if isinstance(x1, Tensor) else Tensor(x1)
    b = x2 if isinstance(x2, Tensor) else Tensor(x2)
    shape = broadcast_shape("cosine_similarity", a.shape, b.shape)
    if a.dtype != b.dtype:
        raise RuntimeError(f"cosine_similarity: expected x1 and x2 of the same dtype, got "
                           f"{a.dtype} and {b.dtype}")
    axis = normalize_dim("cosine_similarity", dim, len(shape))
    return CosineSimilarity.apply(a, b, axis=axis, eps=float(eps))


class PairwiseDistance(Function):
    """d = ‖a − b + eps‖_p along the last dimension.   ā = d̄ ∂‖v‖/∂v,  b̄ = −ā (unbroadcast)."""

    @staticmethod
    def forward(ctx, a, b, p=2.0, eps=1e-6, keepdim=False):
        v = a - b + eps
        axis = v.ndim - 1
        n = _pnorm(v, p, axis)
        ctx.v, ctx.n, ctx.p, ctx.axis, ctx.keepdim = v, n, p, axis, keepdim
        ctx.shapes = a.shape, b.shape
        return (n if keepdim else xp.squeeze(n, axis)).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, dout):
        g = dout if ctx.keepdim else xp.expand_dims(dout, ctx.axis)
        dv = g * _pnorm_grad(ctx.v, ctx.n, ctx.p, ctx.axis)
        da = unbroadcast(dv, ctx.shapes[0]) if ctx.needs_input_grad[0] else None
        db = unbroadcast(-dv, ctx.shapes[1]) if ctx.needs_input_grad[1] else None
        return da, db


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """The p-norm distance ‖x1 − x2 + eps‖_p along the last dimension (PyTorch's
    ``F.pairwise_distance``; eps is added to the difference, as PyTorch)."""
    a = x1 if isinstance(x1, Tensor) else Tensor(x1)
    b = x2 if isinstance(x2, Tensor) else Tensor(x2)
    shape = broadcast_shape("pairwise_distance", a.shape, b.shape)
    if not shape:
        raise RuntimeError("pairwise_distance: inputs must have at least one dimension")
    return PairwiseDistance.apply(a, b, p=float(p), eps=float(eps), keepdim=bool(keepdim))


class Cdist(Function):
    """d[..., i, j] = ‖a[..., i, :] − b[..., j, :]‖_p for every pair of rows.

    With v = aᵢ − bⱼ: āᵢ = Σⱼ d̄ᵢⱼ ∂‖v‖/∂v,  b̄ⱼ = −Σᵢ d̄ᵢⱼ ∂‖v‖/∂v (summed over broadcast batch
    dimensions).
    """

    @staticmethod
    def forward(ctx, a, b, p=2.0):
        v = a[..., :, None, :] - b[..., None, :, :]  # (..., P, R, M)
        n = _pnorm(v, p, -1)
        ctx.v, ctx.n, ctx.p, ctx.shapes = v, n, p, (a.shape, b.shape)
        return n[..., 0].astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, dout):
        dv = dout[..., None] * _pnorm_grad(ctx.v, ctx.n, ctx.p, -1)
        sa, sb = ctx.shapes
        da = unbroadcast(dv.sum(axis=-2), sa) if ctx.needs_input_grad[0] else None
        db = unbroadcast(-dv.sum(axis=-3), sb) if ctx.needs_input_grad[1] else None
        return da, db


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The p-norm distance between every row of x1 (..., P, M) and every row of x2 (..., R, M):
    (..., P, R), batch dimensions broadcasting (``torch.cdist``; computed directly, without
    PyTorch's matrix-product shortcut for p = 2)."""
    a = x1 if isinstance(x1, Tensor) else Tensor(x1)
    b = x2 if isinstance(x2, Tensor) else Tensor(x2)
    if a.ndim < 2 or b.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {a.ndim}D, X2 got: "
                           f"{b.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} "
                           f"X2: {b.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    broadcast_shape("cdist", a.shape[:-2], b.shape[:-2])
    return Cdist.apply(a, b, p=float(p))
