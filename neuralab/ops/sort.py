"""Sorting and order statistics: sort, argsort, topk, kthvalue, median, mode.

Each selects elements of x along one dimension and returns their values and indices. The values
are x gathered at the indices, so the backward scatters: x̄ = ȳ put back at the selected indices,
0 elsewhere (a selection is linear in x once the order is fixed; at ties the order, and with it
the gradient, follows the returned indices).

Sorting is stable (equal elements keep their order; descending too) and nan sorts as the largest
value, as in PyTorch. Where PyTorch's choice among tied elements is an implementation detail
(``topk``, ``kthvalue`` and ``median`` select with a partial sort), the index returned here is that
of the stable sort; the values agree.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import normalize_dim
from neuralab.ops.reduce import ValuesIndices

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode"]

TENSOR_METHODS = {name: name for name in __all__}
REFLECTED: dict[str, str] = {}


def _stable_order(x: Any, axis: int, descending: bool) -> Any:
    """Indices that sort x along ``axis`` stably; nan last ascending, first descending."""
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable")
    # Reverse, sort ascending, reverse back: the largest first, equal elements in their
    # original order (negating would break for nan and for the smallest integer).
    n = x.shape[axis]
    flipped = xp.argsort(xp.flip(x, axis), axis=axis, kind="stable")
    return (n - 1 - xp.flip(flipped, axis)).astype(xp.int64)


def _nan_count(x: Any, axis: int) -> Any:
    if x.dtype.kind != "f":
        return xp.zeros(x.shape[:axis] + (1,) + x.shape[axis + 1:], xp.int64)
    return xp.isnan(x).sum(axis=axis, keepdims=True)


class _Selection(Function):
    """(y, i) = elements of x selected along ``dim`` and their indices.   x̄ = ȳ scattered to i.

    Subclasses define ``select(x, axis, **params) -> (values, indices)`` on arrays with at least
    one dimension, keeping the axis (of the selection's length); ``reduces`` says whether a
    single element is selected (then ``keepdim`` decides if the axis stays).
    """

    reduces = True

    @classmethod
    def forward(cls, ctx, x, dim=-1, keepdim=False, **params):
        x1 = x.reshape(1) if x.ndim == 0 else x  # a 0-d tensor is a row of one
        values, indices = cls.select(x1, dim, **params)
        indices = indices.astype(xp.int64, copy=False)
        ctx.shape, ctx.shape1, ctx.axis, ctx.indices = x.shape, x1.shape, dim, indices
        if x.ndim == 0:
            return values.reshape(()), indices.reshape(())
        if cls.reduces and not keepdim:
            return values.squeeze(dim), indices.squeeze(dim)
        return values, indices

    @staticmethod
    def backward(ctx, dvalues, dindices):
        dx = xp.zeros(ctx.shape1, dtype=dvalues.dtype)
        if dx.size:
            xp.put_along_axis(dx, ctx.indices, dvalues.reshape(ctx.indices.shape), axis=ctx.axis)
        return dx.reshape(ctx.shape)


class Sort(_Selection):
    """(y, i) = x sorted along ``dim`` (stable) and the permutation.   x̄ = ȳ scattered to i."""

    reduces = False

    @staticmethod
    def select(x, axis, descending=False):
        order = _stable_order(x, axis, descending)
        return xp.take_along_axis(x, order, axis=axis), order


class TopK(_Selection):
    """(y, i) = the k largest (or smallest) elements along ``dim``, sorted.   x̄ = ȳ at i."""

    reduces = False

    @staticmethod
    def select(x, axis, k=1, largest=True):
        order = xp.take(_stable_order(x, axis, largest), xp.arange(k), axis=axis)
        return xp.take_along_axis(x, order, axis=axis), order


class KthValue(_Selection):
    """(y, i) = the k-th smallest element along ``dim`` (k from 1).   x̄ = ȳ at i."""

    @staticmethod
    def select(x, axis, k=1):
        order = xp.take(_stable_order(x, axis, False), [k - 1], axis=axis)
        return xp.take_along_axis(x, order, axis=axis), order


class Median(_Selection):
    """(y, i) = the lower median along ``dim``: the element of rank ⌊(n − 1)/2⌋ in sorted order
    (no average of the two middle elements, as PyTorch). A row with nan has median nan (its first
    nan); with ``ignore_nan`` (nanmedian) the median of the other elements.   x̄ = ȳ at i.
    """

    @staticmethod
    def select(x, axis, ignore_nan=False):
        order = _stable_order(x, axis, False)  # nan sorts last
        nans = _nan_count(x, axis)
        n = x.shape[axis]
        if ignore_nan:
            valid = n - nans
            rank = xp.where(valid > 0, (valid - 1) // 2, 0)
        else:
            rank = xp.where(nans > 0, n - nans, (n - 1) // 2)
        picked = xp.take_along_axis(order, rank, axis=axis)
        return xp.take_along_axis(x, picked, axis=axis), picked


class MedianAll(Function):
    """y = the lower median of all elements (nan if any is nan; ``ignore_nan``: of the others).

    x̄ = ȳ shared evenly among the elements equal to y (among the nans when y is nan), as PyTorch
    distributes the gradient of a global median: a convention at ties.
    """

    @staticmethod
    def forward(ctx, x, ignore_nan=False):
        flat = x.reshape(-1)
        values, _ = Median.select(flat, 0, ignore_nan=ignore_nan)
        y = values.reshape(())
        ctx.x, ctx.y = x, y
        return y

    @staticmethod
    def backward(ctx, dout):
        x, y = ctx.x, ctx.y
        share = x == y
        if x.dtype.kind == "f" and xp.isnan(y):
            share = xp.isnan(x)
        return share * (dout / share.sum()).astype(x.dtype, copy=False)


class Mode(_Selection):
    """(y, i) = the most frequent value along ``dim`` (the smallest among equally frequent ones)
    and the index of its last occurrence, as PyTorch.   x̄ = ȳ at i.
    """

    @staticmethod
    def select(x, axis):
        moved = xp.moveaxis(x, axis, -1)
        rows = moved.reshape(-1, moved.shape[-1])  # (R, n)
        s = xp.sort(rows, axis=-1)
        n = s.shape[-1]
        position = xp.broadcast_to(xp.arange(n), s.shape)
        starts = xp.ones(s.shape, bool)
        starts[:, 1:] = s[:, 1:] != s[:, :-1]
        ends = xp.ones(s.shape, bool)
        ends[:, :-1] = starts[:, 1:]
        first = xp.maximum.accumulate(xp.where(starts, position, 0), axis=-1)
        last = xp.flip(xp.minimum.accumulate(xp.flip(xp.where(ends, position, n - 1), -1),
                                             axis=-1), -1)
        best = xp.argmax(last - first, axis=-1)  # the first maximum: the smallest value
        value = s[xp.arange(s.shape[0]), best]
        index = xp.where(rows == value[:, None], position, -1).max(axis=-1)
        shape = moved.shape[:-1] + (1,)
        values = xp.moveaxis(value.reshape(shape), -1, axis)
        indices = xp.moveaxis(index.reshape(shape), -1, axis)
        return values, indices


# --------------------------------------------------------------------------- user-facing functions


def _input(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _dim(op: str, dim: Any, x: Tensor) -> int:
    return normalize_dim(op, dim, x.ndim)


def _length(x: Tensor, axis: int) -> int:
    return x.shape[axis] if x.ndim else 1


def sort(input: Any, dim: int = -1, descending: bool = False,  # noqa: A002  (torch's names)
         stable: bool = False) -> ValuesIndices:
    """Sort along ``dim``: a ``(values, indices)`` named tuple, ``values = input`` gathered at
    ``indices``.

    Always stable (``stable`` is accepted for PyTorch's signature); nan counts as the largest.
    """
    x = _input(input)
    values, indices = Sort.apply(x, dim=_dim("sort", dim, x), descending=bool(descending))
    return ValuesIndices(values, indices)


def argsort(input: Any, dim: int = -1, descending: bool = False,  # noqa: A002
            stable: bool = False) -> Tensor:
    """The int64 indices that sort ``input`` along ``dim`` (stable); no gradient."""
    return sort(input, dim, descending, stable).indices


def msort(input: Any) -> Tensor:  # noqa: A002
    """``input`` sorted along its first dimension (the values of ``sort(input, dim=0)``)."""
    return sort(input, 0).values


def topk(input: Any, k: int, dim: int = -1, largest: bool = True,  # noqa: A002
         sorted: bool = True) -> ValuesIndices:  # noqa: A002
    """The ``k`` largest (``largest=False``: smallest) elements along ``dim`` and their indices,
    in sorted order (also with ``sorted=False``, which allows any order)."""
    x = _input(input)
    axis = _dim("topk", dim, x)
    n = _length(x, axis)
    if isinstance(k, bool) or not isinstance(k, (int, xp.integer)) or not 0 <= k <= n:
        raise IndexError(f"topk: k ({k!r}) is out of range for dimension {dim} of size {n} "
                         "(expected 0 <= k <= size)")
    values, indices = TopK.apply(x, dim=axis, k=int(k), largest=bool(largest))
    return ValuesIndices(values, indices)


def kthvalue(input: Any, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:  # noqa: A002
    """The ``k``-th smallest element along ``dim`` (k counts from 1) and its index."""
    x = _input(input)
    axis = _dim("kthvalue", dim, x)
    n = _length(x, axis)
    if isinstance(k, bool) or not isinstance(k, (int, xp.integer)) or not 1 <= k <= n:
        raise IndexError(f"kthvalue: k ({k!r}) is out of range for dimension {dim} of size {n} "
                         "(expected 1 <= k <= size)")
    values, indices = KthValue.apply(x, dim=axis, keepdim=keepdim, k=int(k))
    return ValuesIndices(values, indices)


def _median(op: str, input: Any, dim: Any, keepdim: bool, ignore_nan: bool) -> Any:  # noqa: A002
    x = _input(input)
    if dim is None:
        if x.size == 0:
            return Tensor(xp.asarray(xp.nan, dtype=x.dtype if x.dtype.kind == "f" else
                                     xp.float32))
        return MedianAll.apply(x, ignore_nan=ignore_nan)
    axis = _dim(op, dim, x)
    if _length(x, axis) == 0:
        raise IndexError(f"{op}: dimension {dim} is empty (input shape {x.shape}); there is no "
                         "median along it")
    values, indices = Median.apply(x, dim=axis, keepdim=keepdim, ignore_nan=ignore_nan)
    return ValuesIndices(values, indices)


def median(input: Any, dim: int | None = None, keepdim: bool = False) -> Any:  # noqa: A002
    """The lower median (rank ⌊(n − 1)/2⌋ of the sorted values; no averaging, as PyTorch).

    ``median(x)`` is a 0-d tensor over all elements; ``median(x, dim)`` a ``(values, indices)``
    named tuple. nan propagates (use :func:`nanmedian` to ignore it).
    """
    return _median("median", input, dim, keepdim, ignore_nan=False)


def nanmedian(input: Any, dim: int | None = None, keepdim: bool = False) -> Any:  # noqa: A002
    """:func:`median` ignoring nan (nan only where every element is nan)."""
    return _median("nanmedian", input, dim, keepdim, ignore_nan=True)


def mode(input: Any, dim: int = -1, keepdim: bool = False) -> ValuesIndices:  # noqa: A002
    """The most frequent value along ``dim`` (the smallest among ties) and the index of its last
    occurrence: a ``(values, indices)`` named tuple."""
    x = _input(input)
    axis = _dim("mode", dim, x)
    if _length(x, axis) == 0:
        raise IndexError(f"mode: dimension {dim} is empty (input shape {x.shape})")
    values, indices = Mode.apply(x, dim=axis, keepdim=keepdim)
    return ValuesIndices(values, indices)
