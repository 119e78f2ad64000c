"""Group, instance and RMS normalization: layer norm's standardization (Lecture 11) over other
sets of numbers, each independent of the rest of the batch.

* Group normalization (Wu & He, 2018) splits the C channels of each example into G groups and
  standardizes each group over its channels and positions; G = 1 is layer norm over (C, ...),
  G = C is instance normalization. It works with batches of one, where batch norm cannot.
* Instance normalization (Ulyanov et al., 2016; style transfer) standardizes every channel of
  every example over its positions alone, optionally keeping running averages of the statistics
  as batch norm does.
* RMS normalization (Zhang & Sennrich, 2019) divides by the root mean square of the last
  dimensions without subtracting the mean: y = x / √(mean(x²) + ε) ⊙ γ.

Group norm and RMS norm have their backward written out; instance norm is group norm with one
group per channel (and batch norm with the running statistics when it does not use the input's).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import require_float
from neuralab.ops.layer_norm import normalized_shape_tuple
from neuralab.ops.norm import batch_norm
from neuralab.ops.shuffle import check_factor

__all__ = ["group_norm", "instance_norm", "rms_norm"]


def check_eps(op: str, eps: Any) -> float:
    """A non-negative number ``eps`` as a float, or an error naming ``op``."""
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps >= 0:
        raise ValueError(f"{op}: eps must be a non-negative number, got {eps!r}")
    return float(eps)


# ----------------------------------------------------------------------------- group norm
class GroupNorm(Function):
    """y = γ_c x̂ + β_c,  x̂ = (x − μ_g) / √(σ²_g + ε), with μ_g and σ²_g (biased) the mean and
    variance of each example's group g of C/G channels over those channels and every position
    (M numbers); γ and β are per channel.

    Backward (layer norm's, inside each group; means over the M numbers of the group):
        ĝ = ȳ ⊙ γ,
        x̄ = (1/σ_g) · (ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂)),
        γ̄_c = Σ ȳ ⊙ x̂,   β̄_c = Σ ȳ   (sums over the batch and the positions).
    """

    @staticmethod
    def check(x, *wb, num_groups, has_weight, has_bias, eps):
        require_float("group_norm", "input", x)
        if x.ndim < 2:
            raise ValueError(f"group_norm: input must be (N, C, ...) with at least 2 dimensions, "
                             f"got shape {tuple(x.shape)}")
        C = x.shape[1]
        if C % num_groups:
            raise ValueError(f"group_norm: the number of channels must be divisible by "
                             f"num_groups, got input of shape {tuple(x.shape)} ({C} channels) "
                             f"and num_groups={num_groups}")
        names = [n for n, h in (("weight", has_weight), ("bias", has_bias)) if h]
        for name, t in zip(names, wb):
            if tuple(t.shape) != (C,):
                raise ValueError(f"group_norm: {name} must have shape ({C},) (one per channel of "
                                 f"the input {tuple(x.shape)}), got {tuple(t.shape)}")

    @staticmethod
    def forward(ctx, x, *wb, num_groups, has_weight, has_bias, eps):
        w = wb[0] if has_weight else None
        b = wb[-1] if has_bias else None
        N, C = x.shape[:2]
        groups = x.reshape(N, num_groups, -1)  # each row: one group's M numbers
        centred = groups - groups.mean(axis=2, keepdims=True)
        inv_std = (1.0 / xp.sqrt((centred * centred).mean(axis=2, keepdims=True) + eps)
                   ).astype(x.dtype)  # 1/σ_g
        x_hat = (centred * inv_std).reshape(x.shape)
        per_channel = (1, C) + (1,) * (x.ndim - 2)  # broadcast a (C,) vector over x
        y = x_hat if w is None else x_hat * w.reshape(per_channel)
        if b is not None:
            y = y + b.reshape(per_channel)
        ctx.x_hat, ctx.inv_std, ctx.w, ctx.flags = x_hat, inv_std, w, (has_weight, has_bias)
        ctx.num_groups, ctx.per_channel = num_groups, per_channel
        return y

    @staticmethod
    def backward(ctx, dy):
        x_hat, inv_std, w, per_channel = ctx.x_hat, ctx.inv_std, ctx.w, ctx.per_channel
        has_weight, has_bias = ctx.flags
        sum_axes = (0,) + tuple(range(2, dy.ndim))  # every axis but the channels
        grads = [None]
        if ctx.needs_input_grad[0]:
            g = dy if w is None else dy * w.reshape(per_channel)  # ĝ = ȳ ⊙ γ
            shape = (dy.shape[0], ctx.num_groups, -1)
            g, xh = g.reshape(shape), x_hat.reshape(shape)
            dx = inv_std * (g - g.mean(axis=2, keepdims=True)
                            - xh * (g * xh).mean(axis=2, keepdims=True))
            grads[0] = dx.reshape(dy.shape)
        if has_weight:
            grads.append((dy * x_hat).sum(axis=sum_axes))
        if has_bias:
            grads.append(dy.sum(axis=sum_axes))
        return tuple(grads)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Group normalization, as ``torch.nn.functional.group_norm``.

    The channels of each example are split into ``num_groups`` groups of consecutive channels;
    each group is standardized over its channels and positions, then every channel is scaled and
    shifted by its γ and β. The result does not depend on the other examples of the batch.

    Args:
        input: (N, C, ...), C divisible by ``num_groups``.
        num_groups: G, the number of groups.
        weight, bias: γ and β, (C,) each, or None.
        eps: ε added to the variance.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"group_norm: input must be a Tensor, got {type(input).__name__}")
    groups = check_factor("group_norm", "num_groups", num_groups)
    wb = [t for t in (weight, bias) if t is not None]
    return GroupNorm.apply(input, *wb, num_groups=groups, has_weight=weight is not None,
                           has_bias=bias is not None, eps=check_eps("group_norm", eps))


# ----------------------------------------------------------------------------- instance norm
def instance_norm(input: Tensor, running_mean: Tensor | None = None,  # noqa: A002
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Instance normalization, as ``torch.nn.functional.instance_norm``.

    With ``use_input_stats`` each channel of each example is standardized over its positions
    (group norm with one group per channel), y = γ_c (x − μ_nc)/√(σ²_nc + ε) + β_c, and the
    running statistics, when given, are updated in place with the batch averages of the
    per-instance ones:
        running_mean ← (1 − m)·running_mean + m·mean_n(μ_nc),
        running_var  ← (1 − m)·running_var  + m·mean_n(σ²_nc · M/(M − 1))   (unbiased).
    Without it, the running statistics are used, as batch norm in evaluation mode.

    Args:
        input: (N, C, ...) with more than one position per channel when using its statistics.
        running_mean, running_var: (C,) tensors, or None.
        weight, bias: γ and β, (C,) each, or None.
        use_input_stats: standardize with the input's statistics (else the running ones).
        momentum: m in running ← (1 − m)·running + m·statistic.
        eps: ε added to the variance.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"instance_norm: input must be a Tensor, got {type(input).__name__}")
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)):
        raise TypeError(f"instance_norm: momentum must be a number, got {momentum!r}")
    eps = check_eps("instance_norm", eps)
    require_float("instance_norm", "input", input)
    if input.ndim < 2:
        raise ValueError(f"instance_norm: input must be (N, C, ...) with at least 2 dimensions, "
                         f"got shape {tuple(input.shape)}")
    C = input.shape[1]
    for name, r in (("running_mean", running_mean), ("running_var", running_var)):
        if r is not None and tuple(r.shape) != (C,):
            raise ValueError(f"instance_norm: {name} must have shape ({C},) (one per channel of "
                             f"the input {tuple(input.shape)}), got {tuple(r.shape)}")
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and "
                             "running_var; pass them or use the input's statistics")
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    positions = input.numel() // max(input.shape[0] * C, 1)
    if positions <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element per channel when "
                         f"using the input's statistics, got input shape {tuple(input.shape)}")
    y = group_norm(input, C, weight, bias, eps)
    if running_mean is not None or running_var is not None:
        per_instance = input.array.reshape(input.shape[0], C, -1)
        m = float(momentum)
        if running_mean is not None:
            mean = per_instance.mean(axis=2).mean(axis=0)
            running_mean.array *= 1 - m
            running_mean.array += (m * mean).astype(running_mean.dtype)
        if running_var is not None:
            var = per_instance.var(axis=2, ddof=1).mean(axis=0)
            running_var.array *= 1 - m
            running_var.array += (m * var).astype(running_var.dtype)
    return y


# ----------------------------------------------------------------------------- RMS norm
class RMSNorm(Function):
    """y = γ ⊙ x̂,  x̂ = x · r,  r = 1/√(mean(x²) + ε), the mean over the last D dimensions of
    each example (M numbers); γ has those D dimensions' shape. No mean is subtracted, no β.

    Backward (∂r/∂x_j = −r³ x_j / M; means over the same M numbers):
        ĝ = ȳ ⊙ γ,
        x̄ = r · (ĝ − x̂ ⊙ mean(ĝ ⊙ x̂)),
        γ̄ = Σ_batch ȳ ⊙ x̂.
    """

    @staticmethod
    def check(x, *w, normalized_shape, eps):
        require_float("rms_norm", "input", x)
        D = len(normalized_shape)
        if x.ndim < D or tuple(x.shape[x.ndim - D:]) != tuple(normalized_shape):
            raise ValueError(f"rms_norm: the input's last {D} dimensions must be "
                             f"normalized_shape {tuple(normalized_shape)}, got input shape "
                             f"{tuple(x.shape)}")
        if w and tuple(w[0].shape) != tuple(normalized_shape):
            raise ValueError(f"rms_norm: weight must have shape {tuple(normalized_shape)} "
                             f"(normalized_shape), got {tuple(w[0].shape)}")

    @staticmethod
    def forward(ctx, x, *w, normalized_shape, eps):
        axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
        if eps is None:  # PyTorch's default: the machine epsilon of the input's dtype
            eps = float(xp.finfo(x.dtype).eps)
        r = (1.0 / xp.sqrt((x * x).mean(axis=axes, keepdims=True) + eps)).astype(x.dtype)
        x_hat = x * r
        ctx.x_hat, ctx.r, ctx.w, ctx.axes = x_hat, r, (w[0] if w else None), axes
        return x_hat * w[0] if w else x_hat

    @staticmethod
    def backward(ctx, dy):
        x_hat, r, w, axes = ctx.x_hat, ctx.r, ctx.w, ctx.axes
        grads = [None]
        if ctx.needs_input_grad[0]:
            g = dy if w is None else dy * w  # ĝ = ȳ ⊙ γ
            grads[0] = r * (g - x_hat * (g * x_hat).mean(axis=axes, keepdims=True))
        if w is not None:
            grads.append((dy * x_hat).sum(axis=tuple(range(dy.ndim - len(axes)))))
        return tuple(grads)


def rms_norm(input: Tensor, normalized_shape: int | Sequence[int],  # noqa: A002
             weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """Root-mean-square normalization over the last dimensions, as
    ``torch.nn.functional.rms_norm``: y = x / √(mean(x²) + ε) ⊙ γ.

    Args:
        input: (..., *normalized_shape).
        normalized_shape: the trailing shape to normalize over (an int: the last dimension).
        weight: γ of shape ``normalized_shape``, or None.
        eps: ε added to the mean square; None means the machine epsilon of the input's dtype
            (``finfo(dtype).eps``), as PyTorch.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"rms_norm: input must be a Tensor, got {type(input).__name__}")
    try:
        shape = normalized_shape_tuple(normalized_shape)
    except ValueError:
        raise ValueError(f"rms_norm: normalized_shape must be a positive int or a non-empty "
                         f"tuple of them, got {normalized_shape!r}") from None
    eps = None if eps is None else check_eps("rms_norm", eps)
    w = () if weight is None else (weight,)
    return RMSNorm.apply(input, *w, normalized_shape=shape, eps=eps)
