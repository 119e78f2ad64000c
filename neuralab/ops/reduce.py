"""Reductions: sums, means, extrema, variance, log-sum-exp and the softmax family (Lectures 3-6).

A reduction's backward copies the output gradient back along the reduced dimensions: every input
element that contributed to an output receives that output's ȳ, times its local derivative.
Dimensions follow PyTorch: ``dim`` is None (all), an int or a tuple; negatives count from the end;
``keepdim=True`` keeps reduced dimensions with size 1 so that the result broadcasts against x.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import normalize_dim, normalize_dims, require_float
from neuralab.ops._promote import cast, floating
from neuralab.ops.elementwise import maximum, minimum, sub
from neuralab.ops.shape import permute, unsqueeze

__all__ = [
    "sum", "mean", "max", "min", "var", "std", "logsumexp", "softmax", "log_softmax", "argmax",
    "argmin", "prod", "amax", "amin", "aminmax", "nansum", "nanmean", "count_nonzero", "any",
    "all", "std_mean", "var_mean", "vector_norm", "matrix_norm", "dist",
]

# ``norm`` is not in __all__: ``from neuralab.ops import *`` would bind ``neuralab.ops.norm``, the
# batch-norm module's name, to the function. neuralab/__init__.py exports it as ``nl.norm``.
TENSOR_METHODS = {name: name for name in __all__ if name not in ("vector_norm", "matrix_norm")}
TENSOR_METHODS["norm"] = "norm"
REFLECTED: dict[str, str] = {}


class ValuesIndices(NamedTuple):
    """The result of ``max(x, dim)`` / ``min(x, dim)``: like PyTorch's ``return_types.max``."""

    values: Tensor
    indices: Tensor


class FloatRequiredError(TypeError, RuntimeError):
    """An integer tensor where a floating one is needed: a TypeError, and the RuntimeError that
    PyTorch raises."""


class MinMax(NamedTuple):
    """The result of ``aminmax``: like PyTorch's ``return_types.aminmax``."""

    min: Tensor
    max: Tensor


def _dim_alias(op: str, dim: Any, axis: Any, keepdim: Any, keepdims: Any) -> tuple[Any, bool]:
    """PyTorch accepts NumPy's ``axis=`` for ``dim=`` and ``keepdims=`` for ``keepdim=``."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}: give dim or axis (its NumPy spelling), not both")
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if isinstance(dim, list):
        dim = tuple(dim)
    return dim, bool(keepdim)


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


# --------------------------------------------------------------------------- dimension helpers


def _axes(op: str, dim: Any, ndim: int) -> tuple[int, ...] | None:
    """NumPy axes for ``dim``: None reduces everything (so does an empty tuple, as in PyTorch).

    A 0-d tensor accepts dim 0 or -1 (as PyTorch) and is reduced over "all" of its no axes.
    """
    if dim is not None and not isinstance(dim, (int, xp.integer, tuple, list)):
        raise TypeError(f"{op}: dim must be None, an int or a tuple of ints, got "
                        f"{type(dim).__name__}")
    dims = normalize_dims(op, dim, ndim)
    if dims is None or len(dims) == 0 or ndim == 0:
        return None
    return dims


def _axis(op: str, dim: Any, ndim: int) -> int | None:
    """A single NumPy axis (None for a 0-d tensor, which has none)."""
    if dim is None:
        raise TypeError(f"{op}: dim is required (which dimension to normalize over), e.g. "
                        f"{op}(x, dim=-1) for the last one")
    d = normalize_dim(op, dim, ndim)
    return None if ndim == 0 else d


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape of a keepdim=True result: reduced dimensions become 1."""
    return tuple(1 if axes is None or i in axes else n for i, n in enumerate(shape))


def _reduced_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape of a keepdim=False result: reduced dimensions disappear."""
    return tuple(n for i, n in enumerate(shape) if axes is not None and i not in axes)


def _spread(dout: Any, shape: tuple[int, ...], axes: tuple[int, ...] | None) -> Any:
    """Copy ȳ back along the reduced axes: the VJP of a sum (keepdim or not)."""
    # Reshape (N,) -> (N, 1) etc. so that ȳ broadcasts over the reduced axes, then broadcast.
    return xp.broadcast_to(dout.reshape(_kept_shape(shape, axes)), shape)


# --------------------------------------------------------------------------- Functions


class Sum(Function):
    """y = Σ_axes x.   x̄ = ȳ copied along the summed axes.

    With ``nan=True`` (nansum) nan elements count as 0 and get a zero gradient.
    """

    @staticmethod
    def check(x, dim=None, keepdim=False, nan=False):
        _axes("sum", dim, x.ndim)

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False, nan=False):
        axes = _axes("sum", dim, x.ndim)
        ctx.shape, ctx.axes = x.shape, axes
        ctx.keep = ~xp.isnan(x) if nan and x.dtype.kind == "f" else None
        y = (xp.nansum if nan else xp.sum)(x, axis=axes, keepdims=keepdim)
        # Bool and int sums are int64 as in PyTorch; floats keep their dtype.
        return xp.asarray(y, dtype=x.dtype if x.dtype.kind == "f" else xp.int64)

    @staticmethod
    def backward(ctx, dout):
        dx = _spread(dout, ctx.shape, ctx.axes)
        return dx if ctx.keep is None else dx * ctx.keep  # nansum: nan elements get 0


class Mean(Function):
    """y = (1/n) Σ_axes x, n the number of elements averaged.   x̄ = ȳ / n copied along the axes.

    With ``nan=True`` (nanmean) nan elements are left out of the sum and of n, and get x̄ = 0.
    """

    @staticmethod
    def check(x, dim=None, keepdim=False, nan=False):
        if x.dtype.kind != "f":
            raise FloatRequiredError(f"mean: input must be a floating-point tensor, got {x.dtype} "
                                     "(convert it with .float(), or pass dtype=)")
        _axes("mean", dim, x.ndim)

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False, nan=False):
        axes = _axes("mean", dim, x.ndim)
        if nan:  # nanmean: n counts the elements that are not nan, per output
            keep = ~xp.isnan(x)
            n = keep.sum(axis=axes, keepdims=True).astype(x.dtype)
            total = xp.where(keep, x, 0).sum(axis=axes, keepdims=True)
            ctx.keep = keep
        else:
            n = x.dtype.type(x.size if axes is None else int(xp.prod([x.shape[a] for a in axes])))
            total = x.sum(axis=axes, keepdims=True)
            ctx.keep = None
        ctx.shape, ctx.axes, ctx.n = x.shape, axes, n
        with xp.errstate(invalid="ignore", divide="ignore"):  # the mean of nothing is nan
            y = total / n
        y = y if keepdim else y.reshape(_reduced_shape(x.shape, axes))
        return xp.asarray(y, dtype=x.dtype)

    @staticmethod
    def backward(ctx, dout):
        n = ctx.n
        with xp.errstate(invalid="ignore", divide="ignore"):
            dx = _spread(dout, ctx.shape, ctx.axes) / xp.where(n == 0, 1, n)
        return dx if ctx.keep is None else dx * ctx.keep


class _Extremum(Function):
    """y = max (or min) over all elements or over a tuple of axes (PyTorch's ``amax``).

    x̄ = ȳ shared equally among the elements that attain the extremum (ties split the gradient,
    as PyTorch's ``max()`` and ``amax``), 0 elsewhere.
    """

    name = "max"
    reduce = staticmethod(xp.max)

    @classmethod
    def check(cls, x, dim=None, keepdim=False):
        if x.numel() == 0 and (dim is None or x.ndim == 0):
            raise ValueError(f"{cls.name}: the input is empty (shape {x.shape}), it has no "
                             f"{cls.name}imum")
        _axes(cls.name, dim, x.ndim)

    @classmethod
    def forward(cls, ctx, x, dim=None, keepdim=False):
        axes = _axes(cls.name, dim, x.ndim)
        y = cls.reduce(x, axis=axes, keepdims=True)
        ctx.x, ctx.y, ctx.axes = x, y, axes
        return y if keepdim else y.reshape(_reduced_shape(x.shape, axes))

    @staticmethod
    def backward(ctx, dout):
        x, y, axes = ctx.x, ctx.y, ctx.axes
        winners = x == y
        count = winners.sum(axis=axes, keepdims=True)
        return winners * (dout.reshape(y.shape) / count).astype(x.dtype, copy=False)


class Amax(_Extremum):
    __doc__ = _Extremum.__doc__


class Amin(_Extremum):
    __doc__ = _Extremum.__doc__.replace("max (or min)", "min")
    name = "min"
    reduce = staticmethod(xp.min)


class _ExtremumDim(Function):
    """(y, i) = max (or min) of x along one dim, and the index where it is attained.

    x̄ = ȳ scattered to the returned index i (the first one among ties, as PyTorch's ``max(dim)``),
    0 elsewhere. The indices are int64 and carry no gradient.
    """

    name = "max"
    arg = staticmethod(xp.argmax)

    @classmethod
    def check(cls, x, dim=0, keepdim=False):
        axis = _axis(cls.name, dim, x.ndim)
        if axis is not None and x.shape[axis] == 0:
            raise ValueError(f"{cls.name}: dim {dim} has size 0 (input shape {x.shape}), there "
                             f"is no {cls.name}imum to take along it")

    @classmethod
    def forward(cls, ctx, x, dim=0, keepdim=False):
        axis = _axis(cls.name, dim, x.ndim)
        ctx.shape, ctx.axis = x.shape, axis
        if axis is None:  # 0-d: the value is its own maximum, at index 0
            ctx.index = None
            return x.copy(), xp.zeros((), dtype=xp.int64)
        index = xp.expand_dims(cls.arg(x, axis=axis), axis)  # (..., 1, ...)
        values = xp.take_along_axis(x, index, axis=axis)
        ctx.index = index
        if not keepdim:
            values, index = values.squeeze(axis), index.squeeze(axis)
        return values, index.astype(xp.int64, copy=False)

    @staticmethod
    def backward(ctx, dvalues, dindices):
        if ctx.axis is None:
            return dvalues
        dx = xp.zeros(ctx.shape, dtype=dvalues.dtype)
        dvalues = dvalues.reshape(ctx.index.shape)
        xp.put_along_axis(dx, ctx.index, dvalues, axis=ctx.axis)
        return dx


class MaxDim(_ExtremumDim):
    __doc__ = _ExtremumDim.__doc__


class MinDim(_ExtremumDim):
    __doc__ = _ExtremumDim.__doc__.replace("max (or min)", "min")
    name = "min"
    arg = staticmethod(xp.argmin)


class Var(Function):
    """y = Σ_axes (x − x̄)² / (n − c), the variance with Bessel's correction c (1 by default).

    x̄ (gradient) = ȳ ⊙ 2(x − mean) / (n − c), copied along the reduced axes (the derivative
    through the mean vanishes because Σ (x − mean) = 0).
    """

    name = "var"

    @classmethod
    def check(cls, x, dim=None, correction=1, keepdim=False):
        require_float(cls.name, "input", x)
        _axes(cls.name, dim, x.ndim)
        if isinstance(correction, bool) or not isinstance(correction, (int, float)) \
                or correction < 0:
            raise ValueError(f"{cls.name}: correction must be a non-negative number, got "
                             f"{correction!r} (1 is the unbiased estimate, 0 the population one)")

    @classmethod
    def forward(cls, ctx, x, dim=None, correction=1, keepdim=False):
        axes = _axes(cls.name, dim, x.ndim)
        n = x.size if axes is None else int(xp.prod([x.shape[a] for a in axes]))
        with xp.errstate(invalid="ignore", divide="ignore"):  # n <= c gives inf/nan, as torch
            centered = x - x.mean(axis=axes, keepdims=True) if n else x
            denom = x.dtype.type(n - correction)
            y = (centered * centered).sum(axis=axes, keepdims=True) / xp.maximum(denom, 0)
        ctx.shape, ctx.axes, ctx.centered, ctx.denom = x.shape, axes, centered, denom
        ctx.y = y
        y = y.astype(x.dtype, copy=False)
        return y if keepdim else y.reshape(_reduced_shape(x.shape, axes))

    @staticmethod
    def backward(ctx, dout):
        with xp.errstate(invalid="ignore", divide="ignore"):
            return _spread(dout, ctx.shape, ctx.axes) * (2 * ctx.centered / ctx.denom)


class Std(Var):
    """y = √var(x).   x̄ = ȳ ⊙ (x − mean) / ((n − c) y) (0 where y = 0, as PyTorch), copied back."""

    name = "std"

    @classmethod
    def forward(cls, ctx, x, dim=None, correction=1, keepdim=False):
        var = Var.forward(ctx, x, dim=dim, correction=correction, keepdim=keepdim)
        ctx.std = xp.sqrt(ctx.y)
        return xp.sqrt(var)

    @staticmethod
    def backward(ctx, dout):
        with xp.errstate(invalid="ignore", divide="ignore"):
            scale = ctx.centered / (ctx.denom * ctx.std)
        # Where std = 0 every x equals the mean and √ has no derivative; PyTorch returns 0 there.
        scale = xp.where(ctx.std == 0, 0, scale).astype(ctx.centered.dtype, copy=False)
        return _spread(dout, ctx.shape, ctx.axes) * scale


class LogSumExp(Function):
    """y = log Σ_axes eˣ, computed as m + log Σ e^(x − m) with m = max x (no overflow).

    x̄ = ȳ ⊙ e^(x − y) = ȳ ⊙ softmax(x) along the reduced axes.
    """

    @staticmethod
    def check(x, dim=None, keepdim=False):
        require_float("logsumexp", "input", x)
        if dim is None:
            raise TypeError("logsumexp: dim is required (an int or a tuple of ints), e.g. "
                            "logsumexp(x, dim=-1)")
        _axes("logsumexp", dim, x.ndim)

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        axes = _axes("logsumexp", dim, x.ndim)
        m = x.max(axis=axes, keepdims=True) if x.size else xp.zeros(_kept_shape(x.shape, axes))
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf rows: shifting by -inf would give nan
        with xp.errstate(divide="ignore"):  # log 0 = -inf for all -inf rows, as torch
            y = xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True)) + m
        y = y.astype(x.dtype, copy=False)
        ctx.x, ctx.y, ctx.axes = x, y, axes
        return y if keepdim else y.reshape(_reduced_shape(x.shape, axes))

    @staticmethod
    def backward(ctx, dout):
        x, y = ctx.x, ctx.y
        return dout.reshape(y.shape) * xp.exp(x - y)


class Softmax(Function):
    """y_i = e^(x_i − m) / Σ_j e^(x_j − m) along ``dim`` (m = max, for stability; Lecture 4).

    x̄ = y ⊙ (ȳ − Σ_j ȳ_j y_j): the Jacobian diag(y) − y yᵀ applied to ȳ without forming it.
    """

    @staticmethod
    def check(x, dim=None):
        require_float("softmax", "input", x)
        _axis("softmax", dim, x.ndim)

    @staticmethod
    def forward(ctx, x, dim=None):
        axis = _axis("softmax", dim, x.ndim)
        e = xp.exp(x - x.max(axis=axis, keepdims=True)) if x.size else x.copy()
        y = e / e.sum(axis=axis, keepdims=True)
        ctx.y, ctx.axis = y, axis
        return y

    @staticmethod
    def backward(ctx, dout):
        y = ctx.y
        return y * (dout - (dout * y).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    """y = x − logsumexp(x) along ``dim``.   x̄ = ȳ − softmax(x) ⊙ Σ_j ȳ_j."""

    @staticmethod
    def check(x, dim=None):
        require_float("log_softmax", "input", x)
        _axis("log_softmax", dim, x.ndim)

    @staticmethod
    def forward(ctx, x, dim=None):
        axis = _axis("log_softmax", dim, x.ndim)
        if x.size == 0:
            y = x.copy()
        else:
            shifted = x - x.max(axis=axis, keepdims=True)
            y = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.y, ctx.axis = y, axis
        return y

    @staticmethod
    def backward(ctx, dout):
        return dout - xp.exp(ctx.y) * dout.sum(axis=ctx.axis, keepdims=True)


class Prod(Function):
    """y = Π_axes x.   x̄_i = ȳ Π_{j ≠ i} x_j, the product of the other elements.

    Without zeros that is ȳ y / x_i. With one zero, only the zero's own gradient survives (the
    product of the others); with two or more every product of others contains a zero and x̄ = 0.
    This is the exact gradient, as PyTorch computes it.
    """

    @staticmethod
    def check(x, dim=None, keepdim=False, dtype=None):
        _axes("prod", dim, x.ndim)

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False, dtype=None):
        axes = _axes("prod", dim, x.ndim)
        out = xp.dtype(dtype) if dtype is not None else (
            x.dtype if x.dtype.kind == "f" else xp.dtype(xp.int64))
        y = xp.prod(x, axis=axes, keepdims=True, dtype=out)
        ctx.x, ctx.y, ctx.axes = x, y, axes
        return y if keepdim else y.reshape(_reduced_shape(x.shape, axes))

    @staticmethod
    def backward(ctx, dout):
        x, y, axes = ctx.x, ctx.y, ctx.axes
        g = dout.reshape(y.shape)
        zero = x == 0
        zeros = zero.sum(axis=axes, keepdims=True)
        nonzero_x = xp.where(zero, 1, x)
        others = xp.prod(nonzero_x, axis=axes, keepdims=True)  # the product of the non-zeros
        dx = xp.where(zeros == 0, g * others / nonzero_x,
                      xp.where((zeros == 1) & zero, g * others, 0))
        return dx.astype(x.dtype, copy=False)


class VectorNorm(Function):
    """y = ‖x‖_p = (Σ |x_i|^p)^(1/p) over the axes (p = ∞: max |x_i|, −∞: min |x_i|, 0: the
    number of nonzeros).

    x̄ = ȳ sign(x) |x|^(p−1) / y^(p−1) (p = 2: ȳ x / y; p = 1: ȳ sign(x)); at y = 0 the norm
    has no derivative and PyTorch takes x̄ = 0 (a convention). p = ±∞ shares ȳ evenly among the
    elements attaining the extremum, as PyTorch; p = 0 has x̄ = 0.
    """

    @staticmethod
    def check(x, ord=2, dim=None, keepdim=False):
        if x.dtype.kind != "f":
            raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor "
                               f"as input. Got {x.dtype} (convert with .float())")
        if isinstance(ord, str) or isinstance(ord, bool):
            raise ValueError(f"vector_norm: ord must be a number (2, 1, inf, -inf, 0, ...), got "
                             f"{ord!r}")
        axes = _axes("vector_norm", dim, x.ndim)
        reduced = x.size if axes is None else int(xp.prod([x.shape[a] for a in axes]))
        if ord in (xp.inf, -xp.inf) and reduced == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty "
                               "tensor because the operation does not have an identity")

    @staticmethod
    def forward(ctx, x, ord=2, dim=None, keepdim=False):
        axes = _axes("vector_norm", dim, x.ndim)
        a = xp.abs(x)
        with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if ord == xp.inf:
                y = a.max(axis=axes, keepdims=True, initial=0)
            elif ord == -xp.inf:
                y = a.min(axis=axes, keepdims=True, initial=xp.inf)
            elif ord == 0:
                y = (x != 0).sum(axis=axes, keepdims=True).astype(x.dtype)
            elif ord == 1:
                y = a.sum(axis=axes, keepdims=True)
            elif ord == 2:
                y = xp.sqrt((x * x).sum(axis=axes, keepdims=True))
            else:
                y = (a**ord).sum(axis=axes, keepdims=True) ** (1.0 / ord)
        y = y.astype(x.dtype, copy=False)
        ctx.x, ctx.y, ctx.axes, ctx.ord = x, y, axes, ord
        return y if keepdim else y.reshape(_reduced_shape(x.shape, axes))

    @staticmethod
    def backward(ctx, dout):
        x, y, axes, p = ctx.x, ctx.y, ctx.axes, ctx.ord
        g = dout.reshape(y.shape)
        with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if p == 0:
                return xp.zeros_like(x)
            if p in (xp.inf, -xp.inf):
                a = xp.abs(x)
                hit = (a == y) | xp.isnan(a)
                return xp.sign(x) * hit * (g / hit.sum(axis=axes, keepdims=True))
            if p == 1:
                return g * xp.sign(x)
            if p == 2:
                return xp.where(y == 0, 0, g * x / y)
            scale = xp.sign(x) * xp.abs(x) ** (p - 1) / y ** (p - 1)
            return xp.where(y == 0, 0, g * scale)


class SpectralNorm(Function):
    """y = a norm of the singular values s of each matrix in the last two axes: the nuclear norm
    Σ s (``ord='nuc'``), the largest s (ord 2) or the smallest (ord −2).

    With x = U diag(s) Vᵀ: x̄ = ȳ U Vᵀ for the nuclear norm and ȳ u_k v_kᵀ for a single singular
    value (distinct singular values assumed; at repeated ones the norm is not differentiable).
    """

    @staticmethod
    def forward(ctx, x, ord="nuc"):
        u, sv, vt = xp.linalg.svd(x, full_matrices=False)  # (..., M, K), (..., K), (..., K, N)
        if ord == "nuc":
            y = sv.sum(axis=-1)
            ctx.basis = u @ vt
        else:
            k = 0 if ord == 2 else -1  # singular values come in decreasing order
            if sv.shape[-1] == 0:
                y = xp.zeros(sv.shape[:-1], x.dtype)
                ctx.basis = xp.zeros_like(x)
            else:
                y = sv[..., k]
                ctx.basis = u[..., :, k, None] * vt[..., k, None, :]
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dout):
        return dout[..., None, None] * ctx.basis


# --------------------------------------------------------------------------- user-facing functions
# Every reduction takes PyTorch's names (input, dim, keepdim) and the NumPy spellings PyTorch also
# accepts (axis=, keepdims=); dim may be an int, a tuple or a list, negatives counting from the end.

_Dims = Any  # None, an int, or a tuple/list of ints


def sum(input: Any, dim: _Dims = None, keepdim: bool = False, *,  # noqa: A001, A002
        dtype: Any = None, axis: _Dims = None, keepdims: bool | None = None) -> Tensor:
    """Sum of the elements over ``dim`` (all of them by default).

    y = Σ_{i ∈ dim} x_i; the backward pass copies ȳ to every summed element. A loss is the sum
    (or mean) of per-example losses (Lecture 2). Integer and bool sums are int64, as PyTorch.

    Args:
        input: the tensor.
        dim: None (every dimension), a dimension or a tuple of dimensions (``axis=`` too).
        keepdim: keep the reduced dimensions with size 1 (``keepdims=`` too).
        dtype: cast the input to this dtype first.
    """
    dim, keepdim = _dim_alias("sum", dim, axis, keepdim, keepdims)
    x = _cast_input(input, dtype)
    return Sum.apply(x, dim=dim, keepdim=keepdim)


def nansum(input: Any, dim: _Dims = None, keepdim: bool = False, *,  # noqa: A002
           dtype: Any = None, axis: _Dims = None, keepdims: bool | None = None) -> Tensor:
    """:func:`sum` counting nan as 0 (nan elements get a zero gradient)."""
    dim, keepdim = _dim_alias("nansum", dim, axis, keepdim, keepdims)
    return Sum.apply(_cast_input(input, dtype), dim=dim, keepdim=keepdim, nan=True)


def _cast_input(x: Any, dtype: Any) -> Tensor:
    x = _as_tensor(x)
    return x if dtype is None else cast(x, dtype)


def mean(input: Any, dim: _Dims = None, keepdim: bool = False, *,  # noqa: A002
         dtype: Any = None, axis: _Dims = None, keepdims: bool | None = None) -> Tensor:
    """Mean over ``dim`` (all elements by default): y = (1/n) Σ x, x̄ = ȳ / n (Lecture 2).

    Args:
        input: a floating-point tensor (or give ``dtype``).
        dim: None, a dimension or a tuple of dimensions (``axis=`` too).
        keepdim: keep the reduced dimensions with size 1 (``keepdims=`` too).
        dtype: cast the input to this dtype first.
    """
    dim, keepdim = _dim_alias("mean", dim, axis, keepdim, keepdims)
    return Mean.apply(_cast_input(input, dtype), dim=dim, keepdim=keepdim)


def nanmean(input: Any, dim: _Dims = None, keepdim: bool = False, *,  # noqa: A002
            dtype: Any = None, axis: _Dims = None, keepdims: bool | None = None) -> Tensor:
    """:func:`mean` of the elements that are not nan (nan where all are nan)."""
    dim, keepdim = _dim_alias("nanmean", dim, axis, keepdim, keepdims)
    return Mean.apply(_cast_input(input, dtype), dim=dim, keepdim=keepdim, nan=True)


def _extremum(name: str, full: type[Function], along: type[Function], x: Any, dim: Any,
              keepdim: bool) -> Any:
    if isinstance(dim, Tensor):  # max(a, b) is the elementwise maximum, as in PyTorch
        return (maximum if name == "max" else minimum)(x, dim)
    x = _as_tensor(x)
    if dim is None or isinstance(dim, (tuple, list)):
        return full.apply(x, dim=dim, keepdim=keepdim)
    values, indices = along.apply(x, dim=dim, keepdim=keepdim)
    return ValuesIndices(values, indices)


def max(input: Any, dim: Any = None, keepdim: bool = False, *,  # noqa: A001, A002
        other: Any = None, axis: _Dims = None, keepdims: bool | None = None) -> Any:
    """The largest element, or the largest along ``dim`` with its index (max-pooling, Lecture 9).

    * ``max(x)``: a 0-d tensor; ties share the gradient equally (as PyTorch's ``max()``).
    * ``max(x, dim)``: a named tuple ``(values, indices)``; the gradient goes to the returned
      index, the first among ties (as PyTorch's ``max(dim)``).
    * ``max(x, (d0, d1))``: the maximum over several dims, a tensor (PyTorch's ``amax``).
    * ``max(x, other)`` with a Tensor ``other``: the elementwise ``maximum``.
    """
    dim, keepdim = _dim_alias("max", other if other is not None else dim, axis, keepdim, keepdims)
    return _extremum("max", Amax, MaxDim, input, dim, keepdim)


def min(input: Any, dim: Any = None, keepdim: bool = False, *,  # noqa: A001, A002
        other: Any = None, axis: _Dims = None, keepdims: bool | None = None) -> Any:
    """The smallest element, or the smallest along ``dim`` with its index; see :func:`max`."""
    dim, keepdim = _dim_alias("min", other if other is not None else dim, axis, keepdim, keepdims)
    return _extremum("min", Amin, MinDim, input, dim, keepdim)


def amax(input: Any, dim: _Dims = (), keepdim: bool = False, *,  # noqa: A002
         axis: _Dims = None, keepdims: bool | None = None) -> Tensor:
    """The maximum over ``dim`` (all dims when empty); ties share the gradient equally, as
    PyTorch's ``amax``."""
    dim, keepdim = _dim_alias("amax", None if dim == () else dim, axis, keepdim, keepdims)
    return Amax.apply(_as_tensor(input), dim=dim, keepdim=keepdim)


def amin(input: Any, dim: _Dims = (), keepdim: bool = False, *,  # noqa: A002
         axis: _Dims = None, keepdims: bool | None = None) -> Tensor:
    """The minimum over ``dim`` (all dims when empty); ties share the gradient equally."""
    dim, keepdim = _dim_alias("amin", None if dim == () else dim, axis, keepdim, keepdims)
    return Amin.apply(_as_tensor(input), dim=dim, keepdim=keepdim)


def aminmax(input: Any, *, dim: int | None = None, keepdim: bool = False) -> MinMax:  # noqa: A002
    """``(min, max)`` over ``dim`` (all elements by default), as a named tuple."""
    return MinMax(amin(input, () if dim is None else dim, keepdim),
                  amax(input, () if dim is None else dim, keepdim))


def _correction(op: str, unbiased: bool | None, correction: float | None) -> float:
    if unbiased is not None and correction is not None:
        raise ValueError(f"{op}: give either unbiased or correction, not both")
    if unbiased is not None:
        if not isinstance(unbiased, bool):
            raise TypeError(f"{op}: unbiased must be True or False, got {unbiased!r} (the third "
                            f"positional argument of {op}(x, dim, unbiased, keepdim))")
        return 1 if unbiased else 0
    return 1 if correction is None else correction


def var(input: Any, dim: Any = None, unbiased: bool | None = None,  # noqa: A002
        keepdim: bool = False, *, correction: float | None = None, axis: _Dims = None,
        keepdims: bool | None = None) -> Tensor:
    """Variance over ``dim``: Σ (x − mean)² / (n − correction) (batch norm, Lecture 10).

    Args:
        input: a floating-point tensor.
        dim: None (all elements), a dimension or a tuple of dimensions (``axis=`` too).
        unbiased: True divides by n − 1 (the default), False by n (PyTorch's older argument).
        keepdim: keep the reduced dimensions with size 1 (``keepdims=`` too).
        correction: the subtracted count (1 by default); 0 gives the population variance.
    """
    if isinstance(dim, bool):  # var(x, False): the old positional ``unbiased``
        dim, unbiased = None, dim
    dim, keepdim = _dim_alias("var", dim, axis, keepdim, keepdims)
    c = _correction("var", unbiased, correction)
    return Var.apply(_as_tensor(input), dim=dim, correction=c, keepdim=keepdim)


def std(input: Any, dim: Any = None, unbiased: bool | None = None,  # noqa: A002
        keepdim: bool = False, *, correction: float | None = None, axis: _Dims = None,
        keepdims: bool | None = None) -> Tensor:
    """Standard deviation √var(x) over ``dim``; the arguments are those of :func:`var`."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    dim, keepdim = _dim_alias("std", dim, axis, keepdim, keepdims)
    c = _correction("std", unbiased, correction)
    return Std.apply(_as_tensor(input), dim=dim, correction=c, keepdim=keepdim)


def var_mean(input: Any, dim: Any = None, unbiased: bool | None = None,  # noqa: A002
             keepdim: bool = False, *, correction: float | None = None) -> tuple[Tensor, Tensor]:
    """``(var, mean)`` over ``dim``, as PyTorch's ``var_mean``."""
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(input, None if isinstance(dim, bool) else dim, keepdim))


def std_mean(input: Any, dim: Any = None, unbiased: bool | None = None,  # noqa: A002
             keepdim: bool = False, *, correction: float | None = None) -> tuple[Tensor, Tensor]:
    """``(std, mean)`` over ``dim``, as PyTorch's ``std_mean``."""
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(input, None if isinstance(dim, bool) else dim, keepdim))


def prod(input: Any, dim: int | None = None, keepdim: bool = False, *,  # noqa: A002
         dtype: Any = None, axis: int | None = None, keepdims: bool | None = None) -> Tensor:
    """Product of the elements (over one ``dim``, or all); exact gradient with zeros.

    Integers and bools give int64, as PyTorch.
    """
    dim, keepdim = _dim_alias("prod", dim, axis, keepdim, keepdims)
    return Prod.apply(_as_tensor(input), dim=dim, keepdim=keepdim, dtype=dtype)


def count_nonzero(input: Any, dim: _Dims = None) -> Tensor:  # noqa: A002
    """The number of nonzero elements over ``dim`` (all by default): an int64 tensor."""
    x = _as_tensor(input)
    axes = _axes("count_nonzero", tuple(dim) if isinstance(dim, list) else dim, x.ndim)
    return Tensor(xp.asarray((x.array != 0).sum(axis=axes), dtype=xp.int64))


def _truth(name: str, fn: Any) -> Any:
    def truth(input: Any, dim: _Dims = None, keepdim: bool = False, *,  # noqa: A002
              axis: _Dims = None, keepdims: bool | None = None) -> Tensor:
        dim, keepdim = _dim_alias(name, dim, axis, keepdim, keepdims)
        x = _as_tensor(input)
        axes = _axes(name, dim, x.ndim)
        return Tensor(xp.asarray(fn(x.array != 0, axis=axes, keepdims=keepdim)))

    truth.__name__ = truth.__qualname__ = name
    truth.__doc__ = (f"Whether {'any' if name == 'any' else 'every'} element over ``dim`` is "
                     "nonzero (all elements by default): a bool tensor without gradient.")
    return truth


any = _truth("any", xp.any)  # noqa: A001
all = _truth("all", xp.all)  # noqa: A001


def logsumexp(input: Any, dim: _Dims = None, keepdim: bool = False, *,  # noqa: A002
              axis: _Dims = None, keepdims: bool | None = None) -> Tensor:
    """log Σ eˣ over ``dim``, computed stably as m + log Σ e^(x − m), m = max x (Lecture 4).

    Its gradient is the softmax: ∂/∂x_i log Σ_j e^(x_j) = softmax(x)_i.
    """
    dim, keepdim = _dim_alias("logsumexp", dim, axis, keepdim, keepdims)
    return LogSumExp.apply(floating(input), dim=dim, keepdim=keepdim)


def softmax(input: Any, dim: int | None = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """softmax(x)_i = e^(x_i) / Σ_j e^(x_j) along ``dim`` (Lecture 4: multiclass output layer).

    The maximum is subtracted first so that e^x never overflows; the result is unchanged.
    """
    return Softmax.apply(_cast_input(input, dtype), dim=dim)


def log_softmax(input: Any, dim: int | None = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """log softmax(x) = x − logsumexp(x) along ``dim``; stable for large logits (Lecture 4).

    Cross-entropy is −log_softmax(z)[t]; computing the log directly avoids log(0) = −∞.
    """
    return LogSoftmax.apply(_cast_input(input, dtype), dim=dim)


def _arg(name: str, fn: Any, x: Any, dim: Any, keepdim: bool) -> Tensor:
    x = _as_tensor(x)
    if x.numel() == 0:
        raise ValueError(f"{name}: the input is empty (shape {x.shape})")
    if dim is None:
        out = fn(x.array.reshape(-1))
        return Tensor(xp.asarray(out, dtype=xp.int64).reshape((1,) * x.ndim if keepdim else ()))
    axis = _axis(name, dim, x.ndim)
    if axis is None:
        return Tensor(xp.zeros((), dtype=xp.int64))
    return Tensor(xp.asarray(fn(x.array, axis=axis, keepdims=keepdim), dtype=xp.int64))


def argmax(input: Any, dim: int | None = None, keepdim: bool = False, *,  # noqa: A002
           axis: int | None = None, keepdims: bool | None = None) -> Tensor:
    """Index of the largest element (in the flattened tensor, or along ``dim``), an int64 tensor.

    Not differentiable: used for predictions (the class with the highest score) and accuracy.
    Ties give the first index.
    """
    dim, keepdim = _dim_alias("argmax", dim, axis, keepdim, keepdims)
    return _arg("argmax", xp.argmax, input, dim, keepdim)


def argmin(input: Any, dim: int | None = None, keepdim: bool = False, *,  # noqa: A002
           axis: int | None = None, keepdims: bool | None = None) -> Tensor:
    """Index of the smallest element (flattened, or along ``dim``), an int64 tensor; no grad."""
    dim, keepdim = _dim_alias("argmin", dim, axis, keepdim, keepdims)
    return _arg("argmin", xp.argmin, input, dim, keepdim)


# --------------------------------------------------------------------------- norms

_INF = float("inf")


def vector_norm(x: Any, ord: float = 2, dim: _Dims = None,  # noqa: A002
                keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """‖x‖_ord over ``dim`` (all elements by default), PyTorch's ``linalg.vector_norm``.

    ord: 2 (Euclidean, the default), 1, inf (max |x|), -inf (min |x|), 0 (number of nonzeros),
    or any other number p: (Σ |x|^p)^(1/p). The gradient of the 2-norm at x = 0 is taken as 0
    (PyTorch's convention).
    """
    dim, keepdim = _dim_alias("vector_norm", dim, None, keepdim, None)
    return VectorNorm.apply(_cast_input(x, dtype), ord=ord, dim=dim, keepdim=keepdim)


def matrix_norm(A: Any, ord: Any = "fro", dim: tuple[int, int] = (-2, -1),  # noqa: A002, N803
                keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """A matrix norm over the two dimensions ``dim``, PyTorch's ``linalg.matrix_norm``.

    ord: 'fro' (Frobenius), 'nuc' (sum of singular values), inf / -inf (max / min row sum of
    |a|), 1 / -1 (max / min column sum of |a|), 2 / -2 (largest / smallest singular value).
    """
    x = _cast_input(A, dtype)
    if x.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 "
                           f"dimensions, got shape {x.shape}")
    dims = tuple(normalize_dim("matrix_norm", d, x.ndim) for d in dim)
    if len(dims) != 2 or dims[0] == dims[1]:
        raise ValueError(f"matrix_norm: dim must name two different dimensions, got {dim}")
    row, col = dims
    if ord == "fro":
        return VectorNorm.apply(x, ord=2, dim=dims, keepdim=keepdim)
    if ord in (1, -1, _INF, -_INF):
        # 1-norm: the largest column sum (sum over rows); inf-norm: the largest row sum.
        summed, other = (row, col) if ord in (1, -1) else (col, row)
        sums = VectorNorm.apply(x, ord=1, dim=summed, keepdim=True)
        pick = Amax if ord > 0 else Amin
        return pick.apply(sums, dim=other, keepdim=True) if keepdim else \
            pick.apply(sums, dim=(summed, other), keepdim=False)
    if ord in ("nuc", 2, -2):
        rest = [d for d in range(x.ndim) if d not in dims]
        moved = permute(x, tuple(rest) + dims)  # (..., M, N)
        y = SpectralNorm.apply(moved, ord=ord)
        if keepdim:
            for d in sorted(dims):
                y = unsqueeze(y, d)
        return y
    raise ValueError(f"matrix_norm: ord must be 'fro', 'nuc', 1, -1, 2, -2, inf or -inf, got "
                     f"{ord!r}")


def linalg_norm(A: Any, ord: Any = None, dim: _Dims = None,  # noqa: A002, N803
                keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """PyTorch's ``linalg.norm``: a vector norm for one dim (or a flattened tensor when ord is
    None), a matrix norm for two dims (or a 2-d tensor with ord given)."""
    x = _cast_input(A, dtype)
    if isinstance(dim, int):
        return vector_norm(x, 2 if ord is None else ord, dim, keepdim)
    if dim is None:
        if ord is None:
            return vector_norm(x, 2, None, keepdim)
        if x.ndim == 1:
            return vector_norm(x, ord, None, keepdim)
        if x.ndim == 2:
            return matrix_norm(x, ord, (-2, -1), keepdim)
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be "
                           f"1D or 2D. Got {x.ndim}D.")
    dim = tuple(dim)
    if len(dim) == 1:
        return vector_norm(x, 2 if ord is None else ord, dim, keepdim)
    return matrix_norm(x, "fro" if ord is None else ord, dim, keepdim)


def norm(input: Any, p: Any = "fro", dim: _Dims = None, keepdim: bool = False,  # noqa: A002
         dtype: Any = None) -> Tensor:
    """PyTorch's ``torch.norm``: the vector p-norm over ``dim`` (all elements by default);
    ``p='fro'`` is the 2-norm, ``p='nuc'`` the nuclear norm of matrices (dim: two dims)."""
    if isinstance(dim, list):
        dim = tuple(dim)
    if p == "nuc":
        return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    return vector_norm(input, 2 if p == "fro" or p is None else p, dim, keepdim, dtype=dtype)


def dist(input: Any, other: Any, p: float = 2) -> Tensor:  # noqa: A002
    """‖input − other‖_p over all elements (the two broadcast)."""
    return vector_norm(sub(input, other), p)
