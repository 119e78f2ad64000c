"""PyTorch's calling conventions for the math, scan, sort and reduction ops: method forms, Python
numbers on either side, result dtypes, named tuples, and PyTorch's errors."""

import math

import numpy as np
import pytest
import torch

import neuralab as nl

X = np.array([[1.5, -2.25, 0.0], [3.0, -0.5, 7.0]])
I = np.array([[7, -7, 3], [-4, 5, 0]])


def _both(array, dtype=None):
    return nl.tensor(array, dtype=dtype), torch.tensor(array, dtype=dtype and getattr(torch, str(
        np.dtype(dtype))))


def _same(ours, theirs):
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _same(o, t)
        return
    if isinstance(theirs, (bool, int, float)):
        assert ours == theirs
        return
    assert ours.shape == tuple(theirs.shape)
    assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch.")), (ours.dtype,
                                                                              theirs.dtype)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)


METHOD_CALLS = [
    "x.div(2, rounding_mode='floor')", "x.div(y, rounding_mode='trunc')", "x.floor_divide(2)",
    "x // 2", "7 // x", "x % 2.5", "-7 % x", "x.remainder(-2)", "x.fmod(2)", "x.copysign(-1)",
    "x.sin()", "x.sign()", "x.sgn()", "x.round(decimals=1)", "x.trunc()", "x.frac()", "x.fix()",
    "x.square()", "x.exp2()", "x.erf()", "x.expm1()", "x.log1p()", "x.deg2rad()", "abs(x)",
    "x.isnan()", "x.isfinite()", "x.isclose(x + 1e-9)", "x.nan_to_num()", "x.lerp(y, 0.5)",
    "x.addcmul(x, y, value=2)", "x.clamp(min=y)", "x.clip(-1, 1)", "x.cumsum(0)",
    "x.cumprod(dim=1)", "x.cummax(1)", "x.cummin(0)", "x.logcumsumexp(1)", "x.sort()",
    "x.sort(0, descending=True)", "x.argsort(dim=1)", "x.topk(2)", "x.kthvalue(2, 1)",
    "x.median()", "x.median(1)", "x.mode(1)", "x.msort()", "x.prod()", "x.prod(1)",
    "x.norm()", "x.norm(p=1, dim=1)", "x.amax(1)", "x.amin()", "x.aminmax()",
    "x.count_nonzero()", "x.any()", "x.all(1)", "x.nansum()", "x.nanmean(0)", "x.std(0)",
    "x.var(1, unbiased=False)", "x.sum(axis=1)", "x.mean(axis=0, keepdims=True)",
    "x.max(dim=1)", "x.min(1, keepdim=True)", "x.logsumexp(1)", "x.dist(y)", "x.atan2(y)",
    "x.hypot(y)", "x.fmax(y)", "x.fmin(y)", "x.true_divide(2)",
    "x.hardshrink()", "x.signbit()", "x.logical_not()", "x.xlogy(y.abs() + 1)",
]


@pytest.mark.parametrize("call", METHOD_CALLS)
def test_method_forms_match_pytorch(call):
    y_np = X[::-1].copy() + 0.25
    ours = eval(call, {"x": nl.tensor(X, dtype=nl.float32), "y": nl.tensor(y_np, dtype=nl.float32)})
    theirs = eval(call, {"x": torch.tensor(X, dtype=torch.float32),
                         "y": torch.tensor(y_np, dtype=torch.float32)})
    _same(ours, theirs)


INTEGER_CALLS = [
    "i // 2", "i % 3", "-9 % i.clamp(min=1)", "i.div(2)", "i.div(2, rounding_mode='floor')",
    "i.div(-2, rounding_mode='trunc')", "i.fmod(3)", "i.sign()", "i.abs()", "i.square()",
    "i.floor()", "i.round()", "i.sin()", "i.sum()", "i.prod(1)", "i.cumsum(0)", "i.cumprod(1)",
    "i.cummax(1)", "i.sort(1)", "i.median()", "i * 1.5", "i + 2", "i / 2", "i ** 2",
    "i.float() ** i.clamp(min=0)", "i & 3", "i | 1", "i ^ i", "~i", "i.isclose(i)",
    "i.count_nonzero(0)", "i.clamp(0, 3)", "i.clamp(min=0.5)", "2 ** i.clamp(0, 4)",
    "i.copysign(-1)", "i.reciprocal()", "i.max(1)", "i.amax(0)", "i.bool().sum()",
    "i.maximum(i * -1)",
]


@pytest.mark.parametrize("call", INTEGER_CALLS)
def test_integer_dtypes_follow_pytorch(call):
    ours = eval(call, {"i": nl.tensor(I)})
    theirs = eval(call, {"i": torch.tensor(I)})
    _same(ours, theirs)


def test_type_promotion_across_tensors():
    f32, i64 = nl.tensor([1.5, 2.5]), nl.tensor([1, 2])
    f64_0d = nl.tensor(2.0, dtype=np.float64)
    assert (f32 + i64).dtype == np.float32  # NumPy would give float64
    assert (i64 + f64_0d).dtype == np.float64  # a 0-d tensor of a higher category counts
    assert (f32 * f64_0d).dtype == np.float32  # ...but not one of the same category
    assert (i64 * 2.5).dtype == np.float32
    assert nl.tensor([True, False]).sum().dtype == np.int64


def test_pytorch_errors():
    i = nl.tensor([1, 2])
    with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
        i ** nl.tensor([-1, 2])
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        i // nl.tensor([1, 0])
    with pytest.raises(ZeroDivisionError):
        i % 0
    with pytest.raises(ValueError, match="rounding_mode"):
        nl.div(i, 2, rounding_mode="round")
    with pytest.raises(RuntimeError):
        nl.tensor([1, 2]).mean()
    with pytest.raises(IndexError, match="topk"):
        nl.tensor([1.0, 2.0]).topk(3)
    with pytest.raises(RuntimeError, match="even"):
        nl.nn.functional.glu(nl.zeros(3))


def test_named_tuples_unpack_and_name_their_fields():
    x = nl.tensor([[3.0, 1.0, 2.0]])
    values, indices = nl.sort(x)
    assert nl.sort(x).values is not None and indices.dtype == np.int64
    assert nl.cummax(x, 1).indices.tolist() == [[0, 0, 0]]
    assert nl.aminmax(x).min.item() == 1.0 and nl.aminmax(x).max.item() == 3.0
    assert nl.topk(x, 1).values.tolist() == [[3.0]]


def test_gradients_at_pytorch_conventions():
    # pow at a zero base, the 2-norm at 0, copysign at 0, prod and cumprod through zeros
    cases = [
        (lambda a, b: a**b, [np.array([0.0, 0.0, 2.0]), np.array([0.0, 2.0, 0.0])]),
        (lambda a: (0.0 ** a).sum() + a.norm(), [np.array([0.0, 1.0, 2.0]) * 0]),
        (lambda a: a.copysign(-1.0), [np.array([0.0, -1.0, 2.0])]),
        (lambda a: a.prod(), [np.array([0.0, 3.0, 2.0])]),
        (lambda a: a.cumprod(0), [np.array([2.0, 0.0, 3.0, 0.0, 5.0])]),
        (lambda a: a.amax(), [np.array([1.0, 3.0, 3.0])]),
        (lambda a: a.median(), [np.array([1.0, 2.0, 2.0, 5.0])]),
        (lambda a: nl.clamp(a, -1, 1) if isinstance(a, nl.Tensor) else torch.clamp(a, -1, 1),
         [np.array([-1.0, 1.0, 0.5, 2.0])]),
    ]
    for fn, arrays in cases:
        ours = [nl.tensor(a, dtype=np.float64, requires_grad=True) for a in arrays]
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        fn(*ours).sum().backward()
        fn(*theirs).sum().backward()
        for o, t in zip(ours, theirs):
            np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), atol=1e-12)


def test_erf_is_vectorised_and_accurate():
    x = np.linspace(-6, 6, 100_001)
    np.testing.assert_allclose(nl.erf(nl.tensor(x, dtype=np.float64)).numpy(),
                               torch.erf(torch.tensor(x)).numpy(), rtol=2e-15, atol=1e-300)
    gelu = nl.nn.functional.gelu(nl.tensor(x, dtype=np.float64)).numpy()
    np.testing.assert_allclose(gelu, torch.nn.functional.gelu(torch.tensor(x)).numpy(),
                               rtol=1e-13, atol=1e-15)  # PyTorch's 1 + erf cancels in the tail
    exact = np.array([v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in x[::100]])
    np.testing.assert_allclose(gelu[::100], exact, rtol=3e-14, atol=1e-300)
