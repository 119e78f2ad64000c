"""Pointwise mathematical functions: trigonometry, exponentials and logarithms, the error
function, rounding and signs.

Each op is z = f(x) elementwise with x̄ = z̄ ⊙ f′(x) (the chain rule of Lecture 6, one derivative
per op). Floating functions of integer or bool tensors compute in float32, as PyTorch; the
rounding and sign functions keep integer dtypes. Where f is piecewise constant (floor, ceil,
round, trunc, sign) the derivative is zero wherever it exists, and PyTorch takes it as zero at the
jumps too: a convention that we follow.
"""

from __future__ import annotations

import math
from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops import _special
from neuralab.ops._promote import floating
from neuralab.ops.elementwise import abs as abs_
from neuralab.ops.elementwise import neg

__all__ = [
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
    "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "log1p", "expm1", "log2",
    "log10", "exp2", "rsqrt", "reciprocal", "square", "erf", "erfc", "erfinv", "logit",
    "deg2rad", "rad2deg", "sign", "sgn", "signbit", "floor", "ceil", "round", "trunc", "fix",
    "frac", "nan_to_num", "negative", "absolute", "positive", "sinc",
]

_UNARY = list(__all__)
TENSOR_METHODS = {name: name for name in _UNARY}
TENSOR_METHODS.update({"__abs__": "absolute", "__pos__": "positive"})
REFLECTED: dict[str, str] = {}


class _Pointwise(Function):
    """z = f(x), x̄ = z̄ ⊙ f′(x): subclasses give ``f(x)`` and ``df(x, z)``."""

    @classmethod
    def forward(cls, ctx, x, **params):
        with xp.errstate(all="ignore"):  # domain errors give nan/inf, as in PyTorch
            z = xp.asarray(cls.f(x, **params)).astype(x.dtype, copy=False)
        ctx.x, ctx.z, ctx.params = x, z, params
        return z

    @classmethod
    def backward(cls, ctx, dout):
        with xp.errstate(all="ignore"):
            return (dout * cls.df(ctx.x, ctx.z, **ctx.params)).astype(dout.dtype, copy=False)


def _pointwise(name: str, f: Any, df: Any, doc: str) -> type[Function]:
    """A Function class for z = f(x) with derivative df(x, z); ``doc`` gives both formulas."""
    cls = type(name, (_Pointwise,), {"f": staticmethod(f), "df": staticmethod(df), "__doc__": doc,
                                    "__module__": __name__})
    return cls


_LN2, _LN10 = math.log(2), math.log(10)

Sin = _pointwise("Sin", xp.sin, lambda x, z: xp.cos(x), "z = sin x.   x̄ = z̄ ⊙ cos x.")
Cos = _pointwise("Cos", xp.cos, lambda x, z: -xp.sin(x), "z = cos x.   x̄ = −z̄ ⊙ sin x.")
Tan = _pointwise("Tan", xp.tan, lambda x, z: 1 + z * z, "z = tan x.   x̄ = z̄ ⊙ (1 + z²).")
Asin = _pointwise("Asin", xp.arcsin, lambda x, z: 1 / xp.sqrt(1 - x * x),
                  "z = arcsin x.   x̄ = z̄ / √(1 − x²).")
Acos = _pointwise("Acos", xp.arccos, lambda x, z: -1 / xp.sqrt(1 - x * x),
                  "z = arccos x.   x̄ = −z̄ / √(1 − x²).")
Atan = _pointwise("Atan", xp.arctan, lambda x, z: 1 / (1 + x * x),
                  "z = arctan x.   x̄ = z̄ / (1 + x²).")
Sinh = _pointwise("Sinh", xp.sinh, lambda x, z: xp.cosh(x), "z = sinh x.   x̄ = z̄ ⊙ cosh x.")
Cosh = _pointwise("Cosh", xp.cosh, lambda x, z: xp.sinh(x), "z = cosh x.   x̄ = z̄ ⊙ sinh x.")
Asinh = _pointwise("Asinh", xp.arcsinh, lambda x, z: 1 / xp.sqrt(x * x + 1),
                   "z = arsinh x.   x̄ = z̄ / √(x² + 1).")
Acosh = _pointwise("Acosh", xp.arccosh, lambda x, z: 1 / xp.sqrt(x * x - 1),
                   "z = arcosh x.   x̄ = z̄ / √(x² − 1).")
Atanh = _pointwise("Atanh", xp.arctanh, lambda x, z: 1 / (1 - x * x),
                   "z = artanh x.   x̄ = z̄ / (1 − x²).")
Log1p = _pointwise("Log1p", xp.log1p, lambda x, z: 1 / (1 + x),
                   "z = ln(1 + x), accurate for small x.   x̄ = z̄ / (1 + x).")
Expm1 = _pointwise("Expm1", xp.expm1, lambda x, z: z + 1,
                   "z = eˣ − 1, accurate for small x.   x̄ = z̄ ⊙ (z + 1).")
Log2 = _pointwise("Log2", xp.log2, lambda x, z: 1 / (x * _LN2), "z = log₂ x.   x̄ = z̄ / (x ln 2).")
Log10 = _pointwise("Log10", xp.log10, lambda x, z: 1 / (x * _LN10),
                   "z = log₁₀ x.   x̄ = z̄ / (x ln 10).")
Exp2 = _pointwise("Exp2", xp.exp2, lambda x, z: z * _LN2, "z = 2ˣ.   x̄ = z̄ ⊙ z ln 2.")
Rsqrt = _pointwise("Rsqrt", lambda x: 1 / xp.sqrt(x), lambda x, z: -0.5 * z * z * z,
                   "z = 1/√x.   x̄ = −½ z̄ ⊙ z³.")
Reciprocal = _pointwise("Reciprocal", lambda x: 1 / x, lambda x, z: -z * z,
                        "z = 1/x.   x̄ = −z̄ ⊙ z².")
Square = _pointwise("Square", lambda x: x * x, lambda x, z: 2 * x, "z = x².   x̄ = 2 z̄ ⊙ x.")
Erf = _pointwise("Erf", _special.erf,
                 lambda x, z: (2 / math.sqrt(math.pi)) * xp.exp(-x * x),
                 "z = erf x = (2/√π) ∫₀ˣ e^(−t²) dt.   x̄ = z̄ ⊙ (2/√π) e^(−x²).")
Erfc = _pointwise("Erfc", _special.erfc,
                  lambda x, z: (-2 / math.sqrt(math.pi)) * xp.exp(-x * x),
                  "z = erfc x = 1 − erf x.   x̄ = −z̄ ⊙ (2/√π) e^(−x²).")
Erfinv = _pointwise("Erfinv", _special.erfinv,
                    lambda x, z: (math.sqrt(math.pi) / 2) * xp.exp(z * z),
                    "z = erf⁻¹ x.   x̄ = z̄ ⊙ (√π/2) e^(z²).")
Deg2rad = _pointwise("Deg2rad", lambda x: x * (math.pi / 180), lambda x, z: math.pi / 180,
                     "z = x π/180.   x̄ = z̄ π/180.")
Rad2deg = _pointwise("Rad2deg", lambda x: x * (180 / math.pi), lambda x, z: 180 / math.pi,
                     "z = x 180/π.   x̄ = z̄ 180/π.")
Sinc = _pointwise("Sinc", xp.sinc,
                  lambda x, z: xp.where(x == 0, 0,
                                        (xp.cos(math.pi * x) - z) / xp.where(x == 0, 1, x)),
                  "z = sin(πx)/(πx), 1 at x = 0.   x̄ = z̄ (cos(πx) − z)/x, 0 at x = 0.")
Frac = _pointwise("Frac", lambda x: x - xp.trunc(x), lambda x, z: 1.0,
                  "z = x − trunc(x), the fractional part with x's sign.   x̄ = z̄.")


class Logit(_Pointwise):
    """z = ln(x / (1 − x)), the inverse of the sigmoid; with ``eps``, x is first clamped into
    [eps, 1 − eps].

    x̄ = z̄ / (x (1 − x)); with ``eps`` it is 0 where x lies outside [eps, 1 − eps] (the clamp's
    gradient, as PyTorch).
    """

    @staticmethod
    def f(x, eps=None):
        if eps is not None:
            x = xp.clip(x, eps, 1 - eps)
        return xp.log(x / (1 - x))

    @staticmethod
    def df(x, z, eps=None):
        grad = 1 / (x * (1 - x))
        if eps is None:
            return grad
        return xp.where((x < eps) | (x > 1 - eps), 0, grad)


class _Constant(Function):
    """z = f(x) piecewise constant: x̄ = 0 (also at the jumps: PyTorch's convention)."""

    @classmethod
    def forward(cls, ctx, x, **params):
        ctx.shape = x.shape
        with xp.errstate(all="ignore"):
            return xp.asarray(cls.f(x, **params)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dout):
        return xp.zeros(ctx.shape, dout.dtype)


def _constant(name: str, f: Any, doc: str) -> type[Function]:
    return type(name, (_Constant,), {"f": staticmethod(f), "__doc__": doc, "__module__": __name__})


def _sign(x: Any) -> Any:
    if x.dtype == xp.bool_:
        return x.copy()
    return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)  # sign(nan) = 0, as PyTorch


Sign = _constant("Sign", _sign, "z = sign x ∈ {−1, 0, 1} (0 at x = 0 and at nan, as PyTorch)."
                 "   x̄ = 0.")
Floor = _constant("Floor", xp.floor, "z = ⌊x⌋.   x̄ = 0.")
Ceil = _constant("Ceil", xp.ceil, "z = ⌈x⌉.   x̄ = 0.")
Trunc = _constant("Trunc", xp.trunc, "z = trunc x (rounded toward zero).   x̄ = 0.")


def _round(x: Any, decimals: int = 0) -> Any:
    if x.dtype.kind != "f":
        return x.copy()
    if decimals == 0:
        return xp.rint(x)
    # PyTorch's formula: scale by 10^|d|, round half to even, scale back (multiply or divide
    # so that the scale itself is exact).
    scale = x.dtype.type(10.0 ** abs(decimals))
    if decimals > 0:
        return xp.rint(x * scale) / scale
    return xp.rint(x / scale) * scale


Round = _constant("Round", _round, "z = x rounded to the nearest integer, halves to even (or to "
                  "``decimals`` decimal places).   x̄ = 0.")


class NanToNum(Function):
    """z = x with nan, +inf and −inf replaced by given numbers.

    x̄ = z̄ where x is finite, 0 where it was replaced (PyTorch's convention).
    """

    @staticmethod
    def forward(ctx, x, nan=0.0, posinf=None, neginf=None):
        ctx.finite = xp.isfinite(x)
        if x.dtype.kind != "f":
            return x.copy()
        return xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, dout):
        return dout * ctx.finite


# --------------------------------------------------------------------------- user-facing functions


def _unary(name: str, cls: type[Function], doc: str, float_only: bool = True) -> Any:
    def op(input: Any) -> Tensor:  # noqa: A002  (PyTorch's name)
        x = floating(input) if float_only else _tensor(input)
        return cls.apply(x)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


sin = _unary("sin", Sin, "Sine elementwise (radians).")
cos = _unary("cos", Cos, "Cosine elementwise (radians).")
tan = _unary("tan", Tan, "Tangent elementwise (radians).")
asin = _unary("asin", Asin, "Inverse sine elementwise, in [−π/2, π/2]; nan outside [−1, 1].")
acos = _unary("acos", Acos, "Inverse cosine elementwise, in [0, π]; nan outside [−1, 1].")
atan = _unary("atan", Atan, "Inverse tangent elementwise, in (−π/2, π/2).")
sinh = _unary("sinh", Sinh, "Hyperbolic sine elementwise.")
cosh = _unary("cosh", Cosh, "Hyperbolic cosine elementwise.")
asinh = _unary("asinh", Asinh, "Inverse hyperbolic sine elementwise.")
acosh = _unary("acosh", Acosh, "Inverse hyperbolic cosine elementwise; nan below 1.")
atanh = _unary("atanh", Atanh, "Inverse hyperbolic tangent elementwise; ±inf at ±1.")
arcsin = _unary("arcsin", Asin, "Alias of :func:`asin`.")
arccos = _unary("arccos", Acos, "Alias of :func:`acos`.")
arctan = _unary("arctan", Atan, "Alias of :func:`atan`.")
arcsinh = _unary("arcsinh", Asinh, "Alias of :func:`asinh`.")
arccosh = _unary("arccosh", Acosh, "Alias of :func:`acosh`.")
arctanh = _unary("arctanh", Atanh, "Alias of :func:`atanh`.")
log1p = _unary("log1p", Log1p, "ln(1 + x) elementwise, accurate where x is tiny.")
expm1 = _unary("expm1", Expm1, "eˣ − 1 elementwise, accurate where x is tiny.")
log2 = _unary("log2", Log2, "Base-2 logarithm elementwise.")
log10 = _unary("log10", Log10, "Base-10 logarithm elementwise.")
exp2 = _unary("exp2", Exp2, "2ˣ elementwise.")
rsqrt = _unary("rsqrt", Rsqrt, "1/√x elementwise (inf at 0, nan below).")
reciprocal = _unary("reciprocal", Reciprocal, "1/x elementwise (integers give float32).")
square = _unary("square", Square, "x² elementwise (integers stay integers).", float_only=False)
erf = _unary("erf", Erf, "The error function erf(x) = (2/√π) ∫₀ˣ e^(−t²) dt, vectorised.")
erfc = _unary("erfc", Erfc, "The complementary error function 1 − erf(x), accurate in the tail.")
erfinv = _unary("erfinv", Erfinv, "The inverse error function on (−1, 1) (±inf at ±1).")
deg2rad = _unary("deg2rad", Deg2rad, "Degrees to radians: x π/180.")
rad2deg = _unary("rad2deg", Rad2deg, "Radians to degrees: x 180/π.")
sinc = _unary("sinc", Sinc, "The normalized sinc sin(πx)/(πx) elementwise (1 at 0).")
frac = _unary("frac", Frac, "x − trunc(x): the fractional part, with x's sign.")
sign = _unary("sign", Sign, "−1, 0 or 1 by the sign of x (integers stay integers; sign(nan) = 0 "
              "as PyTorch); zero gradient.", float_only=False)
sgn = _unary("sgn", Sign, "The sign of x; for real tensors the same as :func:`sign`.",
             float_only=False)
floor = _unary("floor", Floor, "⌊x⌋ elementwise (integers are returned unchanged); zero gradient.",
               float_only=False)
ceil = _unary("ceil", Ceil, "⌈x⌉ elementwise (integers are returned unchanged); zero gradient.",
              float_only=False)
trunc = _unary("trunc", Trunc, "x rounded toward zero elementwise; zero gradient.",
               float_only=False)
fix = _unary("fix", Trunc, "Alias of :func:`trunc`.", float_only=False)


def round(input: Any, *, decimals: int = 0) -> Tensor:  # noqa: A001, A002  (PyTorch's names)
    """Round to the nearest integer, halves to even as PyTorch (``round(2.5) = 2``).

    Args:
        input: the tensor (integers are returned unchanged).
        decimals: round to this many decimal places (negative: to tens, hundreds...).

    The gradient is zero (piecewise constant; PyTorch's convention at the jumps).
    """
    if isinstance(decimals, bool) or not isinstance(decimals, int):
        raise TypeError(f"round: decimals must be an int, got {type(decimals).__name__}")
    return Round.apply(_tensor(input), decimals=decimals)


def logit(input: Any, eps: float | None = None) -> Tensor:  # noqa: A002
    """ln(x / (1 − x)), the inverse of the sigmoid; ``eps`` clamps x into [eps, 1 − eps] first."""
    return Logit.apply(floating(input), eps=eps)


def nan_to_num(input: Any, nan: float = 0.0, posinf: float | None = None,  # noqa: A002
               neginf: float | None = None) -> Tensor:
    """Replace nan by ``nan``, +inf by ``posinf`` and −inf by ``neginf``.

    The infinities default to the largest and smallest finite numbers of the dtype. The gradient
    passes where x was finite and is 0 where it was replaced.
    """
    return NanToNum.apply(_tensor(input), nan=nan, posinf=posinf, neginf=neginf)


def signbit(input: Any) -> Tensor:  # noqa: A002
    """True where the sign bit is set (x < 0, and −0.0): a bool tensor without gradient."""
    return Tensor(xp.signbit(_tensor(input).array))


def negative(input: Any) -> Tensor:  # noqa: A002
    """Alias of ``neg``: −x."""
    return neg(input)


def absolute(input: Any) -> Tensor:  # noqa: A002
    """Alias of ``abs``: |x|."""
    return abs_(input)


def positive(input: Any) -> Tensor:  # noqa: A002
    """+x: ``input`` itself (PyTorch's ``torch.positive``)."""
    return _tensor(input)
