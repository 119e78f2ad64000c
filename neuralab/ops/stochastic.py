"""Random regularizers and relaxations: the randomized leaky ReLU, alpha dropout (the dropout of
self-normalizing SELU networks) and the Gumbel-softmax.

Each draws its noise once per call from neuralab's generator (``nl.manual_seed``); given that
noise the op is an ordinary differentiable function, and its gradient is the one of that
function. In evaluation mode (``training=False``) the noise is replaced by its expectation.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import rng, xp
from neuralab.ops._checks import normalize_dim, require_float
from neuralab.ops.dropout import check_p
from neuralab.ops.elementwise import add, mul, sub
from neuralab.ops.reduce import softmax

__all__ = ["rrelu", "alpha_dropout", "feature_alpha_dropout", "gumbel_softmax"]


def _tensor(x: Any, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return x


def check_rrelu_bounds(op: str, lower: float, upper: float) -> None:
    if lower > upper:
        raise ValueError(f"{op}: the lower bound ({lower}) must not exceed the upper bound "
                         f"({upper}) of the random slopes")


class RReLU(Function):
    """z = x for x > 0, a x otherwise.

    Training: one slope a ~ U(lower, upper) per element, drawn for every x ≤ 0 (PyTorch's
    convention at 0); evaluation: the mean slope a = (lower + upper)/2 (a leaky ReLU).
    x̄ = z̄ ⊙ s with s = 1 for x > 0 and a otherwise (the sampled slope while training).
    """

    @staticmethod
    def check(x, lower=0.125, upper=1 / 3, training=False):
        require_float("rrelu", "input", x)

    @staticmethod
    def forward(ctx, x, lower=0.125, upper=1 / 3, training=False):
        if training:
            a = rng().uniform(lower, upper, size=x.shape)
        else:
            a = (lower + upper) / 2
        ctx.slope = xp.where(x > 0, 1, a).astype(x.dtype, copy=False)
        return x * ctx.slope

    @staticmethod
    def backward(ctx, dout):
        return dout * ctx.slope


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,  # noqa: A002
          training: bool = False, inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: x for x > 0, a·x otherwise, with a ~ U(lower, upper) drawn per
    element while ``training`` and a = (lower + upper)/2 otherwise (``F.rrelu``; note that the
    functional form defaults to ``training=False``, as PyTorch's).

    Args:
        input: a floating tensor.
        lower, upper: the range of the random negative slopes.
        training: draw random slopes (pass ``self.training`` from a module).
        inplace: write the result into ``input`` (as ``rrelu_``).
    """
    check_rrelu_bounds("rrelu", lower, upper)
    x = _tensor(input, "rrelu")
    if inplace:
        return x._inplace("rrelu_", lambda old: rrelu(old, lower, upper, training))
    return RReLU.apply(x, lower=float(lower), upper=float(upper), training=bool(training))


# SELU's λα: the value a dropped unit takes before the affine correction (α′ = −λα).
_SELU_ALPHA_SCALE = 1.7580993408473766


class AlphaDropout(Function):
    """z = a (x ⊙ m + α′(1 − m)) + b with m ~ Bernoulli(1 − p), α′ = −λα (SELU's negative
    saturation value), a = ((1 − p)(1 + p α′²))^(−1/2) and b = −a α′ p, so that an input of
    zero mean and unit variance keeps them (Klambauer et al., self-normalizing networks).

    x̄ = z̄ ⊙ a m. ``mask_shape`` lets whole channels share one draw (feature alpha dropout).
    """

    @staticmethod
    def check(x, p=0.5, mask_shape=None):
        require_float("alpha_dropout", "input", x)

    @staticmethod
    def forward(ctx, x, p=0.5, mask_shape=None):
        shape = x.shape if mask_shape is None else mask_shape
        keep = (rng().random(shape) >= p).astype(x.dtype)
        alpha = _SELU_ALPHA_SCALE
        a = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
        ctx.scale = (keep * a).astype(x.dtype, copy=False)
        shift = ((keep - 1) * (alpha * a) + alpha * a * p).astype(x.dtype, copy=False)
        return (x * ctx.scale + shift).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dout):
        return dout * ctx.scale


def _alpha_dropout(op: str, x: Any, p: float, training: bool, inplace: bool,
                   feature: bool) -> Tensor:
    check_p(op, p)
    x = _tensor(x, op)
    if feature and x.ndim < 2:
        raise RuntimeError(f"{op}: feature dropout requires at least 2 dimensions in the input "
                           f"(N, C, ...), got shape {tuple(x.shape)}")
    if inplace:
        return x._inplace(op + "_", lambda old: _alpha_dropout(op, old, p, training, False,
                                                                feature))
    if p == 0 or not training or x.numel() == 0:
        return x
    require_float(op, "input", x)
    if p == 1:
        return mul(x, 0.0)  # PyTorch: every unit dropped gives zeros (no shift)
    mask_shape = x.shape[:2] + (1,) * (x.ndim - 2) if feature else None
    return AlphaDropout.apply(x, p=float(p), mask_shape=mask_shape)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,  # noqa: A002
                  inplace: bool = False) -> Tensor:
    """Alpha dropout for SELU networks: dropped units are set to SELU's negative saturation
    value −λα and the result is scaled and shifted so that zero mean and unit variance are kept
    (``F.alpha_dropout``; the functional form defaults to ``training=False``, as PyTorch's).

    Args:
        input: a floating tensor.
        p: the probability of dropping an element, in [0, 1].
        training: apply dropout (pass ``self.training``).
        inplace: write the result into ``input``.
    """
    return _alpha_dropout("alpha_dropout", input, p, training, inplace, feature=False)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,  # noqa: A002
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels: one draw per (example, channel) of an (N, C, ...) input
    (``F.feature_alpha_dropout``; ``training=False`` by default, as PyTorch's).

    Args:
        input: a floating tensor with at least 2 dimensions (N, C, ...).
        p: the probability of dropping a channel, in [0, 1].
        training: apply dropout (pass ``self.training``).
        inplace: write the result into ``input``.
    """
    return _alpha_dropout("feature_alpha_dropout", input, p, training, inplace, feature=True)


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """A differentiable sample of a categorical distribution: softmax((logits + g)/τ) along
    ``dim`` with g ~ Gumbel(0, 1) (g = −ln e, e ~ Exp(1)), the Gumbel-softmax of Jang et al.

    With ``hard=True`` the value is the one-hot vector of the sample's argmax (the Gumbel-max
    trick: a draw of softmax(logits)) while the gradient is the soft sample's (the
    straight-through estimator: y_hard − stop_gradient(y_soft) + y_soft).

    Args:
        logits: unnormalized log-probabilities (..., C, ...).
        tau: the temperature τ > 0 (small: nearly one-hot samples).
        hard: return one-hot samples with the soft gradient.
        eps: deprecated and unused (PyTorch warns when it is set).
        dim: the dimension of the categories.
    """
    x = _tensor(logits, "gumbel_softmax")
    require_float("gumbel_softmax", "logits", x)
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", UserWarning,
                      stacklevel=2)
    if tau <= 0:
        raise ValueError(f"gumbel_softmax: the temperature tau must be positive, got {tau}")
    axis = normalize_dim("gumbel_softmax", dim, x.ndim)
    with xp.errstate(divide="ignore"):
        gumbels = (-xp.log(rng().standard_exponential(size=x.shape))).astype(x.dtype)
    y_soft = softmax(mul(add(x, Tensor._from_op(gumbels, None, 0)), 1.0 / tau), axis)
    if not hard:
        return y_soft
    if x.ndim == 0:
        one_hot = xp.ones((), dtype=x.dtype)
    else:
        index = xp.argmax(y_soft.array, axis=axis)
        one_hot = xp.zeros(x.shape, dtype=x.dtype)
        xp.put_along_axis(one_hot, xp.expand_dims(index, axis), 1, axis=axis)
    return add(sub(Tensor._from_op(one_hot, None, 0), y_soft.detach()), y_soft)
