"""Indexing: ``x[index]`` with ints, slices, None, Ellipsis, integer arrays and boolean masks.

Selecting picks some elements of x (possibly the same element several times, as when an embedding
table is indexed by word ids, Lecture 7); the backward pass routes each output's gradient back to
the element it was read from, and adds up the gradients of an element read more than once.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.function import Function, unbroadcast
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.kernels.layout import axis_order, zeros_in_order
from neuralab.ops._checks import IndexOutOfRange

__all__ = ["getitem", "index_put"]


def _component(item: Any) -> tuple[Any, bool]:
    """One index component as NumPy understands it, and whether it is an integer array.

    Tensors and lists become arrays; ints, slices, None and Ellipsis pass through.
    """
    if isinstance(item, Tensor):
        item = item.array
        if item.ndim == 0 and item.dtype.kind in "iu":
            return int(item), False  # PyTorch: a 0-d integer tensor indexes like an int
    elif isinstance(item, (list, tuple, range)):
        try:
            item = xp.asarray(item)
        except ValueError:
            raise IndexError(f"getitem: a list index must be rectangular, got {item!r}") from None
        if item.size == 0:
            item = item.astype(xp.int64)
    if isinstance(item, xp.ndarray):
        if item.dtype.kind not in "iub":
            raise IndexError(f"getitem: tensors used as indices must be long, int, byte or bool "
                             f"tensors, got dtype {item.dtype}; convert with .long()")
        return item, item.dtype.kind != "b"
    if isinstance(item, slice):
        return slice(*(None if v is None else _as_int(v)
                       for v in (item.start, item.stop, item.step))), False
    if item is None or item is Ellipsis or isinstance(item, (bool, xp.bool_)):
        return item, False
    if isinstance(item, (int, xp.integer)):
        return int(item), False
    raise IndexError(f"getitem: cannot index with an object of type {type(item).__name__}; use "
                     "ints, slices, None, ..., integer tensors/lists or bool masks")


def normalize_index(shape: tuple[int, ...], index: Any) -> tuple[tuple, tuple | None, bool]:
    """Validate ``index`` against ``shape`` and split it into PyTorch's two steps.

    PyTorch applies the basic part of an index first (ints select, slices slice, None adds a
    dimension) and then the advanced part (integer tensors, bool masks) on the result. An int is
    therefore not an advanced index, and the advanced dimensions go where the tensors stand
    whenever the tensors are adjacent once the ints are gone: ``x[1, :, d]`` with a tensor ``d``
    keeps d's dimensions in place, where NumPy (which counts the int as advanced) would move them
    first. Returns ``(basic, advanced, repeats)``: ``x[basic][advanced]`` is the result
    (``advanced`` is None when there is no advanced part) and ``repeats`` says whether an
    element can be selected twice (the backward pass must then add rather than assign).

    Raises:
        IndexError: naming the dimension, its size and the offending index.
        ValueError: for a slice with a step below 1 (PyTorch's message).
    """
    items = index if isinstance(index, tuple) else (index,)
    parts = [_component(item)[0] for item in items]
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
        raise IndexError(f"getitem: too many indices for tensor of dimension {len(shape)} "
                         f"(shape {shape}): the index uses {used} dimensions")
    basic: list[Any] = []
    advanced: list[Any] = []
    arrays: list[Any] = []
    repeats = False
    dim = 0
    for p in parts:
        if p is Ellipsis:
            k = len(shape) - used
            basic += [slice(None)] * k
            advanced += [slice(None)] * k
            dim += k
        elif p is None:
            basic.append(None)
            advanced.append(slice(None))
        elif isinstance(p, (bool, xp.bool_)):
            advanced.append(bool(p))  # a 0-d mask: a new dimension of size 1 (or 0)
            arrays.append(xp.asarray(p))
        elif isinstance(p, int):
            n = shape[dim]
            if not -n <= p < n:
                raise IndexOutOfRange(f"getitem: index {p} is out of bounds for dimension {dim} "
                                      f"with size {n} (tensor shape {shape})")
            basic.append(p)
            dim += 1
        elif isinstance(p, slice):
            if p.step is not None and _as_int(p.step) <= 0:
                raise ValueError("step must be greater than zero")
            basic.append(p)
            advanced.append(slice(None))
            dim += 1
        elif p.dtype == xp.bool_:
            width = p.ndim
            if p.shape != shape[dim:dim + width]:
                raise IndexError(f"getitem: the shape of the mask {list(p.shape)} at index {dim} "
                                 f"does not match the shape of the indexed tensor "
                                 f"{list(shape)} at index {dim}")
            basic += [slice(None)] * width
            advanced.append(p)
            arrays.append(p)
            dim += width
        else:
            n = shape[dim]
            if p.size:
                lo, hi = int(p.min()), int(p.max())
                if hi >= n or lo < -n:
                    raise IndexOutOfRange(f"getitem: index {hi if hi >= n else lo} is out of "
                                          f"bounds for dimension {dim} with size {n} (tensor "
                                          f"shape {shape})")
            basic.append(slice(None))
            advanced.append(p)
            arrays.append(p)
            repeats = True
            dim += 1
    int_arrays = [a for a in arrays if a.dtype != xp.bool_]
    if len(int_arrays) > 1:
        try:
            xp.broadcast_shapes(*(a.shape for a in int_arrays))
        except ValueError:
            shapes = [list(a.shape) for a in int_arrays]
            raise IndexError("getitem: shape mismatch: indexing tensors could not be broadcast "
                             f"together with shapes {shapes}") from None
    return tuple(basic), (tuple(advanced) if arrays else None), repeats


def _as_int(value: Any) -> int:
    return int(value.array) if isinstance(value, Tensor) else int(value)


def _select(a: Any, basic: tuple, advanced: tuple | None) -> Any:
    """a[basic][advanced], the two steps of PyTorch's indexing.

    ``a[basic + (...,)]``: with ints only NumPy would return a scalar copy; the trailing
    ellipsis keeps a 0-d view, so that ``x[0].mul_(2)`` writes into x as in PyTorch.
    """
    out = a[basic] if any(p is Ellipsis for p in basic) else a[basic + (Ellipsis,)]
    return out if advanced is None else out[advanced]


class GetItem(Function):
    """y = x[index], in PyTorch's two steps: x[basic][advanced] (see normalize_index).

    x̄ = zeros with ȳ written back at the selected positions; with integer arrays the same
    element can be selected several times, and its gradients are added (``add.at``, a
    scatter-add), not overwritten.
    """

    @staticmethod
    def check(x, index=()):
        normalize_index(x.shape, index)

    @staticmethod
    def forward(ctx, x, index=()):
        basic, advanced, repeats = normalize_index(x.shape, index)
        ctx.shape, ctx.basic, ctx.advanced, ctx.repeats = x.shape, basic, advanced, repeats
        ctx.order = axis_order(x)
        return xp.asarray(_select(x, basic, advanced))

    @staticmethod
    def backward(ctx, dout):
        dx = zeros_in_order(ctx.shape, dout.dtype, ctx.order)  # x̄ in x's layout
        if ctx.advanced is None:
            dx[ctx.basic] = dout
        elif ctx.repeats:
            xp.add.at(dx[ctx.basic], ctx.advanced, dout)  # dx[basic] is a view into dx
        else:  # slices and masks select each element at most once: assignment suffices
            dx[ctx.basic][ctx.advanced] = dout
        return dx


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` with PyTorch's rules, differentiable.

    Supports ints, slices (positive steps; PyTorch refuses negative ones with ValueError), None,
    Ellipsis, 0-d integer tensors (as ints), integer tensors/lists (advanced indexing, e.g.
    ``logits[range(N), targets]`` picks each example's score of its true class, Lecture 4) and
    bool masks. As in PyTorch, ints are basic indices: the dimensions of integer tensors stay in
    place when the tensors are adjacent after the ints are removed (``x[1, :, d]``), unlike
    NumPy. Out-of-range indices raise IndexError naming the dimension and its size.
    """
    return GetItem.apply(x, index=index)


class IndexPut(Function):
    """y = x with y[index] = v (v broadcast to the selection), or += v with ``accumulate``.

    x̄ = ȳ with the written positions zeroed (kept with accumulate);  v̄ = ȳ[index] summed over
    the broadcast copies of v.
    """

    @staticmethod
    def forward(ctx, x, v, index=(), accumulate=False):
        basic, advanced, repeats = normalize_index(x.shape, index)
        y = x.copy()
        target = y[basic]
        if advanced is None and not isinstance(target, xp.ndarray):  # every index an int
            y[basic] = v + (target if accumulate else 0)
        elif accumulate:
            xp.add.at(target, (...,) if advanced is None else advanced, v.astype(x.dtype))
        elif advanced is None:
            target[...] = v
        else:
            target[advanced] = v
        ctx.basic, ctx.advanced, ctx.v_shape, ctx.accumulate = basic, advanced, v.shape, accumulate
        return y

    @staticmethod
    def backward(ctx, dout):
        dx = dout if ctx.accumulate else dout.copy()
        dv = xp.asarray(_select(dout, ctx.basic, ctx.advanced))
        if not ctx.accumulate:
            if ctx.advanced is None:
                dx[ctx.basic] = 0
            else:
                dx[ctx.basic][ctx.advanced] = 0
        return dx, unbroadcast(dv, ctx.v_shape) if ctx.needs_input_grad[1] else None


def _value_like(x: Tensor, value: Any) -> Tensor:
    if isinstance(value, Tensor):
        if value.dtype != x.dtype:
            return value.to(x.dtype) if value.dtype.kind == x.dtype.kind == "f" else \
                Tensor._from_op(value.array.astype(x.dtype), None, 0)
        return value
    return Tensor._from_op(xp.asarray(value, dtype=x.dtype), None, 0)


def _check_value(x: Tensor, index: Any, v: Tensor) -> None:
    basic, advanced, _ = normalize_index(x.shape, index)
    shape = xp.shape(_select(xp.broadcast_to(xp.zeros((), dtype=bool), x.shape), basic,
                             advanced))
    # PyTorch lets the value drop leading size-1 dimensions as well as broadcast.
    v_shape = v.shape
    while len(v_shape) > len(shape) and v_shape[0] == 1:
        v_shape = v_shape[1:]
    try:
        if xp.broadcast_shapes(v_shape, shape) != tuple(shape):
            raise ValueError
    except ValueError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(v.shape)} cannot be "
                           f"broadcast to indexing result of shape {list(shape)}") from None


def index_put(input: Tensor, indices: tuple, values: Any,  # noqa: A002
              accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``values`` written (or added, with ``accumulate``) at the
    positions the tuple of index tensors ``indices`` selects (``x[indices] = values``)."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    index = tuple(indices)
    v = _value_like(x, values)
    _check_value(x, index, v)
    return IndexPut.apply(x, v, index=index, accumulate=bool(accumulate))


def index_put_view(op: str, x: Tensor, src: Tensor, index: tuple) -> Tensor:
    """A copy of x with x[index] = src, where src must have exactly the selection's shape
    (``select_scatter``, ``slice_scatter``, ``diagonal_scatter``)."""
    basic, advanced, _ = normalize_index(x.shape, index)
    shape = xp.shape(_select(xp.broadcast_to(xp.zeros((), dtype=bool), x.shape), basic,
                             advanced))
    if tuple(src.shape) != tuple(shape):
        raise RuntimeError(f"{op}: expected src to have a size equal to the slice of self. src "
                           f"size = {list(src.shape)}, slice size = {list(shape)}")
    return IndexPut.apply(x, _value_like(x, src), index=index, accumulate=False)


def setitem(x: Tensor, index: Any, value: Any) -> None:
    """``x[index] = value`` in place, with PyTorch's indexing rules (see :func:`getitem`).

    Without gradients the values are written into ``x``'s memory. When ``x`` or ``value`` is
    recorded in a graph, the write is :class:`IndexPut` (x̄ = ȳ zeroed where written, v̄ = ȳ at
    the written positions) and ``x`` takes its result's place in the graph, as PyTorch's
    CopySlices does (``Tensor._inplace``: versions, views and leaves as for every in-place op).
    """
    v = _value_like(x, value)
    _check_value(x, index, v)

    def fast() -> None:
        basic, advanced, _ = normalize_index(x.shape, index)
        target = x.array[basic]
        if advanced is None and not isinstance(target, xp.ndarray):
            x.array[basic] = v.array
        elif advanced is None:
            target[...] = v.array
        else:
            target[advanced] = v.array

    def write(old: Tensor, v: Tensor) -> Tensor:
        return IndexPut.apply(old, v, index=index, accumulate=False)

    x._inplace("setitem", write, v, fast=fast)


def inplace(op: Any) -> Any:
    """The in-place method ``x.op_(...)`` of an out-of-place op: ``x = op(x, ...)`` written into
    x's memory (``Tensor._inplace``: with a graph, x takes the result's place in it, as PyTorch
    rebases a tensor written in place; a leaf that requires grad refuses outside no_grad)."""
    name = op.__name__ + "_"

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return self._inplace(name, lambda old, *operands: op(old, *operands, **kwargs), *args)

    method.__name__ = name
    method.__doc__ = f"In-place :func:`{op.__name__}`: x holds the result."
    return method
