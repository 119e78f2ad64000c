"""Recurrent layers and Embedding against PyTorch with identical weights (loaded by state_dict):
outputs, final states and every gradient (input, initial states, all weights)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn as nn
from neuralab.nn.rnn import CarryState, detach_state

T, N, I, H = 5, 3, 4, 6

TOL = {np.float64: dict(rtol=1e-9, atol=1e-11), np.float32: dict(rtol=2e-4, atol=2e-5)}


def _make(mode, **kwargs):
    """The same layer in both libraries, torch's weights copied from ours via state_dict."""
    if mode.startswith("RNN"):
        kwargs["nonlinearity"] = mode.split("_")[1]
        ours, theirs = nn.RNN(I, H, **kwargs), torch.nn.RNN(I, H, **kwargs)
    else:
        ours, theirs = getattr(nn, mode)(I, H, **kwargs), getattr(torch.nn, mode)(I, H, **kwargs)
    return ours, theirs


def _load(ours, theirs, dtype):
    ours.to(dtype)
    sd = ours.state_dict()
    assert list(sd) == list(theirs.state_dict()), "state_dict keys must match torch's exactly"
    for k, v in sd.items():
        assert v.shape == tuple(theirs.state_dict()[k].shape), k
    theirs.load_state_dict({k: torch.tensor(v) for k, v in sd.items()})
    theirs.to(torch.float64 if dtype == np.float64 else torch.float32)


def _compare_grads(ours, theirs, tol):
    named = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert p.grad is not None, f"no gradient for {name}"
        np.testing.assert_allclose(p.grad.numpy(), named[name].grad.numpy(), **tol,
                                   err_msg=f"gradient of {name}")


def _run_both(ours, theirs, x, states, dtype, lstm):
    """Forward both, backpropagate the same random projection of every output, compare all."""
    tol = TOL[dtype]
    ox = nl.tensor(x, dtype=dtype, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    ost = [nl.tensor(s, dtype=dtype, requires_grad=True) for s in states]
    tst = [torch.tensor(s, requires_grad=True) for s in states]
    if states:
        o_out, o_state = ours(ox, tuple(ost) if lstm else ost[0])
        t_out, t_state = theirs(tx, tuple(tst) if lstm else tst[0])
    else:
        o_out, o_state = ours(ox)
        t_out, t_state = theirs(tx)
    o_all = [o_out, *(o_state if lstm else [o_state])]
    t_all = [t_out, *(t_state if lstm else [t_state])]
    rng = np.random.default_rng(7)
    loss_o, loss_t = 0, 0
    for o, t in zip(o_all, t_all):
        assert o.shape == tuple(t.shape)
        assert o.dtype == dtype
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), **tol)
        v = rng.standard_normal(o.shape)
        loss_o = loss_o + (o * nl.tensor(v, dtype=dtype)).sum()
        loss_t = loss_t + (t * torch.tensor(v, dtype=t.dtype)).sum()
    loss_o.backward()
    loss_t.backward()
    np.testing.assert_allclose(ox.grad.numpy(), tx.grad.numpy(), **tol, err_msg="input grad")
    for o, t in zip(ost, tst):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), **tol, err_msg="state grad")
    _compare_grads(ours, theirs, tol)


MODES = ["RNN_tanh", "RNN_relu", "LSTM", "GRU"]
CONFIGS = list(itertools.product(MODES, [1, 2], [False, True], [False, True], [True, False]))
IDS = [f"{m}-L{layers}-{'bf' if bf else 'tf'}-{'bi' if bi else 'uni'}-{'bias' if b else 'nobias'}"
       for m, layers, bf, bi, b in CONFIGS]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(("mode", "layers", "batch_first", "bidirectional", "bias"), CONFIGS,
                         ids=IDS)
def test_layer_matches_torch(mode, layers, batch_first, bidirectional, bias, dtype):
    ours, theirs = _make(mode, num_layers=layers, batch_first=batch_first,
                         bidirectional=bidirectional, bias=bias)
    _load(ours, theirs, dtype)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, I) if batch_first else (T, N, I)).astype(dtype)
    D = 2 if bidirectional else 1
    n_states = 2 if mode == "LSTM" else 1
    states = [(0.5 * rng.standard_normal((layers * D, N, H))).astype(dtype)
              for _ in range(n_states)]
    _run_both(ours, theirs, x, states, dtype, mode == "LSTM")


@pytest.mark.parametrize("mode", MODES)
def test_layer_default_state_and_unbatched(mode):
    ours, theirs = _make(mode, num_layers=2, bidirectional=True)
    _load(ours, theirs, np.float64)
    x = np.random.default_rng(1).standard_normal((T, N, I))
    _run_both(ours, theirs, x, [], np.float64, mode == "LSTM")  # hx=None -> zeros
    ours.zero_grad()
    theirs.zero_grad()
    _run_both(ours, theirs, x[:, 0], [], np.float64, mode == "LSTM")  # (T, I)


def test_dropout_between_layers():
    ours, theirs = _make("LSTM", num_layers=3, dropout=0.5)
    _load(ours, theirs, np.float64)
    x = np.random.default_rng(2).standard_normal((T, N, I))
    ours.eval()
    theirs.eval()
    _run_both(ours, theirs, x, [], np.float64, True)  # no dropout at evaluation
    ours.train()
    xt = nl.tensor(x, dtype=np.float64)
    nl.manual_seed(3)
    a, _ = ours(xt)
    nl.manual_seed(3)
    b, _ = ours(xt)
    ours.eval()
    c, _ = ours(xt)
    np.testing.assert_array_equal(a.numpy(), b.numpy())  # seeded masks repeat
    assert not np.allclose(a.numpy(), c.numpy())  # training applies dropout
    # dropout is not applied after the last layer: a 1-layer LSTM ignores it (as torch warns)
    single = nn.LSTM(I, H, dropout=0.5).double()
    np.testing.assert_array_equal(single(xt)[0].numpy(), single.eval()(xt)[0].numpy())


CELLS = [("RNNCell", {"nonlinearity": "tanh"}), ("RNNCell", {"nonlinearity": "relu"}),
         ("LSTMCell", {}), ("GRUCell", {})]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(("cell", "kwargs"), CELLS, ids=[f"{c}-{k}" for c, k in CELLS])
def test_cell_matches_torch(cell, kwargs, bias, dtype):
    ours = getattr(nn, cell)(I, H, bias=bias, **kwargs)
    theirs = getattr(torch.nn, cell)(I, H, bias=bias, **kwargs)
    _load(ours, theirs, dtype)
    tol = TOL[dtype]
    rng = np.random.default_rng(3)
    lstm = cell == "LSTMCell"
    xs = rng.standard_normal((3, N, I)).astype(dtype)  # three steps through the same cell
    h0 = [rng.standard_normal((N, H)).astype(dtype) for _ in range(2 if lstm else 1)]
    ox = nl.tensor(xs, dtype=dtype, requires_grad=True)
    tx = torch.tensor(xs, requires_grad=True)
    oh = [nl.tensor(h, dtype=dtype, requires_grad=True) for h in h0]
    th = [torch.tensor(h, requires_grad=True) for h in h0]
    os_, ts = (tuple(oh) if lstm else oh[0]), (tuple(th) if lstm else th[0])
    loss_o, loss_t = 0, 0
    for t in range(3):
        os_, ts = ours(ox[t], os_), theirs(tx[t], ts)
        o0, t0 = (os_[0], ts[0]) if lstm else (os_, ts)
        np.testing.assert_allclose(o0.numpy(), t0.detach().numpy(), **tol)
        loss_o = loss_o + (o0 * o0).sum()
        loss_t = loss_t + (t0 * t0).sum()
    if lstm:
        np.testing.assert_allclose(os_[1].numpy(), ts[1].detach().numpy(), **tol)
        loss_o, loss_t = loss_o + os_[1].sum(), loss_t + ts[1].sum()
    loss_o.backward()
    loss_t.backward()
    np.testing.assert_allclose(ox.grad.numpy(), tx.grad.numpy(), **tol)
    for o, t in zip(oh, th):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), **tol)
    _compare_grads(ours, theirs, tol)


@pytest.mark.parametrize(("cell", "kwargs"), CELLS, ids=[f"{c}-{k}" for c, k in CELLS])
def test_cell_unbatched_and_zero_state(cell, kwargs):
    ours = getattr(nn, cell)(I, H, **kwargs).double()
    theirs = getattr(torch.nn, cell)(I, H, **kwargs).double()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(4).standard_normal(I)
    o, t = ours(nl.tensor(x, dtype=np.float64)), theirs(torch.tensor(x))
    o, t = (o[0], t[0]) if cell == "LSTMCell" else (o, t)
    assert o.shape == (H,)
    np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=1e-10)


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU, nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_default_init_is_uniform_over_one_over_sqrt_hidden(cls):
    hidden = 100
    m = cls(50, hidden)
    bound = 1 / math.sqrt(hidden)
    values = np.concatenate([p.numpy().ravel() for p in m.parameters()])
    assert all(p.dtype == np.float32 for p in m.parameters())
    assert values.min() >= -bound and values.max() <= bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.02 * bound  # std of U(-a, a) is a/√3
    assert abs(values.mean()) < 0.02 * bound


def test_parameter_shapes_follow_pytorch():
    m = nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    t = torch.nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    assert {k: v.shape for k, v in m.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in t.state_dict().items()}
    assert m.weight_ih_l1_reverse.shape == (80, 40)
    assert sum(p.numel() for p in m.parameters()) == sum(p.numel() for p in t.parameters())
    g = nn.GRU(10, 20, bias=False)
    assert list(g.state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    assert g.weight_hh_l0.shape == (60, 20)


def test_errors_name_the_layer_and_the_argument():
    lstm = nn.LSTM(I, H, num_layers=2)
    with pytest.raises(ValueError, match="LSTM: input has 3 features.*input_size=4"):
        lstm(nl.randn(T, N, 3))
    with pytest.raises(ValueError, match=r"LSTM: initial state h0 must have shape \(2, 3, 6\)"):
        lstm(nl.randn(T, N, I), (nl.zeros(1, N, H), nl.zeros(1, N, H)))
    with pytest.raises(TypeError, match="pair"):
        lstm(nl.randn(T, N, I), nl.zeros(2, N, H))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(I, H, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout"):
        nn.GRU(I, H, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size"):
        nn.LSTMCell(I, 0)
    with pytest.raises(TypeError, match="dtype"):
        nn.LSTM(I, H)(nl.randn(T, N, I).double())
    with pytest.raises(ValueError, match="lstm_cell: input has 5 features"):
        nl.lstm_cell(nl.randn(N, 5), (nl.zeros(N, H), nl.zeros(N, H)), nl.randn(4 * H, I),
                     nl.randn(4 * H, H))


def test_truncated_bptt_detach_state():
    lstm = nn.LSTM(I, H).double()
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2 * T, N, I))
    # Chunked forward with the state carried over equals one forward over the whole stream.
    whole, _ = lstm(nl.tensor(x, dtype=np.float64))
    x1 = nl.tensor(x[:T], dtype=np.float64, requires_grad=True)
    x2 = nl.tensor(x[T:], dtype=np.float64, requires_grad=True)
    out1, state = lstm(x1)
    detached = detach_state(state)
    assert isinstance(detached, tuple) and all(s.is_leaf and not s.requires_grad
                                               for s in detached)
    np.testing.assert_array_equal(detached[0].numpy(), state[0].numpy())
    out2, _ = lstm(x2, detached)
    np.testing.assert_allclose(np.concatenate([out1.numpy(), out2.numpy()]), whole.numpy(),
                               rtol=1e-12)
    # The second chunk's backward stops at the boundary: nothing reaches the first chunk...
    out2.sum().backward()
    assert x1.grad is None and x2.grad is not None
    # ...whereas without detaching, the gradient flows back through the first chunk.
    out1, state = lstm(x1)
    out2, _ = lstm(x2, state)
    out2.sum().backward()
    assert x1.grad is not None and np.abs(x1.grad.numpy()).max() > 0
    assert detach_state(None) is None
    assert isinstance(detach_state([nl.zeros(2)]), list)
    with pytest.raises(TypeError, match="detach_state"):
        detach_state("h")


def test_carry_state_continues_the_stream_and_cuts_the_graph():
    lstm = nn.LSTM(I, H).double()
    x = np.random.default_rng(6).standard_normal((2 * T, N, I))
    whole, _ = lstm(nl.tensor(x, dtype=np.float64))
    carried = CarryState(lstm)
    x1 = nl.tensor(x[:T], dtype=np.float64, requires_grad=True)
    out1 = carried(x1)
    out2 = carried(nl.tensor(x[T:], dtype=np.float64))
    # Two chunks through the wrapper equal one pass over the whole stream...
    np.testing.assert_allclose(np.concatenate([out1.numpy(), out2.numpy()]), whole.numpy(),
                               rtol=1e-12)
    # ...but the second chunk's backward stops at the boundary.
    out2.sum().backward()
    assert x1.grad is None
    assert [name for name, _ in carried.named_parameters()][0].startswith("model.")
    carried.reset()  # a new pass starts from zeros: the first chunk's output again
    np.testing.assert_array_equal(carried(nl.tensor(x[:T], dtype=np.float64)).numpy(),
                                  out1.numpy())


def test_repr():
    assert repr(nn.LSTM(4, 8, num_layers=2, batch_first=True)) == \
        "LSTM(4, 8, num_layers=2, batch_first=True)"
    assert repr(nn.GRUCell(3, 5, bias=False)) == "GRUCell(3, 5, bias=False)"
    assert repr(nn.Embedding(10, 3, padding_idx=0)) == "Embedding(10, 3, padding_idx=0)"


# --------------------------------------------------------------------------- Embedding
@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
def test_embedding_matches_torch(padding_idx):
    ours = nn.Embedding(7, 4, padding_idx=padding_idx).double()
    theirs = torch.nn.Embedding(7, 4, padding_idx=padding_idx).double()
    if padding_idx is not None:
        assert not ours.weight.numpy()[padding_idx].any()  # the padding row starts at zero
    ours.weight.array[...] = np.random.default_rng(6).standard_normal((7, 4))
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    idx = np.array([[0, 3, 3, 6], [6, 1, 3, 0], [2, 2, 2, 5]])  # repeated rows sum gradients
    o = ours(nl.tensor(idx))
    t = theirs(torch.tensor(idx))
    np.testing.assert_array_equal(o.numpy(), t.detach().numpy())
    v = np.random.default_rng(7).standard_normal(o.shape)
    (o * nl.tensor(v, dtype=np.float64)).sum().backward()
    (t * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)
    if padding_idx is not None:
        assert not ours.weight.grad.numpy()[padding_idx].any()


def test_embedding_errors_and_pretrained():
    emb = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match=r"embedding: indices must lie in \[0, 5\)"):
        emb(nl.tensor([1, 5]))
    with pytest.raises(TypeError, match="integer"):
        emb(nl.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 2, padding_idx=5)
    table = np.arange(6.0).reshape(3, 2)
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(np.array([2, 0])).numpy(), table[[2, 0]])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
