"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from neuralab.optim.adam import Adam


class AdamW(Adam):
    r"""Adam with weight decay applied to the weights, not to the gradient.

    In ``Adam`` an L2 penalty enters through the gradient and is then divided by √v, so weights
    with large gradients are barely regularized. AdamW decays every weight by the same factor
    before the Adam step, as plain SGD's weight decay would:

        θ ← θ (1 − α λ)
        m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²      (g = ∇L(θ), no λθ term)
        θ ← θ − α/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

    These are ``torch.optim.AdamW``'s formulas.

    Args:
        params: parameters or parameter groups.
        lr: learning rate α (default 1e-3).
        betas: (β₁, β₂), each in [0, 1).
        eps: ε added to the denominator.
        weight_decay: λ, the decoupled decay coefficient (default 1e-2).
        amsgrad: use the running maximum of v.
        maximize: ascend the objective instead of descending it.
    """

    _decoupled = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)
