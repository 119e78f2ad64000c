"""Tensor methods and operators installed by ``neuralab/ops/_methods.py``."""

import inspect
import re

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab.ops import _methods


def _installed_names() -> list[str]:
    """Every method name that ``_methods.install`` lists (read from its source)."""
    source = inspect.getsource(_methods.install)
    listed = source.split("methods = [", 1)[1].split("]", 1)[0]
    return re.findall(r'"(\w+)"', listed)


METHODS = _installed_names()
OPERATORS = ["__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
             "__rtruediv__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__", "__neg__",
             "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__getitem__"]


def test_method_list_is_read():
    assert len(METHODS) > 40 and "sum" in METHODS and "view_as" in METHODS


@pytest.mark.parametrize("name", METHODS + OPERATORS + ["T", "clip", "any", "all"])
def test_every_method_is_installed(name):
    assert hasattr(nl.Tensor, name), f"Tensor.{name} is missing: the op is not implemented"


def test_methods_call_the_ops():
    x = nl.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]])
    np.testing.assert_allclose(x.sum(dim=1).numpy(), [2.0, 3.0])
    np.testing.assert_allclose(x.max(1).values.numpy(), [3.0, 5.0])
    np.testing.assert_array_equal(x.argmax(1).numpy(), [2, 1])
    assert x.view(3, 2).shape == (3, 2) and x.view((6,)).shape == (6,)
    assert x.reshape(-1, 1).shape == (6, 1)
    assert x.T.shape == (3, 2) and x.transpose(0, 1).shape == (3, 2)
    assert x.permute(1, 0).shape == (3, 2)
    assert x.unsqueeze(0).squeeze().shape == (2, 3)
    assert x[None].expand(4, -1, -1).shape == (4, 2, 3)
    assert x.flatten().shape == (6,)
    assert [p.shape for p in x.split(2, dim=1)] == [(2, 2), (2, 1)]
    assert [p.shape for p in x.chunk(2)] == [(1, 3), (1, 3)]
    assert x.expand_as(nl.zeros(5, 2, 3)).shape == (5, 2, 3)
    assert x.view_as(nl.zeros(3, 2)).shape == (3, 2)
    np.testing.assert_allclose(x.clip(-1, 1).numpy(), np.clip(x.numpy(), -1, 1))
    assert bool((x > 0).any()) and not bool((x > 10).all())


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("scalar", [2, 2.5])
def test_operators_with_python_scalars_keep_float32(op, side, scalar):
    x = nl.tensor([[0.5, 1.0], [1.5, 2.0]], requires_grad=True)
    t = torch.tensor(x.numpy(), requires_grad=True)
    expr = f"x {op} s" if side == "left" else f"s {op} x"
    ours = eval(expr, {"x": x, "s": scalar})
    theirs = eval(expr, {"x": t, "s": scalar})
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-6)
    ours.sum().backward()
    theirs.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-5)


def test_operators_with_ndarrays_on_either_side():
    x = nl.tensor([1.0, 2.0])
    a = np.array([3.0, 4.0])
    assert isinstance(a + x, nl.Tensor) and isinstance(x + a, nl.Tensor)
    np.testing.assert_allclose((a - x).numpy(), [2.0, 2.0])
    np.testing.assert_allclose((x @ a).numpy(), 11.0)
    np.testing.assert_allclose((-x).numpy(), [-1.0, -2.0])


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_comparisons_are_bool_without_grad(op):
    x = nl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for expr in (f"x {op} 2.0", f"2.0 {op} x", f"x {op} x * 1.0"):
        out = eval(expr, {"x": x})
        assert out.dtype == np.bool_
        assert not out.requires_grad
        expected = eval(expr.replace("x", "np.array([1.0, 2.0, 3.0])"), {"np": np})
        np.testing.assert_array_equal(out.numpy(), expected)


def test_getitem_operator_is_differentiable():
    x = nl.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x[[0, 0, 1], [1, 1, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 2.0], [1.0, 0.0]])
