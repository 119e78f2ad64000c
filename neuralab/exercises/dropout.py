"""Exercise `dropout`: inverted dropout, forward and backward (Lecture 9)."""

from __future__ import annotations

import numpy as np

from neuralab.backend import rng
from neuralab.exercises import training
from neuralab.exercises.base import Case, Exercise, Pair

SKELETON = '''"""Exercise `dropout` (Lecture 9, generalization): inverted dropout, in NumPy.

Grade it with `neuralab exercise check dropout`, then train an MNIST MLP with your dropout with
`neuralab exercise train dropout`.
"""

import numpy as np


def dropout_forward(x, p, train, seed):
    """While training, drop each unit with probability p; at test time, the identity.

    Draw the random mask exactly so (the grader replays it):
        keep = np.random.default_rng(seed).random(x.shape) >= p      (True: the unit stays)
    Inverted dropout scales the kept units so that the expected value of each output equals
    its input, and the network needs no change at test time.

    Args:
        x: activations (any shape).  p: the probability of DROPPING a unit, in [0, 1).
        train: True while training, False at test time.  seed: the mask's seed.

    Returns:
        out (the shape of x), and a cache.
    """
    raise NotImplementedError("write me")


def dropout_backward(dout, cache):
    """x̄ given out̄ = dout. Hint: out is x times a constant mask; what is ∂out/∂x?"""
    raise NotImplementedError("write me")
'''


def _cases() -> list[Case]:
    g = np.random.default_rng(4)
    table = [("a batch, p = 0.5", (6, 8), 0.5, True), ("p = 0.2", (5, 7), 0.2, True),
             ("a batch of one, p = 0.8", (1, 10), 0.8, True), ("p = 0 keeps everything",
                                                                (3, 4), 0.0, True),
             ("test time (train=False)", (4, 5), 0.5, False),
             ("images (N, C, H, W)", (2, 3, 2, 2), 0.3, True)]
    return [Case(label, {"x": g.standard_normal(shape) + 0.1}, {"p": p, "train": train,
                                                                  "seed": 100 + i})
            for i, (label, shape, p, train) in enumerate(table)]


def _scale(case: Case):
    x, p, seed = case.inputs["x"], case.params["p"], case.params["seed"]
    if not case.params["train"]:
        return np.ones_like(x)
    return (np.random.default_rng(seed).random(x.shape) >= p) / (1 - p)


def _reference(case: Case):
    scale = _scale(case)
    return {"out": case.inputs["x"] * scale}, lambda douts: {"dx": douts["out"] * scale}


def _rules(name, expected, got, case):
    x, p, seed, train = (case.inputs["x"], case.params["p"], case.params["seed"],
                         case.params["train"])
    keep = np.random.default_rng(seed).random(x.shape) >= p
    base = x if name == "out" else case.douts["out"]

    def like(value):
        return np.shape(got) == np.shape(value) and np.allclose(got, value, rtol=1e-6)

    if not train:
        if like(base * keep) or like(base * keep / (1 - p)):
            return "at test time (train=False) dropout is the identity: out = x"
        return None
    if like(base * keep):
        return "inverted dropout scales the kept units by 1/(1 − p), so E[out] = x"
    if like(base * keep / p):
        return "scale by 1/(1 − p), the probability of KEEPING a unit, not by 1/p"
    if like(base * ~keep / (1 - p)) or like(base * ~keep / p):
        return "p is the probability of DROPPING a unit: keep where the draw is >= p"
    if like(base * keep * (1 - p)):
        return "multiplying by (1 − p) at training time is the old dropout; inverted dropout " \
               "divides by (1 − p)"
    return None


PAIR = Pair("dropout_forward", "dropout_backward", ("x",), ("p", "train", "seed"), ("out",),
            ("dx",), _reference, _cases, (_rules,))


class DropoutKernel(training.LearnerCode):
    """The learner's pair as the dropout op's kernel (a fresh seed from neuralab's generator)."""

    def dropout_forward(self, ctx, x, p, mask_shape):
        if mask_shape is not None:
            raise ValueError("the learner's dropout drops single units; channel dropout "
                             "(dropout2d) is neuralab's")
        seed = int(rng().integers(2**31))
        out, ctx.cache = self("dropout_forward", x, p, True, seed)
        return np.asarray(out, dtype=x.dtype)

    def dropout_backward(self, ctx, dout):
        return np.asarray(self("dropout_backward", dout, ctx.cache), dtype=dout.dtype)


def _train(module, path, epochs, seed, log, limit=None) -> None:
    training.compare_mnist(log, "dropout", "an MLP 784-256-10 (ReLU, dropout 0.3)",
                           lambda: training.mnist_mlp(("relu",), hidden=256, dropout=0.3),
                           epochs, seed, {"dropout": DropoutKernel(module, path)}, limit=limit)


EXERCISE = Exercise(
    name="dropout", lecture="L9",
    goal="inverted dropout: drop units with probability p, scale the rest by 1/(1 − p)",
    skeleton=SKELETON, pairs=(PAIR,), train=_train, default_epochs=2)
