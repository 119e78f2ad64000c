"""Robust regression, divergence and likelihood losses: smooth L1, Huber, KL divergence, and the
Poisson and Gaussian negative log-likelihoods (PyTorch's ``F.smooth_l1_loss`` and the rest).

Each is a pointwise loss ℓ(x, y, ...) over the inputs' broadcast shape, reduced as in
``ops.loss`` ('none' keeps it, 'sum' adds it, 'mean' averages it over every element). The
backward pass is the pointwise partial derivative ∂ℓ/∂input scaled by the reduction's gradient
(z̄ per element, z̄, or z̄/n) and summed back over broadcast dimensions.

Smooth L1 and Huber are the squared error of Lecture 2 near zero and the absolute error far from
it, so an outlier's gradient is bounded. Poisson and Gaussian NLL are the maximum-likelihood
losses of count and heteroscedastic real-valued targets (Lecture 3's "loss = −log p(t | y)").
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from neuralab.autograd.function import Function, unbroadcast
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import broadcast_shape, require_float
from neuralab.ops.loss import _check_pair, _grad_scale, _reduce, check_reduction

__all__ = ["smooth_l1_loss", "huber_loss", "kl_div", "poisson_nll_loss", "gaussian_nll_loss"]


def legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """PyTorch's deprecated ``size_average``/``reduce`` flags turned into a ``reduction``.

    Either flag set (not None) overrides ``reduction``: reduce=False gives 'none', otherwise
    size_average=False gives 'sum' and the rest 'mean'; PyTorch warns, and so do we.
    """
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    result = "none" if not reduce else ("mean" if size_average else "sum")
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{result}' instead.", UserWarning, stacklevel=3)
    return result


def to_tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(value)


def float_target(target: Tensor, like: Tensor) -> Tensor:
    """Integer or boolean targets (labels ±1, counts) as constants of the input's dtype."""
    if target.dtype.kind in "biu" and like.dtype.kind == "f":
        return Tensor(target.array.astype(like.dtype))
    return target


class PointwiseLoss(Function):
    """ℓ = f(a₁, ..., a_k) elementwise over the broadcast shape of the inputs, then reduced.

    A subclass gives ``value(*arrays, **params)`` (the per-element loss) and
    ``partials(*arrays, **params)`` (∂ℓ/∂aᵢ per input, None for an input without gradient).
    aᵢ̄ = unbroadcast(g ⊙ ∂ℓ/∂aᵢ) with g the reduction's gradient; ``norm`` replaces the element
    count in the mean (KL's 'batchmean' divides by the batch size).
    """

    op = ""
    names = ("input", "target")

    @classmethod
    def check(cls, *inputs, reduction="mean", norm=None, **params):
        for name, t in zip(cls.names, inputs):
            require_float(cls.op, name, t)
        broadcast_shape(cls.op, *(t.shape for t in inputs))

    @classmethod
    def forward(cls, ctx, *arrays, reduction="mean", norm=None, **params):
        with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
            loss = xp.asarray(cls.value(*arrays, **params))
        dtype = xp.result_type(*arrays)
        shape = xp.broadcast_shapes(*(a.shape for a in arrays))
        if loss.shape != shape:
            loss = xp.broadcast_to(loss, shape).copy()
        ctx.arrays, ctx.params, ctx.reduction, ctx.shape = arrays, params, reduction, shape
        ctx.norm = loss.size if norm is None else norm
        return _reduce(loss.astype(dtype, copy=False), reduction, ctx.norm)

    @classmethod
    def backward(cls, ctx, dout):
        arrays = ctx.arrays
        g = _grad_scale(dout, ctx.reduction, ctx.norm)
        with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
            partials = cls.partials(*arrays, **ctx.params)
        grads = []
        for a, d, needed in zip(arrays, partials, ctx.needs_input_grad):
            if not needed or d is None:
                grads.append(None)
                continue
            full = xp.broadcast_to(g * d, ctx.shape)
            grads.append(unbroadcast(full, a.shape).astype(a.dtype, copy=False))
        return tuple(grads)


class SmoothL1(PointwiseLoss):
    """ℓ = ½d²/β if |d| < β else |d| − ½β, d = x − y (β = 0: ℓ = |d|).

    x̄ = g · (d/β if |d| < β else sign d),  ȳ = −x̄.
    """

    op = "smooth_l1_loss"

    @staticmethod
    def value(x, y, beta=1.0):
        d = x - y
        a = xp.abs(d)
        if beta == 0:
            return a
        return xp.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)

    @staticmethod
    def partials(x, y, beta=1.0):
        d = x - y
        dx = xp.sign(d) if beta == 0 else xp.where(xp.abs(d) < beta, d / beta, xp.sign(d))
        return dx, -dx


class Huber(PointwiseLoss):
    """ℓ = w · (½d² if |d| < δ else δ(|d| − ½δ)), d = x − y: δ·SmoothL1 with β = δ.

    x̄ = g w clip(d, −δ, δ),  ȳ = −x̄,  w̄ = g ℓ/w (the unweighted loss).
    """

    op = "huber_loss"
    names = ("input", "target", "weight")

    @staticmethod
    def value(x, y, *weight, delta=1.0):
        a = xp.abs(x - y)
        loss = xp.where(a < delta, 0.5 * a * a, delta * (a - 0.5 * delta))
        return loss * weight[0] if weight else loss

    @staticmethod
    def partials(x, y, *weight, delta=1.0):
        dx = xp.clip(x - y, -delta, delta)
        if not weight:
            return dx, -dx
        w = weight[0]
        return dx * w, -dx * w, Huber.value(x, y, delta=delta)


class KLDiv(PointwiseLoss):
    """ℓ = y (log y − x) for log-probabilities x and probabilities y (0 where y = 0), or
    ℓ = eʸ (y − x) when the target is given as log-probabilities (``log_target``).

    x̄ = −g y (−g eʸ);  ȳ = g (log y + 1 − x) (g eʸ (y − x + 1)); at y = 0 the target's gradient
    is −∞ (PyTorch's is nan).
    """

    op = "kl_div"

    @staticmethod
    def value(x, y, log_target=False):
        if log_target:
            return xp.exp(y) * (y - x)
        ylogy = xp.where(y == 0, 0, y * xp.log(y))  # xlogy(y, y): 0 log 0 = 0
        return ylogy - y * x

    @staticmethod
    def partials(x, y, log_target=False):
        if log_target:
            e = xp.exp(y)
            return -e, e * (y - x + 1)
        return -y, xp.log(y) + 1 - x


class PoissonNLL(PointwiseLoss):
    """ℓ = eˣ − y x (``log_input``: x is log λ) or λ − y log(λ + eps) (x = λ), plus with ``full``
    Stirling's approximation of log y!: y log y − y + ½ log(2πy), where y > 1 (0 elsewhere).

    x̄ = g (eˣ − y) or g (1 − y/(λ + eps));  ȳ = −g x or −g log(λ + eps), plus
    g (log y + 1/(2y)) where y > 1 with ``full``.
    """

    op = "poisson_nll_loss"

    @staticmethod
    def value(x, y, log_input=True, full=False, eps=1e-8):
        loss = xp.exp(x) - y * x if log_input else x - y * xp.log(x + eps)
        if full:
            safe = xp.where(y > 1, y, 1)
            stirling = safe * xp.log(safe) - safe + 0.5 * xp.log(2 * math.pi * safe)
            loss = loss + xp.where(y > 1, stirling, 0)
        return loss

    @staticmethod
    def partials(x, y, log_input=True, full=False, eps=1e-8):
        if log_input:
            dx, dy = xp.exp(x) - y, -x
        else:
            dx, dy = 1 - y / (x + eps), -xp.log(x + eps)
        if full:
            safe = xp.where(y > 1, y, 1)
            dy = dy + xp.where(y > 1, xp.log(safe) + 0.5 / safe, 0)
        return dx, dy


class GaussianNLL(PointwiseLoss):
    """ℓ = ½ (log v + (x − y)²/v) (+ ½ log 2π with ``full``), v = max(var, eps).

    x̄ = g (x − y)/v,  ȳ = −x̄,  var̄ = ½ g (1/v − (x − y)²/v²). As in PyTorch the clamp is
    applied without gradient: var's gradient is that formula even where var < eps.
    """

    op = "gaussian_nll_loss"
    names = ("input", "target", "var")

    @staticmethod
    def value(x, y, var, full=False, eps=1e-6):
        v = xp.maximum(var, eps)
        d = x - y
        loss = 0.5 * (xp.log(v) + d * d / v)
        return loss + 0.5 * math.log(2 * math.pi) if full else loss

    @staticmethod
    def partials(x, y, var, full=False, eps=1e-6):
        v = xp.maximum(var, eps)
        d = x - y
        return d / v, -d / v, 0.5 * (1 / v - d * d / (v * v))


# --------------------------------------------------------------------------- user-facing functions


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None,  # noqa: A002
                   reduce: bool | None = None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """Smooth L1 loss: ½(x − y)²/β where |x − y| < β, |x − y| − ½β elsewhere (beta=0: L1).

    The squared error near the target and the absolute error beyond β, so that the gradient of
    an outlier is bounded by 1 (Fast R-CNN's box regression loss).

    Args:
        input, target: tensors of the same shape.
        size_average, reduce: deprecated; set ``reduction`` instead.
        reduction: 'mean', 'sum' or 'none'.
        beta: the width β ≥ 0 of the quadratic zone.
    """
    op = "smooth_l1_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(op, reduction)
    if beta < 0:
        raise ValueError(f"{op}: beta must be non-negative (smooth_l1_loss does not support "
                         f"negative values for beta), got {beta}")
    x, y = to_tensor(input), to_tensor(target)
    _check_pair(op, x, y)
    return SmoothL1.apply(x, y, reduction=reduction, beta=float(beta))


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",  # noqa: A002
               delta: float = 1.0, weight: Tensor | None = None) -> Tensor:
    """Huber loss: ½(x − y)² where |x − y| < δ, δ(|x − y| − ½δ) elsewhere.

    Equal to δ · smooth_l1_loss with β = δ: the gradient is x − y clipped to [−δ, δ].

    Args:
        input, target: tensors of the same shape.
        reduction: 'mean', 'sum' or 'none'.
        delta: the threshold δ > 0 between the quadratic and the linear zone.
        weight: optional per-element weights of the input's shape (the 'mean' stays a plain
            mean of the weighted losses, as in PyTorch).
    """
    op = "huber_loss"
    check_reduction(op, reduction)
    if not delta > 0:
        raise ValueError(f"{op}: delta must be positive (huber_loss does not support "
                         f"non-positive values for delta), got {delta}")
    x, y = to_tensor(input), to_tensor(target)
    _check_pair(op, x, y)
    extra = ()
    if weight is not None:
        w = to_tensor(weight)
        if w.shape != x.shape:
            raise ValueError(f"{op}: weight must have the input's shape {x.shape} (weights and "
                             f"input must have the same size), got {w.shape}")
        extra = (w,)
    return Huber.apply(x, y, *extra, reduction=reduction, delta=float(delta))


_KL_MEAN_WARNING = (
    "reduction: 'mean' divides the total loss by both the batch size and the support size."
    "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
    "'mean' will be changed to behave the same as 'batchmean' in the next major release."
)


def kl_div(input: Tensor, target: Tensor, size_average: bool | None = None,  # noqa: A002
           reduce: bool | None = None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """The Kullback-Leibler divergence KL(target ‖ p) of log-probabilities ``input`` = log p.

    ℓ = y (log y − x) pointwise (eʸ(y − x) with ``log_target``); the true divergence of
    distributions along dim 1 is ``reduction='batchmean'``: the sum divided by the batch size.

    Args:
        input: log-probabilities (e.g. ``log_softmax`` output).
        target: probabilities (log-probabilities with ``log_target=True``), broadcasting with
            ``input``.
        size_average, reduce: deprecated; set ``reduction`` instead.
        reduction: 'batchmean' (sum / input.size(0)), 'mean' (over every element; PyTorch warns
            that this is not the divergence), 'sum' or 'none'.
        log_target: whether ``target`` holds log-probabilities.
    """
    op = "kl_div"
    x, y = to_tensor(input), to_tensor(target)
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn(_KL_MEAN_WARNING, UserWarning, stacklevel=2)
    if reduction != "batchmean":
        check_reduction(op, reduction)
    norm = None
    if reduction == "batchmean":
        reduction = "mean" if x.ndim else "sum"
        norm = x.shape[0] if x.ndim else None
    return KLDiv.apply(x, y, reduction=reduction, norm=norm, log_target=bool(log_target))


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True,  # noqa: A002
                     full: bool = False, size_average: bool | None = None, eps: float = 1e-8,
                     reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of count targets under a Poisson distribution of rate λ.

    ℓ = eˣ − y x with ``log_input`` (input x = log λ, the stable choice), λ − y log(λ + eps)
    otherwise; ``full`` adds Stirling's approximation of log y! (for y > 1).

    Args:
        input: log-rates (``log_input=True``) or rates.
        target: counts, broadcasting with ``input``.
        log_input: whether ``input`` is log λ.
        full: add the Stirling term y log y − y + ½ log(2πy).
        size_average, reduce: deprecated; set ``reduction`` instead.
        eps: added to λ inside the log when ``log_input`` is False.
        reduction: 'mean', 'sum' or 'none'.
    """
    op = "poisson_nll_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(op, reduction)
    x = to_tensor(input)
    y = float_target(to_tensor(target), x)
    return PoissonNLL.apply(x, y, reduction=reduction, log_input=bool(log_input),
                            full=bool(full), eps=float(eps))


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float,  # noqa: A002
                      full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of targets under Gaussians of mean ``input`` and variance ``var``.

    ℓ = ½ (log max(var, eps) + (x − y)²/max(var, eps)) (+ ½ log 2π with ``full``).

    Args:
        input: the predicted means.
        target: the targets, broadcasting with ``input``.
        var: the predicted variances (non-negative): the input's shape (heteroscedastic), or
            one dimension short of it, or the input's shape with a single dimension of size 1
            (one variance shared along it); a float is one variance for every element.
        full: add the constant ½ log 2π.
        eps: the variance's lower clamp (applied without gradient, as in PyTorch).
        reduction: 'mean', 'sum' or 'none'.
    """
    op = "gaussian_nll_loss"
    x, y = to_tensor(input), to_tensor(target)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"{op}: var has negative entry/entries: got {var}; variances must "
                             "be non-negative")
        v = Tensor(xp.full(x.shape, float(var), dtype=x.dtype if x.dtype.kind == "f" else None))
    else:
        v = to_tensor(var)
        require_float(op, "var", v)
        if v.array.size and (v.array < 0).any():
            raise ValueError(f"{op}: var has negative entry/entries (min {v.array.min():.4g}); "
                             "variances must be non-negative (predict log-variances and exp "
                             "them, or use softplus)")
    if v.shape != x.shape:
        if x.shape[:-1] == v.shape:  # one variance per row: (N, D) means, (N,) variances
            v = v.reshape(v.shape + (1,))
        elif not (v.ndim == x.ndim
                  and sum(b for a, b in zip(x.shape, v.shape) if a != b) == 1):
            raise ValueError(
                f"{op}: var is of incorrect size: var of shape {v.shape} for input of shape "
                f"{x.shape}; it must be the input's shape, the input's shape without the last "
                "dimension, or the input's shape with one dimension of size 1")
    check_reduction(op, reduction)
    return GaussianNLL.apply(x, y, v, reduction=reduction, full=bool(full), eps=float(eps))
