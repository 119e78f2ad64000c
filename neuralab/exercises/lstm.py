"""Exercise `lstm`: the LSTM cell, forward and backward (Lecture 15)."""

from __future__ import annotations

import itertools

import numpy as np

from neuralab.autograd import Tensor
from neuralab.exercises import training
from neuralab.exercises.base import Case, Exercise, Pair, arrays, backprop, tensors
from neuralab.ops.recurrent import lstm_cell

SKELETON = '''"""Exercise `lstm` (Lecture 15, exploding and vanishing gradients): one step of a long
short-term memory cell, forward and backward, in NumPy.

Grade it with `neuralab exercise check lstm`, then train an LSTM (your cell, unrolled over the
sequence) on the adding problem with `neuralab exercise train lstm`.
"""

import numpy as np


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """One LSTM step for a batch, the gates in PyTorch's order i, f, g, o:

        a = x Wxᵀ + h_prev Whᵀ + b            (N, 4H), split into four blocks of H columns
        i = σ(a_i),  f = σ(a_f),  g = tanh(a_g),  o = σ(a_o)
        c = f ⊙ c_prev + i ⊙ g,      h = o ⊙ tanh(c)

    Args:
        x: (N, D).  h_prev, c_prev: (N, H).  Wx: (4H, D).  Wh: (4H, H).  b: (4H,).

    Returns:
        h (N, H), c (N, H), and a cache.
    """
    raise NotImplementedError("write me")


def lstm_step_backward(dh, dc, cache):
    """The gradients given h̄ = dh and c̄ = dc (both (N, H)), which come from the layer above
    and from the next step.

    Derivation hint: c receives gradient twice, from dc and through h = o ⊙ tanh(c). Then each
    gate's ā (before its squashing function), the four stacked as (N, 4H), and a is a linear
    layer of x and h_prev.

    Returns:
        dx (N, D), dh_prev (N, H), dc_prev (N, H), dWx (4H, D), dWh (4H, H), db (4H,).
    """
    raise NotImplementedError("write me")
'''

NAMES = ("x", "h_prev", "c_prev", "Wx", "Wh", "b")


def _cases() -> list[Case]:
    g = np.random.default_rng(11)
    table = [("a batch", 3, 4, 5), ("a batch of one", 1, 2, 3), ("one hidden unit", 4, 3, 1),
             ("one input feature", 2, 1, 2)]
    return [Case(label, {"x": g.standard_normal((n, d)), "h_prev": g.standard_normal((n, h)),
                         "c_prev": g.standard_normal((n, h)),
                         "Wx": g.standard_normal((4 * h, d)) * 0.5,
                         "Wh": g.standard_normal((4 * h, h)) * 0.5,
                         "b": g.standard_normal(4 * h)}) for label, n, d, h in table]


def _reference(case: Case):
    t = tensors(case, NAMES)
    zeros = Tensor(np.zeros(case.inputs["b"].shape), dtype=np.float64)
    h, c = lstm_cell(t["x"], (t["h_prev"], t["c_prev"]), t["Wx"], t["Wh"], t["b"], zeros)
    out = {"h": h, "c": c}
    return arrays(out), backprop(out, t)


def _sigmoid(a):
    return 0.5 * (1 + np.tanh(0.5 * a))


def _step(case: Case, order: tuple[int, ...]):
    """h and c with the gate blocks read in ``order`` (a permutation of i, f, g, o)."""
    x, h, c, wx, wh, b = (case.inputs[k] for k in NAMES)
    n = h.shape[1]
    a = x @ wx.T + h @ wh.T + b
    blocks = [a[:, k * n:(k + 1) * n] for k in range(4)]
    i, f, g, o = (blocks[k] for k in order)
    c2 = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    return _sigmoid(o) * np.tanh(c2), c2


def _rules(name, expected, got, case):
    if name in ("h", "c") and np.shape(got) == np.shape(expected) and case.inputs["h_prev"].shape[
            1] > 1:
        for order in itertools.permutations(range(4)):
            if order == (0, 1, 2, 3):
                continue
            if np.allclose(got, _step(case, order)[0 if name == "h" else 1]):
                names = "".join("ifgo"[order.index(k)] for k in range(4))
                return (f"the gate blocks of a are in the order i, f, g, o (PyTorch's); you read "
                        f"them as {', '.join(names)}")
    if np.shape(got) == np.shape(expected):
        without = _backward_without_h_path(case).get(name)
        if without is not None and np.allclose(got, without) and not np.allclose(got, expected):
            return ("c̄ also flows in through h = o ⊙ tanh(c): c̄_total = dc + dh ⊙ o ⊙ "
                    "(1 − tanh²(c)), then c̄_prev = c̄_total ⊙ f")
    return None


def _backward_without_h_path(case: Case) -> dict:
    """The gradients when c̄ forgets the path through h = o ⊙ tanh(c) (a typical mistake)."""
    x, h, c, wx, wh, b = (case.inputs[k] for k in NAMES)
    dh, dc = case.douts["h"], case.douts["c"]
    n = h.shape[1]
    a = x @ wx.T + h @ wh.T + b
    i, f, o = _sigmoid(a[:, :n]), _sigmoid(a[:, n:2 * n]), _sigmoid(a[:, 3 * n:])
    g = np.tanh(a[:, 2 * n:3 * n])
    tc = np.tanh(f * c + i * g)
    da = np.concatenate([dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g ** 2),
                         dh * tc * o * (1 - o)], axis=1)
    return {"dx": da @ wx, "dh_prev": da @ wh, "dc_prev": dc * f, "dWx": da.T @ x,
            "dWh": da.T @ h, "db": da.sum(0)}


PAIR = Pair("lstm_step_forward", "lstm_step_backward", NAMES, (), ("h", "c"),
            ("dx", "dh_prev", "dc_prev", "dWx", "dWh", "db"), _reference, _cases, (_rules,))


class LSTMKernel(training.LearnerCode):
    """The learner's cell as the lstm op's kernel, unrolled over the sequence (BPTT here)."""

    def lstm_forward(self, ctx, x, h0, c0, w_ih, w_hh, bias, reverse):
        if reverse:
            raise ValueError("the learner's LSTM runs forward in time only")
        b = np.zeros(w_hh.shape[0], dtype=x.dtype) if bias is None else bias
        out = np.empty(x.shape[:2] + h0.shape[1:], dtype=x.dtype)  # (T, N, H)
        h, c, ctx.caches = h0, c0, []
        for t in range(x.shape[0]):
            h, c, cache = self("lstm_step_forward", x[t], h, c, w_ih, w_hh, b)
            out[t] = h
            ctx.caches.append(cache)
        ctx.dtype, ctx.state_shape = x.dtype, h0.shape
        ctx.x_shape, ctx.w_shapes = x.shape, (w_ih.shape, w_hh.shape)
        return out, np.asarray(c, dtype=x.dtype)

    def lstm_backward(self, ctx, dout, dh_n, dc_n):
        zero = np.zeros(ctx.state_shape, dtype=ctx.dtype)
        dh = zero if dh_n is None else dh_n
        dc = zero if dc_n is None else dc_n
        dx = np.zeros(ctx.x_shape, dtype=ctx.dtype)
        dw_ih, dw_hh = (np.zeros(s, dtype=ctx.dtype) for s in ctx.w_shapes)
        db = np.zeros(ctx.w_shapes[1][0], dtype=ctx.dtype)
        for t in reversed(range(ctx.x_shape[0])):
            dh = dh if dout is None else dh + dout[t]
            dxt, dh, dc, dwx, dwh, dbt = self("lstm_step_backward", dh, dc, ctx.caches[t])
            dx[t] = dxt
            dw_ih += dwx
            dw_hh += dwh
            db += dbt
        return (dx, dh, dc, dw_ih, dw_hh) + ((db, db.copy()) if ctx.has_bias else ())


def _train(module, path, epochs, seed, log, limit=None) -> None:
    training.compare_adding(log, "lstm", "lstm", epochs, seed, {"lstm": LSTMKernel(module, path)})


EXERCISE = Exercise(
    name="lstm", lecture="L15",
    goal="the LSTM cell: four gates, the memory c, and their gradients for one step",
    skeleton=SKELETON, pairs=(PAIR,), train=_train, default_epochs=10)
