"""Exercise `momentum`: the SGD-with-momentum update (Lecture 7)."""

from __future__ import annotations

import numpy as np

from neuralab.exercises import training, updates
from neuralab.exercises.base import Exercise
from neuralab.optim import SGD

SKELETON = '''"""Exercise `momentum` (Lecture 7, optimization): one step of SGD with momentum, in
NumPy.

Grade it with `neuralab exercise check momentum`, then train an MNIST MLP with your optimizer
with `neuralab exercise train momentum`.
"""

import numpy as np


def sgd_momentum(w, dw, v, lr, momentum):
    """One update of the parameters w given their gradient dw = ∂J/∂w.

    The lecture's momentum: a velocity p accumulates the gradients, decaying by μ each step,
    and the parameters move along it:

        p ← μ p − α ∂J/∂w,        w ← w + p          (α: lr, μ: momentum)

    Args:
        w: the parameters (any shape).  dw: their gradient (the same shape).
        v: your velocity, the same shape; np.zeros_like(w) before the first step.
        lr: α.  momentum: μ in [0, 1).

    Returns:
        the new w and the new v (which is passed back in at the next step).

    Hint: with μ = 0 this is plain gradient descent; the grader follows w over many steps.
    """
    raise NotImplementedError("write me")
'''

HYPER = [{"lr": 0.1, "momentum": 0.9}, {"lr": 0.05, "momentum": 0.0}]


def _reference(p, hp):
    return SGD([p], lr=hp["lr"], momentum=hp["momentum"])


def init_state(w):
    return np.zeros_like(w)


def learner_step(fn, w, dw, v, t, hp):
    return updates.returned(fn(w, dw, v, hp["lr"], hp["momentum"]), 2)


def _trajectory(update):
    def run(w, grads, hp):
        v = np.zeros_like(w)
        for dw in grads:
            w, v = update(w, dw, v, hp["lr"], hp["momentum"])
        return w
    return run


ALTERNATIVES = [
    ("the parameters moved uphill: w ← w + p with p ← μp − α∂J/∂w (a sign error)",
     _trajectory(lambda w, dw, v, lr, mu: (w - (mu * v - lr * dw), mu * v - lr * dw))),
    ("this is plain gradient descent: the velocity must carry over from step to step "
     "(return the new v, and use the v passed in)",
     _trajectory(lambda w, dw, v, lr, mu: (w - lr * dw, v))),
    ("the learning rate is applied twice (to the gradient in p, and again to p)",
     _trajectory(lambda w, dw, v, lr, mu: (w + lr * (mu * v - lr * dw), mu * v - lr * dw))),
    ("the parameters took the OLD velocity: update p first, then w ← w + p",
     _trajectory(lambda w, dw, v, lr, mu: (w + v, mu * v - lr * dw))),
]


def _grade(module, path):
    return updates.grade_updates(module, path, "sgd_momentum", HYPER, _reference, init_state,
                                 learner_step, ALTERNATIVES)


def _train(module, path, epochs, seed, log, limit=None) -> None:
    code = training.LearnerCode(module, path)
    hp = {"momentum": training.MOMENTUM}
    training.compare_mnist(
        log, "SGD with momentum", f"an MLP 784-128-10 (ReLU), lr {training.LR}, momentum "
        f"{training.MOMENTUM}", lambda: training.mnist_mlp(("relu",)), epochs, seed,
        mine_optimizer=lambda params: updates.LearnerOptimizer(
            params, training.LR, "sgd_momentum",
            lambda *a: code("sgd_momentum", *a), learner_step, init_state, hp),
        limit=limit)


EXERCISE = Exercise(
    name="momentum", lecture="L7",
    goal="the SGD-with-momentum update: a velocity that accumulates the gradients",
    skeleton=SKELETON, grade=_grade, train=_train, default_epochs=2)
