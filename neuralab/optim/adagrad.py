"""AdaGrad: a per-parameter learning rate from the sum of squared gradients (Lecture 7)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from neuralab.backend import xp
from neuralab.optim.optimizer import Optimizer, check_nonnegative


class Adagrad(Optimizer):
    r"""AdaGrad: divide each weight's step by the root of its accumulated squared gradients.

    Lecture 7 observes that one learning rate rarely suits every weight: weights whose gradients
    are large (or frequent) should take smaller steps than rarely-updated ones. AdaGrad keeps, per
    weight, the running sum s of squared gradients and scales the step by 1/√s:

        g ← ∇L(θ) + λθ
        α_t ← α / (1 + (t − 1) η)              (η: lr_decay; t counts steps from 1)
        s ← s + g²                              (s starts at initial_accumulator_value)
        θ ← θ − α_t g / (√s + ε)

    Because s only grows, the effective rates shrink monotonically, which suits convex problems
    but can stall deep networks (RMSprop's running average fixes this).

    Args:
        params: parameters or parameter groups.
        lr: learning rate α (default 1e-2).
        lr_decay: η, the decay of the learning rate with the step count.
        weight_decay: λ, the L2 penalty coefficient.
        initial_accumulator_value: starting value of s.
        eps: ε added to √s for numerical stability.
        maximize: ascend the objective instead of descending it.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_nonnegative("Adagrad", name, group[name])

    def _update(self, p, grad, state, group):
        if not state:
            state["step"] = 0
            state["sum"] = xp.full_like(p.array, group["initial_accumulator_value"])
        state["step"] += 1
        scratch, tmp = self._buffers(p, 2)
        g = self._regularized_grad(grad, p.array, group["weight_decay"], group["maximize"],
                                   scratch)
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        s = state["sum"]
        xp.multiply(g, g, out=tmp)
        s += tmp
        xp.sqrt(s, out=tmp)
        tmp += group["eps"]
        xp.divide(g, tmp, out=tmp)
        tmp *= -clr
        p.array += tmp
