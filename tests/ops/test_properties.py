"""Property tests (hypothesis): broadcasting gradients and reductions against NumPy."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import neuralab as nl

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)

shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4)
broadcastable = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                  max_side=4)
BINARY = {"add": nl.add, "sub": nl.sub, "mul": nl.mul, "div": nl.div, "maximum": nl.maximum}


def _unbroadcast_by_hand(g: np.ndarray, shape: tuple) -> np.ndarray:
    """The reference: sum the leading dims away, then every dim where the input had size 1."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    for axis, n in enumerate(shape):
        if n == 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


@SETTINGS
@given(shapes=broadcastable, op=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2**16))
def test_binary_gradients_have_the_input_shapes(shapes, op, seed):
    (sa, sb), out_shape = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(seed)
    a = nl.tensor(rng.uniform(0.5, 2.0, sa), dtype=nl.float32, requires_grad=True)
    b = nl.tensor(rng.uniform(-2.0, -0.5, sb), dtype=nl.float32,
                  requires_grad=True)  # never ties a
    out = BINARY[op](a, b)
    assert out.shape == out_shape
    upstream = rng.standard_normal(out_shape).astype(np.float32)
    out.backward(upstream)
    assert a.grad.shape == sa and b.grad.shape == sb
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float32
    if op in ("add", "sub"):
        sign = 1.0 if op == "add" else -1.0
        np.testing.assert_allclose(a.grad.numpy(), _unbroadcast_by_hand(upstream, sa), rtol=1e-5,
                                   atol=1e-5)
        np.testing.assert_allclose(b.grad.numpy(), sign * _unbroadcast_by_hand(upstream, sb),
                                   rtol=1e-5, atol=1e-5)


@SETTINGS
@given(shapes=broadcastable, seed=st.integers(0, 2**16))
def test_sum_over_broadcast_equals_unbroadcast(shapes, seed):
    """The gradient of sum(expand(x)) is the number of copies of each element of x."""
    (sx, _), out_shape = shapes.input_shapes, shapes.result_shape
    x = nl.tensor(np.random.default_rng(seed).standard_normal(sx), requires_grad=True)
    y = x.expand(*out_shape) if out_shape else x
    y.sum().backward()
    copies = int(np.prod(out_shape)) // max(int(np.prod(sx)), 1)
    np.testing.assert_array_equal(x.grad.numpy(), np.full(sx, copies, dtype=np.float32))
    np.testing.assert_array_equal(nl.autograd.unbroadcast(np.ones(out_shape), sx),
                                  _unbroadcast_by_hand(np.ones(out_shape), sx))


@st.composite
def reduction_case(draw):
    shape = draw(shapes)
    ndim = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"])) if ndim else "none"
    if kind == "none":
        dim = None
    elif kind == "int":
        dim = draw(st.integers(-ndim, ndim - 1))
    else:
        dim = tuple(draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                                  unique=True)))
    return shape, dim, draw(st.booleans()), draw(st.integers(0, 2**16))


@SETTINGS
@given(case=reduction_case(), op=st.sampled_from(["sum", "mean", "max", "min"]))
def test_reductions_match_numpy(case, op):
    shape, dim, keepdim, seed = case
    data = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) * 0.5
    x = nl.tensor(data, requires_grad=True)
    out = getattr(nl, op)(x, dim, keepdim=keepdim)
    if isinstance(out, tuple):  # max/min along one dim: (values, indices)
        out, indices = out
        np.testing.assert_array_equal(
            indices.numpy(), getattr(np, f"arg{op}")(data, axis=dim, keepdims=keepdim))
    np_fn = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min}[op]
    expected = np_fn(data.astype(np.float32), axis=dim, keepdims=keepdim)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5)
    out.sum().backward()
    assert x.grad.shape == shape
    if op == "sum":
        np.testing.assert_array_equal(x.grad.numpy(), np.ones(shape, np.float32))
    elif op == "mean":
        n = data.size // max(expected.size, 1)
        np.testing.assert_allclose(x.grad.numpy(), np.full(shape, 1.0 / n), rtol=1e-6)
    else:  # one winner per reduced group (the values are distinct): a 1 there, 0 elsewhere
        assert x.grad.numpy().sum() == expected.size
        winners = data == np_fn(data, axis=dim, keepdims=True)
        np.testing.assert_array_equal(x.grad.numpy(), winners.astype(np.float32))
