"""The fast recurrent kernels: the LSTM, GRU and vanilla RNN over a whole sequence, in place.

The reference sequence functions in ``neuralab.ops.recurrent`` write each step's equations
plainly (the six LSTM equations, and their backward one line per gate). These kernels compute the
same with the input projections of all T steps as ONE matrix product before the loop, states and
gates written in place into preallocated (T, N, ·) buffers, one tanh over the contiguous (N, 4H)
gate block (σ(z) = ½(1 + tanh(z/2)), with the σ rows of the weights halved up front, exactly),
and the pre-activation gradients z̄_t stacked during BPTT so that x̄, W̄_ih and W̄_hh are one
matrix product each after the loop. Chosen by ``nl.set_kernels("fast")`` (the default); the op
specs run both kernel sets against PyTorch.

Every function takes x time-major (T, N, I); ``ctx`` is the op's Context (``needs_input_grad``
and ``has_bias`` are read from it); backward returns the gradients of (x, h0, [c0], w_ih, w_hh,
[b_ih, b_hh]).
"""

from __future__ import annotations

from typing import Any

from neuralab.backend import xp

__all__ = ["rnn_forward", "rnn_backward", "lstm_forward", "lstm_backward", "gru_forward",
           "gru_backward"]


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


def _recurrent_weights(w_hh: Any) -> Any:
    """W_hhᵀ (H, G·H) copied to C order, for the per-step products h_{t−1} W_hhᵀ.

    The small per-step product (N, H) @ (H, G·H) runs faster on a C-order right operand than on
    the transposed view of w_hh: the LSTM's 100 steps of 32x256 @ 256x1024 took 26.1 ms against
    29.7 ms in one thread (min of 20, 2026-11-30); the copy (1 MB) is made once per sequence.
    """
    return xp.ascontiguousarray(w_hh.T)


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
    w_hh_t = _recurrent_weights(w_hh)  # (H, H)
    zh = xp.empty_like(hs[0])  # (N, H) scratch for W_hh h_{t−1}, reused every step
    for t in _steps(T, reverse):
        a = z[t]
        a += xp.matmul(prev[t], w_hh_t, out=zh)
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
    w_hh_t = _recurrent_weights(w_hh * half)  # (H, 4H)
    zh = xp.empty_like(acts[0])  # (N, 4H) scratch for W_hh h_{t−1}, reused every step
    for t in _steps(T, reverse):
        a = acts[t]
        a += xp.matmul(h_prev[t], w_hh_t, out=zh)
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
    w_hh_t = _recurrent_weights(w_hh)  # (H, 3H)
    zh = xp.empty((h0.shape[0], w_hh.shape[0]), dtype=x.dtype)  # (N, 3H) scratch, reused
    for t in _steps(T, reverse):
        xp.matmul(prev[t], w_hh_t, out=zh)
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



# --------------------------------------------------------------------------- the kernels' API
def rnn_forward(ctx: Any, x: Any, h0: Any, w_ih: Any, w_hh: Any, bias: Any, relu: bool,
                reverse: bool) -> Any:
    """Every step's state (T, N, H) of h_t = φ(W_ih x_t + W_hh h_{t−1} + b); bias = b_ih + b_hh."""
    hs = _rnn_forward(x, h0, w_ih, w_hh, bias, relu, reverse)
    ctx.x, ctx.w_ih, ctx.w_hh, ctx.relu, ctx.reverse, ctx.hs = x, w_ih, w_hh, relu, reverse, hs
    return _state_views(hs, reverse)[0]


def rnn_backward(ctx: Any, dout: Any, dh_n: Any) -> tuple:
    """BPTT of :func:`rnn_forward`; dout (T, N, H) or None, dh_n (N, H) or None."""
    return _rnn_backward(ctx, ctx.hs, dout, dh_n)


def lstm_forward(ctx: Any, x: Any, h0: Any, c0: Any, w_ih: Any, w_hh: Any, bias: Any,
                 reverse: bool) -> tuple[Any, Any]:
    """(every step's h (T, N, H), the last cell state c_n) of the LSTM; bias = b_ih + b_hh."""
    saved = _lstm_forward(x, h0, c0, w_ih, w_hh, bias, reverse)
    ctx.x, ctx.w_ih, ctx.w_hh, ctx.reverse, ctx.saved = x, w_ih, w_hh, reverse, saved
    cs = saved[2]
    return _state_views(saved[1], reverse)[0], cs[0 if reverse else -1]


def lstm_backward(ctx: Any, dout: Any, dh_n: Any, dc_n: Any) -> tuple:
    """BPTT of :func:`lstm_forward`."""
    return _lstm_backward(ctx, *ctx.saved, dout, dh_n, dc_n)


def gru_forward(ctx: Any, x: Any, h0: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any,
                reverse: bool) -> Any:
    """Every step's state (T, N, H) of the GRU (PyTorch's formula)."""
    saved = _gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reverse)
    ctx.x, ctx.w_ih, ctx.w_hh, ctx.reverse, ctx.saved = x, w_ih, w_hh, reverse, saved
    return _state_views(saved[2], reverse)[0]


def gru_backward(ctx: Any, dout: Any, dh_n: Any) -> tuple:
    """BPTT of :func:`gru_forward`."""
    return _gru_backward(ctx, *ctx.saved, dout, dh_n)
