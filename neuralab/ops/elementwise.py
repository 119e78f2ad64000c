"""Elementwise ops: arithmetic with broadcasting, nonlinearities, clamping, selection (Lect. 5-6).

Every binary op broadcasts as NumPy does; its backward undoes the broadcasting with
``unbroadcast`` (the gradient of a copied value is the sum of the gradients of its copies).
"""

from __future__ import annotations

import math
from typing import Any

from neuralab import kernels
from neuralab.autograd.function import Function, unbroadcast
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.kernels import elementwise as fast_elementwise
from neuralab.ops._checks import broadcast_shape, require_float
from neuralab.ops._promote import cast, floating, promote
from neuralab.ops._special import erfc as _erfc

__all__ = [
    "add", "sub", "mul", "pow", "neg", "exp", "log", "sqrt", "abs", "tanh", "sigmoid",
    "relu", "leaky_relu", "elu", "gelu", "softplus", "clamp", "clip", "clamp_min", "clamp_max",
    "maximum", "minimum", "where", "cast", "eq", "ne", "lt", "le", "gt", "ge",
]

# Installed by neuralab/ops/__init__.py (the older names above by ops/_methods.py).
TENSOR_METHODS = {"clamp_min": "clamp_min", "clamp_max": "clamp_max", "where": "_where_method"}
REFLECTED: dict[str, str] = {}


class _Binary(Function):
    """Shared validation of binary elementwise ops: the operands must broadcast."""

    @classmethod
    def check(cls, a: Tensor, b: Tensor) -> None:
        broadcast_shape(cls.__name__.lower(), a.shape, b.shape)


class Add(_Binary):
    """z = a + b.   ā = unbroadcast(z̄),  b̄ = unbroadcast(z̄)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        if a.shape == b.shape and kernels.fast():  # a residual sum: neuralab.kernels
            return fast_elementwise.add(a, b)
        return a + b

    @staticmethod
    def backward(ctx, dout):
        sa, sb = ctx.shapes
        return unbroadcast(dout, sa), unbroadcast(dout, sb)


class Sub(_Binary):
    """z = a − b.   ā = z̄,  b̄ = −z̄ (each unbroadcast)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        return a - b

    @staticmethod
    def backward(ctx, dout):
        sa, sb = ctx.shapes
        return unbroadcast(dout, sa), unbroadcast(-dout, sb) if ctx.needs_input_grad[1] else None


class Mul(_Binary):
    """z = a ⊙ b.   ā = z̄ ⊙ b,  b̄ = z̄ ⊙ a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return a * b

    @staticmethod
    def backward(ctx, dout):
        a, b = ctx.a, ctx.b
        da = unbroadcast(dout * b, a.shape) if ctx.needs_input_grad[0] else None
        db = unbroadcast(dout * a, b.shape) if ctx.needs_input_grad[1] else None
        return da, db


class Div(_Binary):
    """z = a / b.   ā = z̄ / b,  b̄ = −z̄ ⊙ a / b²."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return a / b

    @staticmethod
    def backward(ctx, dout):
        a, b = ctx.a, ctx.b
        da = unbroadcast(dout / b, a.shape) if ctx.needs_input_grad[0] else None
        db = unbroadcast(-dout * a / (b * b), b.shape) if ctx.needs_input_grad[1] else None
        return da, db


class Pow(_Binary):
    """z = a ** b.   ā = z̄ ⊙ b a^(b−1),  b̄ = z̄ ⊙ z ln a.

    PyTorch's conventions where these formulas read 0·∞ or ln 0, followed here: ā = 0 wherever
    b = 0 (x⁰ is the constant 1, even at x = 0), and b̄ = 0 wherever a = 0 and b ≥ 0 (0^b is
    constant in b there). Integers to negative integer powers raise, as in PyTorch.
    """

    @staticmethod
    def check(a, b):
        broadcast_shape("pow", a.shape, b.shape)
        if a.dtype.kind in "iub" and b.dtype.kind in "iu" and b.size and b.array.min() < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed. (pow: "
                               "convert the base to float first, e.g. x.float() ** -1)")

    @staticmethod
    def forward(ctx, a, b):
        with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
            z = a**b
        ctx.a, ctx.b, ctx.z = a, b, z
        return z

    @staticmethod
    def backward(ctx, dout):
        a, b, z = ctx.a, ctx.b, ctx.z
        da = db = None
        with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if ctx.needs_input_grad[0]:
                da = unbroadcast(xp.where(b == 0, 0, dout * b * a ** (b - 1)), a.shape)
            if ctx.needs_input_grad[1]:
                db = unbroadcast(xp.where((a == 0) & (b >= 0), 0, dout * z * xp.log(a)), b.shape)
        return da, db


class Maximum(_Binary):
    """z = max(a, b) elementwise.   ā = z̄ where a > b; ties split z̄ in halves (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return xp.maximum(a, b)

    @staticmethod
    def backward(ctx, dout):
        a, b = ctx.a, ctx.b
        share = (a > b) + 0.5 * (a == b)
        da = unbroadcast(dout * share, a.shape) if ctx.needs_input_grad[0] else None
        db = unbroadcast(dout * (1 - share), b.shape) if ctx.needs_input_grad[1] else None
        return da, db


class Minimum(_Binary):
    """z = min(a, b) elementwise.   ā = z̄ where a < b; ties split z̄ in halves (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return xp.minimum(a, b)

    @staticmethod
    def backward(ctx, dout):
        a, b = ctx.a, ctx.b
        share = (a < b) + 0.5 * (a == b)
        da = unbroadcast(dout * share, a.shape) if ctx.needs_input_grad[0] else None
        db = unbroadcast(dout * (1 - share), b.shape) if ctx.needs_input_grad[1] else None
        return da, db


class Where(Function):
    """z = a where condition else b.   ā = z̄ ⊙ condition,  b̄ = z̄ ⊙ ¬condition."""


    @staticmethod
    def check(condition: Tensor, a: Tensor, b: Tensor) -> None:
        if condition.dtype != xp.bool_:
            raise TypeError(f"where: condition must be a bool tensor, got {condition.dtype}; "
                            "build it with a comparison such as x > 0")
        broadcast_shape("where", condition.shape, a.shape, b.shape)

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.condition, ctx.shapes = condition, (a.shape, b.shape)
        return xp.where(condition, a, b)

    @staticmethod
    def backward(ctx, dout):
        cond, (sa, sb) = ctx.condition, ctx.shapes
        da = unbroadcast(xp.where(cond, dout, 0), sa) if ctx.needs_input_grad[1] else None
        db = unbroadcast(xp.where(cond, 0, dout), sb) if ctx.needs_input_grad[2] else None
        return None, da, db


# --------------------------------------------------------------------------- unary


class _FloatUnary(Function):
    """Unary ops defined on real numbers: the input must be floating point."""

    @classmethod
    def check(cls, x: Tensor, **params: Any) -> None:
        require_float(cls.__name__.lower(), "input", x)


class Neg(Function):
    """z = −x.   x̄ = −z̄."""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, dout):
        return -dout


class Exp(_FloatUnary):
    """z = eˣ.   x̄ = z̄ ⊙ z."""

    @staticmethod
    def forward(ctx, x):
        ctx.z = xp.exp(x)
        return ctx.z

    @staticmethod
    def backward(ctx, dout):
        return dout * ctx.z


class Log(_FloatUnary):
    """z = ln x.   x̄ = z̄ / x."""

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return xp.log(x)

    @staticmethod
    def backward(ctx, dout):
        return dout / ctx.x


class Sqrt(_FloatUnary):
    """z = √x.   x̄ = z̄ / (2z)."""

    @staticmethod
    def forward(ctx, x):
        ctx.z = xp.sqrt(x)
        return ctx.z

    @staticmethod
    def backward(ctx, dout):
        return dout / (2 * ctx.z)


class Abs(Function):
    """z = |x|.   x̄ = z̄ ⊙ sign(x) (0 at x = 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return xp.abs(x)

    @staticmethod
    def backward(ctx, dout):
        return dout * xp.sign(ctx.x)


class Tanh(_FloatUnary):
    """z = tanh x.   x̄ = z̄ ⊙ (1 − z²)  (Lecture 5: the derivative reuses the output)."""

    @staticmethod
    def forward(ctx, x):
        ctx.learner = kernels.learner("tanh")  # a learner's code (neuralab exercise train)
        if ctx.learner is not None:
            return ctx.learner.tanh_forward(ctx, x)
        ctx.z = xp.tanh(x)
        return ctx.z

    @staticmethod
    def backward(ctx, dout):
        if ctx.learner is not None:
            return ctx.learner.tanh_backward(ctx, dout)
        z = ctx.z
        return dout * (1 - z * z)


class Sigmoid(_FloatUnary):
    """z = σ(x) = 1 / (1 + e⁻ˣ).   x̄ = z̄ ⊙ z(1 − z)  (Lecture 5).

    Computed as ½(1 + tanh(x/2)), which never overflows for large |x|.
    """

    @staticmethod
    def forward(ctx, x):
        ctx.learner = kernels.learner("sigmoid")  # a learner's code (neuralab exercise train)
        if ctx.learner is not None:
            return ctx.learner.sigmoid_forward(ctx, x)
        z = 0.5 * (1 + xp.tanh(0.5 * x))
        ctx.z = z
        return z.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dout):
        if ctx.learner is not None:
            return ctx.learner.sigmoid_backward(ctx, dout)
        z = ctx.z
        return dout * z * (1 - z)


class ReLU(Function):
    """z = max(0, x).   x̄ = z̄ ⊙ [x > 0]  (Lecture 5; the derivative at 0 is taken as 0)."""

    @staticmethod
    def forward(ctx, x):
        ctx.learner = kernels.learner("relu")  # a learner's code (neuralab exercise train)
        if ctx.learner is not None:
            return ctx.learner.relu_forward(ctx, x)
        ctx.fast = kernels.fast()
        # Not x * (x > 0), which turns negatives into -0.0.
        z = fast_elementwise.relu(x) if ctx.fast else xp.maximum(x, 0)
        ctx.z = z  # [x > 0] = [z > 0]: keeping z (the output, alive anyway) costs no memory
        return z

    @staticmethod
    def backward(ctx, dout):
        if ctx.learner is not None:
            return ctx.learner.relu_backward(ctx, dout)
        if ctx.fast:
            return fast_elementwise.relu_backward(dout, ctx.z)
        return dout * (ctx.z > 0)


class LeakyReLU(_FloatUnary):
    """z = x for x > 0, αx otherwise.   x̄ = z̄ ⊙ (1 or α)."""

    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        ctx.scale = xp.where(x > 0, 1, negative_slope).astype(x.dtype)
        return x * ctx.scale

    @staticmethod
    def backward(ctx, dout):
        return dout * ctx.scale


class ELU(_FloatUnary):
    """z = x for x > 0, α(eˣ − 1) otherwise.   x̄ = z̄ for x > 0, z̄ ⊙ (z + α) otherwise."""

    @staticmethod
    def forward(ctx, x, alpha=1.0):
        z = xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0))).astype(x.dtype, copy=False)
        ctx.x, ctx.z, ctx.alpha = x, z, alpha
        return z

    @staticmethod
    def backward(ctx, dout):
        return dout * xp.where(ctx.x > 0, 1, ctx.z + ctx.alpha)


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


class GELU(_FloatUnary):
    """z = x Φ(x), Φ the standard normal CDF.   x̄ = z̄ ⊙ (Φ(x) + x φ(x)).

    ``approximate='tanh'`` uses Φ(x) ≈ ½(1 + tanh(√(2/π)(x + 0.044715x³))), as PyTorch.
    The exact form uses Φ(x) = ½ erfc(−x/√2) with the vectorised erfc of ``ops._special``.
    """

    @staticmethod
    def check(x, approximate="none"):
        require_float("gelu", "input", x)
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")

    @staticmethod
    def forward(ctx, x, approximate="none"):
        ctx.x, ctx.approximate = x, approximate
        if approximate == "tanh":
            ctx.t = xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3))
            return (0.5 * x * (1 + ctx.t)).astype(x.dtype, copy=False)
        # Φ(x) = ½ erfc(−x/√2): no cancellation in 1 + erf for negative x
        ctx.cdf = (0.5 * _erfc(-x / math.sqrt(2))).astype(x.dtype, copy=False)
        return x * ctx.cdf

    @staticmethod
    def backward(ctx, dout):
        x = ctx.x
        if ctx.approximate == "tanh":
            t = ctx.t
            dt = (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return dout * (0.5 * (1 + t) + 0.5 * x * dt)
        pdf = xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return dout * (ctx.cdf + x * pdf)


class Softplus(_FloatUnary):
    """z = (1/β) ln(1 + e^(βx)), and z = x where βx > threshold.   x̄ = z̄ ⊙ σ(βx)."""

    @staticmethod
    def forward(ctx, x, beta=1.0, threshold=20.0):
        bx = beta * x
        ctx.bx, ctx.threshold = bx, threshold
        return xp.where(bx > threshold, x, xp.logaddexp(0, bx) / beta).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dout):
        bx = ctx.bx
        return dout * xp.where(bx > ctx.threshold, 1, 0.5 * (1 + xp.tanh(0.5 * bx)))


class Clamp(Function):
    """z = min(max(x, lo), hi).   x̄ = z̄ where lo ≤ x ≤ hi, 0 elsewhere."""

    @staticmethod
    def check(x, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clamp: give at least one of min and max")

    @staticmethod
    def forward(ctx, x, min=None, max=None):
        inside = xp.ones(x.shape, dtype=bool)
        if min is not None:
            inside &= x >= min
        if max is not None:
            inside &= x <= max
        ctx.inside = inside
        return xp.clip(x, min, max).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dout):
        return dout * ctx.inside


class ClampTensor(Function):
    """z = min(max(x, lo), hi) with tensor bounds lo and hi (either may be absent).

    x̄ = z̄ where lo ≤ x ≤ hi;  lō = z̄ where x < lo (and lo < hi);  hī = z̄ where x > hi or
    hi < lo. Where the bounds cross (lo > hi) the result is hi and hi takes the gradient, and at
    x = lo or x = hi it goes to x: PyTorch's conventions.
    """

    @staticmethod
    def check(x, lo, hi, has_min=True, has_max=True):
        broadcast_shape("clamp", x.shape, lo.shape, hi.shape)

    @staticmethod
    def forward(ctx, x, lo, hi, has_min=True, has_max=True):
        inside = xp.ones(x.shape, dtype=bool)
        z = x
        if has_min:
            inside = inside & (x >= lo)
            z = xp.maximum(z, lo)
        if has_max:
            inside = inside & (x <= hi)
            z = xp.minimum(z, hi)
        ctx.x, ctx.lo, ctx.hi, ctx.inside = x, lo, hi, inside
        ctx.has = has_min, has_max
        return xp.asarray(z, dtype=x.dtype)

    @staticmethod
    def backward(ctx, dout):
        x, lo, hi = ctx.x, ctx.lo, ctx.hi
        has_min, has_max = ctx.has
        need = ctx.needs_input_grad
        dx = unbroadcast(xp.where(ctx.inside, dout, 0), x.shape) if need[0] else None
        dlo = dhi = None
        if need[1] and has_min:
            below = (x < lo) & (lo < hi) if has_max else x < lo
            dlo = unbroadcast(xp.where(below, dout, 0), lo.shape)
        if need[2] and has_max:
            above = (x > hi) | (hi < lo) if has_min else x > hi
            dhi = unbroadcast(xp.where(above, dout, 0), hi.shape)
        return dx, dlo, dhi


# --------------------------------------------------------------------------- user-facing functions


def add(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:  # noqa: A002  (torch's names)
    """Elementwise input + alpha · other with broadcasting and PyTorch's type promotion."""
    if alpha != 1:
        other = mul(other, alpha)
    a, b = promote(input, other)
    return Add.apply(a, b)


def sub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:  # noqa: A002
    """Elementwise input − alpha · other with broadcasting and PyTorch's type promotion."""
    if alpha != 1:
        other = mul(other, alpha)
    a, b = promote(input, other)
    return Sub.apply(a, b)


def mul(input: Any, other: Any) -> Tensor:  # noqa: A002
    """Elementwise input · other with broadcasting and PyTorch's type promotion."""
    a, b = promote(input, other)
    return Mul.apply(a, b)


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001, A002  (PyTorch's names)
    """Elementwise input ** exponent with broadcasting (either may be a Python number).

    The result's dtype follows PyTorch (an int tensor to a float power is float32); the gradient
    conventions at a zero base are those of :class:`Pow`.
    """
    a, b = promote(input, exponent)
    return Pow.apply(a, b)


def neg(x: Tensor) -> Tensor:
    """−x."""
    return Neg.apply(x)


def exp(x: Tensor) -> Tensor:
    """eˣ elementwise."""
    return Exp.apply(floating(x))


def log(x: Tensor) -> Tensor:
    """Natural logarithm elementwise."""
    return Log.apply(floating(x))


def sqrt(x: Tensor) -> Tensor:
    """Square root elementwise."""
    return Sqrt.apply(floating(x))


def abs(x: Tensor) -> Tensor:  # noqa: A001
    """|x| elementwise."""
    return Abs.apply(x)


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent, the zero-centred squashing nonlinearity (Lecture 5)."""
    return Tanh.apply(floating(x))


def sigmoid(x: Tensor) -> Tensor:
    """Logistic sigmoid σ(x) = 1/(1 + e⁻ˣ) (Lectures 4-5)."""
    return Sigmoid.apply(floating(x))


def relu(x: Tensor) -> Tensor:
    """Rectified linear unit max(0, x) (Lecture 5)."""
    return ReLU.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, ``negative_slope`` · x otherwise."""
    return LeakyReLU.apply(x, negative_slope=negative_slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """Exponential linear unit: x for x > 0, α(eˣ − 1) otherwise."""
    return ELU.apply(x, alpha=alpha)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit x Φ(x) (``approximate='tanh'`` for the tanh form)."""
    return GELU.apply(x, approximate=approximate)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """Smooth ReLU (1/β) ln(1 + e^(βx)); linear where βx > ``threshold``."""
    return Softplus.apply(x, beta=beta, threshold=threshold)


def clamp(input: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A001, A002
    """Clip the values into [min, max]; the gradient is zero where clipping happened.

    Args:
        input: the tensor.
        min, max: numbers or tensors (broadcast against ``input``); at least one. Where
            min > max the result is max (as PyTorch).
    """
    if min is None and max is None:
        raise ValueError("clamp: give at least one of min and max")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        bounds = [b for b in (min, max) if b is not None]
        x, *rest = promote(input, *bounds)
        lo = rest.pop(0) if min is not None else x
        hi = rest.pop(0) if max is not None else x
        return ClampTensor.apply(x, lo, hi, has_min=min is not None, has_max=max is not None)
    x = promote(input, *[b for b in (min, max) if b is not None])[0]
    return Clamp.apply(x, min=min, max=max)


def clip(input: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A001, A002
    """Alias of :func:`clamp`."""
    return clamp(input, min, max)


def _where_method(self: Tensor, condition: Any, y: Any) -> Tensor:
    """``x.where(condition, y)``: ``where(condition, x, y)``, as PyTorch's Tensor.where."""
    return where(condition, self, y)


def clamp_min(input: Any, min: Any) -> Tensor:  # noqa: A001, A002
    """``clamp(input, min=min)``."""
    return clamp(input, min=min)


def clamp_max(input: Any, max: Any) -> Tensor:  # noqa: A001, A002
    """``clamp(input, max=max)``."""
    return clamp(input, max=max)


def maximum(input: Any, other: Any) -> Tensor:  # noqa: A002
    """Elementwise maximum with broadcasting (ties share the gradient equally, as PyTorch)."""
    a, b = promote(input, other)
    return Maximum.apply(a, b)


def minimum(input: Any, other: Any) -> Tensor:  # noqa: A002
    """Elementwise minimum with broadcasting (ties share the gradient equally, as PyTorch)."""
    a, b = promote(input, other)
    return Minimum.apply(a, b)


def where(condition: Any, input: Any = None, other: Any = None) -> Any:  # noqa: A002
    """``input`` where ``condition`` holds, else ``other`` (all three broadcast together).

    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``: one int64 tensor of
    coordinates per dimension.
    """
    if input is None and other is None:
        cond = condition.array if isinstance(condition, Tensor) else xp.asarray(condition)
        return tuple(Tensor._from_op(i.astype(xp.int64), None, 0)
                     for i in xp.nonzero(xp.atleast_1d(cond)))
    a, b = promote(input, other)
    return Where.apply(condition, a, b)


def _compare(name: str, fn: Any) -> Any:
    def compare(a: Any, b: Any) -> Tensor:
        a_data = a.array if isinstance(a, Tensor) else a
        b_data = b.array if isinstance(b, Tensor) else b
        shapes = [xp.shape(a_data), xp.shape(b_data)]
        broadcast_shape(name, *shapes)
        return Tensor(fn(a_data, b_data))

    compare.__name__ = name
    compare.__doc__ = f"Elementwise ``{name}`` comparison: a bool tensor, without gradient."
    return compare


eq = _compare("eq", xp.equal)
ne = _compare("ne", xp.not_equal)
lt = _compare("lt", xp.less)
le = _compare("le", xp.less_equal)
gt = _compare("gt", xp.greater)
ge = _compare("ge", xp.greater_equal)
