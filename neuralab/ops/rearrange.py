"""Rearranging ops: triangles, rolls, flips, repetitions, diagonals, moved and split dimensions.

Like the shape ops, none of these computes a new value; each moves or copies values. The
backward passes move the gradient back: a roll by the opposite shift, a flip of the same axes,
a sum over the copies of a repetition, a scatter into the diagonal.

Aliases and thin compositions (``swapaxes`` is ``transpose``, ``movedim`` a ``permute``,
``narrow`` a slice, ``hstack`` a ``cat``) reuse the Functions of the ops they are, whose
backward passes are written out where those ops live.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import IndexOutOfRange, normalize_dim
from neuralab.ops.indexing import getitem, index_put_view
from neuralab.ops.reduce import sum as _sum
from neuralab.ops.shape import (
    Permute,
    Reshape,
    Split,
    cat,
    expand,
    pad,
    squeeze,
    stack,
    transpose,
)

__all__ = [
    "tril", "triu", "roll", "flip", "fliplr", "flipud", "rot90", "repeat", "tile",
    "repeat_interleave", "diag", "diagonal", "diag_embed", "trace", "movedim", "moveaxis",
    "swapaxes", "swapdims", "unbind", "hstack", "vstack", "dstack", "column_stack", "row_stack",
    "unflatten", "broadcast_to", "broadcast_tensors", "atleast_1d", "atleast_2d", "atleast_3d",
    "tensor_split", "hsplit", "vsplit", "narrow", "select", "meshgrid", "t", "adjoint", "ravel",
    "concat", "concatenate", "dsplit", "diagflat", "tril_indices", "triu_indices",
    "cartesian_prod", "block_diag", "combinations", "select_scatter", "slice_scatter",
    "diagonal_scatter",
]


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _int_tuple(op: str, name: str, value: Any) -> tuple[int, ...]:
    if isinstance(value, (int, xp.integer)) and not isinstance(value, bool):
        return (int(value),)
    if isinstance(value, Tensor):
        value = value.array.tolist()
    try:
        out = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a sequence of ints, got "
                        f"{type(value).__name__}") from None
    return out


# --------------------------------------------------------------------------- triangles


class Triangle(Function):
    """y = x ⊙ M with M the lower (tril: j − i <= k) or upper (triu: j − i >= k) triangle mask
    of the last two dimensions.   x̄ = ȳ ⊙ M."""

    @staticmethod
    def check(x, diagonal=0, upper=False):
        if x.ndim < 2:
            op = "triu" if upper else "tril"
            raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape "
                               f"{x.shape}")

    @staticmethod
    def forward(ctx, x, diagonal=0, upper=False):
        n, m = x.shape[-2:]
        offset = xp.arange(m)[None, :] - xp.arange(n)[:, None]  # j − i
        ctx.mask = offset >= diagonal if upper else offset <= diagonal
        return xp.where(ctx.mask, x, xp.zeros((), dtype=x.dtype))

    @staticmethod
    def backward(ctx, dout):
        return xp.where(ctx.mask, dout, 0)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The lower triangle of the last two dimensions (elements with column − row <= diagonal);
    the rest zero. A causal attention mask is ``tril(ones(T, T))``."""
    return Triangle.apply(input, diagonal=int(diagonal), upper=False)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The upper triangle of the last two dimensions (column − row >= diagonal); the rest zero."""
    return Triangle.apply(input, diagonal=int(diagonal), upper=True)


# --------------------------------------------------------------------------- roll and flip


class Roll(Function):
    """y = x shifted cyclically: y[(i + s) mod n] = x[i] along each rolled axis.

    x̄ = ȳ rolled by −s.
    """

    @staticmethod
    def forward(ctx, x, shifts=(), axes=()):
        ctx.shifts, ctx.axes = shifts, axes
        return xp.roll(x, shifts, axes)

    @staticmethod
    def backward(ctx, dout):
        return xp.roll(dout, tuple(-s for s in ctx.shifts), ctx.axes)


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:  # noqa: A002
    """``input`` shifted cyclically by ``shifts`` along ``dims`` (ints or tuples of equal
    length); with ``dims=None`` the flattened tensor is rolled and the shape restored."""
    x = _t(input)
    s = _int_tuple("roll", "shifts", shifts)
    if dims is None:
        if len(s) != 1:
            raise RuntimeError(f"roll: shifts {s} must be a single int when dims is not given")
        flat = Reshape.apply(x, shape=(x.size,))
        return Reshape.apply(Roll.apply(flat, shifts=s, axes=(0,)), shape=x.shape)
    d = _int_tuple("roll", "dims", dims)
    if len(d) != len(s):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(s)}, dims: "
                           f"{len(d)}")
    if x.ndim == 0:
        raise IndexError("roll: Dimension specified as 0 but tensor has no dimensions")
    axes = tuple(normalize_dim("roll", a, x.ndim) for a in d)
    return Roll.apply(x, shifts=s, axes=axes)


class Flip(Function):
    """y = x reversed along the given axes.   x̄ = ȳ reversed along the same axes."""

    @staticmethod
    def forward(ctx, x, axes=()):
        ctx.axes = axes
        return xp.flip(x, axes).copy() if axes else x.copy()

    @staticmethod
    def backward(ctx, dout):
        return xp.flip(dout, ctx.axes) if ctx.axes else dout


def flip(input: Tensor, *order: Any, dims: Any = None) -> Tensor:  # noqa: A002
    """``input`` reversed along ``dims`` (``flip(x, (0, 1))``, ``flip(x, dims=[0])`` or
    ``x.flip(0, 1)``)."""
    x = _t(input)
    dims = order if dims is None else (dims,)
    if len(dims) == 1 and not isinstance(dims[0], (int, xp.integer)):
        dims = tuple(dims[0])
    axes = tuple(normalize_dim("flip", d, x.ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"flip: dims {tuple(dims)} has a dimension appearing twice")
    if x.ndim == 0:
        axes = ()
    return Flip.apply(x, axes=axes)


def fliplr(input: Tensor) -> Tensor:  # noqa: A002
    """``input`` reversed left to right (dimension 1); needs at least 2 dimensions."""
    x = _t(input)
    if x.ndim < 2:
        raise RuntimeError("fliplr: Input must be >= 2-d.")
    return Flip.apply(x, axes=(1,))


def flipud(input: Tensor) -> Tensor:  # noqa: A002
    """``input`` reversed upside down (dimension 0); needs at least 1 dimension."""
    x = _t(input)
    if x.ndim < 1:
        raise RuntimeError("flipud: Input must be >= 1-d.")
    return Flip.apply(x, axes=(0,))


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:  # noqa: A002
    """``input`` rotated by k·90° in the plane of ``dims``, from the first toward the second
    axis (a flip and a transpose, whose Functions carry the gradient)."""
    x = _t(input)
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
    if x.ndim < 2:
        raise RuntimeError(f"rot90: expected total dims >= 2, but got total dims = {x.ndim}")
    a, b = (normalize_dim("rot90", d, x.ndim) for d in dims)
    if a == b:
        raise RuntimeError(f"rot90: expected rotation dims to be different, but got dim0 = {a} "
                           f"and dim1 = {b}")
    k %= 4
    if k == 1:
        return transpose(Flip.apply(x, axes=(b,)), a, b)
    if k == 2:
        return Flip.apply(x, axes=(a, b))
    if k == 3:
        return Flip.apply(transpose(x, a, b), axes=(b,))
    return Flip.apply(x, axes=())


# --------------------------------------------------------------------------- repetition


class Repeat(Function):
    """y = x tiled ``reps`` times along each dimension (x first given leading size-1 dims).

    x̄ = ȳ viewed as (r₀, n₀, r₁, n₁, ...) and summed over the copies r.
    """

    @staticmethod
    def forward(ctx, x, reps=()):
        shape = (1,) * (len(reps) - x.ndim) + x.shape
        ctx.in_shape, ctx.shape, ctx.reps = x.shape, shape, reps
        return xp.tile(x.reshape(shape), reps)

    @staticmethod
    def backward(ctx, dout):
        split = tuple(v for r, n in zip(ctx.reps, ctx.shape) for v in (r, n))  # (r₀, n₀, ...)
        dx = dout.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return dx.reshape(ctx.in_shape)


def repeat(input: Tensor, *sizes: Any) -> Tensor:  # noqa: A002
    """``input`` repeated ``sizes[i]`` times along dimension i (``x.repeat(2, 3)``); extra
    leading sizes add dimensions. Unlike ``expand`` it copies."""
    x = _t(input)
    if len(sizes) == 1 and not isinstance(sizes[0], (int, xp.integer)):
        sizes = tuple(sizes[0])
    reps = tuple(int(s) for s in sizes)
    if len(reps) < x.ndim:
        raise RuntimeError(f"repeat: Number of dimensions of repeat dims ({len(reps)}) can not "
                           f"be smaller than number of dimensions of tensor ({x.ndim})")
    if any(r < 0 for r in reps):
        raise RuntimeError(f"repeat: repeats must be non-negative, got {reps}")
    return Repeat.apply(x, reps=reps)


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:  # noqa: A002
    """``input`` repeated along each dimension (``dims`` shorter than the rank is padded with
    leading 1s, as NumPy's ``tile``)."""
    x = _t(input)
    reps = _int_tuple("tile", "dims", dims)
    reps = (1,) * (x.ndim - len(reps)) + reps
    return repeat(x, reps)


class RepeatInterleave(Function):
    """y = each slice of x along ``axis`` repeated rᵢ times in place: x₀ x₀ x₁ x₂ x₂ x₂ ...

    x̄ᵢ = the sum of ȳ over the rᵢ copies of xᵢ.
    """

    @staticmethod
    def forward(ctx, x, repeats=None, axis=0):
        ctx.source = xp.repeat(xp.arange(x.shape[axis]), repeats)
        ctx.shape, ctx.axis = x.shape, axis
        return xp.take(x, ctx.source, axis=axis)

    @staticmethod
    def backward(ctx, dout):
        dx = xp.zeros(ctx.shape, dtype=dout.dtype)
        xp.add.at(dx, (slice(None),) * ctx.axis + (ctx.source,), dout)
        return dx


def repeat_interleave(input: Tensor, repeats: Any = None, dim: int | None = None, *,  # noqa: A002
                      output_size: int | None = None) -> Tensor:
    """Each element (or slice along ``dim``) repeated ``repeats`` times in place.

    ``repeats`` is an int or a tensor with one count per slice; with ``dim=None`` the input is
    flattened first. ``repeat_interleave(counts)`` alone gives 0 repeated counts[0] times,
    1 repeated counts[1] times, ... (int64).
    """
    if repeats is None:
        counts = input.array if isinstance(input, Tensor) else xp.asarray(input)
        if counts.ndim > 1 or counts.dtype.kind not in "iu":
            raise RuntimeError("repeat_interleave: repeats must be 0-dim or 1-dim int tensor")
        return Tensor._from_op(xp.repeat(xp.arange(counts.size), counts.reshape(-1)), None, 0)
    x = _t(input)
    if dim is None:
        x = Reshape.apply(x, shape=(x.size,))
        axis = 0
    else:
        axis = normalize_dim("repeat_interleave", dim, x.ndim)
        if x.ndim == 0:
            x = Reshape.apply(x, shape=(1,))
    n = x.shape[axis]
    r = repeats.array if isinstance(repeats, Tensor) else xp.asarray(repeats)
    if r.dtype.kind not in "iu" or r.ndim > 1:
        raise RuntimeError("repeat_interleave: repeats must be 0-dim or 1-dim int tensor")
    r = r.reshape(-1)
    if r.size == 1:
        r = xp.full(n, int(r[0]))
    if r.size != n:
        raise RuntimeError(f"repeat_interleave: repeats must have the same size as input along "
                           f"dim, but got repeats.size(0) = {r.size} and input.size({axis}) = {n}")
    if r.size and r.min() < 0:
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    if output_size is not None and int(r.sum()) != output_size:
        raise RuntimeError(f"repeat_interleave: output_size {output_size} does not match the "
                           f"sum of repeats {int(r.sum())}")
    return RepeatInterleave.apply(x, repeats=r.astype(xp.int64), axis=axis)


# --------------------------------------------------------------------------- diagonals


def _diagonal_index(shape: tuple[int, ...], offset: int, a: int, b: int) -> tuple:
    """The index tuple of the diagonal (offset k) of dims a, b, with the diagonal last."""
    n = max(0, min(shape[a] + min(offset, 0), shape[b] - max(offset, 0)))
    i = xp.arange(n)
    rows, cols = i - min(offset, 0), i + max(offset, 0)
    rest = [d for d in range(len(shape)) if d not in (a, b)]
    index: list[Any] = [None] * len(shape)
    k = len(rest)
    for j, d in enumerate(rest):
        view = [1] * (k + 1)
        view[j] = shape[d]
        index[d] = xp.arange(shape[d]).reshape(view)
    index[a], index[b] = rows, cols
    return tuple(index), n


class Diagonal(Function):
    """y[..., i] = x[..., i, i + k] over dims (a, b) (the diagonal moves to the last dimension).

    x̄ = zeros with ȳ written on that diagonal.
    """

    @staticmethod
    def forward(ctx, x, offset=0, a=0, b=1):
        index, _ = _diagonal_index(x.shape, offset, a, b)
        ctx.shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx, dout):
        dx = xp.zeros(ctx.shape, dtype=dout.dtype)
        dx[ctx.index] = dout
        return dx


class DiagEmbed(Function):
    """y = zeros with x's last dimension written on the diagonal (offset k) of dims (a, b).

    x̄ = ȳ's diagonal.
    """

    @staticmethod
    def forward(ctx, x, offset=0, a=0, b=1):
        m = x.shape[-1] + abs(offset) if x.ndim else abs(offset) + 1
        batch = list(x.shape[:-1])
        shape = batch[:]
        for d in sorted((a, b)):
            shape.insert(d, m)
        index, _ = _diagonal_index(tuple(shape), offset, a, b)
        y = xp.zeros(shape, dtype=x.dtype)
        y[index] = x
        ctx.index = index
        return y

    @staticmethod
    def backward(ctx, dout):
        return dout[ctx.index]


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """The diagonal of dims (dim1, dim2), shifted by ``offset`` (above the main diagonal when
    positive), as the last dimension of the result."""
    x = _t(input)
    if x.ndim < 2:
        raise RuntimeError(f"diagonal: expected a tensor with at least 2 dimensions, got shape "
                           f"{x.shape}")
    a, b = normalize_dim("diagonal", dim1, x.ndim), normalize_dim("diagonal", dim2, x.ndim)
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(x, offset=int(offset), a=a, b=b)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: A002
    """A tensor one dimension larger whose diagonal (offset) of dims (dim1, dim2) holds the
    last dimension of ``input``; zeros elsewhere."""
    x = _t(input)
    a, b = normalize_dim("diag_embed", dim1, x.ndim + 1), normalize_dim("diag_embed", dim2,
                                                                         x.ndim + 1)
    if a == b:
        raise RuntimeError(f"diag_embed: diagonal dimensions cannot be identical {dim1}, {dim2}")
    return DiagEmbed.apply(x, offset=int(offset), a=a, b=b)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """1-d input: the square matrix with it on diagonal ``diagonal``; 2-d input: that diagonal."""
    x = _t(input)
    if x.ndim == 1:
        return DiagEmbed.apply(x, offset=int(diagonal), a=0, b=1)
    if x.ndim == 2:
        return Diagonal.apply(x, offset=int(diagonal), a=0, b=1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D")


def trace(input: Tensor) -> Tensor:  # noqa: A002
    """The sum of the main diagonal of a 2-d tensor (int64 for integer input)."""
    x = _t(input)
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    d = Diagonal.apply(x, offset=0, a=0, b=1)
    if x.dtype.kind in "iub":
        return Tensor._from_op(xp.asarray(d.array.sum(), dtype=xp.int64), None, 0)

    return _sum(d)


# --------------------------------------------------------------------------- moved dimensions


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:  # noqa: A002
    """``input`` with dimensions ``source`` moved to positions ``destination`` (the others keep
    their order); a permute."""
    x = _t(input)
    src = [normalize_dim("movedim", d, x.ndim) for d in _int_tuple("movedim", "source", source)]
    dst = [normalize_dim("movedim", d, x.ndim)
           for d in _int_tuple("movedim", "destination", destination)]
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({source} dims) "
                           f"should contain the same number of dims as destination "
                           f"({destination} dims)")
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError("movedim: repeated dim in source or destination")
    if x.ndim == 0:
        return Permute.apply(x, dims=())
    order = [None] * x.ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(x.ndim) if d not in src)
    order = [next(rest) if o is None else o for o in order]
    return Permute.apply(x, dims=tuple(order))


moveaxis = movedim


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:  # noqa: A002
    """Alias of :func:`transpose` (NumPy's name)."""
    return transpose(input, axis0, axis1)


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:  # noqa: A002
    """Alias of :func:`transpose`."""
    return transpose(input, dim0, dim1)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """The slices of ``input`` along ``dim``, without that dimension, as a tuple."""
    x = _t(input)
    if x.ndim == 0:
        raise IndexError("unbind: Dimension specified as 0 but tensor has no dimensions")
    axis = normalize_dim("unbind", dim, x.ndim)
    n = x.shape[axis]
    if n == 0:
        return ()
    parts = Split.apply(x, sizes=(1,) * n, axis=axis)
    parts = parts if isinstance(parts, tuple) else (parts,)
    return tuple(squeeze(p, axis) for p in parts)


def atleast_1d(*tensors: Any) -> Any:
    """Each tensor with at least 1 dimension (0-d becomes (1,)); one tensor or a tuple."""
    return _atleast(tensors, 1)


def atleast_2d(*tensors: Any) -> Any:
    """Each tensor with at least 2 dimensions: (n,) becomes (1, n)."""
    return _atleast(tensors, 2)


def atleast_3d(*tensors: Any) -> Any:
    """Each tensor with at least 3 dimensions: (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    return _atleast(tensors, 3)


def _atleast(tensors: tuple, n: int) -> Any:
    single = len(tensors) == 1 and not isinstance(tensors[0], (list, tuple))
    items = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    out = []
    for t in items:
        t = _t(t)
        shape = t.shape
        if t.ndim < n:
            if n == 1:
                shape = (1,)
            elif n == 2:
                shape = (1,) * (2 - t.ndim) + t.shape
            else:
                shape = {0: (1, 1, 1), 1: (1,) + t.shape + (1,), 2: t.shape + (1,)}[t.ndim]
            t = Reshape.apply(t, shape=shape)
        out.append(t)
    return out[0] if single else tuple(out)


def _tensor_list(op: str, tensors: Any) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}(): argument 'tensors' must be a tuple or list of tensors, got "
                        f"{type(tensors).__name__}")
    if not tensors:
        raise RuntimeError(f"{op}(): expected a non-empty list of tensors")
    return [_t(t) for t in tensors]


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors joined horizontally: along dim 0 for 1-d tensors, dim 1 otherwise."""
    ts = atleast_1d(tuple(_tensor_list("hstack", tensors)))
    return cat(list(ts), 0 if ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors (1-d ones as rows) joined along dim 0."""
    return cat(list(atleast_2d(tuple(_tensor_list("vstack", tensors)))), 0)


row_stack = vstack


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors joined depth-wise along dim 2 (after atleast_3d)."""
    return cat(list(atleast_3d(tuple(_tensor_list("dstack", tensors)))), 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors as columns: 0-d and 1-d ones become (n, 1); joined along dim 1."""
    ts = [Reshape.apply(t, shape=(t.size, 1)) if t.ndim <= 1 else t
          for t in _tensor_list("column_stack", tensors)]
    return cat(ts, 1)


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:  # noqa: A002
    """``input`` with dimension ``dim`` split into ``sizes`` (one may be -1)."""
    x = _t(input)
    axis = normalize_dim("unflatten", dim, x.ndim)
    sizes = _int_tuple("unflatten", "sizes", sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes:
        if known == 0 or x.shape[axis] % known:
            raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size "
                               f"of dim {dim} ({x.shape[axis]}) in the input tensor")
        sizes = tuple(x.shape[axis] // known if s == -1 else s for s in sizes)
    elif known != x.shape[axis]:
        raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size of "
                           f"dim {dim} ({x.shape[axis]}) in the input tensor")
    return Reshape.apply(x, shape=x.shape[:axis] + sizes + x.shape[axis + 1:])


def broadcast_to(input: Tensor, shape: Sequence[int]) -> Tensor:  # noqa: A002
    """``input`` expanded to ``shape`` (-1 keeps a size); the gradient sums over the copies."""
    return expand(_t(input), *_int_tuple("broadcast_to", "shape", shape))


def broadcast_tensors(*tensors: Any) -> tuple[Tensor, ...]:
    """The tensors expanded to their common broadcast shape."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    ts = [_t(t) for t in tensors]
    try:
        shape = xp.broadcast_shapes(*(t.shape for t in ts))
    except ValueError:
        raise RuntimeError(f"broadcast_tensors: shapes {[t.shape for t in ts]} cannot be "
                           "broadcast together") from None
    return tuple(t if t.shape == shape else expand(t, *shape) for t in ts)


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """``input`` cut along ``dim`` into n nearly equal pieces (an int: the first size % n pieces
    one longer) or at the given indices (a sequence: pieces [0, i₀), [i₀, i₁), ...)."""
    x = _t(input)
    if x.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    axis = normalize_dim("tensor_split", dim, x.ndim)
    n = x.shape[axis]
    spec = indices_or_sections
    if isinstance(spec, Tensor) and spec.ndim == 0:
        spec = int(spec.item())
    if isinstance(spec, (int, xp.integer)) and not isinstance(spec, bool):
        sections = int(spec)
        if sections <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got "
                               f"{sections}")
        sizes = [n // sections + (1 if i < n % sections else 0) for i in range(sections)]
    else:
        bounds = [min(max(i + n if i < 0 else i, 0), n)
                  for i in _int_tuple("tensor_split", "indices", spec)]
        edges = [0] + bounds + [n]
        sizes = [max(b - a, 0) for a, b in zip(edges[:-1], edges[1:])]
        # A later index below an earlier one gives an empty piece that starts at the earlier.
        starts = [0] + bounds
        return tuple(narrow(x, axis, min(s, n), size) for s, size in zip(starts, sizes))
    parts = Split.apply(x, sizes=tuple(sizes), axis=axis)
    return parts if isinstance(parts, tuple) else (parts,)


def hsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:  # noqa: A002
    """tensor_split along dim 1 (dim 0 for 1-d input); an int must divide the size."""
    x = _t(input)
    return _exact_split("hsplit", x, indices_or_sections, 1 if x.ndim > 1 else 0)


def vsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:  # noqa: A002
    """tensor_split along dim 0 of a tensor with at least 2 dimensions."""
    x = _t(input)
    if x.ndim < 2:
        raise RuntimeError(f"torch.vsplit requires a tensor with at least 2 dimension, but got "
                           f"a tensor with {x.ndim} dimensions!")
    return _exact_split("vsplit", x, indices_or_sections, 0)


def _exact_split(op: str, x: Tensor, spec: Any, axis: int) -> tuple[Tensor, ...]:
    if isinstance(spec, (int, xp.integer)) and x.shape[axis] % int(spec):
        raise RuntimeError(f"torch.{op} attempted to split along dimension {axis}, but the size "
                           f"of the dimension {x.shape[axis]} is not divisible by the split_size "
                           f"{spec}!")
    return tensor_split(x, spec, axis)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:  # noqa: A002
    """The slice start:start + length of ``input`` along ``dim`` (a negative start counts from
    the end)."""
    x = _t(input)
    if x.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    axis = normalize_dim("narrow", dim, x.ndim)
    n = x.shape[axis]
    start = int(start.item() if isinstance(start, Tensor) else start)
    if not -n <= start <= n:
        raise IndexOutOfRange(f"narrow: start ({start}) out of range for dimension {axis} of "
                              f"size {n}")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size "
                           f"({n}).")
    return getitem(x, (slice(None),) * axis + (slice(start, start + length),))


def select(input: Tensor, dim: int, index: int) -> Tensor:  # noqa: A002
    """The slice at ``index`` along ``dim``, without that dimension (``x.select(1, 0)`` is
    ``x[:, 0]``)."""
    x = _t(input)
    if x.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    axis = normalize_dim("select", dim, x.ndim)
    n = x.shape[axis]
    index = int(index.item() if isinstance(index, Tensor) else index)
    if not -n <= index < n:
        raise IndexOutOfRange(f"select(): index {index} out of range for tensor of size "
                              f"{x.shape} at dimension {axis}")
    return getitem(x, (slice(None),) * axis + (index,))


def meshgrid(*tensors: Any, indexing: str | None = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-d tensors: with 'ij' the i-th output varies along dimension i;
    with 'xy' (Cartesian) the first two dimensions are swapped. Each output expands its input
    (the gradient sums over the copies)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    indexing = "ij" if indexing is None else indexing  # PyTorch's default (with a warning)
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"meshgrid: indexing must be one of 'xy' or 'ij', got {indexing!r}")
    ts = [_t(t) for t in tensors]
    if not ts:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in ts:
        if t.ndim > 1:
            raise RuntimeError(f"meshgrid: Expected 0D or 1D tensor in the tensor list but got: "
                               f"shape {t.shape}")
    ts = [Reshape.apply(t, shape=(t.size,)) for t in ts]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.shape[0] for t in ts)
    out = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[i] = shape[i]
        out.append(expand(Reshape.apply(t, shape=tuple(view)), *shape))
    if swap:
        out[0], out[1] = out[1], out[0]
    return tuple(out)



def sliding_windows(input: Tensor, dimension: int, size: int, step: int) -> Tensor:  # noqa: A002
    """``Tensor.unfold(dimension, size, step)``: the windows input[..., k·step : k·step + size,
    ...] along ``dimension``, which becomes the window count, with the window as a new last
    dimension. A gather of overlapping slices: the gradient adds up where windows overlap."""
    x = _t(input)
    axis = normalize_dim("unfold", dimension, x.ndim) if x.ndim else 0
    n = x.shape[axis] if x.ndim else 1
    if size < 0 or size > n:
        raise RuntimeError(f"unfold: maximum size for tensor at dimension {axis} is {n} but size "
                           f"is {size}")
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    if x.ndim == 0:
        return Reshape.apply(x, shape=(size,))
    starts = xp.arange(0, n - size + 1, step)
    index = starts[:, None] + xp.arange(size)[None, :]  # (L, size)
    windows = getitem(x, (slice(None),) * axis + (Tensor(index),))  # (..., L, size, ...)
    return movedim(windows, axis + 1, -1)


# --------------------------------------------------------------------------- more PyTorch names


def t(input: Tensor) -> Tensor:  # noqa: A002
    """The transpose of a matrix; 0-d and 1-d tensors are returned as they are."""
    x = _t(input)
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return transpose(x, 0, 1) if x.ndim == 2 else x


def adjoint(input: Tensor) -> Tensor:  # noqa: A002
    """The last two dimensions swapped (the conjugate is the tensor itself for real values)."""
    x = _t(input)
    if x.ndim < 2:
        raise RuntimeError("tensor.adjoint() is only supported on matrices or batches of "
                           f"matrices. Got {x.ndim}-D tensor.")
    return transpose(x, -2, -1)


def ravel(input: Tensor) -> Tensor:  # noqa: A002
    """The tensor as 1-d (row-major order); 0-d becomes (1,)."""
    x = _t(input)
    return Reshape.apply(x, shape=(x.size,))


def concat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Alias of :func:`cat`."""
    return cat(tensors, dim)


def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Alias of :func:`cat` (NumPy's name and ``axis``)."""
    return cat(tensors, axis)


def dsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:  # noqa: A002
    """tensor_split along dim 2 of a tensor with at least 3 dimensions."""
    x = _t(input)
    if x.ndim < 3:
        raise RuntimeError(f"torch.dsplit requires a tensor with at least 3 dimension, but got "
                           f"a tensor with {x.ndim} dimensions!")
    return _exact_split("dsplit", x, indices_or_sections, 2)


def diagflat(input: Tensor, offset: int = 0) -> Tensor:  # noqa: A002
    """The square matrix with the flattened input on diagonal ``offset``."""
    return DiagEmbed.apply(ravel(input), offset=int(offset), a=0, b=1)


def _triangle_indices(row: int, col: int, offset: int, lower: bool) -> Any:
    i, j = xp.meshgrid(xp.arange(row), xp.arange(col), indexing="ij")
    keep = (j - i <= offset) if lower else (j - i >= offset)
    return xp.stack([i[keep], j[keep]])


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None) -> Tensor:
    """The (2, N) coordinates of the lower triangle of a row × col matrix, row by row."""
    out = _triangle_indices(row, col, offset, lower=True)
    return Tensor._from_op(out.astype(xp.int64 if dtype is None else dtype), None, 0)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None) -> Tensor:
    """The (2, N) coordinates of the upper triangle of a row × col matrix, row by row."""
    out = _triangle_indices(row, col, offset, lower=False)
    return Tensor._from_op(out.astype(xp.int64 if dtype is None else dtype), None, 0)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every combination of one element from each 1-d tensor, as rows (N₁·N₂·…, k); a single
    tensor is returned as it is. meshgrid and stack carry the gradient."""
    ts = [_t(x) for x in tensors]
    if len(ts) == 1:
        return ts[0]

    grids = meshgrid(*ts, indexing="ij")
    return stack([ravel(g) for g in grids], dim=1)


def block_diag(*tensors: Tensor) -> Tensor:
    """The tensors (0-d, 1-d as one row, 2-d) along the diagonal of a block matrix, zeros
    elsewhere. Each block is padded to the full width and the rows are joined (pad and cat
    carry the gradient)."""
    blocks = []
    for x in (_t(x) for x in tensors):
        if x.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. "
                               f"Input has {x.ndim} dimensions")
        blocks.append(Reshape.apply(x, shape=(1, 1) if x.ndim == 0 else
                                    (1, x.shape[0]) if x.ndim == 1 else x.shape))
    if not blocks:
        return Tensor._from_op(xp.zeros((0, 0), dtype=xp.float32), None, 0)
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        rows.append(pad(b, (left, width - left - b.shape[1])))
        left += b.shape[1]
    return cat(rows, 0)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:  # noqa: A002
    """All length-r combinations of the elements of a 1-d tensor, as rows (itertools order);
    a gather, whose gradient adds up over the rows an element appears in."""
    x = _t(input)
    if x.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(x.shape)}")
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    index = xp.array(list(pick(range(x.shape[0]), r)), dtype=xp.int64).reshape(-1, r)
    if r == 0 or index.size == 0:
        return Tensor._from_op(xp.zeros((0,) if r == 0 else (0, r), dtype=x.dtype), None, 0)
    return getitem(x, Tensor(index))


def _scatter_view(op: str, input: Any, src: Any, index: tuple) -> Tensor:
    return index_put_view(op, _t(input), _t(src), index)


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:  # noqa: A002
    """A copy of ``input`` whose slice ``index`` along ``dim`` is ``src`` (x̄ and s̄rc as
    ``x.select(dim, index) = src``)."""
    x = _t(input)
    axis = normalize_dim("select_scatter", dim, x.ndim)
    return _scatter_view("select_scatter", x, src, (slice(None),) * axis + (int(index),))


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: int | None = None,  # noqa: A002
                  end: int | None = None, step: int = 1) -> Tensor:
    """A copy of ``input`` whose slice start:end:step along ``dim`` is ``src``."""
    x = _t(input)
    axis = normalize_dim("slice_scatter", dim, x.ndim)
    return _scatter_view("slice_scatter", x, src,
                         (slice(None),) * axis + (slice(start, end, step),))


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,  # noqa: A002
                     dim2: int = 1) -> Tensor:
    """A copy of ``input`` whose diagonal (offset, dims dim1 and dim2) is ``src`` (laid out as
    :func:`diagonal` returns it)."""
    x = _t(input)
    a, b = normalize_dim("diagonal_scatter", dim1, x.ndim), normalize_dim("diagonal_scatter",
                                                                           dim2, x.ndim)
    index, _ = _diagonal_index(x.shape, int(offset), a, b)
    return _scatter_view("diagonal_scatter", x, src, tuple(Tensor(i) for i in index))
