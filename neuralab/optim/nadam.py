"""NAdam: Adam with Nesterov's lookahead applied to its momentum (Dozat, 2016)."""

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


class NAdam(Optimizer):
    r"""NAdam: Adam whose momentum step looks ahead, as Nesterov's momentum does in SGD.

    Lecture 7's Nesterov momentum takes the gradient where the velocity is about to carry the
    weights. Dozat (2016) does the same inside Adam: the step combines the current gradient,
    weighted by this step's momentum coefficient, with the running average m, weighted by the
    *next* step's. The momentum coefficient itself warms up with the step count t (momentum
    decay ψ), and the bias correction uses the product of all coefficients so far:

        g ← ∇L(θ) + λθ                        (λ: weight_decay; decoupled: θ ← θ(1 − αλ) instead)
        μ_t ← β₁ (1 − ½ · 0.96^(t ψ)),   μ_{t+1} ← β₁ (1 − ½ · 0.96^((t+1) ψ))
        Π_t ← Π_{t−1} μ_t                     (Π₀ = 1: ``mu_product``)
        m ← β₁ m + (1 − β₁) g
        v ← β₂ v + (1 − β₂) g²
        d ← √(v / (1 − β₂ᵗ)) + ε
        θ ← θ − α (1 − μ_t)/(1 − Π_t) · g/d − α μ_{t+1}/(1 − Π_t μ_{t+1}) · m/d

    These are ``torch.optim.NAdam``'s formulas.

    Args:
        params: parameters or parameter groups.
        lr: learning rate α (default 2e-3).
        betas: (β₁, β₂), decay rates of the two averages, each in [0, 1).
        eps: ε added to the denominator.
        weight_decay: λ, the weight decay coefficient.
        momentum_decay: ψ, how fast the momentum coefficient warms up to β₁ (default 4e-3).
        decoupled_weight_decay: shrink the weights directly, θ ← θ(1 − αλ), as AdamW does
            (NAdamW), instead of adding λθ to the gradient.
        maximize: ascend the objective instead of descending it.
    """

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "eps", "weight_decay", "momentum_decay"):
            check_nonnegative("NAdam", key, group[key])
        check_betas("NAdam", group["betas"])

    def _update(self, p, grad, state, group):
        beta1, beta2 = group["betas"]
        lr, psi = group["lr"], group["momentum_decay"]
        if not state:
            state["step"] = 0
            state["mu_product"] = 1.0
            state["exp_avg"] = xp.zeros_like(p.array)
            state["exp_avg_sq"] = xp.zeros_like(p.array)
        state["step"] += 1
        t = state["step"]
        scratch, tmp, denom = self._buffers(p, 3)
        g = self._decayed_grad(grad, p.array, group, group["decoupled_weight_decay"], scratch)
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] *= mu
        mu_product = state["mu_product"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        update_running_average(m, g, beta1, tmp)  # m ← β₁m + (1 − β₁)g
        xp.multiply(g, g, out=tmp)
        update_running_average(v, tmp, beta2, tmp)  # v ← β₂v + (1 − β₂)g²
        xp.sqrt(v, out=denom)
        denom /= math.sqrt(1 - beta2**t)
        denom += group["eps"]
        xp.divide(g, denom, out=tmp)
        tmp *= -lr * (1 - mu) / (1 - mu_product)
        p.array += tmp                              # the current gradient's share
        xp.divide(m, denom, out=tmp)
        tmp *= -lr * mu_next / (1 - mu_product * mu_next)
        p.array += tmp                              # the looked-ahead momentum's share
