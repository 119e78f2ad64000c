"""Gather and scatter: reading and writing a tensor at positions held in an index tensor.

An embedding lookup (Lecture 7) reads rows of a table at word ids; the loss of a classifier reads
each example's score of its true class. These ops generalise the lookup: ``gather`` reads along
one dimension, ``scatter`` writes along it, ``index_select``/``index_add`` read and add whole
slices, the ``masked_*`` ops select by a bool mask. The backward pass of a read is a scatter-add
(an element read twice receives both gradients) and the backward pass of a write is a read.

PyTorch's conventions: indices are int64 (int32 is accepted); ``gather``/``scatter`` do not wrap
negative indices (an index outside [0, size) raises), ``index_select``/``take`` do (as PyTorch).
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.function import Function, unbroadcast
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import IndexOutOfRange, broadcast_shape, normalize_dim
from neuralab.ops.indexing import index_put
from neuralab.ops.shape import expand

__all__ = [
    "gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add",
    "index_copy", "index_fill", "masked_fill", "masked_select", "masked_scatter", "take",
    "take_along_dim", "nonzero", "argwhere", "unique", "bincount", "searchsorted", "bucketize",
    "put", "index_reduce", "unique_consecutive",
]

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _array(x: Any) -> Any:
    return x.array if isinstance(x, Tensor) else xp.asarray(x)


def _no_grad(array: Any) -> Tensor:
    return Tensor._from_op(xp.asarray(array), None, 0)


def _check_index_dtype(op: str, index: Any, name: str = "index") -> None:
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for {name}, got {index.dtype}; convert "
                           "it with .long()")


def _check_bounds(op: str, index: Any, size: int, dim: int, wrap: bool = False) -> None:
    """Raise for an index outside [0, size) (or [-size, size) where the op wraps negatives)."""
    if index.size == 0:
        return
    lo, hi = int(index.min()), int(index.max())
    low = -size if wrap else 0
    if lo < low or hi >= size:
        bad = lo if lo < low else hi
        raise IndexOutOfRange(f"{op}: index {bad} is out of bounds for dimension {dim} with "
                              f"size {size}")


def _grid(index: Any, axis: int) -> tuple:
    """The full coordinates of every element of ``index``, with ``index`` itself along ``axis``:
    element e of the index tensor addresses position ``grid[d][e]`` in dimension d."""
    coords = []
    for d, n in enumerate(index.shape):
        if d == axis:
            coords.append(index)
        else:
            shape = [1] * index.ndim
            shape[d] = n
            coords.append(xp.arange(n).reshape(shape))
    return tuple(coords)


def _check_gather_like(op: str, x: Any, index: Any, dim: int, src: Any = None) -> int:
    """PyTorch's rules for gather/scatter: same rank; index no larger than x apart from dim,
    and no larger than src everywhere; every index in [0, x.shape[dim])."""
    _check_index_dtype(op, index)
    if index.ndim != x.ndim and not (index.ndim <= 1 and x.ndim <= 1):
        raise RuntimeError(f"{op}: index must have the same number of dimensions as input, got "
                           f"index of shape {index.shape} for input of shape {x.shape}")
    axis = normalize_dim(op, dim, x.ndim)
    if index.ndim == x.ndim:
        for d, (a, b) in enumerate(zip(index.shape, x.shape)):
            if d != axis and a > b:
                raise RuntimeError(f"{op}: index of shape {index.shape} must be no larger than "
                                   f"input {x.shape} apart from dimension {axis}")
    if src is not None and src.ndim == index.ndim:
        if any(a > b for a, b in zip(index.shape, src.shape)):
            raise RuntimeError(f"{op}: index of shape {index.shape} must be no larger than src "
                               f"{src.shape}")
    elif src is not None and src.ndim and src.ndim != index.ndim:
        raise RuntimeError(f"{op}: src must have the same number of dimensions as index, got "
                           f"src {src.shape} and index {index.shape}")
    size = x.shape[axis] if x.ndim else 1
    _check_bounds(op, index, size, axis)
    return axis


def _as_rank(a: Any, ndim: int) -> Any:
    """A 0-d or 1-d operand of a 0-d/1-d gather or scatter, with the rank of the index."""
    return a.reshape(-1) if a.ndim != ndim else a


def _head(a: Any, shape: tuple[int, ...]) -> Any:
    """The leading block of ``a`` with the given shape (src may be larger than index)."""
    return a[tuple(slice(0, n) for n in shape)]


# --------------------------------------------------------------------------- gather


class Gather(Function):
    """y[i][j][k] = x[index[i][j][k]][j][k]   (dim = 0; likewise along any dim).

    x̄ = zeros with ȳ added at the gathered positions (a scatter-add: an element gathered twice
    gets both gradients).
    """

    @staticmethod
    def check(x, index, dim=0):
        _check_gather_like("gather", x.array, index.array, dim)

    @staticmethod
    def forward(ctx, x, index, dim=0):
        axis = dim % max(x.ndim, 1)
        rank = max(index.ndim, x.ndim, 1)
        ir = _as_rank(index, rank)
        ctx.shape, ctx.coords, ctx.rank, ctx.ir_shape = x.shape, _grid(ir, axis), rank, ir.shape
        return _as_rank(x, rank)[ctx.coords].reshape(index.shape)

    @staticmethod
    def backward(ctx, dout):
        dx = xp.zeros(ctx.shape, dtype=dout.dtype)
        xp.add.at(_as_rank(dx, ctx.rank), ctx.coords, dout.reshape(ctx.ir_shape))
        return dx, None


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:  # noqa: A002
    """Values of ``input`` read along ``dim`` at ``index``: out[i][j] = input[i][index[i][j]]
    for dim = 1 (PyTorch's ``torch.gather``).

    ``index`` has the rank of ``input`` and is no larger apart from ``dim``; the result has the
    shape of ``index``. Picking each example's log-probability of its target,
    ``gather(log_p, 1, y[:, None])``, is the heart of the cross-entropy loss (Lecture 4).
    ``sparse_grad`` is accepted for PyTorch compatibility; the gradient is always dense.
    """
    return Gather.apply(input, index, dim=dim)


# --------------------------------------------------------------------------- scatter


class Scatter(Function):
    """y = x, then y[index[i][j]][j] = src[i][j] (dim = 0).

    x̄ = ȳ with the overwritten positions zeroed;  s̄rc = ȳ gathered at index (padded with zeros
    where src is larger than index). Where index repeats a position, which src value lands is
    unspecified in PyTorch; here the last one does.
    """

    @staticmethod
    def check(x, index, src, dim=0):
        _check_gather_like("scatter", x.array, index.array, dim, src.array)
        if src.dtype != x.dtype and src.ndim:
            raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype, got "
                               f"{x.dtype} and {src.dtype}")

    @staticmethod
    def forward(ctx, x, index, src, dim=0):
        axis = dim % max(x.ndim, 1)
        rank = max(index.ndim, x.ndim, 1)
        ir = _as_rank(index, rank)
        coords = _grid(ir, axis)
        y = _as_rank(x.copy(), rank)
        values = src.astype(x.dtype) if src.ndim == 0 else _head(_as_rank(src, rank), ir.shape)
        y[coords] = values
        ctx.coords, ctx.src_shape, ctx.rank, ctx.index_shape = coords, src.shape, rank, ir.shape
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, dout):
        coords, rank = ctx.coords, ctx.rank
        dx = dsrc = None
        d = _as_rank(dout, rank)
        if ctx.needs_input_grad[0]:
            dx = d.copy()
            dx[coords] = 0
            dx = dx.reshape(dout.shape)
        if ctx.needs_input_grad[2]:
            picked = d[coords]
            if len(ctx.src_shape) == 0:
                dsrc = xp.asarray(picked.sum(), dtype=dout.dtype)
            else:
                dsrc = xp.zeros(_as_rank(xp.zeros(ctx.src_shape), rank).shape, dtype=dout.dtype)
                _head(dsrc, ctx.index_shape)[...] = picked
                dsrc = dsrc.reshape(ctx.src_shape)
        return dx, None, dsrc


class ScatterReduce(Function):
    """y = x with the src values reduced into it at the positions index points to (dim = 0):

        y[index[i][j]][j] = reduce(x[index[i][j]][j] (if include_self), src[i][j], ...)

    for reduce ∈ {sum, prod, mean, amax, amin}; positions that no index points to keep x.

    Gradients (PyTorch's conventions):
        sum:  x̄ = ȳ,  s̄rc = ȳ[index];
        mean: x̄ = ȳ / n,  s̄rc = (ȳ / n)[index], n the number of values averaged;
        prod: each contributor receives ȳ times the product of the other contributors (exact
              with zeros: no division by the contributor);
        amax/amin: ȳ split evenly among the contributors equal to the result (ties share).
    Without include_self, x̄ is zero at the positions that received a value.
    """

    @staticmethod
    def check(x, index, src, dim=0, reduce="sum", include_self=True):
        if reduce not in _REDUCTIONS:
            raise RuntimeError(f"scatter_reduce: reduce argument must be one of {_REDUCTIONS}, "
                               f"got {reduce!r}")
        _check_gather_like("scatter_reduce", x.array, index.array, dim, src.array)
        if src.dtype != x.dtype:
            raise RuntimeError(f"scatter_reduce(): Expected self.dtype to be equal to src.dtype, "
                               f"got {x.dtype} and {src.dtype}")

    @staticmethod
    def forward(ctx, x, index, src, dim=0, reduce="sum", include_self=True):
        axis = dim % max(x.ndim, 1)
        rank = max(index.ndim, x.ndim, 1)
        ir = _as_rank(index, rank)
        coords = _grid(ir, axis)
        xr = _as_rank(x, rank)
        s = _head(_as_rank(src, rank), ir.shape)
        hit = xp.zeros(xr.shape, dtype=bool)
        hit[coords] = True
        count = xp.zeros(xr.shape, dtype=xp.int64)
        xp.add.at(count, coords, 1)
        if reduce in ("sum", "mean"):
            y = xr.copy() if include_self else xp.where(hit, 0, xr).astype(x.dtype)
            xp.add.at(y, coords, s)
            if reduce == "mean":
                n = count + (1 if include_self else 0)
                n = xp.maximum(n, 1)
                y = y // n if x.dtype.kind in "iub" else (y / n).astype(x.dtype)
                ctx.n = n
        elif reduce == "prod":
            y = xr.copy() if include_self else xp.where(hit, 1, xr).astype(x.dtype)
            xp.multiply.at(y, coords, s)
        else:
            fill = (-xp.inf if reduce == "amax" else xp.inf) if x.dtype.kind == "f" else (
                xp.iinfo(x.dtype).min if reduce == "amax" else xp.iinfo(x.dtype).max)
            y = xr.copy() if include_self else xp.where(hit, fill, xr).astype(x.dtype)
            (xp.maximum if reduce == "amax" else xp.minimum).at(y, coords, s)
        ctx.coords, ctx.hit, ctx.rank = coords, hit, rank
        ctx.x, ctx.s, ctx.y, ctx.src_shape = xr, s, y, src.shape
        ctx.reduce, ctx.include_self, ctx.axis = reduce, include_self, axis
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, dout):
        coords, hit, xr, s, y = ctx.coords, ctx.hit, ctx.x, ctx.s, ctx.y
        d = _as_rank(dout, ctx.rank)
        reduce = ctx.reduce
        if reduce == "sum":
            dx, ds = d.copy(), d[coords]
        elif reduce == "mean":
            dn = d / ctx.n
            dx, ds = dn, dn[coords]
        elif reduce == "prod":
            # The product of the contributors other than each one, without dividing by it:
            # count the zeros of each group and multiply its non-zero values.
            zeros = xp.zeros(xr.shape, dtype=xp.int64)
            nonzero_prod = xp.ones(xr.shape, dtype=xr.dtype)
            if ctx.include_self:
                zeros += xr == 0
                nonzero_prod = xp.where(xr == 0, 1, xr).astype(xr.dtype)
            xp.add.at(zeros, coords, (s == 0).astype(xp.int64))
            xp.multiply.at(nonzero_prod, coords, xp.where(s == 0, 1, s))

            def others(v, z, p):
                safe = xp.where(v == 0, 1, v)
                return xp.where(v == 0, xp.where(z == 1, p, 0), xp.where(z == 0, p / safe, 0))

            # Without include_self, x only passes through where nothing was written.
            dx = d * others(xr, zeros, nonzero_prod) if ctx.include_self else d
            ds = d[coords] * others(s, zeros[coords], nonzero_prod[coords])
        else:
            value = y[coords]
            self_is = (xr == y).astype(d.dtype)
            src_is = (s == value).astype(d.dtype)
            n = self_is.copy()
            xp.add.at(n, coords, src_is)
            share = d / xp.where(n == 0, 1, n)
            dx, ds = self_is * share, src_is * share[coords]
        if not ctx.include_self:
            dx = xp.where(hit, 0, dx)
        dx = dx.reshape(dout.shape) if ctx.needs_input_grad[0] else None
        dsrc = None
        if ctx.needs_input_grad[2]:
            full = xp.zeros(_as_rank(xp.zeros(ctx.src_shape), ctx.rank).shape, dtype=dout.dtype)
            _head(full, s.shape)[...] = ds
            dsrc = full.reshape(ctx.src_shape)
        return dx, None, dsrc


def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, *,  # noqa: A002
            value: Any = None, reduce: str | None = None) -> Tensor:
    """A copy of ``input`` with values written along ``dim`` at ``index`` (``torch.scatter``):
    out[index[i][j]][j] = src[i][j] for dim = 0.

    ``src`` is a tensor (no smaller than ``index``) or a number; ``value=`` is the keyword form
    of a number. ``reduce='add'`` or ``'multiply'`` accumulate instead of overwriting (as
    :func:`scatter_reduce` with 'sum'/'prod'). Where ``index`` repeats a position, which value
    lands is unspecified in PyTorch; here the last one.
    """
    if src is None and value is None:
        raise TypeError("scatter(): expected a src tensor or a value")
    if src is None:
        src = value
    x = input if isinstance(input, Tensor) else Tensor(input)
    if not isinstance(src, Tensor):
        src = Tensor._from_op(xp.asarray(src, dtype=x.dtype), None, 0)
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"scatter(): reduce argument must be either 'add' or 'multiply', "
                               f"got {reduce!r}")
        if src.ndim == 0:
            src = Tensor._from_op(xp.full(_array(index).shape, src.array, dtype=x.dtype), None, 0)
        return ScatterReduce.apply(x, index, src, dim=dim,
                                   reduce="sum" if reduce == "add" else "prod")
    return Scatter.apply(x, index, src, dim=dim)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:  # noqa: A002
    """A copy of ``input`` with ``src`` added along ``dim`` at ``index`` (repeated positions add
    up): out[index[i][j]][j] += src[i][j] for dim = 0. x̄ = ȳ, s̄rc = ȳ[index]."""
    return ScatterReduce.apply(input, index, src, dim=dim, reduce="sum")


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,  # noqa: A002
                   include_self: bool = True) -> Tensor:
    """A copy of ``input`` with ``src`` reduced into it along ``dim`` at ``index``.

    Args:
        input: the tensor written into (its values take part when ``include_self``).
        dim: the dimension ``index`` addresses.
        index: int64, the rank of ``input``, no larger than ``src``.
        src: the values.
        reduce: 'sum', 'prod', 'mean', 'amax' or 'amin'.
        include_self: whether ``input``'s value at a written position takes part.

    Integer 'mean' rounds down, as PyTorch. Gradients as PyTorch: ties of amax/amin share.
    """
    return ScatterReduce.apply(input, index, src, dim=dim, reduce=reduce,
                               include_self=bool(include_self))


# --------------------------------------------------------------------------- whole slices


def _vector_index(op: str, index: Any, size: int, axis: int, wrap: bool = False) -> Any:
    idx = _array(index)
    _check_index_dtype(op, idx)
    if idx.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, got shape {idx.shape}")
    idx = idx.reshape(-1).astype(xp.int64)
    _check_bounds(op, idx, size, axis, wrap=wrap)
    return idx % size if size else idx


class IndexSelect(Function):
    """y = the slices of x along ``dim`` at positions index[0], index[1], ...

    x̄ = zeros with ȳ's slices added back at their positions (index_add: repeats add up).
    """

    @staticmethod
    def forward(ctx, x, index, axis=0):
        ctx.shape, ctx.index, ctx.axis = x.shape, index, axis
        return xp.take(x, index, axis=axis)

    @staticmethod
    def backward(ctx, dout):
        dx = xp.zeros(ctx.shape, dtype=dout.dtype)
        xp.add.at(dx, (slice(None),) * ctx.axis + (ctx.index,), dout)
        return dx, None


def _slice_op_axis(op: str, x: Tensor, dim: int) -> int:
    return normalize_dim(op, dim, x.ndim) if x.ndim else normalize_dim(op, dim, 0)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:  # noqa: A002
    """The slices of ``input`` along ``dim`` at the positions in the 1-d ``index`` (PyTorch's
    ``torch.index_select``); positions must lie in [0, size), as in PyTorch."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    axis = _slice_op_axis("index_select", x, dim)
    if x.ndim == 0:
        idx = _vector_index("index_select", index, 1, 0)
        return IndexSelect.apply(x.reshape(1), idx, axis=0).reshape(())
    idx = _vector_index("index_select", index, x.shape[axis], axis)
    return IndexSelect.apply(x, idx, axis=axis)


class IndexAdd(Function):
    """y = x with alpha·source's slices added at positions index along ``dim``.

    x̄ = ȳ;  s̄ource = alpha · ȳ's slices at index (index_select).
    """

    @staticmethod
    def forward(ctx, x, source, index=None, axis=0, alpha=1):
        y = x.copy()
        xp.add.at(y, (slice(None),) * axis + (index,), (alpha * source).astype(x.dtype))
        ctx.index, ctx.axis, ctx.alpha = index, axis, alpha
        return y

    @staticmethod
    def backward(ctx, dout):
        return dout, ctx.alpha * xp.take(dout, ctx.index, axis=ctx.axis)


class IndexCopy(Function):
    """y = x with source's slices copied to positions index along ``dim`` (``fill`` set: a
    constant instead). x̄ = ȳ zeroed at the overwritten slices; s̄ource = ȳ's slices at index."""

    @staticmethod
    def forward(ctx, x, source, index=None, axis=0):
        y = x.copy()
        y[(slice(None),) * axis + (index,)] = source
        ctx.index, ctx.axis = index, axis
        return y

    @staticmethod
    def backward(ctx, dout):
        dx = dout.copy()
        dx[(slice(None),) * ctx.axis + (ctx.index,)] = 0
        return dx, xp.take(dout, ctx.index, axis=ctx.axis)


def _index_source(op: str, input: Any, dim: int, index: Any, source: Any) -> tuple:  # noqa: A002
    x = input if isinstance(input, Tensor) else Tensor(input)
    s = source if isinstance(source, Tensor) else Tensor(source)
    axis = normalize_dim(op, dim, x.ndim)
    n = x.shape[axis] if x.ndim else 1
    idx = _vector_index(op, index, n, axis)
    expected = list(x.shape) if x.ndim else []
    if expected:
        expected[axis] = idx.size
    if tuple(s.shape) != tuple(expected) and not (x.ndim == 0 and s.size == idx.size):
        raise RuntimeError(f"{op}: source of shape {s.shape} does not fit: expected "
                           f"{tuple(expected)} (input {x.shape} with dimension {axis} of size "
                           f"len(index) = {idx.size})")
    if s.dtype != x.dtype:
        raise RuntimeError(f"{op}(): self ({x.dtype}) and source ({s.dtype}) must have the same "
                           "scalar type")
    return x, s, idx, axis


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *,  # noqa: A002
              alpha: float = 1) -> Tensor:
    """A copy of ``input`` with ``alpha * source`` added along ``dim`` at the positions in the
    1-d ``index`` (repeated positions add up), as ``torch.index_add``."""
    x, s, idx, axis = _index_source("index_add", input, dim, index, source)
    if x.ndim == 0:
        return IndexAdd.apply(x.reshape(1), s.reshape(-1), index=idx, axis=0,
                              alpha=alpha).reshape(())
    return IndexAdd.apply(x, s, index=idx, axis=axis, alpha=alpha)


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:  # noqa: A002
    """A copy of ``input`` whose slices along ``dim`` at ``index`` are ``source``'s slices."""
    x, s, idx, axis = _index_source("index_copy", input, dim, index, source)
    if x.ndim == 0:
        return IndexCopy.apply(x.reshape(1), s.reshape(-1), index=idx, axis=0).reshape(())
    return IndexCopy.apply(x, s, index=idx, axis=axis)


def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:  # noqa: A002
    """A copy of ``input`` whose slices along ``dim`` at ``index`` hold ``value`` (a number or
    0-d tensor, which then receives the sum of their gradients)."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    axis = normalize_dim("index_fill", dim, x.ndim)
    n = x.shape[axis] if x.ndim else 1
    idx = _vector_index("index_fill", index, n, axis, wrap=True)
    v = value if isinstance(value, Tensor) else Tensor._from_op(
        xp.asarray(value, dtype=x.dtype), None, 0)
    if v.ndim:
        raise RuntimeError(f"index_fill: value must be a number or a 0-d tensor, got shape "
                           f"{v.shape}")
    xr = x.reshape(1) if x.ndim == 0 else x
    shape = list(xr.shape)
    shape[axis] = idx.size

    out = IndexCopy.apply(xr, expand(v.to(x.dtype), *shape), index=idx, axis=axis)
    return out.reshape(()) if x.ndim == 0 else out


# --------------------------------------------------------------------------- masks


def _mask(op: str, mask: Any) -> Any:
    m = _array(mask)
    if m.dtype != xp.bool_:
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype {m.dtype}")
    return m


class MaskedFill(Function):
    """y = value where mask else x (mask broadcasts with x).

    x̄ = ȳ where ¬mask (summed over broadcast copies);  v̄alue = Σ ȳ over the masked positions.
    """

    @staticmethod
    def forward(ctx, x, value, mask=None):
        shape = xp.broadcast_shapes(x.shape, mask.shape)
        ctx.mask, ctx.shape = xp.broadcast_to(mask, shape), x.shape
        return xp.where(ctx.mask, value.astype(x.dtype), x)

    @staticmethod
    def backward(ctx, dout):
        dx = unbroadcast(xp.where(ctx.mask, 0, dout), ctx.shape) if ctx.needs_input_grad[0] \
            else None
        dv = xp.asarray(xp.where(ctx.mask, dout, 0).sum(), dtype=dout.dtype) \
            if ctx.needs_input_grad[1] else None
        return dx, dv


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:  # noqa: A002
    """``input`` with ``value`` where the bool ``mask`` is True (out of place; mask broadcasts).

    Filling with −∞ before a softmax removes positions from attention. ``value`` is a number or
    a 0-d tensor (which then receives the sum of the gradients of the filled positions).
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    m = _mask("masked_fill_", mask)
    broadcast_shape("masked_fill", x.shape, m.shape)
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value.ndim} dimension(s).")
        v = value.to(x.dtype) if x.dtype.kind == "f" and value.dtype.kind == "f" else \
            Tensor._from_op(value.array.astype(x.dtype), None, 0)
    else:
        v = Tensor._from_op(xp.asarray(value).astype(x.dtype), None, 0)
    return MaskedFill.apply(x, v, mask=m)


class MaskedSelect(Function):
    """y = the elements of x where mask is True, as a 1-d tensor in row-major order (x and mask
    broadcast together).   x̄ = zeros with ȳ written back at the masked positions."""

    @staticmethod
    def forward(ctx, x, mask=None):
        shape = xp.broadcast_shapes(x.shape, mask.shape)
        ctx.mask, ctx.shape = xp.broadcast_to(mask, shape), x.shape
        return xp.broadcast_to(x, shape)[ctx.mask]

    @staticmethod
    def backward(ctx, dout):
        dx = xp.zeros(ctx.mask.shape, dtype=dout.dtype)
        dx[ctx.mask] = dout
        return unbroadcast(dx, ctx.shape)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:  # noqa: A002
    """The elements of ``input`` where the bool ``mask`` is True, as a 1-d tensor."""
    m = _mask("masked_select", mask)
    x = input if isinstance(input, Tensor) else Tensor(input)
    broadcast_shape("masked_select", x.shape, m.shape)
    return MaskedSelect.apply(x, mask=m)


class MaskedScatter(Function):
    """y = x with the masked positions filled, in row-major order, by source's first elements.

    x̄ = ȳ where ¬mask;  s̄ource = the masked elements of ȳ in source's first positions, zeros
    after.
    """

    @staticmethod
    def forward(ctx, x, source, mask=None):
        shape = xp.broadcast_shapes(x.shape, mask.shape)
        m = xp.broadcast_to(mask, shape)
        y = xp.broadcast_to(x, shape).copy()
        count = int(m.sum())
        y[m] = source.reshape(-1)[:count]
        ctx.mask, ctx.shape, ctx.src_shape, ctx.count = m, x.shape, source.shape, count
        return y

    @staticmethod
    def backward(ctx, dout):
        dx = unbroadcast(xp.where(ctx.mask, 0, dout), ctx.shape)
        ds = xp.zeros(int(xp.prod(ctx.src_shape)), dtype=dout.dtype)
        ds[:ctx.count] = dout[ctx.mask]
        return dx, ds.reshape(ctx.src_shape)


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:  # noqa: A002
    """``input`` with its masked positions (row-major order) taking ``source``'s first values."""
    m = _mask("masked_scatter", mask)
    x = input if isinstance(input, Tensor) else Tensor(input)
    shape = broadcast_shape("masked_scatter", x.shape, m.shape)
    count = int(xp.broadcast_to(m, shape).sum())
    if source.size < count:
        raise RuntimeError(f"masked_scatter: the mask selects {count} positions but source has "
                           f"only {source.size} elements")
    return MaskedScatter.apply(x, source, mask=m)


# --------------------------------------------------------------------------- flat reads


class Take(Function):
    """y = x.flatten()[index] (shape of index).   x̄ = scatter-add of ȳ into the flat x."""

    @staticmethod
    def forward(ctx, x, index=None):
        ctx.shape, ctx.index = x.shape, index
        return x.reshape(-1)[index]

    @staticmethod
    def backward(ctx, dout):
        dx = xp.zeros(int(xp.prod(ctx.shape)), dtype=dout.dtype)
        xp.add.at(dx, ctx.index, dout)
        return dx.reshape(ctx.shape)


def take(input: Tensor, index: Tensor) -> Tensor:  # noqa: A002
    """The elements of ``input`` viewed as 1-d at ``index`` (negative positions count from the
    end); the result has the shape of ``index``."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    idx = _array(index)
    _check_index_dtype("take", idx)
    n = x.size
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if hi >= n or lo < -n:
            raise IndexOutOfRange(f"take: out of range: tried to access index "
                                  f"{hi if hi >= n else lo} on a tensor of {n} elements.")
    return Take.apply(x, index=(idx % max(n, 1)).astype(xp.int64))


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:  # noqa: A002
    """Values of ``input`` at ``indices`` along ``dim`` (``torch.take_along_dim``).

    With ``dim=None`` both are flattened (as :func:`take`). Otherwise ``input`` and ``indices``
    broadcast in every dimension except ``dim`` and the values are gathered along ``dim``.
    Negative indices count from the end.
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    idx = _array(indices)
    _check_index_dtype("take_along_dim", idx, "indices")
    if dim is None:
        return take(x, idx.reshape(-1))
    if idx.ndim != x.ndim:
        raise RuntimeError(f"take_along_dim: input and indices should have the same number of "
                           f"dimensions, but got {x.ndim} dimensions for input, and {idx.ndim} "
                           "dimensions for indices")
    axis = normalize_dim("take_along_dim", dim, x.ndim)
    _check_bounds("take_along_dim", idx, x.shape[axis], axis, wrap=True)
    shape_x, shape_i = list(x.shape), list(idx.shape)
    shape_x[axis] = shape_i[axis] = 1
    try:
        common = list(xp.broadcast_shapes(tuple(shape_x), tuple(shape_i)))
    except ValueError:
        raise RuntimeError(f"take_along_dim: input {x.shape} and indices {idx.shape} cannot be "
                           f"broadcast apart from dimension {axis}") from None

    xs, is_ = list(common), list(common)
    xs[axis], is_[axis] = x.shape[axis], idx.shape[axis]
    xb = expand(x, *xs) if tuple(xs) != x.shape else x
    ib = xp.broadcast_to(idx % max(x.shape[axis], 1), tuple(is_)).astype(xp.int64)
    return Gather.apply(xb, _no_grad(ib), dim=axis)


# --------------------------------------------------------------------------- index-valued results


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:  # noqa: A002
    """The coordinates of the non-zero elements, int64 of shape (count, ndim), row-major order;
    ``as_tuple=True`` gives one 1-d tensor per dimension (a 0-d input counts as 1-d)."""
    a = _array(input)
    if as_tuple:
        return tuple(_no_grad(i.astype(xp.int64)) for i in xp.nonzero(xp.atleast_1d(a)))
    if a.ndim == 0:
        return _no_grad(xp.zeros((int(a != 0), 0), dtype=xp.int64))
    return _no_grad(xp.argwhere(a).astype(xp.int64))


def argwhere(input: Tensor) -> Tensor:  # noqa: A002
    """Same as ``nonzero(input)``: the (count, ndim) int64 coordinates of non-zero elements."""
    return nonzero(input)


def _unique_result(values: Any, inverse: Any, counts: Any, return_inverse: bool,
                   return_counts: bool) -> Tensor | tuple[Tensor, ...]:
    """unique's and unique_consecutive's result: the values, then the int64 inverse and counts
    that were asked for."""
    out = [_no_grad(values)]
    if return_inverse:
        out.append(_no_grad(inverse.astype(xp.int64)))
    if return_counts:
        out.append(_no_grad(counts.astype(xp.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct values of ``input`` in ascending order (``sorted`` is accepted; the result
    is always sorted, as PyTorch's CPU result), optionally with the position of each input
    element in that list (``return_inverse``, shape of the input) and each value's count.
    With ``dim`` the distinct slices along ``dim``. No gradient."""
    a = _array(input)
    if dim is None:
        values, inverse, counts = xp.unique(a.reshape(-1), return_inverse=True,
                                            return_counts=True)
        inverse = inverse.reshape(a.shape)
    else:
        axis = normalize_dim("unique", dim, a.ndim)
        values, inverse, counts = xp.unique(a, return_inverse=True, return_counts=True,
                                            axis=axis)
        inverse = inverse.reshape(-1)
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:  # noqa: A002
    """The number of occurrences of each value 0, 1, ... in the non-negative 1-d int tensor
    ``input`` (or the sum of ``weights`` at them); length max(max(input) + 1, minlength).

    int64 without weights; with weights their dtype if floating, float64 otherwise (as PyTorch).
    No gradient.
    """
    a = _array(input)
    if a.ndim != 1 or a.dtype.kind not in "iu" or (a.size and a.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError(f"bincount: minlength should be >= 0, got {minlength}")
    if weights is None:
        return _no_grad(xp.bincount(a, minlength=minlength).astype(xp.int64))
    w = _array(weights)
    if w.shape != a.shape:
        raise RuntimeError(f"bincount: weights should be 1-d and have the same length as input, "
                           f"got {w.shape} for input {a.shape}")
    dtype = w.dtype if w.dtype.kind == "f" else xp.float64
    return _no_grad(xp.bincount(a, weights=w, minlength=minlength).astype(dtype))


def _search(op: str, seq: Any, values: Any, right: bool) -> Any:
    side = "right" if right else "left"
    if seq.ndim <= 1:
        return xp.searchsorted(seq.reshape(-1), values, side=side)
    if values.ndim != seq.ndim or values.shape[:-1] != seq.shape[:-1]:
        raise RuntimeError(f"{op}: boundaries tensor {seq.shape} and input {values.shape} should "
                           "have the same leading dimensions")
    # Row by row in one array expression: the count of boundaries below (or not above) a value.
    below = seq[..., None, :] <= values[..., :, None] if right else \
        seq[..., None, :] < values[..., :, None]
    return below.sum(axis=-1)


def searchsorted(sorted_sequence: Tensor, values: Any, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter: Any = None) -> Tensor:
    """For each value, the index at which it would be inserted into ``sorted_sequence`` (along
    its last dimension) to keep it sorted: the first such index, or the last with
    ``right=True``/``side='right'``. int64 (int32 with ``out_int32``), no gradient."""
    seq = _array(sorted_sequence)
    values = _array(values)
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"searchsorted: side can only be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise RuntimeError("searchsorted: side and right can't be set to opposites")
        right = side == "right"
    if sorter is not None:
        seq = xp.take_along_axis(seq, _array(sorter), axis=-1)
    out = _search("searchsorted", seq, values, right)
    return _no_grad(xp.asarray(out).astype(xp.int32 if out_int32 else xp.int64))


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False,  # noqa: A002
              right: bool = False) -> Tensor:
    """The bucket of each value among the sorted 1-d ``boundaries``: i such that
    boundaries[i-1] < x <= boundaries[i] (``right=True``: boundaries[i-1] <= x < boundaries[i]).
    int64 (int32 with ``out_int32``), no gradient."""
    b = _array(boundaries)
    if b.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries tensor must be 1 dimension, but got "
                           f"dim({b.ndim})")
    out = xp.searchsorted(b, _array(input), side="right" if right else "left")
    return _no_grad(xp.asarray(out).astype(xp.int32 if out_int32 else xp.int64))


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:  # noqa: A002
    """A copy of ``input`` with ``source`` written (or added) at the positions ``index`` of its
    flattened view (negative positions count from the end), as ``torch.put``."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    idx = _array(index)
    _check_index_dtype("put", idx)
    n = x.size
    if idx.size and (int(idx.max()) >= n or int(idx.min()) < -n):
        bad = int(idx.max()) if int(idx.max()) >= n else int(idx.min())
        raise IndexOutOfRange(f"put: out of range: tried to access index {bad} on a tensor of "
                              f"{n} elements.")
    s = source if isinstance(source, Tensor) else Tensor(source)
    if s.size != idx.size:
        raise RuntimeError(f"put: Expected source and index to have the same number of elements, "
                           f"but got source.numel() = {s.size}, index.numel() = {idx.size}")
    flat = x.reshape(n)
    out = index_put(flat, (_no_grad(idx.reshape(-1)),), s.reshape(s.size), accumulate=accumulate)
    return out.reshape(x.shape)


def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,  # noqa: A002
                 include_self: bool = True) -> Tensor:
    """A copy of ``input`` with the slices of ``source`` reduced into the slices ``index[i]``
    along ``dim`` ('prod', 'mean', 'amax', 'amin'; ``torch.index_reduce``). The index is
    spread over the source's shape and the reduction is :func:`scatter_reduce`'s."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    x = input if isinstance(input, Tensor) else Tensor(input)
    s = source if isinstance(source, Tensor) else Tensor(source)
    axis = normalize_dim("index_reduce", dim, x.ndim)
    idx = _vector_index("index_reduce", index, x.shape[axis] if x.ndim else 1, axis)
    view = [1] * s.ndim
    if s.ndim:
        view[axis] = idx.size
    spread = xp.broadcast_to(idx.reshape(view), s.shape)
    return ScatterReduce.apply(x, _no_grad(spread), s, dim=axis, reduce=reduce,
                               include_self=bool(include_self))


def unique_consecutive(input: Tensor, return_inverse: bool = False,  # noqa: A002
                       return_counts: bool = False, dim: int | None = None) -> Any:
    """The input with each run of equal consecutive values (or slices along ``dim``) kept
    once, optionally with each element's run number and each run's length. No gradient."""
    a = _array(input)
    if dim is None:
        flat = a.reshape(-1)
        starts = xp.ones(flat.size, dtype=bool)
        starts[1:] = flat[1:] != flat[:-1]
        values = flat[starts]
        inverse = (xp.cumsum(starts) - 1).reshape(a.shape)
    else:
        axis = normalize_dim("unique_consecutive", dim, a.ndim)
        moved = xp.moveaxis(a, axis, 0).reshape(a.shape[axis], -1)
        starts = xp.ones(moved.shape[0], dtype=bool)
        starts[1:] = (moved[1:] != moved[:-1]).any(axis=1)
        values = xp.take(a, xp.nonzero(starts)[0], axis=axis)
        inverse = xp.cumsum(starts) - 1
    counts = xp.diff(xp.append(xp.nonzero(starts)[0], starts.size))
    return _unique_result(values, inverse, counts, return_inverse, return_counts)
