"""Grading and training of the optimizer exercises (`momentum`, `adam`): an update rule is
graded by the trajectory it produces, step by step against neuralab's optimizer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from neuralab.autograd import Tensor
from neuralab.exercises.base import Failure, call, learner_function
from neuralab.optim.optimizer import Optimizer


def trajectory_cases() -> list[tuple[str, tuple, int]]:
    """(label, parameter shape, steps)."""
    return [("a weight matrix, 6 steps", (3, 4), 6), ("a single parameter, 4 steps", (1,), 4),
            ("a bias vector, 10 steps", (5,), 10)]


def grade_updates(module: ModuleType, path: Path, fn_name: str, hyper: list[dict],
                  reference: Callable[[Tensor, dict], Optimizer], init_state: Callable,
                  learner_step: Callable, alternatives: list[tuple[str, Callable]]) -> list[str]:
    """Run the learner's update and neuralab's optimizer on the same gradient sequence.

    ``learner_step(fn, w, dw, state, t, hp) -> (w, state)`` calls the learner's function;
    ``alternatives`` are (hint, step) pairs of typical wrong updates, with the same signature
    over a plain function of the correct form, tried when the learner's trajectory is wrong.
    """
    fn = learner_function(module, path, fn_name)
    count = 0
    for hp in hyper:
        for number, (label, shape, steps) in enumerate(trajectory_cases()):
            g = np.random.default_rng(10 + number)
            w0 = g.standard_normal(shape)
            grads = [g.standard_normal(shape) for _ in range(steps)]
            p = Tensor(w0.copy(), dtype=np.float64, requires_grad=True)
            opt = reference(p, hp)
            w, state = w0.copy(), init_state(w0)
            settings = ", ".join(f"{k}={v}" for k, v in hp.items())
            for t, dw in enumerate(grads, start=1):
                p.grad = Tensor(dw.copy(), dtype=np.float64)
                opt.step()
                doing = f'step {t} of "{label}" ({settings})'
                def learner(*a, doing=doing):
                    return call(path, fn, a, doing=doing)

                w, state = unpacked(fn_name, learner_step, learner, w.copy(), dw.copy(), state,
                                    t, hp)
                got, expected = np.asarray(w, dtype=np.float64), p.array
                if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-6,
                                                                  atol=1e-9):
                    raise Failure(_report(label, settings, t, shape, expected, got,
                                          _hint(alternatives, w0, grads, t, hp, got)))
            count += 1
    return [f"{fn_name}: {count} trajectories ({', '.join(l for l, _, _ in trajectory_cases())}"
            f"; {len(hyper)} settings) match neuralab's optimizer step by step (float64)"]


def returned(result: Any, n: int) -> tuple:
    """The learner's n return values (a TypeError naming what came instead)."""
    if not isinstance(result, (tuple, list)) or len(result) != n:
        got = (f"{len(result)} values" if isinstance(result, (tuple, list)) else
               f"one {type(result).__name__}")
        raise TypeError(f"expected {n} values, got {got}")
    return tuple(result)


def unpacked(fn_name: str, learner_step: Callable, *args: Any) -> tuple:
    """learner_step(*args), with a result of the wrong form named as the learner's mistake."""
    try:
        return learner_step(*args)
    except (TypeError, ValueError) as err:
        raise Failure(f"{fn_name} must return the values its docstring lists ({err})") from None


def _report(label, settings, t, shape, expected, got, hint):
    head = f'wrong parameters after step {t} of "{label}" ({settings}): w {shape}'
    if got.shape != expected.shape:
        body = f"  w: expected shape {expected.shape}, got {got.shape}"
    else:
        index = tuple(int(i) for i in np.argwhere(~np.isclose(got, expected, rtol=1e-6,
                                                              atol=1e-9))[0])
        body = (f"  w[{', '.join(map(str, index))}]: expected {expected[index]:.10g}, got "
                f"{got[index]:.10g}")
    return f"{head}\n{body}" + (f"\n  hint: {hint}" if hint else "")


def _hint(alternatives, w0, grads, t, hp, got) -> str | None:
    """The typical mistake whose trajectory the learner's reproduces, if any."""
    for hint, run in alternatives:
        with np.errstate(all="ignore"):
            w = run(w0.copy(), grads[:t], hp)
        if np.shape(w) == np.shape(got) and np.allclose(w, got, rtol=1e-6, atol=1e-9):
            return hint
    return None


class LearnerOptimizer(Optimizer):
    """An optimizer whose update is the learner's function (one call per parameter and step)."""

    def __init__(self, params: Any, lr: float, name: str, fn: Callable, step: Callable,
                 init_state: Callable, hp: dict):
        super().__init__(params, {"lr": lr})
        self._name, self._fn, self._learner_step = name, fn, step
        self._init_state, self.hp = init_state, hp

    def step(self, closure: Any = None) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state.setdefault(p, {"t": 0})
                if "learner" not in state:
                    state["learner"] = self._init_state(p.array)
                state["t"] += 1
                w, state["learner"] = unpacked(
                    self._name, self._learner_step, self._fn, p.array.copy(), p.grad.array,
                    state["learner"], state["t"], dict(self.hp, lr=group["lr"]))
                p.array[...] = np.asarray(w, dtype=p.array.dtype)
