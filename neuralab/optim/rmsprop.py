"""RMSprop: a per-parameter learning rate from a running average of squared gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from neuralab.backend import xp
from neuralab.optim.optimizer import (
    Optimizer,
    check_nonnegative,
    check_unit_interval,
    update_running_average,
)


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's Coursera lecture 6e): normalize each step by the recent gradient scale.

    Like AdaGrad (Lecture 7), each weight gets its own effective learning rate, but the squared
    gradients are averaged with exponential forgetting instead of summed, so the rates adapt to
    the recent landscape rather than shrinking for ever:

        g ← ∇L(θ) + λθ
        v ← α v + (1 − α) g²                    (α: alpha, the smoothing constant)
        centered: ḡ ← α ḡ + (1 − α) g,  d ← √(v − ḡ²) + ε   (normalize by a variance estimate)
        otherwise:                       d ← √v + ε
        momentum μ > 0: b ← μ b + g / d,  θ ← θ − α_lr b
        otherwise:      θ ← θ − α_lr g / d

    These are ``torch.optim.RMSprop``'s formulas (ε is added outside the square root).

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant α in [0, 1) (default 0.99).
        eps: ε added to the denominator.
        weight_decay: λ, the L2 penalty coefficient.
        momentum: μ, momentum applied to the normalized step.
        centered: normalize by the estimated variance of the gradient instead of its second
            moment.
        maximize: ascend the objective instead of descending it.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, maximize: bool = False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        for name in ("lr", "eps", "weight_decay", "momentum"):
            check_nonnegative("RMSprop", name, group[name])
        check_unit_interval("RMSprop", "alpha", group["alpha"])

    def _update(self, p, grad, state, group):
        alpha, momentum = group["alpha"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p.array)
            if momentum > 0:
                state["momentum_buffer"] = xp.zeros_like(p.array)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(p.array)
        state["step"] += 1
        scratch, tmp = self._buffers(p, 2)
        g = self._regularized_grad(grad, p.array, group["weight_decay"], group["maximize"],
                                   scratch)
        v = state["square_avg"]
        xp.multiply(g, g, out=tmp)
        update_running_average(v, tmp, alpha, tmp)  # v ← αv + (1 − α)g²
        if group["centered"]:
            g_avg = state.setdefault("grad_avg", xp.zeros_like(p.array))
            update_running_average(g_avg, g, alpha, tmp)  # ḡ ← αḡ + (1 − α)g
            xp.multiply(g_avg, g_avg, out=tmp)
            xp.subtract(v, tmp, out=tmp)
            # v − ḡ² ≥ 0 in exact arithmetic; rounding can make it −1e-20, whose root is NaN.
            xp.maximum(tmp, 0, out=tmp)
            xp.sqrt(tmp, out=tmp)
        else:
            xp.sqrt(v, out=tmp)
        tmp += group["eps"]
        xp.divide(g, tmp, out=tmp)
        if momentum > 0:
            b = state.setdefault("momentum_buffer", xp.zeros_like(p.array))
            b *= momentum
            b += tmp
            xp.multiply(b, -group["lr"], out=tmp)
        else:
            tmp *= -group["lr"]
        p.array += tmp
