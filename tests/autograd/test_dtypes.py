"""Dtypes with PyTorch's names, and PyTorch's type promotion (checked against torch)."""

import numpy as np
import pytest
import torch

import neuralab as nl

NAMES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
         "half", "float", "double", "short", "int", "long"]


@pytest.mark.parametrize("name", NAMES)
def test_dtype_names_match_torch(name):
    ours, theirs = getattr(nl, name), getattr(torch, name)
    assert repr(ours) == repr(theirs).replace("torch.", "neuralab.").replace(
        "neuralab.half", "neuralab.float16")
    assert ours.is_floating_point == theirs.is_floating_point
    assert ours.itemsize == theirs.itemsize
    assert nl.zeros(2, dtype=ours).dtype == ours
    assert str(torch.zeros(2, dtype=theirs).dtype).replace("torch.", "") == ours.name


def test_dtype_objects_compare_with_numpy_and_work_in_numpy():
    x = nl.zeros(3)
    assert x.dtype == nl.float32 == np.float32 == np.dtype("float32")
    assert x.dtype != nl.float64 and x.dtype != None  # noqa: E711
    assert np.zeros(2, dtype=nl.float64).dtype == np.float64
    assert {nl.float32: 1}[x.dtype] == 1
    assert repr(x.dtype) == "neuralab.float32" and str(x.dtype) == "float32"
    assert nl.float is nl.float32 and nl.long is nl.int64 and nl.double is nl.float64
    assert nl.is_floating_point(x) and x.is_floating_point()
    assert not nl.tensor([1]).is_floating_point()


def test_bfloat16_is_a_clear_error():
    with pytest.raises(TypeError, match="bfloat16 is not supported: NumPy has no bfloat16"):
        nl.zeros(2, dtype=nl.bfloat16)


def test_default_dtype():
    assert repr(nl.get_default_dtype()) == "neuralab.float32"
    nl.set_default_dtype(nl.float64)
    try:
        assert nl.tensor(1.5).dtype == nl.float64 and nl.zeros(2).dtype == nl.float64
        assert nl.nn.Linear(2, 2).weight.dtype == nl.float64
        assert (nl.tensor([1, 2]) / 2).dtype == nl.float64
    finally:
        nl.set_default_dtype(nl.float32)
    assert nl.tensor(1.5).dtype == nl.float32
    with pytest.raises(TypeError, match="only floating dtypes"):
        nl.set_default_dtype(nl.int64)


CONVERSIONS = ["float", "double", "half", "long", "int", "short", "char", "byte", "bool"]


@pytest.mark.parametrize("method", CONVERSIONS)
def test_conversion_methods_match_torch(method):
    values = [[-1.5, 0.0, 2.7], [3.2, -0.4, 1.0]]
    ours = getattr(nl.tensor(values), method)()
    theirs = getattr(torch.tensor(values), method)()
    assert repr(ours.dtype) == repr(theirs.dtype).replace("torch.", "neuralab.")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_type_and_to():
    x = nl.tensor([1.5, 2.5])
    assert x.type() == "neuralab.FloatTensor" and torch.tensor([1.5]).type() == "torch.FloatTensor"
    assert x.type(nl.float64).dtype == nl.float64
    long = x.type("torch.LongTensor")
    assert long.dtype == nl.int64 and long.tolist() == [1, 2]
    assert x.type(nl.DoubleTensor).dtype == nl.float64
    assert x.to(nl.int32).dtype == nl.int32 and x.to(dtype=nl.float16).dtype == nl.float16
    assert x.to(nl.float32) is x and x.float() is x
    assert x.to(nl.float32, copy=True) is not x
    assert x.to(nl.zeros(1, dtype=nl.float64)).dtype == nl.float64
    assert x.type_as(nl.tensor([1])).dtype == nl.int64
    with pytest.raises(ValueError, match="invalid type"):
        x.type("torch.NoSuchTensor")


def test_legacy_constructors():
    assert nl.FloatTensor([1, 2]).dtype == nl.float32
    assert nl.LongTensor([1, 2]).dtype == nl.int64
    assert nl.DoubleTensor([1]).dtype == nl.float64 and nl.IntTensor([1]).dtype == nl.int32
    assert nl.BoolTensor([1, 0]).dtype == nl.bool and nl.ByteTensor([1]).dtype == nl.uint8
    assert nl.FloatTensor(2, 3).shape == (2, 3)
    assert isinstance(nl.zeros(2), nl.FloatTensor) and not isinstance(nl.zeros(2), nl.LongTensor)
    assert isinstance(nl.zeros(2), nl.Tensor)


# --------------------------------------------------------------------------- promotion
def _operand(lib, spec):
    """A tensor or Python number from a spec: ("t", dtype, ndim) or ("s", value)."""
    if spec[0] == "s":
        return spec[1]
    _, name, ndim = spec
    values = np.ones((2,) * ndim) * 3
    return lib.tensor(values.tolist() if ndim else 3, dtype=getattr(lib, name))


PROMOTIONS = [
    (("t", "float32", 1), ("t", "int64", 1)),
    (("t", "int64", 1), ("t", "float32", 1)),
    (("t", "float32", 1), ("t", "float64", 0)),
    (("t", "float32", 1), ("t", "float64", 1)),
    (("t", "int32", 1), ("t", "int64", 0)),
    (("t", "int32", 1), ("t", "int64", 1)),
    (("t", "int64", 1), ("s", 2.5)),
    (("t", "int32", 1), ("s", 2)),
    (("t", "bool", 1), ("s", 2)),
    (("t", "bool", 1), ("t", "int8", 1)),
    (("t", "uint8", 1), ("t", "int8", 1)),
    (("t", "int64", 1), ("t", "float16", 0)),
    (("t", "float16", 1), ("t", "int64", 1)),
    (("t", "int8", 0), ("t", "float64", 0)),
    (("t", "bool", 1), ("t", "float32", 0)),
    (("t", "float32", 0), ("s", 2)),
    (("t", "int64", 0), ("s", 2.0)),
    (("s", 1.0), ("t", "float64", 1)),
]
OPS = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b, "sub": lambda a, b: a - b,
       "div": lambda a, b: a / b, "maximum": lambda a, b: _max(a, b)}


def _max(a, b):
    lib = nl if isinstance(a, nl.Tensor) or isinstance(b, nl.Tensor) else torch
    if not isinstance(a, (nl.Tensor, torch.Tensor)) or not isinstance(b, (nl.Tensor, torch.Tensor)):
        pytest.skip("maximum takes two tensors")
    return lib.maximum(a, b)


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize(("a", "b"), PROMOTIONS)
def test_promotion_table_matches_torch(op, a, b):
    if op == "sub" and "bool" in (a[1], b[1]):
        pytest.skip("PyTorch refuses subtraction of bool tensors")
    ours = OPS[op](_operand(nl, a), _operand(nl, b))
    theirs = OPS[op](_operand(torch, a), _operand(torch, b))
    assert repr(ours.dtype) == repr(theirs.dtype).replace("torch.", "neuralab.")
    np.testing.assert_allclose(ours.numpy().astype(np.float64),
                               theirs.numpy().astype(np.float64), rtol=1e-3)


@pytest.mark.parametrize(("a", "b"), PROMOTIONS)
def test_result_type_matches_torch(a, b):
    ours = nl.result_type(_operand(nl, a), _operand(nl, b))
    theirs = torch.result_type(_operand(torch, a), _operand(torch, b))
    assert repr(ours) == repr(theirs).replace("torch.", "neuralab.")


@pytest.mark.parametrize(("a", "b"), [("float32", "int64"), ("uint8", "int8"), ("bool", "int32"),
                                      ("float16", "int64"), ("float64", "float16"),
                                      ("int16", "uint8")])
def test_promote_types_matches_torch(a, b):
    ours = nl.promote_types(getattr(nl, a), getattr(nl, b))
    assert repr(ours) == repr(torch.promote_types(getattr(torch, a), getattr(torch, b))).replace(
        "torch.", "neuralab.")


def test_comparisons_give_bool_and_int_division_gives_float():
    assert (nl.tensor([1, 2]) < 1.5).dtype == nl.bool
    assert (nl.tensor([1, 2]) / nl.tensor([2, 4])).dtype == nl.float32
    assert (nl.tensor([1, 2]) / nl.tensor([2, 4])).tolist() == [0.5, 0.5]


def test_promoted_gradients_keep_each_input_dtype():
    a = nl.tensor([1.0, 2.0], requires_grad=True)
    b = nl.tensor([3.0, 4.0], dtype=nl.float64, requires_grad=True)
    y = a * b
    assert y.dtype == nl.float64
    y.sum().backward()
    assert a.grad.dtype == nl.float32 and b.grad.dtype == nl.float64
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 4.0])


def test_factory_dtypes_match_torch():
    cases = [
        lambda lib: lib.tensor([1, 2]), lambda lib: lib.tensor(1.0), lambda lib: lib.tensor(True),
        lambda lib: lib.tensor([1.5]), lambda lib: lib.arange(5),
        lambda lib: lib.arange(0, 1, 0.25), lambda lib: lib.arange(5.0),
        lambda lib: lib.linspace(0, 1, 5), lambda lib: lib.full((2,), 1),
        lambda lib: lib.full((2,), 1.5), lambda lib: lib.full((2,), True),
        lambda lib: lib.randint(0, 5, (3,)), lambda lib: lib.randperm(4), lambda lib: lib.zeros(1),
        lambda lib: lib.Tensor([1, 2]), lambda lib: lib.empty(2, dtype=lib.int16),
    ]
    for make in cases:
        assert repr(make(nl).dtype) == repr(make(torch).dtype).replace("torch.", "neuralab.")
    for make in (lambda lib: lib.arange(1, 2.5, 0.5), lambda lib: lib.linspace(-1, 1, 7),
                 lambda lib: lib.arange(10, 0, -3), lambda lib: lib.full((2, 2), 7)):
        np.testing.assert_allclose(make(nl).numpy(), make(torch).numpy(), rtol=1e-6, atol=1e-7)
