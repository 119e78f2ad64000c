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

__all__ = [
    "sum", "mean", "max", "min", "var", "std", "logsumexp", "softmax", "log_softmax", "argmax",
    "argmin",
]


class ValuesIndices(NamedTuple):
    """The result of ``max(x, dim)`` / ``min(x, dim)``: like PyTorch's ``return_types.max``."""

    values: Tensor
    indices: Tensor


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
    """y = Σ_axes x.   x̄ = ȳ copied along the summed axes."""

    @staticmethod
    def check(x, dim=None, keepdim=False):
        _axes("sum", dim, x.ndim)

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        axes = _axes("sum", dim, x.ndim)
        ctx.shape, ctx.axes = x.shape, axes
        y = x.sum(axis=axes, keepdims=keepdim)
        # Bool and int sums are int64 as in PyTorch; floats keep their dtype.
        return xp.asarray(y, dtype=x.dtype if x.dtype.kind == "f" else xp.int64)

    @staticmethod
    def backward(ctx, dout):
        return _spread(dout, ctx.shape, ctx.axes)


class Mean(Function):
    """y = (1/n) Σ_axes x, n the number of elements averaged.   x̄ = ȳ / n copied along the axes."""

    @staticmethod
    def check(x, dim=None, keepdim=False):
        require_float("mean", "input", x)
        _axes("mean", dim, x.ndim)

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        axes = _axes("mean", dim, x.ndim)
        n = x.size if axes is None else int(xp.prod([x.shape[a] for a in axes]))
        ctx.shape, ctx.axes, ctx.n = x.shape, axes, n
        with xp.errstate(invalid="ignore"):  # the mean of nothing is 0/0 = nan, as in PyTorch
            y = x.sum(axis=axes, keepdims=keepdim) / x.dtype.type(n)
        return xp.asarray(y, dtype=x.dtype)

    @staticmethod
    def backward(ctx, dout):
        return _spread(dout / dout.dtype.type(ctx.n or 1), ctx.shape, ctx.axes)


class _Extremum(Function):
    """y = max (or min) over all elements or over a tuple of axes (PyTorch's ``amax``).

    x̄ = ȳ shared equally among the elements that attain the extremum (ties split the gradient,
    as PyTorch's ``max()`` and ``amax``), 0 elsewhere.
    """

    name = "max"
    reduce = staticmethod(xp.max)

    @classmethod
    def check(cls, x, dim=None, keepdim=False):
        if x.size == 0 and (dim is None or x.ndim == 0):
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


# --------------------------------------------------------------------------- user-facing functions


def sum(x: Tensor, dim: int | tuple[int, ...] | None = None,  # noqa: A001  (PyTorch's name)
        keepdim: bool = False) -> Tensor:
    """Sum of the elements over ``dim`` (all of them by default).

    y = Σ_{i ∈ dim} x_i; the backward pass copies ȳ to every summed element. A loss is the sum
    (or mean) of per-example losses (Lecture 2).

    Args:
        x: the input.
        dim: None (every dimension), a dimension or a tuple of dimensions.
        keepdim: keep the reduced dimensions with size 1.
    """
    return Sum.apply(x, dim=dim, keepdim=keepdim)


def mean(x: Tensor, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Tensor:
    """Mean over ``dim`` (all elements by default): y = (1/n) Σ x, x̄ = ȳ / n (Lecture 2).

    Args:
        x: a floating-point input.
        dim: None, a dimension or a tuple of dimensions.
        keepdim: keep the reduced dimensions with size 1.
    """
    return Mean.apply(x, dim=dim, keepdim=keepdim)


def _extremum(name: str, full: type[Function], along: type[Function], x: Any, dim: Any,
              keepdim: bool) -> Any:
    if isinstance(dim, Tensor):  # max(a, b) is the elementwise maximum, as in PyTorch
        from neuralab.ops.elementwise import maximum, minimum

        return (maximum if name == "max" else minimum)(x, dim)
    if dim is None or isinstance(dim, (tuple, list)):
        return full.apply(x, dim=dim, keepdim=keepdim)
    values, indices = along.apply(x, dim=dim, keepdim=keepdim)
    return ValuesIndices(values, indices)


def max(x: Tensor, dim: int | tuple[int, ...] | Tensor | None = None,  # noqa: A001
        keepdim: bool = False) -> Any:
    """The largest element, or the largest along ``dim`` with its index (max-pooling, Lecture 9).

    * ``max(x)``: a 0-d tensor; ties share the gradient equally (as PyTorch's ``max()``).
    * ``max(x, dim)``: a named tuple ``(values, indices)``; the gradient goes to the returned
      index, the first among ties (as PyTorch's ``max(dim)``).
    * ``max(x, (d0, d1))``: the maximum over several dims, a tensor (PyTorch's ``amax``).
    * ``max(x, other)`` with a Tensor ``other``: the elementwise ``maximum``.

    Args:
        x: the input.
        dim: None, a dimension, a tuple of dimensions or a Tensor.
        keepdim: keep the reduced dimension(s) with size 1.
    """
    return _extremum("max", Amax, MaxDim, x, dim, keepdim)


def min(x: Tensor, dim: int | tuple[int, ...] | Tensor | None = None,  # noqa: A001
        keepdim: bool = False) -> Any:
    """The smallest element, or the smallest along ``dim`` with its index; see :func:`max`."""
    return _extremum("min", Amin, MinDim, x, dim, keepdim)


def _correction(op: str, unbiased: bool | None, correction: float | None) -> float:
    if unbiased is not None and correction is not None:
        raise ValueError(f"{op}: give either unbiased or correction, not both")
    if unbiased is not None:
        if not isinstance(unbiased, bool):
            raise TypeError(f"{op}: unbiased must be True or False, got {unbiased!r} (the third "
                            f"positional argument of {op}(x, dim, unbiased, keepdim))")
        return 1 if unbiased else 0
    return 1 if correction is None else correction


def var(x: Tensor, dim: int | tuple[int, ...] | None = None, unbiased: bool | None = None,
        keepdim: bool = False, *, correction: float | None = None) -> Tensor:
    """Variance over ``dim``: Σ (x − mean)² / (n − correction) (batch norm, Lecture 10).

    Args:
        x: a floating-point input.
        dim: None (all elements), a dimension or a tuple of dimensions.
        unbiased: True divides by n − 1 (the default), False by n (PyTorch's older argument).
        keepdim: keep the reduced dimensions with size 1.
        correction: the subtracted count (1 by default); 0 gives the population variance.
    """
    c = _correction("var", unbiased, correction)
    return Var.apply(x, dim=dim, correction=c, keepdim=keepdim)


def std(x: Tensor, dim: int | tuple[int, ...] | None = None, unbiased: bool | None = None,
        keepdim: bool = False, *, correction: float | None = None) -> Tensor:
    """Standard deviation √var(x) over ``dim``; the arguments are those of :func:`var`."""
    c = _correction("std", unbiased, correction)
    return Std.apply(x, dim=dim, correction=c, keepdim=keepdim)


def logsumexp(x: Tensor, dim: int | tuple[int, ...], keepdim: bool = False) -> Tensor:
    """log Σ eˣ over ``dim``, computed stably as m + log Σ e^(x − m), m = max x (Lecture 4).

    Its gradient is the softmax: ∂/∂x_i log Σ_j e^(x_j) = softmax(x)_i.
    """
    return LogSumExp.apply(x, dim=dim, keepdim=keepdim)


def softmax(x: Tensor, dim: int) -> Tensor:
    """softmax(x)_i = e^(x_i) / Σ_j e^(x_j) along ``dim`` (Lecture 4: multiclass output layer).

    The maximum is subtracted first so that e^x never overflows; the result is unchanged.
    """
    return Softmax.apply(x, dim=dim)


def log_softmax(x: Tensor, dim: int) -> Tensor:
    """log softmax(x) = x − logsumexp(x) along ``dim``; stable for large logits (Lecture 4).

    Cross-entropy is −log_softmax(z)[t]; computing the log directly avoids log(0) = −∞.
    """
    return LogSoftmax.apply(x, dim=dim)


def _arg(name: str, fn: Any, x: Any, dim: Any, keepdim: bool) -> Tensor:
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.size == 0:
        raise ValueError(f"{name}: the input is empty (shape {x.shape})")
    if dim is None:
        out = fn(x.array.reshape(-1))
        return Tensor(xp.asarray(out, dtype=xp.int64).reshape((1,) * x.ndim if keepdim else ()))
    axis = _axis(name, dim, x.ndim)
    if axis is None:
        return Tensor(xp.zeros((), dtype=xp.int64))
    return Tensor(xp.asarray(fn(x.array, axis=axis, keepdims=keepdim), dtype=xp.int64))


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the largest element (in the flattened tensor, or along ``dim``), an int64 tensor.

    Not differentiable: used for predictions (the class with the highest score) and accuracy.
    Ties give the first index.
    """
    return _arg("argmax", xp.argmax, x, dim, keepdim)


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the smallest element (flattened, or along ``dim``), an int64 tensor; no grad."""
    return _arg("argmin", xp.argmin, x, dim, keepdim)
