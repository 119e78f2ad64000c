"""Adamax: Adam with the infinity norm in place of the root mean square (Kingma & Ba, 2015)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from neuralab.backend import xp
from neuralab.optim.optimizer import (
    Optimizer,
    check_betas,
    check_nonnegative,
    update_running_average,
)


class Adamax(Optimizer):
    r"""Adamax: scale each weight's step by an exponentially weighted maximum of |g|.

    Adam divides by the root of a running average of g², an L2 norm of the recent gradients.
    Taking the L^p norm with p → ∞ instead gives a running maximum u, which needs no bias
    correction (only m does) and is not inflated by a single huge gradient for long:

        g ← ∇L(θ) + λθ                        (λ: weight_decay, L2 penalty folded into g)
        m ← β₁ m + (1 − β₁) g
        u ← max(β₂ u, |g| + ε)
        θ ← θ − α/(1 − β₁ᵗ) · m / u

    These are ``torch.optim.Adamax``'s formulas (ε is added to |g| inside the maximum).

    Args:
        params: parameters or parameter groups.
        lr: learning rate α (default 2e-3).
        betas: (β₁, β₂), decay rates of m and of u, each in [0, 1).
        eps: ε added to |g|.
        weight_decay: λ, the L2 penalty coefficient.
        maximize: ascend the objective instead of descending it.
    """

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, *, maximize: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize)
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "eps", "weight_decay"):
            check_nonnegative("Adamax", key, group[key])
        check_betas("Adamax", group["betas"])

    def _update(self, p, grad, state, group):
        beta1, beta2 = group["betas"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p.array)
            state["exp_inf"] = xp.zeros_like(p.array)
        state["step"] += 1
        scratch, tmp = self._buffers(p, 2)
        g = self._regularized_grad(grad, p.array, group["weight_decay"], group["maximize"],
                                   scratch)
        m, u = state["exp_avg"], state["exp_inf"]
        update_running_average(m, g, beta1, tmp)  # m ← β₁m + (1 − β₁)g
        u *= beta2
        xp.abs(g, out=tmp)
        tmp += group["eps"]
        xp.maximum(u, tmp, out=u)                 # u ← max(β₂u, |g| + ε)
        xp.divide(m, u, out=tmp)
        tmp *= -group["lr"] / (1 - beta1 ** state["step"])
        p.array += tmp
