"""Adadelta: AdaGrad's per-weight rates with running averages instead of sums (Zeiler, 2012)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from neuralab.backend import xp
from neuralab.optim.optimizer import Optimizer, check_nonnegative


class Adadelta(Optimizer):
    r"""Adadelta: each weight's step is the ratio of two running root-mean-squares.

    Like RMSprop (Lecture 7) it divides the gradient by a running RMS of past gradients, so that
    the effective rates do not shrink for ever as AdaGrad's do. Zeiler (2012) also notes that the
    units of the step should be those of the weight: the step is multiplied by the running RMS of
    past *updates*, which makes the method insensitive to the choice of learning rate:

        g ← ∇L(θ) + λθ
        v ← ρ v + (1 − ρ) g²                   (running average of squared gradients)
        Δ ← √(u + ε) / √(v + ε) · g            (u: running average of squared updates)
        u ← ρ u + (1 − ρ) Δ²
        θ ← θ − α Δ

    v and u start at 0; α = 1 is the paper's method (PyTorch's ``lr`` scales it).

    Args:
        params: parameters or parameter groups.
        lr: learning rate α (default 1.0).
        rho: ρ, the decay of both running averages, in [0, 1] (default 0.9).
        eps: ε inside both square roots (default 1e-6).
        weight_decay: λ, the L2 penalty coefficient.
        maximize: ascend the objective instead of descending it.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0.0, *, maximize: bool = False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        for name in ("lr", "eps", "weight_decay"):
            check_nonnegative("Adadelta", name, group[name])
        check_nonnegative("Adadelta", "rho", group["rho"])
        if not group["rho"] <= 1:
            raise ValueError(f"Adadelta: rho must be in [0, 1], got {group['rho']}; it is the "
                             "decay rate of the running averages")

    def _update(self, p, grad, state, group):
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p.array)
            state["acc_delta"] = xp.zeros_like(p.array)
        state["step"] += 1
        rho, eps = group["rho"], group["eps"]
        scratch, std, delta = self._buffers(p, 3)
        g = self._regularized_grad(grad, p.array, group["weight_decay"], group["maximize"],
                                   scratch)
        v, u = state["square_avg"], state["acc_delta"]
        v *= rho
        xp.multiply(g, g, out=std)
        std *= 1 - rho
        v += std                              # v = ρv + (1 − ρ)g²
        xp.add(v, eps, out=std)
        xp.sqrt(std, out=std)                 # √(v + ε)
        xp.add(u, eps, out=delta)
        xp.sqrt(delta, out=delta)
        delta /= std
        delta *= g                            # Δ = √(u + ε) / √(v + ε) · g
        u *= rho
        xp.multiply(delta, delta, out=std)
        std *= 1 - rho
        u += std                              # u = ρu + (1 − ρ)Δ²
        delta *= -group["lr"]
        p.array += delta
