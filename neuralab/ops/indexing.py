"""Indexing: ``x[index]`` with ints, slices, None, Ellipsis, integer arrays and boolean masks.

Selecting picks some elements of x (possibly the same element several times, as when an embedding
table is indexed by word ids, Lecture 7); the backward pass routes each output's gradient back to
the element it was read from, and adds up the gradients of an element read more than once.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.kernels.layout import axis_order, zeros_in_order

__all__ = ["getitem"]


def _component(item: Any) -> tuple[Any, bool]:
    """One index component as NumPy understands it, and whether it is an integer array.

    Tensors and lists become arrays; ints, slices, None and Ellipsis pass through.
    """
    if isinstance(item, Tensor):
        item = item.data
    elif isinstance(item, (list, tuple, range)):
        try:
            item = xp.asarray(item)
        except ValueError:
            raise IndexError(f"getitem: a list index must be rectangular, got {item!r}") from None
        if item.size == 0:
            item = item.astype(xp.int64)
    if isinstance(item, xp.ndarray):
        if item.dtype.kind not in "iub":
            raise IndexError(f"getitem: tensors and arrays used as indices must hold integers or "
                             f"bools, got dtype {item.dtype}; convert with .long()")
        return item, item.dtype.kind != "b"
    if item is None or item is Ellipsis or isinstance(item, (slice, bool, xp.bool_)):
        return item, False
    if isinstance(item, (int, xp.integer)):
        return int(item), False
    raise IndexError(f"getitem: cannot index with an object of type {type(item).__name__}; use "
                     "ints, slices, None, ..., integer tensors/lists or bool masks")


def normalize_index(shape: tuple[int, ...], index: Any) -> tuple[tuple, bool]:
    """Validate ``index`` against ``shape``; return the NumPy index and whether it can repeat
    elements (it has integer arrays, so the backward pass must add rather than assign).

    Raises:
        IndexError: naming the dimension, its size and the offending index.
    """
    items = index if isinstance(index, tuple) else (index,)
    parts, repeats = [], False
    for item in items:
        part, is_int_array = _component(item)
        parts.append(part)
        repeats |= is_int_array
    if sum(p is Ellipsis for p in parts) > 1:
        raise IndexError("getitem: an index can only have a single ellipsis (...)")

    def consumed(p: Any) -> int:
        if p is None or p is Ellipsis or isinstance(p, (bool, xp.bool_)):
            return 0
        if isinstance(p, xp.ndarray) and p.dtype == xp.bool_:
            return p.ndim
        return 1

    used = sum(consumed(p) for p in parts)
    if used > len(shape):
        raise IndexError(f"getitem: too many indices for a tensor of dimension {len(shape)} "
                         f"(shape {shape}): the index uses {used} dimensions")
    dim = 0
    for p in parts:
        if p is Ellipsis:
            dim += len(shape) - used
            continue
        width = consumed(p)
        if isinstance(p, int) and not isinstance(p, bool):
            n = shape[dim]
            if not -n <= p < n:
                raise IndexError(f"getitem: index {p} is out of range for dimension {dim} of "
                                 f"size {n} (tensor shape {shape})")
        elif isinstance(p, xp.ndarray) and p.dtype == xp.bool_:
            if p.shape != shape[dim:dim + width]:
                raise IndexError(f"getitem: the boolean mask of shape {p.shape} does not match "
                                 f"dimensions {dim}..{dim + width - 1} of the tensor, of sizes "
                                 f"{shape[dim:dim + width]} (tensor shape {shape})")
        elif isinstance(p, xp.ndarray) and p.size:
            n = shape[dim]
            lo, hi = int(p.min()), int(p.max())
            bad = hi if hi >= n else lo
            if hi >= n or lo < -n:
                raise IndexError(f"getitem: index {bad} is out of range for dimension {dim} of "
                                 f"size {n} (tensor shape {shape})")
        dim += width
    arrays = [p for p in parts if isinstance(p, xp.ndarray) and p.dtype != xp.bool_]
    if len(arrays) > 1:
        try:
            xp.broadcast_shapes(*(a.shape for a in arrays))
        except ValueError:
            raise IndexError("getitem: the integer index arrays of shapes "
                             f"{[a.shape for a in arrays]} cannot be broadcast together") from None
    return tuple(parts), repeats


class GetItem(Function):
    """y = x[index].

    x̄ = zeros with ȳ written back at the selected positions; with integer arrays the same
    element can be selected several times, and its gradients are added (``add.at``, a
    scatter-add), not overwritten.
    """

    @staticmethod
    def check(x, index=()):
        normalize_index(x.shape, index)

    @staticmethod
    def forward(ctx, x, index=()):
        index, repeats = normalize_index(x.shape, index)
        ctx.shape, ctx.index, ctx.repeats = x.shape, index, repeats
        ctx.order = axis_order(x)
        return xp.asarray(x[index])

    @staticmethod
    def backward(ctx, dout):
        dx = zeros_in_order(ctx.shape, dout.dtype, ctx.order)  # x̄ in x's layout
        if ctx.repeats:
            xp.add.at(dx, ctx.index, dout)
        else:  # slices and masks select each element at most once: assignment suffices
            dx[ctx.index] = dout
        return dx


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` with NumPy's (and PyTorch's) rules, differentiable.

    Supports ints, slices, None, Ellipsis, integer tensors/arrays/lists (advanced indexing, e.g.
    ``logits[range(N), targets]`` picks each example's score of its true class, Lecture 4) and
    bool masks. Out-of-range indices raise IndexError naming the dimension and its size.
    """
    return GetItem.apply(x, index=index)
