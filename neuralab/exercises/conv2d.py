"""Exercise `conv2d`: a convolution layer by im2col, forward and backward (Lecture 11)."""

from __future__ import annotations

import numpy as np

from neuralab.exercises import training
from neuralab.exercises.base import Case, Exercise, Pair, arrays, backprop, general_hint, tensors
from neuralab.models import create
from neuralab.ops.conv import conv2d

SKELETON = '''"""Exercise `conv2d` (Lecture 11, convolutional networks): a convolution layer in
NumPy, by im2col and one matrix product.

Grade it with `neuralab exercise check conv2d`, then train LeNet-5 on MNIST with your
convolution with `neuralab exercise train conv2d`.
"""

import numpy as np


def conv2d_forward(x, w, b, stride, padding):
    """z[n, o, i, j] = b[o] + Σ_{c, u, v} w[o, c, u, v] · x_pad[n, c, i·s + u, j·s + v]

    (cross-correlation, as every deep-learning library computes it; x_pad is x with `padding`
    zeros around each image).

    Args:
        x: (N, C, H, W) images.  w: (O, C, kh, kw) filters.  b: (O,) biases.
        stride: s, an int (the same both ways).  padding: p, an int (the same on all sides).

    Returns:
        z (N, O, OH, OW) with OH = (H + 2p − kh) // s + 1 (likewise OW), and a cache.

    Hint (im2col): gather each receptive field of x_pad into a row of a matrix X_col of shape
    (N·OH·OW, C·kh·kw), ordered (c, u, v) like the filters; then Z = X_col W_matᵀ + b with
    W_mat = w.reshape(O, −1). Reshape Z back to (N, O, OH, OW).
    """
    raise NotImplementedError("write me")


def conv2d_backward(dout, cache):
    """The gradients given z̄ = dout (N, O, OH, OW).

    Derivation hint: Z = X_col W_matᵀ + b is a linear layer over the rows of X_col, so W̄_mat
    and X̄_col are matrix products as in the linear layer. Then col2im: scatter every row of
    X̄_col back onto its receptive field of x_pad. Receptive fields overlap when the stride is
    smaller than the kernel; a pixel in several of them receives the sum. Crop the padding.

    Returns:
        dx (N, C, H, W), dw (O, C, kh, kw), db (O,).
    """
    raise NotImplementedError("write me")
'''


def _cases() -> list[Case]:
    g = np.random.default_rng(5)
    table = [("a 1x1 kernel, a batch of one", (1, 1, 3, 3), (2, 1, 1, 1), 1, 0),
             ("non-overlapping windows (stride = kernel)", (2, 2, 4, 4), (3, 2, 2, 2), 2, 0),
             ("a batch, 3x3 kernels", (2, 3, 5, 5), (4, 3, 3, 3), 1, 0),
             ("padding 1", (2, 3, 5, 5), (2, 3, 3, 3), 1, 1),
             ("stride 2, padding 1", (2, 3, 7, 7), (4, 3, 3, 3), 2, 1),
             ("a non-square image and kernel", (1, 2, 5, 6), (3, 2, 3, 2), 1, 0),
             ("stride 2 with a row and a column left over", (1, 1, 6, 6), (1, 1, 3, 3), 2, 0),
             ("a kernel as large as the padded image", (2, 1, 3, 3), (1, 1, 5, 5), 1, 1)]
    return [Case(label, {"x": g.standard_normal(xs), "w": g.standard_normal(ws),
                         "b": g.standard_normal(ws[0])}, {"stride": s, "padding": p})
            for label, xs, ws, s, p in table]


def _reference(case: Case):
    t = tensors(case, ("x", "w", "b"))
    out = {"out": conv2d(t["x"], t["w"], t["b"], stride=case.params["stride"],
                         padding=case.params["padding"])}
    return arrays(out), backprop(out, t)


def _rules(name, expected, got, case):
    x, w, b = case.inputs["x"], case.inputs["w"], case.inputs["b"]
    s, p = case.params["stride"], case.params["padding"]
    if np.shape(got) != np.shape(expected):
        if name == "db":
            return "db has one value per output channel: sum dout over N, OH and OW (axes 0, 2, 3)"
        if name == "out":
            return (f"the output is (N, O, OH, OW) with OH = (H + 2p − kh) // s + 1 = "
                    f"({x.shape[2]} + {2 * p} − {w.shape[2]}) // {s} + 1 = {expected.shape[2]}")
        return None
    if name == "out":
        with np.errstate(all="ignore"):
            flipped = conv2d(*(tensors(Case("", {"x": x, "w": w[:, :, ::-1, ::-1], "b": b}),
                                       ("x", "w", "b")).values()), stride=s, padding=p).array
        if np.allclose(got, flipped):
            return ("you flipped the kernel (the convolution of signal processing); deep "
                    "learning's conv2d is cross-correlation: w[o, c, u, v] meets x_pad[.., i·s + "
                    "u, j·s + v]")
        if np.allclose(got, expected - b.reshape(1, -1, 1, 1)):
            return "the bias b is missing"
    if name == "dx" and s < max(w.shape[2:]) and general_hint(name, expected, got, case) is None:
        return ("receptive fields overlap here (stride < kernel): in col2im a pixel in several "
                "of them must receive the SUM of their gradients (+= or np.add.at, not =)")
    return None


PAIR = Pair("conv2d_forward", "conv2d_backward", ("x", "w", "b"), ("stride", "padding"),
            ("out",), ("dx", "dw", "db"), _reference, _cases, (_rules,), gradcheck_case=6)


class Conv2dKernel(training.LearnerCode):
    """The learner's pair as the conv2d op's kernel (square stride, even padding, no dilation
    or groups: LeNet-5's convolutions)."""

    def conv2d_forward(self, ctx, x, w, b, stride, padding, dilation, groups):
        (pt, pb), (pl, pr) = padding
        if dilation != (1, 1) or groups != 1 or stride[0] != stride[1] or \
                len({pt, pb, pl, pr}) != 1:
            raise ValueError("the learner's conv2d takes one stride, one padding, no dilation "
                             f"and no groups; got stride {stride}, padding {padding}, dilation "
                             f"{dilation}, groups {groups}")
        bias = np.zeros(w.shape[0], dtype=x.dtype) if b is None else b
        z, ctx.cache = self("conv2d_forward", x, w, bias, stride[0], pt)
        ctx.has_bias = b is not None
        return np.asarray(z, dtype=x.dtype)

    def conv2d_backward(self, ctx, dout):
        dx, dw, db = (np.asarray(g, dtype=dout.dtype)
                      for g in self("conv2d_backward", dout, ctx.cache))
        return (dx, dw, db) if ctx.has_bias else (dx, dw)


def _train(module, path, epochs, seed, log, limit=None) -> None:
    training.compare_mnist(log, "conv2d", "LeNet-5 (ReLU, max pooling)",
                           lambda: create("lenet5"), epochs, seed,
                           {"conv2d": Conv2dKernel(module, path)}, limit=limit)


EXERCISE = Exercise(
    name="conv2d", lecture="L11",
    goal="a convolution layer by im2col: forward with stride and padding, dx (col2im), dw, db",
    skeleton=SKELETON, pairs=(PAIR,), train=_train, default_epochs=2)
