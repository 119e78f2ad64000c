"""Ops validate at their boundary: messages name the op, the argument, expected and got.

Also the documented behaviour at ties (max/min) and of repeated indices."""

import numpy as np
import pytest
import torch

import neuralab as nl


@pytest.fixture
def x():
    return nl.tensor(np.arange(12.0).reshape(3, 4), dtype=nl.float32, requires_grad=True)


@pytest.mark.parametrize(("call", "error", "pattern"), [
    (lambda x: x + nl.ones(3), ValueError, r"add: shapes \(3, 4\) and \(3,\) cannot be broadcast"),
    (lambda x: x * nl.ones(2, 1, 5), ValueError, r"mul: shapes \(3, 4\) and \(2, 1, 5\)"),
    (lambda x: nl.where(x > 0, x, nl.ones(5)), ValueError, "where: shapes"),
    (lambda x: x @ nl.ones(3, 2), ValueError,
     r"matmul: shapes \(3, 4\) and \(3, 2\) do not fit.*\(4\).*\(3\)"),
    (lambda x: nl.ones(2, 3, 4) @ nl.ones(5, 4, 2), ValueError, "matmul: batch dimensions"),
    (lambda x: x @ nl.tensor(2.0), ValueError, "matmul: both operands need at least 1"),
    (lambda x: x.sum(2), IndexError, r"sum: dim 2 is out of range.*2 dimension.*\[-2, 1\]"),
    (lambda x: x.mean((0, 0)), ValueError, "mean: dim .* twice"),
    (lambda x: x.mean("a"), TypeError, "mean: dim must be"),
    (lambda x: nl.arange(3).mean(), TypeError, "mean: input must be a floating-point"),
    (lambda x: x.max(-3), IndexError, "max: dim -3 is out of range"),
    (lambda x: nl.softmax(x, 5), IndexError, "softmax: dim 5 is out of range"),
    (lambda x: nl.softmax(x, None), TypeError, "softmax: dim is required"),
    (lambda x: nl.log_softmax(nl.arange(3), 0), TypeError, "log_softmax: input must be"),
    (lambda x: nl.var(x, 0, unbiased=True, correction=0), ValueError, "var: give either"),
    (lambda x: nl.std(x, correction=-1), ValueError, "std: correction must be"),
    (lambda x: x.argmax(2), IndexError, "argmax: dim 2"),
    (lambda x: nl.tensor([]).max(), ValueError, "max: the input is empty"),
    (lambda x: x.reshape(5, 2), ValueError,
     r"reshape: cannot reshape a tensor of shape \(3, 4\) \(12 elements\) into \(5, 2\)"),
    (lambda x: x.view(-1, 5), ValueError, "view: cannot reshape.*multiple of 5"),
    (lambda x: x.view_as(nl.ones(5)), ValueError, "view_as: cannot reshape"),
    (lambda x: nl.arange(4) @ x, TypeError, "matmul: operands are int64 and float32"),
    (lambda x: x.reshape(-1, -1), ValueError, "at most one -1"),
    (lambda x: x.transpose(0, 2), IndexError, "transpose: dim 2 is out of range"),
    (lambda x: x.permute(0, 0), ValueError, r"permute: dims \(0, 0\) is not a permutation"),
    (lambda x: x.permute(0), ValueError, "permute: got 1 dims"),
    (lambda x: x.expand(3, 5), ValueError, r"expand: cannot expand shape \(3, 4\) to \(3, 5\)"),
    (lambda x: x.expand(4), ValueError, "expand: the number of sizes"),
    (lambda x: x.unsqueeze(3), IndexError, "unsqueeze: dim 3"),
    (lambda x: x.squeeze(2), IndexError, "squeeze: dim 2"),
    (lambda x: x.flatten(1, 0), ValueError, "flatten: start_dim 1 comes after end_dim 0"),
    (lambda x: nl.pad(x, (1,)), ValueError, "pad: pad .* even length"),
    (lambda x: nl.pad(x, (4, 0), mode="reflect"), ValueError,
     "pad: reflect padding of .* dimension 1 of size 4 is too large"),
    (lambda x: nl.pad(x, (1, 1), mode="wrap"), ValueError, "pad: mode must be"),
    (lambda x: nl.pad(x, (-1, 0), mode="replicate"), ValueError, "only allowed in 'constant'"),
    (lambda x: nl.cat([x, nl.ones(3, 5)], dim=0), ValueError,
     r"cat: tensor 1 has shape \(3, 5\) but tensor 0 has shape \(3, 4\); all sizes except "
     "dimension 0"),
    (lambda x: nl.cat([x, nl.ones(3)]), ValueError, "cat: tensor 1 has 1 dimensions"),
    (lambda x: nl.cat(x), TypeError, "cat: expected a list or tuple"),
    (lambda x: nl.cat([]), ValueError, "cat: expected a non-empty"),
    (lambda x: nl.stack([x, x.T]), ValueError, "stack: tensor 1 has shape"),
    (lambda x: nl.stack([x, x], dim=3), IndexError, "stack: dim 3"),
    (lambda x: x.split([1, 1]), ValueError, "split: sections .* add up to 3"),
    (lambda x: x.split(0), ValueError, "split: split_size must be positive"),
    (lambda x: x.chunk(0), ValueError, "chunk: chunks must be a positive"),
    (lambda x: x[3], IndexError,
     r"getitem: index 3 is out of bounds for dimension 0 with size 3 \(tensor shape \(3, 4\)\)"),
    (lambda x: x[:, -5], IndexError,
     "getitem: index -5 is out of bounds for dimension 1 with size 4"),
    (lambda x: x[[0, 7]], IndexError,
     "getitem: index 7 is out of bounds for dimension 0 with size 3"),
    (lambda x: x[0, 0, 0], IndexError, "getitem: too many indices for tensor of dimension 2"),
    (lambda x: x[nl.tensor([True, False])], IndexError,
     r"getitem: the shape of the mask \[2\] at index 0 does not match"),
    (lambda x: x[nl.tensor([0.0, 1.0])], IndexError,
     "getitem: tensors used as indices must be long, int, byte or bool"),
    (lambda x: x["a"], IndexError, "getitem: cannot index with an object of type str"),
    (lambda x: x[::-1], ValueError, "step must be greater than zero"),  # PyTorch's error
    (lambda x: x[..., ...], IndexError, "single ellipsis"),
])
def test_ops_raise_clear_errors(x, call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(x)


def test_full_max_splits_the_gradient_among_ties_like_torch():
    data = [[1.0, 3.0, 3.0], [0.0, 3.0, 2.0]]
    for fn in (lambda t: t.max(), lambda t: t.min(), lambda t: t.amax((0, 1))
               if isinstance(t, torch.Tensor) else t.max((0, 1))):
        ours, theirs = nl.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        fn(ours).backward()
        fn(theirs).backward()
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())
    ours = nl.tensor(data, requires_grad=True)
    ours.max().backward()
    np.testing.assert_allclose(ours.grad.numpy(), [[0, 1 / 3, 1 / 3], [0, 1 / 3, 0]], rtol=1e-6)


def test_max_along_dim_sends_the_gradient_to_the_returned_index_like_torch():
    data = [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]
    ours, theirs = nl.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    v, i = ours.max(1)
    tv, ti = theirs.max(1)
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    v.sum().backward()
    tv.sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    assert ours.grad.numpy().sum() == 2  # one winner per row, not split


def test_repeated_indices_accumulate():
    w = nl.tensor(np.zeros((4, 2)), requires_grad=True)
    ids = nl.tensor([1, 3, 1, 1])
    w[ids].sum().backward()
    np.testing.assert_array_equal(w.grad.numpy()[:, 0], [0, 3, 0, 1])


def test_stable_softmax_family_with_huge_logits():
    z = nl.tensor([[1000.0, 0.0, -1000.0]])
    np.testing.assert_allclose(nl.softmax(z, 1).numpy(), [[1, 0, 0]], atol=1e-7)
    np.testing.assert_allclose(nl.log_softmax(z, 1).numpy(), [[0, -1000, -2000]])
    np.testing.assert_allclose(nl.logsumexp(z, 1).numpy(), [1000.0])
    inf = nl.tensor([[-np.inf, -np.inf]])
    assert nl.logsumexp(inf, 1).item() == -np.inf


def test_split_and_chunk_return_tuples_whose_unused_parts_get_zero_grad():
    x = nl.tensor(np.arange(5.0), requires_grad=True)
    parts = x.split(2)
    assert isinstance(parts, tuple) and [p.shape for p in parts] == [(2,), (2,), (1,)]
    (parts[1] * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 2, 2, 0])
    assert len(nl.chunk(nl.ones(5), 3)) == len(torch.chunk(torch.ones(5), 3))
