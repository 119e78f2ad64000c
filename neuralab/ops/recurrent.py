"""Recurrent ops with explicit backpropagation through time, and the embedding lookup (Lecture 15).

A recurrent network applies the same cell at every time step, h_t = f(x_t, h_{t−1}). Unrolled,
it is a very deep feed-forward network whose layers share their weights, and backpropagation
through time (BPTT) is ordinary backpropagation on that unrolled graph:

* the error signal of a hidden state has two sources, the output at the same step and the next
  step's cell:  h̄_t = dout_t + (∂h_{t+1}/∂h_t)ᵀ h̄_{t+1};
* a shared weight receives the sum of its gradients at every step:
  W̄_hh = Σ_t z̄_tᵀ h_{t−1},  W̄_ih = Σ_t z̄_tᵀ x_t  (z_t the cell's pre-activations).

Two kinds of ops are exported:

* cells, one time step, with PyTorch's signatures (``torch.lstm_cell`` and friends):
  ``rnn_tanh_cell``, ``rnn_relu_cell``, ``lstm_cell``, ``gru_cell``;
* whole sequences, ``rnn_sequence``, ``lstm_sequence``, ``gru_sequence``, which the ``nn.RNN``,
  ``nn.LSTM`` and ``nn.GRU`` layers use. Their forward loops over time (the one loop the
  mathematics imposes) but computes the input projection of all T steps as ONE matrix product
  before the loop; their backward is BPTT in one explicit loop over time that stacks the
  pre-activation gradients z̄_t, so that W̄_ih, W̄_hh and x̄ are again one matrix product each.

The step functions below (``_lstm_reference`` and its backward, ...) are the lecture's version,
each step's equations written out (the reference kernel set); ``neuralab.kernels.recurrent``
computes the same in place, with the input projections and weight gradients of all steps as one
matrix product each (the default, ``nl.set_kernels("fast")``).

Weights use PyTorch's layouts: ``w_ih`` (G·H, I) and ``w_hh`` (G·H, H), with G = 1 (RNN), 4
(LSTM, gates i, f, g, o) or 3 (GRU, gates r, z, n) blocks of H rows stacked in that order.
Shapes: x (T, N, I) (or (N, T, I) with ``batch_first``), states (N, H), outputs (T, N, H).
"""

from __future__ import annotations

from typing import Any

from neuralab import kernels
from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.kernels import recurrent as fast

__all__ = [
    "rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell",
    "rnn_sequence", "lstm_sequence", "gru_sequence", "embedding",
]

_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


# --------------------------------------------------------------------------- validation
def _check_recurrent(op: str, kind: str, x: Tensor, states: tuple, w_ih: Tensor, w_hh: Tensor,
                     biases: tuple, sequence: bool, batch_first: bool = False) -> None:
    """Validate the shapes and dtypes of a cell or sequence op before any work."""
    gates = _GATES[kind]
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a floating-point tensor, got {x.dtype}; convert "
                        "indices to vectors first (e.g. with nn.Embedding)")
    want = 3 if sequence else 2
    if x.ndim != want:
        layout = ("(N, T, I)" if batch_first else "(T, N, I)") if sequence else "(N, I)"
        raise ValueError(f"{op}: input must have shape {layout}, got {x.ndim} dimension(s) "
                         f"{x.shape}" + ("" if sequence else "; add a batch dimension with "
                                         "x.unsqueeze(0) for a single example"))
    if w_ih.ndim != 2 or w_hh.ndim != 2:
        raise ValueError(f"{op}: w_ih and w_hh must be matrices, got shapes {w_ih.shape} and "
                         f"{w_hh.shape}")
    hidden = w_hh.shape[1]
    if w_hh.shape[0] != gates * hidden or w_ih.shape[0] != gates * hidden:
        raise ValueError(
            f"{op}: expected w_ih ({gates}·H, I) and w_hh ({gates}·H, H) with {gates} gate "
            f"block(s); got w_ih {w_ih.shape} and w_hh {w_hh.shape} (H = {hidden} from w_hh)"
        )
    if x.shape[-1] != w_ih.shape[1]:
        raise ValueError(f"{op}: input has {x.shape[-1]} features but w_ih {w_ih.shape} expects "
                         f"{w_ih.shape[1]}; is input_size right?")
    batch = x.shape[0] if (batch_first or not sequence) else x.shape[1]
    names = ("h", "c") if kind == "lstm" else ("h",)
    for name, s in zip(names, states):
        if s.shape != (batch, hidden):
            raise ValueError(f"{op}: state {name} must have shape (N, H) = ({batch}, {hidden}), "
                             f"got {s.shape}")
    for name, b in zip(("b_ih", "b_hh"), biases):
        if b.shape != (gates * hidden,):
            raise ValueError(f"{op}: {name} must have shape ({gates * hidden},), got {b.shape}")
    for name, t in [("w_ih", w_ih), ("w_hh", w_hh)] + list(zip(names, states)) + \
            list(zip(("b_ih", "b_hh"), biases)):
        if t.dtype != x.dtype:
            raise TypeError(f"{op}: {name} is {t.dtype} but the input is {x.dtype}; all "
                            "operands must share one dtype (convert with .float() or .double())")


def _check_biases(op: str, b_ih: Any, b_hh: Any) -> tuple:
    if (b_ih is None) != (b_hh is None):
        raise ValueError(f"{op}: give both b_ih and b_hh or neither")
    return () if b_ih is None else (b_ih, b_hh)


def _time_major(x: Any, batch_first: bool) -> Any:
    """(N, T, ...) -> (T, N, ...) as a view when the data is batch-first."""
    return x.swapaxes(0, 1) if batch_first else x


def _zeros_state(x: Tensor, w_hh: Tensor, batch_first: bool) -> Tensor:
    batch = x.shape[0] if batch_first else x.shape[1]
    return Tensor._from_op(xp.zeros((batch, w_hh.shape[1]), dtype=x.dtype), None, 0)


# --------------------------------------------------------------------------- the lecture's code
def _sigmoid(z: Any) -> Any:
    """σ(z) = ½(1 + tanh(z/2)): the logistic function, without overflow for large |z|."""
    return 0.5 * (1 + xp.tanh(0.5 * z))


def _steps(T: int, reverse: bool) -> range:
    return range(T - 1, -1, -1) if reverse else range(T)


def _rnn_reference(ctx, x, h0, w_ih, w_hh, bias, relu, reverse):
    """h_t = φ(W_ih x_t + W_hh h_{t−1} + b) for each step; returns every h_t (T, N, H)."""
    out, h, ctx.steps = xp.empty(x.shape[:2] + h0.shape[1:], dtype=x.dtype), h0, []
    for t in _steps(x.shape[0], reverse):
        z = x[t] @ w_ih.T + h @ w_hh.T + (0 if bias is None else bias)
        ctx.steps.append((t, h))  # the state entering step t
        h = out[t] = xp.maximum(z, 0) if relu else xp.tanh(z)
    ctx.x, ctx.out, ctx.w_ih, ctx.w_hh, ctx.relu = x, out, w_ih, w_hh, relu
    return out


def _rnn_reference_backward(ctx, dout, dh_n):
    """BPTT: z̄_t = h̄_t ⊙ φ'(z_t), h̄_{t−1} = z̄_t W_hh, and the weights collect Σ_t."""
    x, w_ih, w_hh = ctx.x, ctx.w_ih, ctx.w_hh
    dx, dw_ih, dw_hh = xp.zeros_like(x), xp.zeros_like(w_ih), xp.zeros_like(w_hh)
    db = xp.zeros(w_hh.shape[0], dtype=x.dtype)
    dh = xp.zeros_like(ctx.out[0]) if dh_n is None else dh_n
    for t, h_prev in reversed(ctx.steps):
        dh = dh if dout is None else dh + dout[t]
        h = ctx.out[t]
        dz = dh * (h > 0) if ctx.relu else dh * (1 - h * h)
        dx[t] = dz @ w_ih                            # x̄_t = z̄_t W_ih
        dw_ih += dz.T @ x[t]                         # W̄_ih = Σ_t z̄_tᵀ x_t
        dw_hh += dz.T @ h_prev                       # W̄_hh = Σ_t z̄_tᵀ h_{t−1}
        db += dz.sum(axis=0)                         # b̄ = Σ_t Σ_n z̄_t
        dh = dz @ w_hh
    return (dx, dh, dw_ih, dw_hh) + ((db, db.copy()) if ctx.has_bias else ())


def _lstm_reference(ctx, x, h0, c0, w_ih, w_hh, bias, reverse):
    """The LSTM's six equations at each step (gate order i, f, g, o as PyTorch).

    Returns (every h_t (T, N, H), the last cell state c_n).
    """
    H = h0.shape[1]
    out, h, c, ctx.steps = xp.empty(x.shape[:2] + (H,), dtype=x.dtype), h0, c0, []
    for t in _steps(x.shape[0], reverse):
        z = x[t] @ w_ih.T + h @ w_hh.T + (0 if bias is None else bias)  # (N, 4H)
        i = _sigmoid(z[:, :H])                # input gate
        f = _sigmoid(z[:, H:2 * H])           # forget gate
        g = xp.tanh(z[:, 2 * H:3 * H])        # candidate memory
        o = _sigmoid(z[:, 3 * H:])            # output gate
        c_prev, c = c, f * c + i * g          # c_t = f ⊙ c_{t−1} + i ⊙ g
        ctx.steps.append((t, h, c_prev, i, f, g, o, c))  # the state entering step t, the gates
        h = out[t] = o * xp.tanh(c)           # h_t = o ⊙ tanh(c_t)
    ctx.x, ctx.w_ih, ctx.w_hh = x, w_ih, w_hh
    return out, c


def _lstm_reference_backward(ctx, dout, dh_n, dc_n):
    """BPTT through the six equations, last step first (the equations in LSTMSequence)."""
    x, w_ih, w_hh = ctx.x, ctx.w_ih, ctx.w_hh
    dx, dw_ih, dw_hh = xp.zeros_like(x), xp.zeros_like(w_ih), xp.zeros_like(w_hh)
    db = xp.zeros(w_hh.shape[0], dtype=x.dtype)
    zero = xp.zeros_like(ctx.steps[0][1])
    dh = zero if dh_n is None else dh_n
    dc = zero if dc_n is None else dc_n
    for t, h_prev, c_prev, i, f, g, o, c in reversed(ctx.steps):
        dh = dh if dout is None else dh + dout[t]
        tanh_c = xp.tanh(c)
        dc = dc + dh * o * (1 - tanh_c ** 2)          # c̄_t: from h_t and from step t+1
        dz = xp.concatenate([dc * g * i * (1 - i),    # z̄_i
                             dc * c_prev * f * (1 - f),  # z̄_f
                             dc * i * (1 - g ** 2),      # z̄_g
                             dh * tanh_c * o * (1 - o)], axis=1)  # z̄_o
        dx[t] = dz @ w_ih                            # x̄_t = z̄_t W_ih
        dw_ih += dz.T @ x[t]                         # W̄_ih = Σ_t z̄_tᵀ x_t
        dw_hh += dz.T @ h_prev                       # W̄_hh = Σ_t z̄_tᵀ h_{t−1}
        db += dz.sum(axis=0)                         # b̄ = Σ_t Σ_n z̄_t
        dh, dc = dz @ w_hh, dc * f                    # h̄_{t−1}, c̄_{t−1}
    return (dx, dh, dc, dw_ih, dw_hh) + ((db, db.copy()) if ctx.has_bias else ())


def _gru_reference(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, reverse):
    """The GRU's equations at each step (PyTorch's formula, gate blocks r, z, n)."""
    H = h0.shape[1]
    out, h, ctx.steps = xp.empty(x.shape[:2] + (H,), dtype=x.dtype), h0, []
    for t in _steps(x.shape[0], reverse):
        u_x = x[t] @ w_ih.T + (0 if b_ih is None else b_ih)  # (N, 3H), input side
        u_h = h @ w_hh.T + (0 if b_hh is None else b_hh)     # (N, 3H), recurrent side
        r = _sigmoid(u_x[:, :H] + u_h[:, :H])                 # reset gate
        z = _sigmoid(u_x[:, H:2 * H] + u_h[:, H:2 * H])       # update gate
        n = xp.tanh(u_x[:, 2 * H:] + r * u_h[:, 2 * H:])      # candidate
        ctx.steps.append((t, h, r, z, n, u_h[:, 2 * H:]))
        h = out[t] = (1 - z) * n + z * h
    ctx.x, ctx.w_ih, ctx.w_hh = x, w_ih, w_hh
    return out


def _gru_reference_backward(ctx, dout, dh_n):
    """BPTT through the GRU's equations (the equations in GRUSequence)."""
    x, w_ih, w_hh = ctx.x, ctx.w_ih, ctx.w_hh
    dx, dw_ih, dw_hh = xp.zeros_like(x), xp.zeros_like(w_ih), xp.zeros_like(w_hh)
    db_ih, db_hh = xp.zeros(w_ih.shape[0], dtype=x.dtype), xp.zeros(w_hh.shape[0], dtype=x.dtype)
    dh = xp.zeros_like(ctx.steps[0][1]) if dh_n is None else dh_n
    for t, h_prev, r, z, n, hn in reversed(ctx.steps):
        dh = dh if dout is None else dh + dout[t]
        du_n = dh * (1 - z) * (1 - n ** 2)
        du_r = du_n * hn * r * (1 - r)
        du_z = dh * (h_prev - n) * z * (1 - z)
        du_x = xp.concatenate([du_r, du_z, du_n], axis=1)
        du_h = xp.concatenate([du_r, du_z, du_n * r], axis=1)
        dx[t] = du_x @ w_ih
        dw_ih += du_x.T @ x[t]
        dw_hh += du_h.T @ h_prev
        db_ih += du_x.sum(axis=0)
        db_hh += du_h.sum(axis=0)
        dh = dh * z + du_h @ w_hh
    return (dx, dh, dw_ih, dw_hh) + ((db_ih, db_hh) if ctx.has_bias else ())


# --------------------------------------------------------------------------- Functions
class RNNSequence(Function):
    """A vanilla RNN layer over a whole sequence (one direction), with explicit BPTT.

    Forward, for t = 1..T:  z_t = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh,  h_t = φ(z_t)
    (φ = tanh or relu; all W_ih x_t + b are one GEMM before the loop).

    Backward through time (Lecture 15), for t = T..1, with h̄_T starting from the gradient of
    h_n and dout_t the gradient of output step t:

        h̄_t = dout_t + z̄_{t+1} W_hh            (= dout_t + W_hhᵀ z̄_{t+1} per example)
        z̄_t = h̄_t ⊙ (1 − h_t²)   (tanh)    or    h̄_t ⊙ [h_t > 0]   (relu)

    then, once, over the stacked z̄ (T·N, H):
        h̄_0 = z̄_1 W_hh,  x̄_t = z̄_t W_ih,  W̄_ih = Σ_t z̄_tᵀ x_t,  W̄_hh = Σ_t z̄_tᵀ h_{t−1},
        b̄_ih = b̄_hh = Σ_t Σ_n z̄_t.
    The repeated factor W_hhᵀ diag(φ') in h̄_t is why gradients vanish or explode over long
    spans.
    """

    @staticmethod
    def check(x, h0, w_ih, w_hh, *biases, nonlinearity="tanh", batch_first=False, reverse=False):
        _check_recurrent("rnn_sequence", "rnn", x, (h0,), w_ih, w_hh, biases, True, batch_first)

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, *biases, nonlinearity="tanh", batch_first=False,
                reverse=False):
        x = _time_major(x, batch_first)
        bias = biases[0] + biases[1] if biases else None
        relu = nonlinearity == "relu"
        ctx.fast, ctx.has_bias, ctx.batch_first = kernels.fast(), bool(biases), batch_first
        ctx.learner = kernels.learner("rnn")  # a learner's code (neuralab exercise train)
        run = (ctx.learner.rnn_forward if ctx.learner is not None else
               fast.rnn_forward if ctx.fast else _rnn_reference)
        out = run(ctx, x, h0, w_ih, w_hh, bias, relu, reverse)
        return _time_major(out, batch_first), out[0 if reverse else -1]

    @staticmethod
    def backward(ctx, dout, dh_n):
        run = (ctx.learner.rnn_backward if ctx.learner is not None else
               fast.rnn_backward if ctx.fast else _rnn_reference_backward)
        grads = run(ctx, _time_major(dout, ctx.batch_first), dh_n)
        return _batch_first_dx(grads, ctx.batch_first)


class LSTMSequence(Function):
    """An LSTM layer over a whole sequence (one direction), with explicit BPTT.

    Forward, for t = 1..T (gate order i, f, g, o as PyTorch; W_ih x_t + b for all t is one
    GEMM before the loop):
        [z_i; z_f; z_g; z_o] = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh
        i, f, o = σ(z_i), σ(z_f), σ(z_o);  g = tanh(z_g)
        c_t = f ⊙ c_{t−1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)

    Backward through time (Lecture 15), for t = T..1, starting from the gradients of h_n, c_n:
        h̄_t = dout_t + z̄_{t+1} W_hh                 (the output's gradient + the next step's)
        c̄_t = c̄_{t+1} ⊙ f_{t+1} + h̄_t ⊙ o ⊙ (1 − tanh²(c_t))
        z̄_o = h̄_t ⊙ tanh(c_t) ⊙ o(1 − o)
        z̄_i = c̄_t ⊙ g ⊙ i(1 − i)
        z̄_f = c̄_t ⊙ c_{t−1} ⊙ f(1 − f)
        z̄_g = c̄_t ⊙ i ⊙ (1 − g²)
    The memory cell's path c̄_{t−1} = c̄_t ⊙ f multiplies by the forget gate only, with no
    weight matrix and no squashing derivative: error flows back many steps while f stays open.

    Then, once, over the stacked gate gradients z̄ (T·N, 4H):
        h̄_0 = z̄_1 W_hh,  c̄_0 = c̄_1 ⊙ f_1,  x̄_t = z̄_t W_ih,
        W̄_ih = Σ_t z̄_tᵀ x_t,  W̄_hh = Σ_t z̄_tᵀ h_{t−1},  b̄_ih = b̄_hh = Σ_t Σ_n z̄_t.
    """

    @staticmethod
    def check(x, h0, c0, w_ih, w_hh, *biases, batch_first=False, reverse=False):
        _check_recurrent("lstm_sequence", "lstm", x, (h0, c0), w_ih, w_hh, biases, True,
                         batch_first)

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, *biases, batch_first=False, reverse=False):
        x = _time_major(x, batch_first)
        bias = biases[0] + biases[1] if biases else None
        ctx.fast, ctx.has_bias, ctx.batch_first = kernels.fast(), bool(biases), batch_first
        ctx.learner = kernels.learner("lstm")  # a learner's code (neuralab exercise train)
        run = (ctx.learner.lstm_forward if ctx.learner is not None else
               fast.lstm_forward if ctx.fast else _lstm_reference)
        out, c_n = run(ctx, x, h0, c0, w_ih, w_hh, bias, reverse)
        return _time_major(out, batch_first), out[0 if reverse else -1], c_n

    @staticmethod
    def backward(ctx, dout, dh_n, dc_n):
        run = (ctx.learner.lstm_backward if ctx.learner is not None else
               fast.lstm_backward if ctx.fast else _lstm_reference_backward)
        grads = run(ctx, _time_major(dout, ctx.batch_first), dh_n, dc_n)
        return _batch_first_dx(grads, ctx.batch_first)


class GRUSequence(Function):
    """A GRU layer over a whole sequence (one direction), with explicit BPTT.

    Forward, for t = 1..T (PyTorch's formula, gate blocks r, z, n; W_ih x_t + b_ih is one GEMM
    before the loop, u_* denote pre-activations):
        r = σ(u_r),  u_r = W_ir x + b_ir + W_hr h_{t−1} + b_hr      (z likewise)
        n = tanh(u_n),  u_n = W_in x + b_in + r ⊙ (W_hn h_{t−1} + b_hn)
        h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}

    Backward through time, for t = T..1, with h̄_t = dout_t + (gradient from step t+1):
        n̄ = h̄_t ⊙ (1 − z),   z̄ = h̄_t ⊙ (h_{t−1} − n)
        ū_n = n̄ ⊙ (1 − n²),  r̄ = ū_n ⊙ (W_hn h_{t−1} + b_hn)
        ū_r = r̄ ⊙ r(1 − r),   ū_z = z̄ ⊙ z(1 − z)
        input side Ū_x = [ū_r, ū_z, ū_n];  recurrent side Ū_h = [ū_r, ū_z, ū_n ⊙ r]
        h̄_{t−1} = h̄_t ⊙ z + Ū_h W_hh
    Then, once: x̄_t = Ū_x W_ih, W̄_ih = Σ_t Ū_xᵀ x_t, W̄_hh = Σ_t Ū_hᵀ h_{t−1},
    b̄_ih = Σ Ū_x, b̄_hh = Σ Ū_h.
    """

    @staticmethod
    def check(x, h0, w_ih, w_hh, *biases, batch_first=False, reverse=False):
        _check_recurrent("gru_sequence", "gru", x, (h0,), w_ih, w_hh, biases, True, batch_first)

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, *biases, batch_first=False, reverse=False):
        x = _time_major(x, batch_first)
        b_ih, b_hh = biases if biases else (None, None)
        ctx.fast, ctx.has_bias, ctx.batch_first = kernels.fast(), bool(biases), batch_first
        run = fast.gru_forward if ctx.fast else _gru_reference
        out = run(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, reverse)
        return _time_major(out, batch_first), out[0 if reverse else -1]

    @staticmethod
    def backward(ctx, dout, dh_n):
        run = fast.gru_backward if ctx.fast else _gru_reference_backward
        grads = run(ctx, _time_major(dout, ctx.batch_first), dh_n)
        return _batch_first_dx(grads, ctx.batch_first)


def _batch_first_dx(grads: tuple, batch_first: bool) -> tuple:
    if batch_first and grads[0] is not None:
        grads = (grads[0].swapaxes(0, 1),) + grads[1:]
    return grads


class RNNCell(Function):
    """One step of a vanilla RNN: h' = φ(W_ih x + b_ih + W_hh h + b_hh). See ``rnn_tanh_cell``.

    The backward is the single-step case of the sequence's BPTT: z̄ = h̄' ⊙ φ'(z),
    x̄ = z̄ W_ih, h̄ = z̄ W_hh, W̄_ih = z̄ᵀ x, W̄_hh = z̄ᵀ h, b̄_ih = b̄_hh = Σ_n z̄.
    """

    @staticmethod
    def check(x, h, w_ih, w_hh, *biases, nonlinearity="tanh"):
        _check_recurrent(f"rnn_{nonlinearity}_cell", "rnn", x, (h,), w_ih, w_hh, biases, False)

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, *biases, nonlinearity="tanh"):
        x = x[None]  # (1, N, I): a sequence of one step
        bias = biases[0] + biases[1] if biases else None
        relu = nonlinearity == "relu"
        ctx.fast, ctx.has_bias = kernels.fast(), bool(biases)
        run = fast.rnn_forward if ctx.fast else _rnn_reference
        return run(ctx, x, h, w_ih, w_hh, bias, relu, False)[0]

    @staticmethod
    def backward(ctx, dh):
        run = fast.rnn_backward if ctx.fast else _rnn_reference_backward
        grads = run(ctx, None, dh)
        return (grads[0][0] if grads[0] is not None else None,) + grads[1:]


class LSTMCell(Function):
    """One LSTM step, (h', c') from x and (h, c). See ``lstm_cell`` for the equations."""

    @staticmethod
    def check(x, h, c, w_ih, w_hh, *biases):
        _check_recurrent("lstm_cell", "lstm", x, (h, c), w_ih, w_hh, biases, False)

    @staticmethod
    def forward(ctx, x, h, c, w_ih, w_hh, *biases):
        x = x[None]  # (1, N, I)
        bias = biases[0] + biases[1] if biases else None
        ctx.fast, ctx.has_bias = kernels.fast(), bool(biases)
        run = fast.lstm_forward if ctx.fast else _lstm_reference
        out, c_n = run(ctx, x, h, c, w_ih, w_hh, bias, False)
        return out[0], c_n

    @staticmethod
    def backward(ctx, dh, dc):
        run = fast.lstm_backward if ctx.fast else _lstm_reference_backward
        grads = run(ctx, None, dh, dc)
        return (grads[0][0] if grads[0] is not None else None,) + grads[1:]


class GRUCell(Function):
    """One GRU step with PyTorch's formula. See ``gru_cell`` for the equations."""

    @staticmethod
    def check(x, h, w_ih, w_hh, *biases):
        _check_recurrent("gru_cell", "gru", x, (h,), w_ih, w_hh, biases, False)

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, *biases):
        x = x[None]  # (1, N, I)
        b_ih, b_hh = biases if biases else (None, None)
        ctx.fast, ctx.has_bias = kernels.fast(), bool(biases)
        run = fast.gru_forward if ctx.fast else _gru_reference
        return run(ctx, x, h, w_ih, w_hh, b_ih, b_hh, False)[0]

    @staticmethod
    def backward(ctx, dh):
        run = fast.gru_backward if ctx.fast else _gru_reference_backward
        grads = run(ctx, None, dh)
        return (grads[0][0] if grads[0] is not None else None,) + grads[1:]


# --------------------------------------------------------------------------- user functions
def rnn_tanh_cell(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
                  b_hh: Tensor | None = None) -> Tensor:
    """One step of an Elman RNN with tanh: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (Lecture 15).

    Args:
        x: input (N, I).
        h: hidden state (N, H).
        w_ih: input-to-hidden weights (H, I).
        w_hh: hidden-to-hidden weights (H, H).
        b_ih, b_hh: biases (H,), both or neither.

    Returns:
        h' (N, H).
    """
    biases = _check_biases("rnn_tanh_cell", b_ih, b_hh)
    return RNNCell.apply(x, h, w_ih, w_hh, *biases, nonlinearity="tanh")


def rnn_relu_cell(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
                  b_hh: Tensor | None = None) -> Tensor:
    """One step of an Elman RNN with relu: h' = max(0, W_ih x + b_ih + W_hh h + b_hh).

    Same arguments as :func:`rnn_tanh_cell`.
    """
    biases = _check_biases("rnn_relu_cell", b_ih, b_hh)
    return RNNCell.apply(x, h, w_ih, w_hh, *biases, nonlinearity="relu")


def lstm_cell(x: Tensor, hx: tuple[Tensor, Tensor], w_ih: Tensor, w_hh: Tensor,
              b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One step of a long short-term memory cell (Lecture 15), as ``torch.lstm_cell``.

        [i; f; g; o] = W_ih x + b_ih + W_hh h + b_hh         (4 blocks of H, PyTorch's order)
        i, f, o = σ(·),  g = tanh(·)
        c' = f ⊙ c + i ⊙ g,    h' = o ⊙ tanh(c')

    The memory cell c is updated additively, so its gradient c̄ = c̄' ⊙ f passes through many
    steps undiminished while the forget gate is open: that is how the LSTM escapes the vanishing
    gradients of the vanilla RNN.

    Args:
        x: input (N, I).
        hx: the pair (h, c), each (N, H).
        w_ih: (4H, I).  w_hh: (4H, H).  b_ih, b_hh: (4H,), both or neither.

    Returns:
        (h', c'), each (N, H).
    """
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError("lstm_cell: hx must be the pair (h, c) of hidden and cell states")
    biases = _check_biases("lstm_cell", b_ih, b_hh)
    return LSTMCell.apply(x, hx[0], hx[1], w_ih, w_hh, *biases)


def gru_cell(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None) -> Tensor:
    """One step of a gated recurrent unit, with PyTorch's exact formula (``torch.gru_cell``).

        r = σ(W_ir x + b_ir + W_hr h + b_hr),   z = σ(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
        h' = (1 − z) ⊙ n + z ⊙ h

    Args:
        x: input (N, I).  h: (N, H).
        w_ih: (3H, I), blocks r, z, n.  w_hh: (3H, H).  b_ih, b_hh: (3H,), both or neither.

    Returns:
        h' (N, H).
    """
    biases = _check_biases("gru_cell", b_ih, b_hh)
    return GRUCell.apply(x, h, w_ih, w_hh, *biases)


def _check_flags(op: str, batch_first: Any, reverse: Any) -> None:
    for name, v in (("batch_first", batch_first), ("reverse", reverse)):
        if not isinstance(v, bool):
            raise TypeError(f"{op}: {name} must be True or False, got {v!r}")


def rnn_sequence(x: Tensor, h0: Tensor | None, w_ih: Tensor, w_hh: Tensor,
                 b_ih: Tensor | None = None, b_hh: Tensor | None = None,
                 nonlinearity: str = "tanh", batch_first: bool = False,
                 reverse: bool = False) -> tuple[Tensor, Tensor]:
    """A vanilla RNN layer run over a whole sequence, with BPTT as one explicit backward loop.

    h_t = φ(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh) for t = 1..T (or T..1 when ``reverse``, the
    backward direction of a bidirectional layer). The input projections of all steps are one
    matrix product; the BPTT equations are in :class:`RNNSequence`.

    Args:
        x: (T, N, I), or (N, T, I) with ``batch_first``.
        h0: initial state (N, H), or None for zeros.
        w_ih: (H, I).  w_hh: (H, H).  b_ih, b_hh: (H,), both or neither.
        nonlinearity: ``'tanh'`` or ``'relu'``.
        batch_first: x and the output are batch-major.
        reverse: run from the last step to the first (outputs stay aligned with the inputs).

    Returns:
        (output, h_n): every step's state (T, N, H) (or (N, T, H)), and the final state (N, H).
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_sequence: nonlinearity must be 'tanh' or 'relu', got "
                         f"{nonlinearity!r}")
    _check_flags("rnn_sequence", batch_first, reverse)
    biases = _check_biases("rnn_sequence", b_ih, b_hh)
    if h0 is None:
        h0 = _zeros_state(x, w_hh, batch_first)
    return RNNSequence.apply(x, h0, w_ih, w_hh, *biases, nonlinearity=nonlinearity,
                             batch_first=batch_first, reverse=reverse)


def lstm_sequence(x: Tensor, hx: tuple[Tensor, Tensor] | None, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None,
                  batch_first: bool = False,
                  reverse: bool = False) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """An LSTM layer run over a whole sequence, with BPTT as one explicit backward loop.

    Each step is :func:`lstm_cell`; the input projections W_ih x_t + b of all T steps are one
    matrix product before the loop, and the backward stacks the gate gradients z̄_t of all
    steps so that W̄_hh = Σ_t z̄_tᵀ h_{t−1} is one matrix product after it (Lecture 15; the
    BPTT equations are in :class:`LSTMSequence`).

    Args:
        x: (T, N, I), or (N, T, I) with ``batch_first``.
        hx: (h0, c0), each (N, H), or None for zeros.
        w_ih: (4H, I).  w_hh: (4H, H).  b_ih, b_hh: (4H,), both or neither.
        batch_first: x and the output are batch-major.
        reverse: run from the last step to the first.

    Returns:
        (output, (h_n, c_n)): output (T, N, H) (or (N, T, H)); final states (N, H).
    """
    _check_flags("lstm_sequence", batch_first, reverse)
    biases = _check_biases("lstm_sequence", b_ih, b_hh)
    if hx is None:
        hx = (_zeros_state(x, w_hh, batch_first), _zeros_state(x, w_hh, batch_first))
    elif not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError("lstm_sequence: hx must be the pair (h0, c0) or None")
    out, h_n, c_n = LSTMSequence.apply(x, hx[0], hx[1], w_ih, w_hh, *biases,
                                       batch_first=batch_first, reverse=reverse)
    return out, (h_n, c_n)


def gru_sequence(x: Tensor, h0: Tensor | None, w_ih: Tensor, w_hh: Tensor,
                 b_ih: Tensor | None = None, b_hh: Tensor | None = None,
                 batch_first: bool = False, reverse: bool = False) -> tuple[Tensor, Tensor]:
    """A GRU layer run over a whole sequence, with BPTT as one explicit backward loop.

    Each step is :func:`gru_cell`; the BPTT equations are in :class:`GRUSequence`.

    Args:
        x: (T, N, I), or (N, T, I) with ``batch_first``.
        h0: initial state (N, H), or None for zeros.
        w_ih: (3H, I).  w_hh: (3H, H).  b_ih, b_hh: (3H,), both or neither.
        batch_first: x and the output are batch-major.
        reverse: run from the last step to the first.

    Returns:
        (output, h_n): (T, N, H) (or (N, T, H)) and (N, H).
    """
    _check_flags("gru_sequence", batch_first, reverse)
    biases = _check_biases("gru_sequence", b_ih, b_hh)
    if h0 is None:
        h0 = _zeros_state(x, w_hh, batch_first)
    return GRUSequence.apply(x, h0, w_ih, w_hh, *biases, batch_first=batch_first,
                             reverse=reverse)


# --------------------------------------------------------------------------- embedding
class Embedding(Function):
    """y = W[idx]: row lookup, the same as one-hot(idx) @ W without building the one-hot.

    Shapes: idx (...) integers in [0, V), W (V, D) -> y (..., D).
    W̄ = Σ over positions p of one-hot(idx_p)ᵀ ȳ_p, a scatter-add: a row used k times receives
    the sum of its k gradients. The row ``padding_idx`` receives none. idx has no gradient.
    """

    @staticmethod
    def check(idx, weight, padding_idx=None):
        if idx.dtype.kind not in "iu":
            raise TypeError(f"embedding: indices must be an integer tensor, got {idx.dtype}; "
                            "convert with .long()")
        if weight.ndim != 2:
            raise ValueError(f"embedding: weight must have shape (num_embeddings, "
                             f"embedding_dim), got {weight.shape}")
        if weight.dtype.kind != "f":
            raise TypeError(f"embedding: weight must be floating-point, got {weight.dtype}")
        V = weight.shape[0]
        if idx.array.size and (idx.array.min() < 0 or idx.array.max() >= V):
            raise IndexError(f"embedding: indices must lie in [0, {V}) for {V} embeddings, got "
                             f"values in [{idx.array.min()}, {idx.array.max()}]; is the "
                             "vocabulary larger than num_embeddings?")

    @staticmethod
    def forward(ctx, idx, weight, padding_idx=None):
        ctx.idx, ctx.shape, ctx.padding_idx = idx, weight.shape, padding_idx
        return weight[idx]

    @staticmethod
    def backward(ctx, dout):
        V, D = ctx.shape
        dw = xp.zeros((V, D), dtype=dout.dtype)
        xp.add.at(dw, ctx.idx.reshape(-1), dout.reshape(-1, D))  # scatter-add of repeated rows
        if ctx.padding_idx is not None:
            dw[ctx.padding_idx] = 0
        return None, dw


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Look up rows of ``weight``: the input layer of a language model (Lecture 15).

    Args:
        input: integer indices of any shape (...).
        weight: the table (num_embeddings, embedding_dim).
        padding_idx: a row that receives no gradient (negative values count from the end).

    Returns:
        (..., embedding_dim).
    """
    if padding_idx is not None:
        V = weight.shape[0] if weight.ndim else 0
        if not -V <= padding_idx < V:
            raise ValueError(f"embedding: padding_idx must be in [{-V}, {V}), got {padding_idx}")
        padding_idx %= V
    return Embedding.apply(input, weight, padding_idx=padding_idx)
