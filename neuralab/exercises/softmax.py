"""Exercise `softmax`: softmax with the cross-entropy loss and its gradient (p − y)/N
(Lecture 4)."""

from __future__ import annotations

import numpy as np

from neuralab.autograd import Tensor
from neuralab.exercises import training
from neuralab.exercises.base import Case, Exercise, Pair, arrays, backprop, tensors
from neuralab.ops.loss import cross_entropy

SKELETON = '''"""Exercise `softmax` (Lecture 4): softmax with the cross-entropy loss, in NumPy.

Grade it with `neuralab exercise check softmax`, then train an MNIST MLP whose loss is yours
with `neuralab exercise train softmax`.
"""

import numpy as np


def softmax_cross_entropy_forward(z, y):
    """The mean cross-entropy of the softmax of the scores z against the classes y.

        p_nk = exp(z_nk) / Σ_j exp(z_nj)          (softmax over the K classes of example n)
        L = −(1/N) Σ_n log p_n,y_n

    Args:
        z: (N, K) scores (logits), one row per example.
        y: (N,) integer classes in 0..K−1.

    Returns:
        L (a float), and a cache.

    Hint: exp(1000) overflows. Softmax does not change when the same number is subtracted from
    a whole row of z; log p can be computed without ever dividing by a sum.
    """
    raise NotImplementedError("write me")


def softmax_cross_entropy_backward(dloss, cache):
    """z̄ = ∂L/∂z, given dloss = ∂(whatever comes after)/∂L (1 when L is the final loss).

    Derivation hint: for one example, write −log p_y = −z_y + log Σ_j exp(z_j) and
    differentiate with respect to each z_k (the cases k = y and k ≠ y); then remember the 1/N
    of the mean, and the chain rule through dloss.

    Returns:
        dz (N, K).
    """
    raise NotImplementedError("write me")
'''


def _cases() -> list[Case]:
    g = np.random.default_rng(2)
    table = [("a batch", 4, 5, 1.0), ("a batch of one", 1, 3, 1.0), ("two classes", 6, 2, 1.0),
             ("one class per example (K = N)", 3, 3, 1.0), ("large scores", 3, 4, 500.0)]
    return [Case(label, {"z": g.standard_normal((n, k)) * scale,
                         "y": g.integers(0, k, n).astype(np.int64)})
            for label, n, k, scale in table]


def _reference(case: Case):
    t = tensors(case, ("z",))
    out = {"loss": cross_entropy(t["z"], Tensor(case.inputs["y"]))}
    return arrays(out), backprop(out, t)


def _rules(name, expected, got, case):
    z, y = case.inputs["z"], case.inputs["y"]
    n = len(y)
    if not np.all(np.isfinite(got)) and np.all(np.isfinite(expected)):
        return ("overflow: exp of a large score is inf; subtract each row's maximum from z "
                "before exp (the log-sum-exp shift), which leaves the softmax unchanged")
    if name == "loss":
        with np.errstate(all="ignore"):
            p0 = np.exp(z) / np.exp(z).sum(axis=0, keepdims=True)
            wrong_axis = -np.mean(np.log(p0[np.arange(n), y]))
        if n > 1 and np.isclose(got, wrong_axis):
            return "softmax normalizes over the classes of each example (axis 1), not the batch"
    if name == "dz":
        dloss = float(case.douts["loss"])
        if np.allclose(got * dloss, expected, rtol=1e-6) and not np.isclose(dloss, 1.0):
            return "multiply by dloss, the gradient coming into L: the chain rule"
    return None


PAIR = Pair("softmax_cross_entropy_forward", "softmax_cross_entropy_backward", ("z", "y"), (),
            ("loss",), ("dz",), _reference, _cases, (_rules,))


class CrossEntropyKernel(training.LearnerCode):
    """The learner's pair as the cross-entropy op's kernel (class indices, the mean loss)."""

    def cross_entropy_forward(self, ctx, x2, t, w, ignore_index, eps):
        loss, ctx.cache = self("softmax_cross_entropy_forward", x2, t)
        ctx.dtype = x2.dtype
        # The op averages per-example losses over norm = N; the learner's L is that mean.
        return np.full(len(x2), float(loss), dtype=x2.dtype), len(x2)

    def cross_entropy_backward(self, ctx, g):
        n = ctx.norm  # g = dout / N: the learner's backward takes dloss itself
        return np.asarray(self("softmax_cross_entropy_backward", g * n, ctx.cache),
                          dtype=ctx.dtype)


def _train(module, path, epochs, seed, log, limit=None) -> None:
    training.compare_mnist(log, "softmax", "an MLP 784-128-10 (ReLU) with your loss",
                           lambda: training.mnist_mlp(("relu",)), epochs, seed,
                           {"cross_entropy": CrossEntropyKernel(module, path)}, limit=limit)


EXERCISE = Exercise(
    name="softmax", lecture="L4",
    goal="softmax with the cross-entropy loss, stable for large scores, and z̄ = (p − y)/N",
    skeleton=SKELETON, pairs=(PAIR,), train=_train, default_epochs=2)
