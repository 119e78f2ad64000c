"""nn.RNN, nn.LSTM and nn.GRU on a PackedSequence against PyTorch with the same weights
(float64): the packed output, the final states at each sequence's own last step, and the
gradients of the padded input, h0/c0 and every parameter; both kernel sets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn.utils import rnn as trnn

import neuralab as nl
import neuralab.nn as nn
from neuralab.nn.utils import rnn

I, H = 3, 4
TOL = dict(rtol=1e-10, atol=1e-12)
MODES = ["RNN_tanh", "RNN_relu", "LSTM", "GRU"]
# (lengths, enforce_sorted): sorted with a tie, unsorted, all equal, all length 1
PATTERNS = [([5, 3, 3, 1], True), ([2, 5, 1, 3], False), ([4, 4, 4], True), ([1, 1], False)]
PATTERN_IDS = ["sorted", "unsorted", "equal", "ones"]


def _make(mode, **kwargs):
    if mode.startswith("RNN"):
        kwargs["nonlinearity"] = mode.split("_")[1]
        ours, theirs = nn.RNN(I, H, **kwargs), torch.nn.RNN(I, H, **kwargs)
    else:
        ours, theirs = getattr(nn, mode)(I, H, **kwargs), getattr(torch.nn, mode)(I, H, **kwargs)
    ours.double()
    theirs.load_state_dict({k: torch.tensor(p.detach().numpy())  # same names as torch's
                            for k, p in ours.named_parameters()})
    theirs.double()
    return ours, theirs


def _compare(ours, theirs, lengths, enforce_sorted, with_state, batch_first=False, seed=0):
    lstm = isinstance(ours, nn.LSTM)
    rng = np.random.default_rng(seed)
    T, B = max(lengths), len(lengths)
    D = 2 if ours.bidirectional else 1
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I))
    xo = nl.tensor(x, dtype=nl.float64, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    states = [0.5 * rng.standard_normal((ours.num_layers * D, B, H))
              for _ in range(2 if lstm else 1)] if with_state else []
    so = [nl.tensor(s, dtype=nl.float64, requires_grad=True) for s in states]
    st = [torch.tensor(s, requires_grad=True) for s in states]
    po = rnn.pack_padded_sequence(xo, lengths, batch_first=batch_first,
                                  enforce_sorted=enforce_sorted)
    pt = trnn.pack_padded_sequence(xt, lengths, batch_first=batch_first,
                                   enforce_sorted=enforce_sorted)
    hx_o = (tuple(so) if lstm else so[0]) if states else None
    hx_t = (tuple(st) if lstm else st[0]) if states else None
    out_o, state_o = ours(po, hx_o)
    out_t, state_t = theirs(pt, hx_t)
    assert isinstance(out_o, rnn.PackedSequence)
    for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        assert getattr(out_o, field) is getattr(po, field)
    finals_o = list(state_o) if lstm else [state_o]
    finals_t = list(state_t) if lstm else [state_t]
    # the padded output as a user reads it; the loss weighs every output and final state
    pad_o = rnn.pad_packed_sequence(out_o, batch_first=True)[0]
    pad_t = trnn.pad_packed_sequence(out_t, batch_first=True)[0]
    loss_o, loss_t = 0, 0
    for o, t in zip([out_o.data, pad_o, *finals_o], [out_t.data, pad_t, *finals_t]):
        assert o.shape == tuple(t.shape)
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), **TOL)
        w = rng.standard_normal(o.shape)
        loss_o = loss_o + (o * nl.tensor(w, dtype=nl.float64)).sum()
        loss_t = loss_t + (t * torch.tensor(w)).sum()
    loss_o.backward()
    loss_t.backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), **TOL, err_msg="input grad")
    for o, t in zip(so, st):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), **TOL, err_msg="h0 grad")
    named = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), named[name].grad.numpy(), **TOL,
                                   err_msg=f"gradient of {name}")


@pytest.mark.parametrize("with_state", [True, False], ids=["h0", "zeros"])
@pytest.mark.parametrize(("lengths", "enforce_sorted"), PATTERNS, ids=PATTERN_IDS)
@pytest.mark.parametrize("mode", MODES)
def test_packed_single_layer_matches_torch(mode, lengths, enforce_sorted, with_state):
    ours, theirs = _make(mode)
    _compare(ours, theirs, lengths, enforce_sorted, with_state)


@pytest.mark.parametrize("kernels", ["fast", "reference"])
@pytest.mark.parametrize(("lengths", "enforce_sorted"), PATTERNS[:2], ids=PATTERN_IDS[:2])
@pytest.mark.parametrize("mode", MODES)
def test_packed_bidirectional_two_layers_matches_torch(mode, lengths, enforce_sorted, kernels):
    ours, theirs = _make(mode, num_layers=2, bidirectional=True)
    with nl.use_kernels(kernels):
        _compare(ours, theirs, lengths, enforce_sorted, with_state=True)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_packed_more_configs_match_torch(mode):
    # three layers one way, no bias; a batch_first module (which packed data ignores);
    # a bidirectional layer started from zeros; one sequence
    ours, theirs = _make(mode, num_layers=3, bias=False)
    _compare(ours, theirs, [3, 6, 2, 6, 1], False, with_state=True, seed=1)
    ours, theirs = _make(mode, batch_first=True, bidirectional=True)
    _compare(ours, theirs, [4, 2, 3], False, with_state=False, batch_first=True, seed=2)
    ours, theirs = _make(mode, bidirectional=True)
    _compare(ours, theirs, [3], True, with_state=True, seed=3)


def test_packed_final_state_is_the_last_real_step():
    """h_n of each sequence equals the output at its own last step (forward direction), and
    equals running that sequence alone."""
    lstm = nn.LSTM(I, H).double()
    x = nl.tensor(np.random.default_rng(4).standard_normal((5, 3, I)), dtype=nl.float64)
    lengths = [2, 5, 3]
    out, (h, c) = lstm(rnn.pack_padded_sequence(x, lengths, enforce_sorted=False))
    padded, _ = rnn.pad_packed_sequence(out)
    for b, n in enumerate(lengths):
        np.testing.assert_allclose(h.numpy()[0, b], padded.numpy()[n - 1, b], **TOL)
        alone_out, (alone_h, alone_c) = lstm(x[:n, b:b + 1])
        np.testing.assert_allclose(h.numpy()[0, b], alone_h.numpy()[0, 0], **TOL)
        np.testing.assert_allclose(c.numpy()[0, b], alone_c.numpy()[0, 0], **TOL)
        np.testing.assert_allclose(padded.numpy()[:n, b], alone_out.numpy()[:, 0], **TOL)
        assert np.all(padded.numpy()[n:, b] == 0)


def test_packed_input_errors():
    gru = nn.GRU(I, H).double()
    packed = rnn.pack_padded_sequence(nl.zeros(4, 3, I, dtype=nl.float64), [4, 3, 2])
    with pytest.raises(ValueError, match=r"h0 must have shape \(1, 3, 4\)"):
        gru(packed, nl.zeros(1, 2, H, dtype=nl.float64))
    wrong = rnn.pack_padded_sequence(nl.zeros(4, 3, I + 1, dtype=nl.float64), [4, 3, 2])
    with pytest.raises(ValueError, match="4 features in its last dimension but input_size=3"):
        gru(wrong)
    with pytest.raises(ValueError, match="non-increasing, got \\[1, 2\\]"):
        gru(rnn.PackedSequence(nl.zeros(3, I, dtype=nl.float64), [1, 2]))
    with pytest.raises(ValueError, match="data has 4 rows but its batch_sizes add up to 3"):
        gru(rnn.PackedSequence(nl.zeros(4, I, dtype=nl.float64), [2, 1]))
    lstm = nn.LSTM(I, H).double()
    with pytest.raises(TypeError, match=r"hx must be the pair \(h0, c0\)"):
        lstm(packed, nl.zeros(1, 3, H, dtype=nl.float64))
