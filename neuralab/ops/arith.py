"""Binary and ternary arithmetic beyond + − · /: rounded division, remainders, signs, interpolation.

Every op broadcasts its operands and promotes their dtypes as PyTorch does (``ops._promote``); the
backward undoes broadcasting with ``unbroadcast``. Rounded quotients are piecewise constant, so
their gradient is zero wherever it exists; PyTorch takes it as zero everywhere (a convention at
the jumps), and so do we.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.function import Function, unbroadcast
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import broadcast_shape
from neuralab.ops._promote import cast, promote
from neuralab.ops.elementwise import Div, mul, sub
from neuralab.ops.elementwise import pow as pow_

__all__ = [
    "div", "divide", "true_divide", "floor_divide", "remainder", "fmod", "copysign", "atan2",
    "arctan2", "hypot", "xlogy", "fmax", "fmin", "lerp", "addcmul", "addcdiv", "multiply",
    "subtract", "rsub", "logaddexp", "logaddexp2", "float_power", "heaviside", "gcd", "lcm",
]

TENSOR_METHODS = {
    "div": "div", "divide": "divide", "true_divide": "true_divide",
    "floor_divide": "floor_divide", "remainder": "remainder", "fmod": "fmod",
    "copysign": "copysign", "atan2": "atan2", "arctan2": "arctan2", "hypot": "hypot",
    "xlogy": "xlogy", "fmax": "fmax", "fmin": "fmin", "lerp": "lerp", "addcmul": "addcmul",
    "addcdiv": "addcdiv", "multiply": "multiply", "subtract": "subtract",
    "logaddexp": "logaddexp", "logaddexp2": "logaddexp2", "float_power": "float_power",
    "heaviside": "heaviside", "gcd": "gcd", "lcm": "lcm",
    "__floordiv__": "floor_divide", "__mod__": "remainder",
}
REFLECTED = {"__rfloordiv__": "floor_divide", "__rmod__": "remainder"}


class IntegerDivisionByZero(ZeroDivisionError, RuntimeError):
    """Integer division by zero: a ZeroDivisionError, and a RuntimeError as PyTorch raises."""


def _integer_zero_division(op: str, b: Any) -> None:
    if b.dtype.kind in "iub" and b.size and not b.all():
        raise IntegerDivisionByZero(f"{op}: integer division by zero (PyTorch raises "
                                "'ZeroDivisionError' too); divide floats to get inf or nan")


class _Binary(Function):
    """Shared validation: the operands must broadcast."""

    name = ""

    @classmethod
    def check(cls, a: Tensor, b: Tensor, **params: Any) -> None:
        broadcast_shape(cls.name, a.shape, b.shape)


class _RoundedQuotient(_Binary):
    """The gradient of a rounded quotient: zero for both operands (PyTorch's convention)."""

    @classmethod
    def check(cls, a, b):
        broadcast_shape(cls.name, a.shape, b.shape)
        _integer_zero_division(cls.name, b.array)

    @staticmethod
    def backward(ctx, dout):
        sa, sb = ctx.shapes
        return xp.zeros(sa, dout.dtype), xp.zeros(sb, dout.dtype)


class FloorDivide(_RoundedQuotient):
    """z = ⌊a / b⌋ (rounded toward −∞, Python's ``//``).   ā = 0, b̄ = 0.

    The zero gradient is PyTorch's for ``div(rounding_mode='floor')``; PyTorch's ``floor_divide``
    and ``//`` refuse to differentiate at all, where we give the same zeros (a convention).
    """

    name = "floor_divide"

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        with xp.errstate(divide="ignore", invalid="ignore"):
            if a.dtype.kind == "f":
                # NumPy's float floor_divide rounds the exact quotient, but returns nan where
                # b = 0; PyTorch returns a / b there (±inf, or nan for 0/0).
                return xp.where(b == 0, a / b, xp.floor_divide(a, b))
            return xp.floor_divide(a, b)


class TruncDivide(_RoundedQuotient):
    """z = trunc(a / b) (rounded toward zero, C's integer division).   ā = 0, b̄ = 0."""

    name = "div"

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        if a.dtype.kind == "f":
            with xp.errstate(divide="ignore", invalid="ignore"):
                return xp.trunc(a / b)
        q = xp.floor_divide(a, b)
        # ⌊a/b⌋ is one below trunc(a/b) when the division is inexact and the signs differ.
        inexact = q * b != a
        return q + (inexact & ((a < 0) != (b < 0))).astype(q.dtype)


class Remainder(_Binary):
    """z = a − ⌊a/b⌋ b, with the sign of b (Python's ``%``).

    ā = z̄,  b̄ = −z̄ ⊙ ⌊a/b⌋ (PyTorch's formula; at the jumps a convention).
    """

    name = "remainder"

    @classmethod
    def check(cls, a, b):
        broadcast_shape(cls.name, a.shape, b.shape)
        _integer_zero_division(cls.name, b.array)

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        with xp.errstate(divide="ignore", invalid="ignore"):
            return xp.remainder(a, b)

    @staticmethod
    def backward(ctx, dout):
        a, b = ctx.a, ctx.b
        da = unbroadcast(dout, a.shape) if ctx.needs_input_grad[0] else None
        db = None
        if ctx.needs_input_grad[1]:
            with xp.errstate(divide="ignore", invalid="ignore"):
                db = unbroadcast(-dout * xp.floor_divide(a, b), b.shape)
        return da, db


class Fmod(_Binary):
    """z = a − trunc(a/b) b, with the sign of a (C's ``fmod``).

    ā = z̄,  b̄ = −z̄ ⊙ trunc(a/b) (PyTorch's formula; at the jumps a convention).
    """

    name = "fmod"

    @classmethod
    def check(cls, a, b):
        broadcast_shape(cls.name, a.shape, b.shape)
        _integer_zero_division(cls.name, b.array)

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        with xp.errstate(divide="ignore", invalid="ignore"):
            return xp.fmod(a, b)

    @staticmethod
    def backward(ctx, dout):
        a, b = ctx.a, ctx.b
        da = unbroadcast(dout, a.shape) if ctx.needs_input_grad[0] else None
        db = None
        if ctx.needs_input_grad[1]:
            with xp.errstate(divide="ignore", invalid="ignore"):
                db = unbroadcast(-dout * xp.trunc(a / b), b.shape)
        return da, db


class Copysign(_Binary):
    """z = |a| with the sign (bit) of b.

    ā = z̄ ⊙ z / a, taken as 0 at a = 0 (PyTorch's convention);  b̄ = 0 (the sign is piecewise
    constant).
    """

    name = "copysign"

    @staticmethod
    def forward(ctx, a, b):
        z = xp.copysign(a, b)
        ctx.a, ctx.z, ctx.shape_b = a, z, b.shape
        return z

    @staticmethod
    def backward(ctx, dout):
        a, z = ctx.a, ctx.z
        with xp.errstate(divide="ignore", invalid="ignore"):
            ratio = xp.where(a == 0, 0, z / a)
        return unbroadcast(dout * ratio, a.shape), xp.zeros(ctx.shape_b, dout.dtype)


class Atan2(_Binary):
    """z = atan2(a, b), the angle of the point (b, a).   ā = z̄ b/(a² + b²),  b̄ = −z̄ a/(a² + b²)."""

    name = "atan2"

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return xp.arctan2(a, b)

    @staticmethod
    def backward(ctx, dout):
        a, b = ctx.a, ctx.b
        with xp.errstate(divide="ignore", invalid="ignore"):
            r2 = a * a + b * b
            da = unbroadcast(dout * b / r2, a.shape) if ctx.needs_input_grad[0] else None
            db = unbroadcast(-dout * a / r2, b.shape) if ctx.needs_input_grad[1] else None
        return da, db


class Hypot(_Binary):
    """z = √(a² + b²).   ā = z̄ a / z,  b̄ = z̄ b / z."""

    name = "hypot"

    @staticmethod
    def forward(ctx, a, b):
        z = xp.hypot(a, b)
        ctx.a, ctx.b, ctx.z = a, b, z
        return z

    @staticmethod
    def backward(ctx, dout):
        a, b, z = ctx.a, ctx.b, ctx.z
        with xp.errstate(divide="ignore", invalid="ignore"):
            da = unbroadcast(dout * a / z, a.shape) if ctx.needs_input_grad[0] else None
            db = unbroadcast(dout * b / z, b.shape) if ctx.needs_input_grad[1] else None
        return da, db


class Xlogy(_Binary):
    """z = a ln b, and z = 0 where a = 0 (unless b is nan).

    ā = z̄ ln b, 0 where a = 0 (PyTorch's convention);  b̄ = z̄ a / b.
    """

    name = "xlogy"

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        with xp.errstate(divide="ignore", invalid="ignore"):
            return xp.where((a == 0) & ~xp.isnan(b), 0, a * xp.log(b)).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, dout):
        a, b = ctx.a, ctx.b
        with xp.errstate(divide="ignore", invalid="ignore"):
            da = unbroadcast(dout * xp.where(a == 0, 0, xp.log(b)), a.shape) \
                if ctx.needs_input_grad[0] else None
            db = unbroadcast(dout * a / b, b.shape) if ctx.needs_input_grad[1] else None
        return da, db


class Fmax(_Binary):
    """z = max(a, b), ignoring a nan operand (nan only where both are nan).

    ā = z̄ where a ≥ b or b is nan, b̄ = z̄ elsewhere: ties give the whole gradient to a
    (PyTorch's convention for fmax, unlike maximum's halves).
    """

    name = "fmax"
    pick = staticmethod(xp.fmax)
    wins = staticmethod(xp.greater_equal)

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.first = cls.wins(a, b) | xp.isnan(b)
        ctx.shapes = a.shape, b.shape
        return cls.pick(a, b)

    @staticmethod
    def backward(ctx, dout):
        first, (sa, sb) = ctx.first, ctx.shapes
        da = unbroadcast(xp.where(first, dout, 0), sa) if ctx.needs_input_grad[0] else None
        db = unbroadcast(xp.where(first, 0, dout), sb) if ctx.needs_input_grad[1] else None
        return da, db


class Fmin(Fmax):
    __doc__ = (Fmax.__doc__ or "").replace("max(a, b)", "min(a, b)").replace("a ≥ b", "a ≤ b")
    name = "fmin"
    pick = staticmethod(xp.fmin)
    wins = staticmethod(xp.less_equal)


class LogAddExp(_Binary):
    """z = ln(eᵃ + eᵇ) (base 2 with ``base2``: log₂(2ᵃ + 2ᵇ)), without overflow.

    ā = z̄ σ(a − b) = z̄ e^(a − z),  b̄ = z̄ e^(b − z) (in base 2: 2^(a − z), 2^(b − z)).
    """

    name = "logaddexp"

    @staticmethod
    def forward(ctx, a, b, base2=False):
        z = xp.logaddexp2(a, b) if base2 else xp.logaddexp(a, b)
        ctx.a, ctx.b, ctx.z, ctx.base2 = a, b, z, base2
        return z

    @staticmethod
    def backward(ctx, dout):
        a, b, z = ctx.a, ctx.b, ctx.z
        power = xp.exp2 if ctx.base2 else xp.exp
        with xp.errstate(invalid="ignore"):
            da = unbroadcast(dout * power(a - z), a.shape) if ctx.needs_input_grad[0] else None
            db = unbroadcast(dout * power(b - z), b.shape) if ctx.needs_input_grad[1] else None
        return da, db


class Heaviside(_Binary):
    """z = 0 for a < 0, b for a = 0, 1 for a > 0 (the step function, b its value at 0).

    No gradient, as in PyTorch (its derivative is 0 almost everywhere, undefined at 0).
    """

    name = "heaviside"

    @staticmethod
    def forward(ctx, a, b):
        return xp.heaviside(a, b).astype(a.dtype) if a.dtype.kind == "f" else \
            xp.where(a == 0, b, (a > 0).astype(a.dtype))


class Lerp(Function):
    """z = a + w (b − a), linear interpolation from a (w = 0) to b (w = 1).

    ā = z̄ (1 − w),  b̄ = z̄ w,  w̄ = z̄ (b − a).
    """

    @staticmethod
    def check(a, b, w):
        broadcast_shape("lerp", a.shape, b.shape, w.shape)

    @staticmethod
    def forward(ctx, a, b, w):
        ctx.a, ctx.b, ctx.w = a, b, w
        return a + w * (b - a)

    @staticmethod
    def backward(ctx, dout):
        a, b, w = ctx.a, ctx.b, ctx.w
        need = ctx.needs_input_grad
        return (unbroadcast(dout * (1 - w), a.shape) if need[0] else None,
                unbroadcast(dout * w, b.shape) if need[1] else None,
                unbroadcast(dout * (b - a), w.shape) if need[2] else None)


class Addcmul(Function):
    """z = a + v · t₁ ⊙ t₂ (v a number).   ā = z̄,  t̄₁ = v z̄ ⊙ t₂,  t̄₂ = v z̄ ⊙ t₁."""

    @staticmethod
    def check(a, t1, t2, value=1):
        broadcast_shape("addcmul", a.shape, t1.shape, t2.shape)

    @staticmethod
    def forward(ctx, a, t1, t2, value=1):
        ctx.shape, ctx.t1, ctx.t2, ctx.value = a.shape, t1, t2, value
        return a + value * t1 * t2

    @staticmethod
    def backward(ctx, dout):
        t1, t2, v = ctx.t1, ctx.t2, ctx.value
        need = ctx.needs_input_grad
        return (unbroadcast(dout, ctx.shape) if need[0] else None,
                unbroadcast(v * dout * t2, t1.shape) if need[1] else None,
                unbroadcast(v * dout * t1, t2.shape) if need[2] else None)


class Addcdiv(Function):
    """z = a + v · t₁ / t₂ (v a number).   ā = z̄,  t̄₁ = v z̄ / t₂,  t̄₂ = −v z̄ ⊙ t₁ / t₂²."""

    @staticmethod
    def check(a, t1, t2, value=1):
        broadcast_shape("addcdiv", a.shape, t1.shape, t2.shape)

    @staticmethod
    def forward(ctx, a, t1, t2, value=1):
        ctx.shape, ctx.t1, ctx.t2, ctx.value = a.shape, t1, t2, value
        with xp.errstate(divide="ignore", invalid="ignore"):
            return a + value * (t1 / t2)

    @staticmethod
    def backward(ctx, dout):
        t1, t2, v = ctx.t1, ctx.t2, ctx.value
        need = ctx.needs_input_grad
        with xp.errstate(divide="ignore", invalid="ignore"):
            return (unbroadcast(dout, ctx.shape) if need[0] else None,
                    unbroadcast(v * dout / t2, t1.shape) if need[1] else None,
                    unbroadcast(-v * dout * t1 / (t2 * t2), t2.shape) if need[2] else None)


# --------------------------------------------------------------------------- user-facing functions

_ROUNDING_MODES = (None, "trunc", "floor")


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:  # noqa: A002
    """Elementwise input / other with broadcasting, PyTorch's ``torch.div``.

    Args:
        input: the dividend (a Tensor or a number).
        other: the divisor (a Tensor or a number).
        rounding_mode: None for true division (integers give float32, as PyTorch); ``'trunc'``
            rounds the quotient toward zero (C's integer division); ``'floor'`` rounds it toward
            −∞ (Python's ``//``). The rounded forms keep integer dtypes and have zero gradient.

    Raises:
        ZeroDivisionError: integer division by zero with a rounding mode (as PyTorch).
    """
    if rounding_mode not in _ROUNDING_MODES:
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                         f"found {rounding_mode!r}")
    if rounding_mode is None:
        return Div.apply(*promote(input, other, floating=True))
    a, b = promote(input, other)
    return (TruncDivide if rounding_mode == "trunc" else FloorDivide).apply(a, b)


def divide(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:  # noqa: A002
    """Alias of :func:`div` (PyTorch's ``torch.divide``)."""
    return div(input, other, rounding_mode=rounding_mode)


def true_divide(input: Any, other: Any) -> Tensor:  # noqa: A002
    """input / other without rounding: :func:`div` with ``rounding_mode=None``."""
    return div(input, other)


def multiply(input: Any, other: Any) -> Tensor:  # noqa: A002
    """Alias of ``mul`` (PyTorch's ``torch.multiply``)."""
    return mul(input, other)


def subtract(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:  # noqa: A002
    """Alias of ``sub`` (PyTorch's ``torch.subtract``)."""
    return sub(input, other, alpha=alpha)


def floor_divide(input: Any, other: Any) -> Tensor:  # noqa: A002
    """⌊input / other⌋ elementwise (Python's ``//``); ``div(..., rounding_mode='floor')``."""
    return FloorDivide.apply(*promote(input, other))


def remainder(input: Any, other: Any) -> Tensor:  # noqa: A002
    """input − ⌊input/other⌋ · other: the remainder with the divisor's sign (Python's ``%``)."""
    return Remainder.apply(*promote(input, other))


def fmod(input: Any, other: Any) -> Tensor:  # noqa: A002
    """input − trunc(input/other) · other: the remainder with the dividend's sign (C's fmod)."""
    return Fmod.apply(*promote(input, other))


def copysign(input: Any, other: Any) -> Tensor:  # noqa: A002
    """|input| with the sign of ``other`` (the sign bit: −0.0 counts as negative); float result."""
    return Copysign.apply(*promote(input, other, floating=True))


def atan2(input: Any, other: Any) -> Tensor:  # noqa: A002
    """The angle atan2(input, other) in (−π, π] of the point (other, input)."""
    return Atan2.apply(*promote(input, other, floating=True))


def arctan2(input: Any, other: Any) -> Tensor:  # noqa: A002
    """Alias of :func:`atan2`."""
    return atan2(input, other)


def hypot(input: Any, other: Any) -> Tensor:  # noqa: A002
    """√(input² + other²) elementwise, without overflow in the squares."""
    return Hypot.apply(*promote(input, other, floating=True))


def xlogy(input: Any, other: Any) -> Tensor:  # noqa: A002
    """input · ln(other), defined as 0 where input = 0 (the entropy terms p ln p, Lecture 4)."""
    return Xlogy.apply(*promote(input, other, floating=True))


def fmax(input: Any, other: Any) -> Tensor:  # noqa: A002
    """Elementwise maximum that ignores nan (the other operand wins); ties go to ``input``."""
    return Fmax.apply(*promote(input, other))


def fmin(input: Any, other: Any) -> Tensor:  # noqa: A002
    """Elementwise minimum that ignores nan (the other operand wins); ties go to ``input``."""
    return Fmin.apply(*promote(input, other))


def lerp(input: Any, end: Any, weight: Any) -> Tensor:  # noqa: A002
    """input + weight · (end − input): linear interpolation (weight a number or a Tensor)."""
    a, b, w = promote(input, end, weight)
    return Lerp.apply(a, b, w)


def addcmul(input: Any, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:  # noqa: A002
    """input + value · tensor1 ⊙ tensor2 (the second-moment update of Adam-like optimizers)."""
    a, t1, t2 = promote(input, tensor1, tensor2)
    return Addcmul.apply(a, t1, t2, value=value)


def addcdiv(input: Any, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:  # noqa: A002
    """input + value · tensor1 / tensor2 (Adam's step m / (√v + ε), Lecture 8)."""
    if all(isinstance(t, Tensor) and t.dtype.kind in "iub" for t in (tensor1, tensor2)):
        raise RuntimeError("addcdiv: integer division with addcdiv is no longer supported (as in "
                           f"PyTorch; got {tensor1.dtype} / {tensor2.dtype}); make tensor1 or "
                           "tensor2 a float tensor")
    a, t1, t2 = promote(input, tensor1, tensor2)
    return Addcdiv.apply(a, t1, t2, value=value)


def rsub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:  # noqa: A002
    """other − alpha · input (``sub`` with the operands swapped)."""
    return sub(other, input, alpha=alpha)


def logaddexp(input: Any, other: Any) -> Tensor:  # noqa: A002
    """ln(eˣ + eʸ) elementwise, without overflow (adding probabilities kept as logs)."""
    return LogAddExp.apply(*promote(input, other, floating=True))


def logaddexp2(input: Any, other: Any) -> Tensor:  # noqa: A002
    """log₂(2ˣ + 2ʸ) elementwise, without overflow."""
    return LogAddExp.apply(*promote(input, other, floating=True), base2=True)


def float_power(input: Any, exponent: Any) -> Tensor:  # noqa: A002
    """input ** exponent computed in float64 (PyTorch's ``float_power``), whatever the dtypes."""
    a, b = promote(input, exponent)
    return pow_(cast(a, xp.float64), cast(b, xp.float64))


def heaviside(input: Any, values: Any) -> Tensor:  # noqa: A002
    """The step function: 0 where input < 0, ``values`` where input = 0, 1 where input > 0."""
    if isinstance(input, Tensor) and isinstance(values, Tensor) and input.dtype != values.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different dtypes "
                           f"({input.dtype} and {values.dtype}), as in PyTorch; cast one first")
    return Heaviside.apply(*promote(input, values))


def _integer_pair(name: str, fn: Any) -> Any:
    def op(input: Any, other: Any) -> Tensor:  # noqa: A002
        a, b = (t.array for t in promote(input, other))
        if a.dtype.kind not in "iu":
            raise RuntimeError(f'"{name}_cpu" not implemented for \'{a.dtype}\': {name} takes '
                               "integer tensors")
        broadcast_shape(name, a.shape, b.shape)
        return Tensor(xp.asarray(fn(a, b)))

    op.__name__ = op.__qualname__ = name
    meaning = "greatest common divisor" if name == "gcd" else "least common multiple"
    op.__doc__ = f"The elementwise {meaning} of two integer tensors (no gradient)."
    return op


gcd = _integer_pair("gcd", xp.gcd)
lcm = _integer_pair("lcm", xp.lcm)
