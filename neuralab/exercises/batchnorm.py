"""Exercise `batchnorm`: batch normalization in training mode, forward and backward."""

from __future__ import annotations

import numpy as np

from neuralab.exercises import training
from neuralab.exercises.base import Case, Exercise, Pair, arrays, backprop, tensors
from neuralab.ops.norm import batch_norm

SKELETON = '''"""Exercise `batchnorm` (Ioffe & Szegedy, 2015; the networks of Lecture 12): batch
normalization of a batch of feature vectors while training, in NumPy.

Grade it with `neuralab exercise check batchnorm`, then train an MNIST MLP with your batch norm
with `neuralab exercise train batchnorm`.
"""

import numpy as np


def batchnorm_forward(x, gamma, beta, eps):
    """Normalize each feature over the batch, then scale and shift it:

        μ = (1/N) Σ_n x_n,   σ² = (1/N) Σ_n (x_n − μ)²,   x̂ = (x − μ) / √(σ² + ε),
        y = γ ⊙ x̂ + β

    Args:
        x: (N, D).  gamma, beta: (D,).  eps: ε, a small number.

    Returns:
        y (N, D), and a cache.
    """
    raise NotImplementedError("write me")


def batchnorm_backward(dout, cache):
    """x̄, γ̄, β̄ given ȳ = dout (N, D).

    Derivation hint: μ and σ² are functions of every x_n of the batch, so x̄ has three paths:
    through x̂ directly, through μ and through σ². Start from x̂̄ = ȳ ⊙ γ, find σ̄² and μ̄,
    then add the three contributions; in terms of x̂̄, x̂ and their means over the batch the
    result simplifies to one line.

    Returns:
        dx (N, D), dgamma (D,), dbeta (D,).
    """
    raise NotImplementedError("write me")
'''


def _cases() -> list[Case]:
    g = np.random.default_rng(7)
    table = [("a batch", (4, 3), 1.0, 0.0), ("the smallest batch, N = 2", (2, 5), 1.0, 0.0),
             ("one feature", (8, 1), 1.0, 0.0), ("a large offset and scale", (5, 4), 10.0, 50.0),
             ("tiny variance (ε matters)", (6, 2), 1e-3, 0.0)]
    return [Case(label, {"x": g.standard_normal(shape) * scale + offset,
                         "gamma": g.standard_normal(shape[1]) + 1.0,
                         "beta": g.standard_normal(shape[1])}, {"eps": 1e-5})
            for label, shape, scale, offset in table]


def _reference(case: Case):
    t = tensors(case, ("x", "gamma", "beta"))
    out = {"out": batch_norm(t["x"], None, None, t["gamma"], t["beta"], training=True,
                             eps=case.params["eps"])}
    return arrays(out), backprop(out, t)


def _rules(name, expected, got, case):
    x, gamma, beta, eps = (case.inputs["x"], case.inputs["gamma"], case.inputs["beta"],
                           case.params["eps"])
    if np.shape(got) != np.shape(expected):
        return None

    def like(value):
        return np.allclose(got, value, rtol=1e-6, atol=1e-9)

    mu = x.mean(0)
    if name == "out":
        if len(x) > 1 and like(gamma * (x - mu) / np.sqrt(x.var(0, ddof=1) + eps) + beta):
            return "the batch variance divides by N (np.var's default), not by N − 1"
        if like(gamma * (x - mu) / np.sqrt(x.var(0)) + beta):
            return "add ε inside the square root: √(σ² + ε)"
        if like(gamma * (x - mu) / (x.var(0) + eps) + beta):
            return "divide by the standard deviation √(σ² + ε), not by the variance"
        if like(gamma * (x - mu.mean()) / np.sqrt(x.var() + eps) + beta):
            return "normalize each feature over the batch (axis 0), not over everything"
    if name == "dx":
        if like(case.douts["out"] * gamma / np.sqrt(x.var(0) + eps)):
            return ("μ and σ² depend on x too: x̄ needs the paths through μ and σ², not only "
                    "ȳ γ / √(σ² + ε)")
    return None


PAIR = Pair("batchnorm_forward", "batchnorm_backward", ("x", "gamma", "beta"), ("eps",),
            ("out",), ("dx", "dgamma", "dbeta"), _reference, _cases, (_rules,))


def _rows(a):
    """(N, C, ...) -> (N·..., C): one row per value of each channel."""
    return np.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


def _unrows(rows, shape):
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return np.moveaxis(rows.reshape(moved), -1, 1)


class BatchNormKernel(training.LearnerCode):
    """The learner's pair as the batch_norm op's kernel while training (evaluation uses the
    running statistics, which neuralab keeps)."""

    def batch_norm_forward(self, ctx, x, w, b, stats, eps):
        rows = _rows(x)  # (M, C)
        c = x.shape[1]
        gamma = np.ones(c, dtype=x.dtype) if w is None else w
        beta = np.zeros(c, dtype=x.dtype) if b is None else b
        y, ctx.cache = self("batchnorm_forward", rows, gamma, beta, eps)
        ctx.shape = x.shape
        return _unrows(np.asarray(y, dtype=x.dtype), x.shape), rows.mean(0), rows.var(0)

    def batch_norm_backward(self, ctx, dy):
        dx, dw, db = self("batchnorm_backward", _rows(dy), ctx.cache)
        return (_unrows(np.asarray(dx, dtype=dy.dtype), ctx.shape),
                np.asarray(dw, dtype=dy.dtype), np.asarray(db, dtype=dy.dtype))


def _train(module, path, epochs, seed, log, limit=None) -> None:
    training.compare_mnist(log, "batchnorm", "an MLP 784-128-128-10 (batch norm, ReLU)",
                           lambda: training.mnist_mlp(("relu", "relu"), batchnorm=True),
                           epochs, seed, {"batch_norm": BatchNormKernel(module, path)},
                           limit=limit)


EXERCISE = Exercise(
    name="batchnorm", lecture="L12",
    goal="batch normalization while training: normalize over the batch, then x̄ through μ, σ²",
    skeleton=SKELETON, pairs=(PAIR,), train=_train, default_epochs=2)
