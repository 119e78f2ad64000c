"""Exercise `mlp`: a two-layer perceptron's backward pass by hand, no autograd (Lecture 6)."""

from __future__ import annotations

import numpy as np

from neuralab import nn
from neuralab.autograd.function import Function
from neuralab.exercises import training
from neuralab.exercises.base import Case, Exercise, Pair, arrays, backprop, tensors
from neuralab.ops.elementwise import relu
from neuralab.ops.linalg import linear

SKELETON = '''"""Exercise `mlp` (Lecture 6, backpropagation): a two-layer MLP's forward and
backward pass written out by hand in NumPy, without any automatic differentiation.

    z1 = x W1ᵀ + b1,   h = ReLU(z1),   y = h W2ᵀ + b2          (y: the class scores)

Grade it with `neuralab exercise check mlp`, then train it on MNIST with
`neuralab exercise train mlp`.
"""

import numpy as np


def mlp_forward(x, W1, b1, W2, b2):
    """The scores of a batch.

    Args:
        x: (N, D) inputs.  W1: (H, D), b1: (H,): the hidden layer (PyTorch's layout).
        W2: (K, H), b2: (K,): the output layer.

    Returns:
        y (N, K), and a cache of what the backward pass needs (keep the intermediate values).
    """
    raise NotImplementedError("write me")


def mlp_backward(dy, cache):
    """Backpropagation, from ȳ = ∂L/∂y back to every input.

    Derivation hint: walk the computation graph backwards, one line per node, in the lecture's
    bar notation: ȳ → (W̄2, b̄2, h̄) → z̄1 → (W̄1, b̄1, x̄). Each bar has the shape of its value.

    Returns:
        dx (N, D), dW1 (H, D), db1 (H,), dW2 (K, H), db2 (K,).
    """
    raise NotImplementedError("write me")
'''

NAMES = ("x", "W1", "b1", "W2", "b2")


def _cases() -> list[Case]:
    g = np.random.default_rng(3)
    table = [("a batch", 4, 5, 6, 3), ("a batch of one", 1, 3, 4, 2),
             ("one hidden unit", 3, 4, 1, 3), ("one input feature", 5, 1, 3, 2)]
    cases = []
    for label, n, d, h, k in table:
        x = g.standard_normal((n, d))
        w1, b1 = g.standard_normal((h, d)), g.standard_normal(h)
        z1 = x @ w1.T + b1
        b1 = b1 + np.where(np.abs(z1).min(axis=0) < 0.05, 0.3, 0.0)  # no unit sits at ReLU's kink
        cases.append(Case(label, {"x": x, "W1": w1, "b1": b1, "W2": g.standard_normal((k, h)),
                                  "b2": g.standard_normal(k)}))
    return cases


def _reference(case: Case):
    t = tensors(case, NAMES)
    out = {"y": linear(relu(linear(t["x"], t["W1"], t["b1"])), t["W2"], t["b2"])}
    return arrays(out), backprop(out, t)


def _rules(name, expected, got, case):
    if name in ("dW1", "db1", "dx"):
        x, w1, w2 = (case.inputs[k] for k in ("x", "W1", "W2"))
        dz1 = case.douts["y"] @ w2  # without the ReLU's mask
        unmasked = {"dW1": dz1.T @ x, "db1": dz1.sum(0), "dx": dz1 @ w1}[name]
        if np.shape(got) == np.shape(unmasked) and np.allclose(got, unmasked) and \
                not np.allclose(unmasked, expected):
            return "backprop through the ReLU: z̄1 = h̄ ⊙ [z1 > 0]; the mask is missing"
    return None


PAIR = Pair("mlp_forward", "mlp_backward", NAMES, (), ("y",), ("dx", "dW1", "db1", "dW2", "db2"),
            _reference, _cases, (_rules,))


class LearnerMLP(Function):
    """The learner's whole two-layer MLP as one op: mlp_forward, then mlp_backward."""

    @staticmethod
    def forward(ctx, x, w1, b1, w2, b2, code):
        y, ctx.cache = code("mlp_forward", x, w1, b1, w2, b2)
        ctx.code, ctx.dtype = code, x.dtype
        return np.asarray(y, dtype=x.dtype)

    @staticmethod
    def backward(ctx, dy):
        grads = ctx.code("mlp_backward", dy, ctx.cache)
        return tuple(np.asarray(g, dtype=ctx.dtype) for g in grads)


class HandMLP(nn.Module):
    """784 → 128 (ReLU) → 10 whose forward and backward are the learner's (``code``) or, with
    ``code=None``, neuralab's layers."""

    def __init__(self, code=None):
        super().__init__()
        self.fc1, self.fc2, self.code = nn.Linear(784, 128), nn.Linear(128, 10), code

    def forward(self, x):
        x = x.reshape(x.shape[0], -1)
        if self.code is None:
            return self.fc2(relu(self.fc1(x)))
        return LearnerMLP.apply(x, self.fc1.weight, self.fc1.bias, self.fc2.weight,
                                self.fc2.bias, code=self.code)


def _train(module, path, epochs, seed, log, limit=None) -> None:
    code = training.LearnerCode(module, path)
    what = "an MLP 784-128-10 (ReLU)"
    log(f"training {what} on the shipped MNIST subset, {epochs} epoch(s), seed {seed}: yours "
        "(your forward and backward as one op) first, then neuralab's layers ...")
    mine = training.mnist_run(lambda: HandMLP(code), epochs, seed, limit=limit)
    theirs = training.mnist_run(lambda: HandMLP(None), epochs, seed, limit=limit)
    training.print_comparison(log, "mlp", f"{what}, {epochs} epoch(s), the same seed ({seed}) "
                              "and batches:", mine, theirs)


EXERCISE = Exercise(
    name="mlp", lecture="L6",
    goal="a two-layer MLP's backward pass by hand: every bar from ȳ back to x̄, no autograd",
    skeleton=SKELETON, pairs=(PAIR,), train=_train, default_epochs=2)
