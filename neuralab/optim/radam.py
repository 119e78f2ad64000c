"""RAdam: Adam with its adaptive step switched on gradually (Liu et al., 2020)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from neuralab.backend import xp
from neuralab.optim.optimizer import (
    Optimizer,
    check_betas,
    check_nonnegative,
    update_running_average,
)


class RAdam(Optimizer):
    r"""RAdam: rectified Adam, which needs no learning-rate warm-up.

    In its first steps Adam divides by a running average v of very few squared gradients, whose
    variance is large, so the effective learning rates are erratic (the reason for warm-up).
    RAdam measures the length ρ_t of the simple moving average that v approximates; while it is
    short (ρ_t ≤ 5) the step is plain momentum SGD, afterwards Adam's step scaled by a factor r_t
    that rectifies the variance of the adaptive rate and tends to 1:

        g ← ∇L(θ) + λθ                        (λ: weight_decay; decoupled: θ ← θ(1 − αλ) instead)
        m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²,   m̂ ← m / (1 − β₁ᵗ)
        ρ_∞ ← 2/(1 − β₂) − 1,    ρ_t ← ρ_∞ − 2 t β₂ᵗ / (1 − β₂ᵗ)
        ρ_t > 5:  r_t ← √((ρ_t − 4)(ρ_t − 2) ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2) ρ_t))
                  θ ← θ − α m̂ r_t √(1 − β₂ᵗ) / (√v + ε)
        else:     θ ← θ − α m̂

    These are ``torch.optim.RAdam``'s formulas.

    Args:
        params: parameters or parameter groups.
        lr: learning rate α (default 1e-3).
        betas: (β₁, β₂), decay rates of the two averages, each in [0, 1).
        eps: ε added to the denominator.
        weight_decay: λ, the weight decay coefficient.
        decoupled_weight_decay: shrink the weights directly, θ ← θ(1 − αλ), as AdamW does,
            instead of adding λθ to the gradient.
        maximize: ascend the objective instead of descending it.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *,
                 maximize: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "eps", "weight_decay"):
            check_nonnegative("RAdam", key, group[key])
        check_betas("RAdam", group["betas"])

    def _update(self, p, grad, state, group):
        beta1, beta2 = group["betas"]
        lr = group["lr"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p.array)
            state["exp_avg_sq"] = xp.zeros_like(p.array)
        state["step"] += 1
        t = state["step"]
        scratch, tmp = self._buffers(p, 2)
        g = self._decayed_grad(grad, p.array, group, group["decoupled_weight_decay"], scratch)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        update_running_average(m, g, beta1, tmp)  # m ← β₁m + (1 − β₁)g
        xp.multiply(g, g, out=tmp)
        update_running_average(v, tmp, beta2, tmp)  # v ← β₂v + (1 − β₂)g²
        bias1, bias2 = 1 - beta1**t, 1 - beta2**t
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2**t / bias2
        if rho_t > 5:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            xp.sqrt(v, out=tmp)
            tmp += group["eps"]
            xp.divide(m, tmp, out=tmp)
            tmp *= -lr * rect * math.sqrt(bias2) / bias1
        else:
            xp.multiply(m, -lr / bias1, out=tmp)  # too few squares averaged: momentum SGD
        p.array += tmp
