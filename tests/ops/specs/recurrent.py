"""Specs of the recurrent ops: cells against torch's cell functions, sequences against a loop of
them (forward and reverse, batch-first, with and without biases), and the embedding lookup."""

import numpy as np
import torch
import torch.nn.functional as TF

import neuralab as nl
from tests.ops.specs import OpSpec

# (T, N, I, H): small enough for float64 finite differences over every weight.
SEQ = [(3, 2, 3, 2), (4, 1, 2, 3)]
CELL = [(2, 3, 2), (1, 2, 4)]  # (N, I, H)
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _cell_shapes(kind, bias=True):
    g = GATES[kind]
    out = []
    for n, i, h in CELL:
        states = [(n, h)] * (2 if kind == "lstm" else 1)
        shapes = [(n, i), *states, (g * h, i), (g * h, h)]
        out.append(tuple(shapes + ([(g * h,), (g * h,)] if bias else [])))
    return out


def _seq_shapes(kind, bias=True, batch_first=False):
    g = GATES[kind]
    out = []
    for t, n, i, h in SEQ:
        states = [(n, h)] * (2 if kind == "lstm" else 1)
        x = (n, t, i) if batch_first else (t, n, i)
        shapes = [x, *states, (g * h, i), (g * h, h)]
        out.append(tuple(shapes + ([(g * h,), (g * h,)] if bias else [])))
    return out


def _torch_sequence(cell, x, states, weights, batch_first, reverse, lstm):
    """The reference: torch's cell function applied step by step."""
    if batch_first:
        x = x.transpose(0, 1)
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    outs = [None] * x.shape[0]
    state = tuple(states) if lstm else states[0]
    for t in steps:
        state = cell(x[t], state, *weights)
        outs[t] = state[0] if lstm else state
    out = torch.stack(outs)
    if batch_first:
        out = out.transpose(0, 1)
    return (out, *state) if lstm else (out, state)


def _lstm_seq(batch_first=False, reverse=False):
    def fn(x, h, c, *w):
        out, (hn, cn) = nl.lstm_sequence(x, (h, c), *w, batch_first=batch_first, reverse=reverse)
        return out, hn, cn

    def ref(x, h, c, *w):
        return _torch_sequence(torch.lstm_cell, x, (h, c), w, batch_first, reverse, True)

    return fn, ref


def _gru_seq(batch_first=False, reverse=False):
    def fn(x, h, *w):
        return nl.gru_sequence(x, h, *w, batch_first=batch_first, reverse=reverse)

    def ref(x, h, *w):
        return _torch_sequence(torch.gru_cell, x, (h,), w, batch_first, reverse, False)

    return fn, ref


def _rnn_seq(nonlinearity, batch_first=False, reverse=False):
    def fn(x, h, *w):
        return nl.rnn_sequence(x, h, *w, nonlinearity=nonlinearity, batch_first=batch_first,
                               reverse=reverse)

    cell = torch.rnn_tanh_cell if nonlinearity == "tanh" else torch.rnn_relu_cell

    def ref(x, h, *w):
        return _torch_sequence(cell, x, (h,), w, batch_first, reverse, False)

    return fn, ref


def _relu_inputs(rng, shapes):
    """Inputs whose pre-activations stay away from relu's kink (weights positive-leaning)."""
    arrays = [rng.uniform(-1, 1, size=s) for s in shapes]
    return [np.where(np.abs(a) < 0.05, 0.3, a) for a in arrays]


def _indices(padding=None):
    def make(rng, shapes):
        idx_shape, w_shape = shapes
        idx = rng.integers(0, w_shape[0], size=idx_shape)
        flat = idx.reshape(-1)
        if flat.size > 2:
            flat[1] = flat[0]  # repeated rows must sum their gradients
        if padding is not None and flat.size > 3:
            flat[2] = padding % w_shape[0]
        return [idx.astype(np.int64), rng.uniform(-1, 1, size=w_shape)]

    return make


SPECS = [
    OpSpec("lstm_cell",
           lambda x, h, c, *w: nl.lstm_cell(x, (h, c), *w),
           lambda x, h, c, *w: torch.lstm_cell(x, (h, c), *w),
           _cell_shapes("lstm"), low=-1, high=1),
    OpSpec("lstm_cell",
           lambda x, h, c, *w: nl.lstm_cell(x, (h, c), *w),
           lambda x, h, c, *w: torch.lstm_cell(x, (h, c), *w),
           _cell_shapes("lstm", bias=False), low=-1, high=1),
    OpSpec("gru_cell", nl.gru_cell, torch.gru_cell, _cell_shapes("gru"), low=-1, high=1),
    OpSpec("gru_cell", nl.gru_cell, torch.gru_cell, _cell_shapes("gru", bias=False), low=-1,
           high=1),
    OpSpec("rnn_tanh_cell", nl.rnn_tanh_cell, torch.rnn_tanh_cell, _cell_shapes("rnn"), low=-1,
           high=1),
    OpSpec("rnn_tanh_cell", nl.rnn_tanh_cell, torch.rnn_tanh_cell, _cell_shapes("rnn", False),
           low=-1, high=1),
    OpSpec("rnn_relu_cell", nl.rnn_relu_cell, torch.rnn_relu_cell, _cell_shapes("rnn"),
           make=_relu_inputs),
    OpSpec("embedding", nl.embedding, TF.embedding, [((5,), (4, 3)), ((2, 3), (6, 2))],
           make=_indices(), grad_inputs=(1,)),
    OpSpec("embedding", lambda i, w: nl.embedding(i, w, padding_idx=1),
           lambda i, w: TF.embedding(i, w, padding_idx=1), [((2, 4), (5, 3))],
           make=_indices(1), grad_inputs=(1,), gradcheck=False),  # padding row: no grad by design
    OpSpec("embedding", lambda i, w: nl.embedding(i, w, padding_idx=-1),
           lambda i, w: TF.embedding(i, w, padding_idx=-1), [((7,), (5, 3))],
           make=_indices(-1), grad_inputs=(1,), gradcheck=False),
]

for _bf in (False, True):
    for _rev in (False, True):
        SPECS.append(OpSpec("lstm_sequence", *_lstm_seq(_bf, _rev), _seq_shapes("lstm", True, _bf),
                            low=-1, high=1))
        SPECS.append(OpSpec("gru_sequence", *_gru_seq(_bf, _rev), _seq_shapes("gru", True, _bf),
                            low=-1, high=1))
        SPECS.append(OpSpec("rnn_sequence", *_rnn_seq("tanh", _bf, _rev),
                            _seq_shapes("rnn", True, _bf), low=-1, high=1))
SPECS += [
    OpSpec("lstm_sequence", *_lstm_seq(), _seq_shapes("lstm", bias=False), low=-1, high=1),
    OpSpec("gru_sequence", *_gru_seq(), _seq_shapes("gru", bias=False), low=-1, high=1),
    OpSpec("rnn_sequence", *_rnn_seq("tanh"), _seq_shapes("rnn", bias=False), low=-1, high=1),
    OpSpec("rnn_sequence", *_rnn_seq("relu"), _seq_shapes("rnn"), make=_relu_inputs),
    OpSpec("rnn_sequence", *_rnn_seq("relu", reverse=True), _seq_shapes("rnn"),
           make=_relu_inputs),
]
