"""Normalization: batch normalization and local response normalization (Lectures 11-12).

Batch normalization standardizes each channel over the batch (and the spatial positions), then
rescales it with learned γ and β; it lets very deep networks train with large learning rates.
Local response normalization (AlexNet) divides each unit by the activity of its neighbours in
the channel dimension. Both have their backward written out, as derived in the course.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import require_float
from neuralab.ops._layout import axis_order
from neuralab.parallel import run_chunks

__all__ = ["batch_norm", "local_response_norm"]


# ----------------------------------------------------------------------------- batch norm
# Batch norm applies per-channel vectors (μ, 1/σ, γ, β) to every pixel. In channels-last memory
# (a convolution's output) the channels are innermost, so a plain NumPy broadcast runs its inner
# loop over only C numbers (16 in ResNet's first stage), several times slower than memory speed.
# _ChannelView instead sees the pixels as rows of k pixels × C channels, about this many numbers
# long, against vectors repeated k times.
_ROW_NUMBERS = 1024
# A pass that needs a temporary ((x − μ)², ȳ ⊙ (x − μ)) goes through x in blocks of about this
# many bytes, so that the temporary stays in the cache (and no full-size one is allocated).
_BLOCK_BYTES = 512 << 10
# Inputs from this size on have their blocks shared between threads (neuralab.parallel); on
# smaller ones the hand-offs cost more than the second core gives back (measured).
_PARALLEL_BYTES = 4 << 20


class _ChannelView:
    """x (N, C, ...) seen as a 3-D array (P, k·C, Q): axis 1 runs over the channels (k times).

    The view follows x's memory, so it is a view and not a copy whenever the channels are the
    innermost axis of memory (a channels-last convolution's output, or a plain (N, C) batch:
    (pixels/k, k·C, 1), with k a power of two dividing the number of pixels) or the outermost
    (a batch-last convolution's output: (1, C, pixels)). Other layouts are copied to
    (N, C, pixels per image).
    """

    def __init__(self, x: Any):
        C = x.shape[1]
        order = axis_order(x)
        memory = x.transpose(order)  # x's axes in memory order
        if not memory.flags.c_contiguous or order[0] != 1 and order[-1] != 1:
            order = tuple(range(x.ndim))
            memory = xp.ascontiguousarray(x)
        self.order, self.memory_shape = order, memory.shape
        self.k = 1
        if order[-1] == 1 and x.ndim > 1:  # channels innermost
            pixels = memory.size // max(C, 1)
            longest = 1 << max(0, (_ROW_NUMBERS // max(C, 1)).bit_length() - 1)
            self.k = math.gcd(pixels, longest)
            self.v = memory.reshape(pixels // self.k, self.k * C, 1)
        elif order[0] == 1:  # channels outermost
            self.v = memory.reshape(1, C, -1)
        else:  # C order (N, C, ...)
            self.v = memory.reshape(x.shape[0], C, -1)
        self.shape = x.shape

    def like(self, a: Any) -> Any:
        """Another array of x's shape (a gradient) in the view (copied if its layout differs)."""
        return xp.ascontiguousarray(a.transpose(self.order)).reshape(self.v.shape)

    def unview(self, a: Any) -> Any:
        """An array in the view back to x's shape (N, C, ...), keeping the view's memory."""
        return a.reshape(self.memory_shape).transpose(xp.argsort(self.order))

    def tile(self, vector: Any) -> Any:
        """A per-channel vector (C,) broadcastable against the view: (1, k·C, 1)."""
        return xp.tile(vector, self.k).reshape(1, -1, 1)

    def total(self, a: Any) -> Any:
        """Σ over everything but the channels of an array in the view (or a block of it): (C,)."""
        P, L, Q = a.shape
        if Q == 1:  # a matrix-vector product with ones: the BLAS sums rows at memory speed
            sums = xp.ones(P, dtype=a.dtype) @ a.reshape(P, L)
        else:
            sums = a.sum(axis=(0, 2))
        return sums.reshape(self.k, -1).sum(axis=0)

    def blocks(self) -> list[slice]:
        """Slices of the view's first axis, each about _BLOCK_BYTES."""
        P, L, Q = self.v.shape
        step = max(1, _BLOCK_BYTES // max(1, L * Q * self.v.itemsize))
        return [slice(p, p + step) for p in range(0, P, step)] or [slice(0, 0)]

    def over_blocks(self, work: Callable[[list[slice]], Any]) -> list[Any]:
        """``work(blocks)`` on runs of consecutive blocks, one run per thread."""
        blocks = self.blocks()
        if self.v.nbytes < _PARALLEL_BYTES:
            return [work(blocks)]
        return run_chunks(len(blocks), lambda b0, b1: work(blocks[b0:b1]))

    def mean_and_var(self) -> tuple[Any, Any]:
        """The per-channel mean and biased variance of x, in one pass over memory.

        The sums are taken about a shift K, the mean of the first block, which is close to the
        mean, so that no precision is lost: with S₁ = Σ (x − K) and S₂ = Σ (x − K)² over n
        values, μ = K + S₁/n and var = S₂/n − (S₁/n)².
        """
        C = self.shape[1]
        first = self.v[self.blocks()[0]]
        shift = self.total(first) / first.dtype.type(max(1, first.size // max(C, 1)))
        shift_t = self.tile(shift)

        def work(blocks: list[slice]) -> tuple[Any, Any]:
            scratch = xp.empty_like(self.v[blocks[0]])
            s1 = xp.zeros(C, dtype=self.v.dtype)
            s2 = xp.zeros(C, dtype=self.v.dtype)
            for rows in blocks:
                t = scratch[:self.v[rows].shape[0]]
                xp.subtract(self.v[rows], shift_t, out=t)
                s1 += self.total(t)
                t *= t
                s2 += self.total(t)
            return s1, s2

        parts = self.over_blocks(work)
        n = max(1, self.v.size // max(C, 1))
        offset = sum(p[0] for p in parts) / n  # μ − K
        var = sum(p[1] for p in parts) / n - offset * offset
        return shift + offset, xp.maximum(var, 0)

    def grad_sums(self, mean: Any, d: Any) -> tuple[Any, Any]:
        """Σ ȳ and Σ ȳ ⊙ (x − μ) per channel (ȳ = d, in the view), in one pass over memory."""
        mean_t = self.tile(mean)

        def work(blocks: list[slice]) -> tuple[Any, Any]:
            scratch = xp.empty_like(self.v[blocks[0]])
            sum_d = xp.zeros(self.shape[1], dtype=self.v.dtype)
            sum_dx = xp.zeros(self.shape[1], dtype=self.v.dtype)
            for rows in blocks:
                t = scratch[:self.v[rows].shape[0]]
                sum_d += self.total(d[rows])
                xp.subtract(self.v[rows], mean_t, out=t)
                t *= d[rows]
                sum_dx += self.total(t)
            return sum_d, sum_dx

        parts = self.over_blocks(work)
        return sum(p[0] for p in parts), sum(p[1] for p in parts)

    def affine_of_centered(self, mean: Any, scale: Any, shift: Any = None,
                           minus: Any = None, minus_scale: Any = None) -> Any:
        """(x − μ)·scale + shift per channel, block by block, in the view's layout.

        With ``minus``: minus·minus_scale − ((x − μ)·scale + shift) instead (batch norm's x̄).
        """
        mean_t, scale_t = self.tile(mean), self.tile(scale)
        shift_t = None if shift is None else self.tile(shift)
        minus_t = None if minus is None else self.tile(minus_scale)
        out = xp.empty_like(self.v)

        def work(blocks: list[slice]) -> None:
            scratch = xp.empty_like(self.v[blocks[0]]) if minus is not None else None
            for rows in blocks:
                o = out[rows]
                t = o if minus is None else scratch[:o.shape[0]]
                xp.subtract(self.v[rows], mean_t, out=t)
                t *= scale_t
                if shift_t is not None:
                    t += shift_t
                if minus is not None:
                    xp.multiply(minus[rows], minus_t, out=o)
                    o -= t

        self.over_blocks(work)
        return out


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

    Computed as PyTorch does, from x, μ and 1/σ (x̂ is never stored): the forward pass reads x
    twice (the statistics, then y) and the backward pass x and ȳ twice (the sums, then x̄).
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
        if training and x.size // max(C, 1) <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                             f"got input shape {x.shape}; use a batch of at least 2")

    @staticmethod
    def forward(ctx, x, *wb, has_weight, has_bias, running_mean, running_var, training,
                momentum, eps):
        w = wb[0] if has_weight else None
        b = wb[-1] if has_bias else None
        view = _ChannelView(x)
        n = x.size // x.shape[1]
        if training:
            mean, var = view.mean_and_var()
            if running_mean is not None:
                running_mean *= 1 - momentum
                running_mean += momentum * mean.astype(running_mean.dtype)
            if running_var is not None:
                running_var *= 1 - momentum
                running_var += momentum * (var * (n / (n - 1))).astype(running_var.dtype)
        else:
            mean, var = running_mean.astype(x.dtype), running_var.astype(x.dtype)
        inv_std = (1.0 / xp.sqrt(var + eps)).astype(x.dtype)  # 1/σ per channel
        scale = inv_std if w is None else w * inv_std  # γ/σ
        y = view.affine_of_centered(mean, scale, b)
        ctx.view, ctx.mean, ctx.inv_std, ctx.w, ctx.training = view, mean, inv_std, w, training
        ctx.flags = has_weight, has_bias
        return view.unview(y)

    @staticmethod
    def backward(ctx, dy):
        view, mean, inv_std, w = ctx.view, ctx.mean, ctx.inv_std, ctx.w
        has_weight, has_bias = ctx.flags
        n = view.v.size // max(view.shape[1], 1)
        d = view.like(dy)
        needs_x = ctx.needs_input_grad[0]
        sum_dy, sum_dy_xc = view.grad_sums(mean, d)  # Σ ȳ, Σ ȳ ⊙ (x − μ)
        sum_dy_xhat = sum_dy_xc * inv_std  # Σ ȳ ⊙ x̂
        grads = [None]
        if needs_x:
            scale = inv_std if w is None else w * inv_std  # γ/σ
            if ctx.training:
                # x̄ = γ/σ·ȳ − ((x − μ)·γ/σ²·Σȳx̂/n + γ/σ·Σȳ/n)
                dx = view.affine_of_centered(mean, scale * inv_std * sum_dy_xhat / n,
                                             scale * sum_dy / n, minus=d, minus_scale=scale)
            else:
                dx = d * view.tile(scale)
            grads[0] = view.unview(dx)
        if has_weight:
            grads.append(sum_dy_xhat)
        if has_bias:
            grads.append(sum_dy)
        return tuple(grads)


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
        running_mean=None if running_mean is None else running_mean.data,
        running_var=None if running_var is None else running_var.data,
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
