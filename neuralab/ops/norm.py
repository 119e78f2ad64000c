"""Normalization: batch normalization and local response normalization (Lectures 11-12).

Batch normalization standardizes each channel over the batch (and the spatial positions), then
rescales it with learned γ and β; it lets very deep networks train with large learning rates.
Local response normalization (AlexNet) divides each unit by the activity of its neighbours in
the channel dimension. Both have their backward written out, as derived in the course.

``BatchNorm`` below is the lecture's version (the reference kernel set); the fast one, which
keeps a convolution's memory layout and works in cache-sized blocks on several threads, is
``neuralab.kernels.norm`` (``nl.set_kernels("fast")``, the default).
"""

from __future__ import annotations

from typing import Any

from neuralab import kernels
from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.kernels import norm as fast_norm
from neuralab.ops._checks import require_float

__all__ = ["batch_norm", "local_response_norm"]


# ----------------------------------------------------------------------------- batch norm
class BatchNorm(Function):
    """y = γ ⊙ x̂ + β,  x̂ = (x − μ) / σ,  σ = √(var + ε), statistics per channel.

    Training: μ and var are the batch mean and (biased) variance over every axis but the
    channel axis (n values per channel), and the running statistics are updated in place:
        running_mean ← (1 − m)·running_mean + m·μ,
        running_var  ← (1 − m)·running_var  + m·var·n/(n − 1)   (unbiased, as PyTorch).
    Evaluation: μ, var are the running statistics (constants).

    Backward (training; the course's formula, μ and σ depend on x):
        x̄ = (1/n) · γ/σ · (n·ȳ − Σȳ − x̂ ⊙ Σ(ȳ ⊙ x̂)),
    evaluation: x̄ = γ/σ · ȳ. In both, γ̄ = Σ ȳ ⊙ x̂ and β̄ = Σ ȳ (sums over all but channels).

    With x̂ saved, the training backward reads  x̄ = (γ/σ) · (ȳ − mean(ȳ) − x̂ ⊙ mean(ȳ ⊙ x̂)),
    the means over the n values of each channel.
    """

    @staticmethod
    def check(x, *wb, has_weight, has_bias, running_mean, running_var, training, momentum, eps):
        require_float("batch_norm", "input", x)
        if x.ndim < 2:
            raise ValueError(f"batch_norm: input must be (N, C), (N, C, L) or (N, C, H, W), got "
                             f"shape {x.shape}")
        C = x.shape[1]
        names = [n for n, h in (("weight", has_weight), ("bias", has_bias)) if h]
        for name, t in zip(names, wb):
            if t.shape != (C,):
                raise ValueError(f"batch_norm: {name} must have shape ({C},) (one per channel of "
                                 f"the input {x.shape}), got {t.shape}")
        for name, r in (("running_mean", running_mean), ("running_var", running_var)):
            if r is not None and r.shape != (C,):
                raise ValueError(f"batch_norm: {name} must have shape ({C},), got {r.shape}; "
                                 f"the input {x.shape} has {C} channels (did the layer get "
                                 "num_features right?)")
        if not training and (running_mean is None or running_var is None):
            raise ValueError("batch_norm: evaluation mode needs running_mean and running_var; "
                             "pass training=True to use the batch statistics")
        if training and x.numel() // max(C, 1) <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                             f"got input shape {x.shape}; use a batch of at least 2")

    @staticmethod
    def forward(ctx, x, *wb, has_weight, has_bias, running_mean, running_var, training,
                momentum, eps):
        w = wb[0] if has_weight else None
        b = wb[-1] if has_bias else None
        n = x.size // x.shape[1]  # values per channel
        stats = None if training else (running_mean.astype(x.dtype), running_var.astype(x.dtype))
        ctx.fast, ctx.flags = kernels.fast(), (has_weight, has_bias)
        ctx.learner = kernels.learner("batch_norm") if training else None  # neuralab exercise
        if ctx.learner is not None:
            y, mean, var = ctx.learner.batch_norm_forward(ctx, x, w, b, stats, eps)
        elif ctx.fast:
            y, mean, var = fast_norm.batch_norm_forward(ctx, x, w, b, stats, eps)
        else:
            axes = (0,) + tuple(range(2, x.ndim))  # every axis but the channels
            mean, var = (x.mean(axis=axes), x.var(axis=axes)) if training else stats
            per_channel = (1, -1) + (1,) * (x.ndim - 2)  # broadcast a (C,) vector over x
            std = xp.sqrt(var + eps).astype(x.dtype)
            x_hat = (x - mean.reshape(per_channel)) / std.reshape(per_channel)
            y = x_hat if w is None else x_hat * w.reshape(per_channel)
            if b is not None:
                y = y + b.reshape(per_channel)
            ctx.x_hat, ctx.std, ctx.w, ctx.axes, ctx.training = x_hat, std, w, axes, training
        if training and running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean.astype(running_mean.dtype)
        if training and running_var is not None:
            running_var *= 1 - momentum
            running_var += momentum * (var * (n / (n - 1))).astype(running_var.dtype)
        return y

    @staticmethod
    def backward(ctx, dy):
        has_weight, has_bias = ctx.flags
        if ctx.learner is not None:
            dx, dw, db = ctx.learner.batch_norm_backward(ctx, dy)
        elif ctx.fast:
            dx, dw, db = fast_norm.batch_norm_backward(ctx, dy)
        else:
            x_hat, std, w, axes = ctx.x_hat, ctx.std, ctx.w, ctx.axes
            per_channel = (1, -1) + (1,) * (x_hat.ndim - 2)
            dx_hat = dy if w is None else dy * w.reshape(per_channel)  # x̂̄ = ȳ ⊙ γ
            if ctx.training:  # μ and σ depend on x
                dx_hat = (dx_hat - dx_hat.mean(axis=axes, keepdims=True)
                          - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True))
            dx = dx_hat / std.reshape(per_channel)
            dw, db = (dy * x_hat).sum(axis=axes), dy.sum(axis=axes)  # γ̄ = Σ ȳ ⊙ x̂,  β̄ = Σ ȳ
        return (dx,) + ((dw,) if has_weight else ()) + ((db,) if has_bias else ())


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalization, as ``torch.nn.functional.batch_norm``.

    Lecture 12 (and Ioffe & Szegedy, 2015): each channel is standardized with the statistics
    of the current batch while training, and with running averages of them at test time.

    Args:
        input: (N, C), (N, C, L) or (N, C, H, W).
        running_mean, running_var: (C,) tensors updated in place when training (or None).
        weight, bias: γ and β, (C,) each, or None.
        training: use (and record) the batch statistics; otherwise use the running ones.
        momentum: m in running ← (1 − m)·running + m·batch statistic.
        eps: ε added to the variance.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"batch_norm: input must be a Tensor, got {type(input).__name__}")
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)):
        raise TypeError(f"batch_norm: momentum must be a number, got {momentum!r}")
    inputs = [input] + [t for t in (weight, bias) if t is not None]
    return BatchNorm.apply(
        *inputs, has_weight=weight is not None, has_bias=bias is not None,
        running_mean=None if running_mean is None else running_mean.array,
        running_var=None if running_var is None else running_var.array,
        training=bool(training), momentum=float(momentum), eps=float(eps))


# ----------------------------------------------------------------------------- LRN
def _channel_window_sum(a: Any, before: int, after: int) -> Any:
    """s[:, c] = Σ_{c' = c − before}^{c + after} a[:, c'] (zero outside the channels).

    One shifted add per neighbour offset (a handful), each vectorized over everything else.
    """
    out = a.copy()
    for o in range(1, before + 1):
        out[:, o:] += a[:, :-o]
    for o in range(1, after + 1):
        out[:, :-o] += a[:, o:]
    return out


class LocalResponseNorm(Function):
    """y_c = x_c / D_c^β,  D_c = k + (α/n) Σ_{c' ∈ window(c)} x_{c'}²  (AlexNet; PyTorch's form).

    window(c) = [c − ⌊n/2⌋, c + ⌊(n − 1)/2⌋] over channels, zero beyond the edges.
    Backward: x̄_j = ȳ_j D_j^−β − (2αβ/n) x_j Σ_{c : j ∈ window(c)} ȳ_c x_c D_c^(−β−1).
    """

    @staticmethod
    def check(x, *, size, alpha, beta, k):
        require_float("local_response_norm", "input", x)
        if x.ndim < 3:
            raise ValueError(f"local_response_norm: input must have at least 3 dimensions "
                             f"(N, C, ...), got shape {x.shape}")

    @staticmethod
    def forward(ctx, x, *, size, alpha, beta, k):
        d = k + (alpha / size) * _channel_window_sum(x * x, size // 2, (size - 1) // 2)  # D
        d_pow = d ** -beta  # D^−β
        ctx.x, ctx.d, ctx.d_pow, ctx.params = x, d, d_pow, (size, alpha, beta)
        return x * d_pow

    @staticmethod
    def backward(ctx, dy):
        x, d, d_pow = ctx.x, ctx.d, ctx.d_pow
        size, alpha, beta = ctx.params
        inner = dy * x * d_pow / d  # ȳ_c x_c D_c^(−β−1)
        # j is in window(c) exactly when c is in [j − ⌊(n−1)/2⌋, j + ⌊n/2⌋]: the reversed window.
        spread = _channel_window_sum(inner, (size - 1) // 2, size // 2)
        return (dy * d_pow - (2 * alpha * beta / size) * x * spread,)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Local response normalization across channels, as ``torch.nn.functional.local_response_norm``.

    Lecture 12 (AlexNet, Krizhevsky et al. 2012): units compete with their neighbours in
    nearby channels, y_c = x_c / (k + α/n · Σ_{window} x²)^β.

    Args:
        input: (N, C, ...) with at least 3 dimensions.
        size: n, the number of neighbouring channels in the window.
        alpha, beta, k: the constants of the formula.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"local_response_norm: size must be a positive int, got {size!r}")
    return LocalResponseNorm.apply(input, size=size, alpha=float(alpha), beta=float(beta),
                                   k=float(k))
