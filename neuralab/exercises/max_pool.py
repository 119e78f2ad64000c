"""Exercise `max_pool`: max pooling and its gradient routing (Lecture 11)."""

from __future__ import annotations

import numpy as np

from neuralab.exercises import training
from neuralab.exercises.base import Case, Exercise, Pair, arrays, backprop, general_hint, tensors
from neuralab.models import create
from neuralab.ops.pool import max_pool2d

SKELETON = '''"""Exercise `max_pool` (Lecture 11, convolutional networks): max pooling in NumPy.

Grade it with `neuralab exercise check max_pool`, then train LeNet-5 on MNIST with your pooling
with `neuralab exercise train max_pool`.
"""

import numpy as np


def max_pool_forward(x, pool_size, stride):
    """z[n, c, i, j] = max over the pool_size x pool_size window of x[n, c] at (i·s, j·s).

    Args:
        x: (N, C, H, W).  pool_size: k, an int (square windows).  stride: s, an int.

    Returns:
        z (N, C, OH, OW) with OH = (H − k) // s + 1 (likewise OW; no padding), and a cache.
    """
    raise NotImplementedError("write me")


def max_pool_backward(dout, cache):
    """x̄ given z̄ = dout.

    Derivation hint: within a window, z = max(...) depends on one input only (the "switch"),
    so z̄ flows to that position and nowhere else. When several inputs tie for the maximum,
    give the gradient to the first of them in row-major order (np.argmax's choice, PyTorch's
    rule). Windows overlap when s < k: an input can be the maximum of several of them.

    Returns:
        dx (N, C, H, W).
    """
    raise NotImplementedError("write me")
'''


def _cases() -> list[Case]:
    g = np.random.default_rng(6)
    table = [("a batch of one, one 2x2 window", (1, 1, 2, 2), 2, 2, False),
             ("a batch, 2x2 windows, stride 2", (2, 3, 4, 4), 2, 2, False),
             ("3x3 windows, stride 2 (overlapping)", (2, 2, 5, 5), 3, 2, False),
             ("2x2 windows, stride 1 (overlapping)", (1, 2, 4, 4), 2, 1, False),
             ("a row and a column left over", (2, 1, 5, 5), 2, 2, False),
             ("ties: equal maxima in a window", (2, 2, 4, 4), 2, 2, True),
             ("ties with overlapping windows", (1, 1, 4, 4), 2, 1, True)]
    return [Case(label, {"x": (g.integers(0, 2, shape).astype(float) if ties else
                               g.standard_normal(shape))}, {"pool_size": k, "stride": s})
            for label, shape, k, s, ties in table]


def _reference(case: Case):
    t = tensors(case, ("x",))
    out = {"out": max_pool2d(t["x"], case.params["pool_size"], case.params["stride"])}
    return arrays(out), backprop(out, t)


def _rules(name, expected, got, case):
    k, s = case.params["pool_size"], case.params["stride"]
    if name == "out" and np.shape(got) != np.shape(expected):
        return f"the output is (N, C, OH, OW) with OH = (H − k) // s + 1 = {expected.shape[2]}"
    if name != "dx" or np.shape(got) != np.shape(expected):
        return None
    if "ties" in case.label:
        return ("ties: route z̄ to ONE maximum per window, the first in row-major order "
                "(np.argmax over the flattened window), not to every tied position")
    if s < k and general_hint(name, expected, got, case) is None:
        return ("windows overlap here (stride < window): an input that is the maximum of "
                "several windows receives the SUM of their gradients (+=, not =)")
    return None


PAIR = Pair("max_pool_forward", "max_pool_backward", ("x",), ("pool_size", "stride"), ("out",),
            ("dx",), _reference, _cases, (_rules,), gradcheck_case=2)


class MaxPoolKernel(training.LearnerCode):
    """The learner's pair as the max_pool2d op's kernel (square windows, no padding)."""

    def max_pool2d_forward(self, ctx, x, kernel, stride, padding, dilation, out_hw,
                           with_indices):
        if kernel[0] != kernel[1] or stride[0] != stride[1] or tuple(padding) != (0, 0) or \
                tuple(dilation) != (1, 1) or with_indices:
            raise ValueError("the learner's max pooling takes square windows and strides, no "
                             f"padding, dilation or indices; got kernel {kernel}, stride "
                             f"{stride}, padding {padding}, dilation {dilation}")
        z, ctx.cache = self("max_pool_forward", x, kernel[0], stride[0])
        return np.asarray(z, dtype=x.dtype)

    def max_pool2d_backward(self, ctx, dout):
        return np.asarray(self("max_pool_backward", dout, ctx.cache), dtype=dout.dtype)


def _train(module, path, epochs, seed, log, limit=None) -> None:
    training.compare_mnist(log, "max_pool", "LeNet-5 (ReLU, max pooling)",
                           lambda: create("lenet5"), epochs, seed,
                           {"max_pool2d": MaxPoolKernel(module, path)}, limit=limit)


EXERCISE = Exercise(
    name="max_pool", lecture="L11",
    goal="max pooling: the window maxima, and z̄ routed to the first maximum (ties included)",
    skeleton=SKELETON, pairs=(PAIR,), train=_train, default_epochs=2)
