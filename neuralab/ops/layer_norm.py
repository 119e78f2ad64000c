"""Layer normalization (Ba, Kiros & Hinton, 2016): batch norm's standardization taken over the
features of each example instead of over the batch (Lecture 11's normalization, as used in
recurrent networks, where batch statistics change from time step to time step).

Each example is standardized over its last D dimensions (the ``normalized_shape``), so the result
does not depend on the other examples of the batch, and training and evaluation compute the same
thing (there are no running statistics).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import require_float

__all__ = ["layer_norm"]


class LayerNorm(Function):
    """y = γ ⊙ x̂ + β,  x̂ = (x − μ) / √(σ² + ε), with μ and σ² (biased) the mean and variance of
    each example over its last D dimensions (M numbers); γ, β have those D dimensions' shape.

    Backward (μ and σ depend on x; means over the same M numbers):
        ĝ = ȳ ⊙ γ,
        x̄ = (1/σ) · (ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂)),
        γ̄ = Σ_batch ȳ ⊙ x̂,   β̄ = Σ_batch ȳ   (sums over the leading dimensions).
    The same derivation as batch norm's x̄ (Lecture 11), with the roles of batch and features
    exchanged.
    """

    @staticmethod
    def check(x, *wb, normalized_shape, has_weight, has_bias, eps):
        require_float("layer_norm", "input", x)
        D = len(normalized_shape)
        if tuple(x.shape[x.ndim - D:]) != tuple(normalized_shape) or x.ndim < D:
            raise ValueError(f"layer_norm: the input's last {D} dimensions must be "
                             f"normalized_shape {tuple(normalized_shape)}, got input shape "
                             f"{tuple(x.shape)}")
        names = [n for n, h in (("weight", has_weight), ("bias", has_bias)) if h]
        for name, t in zip(names, wb):
            if tuple(t.shape) != tuple(normalized_shape):
                raise ValueError(f"layer_norm: {name} must have shape {tuple(normalized_shape)} "
                                 f"(normalized_shape), got {tuple(t.shape)}")

    @staticmethod
    def forward(ctx, x, *wb, normalized_shape, has_weight, has_bias, eps):
        w = wb[0] if has_weight else None
        b = wb[-1] if has_bias else None
        axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
        mean = x.mean(axis=axes, keepdims=True)  # μ per example
        xc = x - mean
        inv_std = 1.0 / xp.sqrt((xc * xc).mean(axis=axes, keepdims=True) + eps)  # 1/σ
        x_hat = xc * inv_std.astype(x.dtype)
        y = x_hat if w is None else x_hat * w
        if b is not None:
            y = y + b
        ctx.x_hat, ctx.inv_std, ctx.w, ctx.axes = x_hat, inv_std.astype(x.dtype), w, axes
        ctx.flags = has_weight, has_bias
        return y

    @staticmethod
    def backward(ctx, dy):
        x_hat, inv_std, w, axes = ctx.x_hat, ctx.inv_std, ctx.w, ctx.axes
        has_weight, has_bias = ctx.flags
        batch_axes = tuple(range(dy.ndim - len(axes)))
        grads = [None]
        if ctx.needs_input_grad[0]:
            g = dy if w is None else dy * w  # ĝ = ȳ ⊙ γ
            grads[0] = inv_std * (g - g.mean(axis=axes, keepdims=True)
                                  - x_hat * (g * x_hat).mean(axis=axes, keepdims=True))
        if has_weight:
            grads.append((dy * x_hat).sum(axis=batch_axes))
        if has_bias:
            grads.append(dy.sum(axis=batch_axes))
        return tuple(grads)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Layer normalization over the last dimensions, as ``torch.nn.functional.layer_norm``.

    Args:
        input: (..., *normalized_shape).
        normalized_shape: the shape of the trailing dimensions to standardize over (an int for
            the last dimension alone).
        weight, bias: γ and β of shape ``normalized_shape``, or None.
        eps: ε added to the variance.
    """
    shape = normalized_shape_tuple(normalized_shape)
    if not isinstance(eps, (int, float)) or isinstance(eps, bool) or not eps >= 0:
        raise ValueError(f"layer_norm: eps must be a non-negative number, got {eps!r}")
    wb = [t for t in (weight, bias) if t is not None]
    return LayerNorm.apply(input, *wb, normalized_shape=shape, has_weight=weight is not None,
                           has_bias=bias is not None, eps=float(eps))


def normalized_shape_tuple(normalized_shape: Any) -> tuple[int, ...]:
    """``normalized_shape`` (an int or a sequence of positive ints) as a tuple; ValueError else."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
    try:
        shape = tuple(shape)
    except TypeError:
        shape = None
    if not shape or any(isinstance(s, bool) or not isinstance(s, (int, xp.integer)) or s < 1
                        for s in shape):
        raise ValueError(f"layer_norm: normalized_shape must be a positive int or a non-empty "
                         f"tuple of them, got {normalized_shape!r}")
    return tuple(int(s) for s in shape)
