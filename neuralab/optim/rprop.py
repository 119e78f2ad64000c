"""Rprop: resilient backpropagation, steps from the signs of the gradients (Riedmiller, 1993)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from neuralab.backend import xp
from neuralab.optim.optimizer import Optimizer, check_nonnegative


class Rprop(Optimizer):
    r"""Rprop: each weight moves by its own step size in the direction opposite its gradient.

    Lecture 7 mentions rprop as the full-batch ancestor of RMSprop: only the *sign* of the
    gradient is used, and each weight's step size Δ adapts to it. While the sign stays the same
    the step grows (the weight is still far from the minimum along that axis); when it flips the
    weight jumped over a minimum, so the step shrinks and that weight does not move this step:

        s ← sign(g_t · g_{t−1})                (g_{t−1}: ``prev``; 0 at the first step)
        Δ ← clip(Δ · η₊ if s > 0, Δ · η₋ if s < 0, Δ if s = 0;  Δ_min, Δ_max)
        g_t ← 0 where s < 0                    (and that 0 becomes g_{t−1} for the next step)
        θ ← θ − sign(g_t) Δ

    Δ starts at ``lr`` for every weight. These are ``torch.optim.Rprop``'s formulas. Because it
    ignores the gradient's magnitude, Rprop suits full-batch training, not mini-batches.

    Args:
        params: parameters or parameter groups.
        lr: the initial step size Δ (default 1e-2).
        etas: (η₋, η₊), the factors that shrink and grow Δ, with 0 < η₋ < 1 < η₊
            (default (0.5, 1.2)).
        step_sizes: (Δ_min, Δ_max), the bounds of Δ (default (1e-6, 50)).
        maximize: ascend the objective instead of descending it.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, maximize: bool = False):
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, maximize=maximize)
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_nonnegative("Rprop", "lr", group["lr"])
        etas, sizes = group["etas"], group["step_sizes"]
        if not isinstance(etas, (tuple, list)) or len(etas) != 2:
            raise ValueError(f"Rprop: etas must be a pair (etaminus, etaplus), got {etas!r}")
        for i, value in enumerate(etas):
            check_nonnegative("Rprop", f"etas[{i}]", value)
        if not 0 < etas[0] < 1 < etas[1]:
            raise ValueError(f"Rprop: etas must satisfy 0 < etaminus < 1 < etaplus, got "
                             f"{tuple(etas)}; the step shrinks by etaminus when the gradient's "
                             "sign flips and grows by etaplus while it stays")
        if not isinstance(sizes, (tuple, list)) or len(sizes) != 2:
            raise ValueError(f"Rprop: step_sizes must be a pair (min, max), got {sizes!r}")
        for i, value in enumerate(sizes):
            check_nonnegative("Rprop", f"step_sizes[{i}]", value)
        if not sizes[0] <= sizes[1]:
            raise ValueError(f"Rprop: step_sizes must be (min, max) with min <= max, got "
                             f"{tuple(sizes)}")

    def _update(self, p, grad, state, group):
        eta_minus, eta_plus = group["etas"]
        size_min, size_max = group["step_sizes"]
        if not state:
            state["step"] = 0
            state["prev"] = xp.zeros_like(p.array)
            state["step_size"] = xp.full_like(p.array, group["lr"])
        state["step"] += 1
        scratch, factor = self._buffers(p, 2)
        g = self._regularized_grad(grad, p.array, 0, group["maximize"], scratch)
        prev, delta = state["prev"], state["step_size"]
        xp.multiply(g, prev, out=factor)
        flipped = factor < 0
        # η₊ where the sign held, η₋ where it flipped, 1 where either gradient is 0.
        factor[...] = xp.where(factor > 0, eta_plus, xp.where(flipped, eta_minus, 1.0))
        delta *= factor
        xp.clip(delta, size_min, size_max, out=delta)
        prev[...] = g
        prev[flipped] = 0                     # a flipped weight rests, and forgets its sign
        xp.sign(prev, out=factor)
        factor *= delta
        p.array -= factor
