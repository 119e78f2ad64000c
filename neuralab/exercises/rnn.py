"""Exercise `rnn`: a vanilla RNN step and backpropagation through time (Lecture 14)."""

from __future__ import annotations

import numpy as np

from neuralab.autograd import Tensor
from neuralab.exercises import training
from neuralab.exercises.base import Case, Exercise, Pair, arrays, backprop, tensors
from neuralab.ops.elementwise import tanh
from neuralab.ops.linalg import linear
from neuralab.ops.recurrent import rnn_sequence

SKELETON = '''"""Exercise `rnn` (Lecture 14, recurrent neural nets): a vanilla tanh RNN in NumPy,
one step and then a whole sequence with backpropagation through time (BPTT).

Weights in PyTorch's layout: Wx (H, D) maps inputs to hidden units, Wh (H, H) hidden to hidden.

Grade it with `neuralab exercise check rnn`, then train an RNN on the adding problem with
`neuralab exercise train rnn`.
"""

import numpy as np


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """h = tanh(x Wxᵀ + h_prev Whᵀ + b) for a batch.

    Args:
        x: (N, D).  h_prev: (N, H).  Wx: (H, D).  Wh: (H, H).  b: (H,).

    Returns:
        h (N, H), and a cache.
    """
    raise NotImplementedError("write me")


def rnn_step_backward(dh, cache):
    """The gradients of one step given h̄ = dh (N, H).

    Hint: z̄ = h̄ ⊙ tanh'(z), then z = x Wxᵀ + h_prev Whᵀ + b is two linear layers.

    Returns:
        dx (N, D), dh_prev (N, H), dWx (H, D), dWh (H, H), db (H,).
    """
    raise NotImplementedError("write me")


def rnn_forward(x, h0, Wx, Wh, b):
    """Run the RNN over a sequence: h_t = tanh(x_t Wxᵀ + h_{t−1} Whᵀ + b), t = 1..T.

    Args:
        x: (N, T, D), batch first.  h0: (N, H), the state before the first step.

    Returns:
        h (N, T, H), every step's state, and a cache.
    """
    raise NotImplementedError("write me")


def rnn_backward(dh, cache):
    """BPTT given dh (N, T, H): the gradient of the loss with respect to each h_t coming from
    ABOVE (the outputs), not yet including what flows back from step t+1.

    Derivation hint: go from t = T down to 1. The total h̄_t is dh[:, t] plus the dh_prev that
    step t+1 sent back; the weights are shared by all steps, so their gradients add up.

    Returns:
        dx (N, T, D), dh0 (N, H), dWx (H, D), dWh (H, H), db (H,).
    """
    raise NotImplementedError("write me")
'''

STEP_NAMES = ("x", "h_prev", "Wx", "Wh", "b")
SEQ_NAMES = ("x", "h0", "Wx", "Wh", "b")


def _step_cases() -> list[Case]:
    g = np.random.default_rng(8)
    table = [("a batch", 3, 4, 5), ("a batch of one", 1, 2, 3), ("one hidden unit", 4, 3, 1),
             ("one input feature", 2, 1, 4)]
    return [Case(label, {"x": g.standard_normal((n, d)), "h_prev": g.standard_normal((n, h)),
                         "Wx": g.standard_normal((h, d)) * 0.5,
                         "Wh": g.standard_normal((h, h)) * 0.5, "b": g.standard_normal(h)})
            for label, n, d, h in table]


def _seq_cases() -> list[Case]:
    g = np.random.default_rng(9)
    table = [("a batch, 4 steps", 2, 4, 3, 5), ("a batch of one, 3 steps", 1, 3, 2, 3),
             ("one step", 3, 1, 2, 4), ("one hidden unit, 5 steps", 2, 5, 3, 1)]
    return [Case(label, {"x": g.standard_normal((n, t, d)), "h0": g.standard_normal((n, h)),
                         "Wx": g.standard_normal((h, d)) * 0.5,
                         "Wh": g.standard_normal((h, h)) * 0.5, "b": g.standard_normal(h)})
            for label, n, t, d, h in table]


def _step_reference(case: Case):
    t = tensors(case, STEP_NAMES)
    out = {"h": tanh(linear(t["x"], t["Wx"], t["b"]) + linear(t["h_prev"], t["Wh"]))}
    return arrays(out), backprop(out, t)


def _seq_reference(case: Case):
    t = tensors(case, SEQ_NAMES)
    zeros = Tensor(np.zeros(case.inputs["b"].shape), dtype=np.float64)
    h, _ = rnn_sequence(t["x"], t["h0"], t["Wx"], t["Wh"], t["b"], zeros, batch_first=True)
    out = {"h": h}
    return arrays(out), backprop(out, t)


def _bptt_rules(name, expected, got, case):
    """The gradient right at the last step but wrong before it: the recurrent path is missing."""
    if name == "dx" and np.shape(got) == np.shape(expected) and expected.shape[1] > 1 and \
            np.allclose(got[:, -1], expected[:, -1]) and not np.allclose(got, expected):
        return ("right at the last step, wrong before it: h̄_t must add the dh_prev that step "
                "t+1 sends back (BPTT), not only dh[:, t]")
    return None


PAIRS = (Pair("rnn_step_forward", "rnn_step_backward", STEP_NAMES, (), ("h",),
              ("dx", "dh_prev", "dWx", "dWh", "db"), _step_reference, _step_cases),
         Pair("rnn_forward", "rnn_backward", SEQ_NAMES, (), ("h",),
              ("dx", "dh0", "dWx", "dWh", "db"), _seq_reference, _seq_cases, (_bptt_rules,)))


class RNNKernel(training.LearnerCode):
    """The learner's rnn_forward/rnn_backward as the rnn op's kernel (tanh, one direction)."""

    def rnn_forward(self, ctx, x, h0, w_ih, w_hh, bias, relu, reverse):
        if relu or reverse:
            raise ValueError("the learner's RNN is a forward tanh RNN; got "
                             f"{'relu' if relu else 'tanh'}, reverse={reverse}")
        b = np.zeros(w_hh.shape[0], dtype=x.dtype) if bias is None else bias
        h, ctx.cache = self("rnn_forward", x.swapaxes(0, 1), h0, w_ih, w_hh, b)  # (N, T, D)
        ctx.out_shape, ctx.dtype = (x.shape[1], x.shape[0], w_hh.shape[0]), x.dtype
        return np.ascontiguousarray(np.asarray(h, dtype=x.dtype).swapaxes(0, 1))  # (T, N, H)

    def rnn_backward(self, ctx, dout, dh_n):
        # h̄ from above for every step: the outputs' gradient, plus h_n's at the last step.
        dh = (np.zeros(ctx.out_shape, dtype=ctx.dtype) if dout is None else
              np.array(dout.swapaxes(0, 1), copy=True))  # (N, T, H)
        if dh_n is not None:
            dh[:, -1] += dh_n
        dx, dh0, dwx, dwh, db = (np.asarray(g, dtype=ctx.dtype)
                                 for g in self("rnn_backward", dh, ctx.cache))
        dx = np.ascontiguousarray(dx.swapaxes(0, 1))  # (T, N, D)
        return (dx, dh0, dwx, dwh) + ((db, db.copy()) if ctx.has_bias else ())


def _train(module, path, epochs, seed, log, limit=None) -> None:
    training.compare_adding(log, "rnn", "rnn", epochs, seed, {"rnn": RNNKernel(module, path)})


EXERCISE = Exercise(
    name="rnn", lecture="L14",
    goal="a tanh RNN: one step forward and backward, then BPTT over a whole sequence",
    skeleton=SKELETON, pairs=PAIRS, train=_train, default_epochs=10)
