"""Numerical helpers with PyTorch's names: differences, integrals, statistics and a few aliases.

* ``diff``: the n-th forward difference Δx_i = x_{i+1} − x_i along a dimension.
* ``trapezoid`` / ``cumulative_trapezoid``: the trapezoidal rule
  ∫ y dx ≈ Σ_i Δx_i (y_i + y_{i+1}) / 2.
* ``cov``: the (weighted) sample covariance of the rows, C = (X − μ) W (X − μ)ᵀ / (Σw − c),
  and ``corrcoef`` = C_ij / √(C_ii C_jj) (the Pearson correlation).
* ``vander``: the Vandermonde matrix [x^(N−1), ..., x, 1] (the design matrix of the polynomial
  regression of Lecture 2).
* ``lgamma`` = log |Γ(x)|, with d/dx lgamma(x) = ψ(x), the digamma function.
* ``frexp``/``ldexp``: x = m · 2^e with ½ ≤ |m| < 1, and its inverse.
* ``histc``, ``isin``, ``unravel_index`` and the comparison aliases ``greater``... have no
  gradient.

Most are built from differentiable ops (their gradients are what the composition gives, as in
PyTorch); ``lgamma`` and ``frexp`` are Functions with hand-written backward passes.
"""

from __future__ import annotations

import math
import warnings
from collections import namedtuple
from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops import _methods
from neuralab.ops._checks import normalize_dim
from neuralab.ops._promote import as_dtype, floating, result_type
from neuralab.ops.elementwise import clamp, ge, gt, le, lt, ne
from neuralab.ops.logic import logical_xor
from neuralab.ops.scan import cumprod, cumsum
from neuralab.ops.shape import cat

__all__ = [
    "clone", "detach", "greater", "greater_equal", "less", "less_equal", "not_equal", "diff",
    "isin", "cov", "corrcoef", "histc", "trapezoid", "trapz", "cumulative_trapezoid", "vander",
    "unravel_index", "frexp", "ldexp", "lgamma",
]

TENSOR_METHODS = {name: name for name in (
    "greater", "greater_equal", "less", "less_equal", "not_equal", "diff", "cov", "corrcoef",
    "histc", "frexp", "ldexp", "lgamma", "sum_to_size")}
REFLECTED: dict[str, str] = {}


def _tensor(op: str, name: str, value: Any) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")
    return value


def _wrap(array: Any) -> Tensor:
    """A result array as a constant Tensor of its own dtype."""
    return Tensor._from_op(xp.asarray(array), None, 0)


def _slice(x: Tensor, axis: int, start: int | None, stop: int | None) -> Tensor:
    return x[(slice(None),) * axis + (slice(start, stop),)]


# --------------------------------------------------------------------------- aliases
def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:  # noqa: A002
    """A copy of ``input`` in new memory; differentiable (x̄ = ȳ)."""
    return _tensor("clone", "input", input).clone()


def detach(input: Tensor) -> Tensor:  # noqa: A002
    """``input`` cut from the graph (shares its memory; no gradient flows back)."""
    return _tensor("detach", "input", input).detach()


def _alias(name: str, fn: Any) -> Any:
    def alias(input: Any, other: Any) -> Tensor:  # noqa: A002
        return fn(input, other)

    alias.__name__ = alias.__qualname__ = name
    alias.__doc__ = f"PyTorch's alias of ``{fn.__name__}``: {fn.__doc__}"
    return alias


greater = _alias("greater", gt)
greater_equal = _alias("greater_equal", ge)
less = _alias("less", lt)
less_equal = _alias("less_equal", le)
not_equal = _alias("not_equal", ne)


# --------------------------------------------------------------------------- differences
def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,  # noqa: A002
         append: Tensor | None = None) -> Tensor:
    """The n-th forward difference along ``dim``: out_i = x_{i+1} − x_i, applied ``n`` times.

    ``prepend``/``append`` are concatenated to ``input`` along ``dim`` first (same number of
    dimensions, same sizes elsewhere). Bool tensors take x_{i+1} xor x_i. Each pass shortens
    ``dim`` by one (to no less than 0).
    """
    x = _tensor("diff", "input", input)
    if x.ndim == 0:
        raise ValueError("diff: expects input to be at least one-dimensional")
    if isinstance(n, bool) or not isinstance(n, (int, xp.integer)) or n < 0:
        raise ValueError(f"diff: order n must be a non-negative integer, got {n!r}")
    axis = normalize_dim("diff", dim, x.ndim)
    parts = []
    for name, extra in (("prepend", prepend), (None, x), ("append", append)):
        if extra is None:
            continue
        if name is not None:
            _tensor("diff", name, extra)
            if extra.ndim != x.ndim:
                raise ValueError(f"diff: {name} must have as many dimensions as input "
                                 f"({x.ndim}), got {extra.ndim}")
            for d in range(x.ndim):
                if d != axis and extra.shape[d] != x.shape[d]:
                    raise ValueError(
                        f"diff: the shape of {name} must match input's except along dim {axis}; "
                        f"input.size({d}) = {x.shape[d]}, but {name}.size({d}) = "
                        f"{extra.shape[d]}")
        parts.append(extra)
    if len(parts) > 1:
        dtype = result_type(*parts)
        x = cat([as_dtype(p, dtype) for p in parts], dim=axis)
    for _ in range(n):
        if x.shape[axis] == 0:
            break
        after, before = _slice(x, axis, 1, None), _slice(x, axis, None, -1)
        x = logical_xor(after, before) if x.dtype == xp.bool_ else after - before
    return x


# --------------------------------------------------------------------------- integrals
def _integrand(op: str, y: Any, dim: int) -> tuple[Tensor, int]:
    y = _tensor(op, "y", y)
    if y.ndim == 0:
        raise IndexError(f"{op}: dim {dim} is out of range: y has no dimensions")
    if y.dtype == xp.bool_:
        raise TypeError(f"{op}: received a bool tensor for y, which is not supported")
    return y, normalize_dim(op, dim, y.ndim)


def _spacing(op: str, y: Tensor, x: Any, dx: Any, axis: int) -> Tensor | float:
    """Δx along ``axis``: a Tensor (from the sample points ``x``) or a number (``dx``)."""
    if x is not None and dx is not None:
        raise TypeError(f"{op}: pass either the sample points x or the spacing dx, not both")
    if x is None:
        if dx is None:
            return 1.0
        if isinstance(dx, Tensor):
            dx = dx.item()
        if isinstance(dx, bool) or not isinstance(dx, (int, float, xp.number)):
            raise TypeError(f"{op}: dx must be a number, got {type(dx).__name__}")
        return float(dx)
    x = _tensor(op, "x", x)
    if x.dtype == xp.bool_:
        raise TypeError(f"{op}: received a bool tensor for x, which is not supported")
    if x.ndim == 1:
        if x.shape[0] != y.shape[axis]:
            raise ValueError(f"{op}: there must be one x value for each sample point: x has "
                             f"{x.shape[0]}, y has {y.shape[axis]} along dim {axis}")
        shape = [1] * y.ndim
        shape[axis] = x.shape[0]
        x = x.reshape(shape)
    elif x.ndim < y.ndim:
        x = x.reshape((1,) * (y.ndim - x.ndim) + tuple(x.shape))
    return _slice(x, axis, 1, None) - _slice(x, axis, None, -1)


def trapezoid(y: Tensor, x: Tensor | None = None, *, dx: float | None = None,
              dim: int = -1) -> Tensor:
    """The trapezoidal rule along ``dim``: Σ_i Δx_i (y_i + y_{i+1}) / 2.

    With sample points ``x`` (1-D along ``dim``, or broadcastable to ``y``) or a constant
    spacing ``dx`` (default 1): then dx · (Σ_i y_i − (y_0 + y_last)/2). Zero samples give 0.
    """
    y, axis = _integrand("trapezoid", y, dim)
    spacing = _spacing("trapezoid", y, x, dx, axis)
    if y.shape[axis] == 0:
        return _wrap(xp.zeros(y.shape[:axis] + y.shape[axis + 1:], dtype=y.array.dtype))
    if isinstance(spacing, Tensor):
        return (spacing * (_slice(y, axis, 1, None) + _slice(y, axis, None, -1))).sum(axis) / 2.0
    ends = (y.select(axis, 0) + y.select(axis, -1)) * 0.5
    return (y.sum(axis) - ends) * spacing


trapz = trapezoid


def cumulative_trapezoid(y: Tensor, x: Tensor | None = None, *, dx: float | None = None,
                         dim: int = -1) -> Tensor:
    """The running trapezoidal rule along ``dim``: out_k = Σ_{i ≤ k} Δx_i (y_i + y_{i+1}) / 2.

    One element shorter than ``y`` along ``dim``; ``x`` and ``dx`` as in :func:`trapezoid`.
    """
    y, axis = _integrand("cumulative_trapezoid", y, dim)
    spacing = _spacing("cumulative_trapezoid", y, x, dx, axis)
    pairs = _slice(y, axis, 1, None) + _slice(y, axis, None, -1)
    if isinstance(spacing, Tensor):
        return cumsum(spacing * pairs, axis) / 2.0
    return cumsum(spacing / 2.0 * pairs, axis)


# --------------------------------------------------------------------------- statistics
def _weights(name: str, w: Any, observations: int, integral: bool) -> Tensor:
    w = _tensor("cov", name, w)
    if w.ndim > 1:
        raise ValueError(f"cov(): expected {name} to have one or fewer dimensions but got {name} "
                         f"with {w.ndim} dimensions")
    kind = w.array.dtype.kind
    if integral and kind not in "iu":
        raise TypeError(f"cov(): expected {name} to have integral dtype but got {name} with "
                        f"{w.dtype} dtype")
    if not integral and kind != "f":
        raise TypeError(f"cov(): expected {name} to have floating point dtype but got {name} "
                        f"with {w.dtype} dtype")
    if w.numel() != observations:
        raise ValueError(f"cov(): expected {name} to have the same numel as there are "
                         f"observations in the input but got {w.numel()} != {observations}")
    if w.numel() and w.array.min() < 0:
        raise ValueError(f"cov(): {name} cannot be negative")
    return w


def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None,  # noqa: A002
        aweights: Tensor | None = None) -> Tensor:
    """The covariance of the variables in the rows of ``input`` (observations in columns).

    With weights w = fweights · aweights: μ = Σ_j w_j x_j / Σw and
    C = Σ_j w_j (x_j − μ)(x_j − μ)ᵀ / (Σw − c · Σ_j w_j a_j / Σw) (the last factor only with
    ``aweights``; else Σw − c). ``correction=1`` is Bessel's unbiased estimate, 0 the maximum
    likelihood one. A 1-D input is one variable; the result is squeezed (a 0-d tensor for one
    variable).
    """
    x = _tensor("cov", "input", input)
    if x.ndim > 2:
        raise ValueError(f"cov(): expected input to have two or fewer dimensions but got an "
                         f"input with {x.ndim} dimensions")
    x = floating(x)
    if x.ndim < 2:
        x = x.reshape(1, -1)
    observations = x.shape[1]
    w = None
    if fweights is not None:
        w = _weights("fweights", fweights, observations, integral=True)
    if aweights is not None:
        a = _weights("aweights", aweights, observations, integral=False)
        w = a if w is None else w * a
    if w is None:
        w_sum: Any = observations
        with xp.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the mean of no observations: nan
            avg = x.mean(1)
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
    if w is not None and aweights is not None and correction != 0:
        norm = w_sum - correction * (w * aweights).sum() / w_sum
    else:
        norm = w_sum - correction
    if float(norm) <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
        norm = norm * 0 if isinstance(norm, Tensor) else 0
    centred = x - avg.reshape(-1, 1)
    weighted = centred if w is None else centred * w
    product = weighted @ centred.transpose(0, 1)
    with xp.errstate(invalid="ignore", divide="ignore"):
        return (product / norm).squeeze()


def corrcoef(input: Tensor) -> Tensor:  # noqa: A002
    """The Pearson correlation coefficients of the rows: R_ij = C_ij / √(C_ii C_jj), clipped to
    [−1, 1] (C = ``cov(input)``)."""
    c = cov(_tensor("corrcoef", "input", input))
    with xp.errstate(invalid="ignore", divide="ignore"):
        if c.ndim == 0:
            return c / c
        stddev = c.diagonal().sqrt()
        c = c / stddev.reshape(-1, 1)
        c = c / stddev.reshape(1, -1)
    return clamp(c, -1, 1)


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """A histogram of ``input`` with ``bins`` equal-width bins over [min, max] (no gradient).

    ``min == max`` takes the data's smallest and largest values (widened by ±1 when those are
    equal too). Elements outside the range and nan are ignored; the last bin includes ``max``.
    The counts have ``input``'s floating dtype.
    """
    x = _tensor("histc", "input", input)
    if x.array.dtype.kind != "f":
        raise TypeError(f"histc: input must be a floating-point tensor, got {x.dtype}")
    if isinstance(bins, bool) or not isinstance(bins, (int, xp.integer)) or bins <= 0:
        raise ValueError(f"histc: bins must be > 0, got {bins!r}")
    a = x.array.reshape(-1)
    low, high = float(min), float(max)
    if low == high and a.size:
        low, high = float(a.min()), float(a.max())
    if low == high:
        low, high = low - 1, high + 1
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"histc: range of [{low}, {high}] is not finite")
    if not low < high:
        raise ValueError(f"histc: max must be larger than min, got min={min}, max={max}")
    dtype = a.dtype
    left, right = dtype.type(low), dtype.type(high)
    inside = a[(a >= left) & (a <= right)]
    with xp.errstate(over="ignore"):
        position = ((inside - left) * dtype.type(bins) / (right - left)).astype(xp.int64)
    position = xp.minimum(position, bins - 1)
    return _wrap(xp.bincount(position, minlength=bins).astype(dtype))


def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """True where an element of ``elements`` is among ``test_elements`` (a bool tensor of
    ``elements``' shape); ``invert=True`` gives the complement. Either may be a number."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin: at least one of elements and test_elements must be a Tensor")
    a = elements.array if isinstance(elements, Tensor) else xp.asarray(elements)
    b = test_elements.array if isinstance(test_elements, Tensor) else xp.asarray(test_elements)
    return _wrap(xp.isin(a, b, invert=invert))


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803
    """The Vandermonde matrix of a 1-D ``x``: column j is x^(N−1−j) (x^j with
    ``increasing=True``); N defaults to len(x). Integer and bool inputs give int64.

    The powers are a running product along each row, so the gradient is cumprod's.
    """
    x = _tensor("vander", "x", x)
    if x.ndim != 1:
        raise ValueError(f"vander: x must be a one-dimensional tensor, got {x.ndim} dimensions")
    n = x.shape[0] if N is None else N
    if isinstance(n, bool) or not isinstance(n, (int, xp.integer)) or n < 0:
        raise ValueError(f"vander: N must be a non-negative integer, got {N!r}")
    dtype = x.array.dtype if x.array.dtype.kind == "f" else xp.dtype(xp.int64)
    x = as_dtype(x, dtype)
    ones = _wrap(xp.ones((x.shape[0], min(n, 1)), dtype=dtype))
    if n <= 1:
        out = ones
    else:
        powers = cumprod(x.reshape(-1, 1).expand(x.shape[0], n - 1), 1)
        out = cat([ones, powers], dim=1)
    return out if increasing else out.flip(1)


def unravel_index(indices: Tensor, shape: Any) -> tuple[Tensor, ...]:
    """The coordinates in a tensor of ``shape`` of flat (row-major) ``indices``: one int64 tensor
    per dimension, each of ``indices``' shape. Indices wrap around (−1 is the last element)."""
    if not isinstance(indices, Tensor):
        raise TypeError(f"unravel_index: expected 'indices' to be a Tensor, got "
                        f"{type(indices).__name__}")
    if indices.array.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: expected 'indices' to be integer dtype, but got "
                        f"{indices.dtype}")
    dims = (shape,) if isinstance(shape, (int, xp.integer)) else tuple(shape)
    if any(isinstance(d, bool) or not isinstance(d, (int, xp.integer)) for d in dims):
        raise TypeError(f"unravel_index: 'shape' must be an int or a sequence of ints, got "
                        f"{shape!r}")
    if any(d < 0 for d in dims):
        raise ValueError(f"unravel_index: 'shape' cannot have negative values, but got {dims}")
    if any(d == 0 for d in dims):
        raise ValueError(f"unravel_index: 'shape' cannot have a zero dimension (nothing to index "
                         f"into), got {dims}")
    rest = indices.array.astype(xp.int64)
    coordinates = []
    for d in reversed(dims):
        coordinates.append(rest % d)
        rest = rest // d
    return tuple(_wrap(c) for c in reversed(coordinates))


# --------------------------------------------------------------------------- floating point
FrexpResult = namedtuple("FrexpResult", ["mantissa", "exponent"])


class Frexp(Function):
    """x = m · 2^e with ½ ≤ |m| < 1 (m = 0, e = 0 for x = 0).   m̄ → x̄ = m̄ / 2^e (e is
    piecewise constant: no gradient)."""

    @staticmethod
    def forward(ctx, x):
        mantissa, exponent = xp.frexp(x)
        ctx.exponent = exponent
        return mantissa, exponent.astype(xp.int32, copy=False)

    @staticmethod
    def backward(ctx, dmantissa, dexponent=None):
        return dmantissa / xp.exp2(ctx.exponent).astype(dmantissa.dtype)


def frexp(input: Tensor) -> FrexpResult:  # noqa: A002
    """Split into mantissa and exponent: ``input = mantissa · 2^exponent``, ½ ≤ |mantissa| < 1.

    Returns ``(mantissa, exponent)`` (fields with those names), exponent int32.
    """
    x = _tensor("frexp", "input", input)
    if x.array.dtype.kind != "f":
        raise TypeError(f"frexp: only supports floating-point dtypes, got {x.dtype}")
    return FrexpResult(*Frexp.apply(x))


def ldexp(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """input · 2^other (a floating result; the gradient reaches both)."""
    _tensor("ldexp", "input", input)
    _tensor("ldexp", "other", other)
    return input * (2.0 ** other)


def _lgamma_scalar(v: float) -> float:
    try:
        return math.lgamma(v)
    except ValueError:  # the poles 0, −1, −2, ...
        return math.inf


_lgamma_array = xp.frompyfunc(_lgamma_scalar, 1, 1)

# Bernoulli numbers B_2k / 2k for ψ's asymptotic series ψ(x) ≈ ln x − 1/(2x) − Σ B_2k/(2k x^2k).
_DIGAMMA_SERIES = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)


def digamma_array(x: Any) -> Any:
    """ψ(x) = d/dx ln Γ(x) in float64 (about 1e-15 relative error away from its root 1.46).

    x < 0: reflection ψ(x) = ψ(1 − x) − π cot(πx); then the recurrence ψ(x) = ψ(x + 1) − 1/x
    up to x ≥ 10, and the asymptotic series there. ψ(0) = −inf; the other poles give nan.
    """
    x = xp.asarray(x, dtype=xp.float64)
    out = xp.zeros_like(x)
    with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
        negative = x < 0
        reflected = xp.where(negative, 1 - x, x)
        frac = x - xp.floor(x)
        out = xp.where(negative, -math.pi / xp.tan(math.pi * frac), 0.0)
        z = reflected.copy()
        for _ in range(10):
            small = z < 10
            out = out - xp.where(small, 1 / z, 0.0)
            z = xp.where(small, z + 1, z)
        inv2 = 1 / (z * z)
        series = xp.zeros_like(z)
        for coefficient in reversed(_DIGAMMA_SERIES):
            series = (series + coefficient) * inv2
        out = out + xp.log(z) - 0.5 / z - series
        out = xp.where(x == 0, -math.inf, out)
        out = xp.where(negative & (frac == 0), math.nan, out)
        out = xp.where(xp.isposinf(x), math.inf, out)
        out = xp.where(xp.isneginf(x), math.nan, out)
    return out


class Lgamma(Function):
    """y = ln |Γ(x)|.   x̄ = ȳ ψ(x), ψ the digamma function (the logarithmic derivative of Γ)."""

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return xp.asarray(_lgamma_array(x.astype(xp.float64)), dtype=x.dtype)

    @staticmethod
    def backward(ctx, dout):
        with xp.errstate(invalid="ignore"):
            return (dout * digamma_array(ctx.x)).astype(dout.dtype)


def lgamma(input: Tensor) -> Tensor:  # noqa: A002
    """ln |Γ(x)| elementwise (+inf at the poles 0, −1, −2, ...); integers become float32."""
    return Lgamma.apply(floating(_tensor("lgamma", "input", input)))


# --------------------------------------------------------------------------- Tensor methods
def sum_to_size(self: Tensor, *size: Any) -> Tensor:
    """Sum ``self`` down to ``size``, which must broadcast to ``self.shape`` (the gradient of a
    broadcast, as ``unbroadcast``): ``x.sum_to_size(1, 3)``, ``x.sum_to_size((3,))``."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if not size:
        raise TypeError("sum_to_size(): missing the size argument, e.g. x.sum_to_size(1, 3)")
    shape = tuple(self.shape)
    lead = len(shape) - len(size)
    if lead < 0 or any(s not in (1, d) for s, d in zip(size, shape[lead:])):
        raise ValueError(f"sum_to_size: size {list(size)} is not expandable to size "
                         f"{list(shape)}")
    dims = tuple(range(lead)) + tuple(lead + i for i, (s, d) in enumerate(zip(size, shape[lead:]))
                                      if s == 1 and d != 1)
    if not dims:
        return self
    return self.sum(dims, keepdim=True).reshape(tuple(size))


def _inplace_twins() -> None:
    for name in ("greater", "greater_equal", "less", "less_equal", "not_equal", "ldexp",
                 "lgamma"):
        setattr(Tensor, name + "_", _methods._twin_inplace(name + "_", globals()[name]))


_inplace_twins()
