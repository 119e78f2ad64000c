"""Bad indices raise PyTorch's error types (an out-of-range index is IndexError and
RuntimeError at once, since PyTorch uses one or the other depending on the op)."""

import pytest

import neuralab as nl

X = nl.zeros(3, 4)
CASES = [
    (lambda: X[3], "index 3 is out of bounds for dimension 0 with size 3"),
    (lambda: X[:, nl.tensor([0, 4])], "index 4 is out of bounds for dimension 1 with size 4"),
    (lambda: nl.gather(X, 1, nl.tensor([[0, 5]])), "index 5 is out of bounds for dimension 1"),
    (lambda: nl.gather(X, 1, nl.tensor([[-1]])), "index -1 is out of bounds"),
    (lambda: nl.scatter(X, 1, nl.tensor([[4]]), 1.0), "index 4 is out of bounds"),
    (lambda: nl.scatter_add(X, 0, nl.tensor([[3]]), nl.ones(1, 1)), "index 3 is out of bounds"),
    (lambda: nl.index_select(X, 1, nl.tensor([4])), "index 4 is out of bounds"),
    (lambda: nl.index_select(X, 1, nl.tensor([-1])), "index -1 is out of bounds"),
    (lambda: nl.index_add(X, 0, nl.tensor([3]), nl.ones(1, 4)), "index 3 is out of bounds"),
    (lambda: nl.take(X, nl.tensor([12])), "tried to access index 12 on a tensor of 12"),
    (lambda: nl.select(X, 1, 4), "index 4 out of range"),
]


@pytest.mark.parametrize(("call", "message"), CASES)
def test_out_of_range_is_index_and_runtime_error(call, message):
    with pytest.raises(IndexError, match=message):
        call()
    with pytest.raises(RuntimeError, match=message):
        call()


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: nl.gather(X, 1, nl.tensor([[0.0]])), RuntimeError, "Expected dtype int64 for index"),
    (lambda: nl.index_select(X, 0, nl.tensor([[0]])), IndexError,
     "Index is supposed to be a vector"),
    (lambda: nl.gather(X, 2, nl.zeros(3, 4, dtype=nl.int64)), IndexError, "dim 2 is out of range"),
    (lambda: nl.masked_fill(X, nl.ones(3, 4), 1.0), RuntimeError, "only supports boolean masks"),
    (lambda: X[1.0], IndexError, "cannot index with an object of type float"),
    (lambda: nl.roll(X, (1, 2), (0,)), RuntimeError, "shifts and dimensions must align"),
    (lambda: nl.tril(nl.zeros(3)), RuntimeError, "at least 2 dimensions"),
    (lambda: nl.mm(X, X), RuntimeError, r"cannot be multiplied \(3x4 and 3x4\)"),
    (lambda: nl.einsum("ij,jk", X, X), RuntimeError, "subscript j has size 3 for operand 1"),
])
def test_other_errors_match_pytorch_types(call, error, message):
    with pytest.raises(error, match=message):
        call()
