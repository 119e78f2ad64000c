"""Scans: running sums, products, extrema and log-sum-exps along one dimension.

A scan y_j = x_0 ⊕ x_1 ⊕ ... ⊕ x_j makes every output depend on every earlier input, so its
backward is a scan the other way: x̄_i = Σ_{j ≥ i} ȳ_j ∂y_j/∂x_i, a reversed cumulative sum.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import normalize_dim
from neuralab.ops._promote import floating
from neuralab.ops.reduce import ValuesIndices

__all__ = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"]

TENSOR_METHODS = {name: name for name in __all__}
REFLECTED: dict[str, str] = {}


def _axis(op: str, dim: Any, ndim: int) -> int:
    if dim is None:
        raise TypeError(f"{op}: dim is required (the dimension to scan along), e.g. {op}(x, dim=0)")
    return normalize_dim(op, dim, ndim)


def _reverse_cumsum(a: Any, axis: int) -> Any:
    """s_i = Σ_{j ≥ i} a_j along ``axis``."""
    return xp.flip(xp.cumsum(xp.flip(a, axis), axis=axis), axis)


def _scan_dtype(x: Any, dtype: Any) -> Any:
    if dtype is not None:
        return xp.dtype(dtype)
    return x.dtype if x.dtype.kind == "f" else xp.dtype(xp.int64)  # ints and bools: int64


class Cumsum(Function):
    """y_j = Σ_{i ≤ j} x_i along ``dim``.   x̄_i = Σ_{j ≥ i} ȳ_j (a reversed cumulative sum)."""

    @staticmethod
    def forward(ctx, x, dim=0, dtype=None):
        ctx.axis, ctx.dtype = dim, x.dtype
        if x.ndim == 0:
            return x.astype(_scan_dtype(x, dtype))
        return xp.cumsum(x, axis=dim, dtype=_scan_dtype(x, dtype))

    @staticmethod
    def backward(ctx, dout):
        if dout.ndim == 0:
            return dout.astype(ctx.dtype)
        return _reverse_cumsum(dout, ctx.axis).astype(ctx.dtype, copy=False)


class Cumprod(Function):
    """y_j = Π_{i ≤ j} x_i along ``dim``.

    x̄_i = Σ_{j ≥ i} ȳ_j Π_{m ≤ j, m ≠ i} x_m. Before the first zero z of a row this is
    Σ_{j ≥ i} ȳ_j y_j / x_i; at z it is Σ_{j ≥ z} ȳ_j y′_j with y′ the running product of the
    row with x_z replaced by 1; after z every product contains x_z = 0, so x̄ = 0 there. This is
    the exact gradient with zeros, as PyTorch computes it.
    """

    @staticmethod
    def forward(ctx, x, dim=0, dtype=None):
        out_dtype = _scan_dtype(x, dtype)
        if x.ndim == 0:
            ctx.axis = None
            return x.astype(out_dtype)
        y = xp.cumprod(x, axis=dim, dtype=out_dtype)
        ctx.x, ctx.y, ctx.axis = x, y, dim
        return y

    @staticmethod
    def backward(ctx, dout):
        if ctx.axis is None or dout.size == 0:
            return dout.astype(ctx.x.dtype if ctx.axis is not None else dout.dtype)
        x, y, axis = ctx.x, ctx.y, ctx.axis
        n = x.shape[axis]
        position = xp.arange(n).reshape([-1 if a == axis else 1 for a in range(x.ndim)])
        zero = x == 0
        # first zero of each row (n where the row has none), broadcast back along the axis
        first_zero = xp.where(zero.any(axis=axis, keepdims=True), xp.argmax(zero, axis=axis,
                                                                             keepdims=True), n)
        before = position < first_zero
        at = position == first_zero
        safe_x = xp.where(before, x, 1)
        dx = xp.where(before, _reverse_cumsum(dout * y, axis) / safe_x, 0)
        if at.any():
            y_without = xp.cumprod(xp.where(at, 1, x), axis=axis)
            dx = dx + xp.where(at, _reverse_cumsum(dout * xp.where(position >= first_zero,
                                                                   y_without, 0), axis), 0)
        return dx.astype(x.dtype, copy=False)


class _CumExtremum(Function):
    """(y, i)_j = the running maximum (or minimum) of x_0..x_j and the index where it is attained.

    Ties take the LAST index among equal values, and a nan propagates (its index is the latest
    nan): PyTorch's conventions. x̄ = ȳ_j added into x at index i_j.
    """

    better = staticmethod(xp.maximum)

    @classmethod
    def forward(cls, ctx, x, dim=0):
        if x.ndim == 0:
            ctx.axis = None
            return x.copy(), xp.zeros((), xp.int64)
        values = cls.better.accumulate(x, axis=dim)
        hits = x == values
        if x.dtype.kind == "f":
            hits |= xp.isnan(x)
        position = xp.arange(x.shape[dim]).reshape([-1 if a == dim else 1 for a in range(x.ndim)])
        # the last hit at or before j: each hit's position, carried forward by a running maximum
        indices = xp.maximum.accumulate(xp.where(hits, position, 0), axis=dim).astype(xp.int64)
        ctx.axis, ctx.indices, ctx.shape = dim, indices, x.shape
        return values, indices

    @staticmethod
    def backward(ctx, dvalues, dindices):
        if ctx.axis is None:
            return dvalues
        dx = xp.zeros(ctx.shape, dtype=dvalues.dtype)
        if dx.size == 0:
            return dx
        # several j may share an index: accumulate, as a scatter-add
        moved_i = xp.moveaxis(ctx.indices, ctx.axis, -1).reshape(-1, ctx.shape[ctx.axis])
        moved_g = xp.moveaxis(dvalues, ctx.axis, -1).reshape(moved_i.shape)
        flat = xp.zeros(moved_i.shape, dtype=dvalues.dtype)
        rows = xp.arange(moved_i.shape[0])[:, None]
        xp.add.at(flat, (xp.broadcast_to(rows, moved_i.shape), moved_i), moved_g)
        moved_shape = xp.moveaxis(dx, ctx.axis, -1).shape
        return xp.moveaxis(flat.reshape(moved_shape), -1, ctx.axis)


class Cummax(_CumExtremum):
    __doc__ = _CumExtremum.__doc__


class Cummin(_CumExtremum):
    __doc__ = (_CumExtremum.__doc__ or "").replace("maximum (or minimum)", "minimum")
    better = staticmethod(xp.minimum)


class Logcumsumexp(Function):
    """y_j = ln Σ_{i ≤ j} e^(x_i) along ``dim`` (a running log-sum-exp, stable via logaddexp).

    x̄_i = Σ_{j ≥ i} ȳ_j e^(x_i − y_j), evaluated without overflow as
    e^(x_i + L⁺_i) − e^(x_i + L⁻_i), where L^± is the reversed running log-sum-exp of
    ln(max(±ȳ, 0)) − y.
    """

    @staticmethod
    def forward(ctx, x, dim=0):
        if x.ndim == 0:
            ctx.axis = None
            return x.copy()
        y = xp.logaddexp.accumulate(x, axis=dim)
        ctx.x, ctx.y, ctx.axis = x, y, dim
        return y

    @staticmethod
    def backward(ctx, dout):
        if ctx.axis is None:
            return dout
        x, y, axis = ctx.x, ctx.y, ctx.axis
        with xp.errstate(divide="ignore", invalid="ignore"):
            parts = []
            for g in (xp.maximum(dout, 0), xp.maximum(-dout, 0)):
                term = xp.log(g) - y
                reverse = xp.flip(xp.logaddexp.accumulate(xp.flip(term, axis), axis=axis), axis)
                parts.append(xp.exp(x + reverse))
            return xp.nan_to_num(parts[0] - parts[1], nan=0.0, posinf=xp.inf, neginf=-xp.inf)


# --------------------------------------------------------------------------- user-facing functions


def _input(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def cumsum(input: Any, dim: int, *, dtype: Any = None) -> Tensor:  # noqa: A002  (torch's names)
    """Running sum along ``dim``: y_j = x_0 + ... + x_j (integers and bools give int64).

    Args:
        input: the tensor.
        dim: the dimension to scan along (negative counts from the end).
        dtype: the result's dtype (the input is cast first, as PyTorch).
    """
    x = _input(input)
    return Cumsum.apply(x, dim=_axis("cumsum", dim, x.ndim), dtype=dtype)


def cumprod(input: Any, dim: int, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Running product along ``dim``: y_j = x_0 · ... · x_j; exact gradient with zeros."""
    x = _input(input)
    return Cumprod.apply(x, dim=_axis("cumprod", dim, x.ndim), dtype=dtype)


def cummax(input: Any, dim: int) -> ValuesIndices:  # noqa: A002
    """Running maximum along ``dim`` and its index: a ``(values, indices)`` named tuple.

    Among equal values the index is the last one; nan propagates (PyTorch's conventions).
    """
    x = _input(input)
    values, indices = Cummax.apply(x, dim=_axis("cummax", dim, x.ndim))
    return ValuesIndices(values, indices)


def cummin(input: Any, dim: int) -> ValuesIndices:  # noqa: A002
    """Running minimum along ``dim`` and its index; see :func:`cummax`."""
    x = _input(input)
    values, indices = Cummin.apply(x, dim=_axis("cummin", dim, x.ndim))
    return ValuesIndices(values, indices)


def logcumsumexp(input: Any, dim: int) -> Tensor:  # noqa: A002
    """Running log-sum-exp along ``dim``: y_j = ln Σ_{i ≤ j} e^(x_i), without overflow."""
    x = floating(input)
    return Logcumsumexp.apply(x, dim=_axis("logcumsumexp", dim, x.ndim))
