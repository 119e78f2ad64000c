"""More nonlinearities (Lecture 5's ReLU, sigmoid and tanh are in ``ops.elementwise``).

Each is z = f(x) elementwise with x̄ = z̄ ⊙ f′(x). Where f has a kink (hardtanh's corners, the
shrinkage thresholds) the derivative there is a convention; we take PyTorch's, which the class
docstrings state.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.function import Function, unbroadcast
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import normalize_dim, require_float
from neuralab.ops.elementwise import neg
from neuralab.ops.reduce import softmax

__all__ = [
    "hardtanh", "relu6", "silu", "mish", "hardswish", "hardsigmoid", "softsign", "logsigmoid",
    "selu", "celu", "glu", "softmin", "tanhshrink", "softshrink", "hardshrink", "threshold",
    "prelu",
]

TENSOR_METHODS = {name: name for name in ("hardshrink", "prelu")}
REFLECTED: dict[str, str] = {}

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _sigmoid(x: Any) -> Any:
    return 0.5 * (1 + xp.tanh(0.5 * x))  # never overflows


class _Activation(Function):
    """z = f(x) on a floating tensor; subclasses give ``f(x, **params)`` and
    ``df(x, z, **params)``."""

    name = ""

    @classmethod
    def check(cls, x, **params):
        require_float(cls.name, "input", x)

    @classmethod
    def forward(cls, ctx, x, **params):
        with xp.errstate(over="ignore"):
            z = xp.asarray(cls.f(x, **params)).astype(x.dtype, copy=False)
        ctx.x, ctx.z, ctx.params = x, z, params
        return z

    @classmethod
    def backward(cls, ctx, dout):
        with xp.errstate(over="ignore", invalid="ignore"):
            return (dout * cls.df(ctx.x, ctx.z, **ctx.params)).astype(dout.dtype, copy=False)


class Hardtanh(_Activation):
    """z = min(max(x, lo), hi).   x̄ = z̄ where lo < x < hi, 0 elsewhere (also at x = lo and
    x = hi: PyTorch's convention)."""

    name = "hardtanh"

    @staticmethod
    def f(x, min_val=-1.0, max_val=1.0):
        return xp.clip(x, min_val, max_val)

    @staticmethod
    def df(x, z, min_val=-1.0, max_val=1.0):
        return (x > min_val) & (x < max_val)


class SiLU(_Activation):
    """z = x σ(x) (the swish).   x̄ = z̄ ⊙ σ(x)(1 + x(1 − σ(x)))."""

    name = "silu"

    @staticmethod
    def f(x):
        return x * _sigmoid(x)

    @staticmethod
    def df(x, z):
        s = _sigmoid(x)
        return s * (1 + x * (1 - s))


class Mish(_Activation):
    """z = x tanh(softplus(x)).   x̄ = z̄ ⊙ (tanh(sp) + x σ(x)(1 − tanh²(sp))), sp = softplus(x)."""

    name = "mish"

    @staticmethod
    def f(x):
        return x * xp.tanh(xp.logaddexp(0, x))

    @staticmethod
    def df(x, z):
        t = xp.tanh(xp.logaddexp(0, x))
        return t + x * _sigmoid(x) * (1 - t * t)


class Hardswish(_Activation):
    """z = x · min(max(x + 3, 0), 6) / 6.

    x̄ = 0 for x ≤ −3, z̄ (2x + 3)/6 for −3 < x < 3, z̄ for x ≥ 3 (at the corners x = ±3 the
    outer sides: PyTorch's convention).
    """

    name = "hardswish"

    @staticmethod
    def f(x):
        return x * xp.clip(x + 3, 0, 6) / 6

    @staticmethod
    def df(x, z):
        return xp.where(x <= -3, 0, xp.where(x < 3, x / 3 + 0.5, 1))


class Hardsigmoid(_Activation):
    """z = min(max(x + 3, 0), 6) / 6.   x̄ = z̄/6 for −3 < x < 3, 0 elsewhere (corners: 0, as
    PyTorch)."""

    name = "hardsigmoid"

    @staticmethod
    def f(x):
        return xp.clip(x + 3, 0, 6) / 6

    @staticmethod
    def df(x, z):
        return ((x > -3) & (x < 3)) / 6


class Softsign(_Activation):
    """z = x / (1 + |x|).   x̄ = z̄ / (1 + |x|)²."""

    name = "softsign"

    @staticmethod
    def f(x):
        return x / (1 + xp.abs(x))

    @staticmethod
    def df(x, z):
        return 1 / (1 + xp.abs(x)) ** 2


class LogSigmoid(_Activation):
    """z = ln σ(x) = min(x, 0) − ln(1 + e^(−|x|)) (no overflow).   x̄ = z̄ ⊙ (1 − σ(x))."""

    name = "logsigmoid"

    @staticmethod
    def f(x):
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def df(x, z):
        return _sigmoid(-x)


class CELU(_Activation):
    """z = max(0, x) + min(0, α(e^(x/α) − 1)) (SELU is the same shape with fixed scale).

    x̄ = z̄ for x > 0, z̄ e^(x/α) for x ≤ 0 (at 0 both sides give 1).
    """

    name = "celu"

    @staticmethod
    def f(x, alpha=1.0, scale=1.0):
        return scale * xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0) / alpha))

    @staticmethod
    def df(x, z, alpha=1.0, scale=1.0):
        return scale * xp.where(x > 0, 1, xp.exp(xp.minimum(x, 0) / alpha))


class SELU(CELU):
    """z = s (max(0, x) + min(0, α(eˣ − 1))), α ≈ 1.6733, s ≈ 1.0507 (self-normalizing).

    x̄ = z̄ s for x > 0, z̄ s α eˣ for x ≤ 0 (at x = 0 the left side, as PyTorch).
    """

    name = "selu"

    @staticmethod
    def f(x, alpha=1.0, scale=1.0):
        return scale * xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))

    @staticmethod
    def df(x, z, alpha=1.0, scale=1.0):
        return scale * xp.where(x > 0, 1, alpha * xp.exp(xp.minimum(x, 0)))


class Tanhshrink(_Activation):
    """z = x − tanh x.   x̄ = z̄ tanh² x."""

    name = "tanhshrink"

    @staticmethod
    def f(x):
        return x - xp.tanh(x)

    @staticmethod
    def df(x, z):
        t = xp.tanh(x)
        return t * t


class Softshrink(_Activation):
    """z = x − λ for x > λ, x + λ for x < −λ, 0 between.   x̄ = z̄ where |x| > λ, 0 elsewhere
    (at x = ±λ: 0, as PyTorch)."""

    name = "softshrink"

    @staticmethod
    def f(x, lambd=0.5):
        return xp.where(x > lambd, x - lambd, xp.where(x < -lambd, x + lambd, 0))

    @staticmethod
    def df(x, z, lambd=0.5):
        return (x > lambd) | (x < -lambd)


class Hardshrink(_Activation):
    """z = x where |x| > λ, 0 elsewhere.   x̄ = z̄ where |x| > λ (at ±λ: 0, as PyTorch)."""

    name = "hardshrink"

    @staticmethod
    def f(x, lambd=0.5):
        return xp.where((x > lambd) | (x < -lambd), x, 0)

    @staticmethod
    def df(x, z, lambd=0.5):
        return (x > lambd) | (x < -lambd)


class Threshold(_Activation):
    """z = x where x > t, else a fixed value v.   x̄ = z̄ where x > t (at x = t: 0)."""

    name = "threshold"

    @staticmethod
    def f(x, threshold=0.0, value=0.0):
        return xp.where(x > threshold, x, value)

    @staticmethod
    def df(x, z, threshold=0.0, value=0.0):
        return x > threshold


class GLU(Function):
    """z = a ⊙ σ(b), where a and b are the two halves of x along ``dim`` (gated linear unit).

    ā = z̄ ⊙ σ(b),  b̄ = z̄ ⊙ a σ(b)(1 − σ(b)); x̄ is [ā, b̄] joined along ``dim``.
    """

    @staticmethod
    def check(x, dim=-1):
        require_float("glu", "input", x)
        if x.ndim == 0:
            raise RuntimeError("glu does not support scalars because halving size must be even")
        axis = normalize_dim("glu", dim, x.ndim)
        if x.shape[axis] % 2:
            raise RuntimeError(f"Halving dimension must be even, but dimension {axis} is size "
                               f"{x.shape[axis]} (glu splits it into two halves)")

    @staticmethod
    def forward(ctx, x, dim=-1):
        axis = normalize_dim("glu", dim, x.ndim)
        a, b = xp.split(x, 2, axis=axis)
        s = _sigmoid(b).astype(x.dtype, copy=False)
        ctx.a, ctx.s, ctx.axis = a, s, axis
        return a * s

    @staticmethod
    def backward(ctx, dout):
        a, s = ctx.a, ctx.s
        return xp.concatenate([dout * s, dout * a * s * (1 - s)], axis=ctx.axis)


class PReLU(Function):
    """z = x for x > 0, w x otherwise, w one slope per channel (dim 1) or one for all.

    x̄ = z̄ for x > 0, z̄ w otherwise;  w̄ = Σ z̄ x over the elements with x ≤ 0 of each channel.
    """

    @staticmethod
    def check(x, w):
        require_float("prelu", "input", x)
        if w.ndim > 1 or (w.size != 1 and (x.ndim < 2 or w.size != x.shape[1])):
            channels = x.shape[1] if x.ndim >= 2 else 1
            raise RuntimeError(f"prelu: the weight must have 1 element or one per channel "
                               f"({channels}, dim 1 of input {x.shape}), got shape {w.shape}")

    @staticmethod
    def forward(ctx, x, w):
        wb = w.reshape((1, -1) + (1,) * (x.ndim - 2)) if w.size > 1 else w.reshape(())
        positive = x > 0
        ctx.x, ctx.wb, ctx.positive, ctx.w_shape = x, wb, positive, w.shape
        return xp.where(positive, x, wb * x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dout):
        x, wb, positive = ctx.x, ctx.wb, ctx.positive
        dx = xp.where(positive, dout, dout * wb) if ctx.needs_input_grad[0] else None
        dw = None
        if ctx.needs_input_grad[1]:
            dw = unbroadcast(xp.where(positive, 0, dout * x), wb.shape).reshape(ctx.w_shape)
        return dx, dw


# --------------------------------------------------------------------------- user-facing functions
# ``inplace`` is accepted for PyTorch's signatures; the result is always a new tensor (an in-place
# activation would overwrite the x that backward needs).


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,  # noqa: A002
             inplace: bool = False) -> Tensor:
    """x clipped into [min_val, max_val]; gradient 1 strictly inside, 0 outside."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    return Hardtanh.apply(input, min_val=min_val, max_val=max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """min(max(x, 0), 6): :func:`hardtanh` between 0 and 6."""
    return Hardtanh.apply(input, min_val=0.0, max_val=6.0)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x σ(x), the sigmoid-weighted linear unit (swish)."""
    return SiLU.apply(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x tanh(softplus(x))."""
    return Mish.apply(input)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x · relu6(x + 3)/6, a piecewise-quadratic swish."""
    return Hardswish.apply(input)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """relu6(x + 3)/6, a piecewise-linear sigmoid."""
    return Hardsigmoid.apply(input)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """x / (1 + |x|)."""
    return Softsign.apply(input)


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """ln σ(x), computed without overflow."""
    return LogSigmoid.apply(input)


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Scaled ELU with PyTorch's α ≈ 1.6733 and scale ≈ 1.0507."""
    return SELU.apply(input, alpha=_SELU_ALPHA, scale=_SELU_SCALE)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(0, x) + min(0, α(e^(x/α) − 1)), continuously differentiable for every α > 0."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return CELU.apply(input, alpha=alpha)


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """a ⊙ σ(b) with a, b the halves of ``input`` along ``dim`` (which must be even)."""
    return GLU.apply(input, dim=dim)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
            dtype: Any = None) -> Tensor:
    """softmax(−x) along ``dim``: weights that favour the smallest entries."""
    if dim is None:
        raise TypeError("softmin: dim is required (which dimension to normalize over), e.g. "
                        "softmin(x, dim=-1)")
    return softmax(neg(input), dim, dtype)


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    """x − tanh x."""
    return Tanhshrink.apply(input)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """Soft thresholding: x ∓ λ outside [−λ, λ], 0 inside."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be non-negative, got {lambd}")
    return Softshrink.apply(input, lambd=lambd)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """Hard thresholding: x outside [−λ, λ], 0 inside."""
    return Hardshrink.apply(input, lambd=lambd)


def threshold(input: Tensor, threshold: float, value: float,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """x where x > ``threshold``, else ``value``."""
    return Threshold.apply(input, threshold=threshold, value=value)


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """x for x > 0, weight · x otherwise; ``weight`` has one slope, or one per channel (dim 1)."""
    return PReLU.apply(input, weight)

