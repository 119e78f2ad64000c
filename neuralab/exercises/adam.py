"""Exercise `adam`: the Adam update with its bias correction (Lecture 7)."""

from __future__ import annotations

import numpy as np

from neuralab.exercises import training, updates
from neuralab.exercises.base import Exercise
from neuralab.optim import Adam

SKELETON = '''"""Exercise `adam` (Lecture 7, optimization): one step of Adam, in NumPy.

Grade it with `neuralab exercise check adam`, then train an MNIST MLP with your optimizer with
`neuralab exercise train adam`.
"""

import numpy as np


def adam(w, dw, m, v, t, lr, beta1, beta2, eps):
    """One Adam update of the parameters w given their gradient g = dw (Kingma & Ba, 2015).

        m ← β1 m + (1 − β1) g              (a running mean of the gradients)
        v ← β2 v + (1 − β2) g ⊙ g          (a running mean of their squares)
        m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)     (m and v start at 0: undo that bias)
        w ← w − α m̂ / (√v̂ + ε)

    Args:
        w, dw: the parameters and their gradient (any shape, the same).
        m, v: your running means, np.zeros_like(w) before the first step.
        t: the number of this step: 1 at the first call, then 2, 3, ...
        lr: α.  beta1, beta2: β1, β2.  eps: ε.

    Returns:
        the new w, m and v.
    """
    raise NotImplementedError("write me")
'''

HYPER = [{"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
         {"lr": 0.1, "beta1": 0.8, "beta2": 0.99, "eps": 1e-2}]


def _reference(p, hp):
    return Adam([p], lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"])


def init_state(w):
    return np.zeros_like(w), np.zeros_like(w)


def learner_step(fn, w, dw, state, t, hp):
    w, m, v = updates.returned(fn(w, dw, state[0], state[1], t, hp["lr"], hp["beta1"],
                                  hp["beta2"], hp["eps"]), 3)
    return w, (m, v)


def _trajectory(step):
    def run(w, grads, hp):
        m, v = np.zeros_like(w), np.zeros_like(w)
        for t, g in enumerate(grads, start=1):
            b1, b2 = hp["beta1"], hp["beta2"]
            w, m, v = step(w, g, m, v, t, hp["lr"], b1, b2, hp["eps"])
        return w
    return run


def _variant(bias=True, square=True, eps_inside=False, sign=1.0, t_shift=0):
    def step(w, g, m, v, t, lr, b1, b2, eps):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * (g * g if square else g)
        tt = t + t_shift
        m_hat, v_hat = (m / (1 - b1 ** tt), v / (1 - b2 ** tt)) if bias else (m, v)
        denom = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
        return w - sign * lr * m_hat / denom, m, v
    return _trajectory(step)


ALTERNATIVES = [
    ("the bias correction is missing: divide m by (1 − β1^t) and v by (1 − β2^t)",
     _variant(bias=False)),
    ("the parameters moved uphill: w ← w − α m̂ / (√v̂ + ε) (a sign error)", _variant(sign=-1.0)),
    ("v is the running mean of the SQUARED gradient g ⊙ g", _variant(square=False)),
    ("ε goes outside the square root: √v̂ + ε", _variant(eps_inside=True)),
    ("t counts from 1 at the first step (the bias correction uses β^t with t = 1, 2, ...)",
     _variant(t_shift=1)),
]


def _grade(module, path):
    return updates.grade_updates(module, path, "adam", HYPER, _reference, init_state,
                                 learner_step, ALTERNATIVES)


def _train(module, path, epochs, seed, log, limit=None) -> None:
    code = training.LearnerCode(module, path)
    hp = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    training.compare_mnist(
        log, "Adam", "an MLP 784-128-10 (ReLU), Adam lr 0.001", lambda: training.mnist_mlp(
            ("relu",)), epochs, seed,
        mine_optimizer=lambda params: updates.LearnerOptimizer(
            params, 1e-3, "adam",
            lambda *a: code("adam", *a), learner_step, init_state, hp),
        their_optimizer=lambda params: Adam(params, lr=1e-3), limit=limit)


EXERCISE = Exercise(
    name="adam", lecture="L7",
    goal="the Adam update: running means of g and g², bias correction, per-parameter steps",
    skeleton=SKELETON, grade=_grade, train=_train, default_epochs=2)
