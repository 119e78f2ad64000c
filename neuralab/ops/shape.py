"""Shape ops: reshape, transpose, broadcast, pad, concatenate and split (Lectures 5-11).

None of these changes a value; each only moves values around. Their backward passes move the
gradient back: the inverse reshape or permutation, a sum over broadcast copies, a slice out of the
padded or concatenated gradient.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from neuralab.autograd.function import Function, unbroadcast
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.kernels.layout import axis_order, zeros_in_order
from neuralab.ops._checks import normalize_dim

__all__ = [
    "reshape", "view", "transpose", "permute", "expand", "expand_as", "view_as", "squeeze",
    "unsqueeze", "flatten", "pad", "cat", "stack", "split", "chunk",
]


def _sizes(op: str, sizes: tuple) -> tuple:
    """Accept ``f(x, 2, 3)`` and ``f(x, (2, 3))`` as PyTorch does; every size an int."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, (int, xp.integer)):
            raise TypeError(f"{op}: sizes must be ints, got {sizes}")
    return tuple(int(n) for n in sizes)


def _resolve_shape(op: str, shape: tuple[int, ...], new: tuple[int, ...]) -> tuple[int, ...]:
    """``new`` with its -1 (at most one) inferred so that the element count is unchanged."""
    size = math.prod(shape)
    unknown = [i for i, n in enumerate(new) if n == -1]
    if len(unknown) > 1 or any(n < -1 for n in new):
        raise ValueError(f"{op}: shape {new} is invalid; sizes must be >= 0 with at most one -1")
    known = math.prod(n for n in new if n != -1)
    if unknown:
        if known == 0 or size % known:
            raise ValueError(f"{op}: cannot reshape a tensor of shape {shape} ({size} elements) "
                             f"into {new}: {size} is not a multiple of {known}")
        new = tuple(size // known if n == -1 else n for n in new)
    elif known != size:
        raise ValueError(f"{op}: cannot reshape a tensor of shape {shape} ({size} elements) into "
                         f"{new} ({known} elements); the number of elements must stay the same")
    return new


class Reshape(Function):
    """y = x with a new shape (same elements in row-major order).   x̄ = ȳ reshaped back."""

    @staticmethod
    def check(x, shape=(), op="reshape"):
        _resolve_shape(op, x.shape, shape)

    @staticmethod
    def forward(ctx, x, shape=(), op="reshape"):
        ctx.shape = x.shape
        return x.reshape(_resolve_shape(op, x.shape, shape))

    @staticmethod
    def backward(ctx, dout):
        return dout.reshape(ctx.shape)


class Permute(Function):
    """y = x with its dimensions reordered: y.shape[i] = x.shape[dims[i]].

    x̄ = ȳ permuted by the inverse permutation (argsort of dims).
    """

    @staticmethod
    def check(x, dims=()):
        if len(dims) != x.ndim:
            raise ValueError(f"permute: got {len(dims)} dims {tuple(dims)} for a tensor with "
                             f"{x.ndim} dimensions (shape {x.shape}); give each dimension once")
        normalized = [normalize_dim("permute", d, x.ndim) for d in dims]
        if sorted(normalized) != list(range(x.ndim)):
            raise ValueError(f"permute: dims {tuple(dims)} is not a permutation of "
                             f"{tuple(range(x.ndim))}; each dimension must appear exactly once")

    @staticmethod
    def forward(ctx, x, dims=()):
        dims = tuple(d % x.ndim for d in dims) if x.ndim else ()
        ctx.inverse = tuple(int(i) for i in xp.argsort(dims))
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, dout):
        return dout.transpose(ctx.inverse)


class Expand(Function):
    """y = x broadcast to a larger shape (a view, no copy).   x̄ = ȳ summed over the copies."""

    @staticmethod
    def check(x, shape=()):
        _expanded_shape(x.shape, shape)

    @staticmethod
    def forward(ctx, x, shape=()):
        ctx.shape = x.shape
        return xp.broadcast_to(x, _expanded_shape(x.shape, shape))

    @staticmethod
    def backward(ctx, dout):
        return unbroadcast(dout, ctx.shape)


def _expanded_shape(shape: tuple[int, ...], sizes: tuple[int, ...]) -> tuple[int, ...]:
    if len(sizes) < len(shape):
        raise ValueError(f"expand: the number of sizes ({len(sizes)}, {sizes}) must be at least "
                         f"the number of dimensions of the tensor ({len(shape)}, shape {shape})")
    lead = len(sizes) - len(shape)
    out = []
    for i, n in enumerate(sizes):
        old = shape[i - lead] if i >= lead else None
        if n == -1:
            if old is None:
                raise ValueError(f"expand: -1 is not allowed for the new leading dimension {i} "
                                 f"(sizes {sizes})")
            n = old
        if n < 0 or (old is not None and old != 1 and old != n):
            raise ValueError(
                f"expand: cannot expand shape {shape} to {sizes}: dimension {i} has size {old}, "
                "only dimensions of size 1 can be expanded (use repeat-like cat for others)"
                if old is not None else f"expand: invalid size {n} in {sizes}")
        out.append(n)
    return tuple(out)


class Squeeze(Function):
    """y = x without the given size-1 dimensions.   x̄ = ȳ reshaped back to x's shape."""

    @staticmethod
    def forward(ctx, x, dims=None):
        ctx.shape = x.shape
        if dims is None:
            return x.reshape(tuple(n for n in x.shape if n != 1))
        # As PyTorch: a named dimension whose size is not 1 is left alone, without error.
        return x.reshape(tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1)))

    @staticmethod
    def backward(ctx, dout):
        return dout.reshape(ctx.shape)


class UnsupportedPadError(ValueError, NotImplementedError):
    """A non-constant padding PyTorch does not do. PyTorch raises NotImplementedError, neuralab's
    checks ValueError: this error is both, so that either ``except`` clause catches it."""


class Pad(Function):
    """y = x padded (or cropped, for negative amounts) along its last dimensions.

    ``pad = (left_{-1}, right_{-1}, left_{-2}, right_{-2}, ...)`` as in PyTorch: the last
    dimension first. Modes: 'constant' (fill with ``value``), 'reflect' (mirror without repeating
    the edge), 'replicate' (repeat the edge), 'circular' (wrap around).

    x̄: for 'constant', the slice of ȳ that holds x; for the other modes every output position
    is a copy of some input position, and x̄ sums ȳ over the copies (a scatter-add per dim).
    """

    @staticmethod
    def check(x, pad=(), mode="constant", value=0.0):
        if mode not in ("constant", "reflect", "replicate", "circular"):
            raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or "
                             f"'circular', got {mode!r}")
        if len(pad) % 2 or len(pad) // 2 > x.ndim:
            raise ValueError(f"pad: pad {tuple(pad)} must have an even length of at most "
                             f"2 × {x.ndim} (two amounts, left and right, per padded dimension, "
                             "last dimension first)")
        k = len(pad) // 2
        if mode != "constant" and not (1 <= k <= 3 and x.ndim in (k + 1, k + 2)):
            # PyTorch's rule: k padded dimensions of a batch (N, C, *k) or one example (C, *k).
            raise UnsupportedPadError(
                f"Padding size {len(pad)} is not supported for {x.ndim}D input tensor.\n"
                "Supported combinations for non-constant padding:\n"
                "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)\n"
                f"(pad: {mode!r} mode pads the last dimensions of (C, *) or (N, C, *); got pad "
                f"{tuple(pad)} for input shape {x.shape}; 'constant' mode pads any dimensions)")
        for amount in pad:
            if isinstance(amount, bool) or not isinstance(amount, (int, xp.integer)):
                raise TypeError(f"pad: amounts must be ints, got {tuple(pad)}")
        for axis, lo, hi in _pad_axes(x.ndim, pad):
            n = x.shape[axis]
            if mode == "constant":
                if n + lo + hi < 0:
                    raise ValueError(f"pad: cropping ({lo}, {hi}) would leave dimension {axis} "
                                     f"of size {n} with a negative size")
                continue
            if lo < 0 or hi < 0:
                raise ValueError(f"pad: negative amounts ({lo}, {hi}) are only allowed in "
                                 f"'constant' mode, not {mode!r}")
            limit = n - 1 if mode == "reflect" else (n if mode == "circular" else None)
            if n == 0 or (limit is not None and (lo > limit or hi > limit)):
                raise ValueError(
                    f"pad: {mode} padding of ({lo}, {hi}) on dimension {axis} of size {n} is too "
                    f"large; {mode} padding must be at most "
                    f"{'size - 1' if mode == 'reflect' else 'the size'} = {limit}")

    @staticmethod
    def forward(ctx, x, pad=(), mode="constant", value=0.0):
        axes = _pad_axes(x.ndim, pad)
        ctx.shape, ctx.axes, ctx.mode = x.shape, axes, mode
        if mode == "constant":
            # Crop the negative amounts first, then pad the positive ones.
            crop = [slice(None)] * x.ndim
            widths = [(0, 0)] * x.ndim
            for axis, lo, hi in axes:
                crop[axis] = slice(max(-lo, 0), x.shape[axis] - max(-hi, 0))
                widths[axis] = (max(lo, 0), max(hi, 0))
            ctx.crop, ctx.widths = tuple(crop), widths
            kept = x[tuple(crop)]
            # Allocated in x's layout (a channels-last activation stays channels-last).
            out = zeros_in_order(tuple(n + lo + hi for n, (lo, hi) in zip(kept.shape, widths)),
                                 x.dtype, axis_order(x))
            if value != 0:
                out.fill(value)
            out[tuple(slice(lo, lo + n) for n, (lo, _) in zip(kept.shape, widths))] = kept
            return out
        ctx.sources = []
        for axis, lo, hi in axes:
            source = _pad_source(mode, x.shape[axis], lo, hi)
            ctx.sources.append(source)
            x = xp.take(x, source, axis=axis)
        return x

    @staticmethod
    def backward(ctx, dout):
        if ctx.mode == "constant":
            inner = tuple(slice(lo, dout.shape[a] - hi) for a, (lo, hi) in enumerate(ctx.widths))
            dx = zeros_in_order(ctx.shape, dout.dtype, axis_order(dout))
            dx[ctx.crop] = dout[inner]
            return dx
        for (axis, _, _), source in reversed(list(zip(ctx.axes, ctx.sources))):
            shape = list(dout.shape)
            shape[axis] = ctx.shape[axis]
            dx = xp.zeros(shape, dtype=dout.dtype)
            # Several output positions copy the same input position: add, don't assign.
            xp.add.at(dx, (slice(None),) * axis + (source,), dout)
            dout = dx
        return dout


def _pad_axes(ndim: int, pad: Sequence[int]) -> list[tuple[int, int, int]]:
    """(axis, left, right) for every dimension named by a PyTorch-order pad tuple."""
    return [(ndim - 1 - k, int(pad[2 * k]), int(pad[2 * k + 1])) for k in range(len(pad) // 2)]


def _pad_source(mode: str, n: int, lo: int, hi: int) -> Any:
    """For each output position along one axis, the input position it copies."""
    i = xp.arange(-lo, n + hi)
    if mode == "replicate":
        return xp.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    i = xp.abs(i)  # reflect about 0, then about n - 1
    return xp.where(i > n - 1, 2 * (n - 1) - i, i)


class Cat(Function):
    """y = [x₁; x₂; …] joined along ``dim``.   x̄ₖ = the slice of ȳ that came from xₖ."""

    @staticmethod
    def check(*tensors, dim=0):
        _check_same("cat", tensors, dim, concat=True)

    @staticmethod
    def forward(ctx, *xs, dim=0):
        axis = dim % xs[0].ndim
        ctx.axis = axis
        ctx.bounds = xp.cumsum([x.shape[axis] for x in xs])[:-1]
        ctx.dtypes = [x.dtype for x in xs]
        return xp.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, dout):
        parts = xp.split(dout, ctx.bounds, axis=ctx.axis)
        return tuple(p.astype(t, copy=False) for p, t in zip(parts, ctx.dtypes))


class Stack(Function):
    """y = x₁, x₂, … stacked along a new dimension ``dim``.   x̄ₖ = ȳ[..., k, ...]."""

    @staticmethod
    def check(*tensors, dim=0):
        _check_same("stack", tensors, dim, concat=False)

    @staticmethod
    def forward(ctx, *xs, dim=0):
        ctx.axis = dim % (xs[0].ndim + 1)
        ctx.dtypes = [x.dtype for x in xs]
        return xp.stack(xs, axis=ctx.axis)

    @staticmethod
    def backward(ctx, dout):
        return tuple(xp.take(dout, k, axis=ctx.axis).astype(t, copy=False)
                     for k, t in enumerate(ctx.dtypes))


def _check_same(op: str, tensors: tuple, dim: Any, concat: bool) -> None:
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    first = tensors[0]
    if concat and first.ndim == 0:
        raise ValueError(f"{op}: zero-dimensional tensors cannot be concatenated; use stack")
    normalize_dim(op, dim, first.ndim if concat else first.ndim + 1)
    axis = (dim % first.ndim) if concat else None
    for k, t in enumerate(tensors[1:], start=1):
        if t.ndim != first.ndim:
            raise ValueError(f"{op}: tensor {k} has {t.ndim} dimensions (shape {t.shape}) but "
                             f"tensor 0 has {first.ndim} (shape {first.shape})")
        for d, (a, b) in enumerate(zip(first.shape, t.shape)):
            if a != b and d != axis:
                raise ValueError(
                    f"{op}: tensor {k} has shape {t.shape} but tensor 0 has shape {first.shape}; "
                    + (f"all sizes except dimension {axis} must match" if concat
                       else "stack needs tensors of equal shape"))
        if (t.dtype.kind == "f") != (first.dtype.kind == "f"):
            raise TypeError(f"{op}: tensor {k} is {t.dtype} but tensor 0 is {first.dtype}; "
                            "convert them to one dtype first")


class Split(Function):
    """(y₁, y₂, …) = consecutive slices of x along ``dim`` (views, no copy).

    x̄ = [ȳ₁; ȳ₂; …] joined along ``dim`` (a slice whose output was unused gets zeros).
    """

    @staticmethod
    def forward(ctx, x, sizes=(), axis=0):
        ctx.axis = axis
        bounds = xp.cumsum(sizes)[:-1]
        return tuple(xp.split(x, bounds, axis=axis))

    @staticmethod
    def backward(ctx, *douts):
        return xp.concatenate(douts, axis=ctx.axis)


# --------------------------------------------------------------------------- user-facing functions


def reshape(x: Tensor, *sizes: Any, shape: Any = None) -> Tensor:
    """x with a new shape holding the same elements in row-major order; one size may be -1.

    Accepts ``reshape(x, 2, 3)``, ``reshape(x, (2, 3))`` and ``reshape(x, shape=(2, 3))``. Used
    to flatten feature maps before a fully connected layer (Lecture 9): (N, C, H, W) -> (N, C·H·W).
    """
    return Reshape.apply(x, shape=_sizes("reshape", sizes if shape is None else (shape,)))


def view(x: Tensor, *shape: Any) -> Tensor:
    """Same as :func:`reshape` (NumPy decides whether a copy is needed; the result is the same)."""
    return Reshape.apply(x, shape=_sizes("view", shape), op="view")


def view_as(x: Tensor, other: Tensor) -> Tensor:
    """x reshaped to ``other.shape``."""
    return Reshape.apply(x, shape=tuple(other.shape), op="view_as")


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """x with dimensions ``dim0`` and ``dim1`` swapped (Wᵀ in the backward pass of a layer)."""
    d0 = normalize_dim("transpose", dim0, x.ndim)
    d1 = normalize_dim("transpose", dim1, x.ndim)
    dims = list(range(x.ndim))
    if x.ndim:
        dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(x, dims=tuple(dims))


def permute(x: Tensor, *order: Any, dims: Any = None) -> Tensor:
    """x with its dimensions reordered: ``permute(x, 0, 2, 3, 1)`` (or ``dims=(0, 2, 3, 1)``)
    turns NCHW into NHWC."""
    return Permute.apply(x, dims=_sizes("permute", order if dims is None else (dims,)))


def expand(x: Tensor, *sizes: Any) -> Tensor:
    """x broadcast to ``sizes`` without copying; -1 keeps a size; new dimensions go in front.

    Only size-1 dimensions can grow. The gradient sums over the copies.
    """
    return Expand.apply(x, shape=_sizes("expand", sizes))


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    """x broadcast to ``other.shape``."""
    return Expand.apply(x, shape=tuple(other.shape))


def squeeze(x: Tensor, dim: int | tuple[int, ...] | None = None) -> Tensor:
    """x without its size-1 dimensions (all of them, or those in ``dim``; others are kept)."""
    if dim is None:
        return Squeeze.apply(x, dims=None)
    dims = (dim,) if not isinstance(dim, (tuple, list)) else tuple(dim)
    return Squeeze.apply(x, dims={normalize_dim("squeeze", d, x.ndim) for d in dims})


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """x with a new size-1 dimension inserted at ``dim`` (in [-x.ndim - 1, x.ndim])."""
    d = normalize_dim("unsqueeze", dim, x.ndim + 1)
    return Reshape.apply(x, shape=x.shape[:d] + (1,) + x.shape[d:])


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """x with dimensions ``start_dim`` … ``end_dim`` merged into one (a 0-d tensor becomes (1,)).

    ``flatten(x, 1)`` turns a batch of feature maps (N, C, H, W) into vectors (N, C·H·W).
    """
    if x.ndim == 0:
        normalize_dim("flatten", start_dim, 0)
        normalize_dim("flatten", end_dim, 0)
        return Reshape.apply(x, shape=(1,))
    start = normalize_dim("flatten", start_dim, x.ndim)
    end = normalize_dim("flatten", end_dim, x.ndim)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a "
                         f"tensor of shape {x.shape}")
    shape = x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:]
    return Reshape.apply(x, shape=shape)


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant",  # noqa: A002
        value: float = 0.0) -> Tensor:
    """Pad (or crop, with negative amounts in 'constant' mode) the last dimensions of x.

    ``pad = (left, right)`` pads the last dimension, ``(left, right, top, bottom)`` the last two,
    and so on: PyTorch's order, last dimension first. Zero padding keeps a convolution's output
    as large as its input (Lecture 9).

    Args:
        x: the input.
        pad: an even number of ints.
        mode: 'constant', 'reflect', 'replicate' or 'circular'. As PyTorch, the last three
            pad k = 1, 2 or 3 last dimensions of one example (C, *k) or a batch (N, C, *k) only.
        value: the fill value of 'constant' mode.
    """
    return Pad.apply(x, pad=tuple(pad), mode=mode, value=value)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors joined along an existing dimension ``dim`` (the others must match)."""
    return Cat.apply(*_as_list("cat", tensors), dim=dim)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors (of equal shape) stacked along a new dimension ``dim``."""
    return Stack.apply(*_as_list("stack", tensors), dim=dim)


def _as_list(op: str, tensors: Any) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got "
                        f"{type(tensors).__name__}; write {op}([a, b], dim)")
    return list(tensors)


def split(x: Tensor, split_size_or_sections: int | Sequence[int],
          dim: int = 0) -> tuple[Tensor, ...]:
    """x cut into consecutive pieces along ``dim``.

    An int gives pieces of that size (the last may be smaller); a list gives the size of each
    piece, which must add up to the size of ``dim``. Returns a tuple of tensors.
    """
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.ndim == 0:
        raise ValueError("split: cannot split a 0-d tensor")
    axis = normalize_dim("split", dim, x.ndim)
    n = x.shape[axis]
    if isinstance(split_size_or_sections, (int, xp.integer)) and \
            not isinstance(split_size_or_sections, bool):
        size = int(split_size_or_sections)
        if size <= 0 and not (size == 0 and n == 0):
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if size else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise ValueError(f"split: sections {list(split_size_or_sections)} must be "
                             f"non-negative and add up to {n}, the size of dimension {dim} "
                             f"(shape {x.shape})")
    return Split.apply(x, sizes=tuple(sizes), axis=axis)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """x cut into ``chunks`` pieces of equal size along ``dim`` (the last may be smaller, and
    there may be fewer pieces when the size does not divide, as in PyTorch)."""
    if isinstance(chunks, bool) or not isinstance(chunks, (int, xp.integer)) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.ndim == 0:
        raise ValueError("chunk: cannot chunk a 0-d tensor")
    n = x.shape[normalize_dim("chunk", dim, x.ndim)]
    return split(x, max(-(-n // chunks), 1), dim)
