"""ASGD: averaged stochastic gradient descent (Polyak & Juditsky, 1992)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from neuralab.backend import xp
from neuralab.optim.optimizer import Optimizer, check_nonnegative


class ASGD(Optimizer):
    r"""Averaged SGD: plain SGD with a decaying step, plus a running average of the iterates.

    With noisy gradients SGD's iterates keep bouncing around the minimum; their average
    converges much faster than the last iterate (Polyak averaging). ASGD runs SGD with a step
    size η_t that decays as a power of t, and from step t₀ on keeps the running mean of the
    weights in ``state['ax']`` (before t₀ it simply tracks θ). The update of θ itself does not
    use the average: evaluate with ``ax`` copied into the weights.

        g ← ∇L(θ) + λ_wd θ                    (λ_wd: weight_decay)
        θ ← θ (1 − λ η_t) − η_t g             (λ: lambd, a decay of the weights)
        ax ← ax + μ_t (θ − ax)                (ax ← θ while μ_t = 1)
        η_{t+1} ← α / (1 + λ α t)^a           (α: lr, a: alpha; η₁ = α)
        μ_{t+1} ← 1 / max(1, t − t₀)

    These are ``torch.optim.ASGD``'s formulas (PyTorch keeps η and μ as float32 scalars; here
    they are Python floats).

    Args:
        params: parameters or parameter groups.
        lr: learning rate α (default 1e-2).
        lambd: λ, the decay term (default 1e-4).
        alpha: a, the power of the step-size decay (default 0.75).
        t0: t₀, the step at which averaging starts (default 1e6).
        weight_decay: λ_wd, the L2 penalty coefficient.
        maximize: ascend the objective instead of descending it.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0.0, *,
                 maximize: bool = False):
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        maximize=maximize)
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "lambd", "alpha", "t0", "weight_decay"):
            check_nonnegative("ASGD", key, group[key])

    def _update(self, p, grad, state, group):
        lr, lambd = group["lr"], group["lambd"]
        if not state:
            state["step"] = 0
            state["eta"] = float(lr)
            state["mu"] = 1.0
            state["ax"] = xp.zeros_like(p.array)
        state["step"] += 1
        t, eta = state["step"], state["eta"]
        scratch, tmp = self._buffers(p, 2)
        g = self._regularized_grad(grad, p.array, group["weight_decay"], group["maximize"],
                                   scratch)
        p.array *= 1 - lambd * eta
        xp.multiply(g, -eta, out=tmp)
        p.array += tmp
        ax = state["ax"]
        if state["mu"] != 1:
            xp.subtract(p.array, ax, out=tmp)
            tmp *= state["mu"]
            ax += tmp
        else:
            ax[...] = p.array
        state["eta"] = lr / (1 + lambd * lr * t) ** group["alpha"]
        state["mu"] = 1 / max(1, t - group["t0"])
