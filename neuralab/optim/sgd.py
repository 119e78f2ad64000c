"""Stochastic gradient descent with momentum and Nesterov's lookahead (Lecture 7)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from neuralab.backend import xp
from neuralab.optim.optimizer import Optimizer, check_nonnegative


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum.

    Plain SGD moves every weight a small step against its gradient, θ ← θ − α g. Lecture 7
    pictures *momentum* as a heavy ball rolling on the cost surface: the ball has a velocity v
    that the gradient accelerates and friction (μ < 1) slows, so it speeds up along a long shallow
    valley and its oscillations across a narrow ravine cancel out:

        g ← ∇L(θ) + λθ                       (λ: weight_decay, an L2 penalty)
        v ← g                                 on the first step
        v ← μ v + (1 − τ) g                   afterwards (μ: momentum, τ: dampening)
        θ ← θ − α v                           classical momentum
        θ ← θ − α (g + μ v)                   Nesterov: the gradient is taken as if at the
                                              lookahead point the velocity is about to reach

    These are exactly ``torch.optim.SGD``'s formulas (the learning rate multiplies v rather
    than being folded into it, so changing ``lr`` mid-training does not rescale the velocity).

    Args:
        params: parameters (``model.parameters()``) or parameter groups (dicts).
        lr: learning rate α (default 1e-3, as in PyTorch).
        momentum: μ in [0, 1); 0 gives plain SGD.
        dampening: τ, scales down the gradient's contribution to the velocity.
        weight_decay: λ, the L2 penalty coefficient.
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize: ascend the objective instead of descending it.

    Example:
        >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, *,
                 maximize: bool = False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_nonnegative("SGD", "lr", group["lr"])
        check_nonnegative("SGD", "momentum", group["momentum"])
        check_nonnegative("SGD", "dampening", group["dampening"])
        check_nonnegative("SGD", "weight_decay", group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: nesterov=True requires momentum > 0 and dampening = 0, got momentum="
                f"{group['momentum']} and dampening={group['dampening']}; Nesterov's lookahead "
                "is defined for undamped momentum"
            )

    def _update(self, p, grad, state, group):
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        scratch, tmp = self._buffers(p, 2)
        g = self._regularized_grad(grad, p.array, group["weight_decay"], group["maximize"],
                                   scratch)
        if momentum != 0:
            v = state.get("momentum_buffer")
            if v is None:
                # The ball starts with velocity g (kept in the parameter's dtype).
                v = state["momentum_buffer"] = xp.array(g, dtype=p.array.dtype, copy=True)
            else:
                v *= momentum
                if dampening == 0:
                    v += g
                else:
                    xp.multiply(g, 1 - dampening, out=tmp)
                    v += tmp
            if group["nesterov"]:
                xp.multiply(v, momentum, out=tmp)
                tmp += g
                g = tmp
            else:
                g = v
        xp.multiply(g, -lr, out=tmp)  # exact overlap with g (when g is tmp) is safe
        p.array += tmp
