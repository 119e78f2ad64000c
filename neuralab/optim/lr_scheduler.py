"""Learning-rate schedules: how α changes over training (Lecture 7).

Lecture 7 explains why a fixed learning rate is a compromise: early on a large α crosses the
cost surface quickly, later the stochastic gradients' noise keeps SGD bouncing around the
minimum unless α shrinks. A scheduler owns that decision: each ``scheduler.step()`` (once per
epoch, or once per batch for ``OneCycleLR`` and ``CyclicLR``) writes a new ``group['lr']`` into
every parameter group of the optimizer.

The classes follow ``torch.optim.lr_scheduler`` and produce the same sequences of learning rates
(the multiplicative schedules are computed recursively from the current ``group['lr']``, as in
PyTorch, so they compose with other changes to the learning rate: ``ChainedScheduler`` steps
several at once, ``SequentialLR`` hands over from one to the next at milestone epochs).

Typical use::

    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(90):
        train_one_epoch(model, opt)
        sched.step()
"""

from __future__ import annotations

import math
import numbers
import types
import warnings
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from neuralab.optim.optimizer import Optimizer

__all__ = [
    "LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
    "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
    "CyclicLR", "OneCycleLR", "SequentialLR", "ChainedScheduler", "ReduceLROnPlateau",
    "WarmupCosineLR",
]


_EPOCH_DEPRECATION = (
    "The epoch argument of scheduler.step() is deprecated (as in PyTorch): call "
    "scheduler.step() once per epoch instead. With an epoch, the rate comes from the closed form "
    "of the schedule where it has one, not from the chainable recursive form."
)


def _check_optimizer(scheduler: str, optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{scheduler}: expected a neuralab.optim Optimizer, got "
                        f"{type(optimizer).__name__}; build the optimizer first and pass it")


def _check_positive_int(scheduler: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{scheduler}: {name} must be a positive integer, got {value!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _per_group(scheduler: str, name: str, optimizer: Optimizer, value: Any) -> list[Any]:
    """A scalar for every group, or a list with one value per group."""
    groups = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != groups:
            raise ValueError(f"{scheduler}: {name} has {len(value)} values but the optimizer has "
                             f"{groups} parameter groups; give one value per group or a scalar")
        return list(value)
    return [value] * groups


class LRScheduler:
    """Base class of the schedulers.

    A subclass defines ``get_lr()``, the learning rates for the epoch ``self.last_epoch`` (it
    may read the current ``group['lr']`` and ``self.base_lrs``). Constructing a scheduler stores
    each group's starting rate as ``group['initial_lr']`` and performs the first step, which
    sets the rate for epoch 0.

    Args:
        optimizer: the optimizer whose learning rates are scheduled.
        last_epoch: index of the last epoch done; -1 (default) starts afresh. Resuming with
            another value requires ``'initial_lr'`` in every group (from a loaded state dict).

    Attributes:
        base_lrs: the initial learning rate of each group.
        last_epoch: the number of ``step()`` calls so far (0 after construction).
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        name = type(self).__name__
        _check_optimizer(name, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{name}: param_groups[{i}] has no 'initial_lr', needed to "
                                   f"resume at last_epoch={last_epoch}; load the optimizer's "
                                   "state dict first, or use last_epoch=-1 for a fresh run")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Reset the step count and take the step that establishes epoch ``last_epoch + 1``.

        ``SequentialLR`` calls it again when a scheduler's turn comes at epoch 0.
        """
        self._step_count = 0
        # The first step only establishes epoch 0; schedules that would otherwise multiply the
        # rate at once (ExponentialLR) check this flag, as PyTorch's do.
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The learning rates for epoch ``self.last_epoch`` (subclasses define it)."""
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or one batch, for per-batch schedules) and set the new rates.

        Call it after ``optimizer.step()``.

        Args:
            epoch: deprecated, as in PyTorch (it warns): jump to this epoch instead of the next
                one; the rates then come from the closed form of the schedule where it has one
                (the recursive form otherwise).
        """
        self._step_count += 1
        if epoch is not None:
            warnings.warn(_EPOCH_DEPRECATION, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last ``step()``, one per parameter group."""
        return list(self._last_lr)

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Everything the scheduler holds except the optimizer (save it next to the optimizer's)."""
        return {key: (list(value) if isinstance(value, list) else value)
                for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by ``state_dict()``."""
        self.__dict__.update(state_dict)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self._last_lr})"


def _lambdas(scheduler: str, optimizer: Any, lr_lambda: Any) -> list[Callable[[int], float]]:
    """One function per parameter group, from one function or a list of them."""
    _check_optimizer(scheduler, optimizer)
    groups = len(optimizer.param_groups)
    if isinstance(lr_lambda, (list, tuple)):
        if len(lr_lambda) != groups:
            raise ValueError(f"{scheduler}: got {len(lr_lambda)} lr_lambdas but the optimizer "
                             f"has {groups} parameter groups; give one function per group or "
                             "a single function")
        functions = list(lr_lambda)
    else:
        functions = [lr_lambda] * groups
    for fn in functions:
        if not callable(fn):
            raise TypeError(f"{scheduler}: lr_lambda must be a function of the epoch (or a list "
                            f"of them, one per group), got {type(fn).__name__}")
    return functions


def _callable_state(fn: Any) -> dict[str, Any] | None:
    """What a state_dict keeps of a user's function: nothing (None) for a plain function, which
    is code, not state; a copy of its ``__dict__`` for a callable object (as PyTorch does)."""
    return None if fn is None or isinstance(fn, types.FunctionType) else dict(fn.__dict__)


class _LambdaState:
    """state_dict of the lambda schedulers, each function saved by ``_callable_state``."""

    lr_lambdas: list[Callable[[int], float]]

    def state_dict(self) -> dict[str, Any]:
        state = LRScheduler.state_dict(self)  # type: ignore[arg-type]
        state["lr_lambdas"] = [_callable_state(fn) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", None) or []
        LRScheduler.load_state_dict(self, state)  # type: ignore[arg-type]
        for fn, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                fn.__dict__.update(attributes)


class LambdaLR(_LambdaState, LRScheduler):
    """The initial rate times a factor of the step count: α_t = α₀ · f(t).

    Any schedule written as a formula fits here; a linear warm-up followed by a cosine decay
    over T steps, for instance, is f(t) = min(1, (t + 1)/W) · ½(1 + cos(π t / T)).

    Args:
        optimizer: the optimizer.
        lr_lambda: f(t), called with the number of ``step()`` calls so far (0 at the start), or
            a list of such functions, one per parameter group.
        last_epoch: see ``LRScheduler``.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Any, last_epoch: int = -1):
        self.lr_lambdas = _lambdas("LambdaLR", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * float(fn(self.last_epoch))
                for base, fn in zip(self.base_lrs, self.lr_lambdas)]


class MultiplicativeLR(_LambdaState, LRScheduler):
    """Multiply the current learning rate by a factor of the epoch: α_t = α_{t−1} · f(t).

    The recursive twin of ``LambdaLR``: ``lambda epoch: 0.95`` is ``ExponentialLR(gamma=0.95)``,
    and since each step scales the rate the group has now, it composes with other schedulers
    changing the same rate (``ChainedScheduler``). The first step (epoch 0) keeps the rate.

    Args:
        optimizer: the optimizer.
        lr_lambda: f(t), called with the epoch (1, 2, ...), or a list of such functions, one
            per parameter group.
        last_epoch: see ``LRScheduler``.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Any, last_epoch: int = -1):
        self.lr_lambdas = _lambdas("MultiplicativeLR", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [lr * fn(self.last_epoch) for lr, fn in zip(self._current_lrs(), self.lr_lambdas)]


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs (a staircase).

    α_t = α₀ · γ^⌊t / step_size⌋.

    Args:
        optimizer: the optimizer.
        step_size: epochs between decays.
        gamma: the decay factor (default 0.1).
        last_epoch: see ``LRScheduler``.
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1):
        _check_positive_int("StepLR", "step_size", step_size)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size)
                for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each milestone epoch.

    α_t = α₀ · γ^(number of milestones ≤ t), the classic "divide by 10 at epochs 30 and 60".

    Args:
        optimizer: the optimizer.
        milestones: epoch indices; a repeated milestone decays once per repetition.
        gamma: the decay factor (default 0.1).
        last_epoch: see ``LRScheduler``.
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1):
        milestones = list(milestones)
        for m in milestones:
            if isinstance(m, bool) or not isinstance(m, int) or m < 0:
                raise ValueError(f"MultiStepLR: milestones must be non-negative integers, got "
                                 f"{milestones!r}")
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [lr * factor for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        passed = bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base * self.gamma ** passed for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch: α_t = α₀ γᵗ.

    Args:
        optimizer: the optimizer.
        gamma: the decay factor per epoch.
        last_epoch: see ``LRScheduler``.
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from the initial rate down to ``eta_min`` over ``T_max`` epochs.

    α_t = η_min + ½ (α₀ − η_min)(1 + cos(π t / T_max)): the rate falls slowly at first, fastest
    mid-way, and gently settles at η_min (Loshchilov & Hutter's SGDR without restarts). As in
    PyTorch the value is updated recursively,
    α_t = η_min + (α_{t−1} − η_min)(1 + cos(π t/T_max)) / (1 + cos(π (t−1)/T_max)),
    and after T_max the rate climbs back along the cosine.

    Args:
        optimizer: the optimizer.
        T_max: half-period of the cosine, in epochs.
        eta_min: the minimal learning rate (default 0).
        last_epoch: see ``LRScheduler``.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,  # noqa: N803
                 last_epoch: int = -1):
        _check_positive_int("CosineAnnealingLR", "T_max", T_max)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, period, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and t > 0:  # resumed: no previous rate to recurse from
            return [eta_min + (base - eta_min) * (1 + math.cos(t * math.pi / period)) / 2
                    for base in self.base_lrs]
        if (t - 1 - period) % (2 * period) == 0:  # the bottom of the cosine: the ratio is 0/0
            return [lr + (base - eta_min) * (1 - math.cos(math.pi / period)) / 2
                    for base, lr in zip(self.base_lrs, self._current_lrs())]
        ratio = (1 + math.cos(math.pi * t / period)) / (1 + math.cos(math.pi * (t - 1) / period))
        return [ratio * (lr - eta_min) + eta_min for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        t, period, eta_min = self.last_epoch, self.T_max, self.eta_min
        return [eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / period)) / 2
                for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the learning rate by a factor moving linearly from start_factor to end_factor.

    α_t = α₀ · (s + (e − s) · min(t, T) / T), for warm-up (s < e) or linear decay (s > e).

    Args:
        optimizer: the optimizer.
        start_factor: factor at epoch 0, in (0, 1] (default 1/3).
        end_factor: factor from epoch ``total_iters`` on, in [0, 1] (default 1).
        total_iters: number of epochs over which the factor changes (default 5).
        last_epoch: see ``LRScheduler``.
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1):
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor}; it "
                             "multiplies the initial learning rate at epoch 0")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor}")
        _check_positive_int("LinearLR", "total_iters", total_iters)
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        s, e, t = self.start_factor, self.end_factor, self.last_epoch
        if t == 0:
            return [lr * s for lr in self._current_lrs()]
        if self._is_initial or t > self.total_iters:
            return self._current_lrs()
        # The ratio of consecutive factors, so the recursion reproduces the linear factor.
        ratio = 1.0 + (e - s) / (self.total_iters * s + (t - 1) * (e - s))
        return [lr * ratio for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        s, e, total = self.start_factor, self.end_factor, self.total_iters
        return [base * (s + (e - s) * min(total, self.last_epoch) / total)
                for base in self.base_lrs]


class ConstantLR(LRScheduler):
    """Scale the learning rate by a constant ``factor`` until epoch ``total_iters``.

    α_t = α₀ · factor for t < total_iters, α₀ from then on: a short spell at a reduced rate
    (a crude warm-up) before the real schedule. Like the other chainable schedulers it divides
    the factor out of the current rate at ``total_iters``, so it composes with other changes.

    Args:
        optimizer: the optimizer.
        factor: the multiplier, in [0, 1] (default 1/3).
        total_iters: the epoch at which the rate returns to α₀ (default 5).
        last_epoch: see ``LRScheduler``.
    """

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1):
        if not _is_number(factor) or not 0 <= factor <= 1:
            raise ValueError(f"ConstantLR: factor must be in [0, 1], got {factor!r}; it "
                             "multiplies the learning rate until total_iters")
        _check_positive_int("ConstantLR", "total_iters", total_iters)
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._current_lrs()]
        if self.last_epoch != self.total_iters:
            return self._current_lrs()
        if self.factor == 0:
            raise ValueError("ConstantLR: factor=0 cannot be divided out of the learning rate at "
                             f"total_iters={self.total_iters}; use a factor in (0, 1]")
        return [lr * (1.0 / self.factor) for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        f = self.factor
        return [base * (f + (self.last_epoch >= self.total_iters) * (1 - f))
                for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Polynomial decay to 0 over ``total_iters`` epochs: α_t = α₀ (1 − min(t, T)/T)^power.

    ``power=1`` is a linear decay to 0; it stays at 0 after T. As in PyTorch the rate is updated
    recursively, multiplying by ((1 − t/T) / (1 − (t−1)/T))^power.

    Args:
        optimizer: the optimizer.
        total_iters: T, the epochs of the decay (default 5).
        power: the exponent, >= 0 (default 1).
        last_epoch: see ``LRScheduler``.
    """

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1):
        _check_positive_int("PolynomialLR", "total_iters", total_iters)
        if not _is_number(power) or power < 0:
            raise ValueError(f"PolynomialLR: power must be a number >= 0, got {power!r}")
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, total = self.last_epoch, self.total_iters
        if self._is_initial or t > total:
            return self._current_lrs()
        factor = ((1.0 - t / total) / (1.0 - (t - 1) / total)) ** self.power
        return [lr * factor for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        t, total = self.last_epoch, self.total_iters
        return [base * (1.0 - min(total, t) / total) ** self.power for base in self.base_lrs]


class WarmupCosineLR(LRScheduler):
    """A linear warm-up times a cosine decay to 0, stepped once per batch.

    α_t = α₀ · min(1, (t + 1)/W) · ½(1 + cos(π t / T)): the rate climbs from α₀/W to α₀ over the
    first W steps (networks without batch norm, such as AlexNet and VGG, can blow up in their
    first steps at the full rate), while a cosine over all T steps brings it to 0 at step T.
    It equals PyTorch's ``ChainedScheduler([LinearLR(opt, 1/W, total_iters=W - 1),
    CosineAnnealingLR(opt, T)])`` (a product of the two factors), written in closed form.

    Args:
        optimizer: the optimizer.
        total_steps: T, the step at which the rate reaches 0.
        warmup_steps: W, the steps of the warm-up (1: none).
        last_epoch: see ``LRScheduler``.
    """

    def __init__(self, optimizer: Optimizer, total_steps: int, warmup_steps: int = 1,
                 last_epoch: int = -1):
        _check_positive_int("WarmupCosineLR", "total_steps", total_steps)
        _check_positive_int("WarmupCosineLR", "warmup_steps", warmup_steps)
        self.total_steps, self.warmup_steps = total_steps, warmup_steps
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, total = self.last_epoch, self.total_steps
        factor = min(1.0, (t + 1) / self.warmup_steps) * 0.5 * (1 + math.cos(math.pi * t / total))
        return [base * factor for base in self.base_lrs]


class _MomentumCycler(LRScheduler):
    """Base of the schedulers that move momentum (or Adam's β₁) against the rate."""

    use_beta1: bool

    def _check_momentum(self, name: str, optimizer: Optimizer) -> None:
        if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
            raise ValueError(f"{name}: cycle_momentum=True needs an optimizer with "
                             f"'momentum' or 'betas', but {type(optimizer).__name__} has "
                             "neither; pass cycle_momentum=False")
        self.use_beta1 = "betas" in optimizer.defaults

    def _start_momentum(self, optimizer: Optimizer, max_moms: list[float],
                        base_moms: list[float]) -> None:
        """Set each group's momentum to its maximum, and record both bounds in the group."""
        for top, bottom, group in zip(max_moms, base_moms, optimizer.param_groups):
            self._set_momentum(group, top)
            group["max_momentum"] = top
            group["base_momentum"] = bottom

    def _set_momentum(self, group: dict[str, Any], value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value


class OneCycleLR(_MomentumCycler):
    """The 1cycle policy (Smith & Topin, 2018): warm up to ``max_lr``, then anneal far below.

    Stepped once per batch. The rate rises from max_lr/div_factor to max_lr over the first
    ``pct_start`` of the ``total_steps``, then falls to max_lr/(div_factor·final_div_factor)
    (with ``three_phase``, it first returns symmetrically to the initial rate and only then
    falls). Momentum (or Adam's β₁) moves the opposite way, between ``max_momentum`` and
    ``base_momentum``, when ``cycle_momentum`` is set: a large rate goes with little momentum.

    Args:
        optimizer: the optimizer.
        max_lr: the peak learning rate (scalar or one per group).
        total_steps: the number of steps in the cycle; or give ``epochs`` and
            ``steps_per_epoch``.
        epochs: number of epochs (with ``steps_per_epoch``).
        steps_per_epoch: batches per epoch (with ``epochs``).
        pct_start: fraction of the cycle spent increasing the rate (default 0.3).
        anneal_strategy: ``'cos'`` (default) or ``'linear'``.
        cycle_momentum: cycle momentum / β₁ inversely to the rate (default True).
        base_momentum: the lowest momentum, at the rate's peak (default 0.85).
        max_momentum: the highest momentum, at the start and end (default 0.95).
        div_factor: initial_lr = max_lr / div_factor (default 25).
        final_div_factor: min_lr = initial_lr / final_div_factor (default 1e4).
        three_phase: use the three-phase variant.
        last_epoch: see ``LRScheduler`` (here it counts batches).
    """

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float],
                 total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.85,
                 max_momentum: float | list[float] = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1):
        name = "OneCycleLR"
        _check_optimizer(name, optimizer)
        if total_steps is not None:
            _check_positive_int(name, "total_steps", total_steps)
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            _check_positive_int(name, "epochs", epochs)
            _check_positive_int(name, "steps_per_epoch", steps_per_epoch)
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError(f"{name}: give total_steps, or both epochs and steps_per_epoch "
                             "(the cycle must know its length)")
        if isinstance(pct_start, bool) or not isinstance(pct_start, (int, float)) \
                or not 0 <= pct_start <= 1:
            raise ValueError(f"{name}: pct_start must be a float in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{name}: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        warmup_end = float(pct_start * self.total_steps) - 1
        # Each phase: (last step of the phase, lr key at its start, at its end, momentum keys).
        if three_phase:
            self._phases = [
                (warmup_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr",
                 "base_momentum", "max_momentum"),
                (self.total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        else:
            self._phases = [
                (warmup_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (self.total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        max_lrs = _per_group(name, "max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for peak, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self._check_momentum(name, optimizer)
            max_moms = _per_group(name, "max_momentum", optimizer, max_momentum)
            base_moms = _per_group(name, "base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                self._start_momentum(optimizer, max_moms, base_moms)
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {t} times but the cycle has total_steps="
                             f"{self.total_steps}; make total_steps (or epochs * steps_per_epoch) "
                             "cover the whole run")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, (end, lr_from, lr_to, mom_from, mom_to) in enumerate(self._phases):
                if t <= end or i == len(self._phases) - 1:
                    pct = (t - start) / (end - start)
                    lrs.append(self._anneal(group[lr_from], group[lr_to], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[mom_from], group[mom_to],
                                                               pct))
                    break
                start = end
        return lrs


class ReduceLROnPlateau(LRScheduler):
    """Divide the learning rate when a validation metric stops improving.

    Call ``step(metric)`` after each evaluation. A metric counts as an improvement when it beats
    the best so far by the threshold (``rel``: best·(1 ∓ threshold), ``abs``: best ∓ threshold);
    after more than ``patience`` epochs without improvement, every group's rate is multiplied by
    ``factor`` (not below ``min_lr``), and then ``cooldown`` epochs pass before counting again.

    Args:
        optimizer: the optimizer.
        mode: ``'min'`` (a loss) or ``'max'`` (an accuracy).
        factor: multiplier of the rate, < 1 (default 0.1).
        patience: epochs without improvement tolerated (default 10).
        threshold: the improvement that counts (default 1e-4).
        threshold_mode: ``'rel'`` or ``'abs'``.
        cooldown: epochs to wait after a reduction (default 0).
        min_lr: lower bound on the rate (scalar or one per group).
        eps: reductions smaller than this are skipped (default 1e-8).
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float | list[float] = 0, eps: float = 1e-8):
        name = "ReduceLROnPlateau"
        _check_optimizer(name, optimizer)
        if not factor < 1.0:
            raise ValueError(f"{name}: factor must be < 1.0, got {factor}; the new rate is "
                             "lr * factor")
        if mode not in ("min", "max"):
            raise ValueError(f"{name}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{name}: threshold_mode must be 'rel' or 'abs', got "
                             f"{threshold_mode!r}")
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"{name}: patience must be a non-negative integer, got {patience!r}")
        if isinstance(cooldown, bool) or not isinstance(cooldown, int) or cooldown < 0:
            raise ValueError(f"{name}: cooldown must be a non-negative integer, got {cooldown!r}")
        self.optimizer = optimizer
        self.factor = factor
        self.min_lrs = _per_group(name, "min_lr", optimizer, min_lr)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.last_epoch = 0
        self._last_lr = self._current_lrs()
        self.best = math.inf if mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def _is_better(self, value: float) -> bool:
        best, threshold = self.best, self.threshold
        if self.mode == "min":
            return value < (best * (1.0 - threshold) if self.threshold_mode == "rel"
                            else best - threshold)
        return value > (best * (threshold + 1.0) if self.threshold_mode == "rel"
                        else best + threshold)

    def step(self, metrics: Any, epoch: int | None = None) -> None:  # type: ignore[override]
        """Record one epoch's metric (a number or a one-element tensor) and maybe reduce.

        Args:
            metrics: the epoch's validation metric.
            epoch: deprecated, as in PyTorch (it warns): the number of this epoch, stored in
                ``last_epoch`` instead of ``last_epoch + 1``; the reduction logic is unchanged.
        """
        current = float(metrics)
        if epoch is None:
            self.last_epoch += 1
        else:
            warnings.warn(_EPOCH_DEPRECATION, UserWarning, stacklevel=2)
            self.last_epoch = epoch
        if self._is_better(current):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # epochs in cooldown do not count against patience
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(group["lr"])
                new = max(old * self.factor, floor)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current_lrs()


class CyclicLR(_MomentumCycler):
    """Cyclical learning rates (Smith, 2017): a triangle wave between ``base_lr`` and ``max_lr``.

    Stepped once per batch. Each cycle lasts ``step_size_up + step_size_down`` steps: the rate
    climbs linearly from base_lr towards max_lr, then falls back. With c the cycle (1, 2, ...)
    and x ∈ [0, 1) the position in it, the rate is
    base_lr + (max_lr − base_lr) · h(x) · scale, h rising 0 → 1 over the first
    step_size_up / (up + down) of the cycle and falling back to 0 over the rest; ``scale`` is
    1 (``'triangular'``), 1/2^(c−1) (``'triangular2'``: the amplitude halves every cycle),
    γ^t at step t (``'exp_range'``), or ``scale_fn`` of c or of t (``scale_mode``). When
    ``cycle_momentum`` is set, momentum (or Adam's β₁) moves the opposite way, from
    ``max_momentum`` down to ``base_momentum`` at the peak of the rate.

    Args:
        optimizer: the optimizer (its rates are replaced by ``base_lr``).
        base_lr: the lower bound of the rate (scalar or one per group).
        max_lr: the upper bound (scalar or one per group).
        step_size_up: steps of the rising half of a cycle (default 2000).
        step_size_down: steps of the falling half (default: step_size_up).
        mode: ``'triangular'``, ``'triangular2'`` or ``'exp_range'`` (ignored with scale_fn).
        gamma: the base of ``'exp_range'``'s scale γ^t (default 1).
        scale_fn: a custom scale, a function of the cycle or of the step, in [0, 1].
        scale_mode: ``'cycle'`` or ``'iterations'``: what ``scale_fn`` receives.
        cycle_momentum: cycle momentum / β₁ inversely to the rate (default True).
        base_momentum: the lowest momentum, at the rate's peak (default 0.8).
        max_momentum: the highest momentum, at the start of a cycle (default 0.9).
        last_epoch: see ``LRScheduler`` (here it counts batches).
    """

    def __init__(self, optimizer: Optimizer, base_lr: float | list[float],
                 max_lr: float | list[float], step_size_up: int = 2000,
                 step_size_down: int | None = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn: Callable[[float], float] | None = None,
                 scale_mode: str = "cycle", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.8,
                 max_momentum: float | list[float] = 0.9, last_epoch: int = -1):
        name = "CyclicLR"
        _check_optimizer(name, optimizer)
        if not _is_number(step_size_up) or step_size_up <= 0:
            raise ValueError(f"{name}: step_size_up must be a number of steps > 0, got "
                             f"{step_size_up!r}")
        if step_size_down is not None and (not _is_number(step_size_down) or step_size_down < 0):
            raise ValueError(f"{name}: step_size_down must be a number of steps >= 0 (or None: "
                             f"step_size_up), got {step_size_down!r}")
        if scale_fn is None and mode not in ("triangular", "triangular2", "exp_range"):
            raise ValueError(f"{name}: mode must be 'triangular', 'triangular2' or 'exp_range' "
                             f"(or give scale_fn), got {mode!r}")
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(f"{name}: scale_fn must be a function, got {type(scale_fn).__name__}")
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"{name}: scale_mode must be 'cycle' or 'iterations', got "
                             f"{scale_mode!r}")
        base_lrs = _per_group(name, "base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.max_lrs = _per_group(name, "max_lr", optimizer, max_lr)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self._check_momentum(name, optimizer)
            self.base_momentums = _per_group(name, "base_momentum", optimizer, base_momentum)
            self.max_momentums = _per_group(name, "max_momentum", optimizer, max_momentum)
            if last_epoch == -1:
                self._start_momentum(optimizer, self.max_momentums, self.base_momentums)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self) -> None:
        # The built-in modes fix what their scale is a function of.
        if self._scale_fn_custom is None:
            self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"

    def scale_fn(self, x: float) -> float:
        """The amplitude's scale at cycle (or step) ``x``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        cycle = math.floor(1 + t / self.total_size)
        x = 1.0 + t / self.total_size - cycle
        if x <= self.step_ratio:
            height = x / self.step_ratio
        else:
            height = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else t)
        lrs = [base + (top - base) * height * scale
               for base, top in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, bottom, top in zip(self.optimizer.param_groups, self.base_momentums,
                                          self.max_momentums):
                self._set_momentum(group, top - (top - bottom) * height * scale)
        return lrs

    def state_dict(self) -> dict[str, Any]:
        """As ``LRScheduler.state_dict``; a custom ``scale_fn`` is saved only if it is a callable
        object (its ``__dict__``), not a function (code is not state)."""
        state = super().state_dict()
        state["_scale_fn_custom"] = _callable_state(state.pop("_scale_fn_custom"))
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by ``state_dict()`` (keeping this scheduler's ``scale_fn``)."""
        state = dict(state_dict)
        attributes = state.pop("_scale_fn_custom", None)
        super().load_state_dict(state)
        if attributes is not None and self._scale_fn_custom is not None:
            self._scale_fn_custom.__dict__.update(attributes)
        self._init_scale_fn()


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter, 2017): cosine annealing restarted every T_i epochs.

    α = η_min + ½ (α₀ − η_min)(1 + cos(π T_cur / T_i)), where T_cur counts the epochs since the
    last restart; at a restart the rate jumps back to α₀ and the next period is T_mult times
    longer (T_0, T_0·T_mult, T_0·T_mult², ...). ``step(epoch)`` accepts a fractional epoch, so
    the rate can be updated every batch: ``scheduler.step(epoch + i / batches_per_epoch)``.

    Args:
        optimizer: the optimizer.
        T_0: epochs until the first restart.
        T_mult: growth factor of the period after each restart, an integer >= 1 (default 1).
        eta_min: the minimal learning rate (default 0).
        last_epoch: see ``LRScheduler``.
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1,  # noqa: N803
                 eta_min: float = 0.0, last_epoch: int = -1):
        name = "CosineAnnealingWarmRestarts"
        _check_positive_int(name, "T_0", T_0)
        _check_positive_int(name, "T_mult", T_mult)
        if not _is_number(eta_min):
            raise ValueError(f"{name}: eta_min must be a number, got {eta_min!r} of type "
                             f"{type(eta_min).__name__}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        eta_min = self.eta_min
        return [eta_min + (base - eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Advance one epoch, or go to ``epoch`` (a float: a fraction of an epoch is allowed).

        Stepping without an argument after ``step(epoch)`` continues from ⌊epoch⌋ + 1.
        """
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if not _is_number(epoch) or epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts: epoch must be a non-negative "
                                 f"number, got {epoch!r}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    # The restart n before epoch: T_0 (T_mult^n − 1)/(T_mult − 1) <= epoch.
                    n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = self._current_lrs()


def _check_schedulers(name: str, optimizer: Any, schedulers: Any) -> list[LRScheduler]:
    if isinstance(schedulers, LRScheduler) or not isinstance(schedulers, (list, tuple)):
        raise TypeError(f"{name}: schedulers must be a list of schedulers, got "
                        f"{type(schedulers).__name__}")
    if len(schedulers) < 1:
        raise ValueError(f"{name}: expects at least one scheduler, got an empty list")
    for i, scheduler in enumerate(schedulers):
        if not hasattr(scheduler, "optimizer"):
            raise TypeError(f"{name}: schedulers[{i}] ({type(scheduler).__name__}) is not a "
                            "scheduler: it has no optimizer attribute")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(f"{name}: schedulers[{i}] is a ReduceLROnPlateau, which is not "
                             "supported: its step() needs the metric; step it separately")
        if scheduler.optimizer is not optimizer:
            raise ValueError(f"{name}: all schedulers must belong to the same optimizer, but "
                             f"schedulers[{i}] ({type(scheduler).__name__}) has another one")
    return list(schedulers)


class SequentialLR(LRScheduler):
    """Run schedulers one after another, switching at the ``milestones`` epochs.

    ``SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=5), CosineAnnealingLR(opt, 95)],
    milestones=[5])`` warms up for 5 epochs, then anneals; each scheduler starts its own
    schedule afresh (at its epoch 0, from the initial rate) when its turn comes.

    Args:
        optimizer: the optimizer, the one all the schedulers drive.
        schedulers: the schedulers, in order (they were built on ``optimizer``).
        milestones: the epochs at which the next scheduler takes over, one fewer than
            schedulers, in increasing order.
        last_epoch: see ``LRScheduler``.
    """

    def __init__(self, optimizer: Optimizer, schedulers: list[LRScheduler],
                 milestones: list[int], last_epoch: int = -1):
        name = "SequentialLR"
        _check_optimizer(name, optimizer)
        schedulers = _check_schedulers(name, optimizer, schedulers)
        milestones = list(milestones)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"{name}: expects one milestone fewer than schedulers, got "
                             f"{len(schedulers)} schedulers and {len(milestones)} milestones")
        for m in milestones:
            if isinstance(m, bool) or not isinstance(m, int) or m < 0:
                raise ValueError(f"{name}: milestones must be non-negative integers, got "
                                 f"{milestones!r}")
        if milestones != sorted(milestones):
            raise ValueError(f"{name}: milestones must be in increasing order, got {milestones!r}")
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # Building the schedulers stepped them once each; start from the initial rates and
        # undo those steps, then let the scheduler of epoch 0 take its first step.
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self.recursive_undo()
        index = bisect_right(milestones, 0)
        schedulers[index]._initial_step()
        self._last_lr = schedulers[index].get_last_lr()

    def recursive_undo(self, sched: Any = None) -> None:
        """Take back the step each (nested) scheduler took when it was built."""
        target = self if sched is None else sched
        if hasattr(target, "_schedulers"):
            for child in target._schedulers:
                self.recursive_undo(child)
        elif hasattr(target, "last_epoch"):
            target.last_epoch -= 1

    def step(self) -> None:  # type: ignore[override]
        """Advance one epoch: the scheduler whose turn it is steps (or starts, at a milestone)."""
        self.last_epoch += 1
        index = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        """As ``LRScheduler.state_dict``, with each scheduler's state in ``'_schedulers'``."""
        state = {key: (list(value) if isinstance(value, list) else value)
                 for key, value in self.__dict__.items()
                 if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by ``state_dict()``, the schedulers' included."""
        state = dict(state_dict)
        saved = state.pop("_schedulers")
        self.__dict__.update(state)
        for scheduler, scheduler_state in zip(self._schedulers, saved):
            scheduler.load_state_dict(scheduler_state)


class ChainedScheduler(LRScheduler):
    """Step several schedulers together: each ``step()`` steps all of them, in order.

    The chainable schedulers scale the rate the group has now, so chaining multiplies their
    factors: ``ChainedScheduler([ConstantLR(opt, 0.1, total_iters=2), ExponentialLR(opt,
    0.9)])`` is 0.1 · 0.9ᵗ for two epochs, then 0.9ᵗ.

    Args:
        schedulers: the schedulers, all built on the same optimizer.
        optimizer: that optimizer (default: the first scheduler's).
    """

    def __init__(self, schedulers: Sequence[LRScheduler], optimizer: Optimizer | None = None):
        name = "ChainedScheduler"
        if isinstance(schedulers, (list, tuple)) and schedulers and optimizer is None:
            optimizer = getattr(schedulers[0], "optimizer", None)
        self._schedulers = _check_schedulers(name, optimizer, schedulers)
        self.optimizer = optimizer
        self._last_lr = self._current_lrs()

    def step(self) -> None:  # type: ignore[override]
        """Step every scheduler once, in order."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._current_lrs()

    def state_dict(self) -> dict[str, Any]:
        """As ``LRScheduler.state_dict``, with each scheduler's state in ``'_schedulers'``."""
        return SequentialLR.state_dict(self)  # type: ignore[arg-type]

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by ``state_dict()``, the schedulers' included."""
        SequentialLR.load_state_dict(self, state_dict)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        inner = ", ".join(type(s).__name__ for s in self._schedulers)
        return f"ChainedScheduler([{inner}], lr={self._last_lr})"
