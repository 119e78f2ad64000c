"""Adam: momentum plus RMSprop's per-parameter scaling, with bias correction (Lecture 7)."""

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


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015): running averages of the gradient and of its square.

    Adam combines the two ideas of Lecture 7: a momentum-like average m of the gradients (the
    heavy ball) and an RMSprop-like average v of their squares (a per-weight learning rate).
    Both averages start at zero, so early on they are biased towards zero; dividing by
    1 − β^t removes that bias (after one step m/(1 − β₁) is exactly g):

        g ← ∇L(θ) + λθ                        (λ: weight_decay, L2 penalty folded into g)
        m ← β₁ m + (1 − β₁) g
        v ← β₂ v + (1 − β₂) g²
        v_max ← max(v_max, v)                  (amsgrad only; then v_max replaces v below)
        θ ← θ − α/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

    These are ``torch.optim.Adam``'s formulas. With weight decay, prefer ``AdamW``: folding λθ
    into g lets the adaptive denominator shrink the decay of weights with large gradients.

    Args:
        params: parameters or parameter groups.
        lr: learning rate α (default 1e-3).
        betas: (β₁, β₂), decay rates of the two averages, each in [0, 1).
        eps: ε added to the denominator.
        weight_decay: λ, the L2 penalty coefficient.
        amsgrad: use the running maximum of v (Reddi et al., 2018), which guarantees the
            effective learning rates never increase.
        maximize: ascend the objective instead of descending it.
    """

    _decoupled = False

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize)
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        name = type(self).__name__
        for key in ("lr", "eps", "weight_decay"):
            check_nonnegative(name, key, group[key])
        check_betas(name, group["betas"])

    def _update(self, p, grad, state, group):
        beta1, beta2 = group["betas"]
        lr = group["lr"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p.array)
            state["exp_avg_sq"] = xp.zeros_like(p.array)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(p.array)
        state["step"] += 1
        t = state["step"]
        scratch, tmp = self._buffers(p, 2)
        # AdamW (decoupled) shrinks the weights directly, outside the adaptive scaling.
        g = self._decayed_grad(grad, p.array, group, self._decoupled, scratch)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        update_running_average(m, g, beta1, tmp)  # m ← β₁m + (1 − β₁)g
        xp.multiply(g, g, out=tmp)
        update_running_average(v, tmp, beta2, tmp)  # v ← β₂v + (1 − β₂)g²
        if group["amsgrad"]:
            v_max = state.setdefault("max_exp_avg_sq", xp.zeros_like(p.array))
            xp.maximum(v_max, v, out=v_max)
            v = v_max
        step_size = lr / (1 - beta1**t)
        xp.sqrt(v, out=tmp)
        tmp /= math.sqrt(1 - beta2**t)
        tmp += group["eps"]
        xp.divide(m, tmp, out=tmp)
        tmp *= -step_size
        p.array += tmp
