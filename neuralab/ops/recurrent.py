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

Weights use PyTorch's layouts: ``w_ih`` (G·H, I) and ``w_hh`` (G·H, H), with G = 1 (RNN), 4
(LSTM, gates i, f, g, o) or 3 (GRU, gates r, z, n) blocks of H rows stacked in that order.
Shapes: x (T, N, I) (or (N, T, I) with ``batch_first``), states (N, H), outputs (T, N, H).
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp

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


def _project_inputs(x: Any, w_ih: Any, bias: Any) -> Any:
    """Z_x = X W_ihᵀ + b for all T steps at once: one (T·N, I) @ (I, G·H) matrix product."""
    T, N, I = x.shape
    z = (x.reshape(T * N, I) @ w_ih.T).reshape(T, N, w_ih.shape[0])  # (T, N, G·H)
    if bias is not None:
        z += bias
    return z


def _input_grads(ctx: Any, dz: Any, x: Any, w_ih: Any, k: int) -> tuple:
    """x̄ = Z̄ W_ih and W̄_ih = Σ_t z̄_tᵀ x_t, each one matrix product over the stacked steps.

    ``k`` is the position of w_ih among the op's inputs.
    """
    T, N, G = dz.shape
    dz2 = dz.reshape(T * N, G)  # (T·N, G·H)
    dx = (dz2 @ w_ih).reshape(x.shape) if ctx.needs_input_grad[0] else None
    dw_ih = dz2.T @ x.reshape(T * N, x.shape[2]) if ctx.needs_input_grad[k] else None
    return dx, dw_ih


def _steps(T: int, reverse: bool) -> range:
    return range(T - 1, -1, -1) if reverse else range(T)


def _state_views(hs: Any, reverse: bool) -> tuple:
    """Views of the (T+1, N, H) state buffer: (outputs h_t, previous states h_{t−1}) by time.

    Forward in time hs[0] = h0 and hs[t+1] = h_t; in reverse hs[T] = h0 and hs[t] = h_t, so
    that both views are contiguous slices and the state entering step t is always prev[t].
    """
    return (hs[:-1], hs[1:]) if reverse else (hs[1:], hs[:-1])


# --------------------------------------------------------------------------- vanilla RNN
def _rnn_forward(x, h0, w_ih, w_hh, bias, relu, reverse):
    """h_t = φ(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh), φ = tanh or relu. x (T, N, I)."""
    T = x.shape[0]
    z = _project_inputs(x, w_ih, bias)  # (T, N, H), becomes h in place
    hs = xp.empty((T + 1,) + h0.shape, dtype=x.dtype)
    hs[T if reverse else 0] = h0
    out, prev = _state_views(hs, reverse)
    w_hh_t = w_hh.T
    for t in _steps(T, reverse):
        a = z[t]
        a += prev[t] @ w_hh_t
        if relu:
            xp.maximum(a, 0, out=out[t])
        else:
            xp.tanh(a, out=out[t])
    return hs


def _rnn_backward(ctx, hs, dout, dh_last):
    """BPTT for the vanilla RNN (equations in :class:`RNNSequence`)."""
    x, w_ih, w_hh, relu, reverse = ctx.x, ctx.w_ih, ctx.w_hh, ctx.relu, ctx.reverse
    T = x.shape[0]
    out, prev = _state_views(hs, reverse)
    dz = xp.empty_like(out)  # (T, N, H): z̄ of every step, stacked for the weight GEMMs
    dh = dh_last.copy() if dh_last is not None else xp.zeros_like(hs[0])
    for t in _steps(T, not reverse):  # backward in time: the reverse of the forward order
        if dout is not None:
            dh += dout[t]
        h = out[t]
        if relu:
            xp.multiply(dh, h > 0, out=dz[t])
        else:
            xp.multiply(dh, 1 - h * h, out=dz[t])
        dh = dz[t] @ w_hh
    return _finish(ctx, dz, x, w_ih, prev, dh, None, dz)


def _finish(ctx, dz_x, x, w_ih, prev, dh0, dc0, dz_h):
    """Gradients of everything but the states, from the stacked pre-activation gradients.

    ``dz_x`` are the gradients of the input projections (→ x̄, W̄_ih, b̄_ih) and ``dz_h`` of the
    recurrent ones (→ W̄_hh, b̄_hh); they differ only for the GRU's candidate gate.
    """
    T, N, G = dz_h.shape
    k = 3 if dc0 is not None else 2  # position of w_ih among the inputs (x, h0, [c0], w_ih, ...)
    dx, dw_ih = _input_grads(ctx, dz_x, x, w_ih, k)
    k += 1
    dw_hh = (dz_h.reshape(T * N, G).T @ prev.reshape(T * N, prev.shape[2])
             if ctx.needs_input_grad[k] else None)
    grads = [dx, dh0] + ([dc0] if dc0 is not None else []) + [dw_ih, dw_hh]
    if ctx.has_bias:
        grads += [dz_x.sum(axis=(0, 1)), dz_h.sum(axis=(0, 1))]
    return tuple(grads)


# --------------------------------------------------------------------------- LSTM
def _lstm_forward(x, h0, c0, w_ih, w_hh, bias, reverse):
    """The LSTM (Hochreiter & Schmidhuber 1997; gate order i, f, g, o as PyTorch). x (T, N, I).

        [i; f; g; o] = [σ; σ; tanh; σ](W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)
        c_t = f ⊙ c_{t−1} + i ⊙ g,     h_t = o ⊙ tanh(c_t)
    """
    T = x.shape[0]
    H = h0.shape[1]
    # σ(z) = ½(1 + tanh(z/2)). Halving the i, f, o rows of the weights and bias up front (exact
    # in floating point) lets ONE tanh over the contiguous (N, 4H) block serve all four gates.
    half = xp.full((4 * H, 1), 0.5, dtype=x.dtype)
    half[2 * H:3 * H] = 1
    acts = _project_inputs(x, w_ih * half, None if bias is None else bias * half[:, 0])
    # acts: (T, N, 4H), the (scaled) pre-activations, turned into i, f, g, o in place
    hs = xp.empty((T + 1,) + h0.shape, dtype=x.dtype)
    cs = xp.empty_like(hs)
    tanh_c = xp.empty((T,) + h0.shape, dtype=x.dtype)
    hs[T if reverse else 0] = h0
    cs[T if reverse else 0] = c0
    h_out, h_prev = _state_views(hs, reverse)
    c_out, c_prev = _state_views(cs, reverse)
    w_hh_t = (w_hh * half).T
    for t in _steps(T, reverse):
        a = acts[t]
        a += h_prev[t] @ w_hh_t
        xp.tanh(a, out=a)
        g = a[:, 2 * H:3 * H].copy()  # tanh(z_g) is final; the σ blocks need ½(1 + ·)
        a *= 0.5
        a += 0.5
        a[:, 2 * H:3 * H] = g
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        c = c_out[t]
        xp.multiply(f, c_prev[t], out=c)
        c += i * g
        xp.tanh(c, out=tanh_c[t])
        xp.multiply(o, tanh_c[t], out=h_out[t])
    return acts, hs, cs, tanh_c


def _lstm_backward(ctx, acts, hs, cs, tanh_c, dout, dh_last, dc_last):
    """BPTT for the LSTM (equations in :class:`LSTMSequence`)."""
    x, w_ih, w_hh, reverse = ctx.x, ctx.w_ih, ctx.w_hh, ctx.reverse
    T = x.shape[0]
    H = hs.shape[2]
    h_out, h_prev = _state_views(hs, reverse)
    _, c_prev = _state_views(cs, reverse)
    dz = xp.empty_like(acts)  # (T, N, 4H): z̄ of every step, stacked for the weight GEMMs
    dh = dh_last.copy() if dh_last is not None else xp.zeros_like(hs[0])
    dc = dc_last.copy() if dc_last is not None else xp.zeros_like(hs[0])
    slope = xp.empty_like(acts[0])  # (N, 4H) scratch: the activations' derivatives
    for t in _steps(T, not reverse):
        if dout is not None:
            dh += dout[t]
        a = acts[t]
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        tc = tanh_c[t]
        dc += dh * o * (1 - tc * tc)
        # σ' = σ(1 − σ) over the whole contiguous block, then tanh' = 1 − g² for the g block
        xp.subtract(1, a, out=slope)
        slope *= a
        sg = slope[:, 2 * H:3 * H]
        xp.multiply(g, g, out=sg)
        xp.subtract(1, sg, out=sg)
        d = dz[t]  # ī, f̄, ḡ, ō, then times the slopes: z̄_t
        xp.multiply(dc, g, out=d[:, :H])
        xp.multiply(dc, c_prev[t], out=d[:, H:2 * H])
        xp.multiply(dc, i, out=d[:, 2 * H:3 * H])
        xp.multiply(dh, tc, out=d[:, 3 * H:])
        d *= slope
        dc *= f
        dh = d @ w_hh
    return _finish(ctx, dz, x, w_ih, h_prev, dh, dc, dz)


# --------------------------------------------------------------------------- GRU
def _gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reverse):
    """The GRU (Cho et al. 2014) with PyTorch's exact formula (gates r, z, n). x (T, N, I).

        r = σ(W_ir x + b_ir + W_hr h + b_hr),   z = σ(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),   h' = (1 − z) ⊙ n + z ⊙ h
    """
    T = x.shape[0]
    H = h0.shape[1]
    zx = _project_inputs(x, w_ih, b_ih)  # (T, N, 3H); becomes r, z, n in place
    hn = xp.empty((T,) + h0.shape, dtype=x.dtype)  # W_hn h + b_hn, needed for r̄
    hs = xp.empty((T + 1,) + h0.shape, dtype=x.dtype)
    hs[T if reverse else 0] = h0
    out, prev = _state_views(hs, reverse)
    w_hh_t = w_hh.T
    for t in _steps(T, reverse):
        zh = prev[t] @ w_hh_t  # (N, 3H)
        if b_hh is not None:
            zh += b_hh
        a = zx[t]
        rz = a[:, :2 * H]
        rz += zh[:, :2 * H]
        # σ(u) = ½(1 + tanh(u/2)), which never overflows
        rz *= 0.5
        xp.tanh(rz, out=rz)
        rz += 1
        rz *= 0.5
        r, z = a[:, :H], a[:, H:2 * H]
        hn[t] = zh[:, 2 * H:]
        n = a[:, 2 * H:]
        n += r * hn[t]
        xp.tanh(n, out=n)
        h = prev[t]
        # h' = (1 − z) ⊙ n + z ⊙ h = n + z ⊙ (h − n)
        xp.subtract(h, n, out=out[t])
        out[t] *= z
        out[t] += n
    return zx, hn, hs


def _gru_backward(ctx, acts, hn, hs, dout, dh_last):
    """BPTT for the GRU (equations in :class:`GRUSequence`)."""
    x, w_ih, w_hh, reverse = ctx.x, ctx.w_ih, ctx.w_hh, ctx.reverse
    T = x.shape[0]
    H = hs.shape[2]
    _, prev = _state_views(hs, reverse)
    dzx = xp.empty_like(acts)  # (T, N, 3H)
    dzh = xp.empty_like(acts)
    dh = dh_last.copy() if dh_last is not None else xp.zeros_like(hs[0])
    for t in _steps(T, not reverse):
        if dout is not None:
            dh += dout[t]
        a = acts[t]
        r, z, n = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
        h = prev[t]
        dx_t, dh_t = dzx[t], dzh[t]
        dn = dh * (1 - z) * (1 - n * n)
        dx_t[:, 2 * H:] = dn
        xp.multiply(dn, r, out=dh_t[:, 2 * H:])
        xp.multiply(dn * hn[t], r * (1 - r), out=dx_t[:, :H])
        xp.multiply(dh * (h - n), z * (1 - z), out=dx_t[:, H:2 * H])
        dh_t[:, :2 * H] = dx_t[:, :2 * H]
        dh = dh * z + dh_t @ w_hh
    return _finish(ctx, dzx, x, w_ih, prev, dh, None, dzh)


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
        hs = _rnn_forward(x, h0, w_ih, w_hh, bias, relu, reverse)
        ctx.x, ctx.w_ih, ctx.w_hh, ctx.relu, ctx.reverse = x, w_ih, w_hh, relu, reverse
        ctx.hs, ctx.has_bias, ctx.batch_first = hs, bool(biases), batch_first
        out, _ = _state_views(hs, reverse)
        return _time_major(out, batch_first), hs[0 if reverse else -1]

    @staticmethod
    def backward(ctx, dout, dh_n):
        grads = _rnn_backward(ctx, ctx.hs, _time_major(dout, ctx.batch_first), dh_n)
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
        acts, hs, cs, tanh_c = _lstm_forward(x, h0, c0, w_ih, w_hh, bias, reverse)
        ctx.x, ctx.w_ih, ctx.w_hh, ctx.reverse = x, w_ih, w_hh, reverse
        ctx.saved = acts, hs, cs, tanh_c
        ctx.has_bias, ctx.batch_first = bool(biases), batch_first
        out, _ = _state_views(hs, reverse)
        last = 0 if reverse else -1
        return _time_major(out, batch_first), hs[last], cs[last]

    @staticmethod
    def backward(ctx, dout, dh_n, dc_n):
        grads = _lstm_backward(ctx, *ctx.saved, _time_major(dout, ctx.batch_first), dh_n, dc_n)
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
        acts, hn, hs = _gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reverse)
        ctx.x, ctx.w_ih, ctx.w_hh, ctx.reverse = x, w_ih, w_hh, reverse
        ctx.saved = acts, hn, hs
        ctx.has_bias, ctx.batch_first = bool(biases), batch_first
        out, _ = _state_views(hs, reverse)
        return _time_major(out, batch_first), hs[0 if reverse else -1]

    @staticmethod
    def backward(ctx, dout, dh_n):
        grads = _gru_backward(ctx, *ctx.saved, _time_major(dout, ctx.batch_first), dh_n)
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
        hs = _rnn_forward(x, h, w_ih, w_hh, bias, relu, False)
        ctx.x, ctx.w_ih, ctx.w_hh, ctx.relu, ctx.reverse = x, w_ih, w_hh, relu, False
        ctx.hs, ctx.has_bias = hs, bool(biases)
        return hs[1]

    @staticmethod
    def backward(ctx, dh):
        grads = _rnn_backward(ctx, ctx.hs, None, dh)
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
        acts, hs, cs, tanh_c = _lstm_forward(x, h, c, w_ih, w_hh, bias, False)
        ctx.x, ctx.w_ih, ctx.w_hh, ctx.reverse = x, w_ih, w_hh, False
        ctx.saved, ctx.has_bias = (acts, hs, cs, tanh_c), bool(biases)
        return hs[1], cs[1]

    @staticmethod
    def backward(ctx, dh, dc):
        grads = _lstm_backward(ctx, *ctx.saved, None, dh, dc)
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
        acts, hn, hs = _gru_forward(x, h, w_ih, w_hh, b_ih, b_hh, False)
        ctx.x, ctx.w_ih, ctx.w_hh, ctx.reverse = x, w_ih, w_hh, False
        ctx.saved, ctx.has_bias = (acts, hn, hs), bool(biases)
        return hs[1]

    @staticmethod
    def backward(ctx, dh):
        grads = _gru_backward(ctx, *ctx.saved, None, dh)
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
        if idx.size and (idx.data.min() < 0 or idx.data.max() >= V):
            raise IndexError(f"embedding: indices must lie in [0, {V}) for {V} embeddings, got "
                             f"values in [{idx.data.min()}, {idx.data.max()}]; is the "
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
