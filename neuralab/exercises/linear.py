"""Exercise `linear`: the fully connected layer z = x Wᵀ + b and its backward (Lecture 3)."""

from __future__ import annotations

import numpy as np

from neuralab.exercises import training
from neuralab.exercises.base import Case, Exercise, Pair, arrays, backprop, tensors
from neuralab.ops.linalg import linear

SKELETON = '''"""Exercise `linear` (Lecture 3): a fully connected layer, forward and backward, in
NumPy.

Grade it with `neuralab exercise check linear`, then train an MNIST MLP built on it with
`neuralab exercise train linear`.
"""

import numpy as np


def linear_forward(x, w, b):
    """z = x Wᵀ + b for a batch of N examples (PyTorch's weight layout).

    Args:
        x: (N, D) inputs, one row per example.
        w: (M, D) weights W: row m holds the weights into output unit m.
        b: (M,) biases.

    Returns:
        z: (N, M), and a cache: whatever backward needs (a tuple of arrays).
    """
    raise NotImplementedError("write me")


def linear_backward(dout, cache):
    """The gradients of the loss L given z̄ = ∂L/∂z (the lecture's bar notation).

    Derivation hint: z_nm = Σ_d x_nd w_md + b_m. Write ∂L/∂w_md = Σ_n z̄_nm ∂z_nm/∂w_md as a
    matrix product; every example uses the same W and b, so their gradients sum over n. Check
    each result against the shape of what it is the gradient of.

    Args:
        dout: z̄, shape (N, M).
        cache: what linear_forward returned.

    Returns:
        dx (N, D), dw (M, D), db (M,).
    """
    raise NotImplementedError("write me")
'''


def _cases() -> list[Case]:
    g = np.random.default_rng(0)
    table = [("a batch", 4, 5, 3), ("a batch of one", 1, 3, 2), ("one input feature", 3, 1, 4),
             ("one output unit", 5, 4, 1), ("square weights", 3, 4, 4)]
    return [Case(label, {"x": g.standard_normal((n, d)), "w": g.standard_normal((m, d)),
                         "b": g.standard_normal(m)}) for label, n, d, m in table]


def _reference(case: Case):
    t = tensors(case, ("x", "w", "b"))
    out = {"out": linear(t["x"], t["w"], t["b"])}
    return arrays(out), backprop(out, t)


PAIR = Pair("linear_forward", "linear_backward", ("x", "w", "b"), (), ("out",),
            ("dx", "dw", "db"), _reference, _cases)


class LinearKernel(training.LearnerCode):
    """The learner's pair as the ``linear`` op's kernel (inputs (*, D) flattened to (N, D))."""

    def linear_forward(self, ctx, x, w, b):
        x2 = x.reshape(-1, x.shape[-1])  # (N, D)
        bias = np.zeros(w.shape[0], dtype=x.dtype) if b is None else b
        z, ctx.cache = self("linear_forward", x2, w, bias)
        ctx.shape, ctx.has_bias = x.shape, b is not None
        return np.asarray(z, dtype=x.dtype).reshape(x.shape[:-1] + (w.shape[0],))

    def linear_backward(self, ctx, dout):
        dx, dw, db = self("linear_backward", dout.reshape(-1, dout.shape[-1]), ctx.cache)
        dx = np.asarray(dx, dtype=dout.dtype).reshape(ctx.shape)
        dw = np.asarray(dw, dtype=dout.dtype)
        return (dx, dw, np.asarray(db, dtype=dout.dtype)) if ctx.has_bias else (dx, dw)


def _train(module, path, epochs, seed, log, limit=None) -> None:
    training.compare_mnist(log, "linear", "an MLP 784-128-10 (ReLU)",
                           lambda: training.mnist_mlp(("relu",)), epochs, seed,
                           {"linear": LinearKernel(module, path)}, limit=limit)


EXERCISE = Exercise(
    name="linear", lecture="L3",
    goal="the fully connected layer z = x Wᵀ + b: forward, and dx, dW, db by hand",
    skeleton=SKELETON, pairs=(PAIR,), train=_train, default_epochs=2)
