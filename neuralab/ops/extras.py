"""PyTorch's remaining torch-level ops: Bessel i0, numerical gradients, histograms, renorm,
as_strided and a few aliases (and the Tensor methods of ops defined elsewhere: ``x.dsplit``,
``x.diagonal_scatter``...).

* ``i0``: the modified Bessel function of the first kind of order 0,
  I₀(x) = Σ_k (x/2)^{2k} / (k!)², with d/dx I₀(x) = I₁(x) = Σ_k (x/2)^{2k+1} / (k! (k+1)!).
* ``gradient``: central differences (f_{i+1} − f_{i−1}) / 2h inside, one-sided differences of
  first or second order at the edges (non-uniform coordinates use the second-order weights of
  the unequal neighbours).
* ``renorm``: each slice along ``dim`` whose p-norm exceeds ``maxnorm`` is rescaled to it
  (the max-norm constraint on weight vectors, a regulariser related to weight decay, Lecture 9).
* ``as_strided``: a strided window onto the (contiguous) elements of ``input``; its backward adds
  ȳ back onto every element each output entry reads.
* ``histogram``, ``nextafter`` and ``binomial`` have no gradient.
"""

from __future__ import annotations

import math
from collections import namedtuple
from typing import Any

from neuralab import backend
from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import normalize_dim
from neuralab.ops._promote import floating
from neuralab.ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from neuralab.ops.conv3d import conv3d, conv_transpose3d
from neuralab.ops.numeric import _tensor, _wrap
from neuralab.ops.rearrange import (  # noqa: F401  (Tensor methods: TENSOR_METHODS)
    diagonal_scatter,
    dsplit,
    select_scatter,
    slice_scatter,
)

__all__ = [
    "i0", "gradient", "histogram", "renorm", "nuclear_norm", "frobenius_norm", "binomial",
    "split_with_sizes", "unsafe_chunk", "unsafe_split", "constant_pad_nd", "convolution",
    "nextafter", "as_strided",
]

TENSOR_METHODS = {name: name for name in (
    "i0", "renorm", "split_with_sizes", "unsafe_chunk", "unsafe_split", "nextafter",
    "diagonal_scatter", "select_scatter", "slice_scatter", "as_strided", "dsplit")}
REFLECTED: dict[str, str] = {}



# --------------------------------------------------------------------------- Bessel i0
def _bessel_i1(x: Any) -> Any:
    """I₁(x) by its power series (all terms share the sign of x: no cancellation)."""
    half = x / 2.0
    term = half.copy()
    total = term.copy()
    sq = half * half
    k = 0
    while True:
        k += 1
        term = term * sq / (k * (k + 1))
        total = total + term
        if not xp.any(xp.abs(term) > xp.finfo(x.dtype).eps * xp.abs(total)):
            return total


class I0(Function):
    """y = I₀(x); x̄ = ȳ · I₁(x)."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return xp.i0(x).astype(x.dtype)

    @staticmethod
    def backward(ctx: Any, dy: Any) -> Any:
        (x,) = ctx.saved_tensors
        return dy * _bessel_i1(x)


def i0(input: Tensor) -> Tensor:  # noqa: A002
    """The modified Bessel function of the first kind, order 0 (integers promote to float)."""
    x = floating(_tensor("i0", "input", input))
    return I0.apply(x)


# --------------------------------------------------------------------------- gradient
def _narrow(x: Tensor, axis: int, start: int, stop: int | None) -> Tensor:
    return x[(slice(None),) * axis + (slice(start, stop),)]


def _shape_along(t: Tensor, axis: int, ndim: int) -> Tensor:
    return t.reshape((-1,) + (1,) * (ndim - axis - 1))


def _gradient_1d(f: Tensor, axis: int, h: Any, edge_order: int) -> Tensor:
    from neuralab.ops.shape import cat

    def part(a: int, b: int | None) -> Tensor:
        return _narrow(f, axis, a, b)

    if not isinstance(h, Tensor):  # uniform spacing h
        interior = (part(2, None) - part(0, -2)) / (2 * h)
        if edge_order == 1:
            first = (part(1, 2) - part(0, 1)) / h
            last = (part(-1, None) - part(-2, -1)) / h
        else:
            first = (-1.5 * part(0, 1) + 2 * part(1, 2) - 0.5 * part(2, 3)) / h
            last = (0.5 * part(-3, -2) - 2 * part(-2, -1) + 1.5 * part(-1, None)) / h
        return cat([first, interior, last], dim=axis)
    dx = h[1:] - h[:-1]
    hl = _shape_along(dx[:-1], axis, f.ndim)
    hr = _shape_along(dx[1:], axis, f.ndim)
    a = -hr / (hl * (hl + hr))
    b = (hr - hl) / (hl * hr)
    c = hl / (hr * (hl + hr))
    interior = a * part(0, -2) + b * part(1, -1) + c * part(2, None)
    if edge_order == 1:
        first = (part(1, 2) - part(0, 1)) / dx[0]
        last = (part(-1, None) - part(-2, -1)) / dx[-1]
    else:
        h1, h2 = dx[0], dx[1]
        first = (-(2 * h1 + h2) / (h1 * (h1 + h2)) * part(0, 1) + (h1 + h2) / (h1 * h2)
                 * part(1, 2) - h1 / (h2 * (h1 + h2)) * part(2, 3))
        h1, h2 = dx[-1], dx[-2]
        last = (h1 / (h2 * (h1 + h2)) * part(-3, -2) - (h2 + h1) / (h2 * h1) * part(-2, -1)
                + (2 * h1 + h2) / (h1 * (h1 + h2)) * part(-1, None))
    return cat([first, interior, last], dim=axis)


def gradient(input: Tensor, *, spacing: Any = 1, dim: Any = None,  # noqa: A002
             edge_order: int = 1) -> tuple[Tensor, ...]:
    """The derivative of samples of f along each dimension in ``dim`` (all by default).

    ``spacing``: one number for every dimension, a list of numbers (one per dimension) or a list
    of 1-d coordinate tensors. ``edge_order`` 1 or 2: the order of the one-sided edge
    differences. Returns one tensor per dimension, each of ``input``'s shape.
    """
    f = _tensor("gradient", "input", input)
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2, "
                         f"got {edge_order}")
    if dim is None:
        axes = list(range(f.ndim))
    elif isinstance(dim, int):
        axes = [normalize_dim("gradient", dim, f.ndim)]
    else:
        axes = [normalize_dim("gradient", d, f.ndim) for d in dim]
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(axes):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or "
                               f"it's spacing and dim arguments to have the same length, but got "
                               f"a spacing argument of length {len(spacing)} and a dim argument "
                               f"of length {len(axes)}.")
        steps = list(spacing)
    else:
        steps = [spacing] * len(axes)
    for axis in axes:
        if f.shape[axis] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               f"edge_order+1 (got size {f.shape[axis]} along dim {axis} with "
                               f"edge_order={edge_order})")
    f = floating(f)
    out = []
    for axis, h in zip(axes, steps):
        if isinstance(h, Tensor):
            if h.ndim != 1 or h.shape[0] != f.shape[axis]:
                raise RuntimeError(f"torch.gradient expected each tensor to be on the same "
                                   f"device and 1-d of the dimension's size {f.shape[axis]}, "
                                   f"got shape {list(h.shape)} for dim {axis}")
            h = floating(h).to(f.dtype)
        elif isinstance(h, bool) or not isinstance(h, (int, float)):
            raise TypeError(f"gradient: spacing must be numbers or tensors, got {h!r}")
        out.append(_gradient_1d(f, axis, h, edge_order))
    return tuple(out)


# --------------------------------------------------------------------------- histogram
histogram_result = namedtuple("histogram", ["hist", "bin_edges"])


def histogram(input: Tensor, bins: Any = 100, *, range: Any = None,  # noqa: A002
              weight: Tensor | None = None, density: bool = False) -> tuple[Tensor, Tensor]:
    """Counts of ``input``'s values in ``bins`` (a number of equal bins over ``range``, default
    [min, max], or a 1-d tensor of increasing edges); returns ``(hist, bin_edges)``. With
    ``weight`` each value counts its weight; ``density`` divides by the total times the bin
    width. The last bin includes its right edge. No gradient."""
    x = _tensor("histogram", "input", input)
    if not x.is_floating_point():
        raise RuntimeError(f"torch.histogram: input tensor and bins tensors should have the "
                           f"same dtype, but got input {x.dtype}: expected a floating input")
    a = x.array.reshape(-1)
    w = None
    if weight is not None:
        w = _tensor("histogram", "weight", weight).array
        if tuple(w.shape) != tuple(x.shape):
            raise RuntimeError(f"torch.histogram: if weight tensor is provided it should have "
                               f"the same shape as the input tensor excluding its innermost "
                               f"dimension, but got input shape {list(x.shape)} and weight "
                               f"shape {list(w.shape)}")
        w = w.reshape(-1)
    if isinstance(bins, Tensor):
        edges = bins.array.astype(a.dtype)
        if edges.ndim != 1 or edges.size < 1:
            raise RuntimeError("torch.histogram: bins tensor should have one dimension and at "
                               f"least 1 element, got shape {list(edges.shape)}")
    else:
        if isinstance(bins, bool) or not isinstance(bins, int) or bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins}")
        if range is not None:
            lo, hi = float(range[0]), float(range[1])
        elif a.size:
            lo, hi = float(a.min()), float(a.max())
        else:
            lo, hi = 0.0, 0.0
        if lo > hi:
            raise RuntimeError(f"torch.histogram(): max must be larger than min, got range "
                               f"({lo}, {hi})")
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = xp.linspace(lo, hi, bins + 1).astype(a.dtype)
    hist, _ = xp.histogram(a, bins=edges, weights=w)
    hist = hist.astype(a.dtype)
    if density:
        hist = hist / (hist.sum() * xp.diff(edges))
    return histogram_result(_wrap(hist.astype(a.dtype)), _wrap(edges))


# --------------------------------------------------------------------------- norms
def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:  # noqa: A002
    """Each slice ``input.select(dim, i)`` whose p-norm exceeds ``maxnorm`` scaled down to norm
    ``maxnorm`` (by maxnorm / (‖x_i‖_p + 1e-7), as PyTorch); the others unchanged."""
    from neuralab.linalg import vector_norm
    from neuralab.ops.elementwise import where

    x = _tensor("renorm", "input", input)
    if not x.is_floating_point():
        raise RuntimeError(f"renorm: expected a floating-point input, got {x.dtype}")
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported, got p={p}")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if x.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {x.ndim} dimensions")
    axis = normalize_dim("renorm", dim, x.ndim)
    others = tuple(d for d in range(x.ndim) if d != axis)
    norms = vector_norm(x, ord=p, dim=others, keepdim=True)
    factor = where(norms > maxnorm, maxnorm / (norms + 1e-7), xp.ones((), dtype=x.array.dtype))
    return x * factor


def nuclear_norm(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """The sum of the singular values of the matrices in ``dim`` (the last two by default)."""
    from neuralab.linalg import matrix_norm

    x = _tensor("nuclear_norm", "input", input)
    if isinstance(dim, bool):  # nuclear_norm(x, keepdim) positionally
        dim, keepdim = None, dim
    if dim is None:
        if x.ndim != 2:
            raise RuntimeError(f"nuclear_norm: expected a 2D tensor, but got a {x.ndim}D tensor")
        dim = (0, 1)
    if len(dim) != 2:
        raise RuntimeError(f"nuclear_norm: dim must be a 2-tuple, got {tuple(dim)}")
    return matrix_norm(x, ord="nuc", dim=tuple(dim), keepdim=keepdim)


def frobenius_norm(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:  # noqa: A002
    """√(Σ x²) over ``dim`` (one or two dimensions; all when empty)."""
    from neuralab.linalg import vector_norm

    x = _tensor("frobenius_norm", "input", input)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) > 2:
        raise RuntimeError(f"frobenius_norm: expected at most 2 dimensions, got {len(dims)}")
    return vector_norm(x, ord=2, dim=dims or None, keepdim=keepdim)


# --------------------------------------------------------------------------- sampling
def binomial(count: Tensor, prob: Tensor, generator: Any = None) -> Tensor:
    """Samples of Binomial(count, prob), elementwise (broadcast); float like ``prob``."""
    n = _tensor("binomial", "count", count)
    p = _tensor("binomial", "prob", prob)
    if not p.is_floating_point():
        raise RuntimeError(f"binomial: prob must be a floating tensor, got {p.dtype}")
    pa = p.array
    if xp.any((pa < 0) | (pa > 1)) or xp.any(xp.isnan(pa)):
        raise RuntimeError("binomial: prob must be in [0, 1]")
    if xp.any(n.array < 0):
        raise RuntimeError("binomial: count must be non-negative")
    rng = backend.as_rng(generator)
    return _wrap(rng.binomial(n.array.astype(xp.int64), pa).astype(pa.dtype))


# --------------------------------------------------------------------------- aliases
def split_with_sizes(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """``input`` split along ``dim`` into pieces of ``split_sizes`` (which must sum to the
    dimension's size)."""
    from neuralab.ops.shape import split

    x = _tensor("split_with_sizes", "input", input)
    axis = normalize_dim("split_with_sizes", dim, x.ndim)
    sizes = [int(s) for s in split_sizes]
    if any(s < 0 for s in sizes) or sum(sizes) != x.shape[axis]:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to "
                           f"{x.shape[axis]} (input tensor's size at dimension {dim}), but got "
                           f"split_sizes={sizes}")
    return tuple(split(x, sizes, dim=axis))


def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """``chunk`` (PyTorch's variant skips the view checks; here the same)."""
    from neuralab.ops.shape import chunk

    return tuple(chunk(_tensor("unsafe_chunk", "input", input), chunks, dim))


def unsafe_split(input: Tensor, split_size_or_sections: Any,  # noqa: A002
                 dim: int = 0) -> tuple[Tensor, ...]:
    """``split`` (PyTorch's variant skips the view checks; here the same)."""
    from neuralab.ops.shape import split

    return tuple(split(_tensor("unsafe_split", "input", input), split_size_or_sections, dim))


def constant_pad_nd(input: Tensor, pad: Any, value: float = 0) -> Tensor:  # noqa: A002
    """``F.pad(input, pad, value=value)`` (negative pads crop)."""
    from neuralab.ops.shape import pad as pad_fn

    return pad_fn(_tensor("constant_pad_nd", "input", input), list(pad), "constant", value)


def convolution(input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any,  # noqa: A002
                padding: Any, dilation: Any, transposed: bool, output_padding: Any,
                groups: int) -> Tensor:
    """PyTorch's generic convolution: conv1d/2d/3d or their transposes by ``weight.ndim``."""
    w = _tensor("convolution", "weight", weight)
    spatial = w.ndim - 2
    if spatial not in (1, 2, 3):
        raise RuntimeError(f"convolution: expected a 3-d, 4-d or 5-d weight, got {w.ndim}-d")
    if transposed:
        fn = (conv_transpose1d, conv_transpose2d, conv_transpose3d)[spatial - 1]
        return fn(input, w, bias, stride=stride, padding=padding, output_padding=output_padding,
                  groups=groups, dilation=dilation)
    fn = (conv1d, conv2d, conv3d)[spatial - 1]
    return fn(input, w, bias, stride=stride, padding=padding, dilation=dilation, groups=groups)


def nextafter(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    """The next floating-point value after ``input`` towards ``other``, elementwise."""
    x = _tensor("nextafter", "input", input)
    y = other.array if isinstance(other, Tensor) else xp.asarray(other, dtype=x.array.dtype)
    if not x.is_floating_point() or y.dtype.kind != "f":
        raise RuntimeError(f"nextafter: expected floating tensors, got {x.dtype} and "
                           f"{y.dtype}")
    dtype = xp.result_type(x.array, y)
    return _wrap(xp.nextafter(x.array.astype(dtype), y.astype(dtype)))


# --------------------------------------------------------------------------- as_strided
class AsStrided(Function):
    """y[k] = flat(x)[idx[k]]; x̄ = Σ over the entries reading each element (scatter-add)."""

    @staticmethod
    def forward(ctx: Any, x: Any, *, index: Any) -> Any:
        ctx.index, ctx.shape = index, x.shape
        return xp.ascontiguousarray(x).reshape(-1)[index]

    @staticmethod
    def backward(ctx: Any, dy: Any) -> Any:
        dx = xp.zeros(math.prod(ctx.shape), dtype=dy.dtype)
        xp.add.at(dx, ctx.index, dy)
        return dx.reshape(ctx.shape)


def as_strided(input: Tensor, size: Any, stride: Any,  # noqa: A002
               storage_offset: int | None = None) -> Tensor:
    """A view of ``size`` whose element [i₀, i₁, ...] is element offset + Σ iₖ strideₖ of
    ``input``'s elements in row-major order (strides counted in elements, as PyTorch).

    neuralab returns a copy with that view's values (written-to elements are not shared)."""
    x = _tensor("as_strided", "input", input)
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    offset = 0 if storage_offset is None else int(storage_offset)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: size {list(size)} has "
                           f"{len(size)} dimensions, stride {list(stride)} has {len(stride)}")
    if any(s < 0 for s in size) or any(s < 0 for s in stride) or offset < 0:
        raise RuntimeError(f"as_strided: sizes, strides and storage offset must be "
                           f"non-negative, got size {list(size)}, stride {list(stride)}, "
                           f"storage_offset {offset}")
    numel = x.numel()
    needed = 0 if 0 in size else offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if needed > numel:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {x.array.itemsize} requiring a "
                           f"storage size of {needed * x.array.itemsize} are out of bounds for "
                           f"storage of size {numel * x.array.itemsize}")
    index = xp.full(size, offset, dtype=xp.int64)
    for axis, (n, s) in enumerate(zip(size, stride)):
        index = index + (xp.arange(n) * s).reshape((n,) + (1,) * (len(size) - axis - 1))
    return AsStrided.apply(x, index=index)
