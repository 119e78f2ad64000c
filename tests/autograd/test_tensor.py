"""Tensor creation: dtype rules, properties, conversion and the factories."""

import numpy as np
import pytest
import torch

import neuralab as nl


@pytest.mark.parametrize(("data", "dtype"), [
    (1.5, np.float32), ([1.0, 2.0], np.float32), (np.zeros(3), np.float32),
    (np.zeros(3, np.float16), np.float32), (3, np.int64), ([1, 2], np.int64),
    (np.arange(3, dtype=np.int32), np.int64), (np.arange(3, dtype=np.uint8), np.int64),
    (True, np.bool_), (np.array([True, False]), np.bool_),
])
def test_default_dtype_rules(data, dtype):
    # nl.tensor as torch.tensor: Python numbers by the default rules, an ndarray keeps its dtype.
    assert str(nl.tensor(data).dtype).split(".")[-1] == str(torch.tensor(data).dtype).split(".")[-1]
    if isinstance(data, np.ndarray):  # Tensor(ndarray) makes floats float32, integers int64
        assert nl.Tensor(data).dtype == dtype
    else:
        assert nl.tensor(data).dtype == dtype


@pytest.mark.parametrize("data", [[1, 2], [1.5, 2], (1, 2), [[True, False]], []])
def test_Tensor_constructor_gives_float32_as_torch(data):
    assert nl.Tensor(data).dtype == nl.float32
    np.testing.assert_array_equal(nl.Tensor(data).numpy(), torch.Tensor(data).numpy())


def test_Tensor_constructor_with_sizes_is_uninitialised_float32():
    assert nl.Tensor(2, 3).shape == (2, 3) and nl.Tensor(2, 3).dtype == nl.float32
    assert nl.Tensor(4).shape == torch.Tensor(4).shape == (4,)
    assert nl.Tensor().shape == torch.Tensor().shape == (0,)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32, np.int64, np.bool_])
def test_dtype_argument_overrides(dtype):
    assert nl.tensor([1, 0, 2], dtype=dtype).dtype == dtype
    assert nl.Tensor(np.zeros(2), dtype=dtype).dtype == dtype


def test_bad_data_is_a_clear_type_error():
    with pytest.raises(TypeError, match="tensor: cannot make a tensor"):
        nl.tensor(["a", "b"])


def test_tensor_copies_but_Tensor_shares():
    a = np.zeros(3, np.float32)
    nl.tensor(a).array[0] = 1
    assert a[0] == 0
    nl.Tensor(a).array[1] = 1
    assert a[1] == 1


def test_properties():
    x = nl.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    assert x.shape == (2, 3) and x.ndim == 2 and x.dim() == 2
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3
    assert x.numel() == 6 and len(x) == 2
    assert x.dtype == np.float32 and x.is_leaf and not x.requires_grad
    assert x.T.shape == (3, 2)
    np.testing.assert_array_equal(x.T.numpy(), np.arange(6.0).reshape(2, 3).T)
    assert isinstance(x.numpy(), np.ndarray) and np.shares_memory(x.numpy(), x.array)
    np.testing.assert_array_equal(np.asarray(x), x.numpy())
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert nl.tensor(2.5).item() == 2.5 and isinstance(nl.tensor(3).item(), int)
    assert float(nl.tensor([1.5])) == 1.5 and int(nl.tensor(7)) == 7
    with pytest.raises(ValueError, match="item: only one-element"):
        x.item()
    with pytest.raises(TypeError, match="0-d"):
        len(nl.tensor(1.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)


def test_repr():
    assert repr(nl.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(nl.tensor([1, 2])) == "tensor([1, 2])"
    assert "dtype=neuralab.float64" in repr(nl.tensor([1.0], dtype=np.float64))
    assert "requires_grad=True" in repr(nl.tensor([1.0], requires_grad=True))
    assert "grad_fn=<MulBackward0>" in repr(nl.tensor([1.0], requires_grad=True) * 2)


def test_to_float_double_are_differentiable():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    d = x.double()
    assert d.dtype == np.float64 and d.requires_grad
    assert x.to(np.float32) is x and x.float() is x
    assert x.long().dtype == np.int64 and not x.long().requires_grad
    assert x.bool().dtype == np.bool_
    (d * d).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_only_floats_require_grad():
    with pytest.raises(TypeError, match="only floating-point tensors"):
        nl.tensor([1, 2], requires_grad=True)
    y = nl.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="non-leaf"):
        y.requires_grad_(False)
    assert not y.detach().requires_grad and y.detach().is_leaf


def test_factories():
    assert nl.zeros(2, 3).shape == (2, 3) and nl.zeros((2, 3)).dtype == np.float32
    assert not nl.zeros(2).numpy().any() and nl.ones(4).numpy().sum() == 4
    assert nl.ones(2, dtype=np.float64).dtype == np.float64
    assert nl.zeros(2, requires_grad=True).requires_grad
    np.testing.assert_array_equal(nl.full((2, 2), 7.0).numpy(), np.full((2, 2), 7.0))
    assert nl.full(3, 1.0).shape == (3,)
    assert nl.arange(5).dtype == np.int64 and nl.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert nl.arange(0.0, 1.0, 0.25).dtype == np.float32
    np.testing.assert_allclose(nl.arange(1, 2, 0.5).numpy(), [1.0, 1.5])
    np.testing.assert_array_equal(nl.eye(3).numpy(), np.eye(3))
    assert nl.eye(2, 3).shape == (2, 3)
    r = nl.rand(1000)
    assert r.dtype == np.float32 and 0 <= r.numpy().min() and r.numpy().max() < 1
    n = nl.randn(2000)
    assert abs(float(n.numpy().mean())) < 0.1 and abs(float(n.numpy().std()) - 1) < 0.1
    x = nl.tensor([[1, 2]], dtype=np.float64)
    for like in (nl.zeros_like, nl.ones_like, nl.rand_like, nl.randn_like):
        y = like(x)
        assert y.shape == (1, 2) and y.dtype == np.float64
    assert nl.full_like(x, 3.0).tolist() == [[3.0, 3.0]]
    assert nl.zeros_like(x, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="zeros: sizes must be non-negative"):
        nl.zeros(-1)
    with pytest.raises(ValueError, match="arange: step"):
        nl.arange(0, 1, 0)


def test_factories_match_torch_values():
    assert nl.eye(3, 2).tolist() == torch.eye(3, 2).tolist()
    assert nl.arange(2, 11, 3).tolist() == torch.arange(2, 11, 3).tolist()


def test_manual_seed_reproducible():
    nl.manual_seed(123)
    a = nl.randn(5).numpy().copy(), nl.rand(3).numpy().copy()
    nl.manual_seed(123)
    b = nl.randn(5).numpy().copy(), nl.rand(3).numpy().copy()
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    nl.manual_seed(124)
    assert not np.array_equal(nl.randn(5).numpy(), a[0])
    with pytest.raises(ValueError, match="manual_seed"):
        nl.manual_seed(-1)
