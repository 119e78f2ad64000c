"""Helpers shared by the distributions: broadcasting parameters, lazily computed parameters,
probabilities ↔ logits, and the digamma function with its gradient (trigamma).

* ``probs_to_logits``: ln p (categorical) or ln p − ln(1 − p) (binary), p clamped to
  [eps, 1 − eps] first so that the logits stay finite;
* ``logits_to_probs``: softmax over the last dimension (categorical) or σ(logit) (binary);
* ψ(x) = d/dx ln Γ(x) with ψ'(x) = ψ₁(x) = Σ_{n≥0} 1/(x + n)², computed by the recurrence
  ψ₁(x) = ψ₁(x + 1) + 1/x² up to x ≥ 10 and the asymptotic series
  ψ₁(z) ≈ 1/z + 1/(2z²) + Σ_k B_2k / z^(2k+1) there.
"""

from __future__ import annotations

import math
from typing import Any

from neuralab import backend, dtypes
from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Size, Tensor
from neuralab.backend import xp
from neuralab.ops import broadcast_tensors, clamp, log, log1p, sigmoid, softmax
from neuralab.ops.numeric import digamma_array

__all__ = ["broadcast_all", "clamp_probs", "digamma", "lazy_property", "logits_to_probs",
           "probs_to_logits", "standard_draw", "sum_rightmost"]


def broadcast_all(*values: Any) -> tuple[Tensor, ...]:
    """The values broadcast to one shape; numbers become tensors of the first tensor's dtype (the
    default dtype when all are numbers)."""
    dtype = None
    for v in values:
        if isinstance(v, Tensor):
            dtype = v.array.dtype if dtype is None else dtype
        elif isinstance(v, bool) or not isinstance(v, (int, float, xp.number)):
            raise ValueError("Input arguments must all be instances of numbers.Number or "
                             f"Tensor, got {type(v).__name__}")
    if dtype is None:
        dtype = backend.default_float_dtype()
    tensors = [v if isinstance(v, Tensor) else Tensor(xp.asarray(v, dtype=dtype), dtype=dtype)
               for v in values]
    return tuple(broadcast_tensors(*tensors))


def sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """``value`` summed over its ``dim`` rightmost dimensions."""
    if dim == 0:
        return value
    return value.reshape(*value.shape[:value.dim() - dim], -1).sum(-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """Probabilities clamped to [eps, 1 − eps] of their dtype."""
    eps = float(xp.finfo(probs.array.dtype).eps)
    return clamp(probs, min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """ln p, or for a binary variable the log-odds ln p − ln(1 − p)."""
    p = clamp_probs(probs)
    return log(p) - log1p(-p) if is_binary else log(p)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """σ(logits) for a binary variable, else the softmax over the last dimension."""
    return sigmoid(logits) if is_binary else softmax(logits, -1)


class lazy_property:  # noqa: N801  (PyTorch's name)
    """A property computed once on first access and then stored in the instance's ``__dict__``
    (so ``validate_args`` checks only the parameters the user gave)."""

    def __init__(self, wrapped: Any):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance: Any, obj_type: Any = None) -> Any:
        if instance is None:
            return self
        value = self.wrapped(instance)
        instance.__dict__[self.wrapped.__name__] = value
        return value


_TRIGAMMA_SERIES = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)


def trigamma_array(x: Any) -> Any:
    """ψ₁(x) = d²/dx² ln Γ(x) in float64 for x > 0 (nan for x ≤ 0)."""
    x = xp.asarray(x, dtype=xp.float64)
    with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = xp.where(x > 0, x, math.nan)
        out = xp.zeros_like(z)
        for _ in range(10):
            small = z < 10
            out = out + xp.where(small, 1 / (z * z), 0.0)
            z = xp.where(small, z + 1, z)
        inv2 = 1 / (z * z)
        series = xp.zeros_like(z)
        for coefficient in reversed(_TRIGAMMA_SERIES):
            series = (series + coefficient) * inv2
        out = out + 1 / z + 0.5 * inv2 + series / z
        out = xp.where(xp.isposinf(x), 0.0, out)
    return out


class Digamma(Function):
    """y = ψ(x) = d/dx ln Γ(x).   x̄ = ȳ ψ₁(x), the trigamma function."""

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        with xp.errstate(invalid="ignore"):
            return digamma_array(x).astype(x.dtype)

    @staticmethod
    def backward(ctx, dout):
        return (dout * trigamma_array(ctx.x)).astype(dout.dtype)


def digamma(x: Tensor) -> Tensor:
    """ψ(x) elementwise, differentiable (the gradient is ψ₁(x), defined for x > 0)."""
    return Digamma.apply(x)


def standard_draw(kind: str, shape: Any, dtype: Any) -> Tensor:
    """A tensor of ``shape`` drawn from neuralab's generator (``manual_seed``): ``"normal"``
    (N(0, 1)), ``"uniform"`` ([0, 1)) or ``"exponential"`` (Exp(1)); it carries no gradient."""
    rng = backend.rng()
    shape = tuple(Size(shape))
    array = {"normal": rng.standard_normal, "uniform": rng.random,
             "exponential": rng.standard_exponential}[kind](shape)
    np_dtype = dtypes.as_numpy(dtype) if not isinstance(dtype, xp.dtype) else dtype
    return Tensor(xp.asarray(array, dtype=np_dtype), dtype=np_dtype)
