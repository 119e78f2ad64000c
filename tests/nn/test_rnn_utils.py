"""``neuralab.nn.utils.rnn`` against ``torch.nn.utils.rnn``: packing, padding and their
gradients (float64), the PackedSequence fields, and PyTorch's errors on bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn.utils import rnn as trnn

import neuralab as nl
from neuralab.autograd.gradcheck import gradcheck
from neuralab.nn.utils import rnn

F = 3
# (lengths, enforce_sorted): sorted, unsorted with ties, all equal, all length 1, one sequence
PATTERNS = [([5, 3, 3, 1], True), ([2, 5, 1, 3, 2], False), ([4, 4, 4], True),
            ([1, 1, 1], False), ([1], True), ([3], False)]
IDS = ["sorted", "unsorted", "equal", "ones", "single1", "single3"]


def _pair(array, grad=True):
    return (nl.tensor(array, dtype=nl.float64, requires_grad=grad),
            torch.tensor(array, dtype=torch.float64, requires_grad=grad))


def _indices_equal(ours, theirs):
    if theirs is None:
        assert ours is None
    else:
        assert ours.dtype == nl.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def _same_packed(po, pt):
    assert isinstance(po, rnn.PackedSequence) and isinstance(po, tuple)
    np.testing.assert_array_equal(po.data.detach().numpy(), pt.data.detach().numpy())
    _indices_equal(po.batch_sizes, pt.batch_sizes)
    _indices_equal(po.sorted_indices, pt.sorted_indices)
    _indices_equal(po.unsorted_indices, pt.unsorted_indices)


def _backward_same(out_o, out_t, seed=0):
    w = np.random.default_rng(seed).standard_normal(out_o.shape)
    (out_o * nl.tensor(w, dtype=nl.float64)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()


@pytest.mark.parametrize("lengths_as", ["list", "tensor"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize(("lengths", "enforce_sorted"), PATTERNS, ids=IDS)
def test_pack_then_pad_matches_torch(lengths, enforce_sorted, batch_first, lengths_as):
    T, B = max(lengths), len(lengths)
    x = np.random.default_rng(0).standard_normal((B, T, F) if batch_first else (T, B, F))
    xo, xt = _pair(x)
    lo = nl.tensor(lengths) if lengths_as == "tensor" else lengths
    lt = torch.tensor(lengths) if lengths_as == "tensor" else lengths
    po = rnn.pack_padded_sequence(xo, lo, batch_first=batch_first, enforce_sorted=enforce_sorted)
    pt = trnn.pack_padded_sequence(xt, lt, batch_first=batch_first,
                                   enforce_sorted=enforce_sorted)
    _same_packed(po, pt)
    for total_length in (None, T + 2):
        out_o, len_o = rnn.pad_packed_sequence(po, batch_first=batch_first, padding_value=-1.5,
                                               total_length=total_length)
        out_t, len_t = trnn.pad_packed_sequence(pt, batch_first=batch_first, padding_value=-1.5,
                                                total_length=total_length)
        assert out_o.shape == tuple(out_t.shape)
        np.testing.assert_array_equal(out_o.detach().numpy(), out_t.detach().numpy())
        _indices_equal(len_o, len_t)
    _backward_same(out_o, out_t)  # gradients through pack and pad, back to the padded input
    np.testing.assert_array_equal(xo.grad.numpy(), xt.grad.numpy())


def test_padding_positions_get_no_gradient():
    x = nl.tensor(np.ones((4, 2, 1)), dtype=nl.float64, requires_grad=True)
    packed = rnn.pack_padded_sequence(x, [4, 2])
    packed.data.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[:, :, 0], [[1, 1], [1, 1], [1, 0], [1, 0]])


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence_matches_torch(batch_first, padding_side):
    rng = np.random.default_rng(1)
    shapes = [(3, 2, F), (5, 2, F), (1, 2, F), (0, 2, F)]
    pairs = [_pair(rng.standard_normal(s)) for s in shapes]
    out_o = rnn.pad_sequence([p[0] for p in pairs], batch_first=batch_first, padding_value=7.0,
                             padding_side=padding_side)
    out_t = trnn.pad_sequence([p[1] for p in pairs], batch_first=batch_first, padding_value=7.0,
                              padding_side=padding_side)
    assert out_o.shape == tuple(out_t.shape)
    np.testing.assert_array_equal(out_o.detach().numpy(), out_t.detach().numpy())
    _backward_same(out_o, out_t, seed=2)
    for o, t in pairs:
        np.testing.assert_array_equal(o.grad.numpy(), t.grad.numpy())


def test_pad_sequence_takes_a_tensor_and_the_first_dtype():
    x = np.arange(6.0).reshape(2, 3)
    out = rnn.pad_sequence(nl.tensor(x))  # read as its rows, as PyTorch
    np.testing.assert_array_equal(out.numpy(), trnn.pad_sequence(torch.tensor(x)).numpy())
    mixed = rnn.pad_sequence([nl.ones(2, dtype=nl.float32), nl.ones(3, dtype=nl.float64)])
    assert mixed.dtype == nl.float32 and mixed.shape == (3, 2)


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_and_unpack_sequence_match_torch(enforce_sorted):
    rng = np.random.default_rng(3)
    lens = [4, 2, 2, 1] if enforce_sorted else [2, 4, 1, 2]
    pairs = [_pair(rng.standard_normal((n, F))) for n in lens]
    po = rnn.pack_sequence([p[0] for p in pairs], enforce_sorted=enforce_sorted)
    pt = trnn.pack_sequence([p[1] for p in pairs], enforce_sorted=enforce_sorted)
    _same_packed(po, pt)
    seqs_o, seqs_t = rnn.unpack_sequence(po), trnn.unpack_sequence(pt)
    assert len(seqs_o) == len(seqs_t)
    loss_o, loss_t = 0, 0
    for k, (so, st) in enumerate(zip(seqs_o, seqs_t)):
        assert so.shape == tuple(st.shape)
        np.testing.assert_array_equal(so.detach().numpy(), st.detach().numpy())
        loss_o = loss_o + (so * (k + 1.0)).sum()
        loss_t = loss_t + (st * (k + 1.0)).sum()
    loss_o.backward()
    loss_t.backward()
    for o, t in pairs:
        np.testing.assert_array_equal(o.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence_matches_torch(batch_first):
    x = np.random.default_rng(4).standard_normal((3, 4, F))
    xo, xt = _pair(x)
    lengths = [4, 1, 3] if batch_first else [2, 3, 1, 3]
    seqs_o = rnn.unpad_sequence(xo, nl.tensor(lengths), batch_first=batch_first)
    # torch's transposes its argument in place (transpose_): give it a copy; ours leaves the
    # argument as it is
    seqs_t = trnn.unpad_sequence(xt * 1.0, torch.tensor(lengths), batch_first=batch_first)
    assert [s.shape for s in seqs_o] == [tuple(s.shape) for s in seqs_t]
    for so, st in zip(seqs_o, seqs_t):
        np.testing.assert_array_equal(so.detach().numpy(), st.detach().numpy())
    assert xo.shape == x.shape
    sum(s.sum() for s in seqs_o).backward()
    sum(s.sum() for s in seqs_t).backward()
    np.testing.assert_array_equal(xo.grad.numpy(), xt.grad.numpy())


def test_gradcheck_pack_pad_round_trip():
    x = nl.tensor(np.random.default_rng(5).standard_normal((4, 3, 2)), dtype=nl.float64,
                  requires_grad=True)

    def fn(t):
        packed = rnn.pack_padded_sequence(t, [2, 4, 1], enforce_sorted=False)
        return rnn.pad_packed_sequence(packed, batch_first=True, total_length=5)[0] * 2.0

    assert gradcheck(fn, [x])
    assert gradcheck(lambda a: rnn.pad_sequence([a[:3], a[3:]], padding_side="left"), [x])


def test_packed_sequence_fields_and_methods():
    data = nl.tensor(np.arange(5.0), dtype=nl.float32)
    p = rnn.PackedSequence(data, nl.tensor([2, 2, 1]), nl.tensor([1, 0]))
    assert p._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    np.testing.assert_array_equal(p.unsorted_indices.numpy(), [1, 0])  # computed, as torch
    np.testing.assert_array_equal(rnn.invert_permutation(nl.tensor([2, 0, 1])).numpy(),
                                  trnn.invert_permutation(torch.tensor([2, 0, 1])).numpy())
    assert rnn.invert_permutation(None) is None
    old = rnn.PackedSequence((data, nl.tensor([2, 2, 1])))  # the (data, batch_sizes) form
    assert old.sorted_indices is None and old.unsorted_indices is None
    d, bs, si, ui = p  # a namedtuple, as PyTorch's
    assert d is data and len(p) == 4
    assert p.to(nl.float32) is p
    q = p.to(nl.float64)
    assert q.data.dtype == nl.float64 and q.sorted_indices is p.sorted_indices
    assert p.double().data.dtype == nl.float64 and p.long().data.dtype == nl.int64
    assert p.float() is p and p.cpu() is p
    assert not p.is_cuda and not p.is_pinned()
    assert repr(p).startswith("PackedSequence(data=")
    with pytest.raises(TypeError, match="data and batch_sizes"):
        rnn.PackedSequence(data)
    with pytest.raises(TypeError, match="sorted_indices must be a 1-d integer"):
        rnn.PackedSequence(data, nl.tensor([2, 2, 1]), nl.tensor([1.0, 0.0]))


def _torch_error(fn):
    with pytest.raises(Exception) as info:
        fn()
    return info.type, str(info.value)


@pytest.mark.parametrize(("lengths", "kwargs"), [
    ([3, 4, 2], {}),                          # unsorted with enforce_sorted=True
    ([4, 0, 2], {"enforce_sorted": False}),   # a zero length
    ([4, 3, 0], {}),
    ([4, 3], {}),                             # one length per sequence
    ([[4, 3, 2]], {}),                        # not 1-d
])
def test_pack_padded_sequence_errors_as_torch(lengths, kwargs):
    x = np.zeros((4, 3, 2))
    kind, message = _torch_error(lambda: trnn.pack_padded_sequence(torch.tensor(x), lengths,
                                                                   **kwargs))
    with pytest.raises(kind) as info:
        rnn.pack_padded_sequence(nl.tensor(x), lengths, **kwargs)
    if kind is RuntimeError and "1D CPU int64" not in message:
        assert str(info.value) == message
    else:
        assert "'lengths' must be a 1-d list or tensor" in str(info.value)


def test_bad_input_messages():
    x = nl.zeros(4, 3, 2)
    with pytest.raises(ValueError, match="sequence has length 5 but the input has only 4"):
        rnn.pack_padded_sequence(x, [5, 3, 2])  # torch reads past the end here
    with pytest.raises(ValueError, match=r"input must have shape \(T, B, \*\)"):
        rnn.pack_padded_sequence(nl.zeros(4), [4])
    packed = rnn.pack_padded_sequence(x, [4, 3, 2])
    with pytest.raises(ValueError, match="total_length=2 and max sequence length being 4"):
        rnn.pad_packed_sequence(packed, total_length=2)
    with pytest.raises(TypeError, match="expected a PackedSequence, got Tensor"):
        rnn.pad_packed_sequence(x)
    with pytest.raises(RuntimeError, match="received an empty list of sequences"):
        rnn.pad_sequence([])
    with pytest.raises(RuntimeError, match="one of left or right, but got up"):
        rnn.pad_sequence([x], padding_side="up")
    with pytest.raises(RuntimeError, match="Expected iterable for input sequences"):
        rnn.pad_sequence(3)
    with pytest.raises(RuntimeError, match=r"trailing shape \(3, 2\) of sequence 0"):
        rnn.pad_sequence([x, nl.zeros(2, 4, 2)])
    with pytest.raises(RuntimeError, match="sequence 1 is 0-dimensional"):
        rnn.pad_sequence([nl.zeros(2), nl.tensor(1.0)])
    with pytest.raises(RuntimeError, match="`lengths` array must be sorted"):
        rnn.pack_sequence([nl.zeros(2), nl.zeros(3)])
    with pytest.raises(ValueError, match="got 2 lengths for a batch of 3"):
        rnn.unpad_sequence(x, [4, 3])
    with pytest.raises(ValueError, match=r"lengths must lie in \[0, 4\]"):
        rnn.unpad_sequence(x, [4, 3, 6])
