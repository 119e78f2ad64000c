"""Exercise `activations`: sigmoid, tanh and ReLU with their derivatives (Lecture 5)."""

from __future__ import annotations

import numpy as np

from neuralab.exercises import training
from neuralab.exercises.base import Case, Exercise, Pair, arrays, backprop, tensors
from neuralab.ops.elementwise import relu, sigmoid, tanh

SKELETON = '''"""Exercise `activations` (Lecture 5): the logistic sigmoid, tanh and ReLU, in NumPy.

Each forward takes z (any shape) and returns the activation h = φ(z) elementwise and a cache;
each backward takes h̄ = ∂L/∂h (the shape of z) and the cache and returns z̄ = h̄ ⊙ φ'(z).

Grade it with `neuralab exercise check activations`, then train an MNIST MLP with a sigmoid, a
tanh and a ReLU hidden layer with `neuralab exercise train activations`.
"""

import numpy as np


def sigmoid_forward(z):
    """h = σ(z) = 1 / (1 + exp(−z)) elementwise; returns h, cache.

    Hint: for large negative z, exp(−z) overflows to inf; 1 / (1 + inf) is still 0, but you may
    prefer a form that never overflows.
    """
    raise NotImplementedError("write me")


def sigmoid_backward(dout, cache):
    """z̄ = h̄ ⊙ σ'(z). Derivation hint: differentiate 1 / (1 + e^(−z)) and write the result in
    terms of σ(z) itself, which the forward pass already computed."""
    raise NotImplementedError("write me")


def tanh_forward(z):
    """h = tanh(z) elementwise; returns h, cache."""
    raise NotImplementedError("write me")


def tanh_backward(dout, cache):
    """z̄ = h̄ ⊙ tanh'(z). Hint: like σ', tanh' is a function of the output tanh(z)."""
    raise NotImplementedError("write me")


def relu_forward(z):
    """h = max(0, z) elementwise; returns h, cache."""
    raise NotImplementedError("write me")


def relu_backward(dout, cache):
    """z̄ = h̄ ⊙ [z > 0] (the derivative at exactly 0 is taken as 0)."""
    raise NotImplementedError("write me")
'''


def _cases() -> list[Case]:
    g = np.random.default_rng(1)

    def away_from_zero(shape, scale=2.0):
        z = g.standard_normal(shape) * scale
        return np.where(np.abs(z) < 0.05, 0.5, z)  # no kinks of ReLU in the table

    return [Case("a batch", {"z": away_from_zero((4, 5))}),
            Case("a batch of one", {"z": away_from_zero((1, 3))}),
            Case("any shape (N, C, H, W)", {"z": away_from_zero((2, 3, 2, 2))}),
            Case("large |z|", {"z": np.array([[-40.0, -15.0, 15.0, 40.0, 0.3]])})]


def _pair(name: str, op, rules) -> Pair:
    def reference(case: Case):
        t = tensors(case, ("z",))
        out = {"out": op(t["z"])}
        return arrays(out), backprop(out, t)

    return Pair(f"{name}_forward", f"{name}_backward", ("z",), (), ("out",), ("dz",), reference,
                _cases, rules)


def _like(got, value) -> bool:
    return np.shape(got) == np.shape(value) and np.allclose(got, value, rtol=1e-6, atol=1e-9)


def _sigmoid_rules(name, expected, got, case):
    if name != "dz":
        return None
    z, dout = case.inputs["z"], case.douts["out"]
    s = 1 / (1 + np.exp(-z))
    if _like(got, dout * s):
        return "σ'(z) = σ(z)(1 − σ(z)): the factor (1 − σ(z)) is missing"
    if _like(got, dout * z * (1 - z)):
        return "σ'(z) = σ(z)(1 − σ(z)) is a function of the OUTPUT σ(z), not of z"
    if _like(got, s * (1 - s)):
        return "multiply σ'(z) by the incoming gradient h̄ (dout): the chain rule"
    return None


def _tanh_rules(name, expected, got, case):
    if name != "dz":
        return None
    z, dout = case.inputs["z"], case.douts["out"]
    if _like(got, dout * (1 - z * z)):
        return "tanh'(z) = 1 − tanh²(z): square the OUTPUT tanh(z), not z"
    if _like(got, dout * (1 - np.tanh(z))):
        return "tanh'(z) = 1 − tanh²(z): the tanh is squared"
    if _like(got, 1 - np.tanh(z) ** 2):
        return "multiply tanh'(z) by the incoming gradient h̄ (dout): the chain rule"
    return None


def _relu_rules(name, expected, got, case):
    if name != "dz":
        return None
    z, dout = case.inputs["z"], case.douts["out"]
    if _like(got, dout):
        return "the gradient passes only where the unit was active: multiply by the mask [z > 0]"
    if _like(got, np.maximum(dout, 0)):
        return "mask by the sign of the INPUT z (z > 0), not by the sign of the gradient"
    if _like(got, (z > 0).astype(float)):
        return "multiply the mask [z > 0] by the incoming gradient h̄ (dout): the chain rule"
    return None


PAIRS = (_pair("sigmoid", sigmoid, (_sigmoid_rules,)), _pair("tanh", tanh, (_tanh_rules,)),
         _pair("relu", relu, (_relu_rules,)))


class ActivationKernel(training.LearnerCode):
    """The learner's three pairs as the kernels of the sigmoid, tanh and relu ops."""

    def _forward(self, name, ctx, x):
        h, ctx.cache = self(f"{name}_forward", x)
        return np.asarray(h, dtype=x.dtype)

    def _backward(self, name, ctx, dout):
        return np.asarray(self(f"{name}_backward", dout, ctx.cache), dtype=dout.dtype)

    def sigmoid_forward(self, ctx, x):
        return self._forward("sigmoid", ctx, x)

    def sigmoid_backward(self, ctx, dout):
        return self._backward("sigmoid", ctx, dout)

    def tanh_forward(self, ctx, x):
        return self._forward("tanh", ctx, x)

    def tanh_backward(self, ctx, dout):
        return self._backward("tanh", ctx, dout)

    def relu_forward(self, ctx, x):
        return self._forward("relu", ctx, x)

    def relu_backward(self, ctx, dout):
        return self._backward("relu", ctx, dout)


def _train(module, path, epochs, seed, log, limit=None) -> None:
    kernel = ActivationKernel(module, path)
    training.compare_mnist(log, "activations", "an MLP 784-128-128-128-10 (sigmoid, tanh, ReLU)",
                           lambda: training.mnist_mlp(("sigmoid", "tanh", "relu")), epochs, seed,
                           {"sigmoid": kernel, "tanh": kernel, "relu": kernel}, limit=limit)


EXERCISE = Exercise(
    name="activations", lecture="L5",
    goal="the sigmoid, tanh and ReLU units and their derivatives σ', tanh', [z > 0]",
    skeleton=SKELETON, pairs=PAIRS, train=_train, default_epochs=2)
