"""The numerical helpers' errors and PyTorch's small tensor queries (ops/numeric.py,
ops/queries.py), inference_mode, and the Tensor attributes of PyTorch's memory model."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import neuralab as nl


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: nl.diff(nl.tensor(3.0)), ValueError, "at least one-dimensional"),
    (lambda: nl.diff(nl.tensor([1.0, 2.0]), n=-1), ValueError, "non-negative"),
    (lambda: nl.diff(nl.tensor([1.0, 2.0]), prepend=2.0), TypeError, "prepend must be a Tensor"),
    (lambda: nl.diff(nl.ones(2, 3), prepend=nl.ones(3)), ValueError, "as many dimensions"),
    (lambda: nl.diff(nl.ones(2, 3), dim=0, append=nl.ones(1, 2)), ValueError,
     "append.size(1) = 2"),
    (lambda: nl.diff(nl.ones(2, 3), dim=2), IndexError, "dim 2 is out of range"),
    (lambda: nl.cov(nl.ones(2, 2, 2)), ValueError, "two or fewer dimensions"),
    (lambda: nl.cov(nl.ones(3), fweights=nl.ones(3)), TypeError, "integral dtype"),
    (lambda: nl.cov(nl.ones(3), fweights=nl.tensor([1, -2, 1])), ValueError, "negative"),
    (lambda: nl.cov(nl.ones(3), aweights=nl.tensor([1, 2, 1])), TypeError, "floating point"),
    (lambda: nl.cov(nl.ones(3), aweights=nl.tensor([1.0, -2, 1])), ValueError, "negative"),
    (lambda: nl.cov(nl.ones(3), fweights=nl.tensor([1, 2])), ValueError, "2 != 3"),
    (lambda: nl.cov(nl.ones(3), fweights=nl.tensor([[1, 2, 3]])), ValueError, "one or fewer"),
    (lambda: nl.histc(nl.tensor([1, 2])), TypeError, "floating-point"),
    (lambda: nl.histc(nl.tensor([1.0, 2.0]), bins=0), ValueError, "bins must be > 0"),
    (lambda: nl.histc(nl.tensor([1.0, 2.0]), min=3, max=1), ValueError, "max must be larger"),
    (lambda: nl.histc(nl.tensor([1.0, float("nan")])), ValueError, "not finite"),
    (lambda: nl.histc(nl.tensor([1.0, float("inf")])), ValueError, "not finite"),
    (lambda: nl.trapezoid(nl.tensor(1.0)), IndexError, "no dimensions"),
    (lambda: nl.trapezoid(nl.ones(3), nl.ones(3), dx=2.0), TypeError, "not both"),
    (lambda: nl.trapezoid(nl.ones(2, 3), nl.ones(3), dim=0), ValueError, "one x value"),
    (lambda: nl.cumulative_trapezoid(nl.ones(2, 3), nl.ones(2), dim=1), ValueError,
     "one x value"),
    (lambda: nl.trapezoid(nl.tensor([True, False])), TypeError, "bool"),
    (lambda: nl.vander(nl.ones(2, 2)), ValueError, "one-dimensional"),
    (lambda: nl.vander(nl.ones(2), N=-1), ValueError, "N must be a non-negative"),
    (lambda: nl.unravel_index(5, (2, 3)), TypeError, "to be a Tensor"),
    (lambda: nl.unravel_index(nl.tensor([1.0]), (2, 3)), TypeError, "integer dtype"),
    (lambda: nl.unravel_index(nl.tensor([True]), (2, 3)), TypeError, "integer dtype"),
    (lambda: nl.unravel_index(nl.tensor([1]), (2, -3)), ValueError, "negative values"),
    (lambda: nl.unravel_index(nl.tensor([1]), (0, 3)), ValueError, "zero dimension"),
    (lambda: nl.isin(1, 2), TypeError, "at least one"),
    (lambda: nl.frexp(nl.tensor([8])), TypeError, "floating-point"),
    (lambda: nl.ldexp(nl.tensor([1.0]), 3), TypeError, "other must be a Tensor"),
    (lambda: nl.lgamma([1.0]), TypeError, "input must be a Tensor"),
    (lambda: nl.ones(2, 3).sum_to_size(2), ValueError, "not expandable"),
    (lambda: nl.ones(2, 3).sum_to_size(4, 2, 3), ValueError, "not expandable"),
    (lambda: nl.ones(2, 3).sum_to_size(), TypeError, "missing the size"),
    (lambda: nl.broadcast_shapes((2,), (3,)), ValueError, "cannot be broadcast"),
    (lambda: nl.broadcast_shapes((2, -1)), ValueError, "negative length"),
    (lambda: nl.broadcast_shapes((2, 1.5)), TypeError, "sequence of ints"),
    (lambda: nl.is_nonzero(nl.tensor([])), RuntimeError, "0 elements"),
    (lambda: nl.is_nonzero(nl.tensor([1, 2])), RuntimeError, "2 elements"),
    (lambda: nl.is_nonzero(1), TypeError, "must be a Tensor"),
    (lambda: nl.is_signed(1), TypeError, "must be a Tensor"),
    (lambda: nl.is_complex(1), TypeError, "must be a Tensor"),
    (lambda: nl.is_same_size(nl.ones(1), [1]), TypeError, "must be a Tensor"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_cov_warns_and_matches_pytorch_without_degrees_of_freedom():
    for make in (lambda m: m.tensor([1.0]), lambda m: m.zeros(2, 0)):
        with pytest.warns(UserWarning, match="degrees of freedom"):
            ours = nl.cov(make(nl))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = torch.cov(make(torch))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.warns(UserWarning):
        assert nl.cov(nl.tensor([1.0, 2.0]), correction=3).item() == float("inf")


def test_cov_with_observation_weights_matches_pytorch_in_float32():
    rng = np.random.default_rng(0)
    x, a = rng.standard_normal((3, 8)).astype(np.float32), rng.uniform(0.1, 1, 8).astype(
        np.float32)
    f = rng.integers(0, 3, 8)
    ours = nl.cov(nl.tensor(x), correction=1, fweights=nl.tensor(f), aweights=nl.tensor(a))
    theirs = torch.cov(torch.tensor(x), correction=1, fweights=torch.tensor(f),
                       aweights=torch.tensor(a))
    assert ours.dtype == nl.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_histc_edges_match_pytorch_in_float32():
    """Values on bin edges land where PyTorch's float32 arithmetic puts them."""
    x = np.concatenate([np.linspace(-1, 1, 101), [1.0, -1.0, 2.0, -2.0]]).astype(np.float32)
    for bins in (3, 7, 10, 64):
        ours = nl.histc(nl.tensor(x), bins=bins, min=-1, max=1)
        theirs = torch.histc(torch.tensor(x), bins=bins, min=-1, max=1)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert nl.histc(nl.tensor([]), bins=4).tolist() == [0.0] * 4


def test_unravel_index_returns_tensors_per_dimension():
    assert nl.unravel_index(nl.tensor([0]), ()) == ()
    rows, cols = nl.unravel_index(nl.tensor([4, 1]), (2, 3))
    assert rows.tolist() == [1, 0] and cols.tolist() == [1, 1] and rows.dtype == nl.int64


def test_frexp_result_fields_and_roundtrip():
    x = nl.tensor([8.0, 0.3, -3.0], dtype=nl.float32)
    mantissa, exponent = nl.frexp(x)
    assert nl.frexp(x).mantissa.dtype == nl.float32 and exponent.dtype == nl.int32
    np.testing.assert_array_equal(nl.ldexp(mantissa, exponent).numpy(), x.numpy())


def test_inplace_aliases():
    x = nl.tensor([1.0, 2.0, 3.0])
    x.greater_(1.5)
    assert x.tolist() == [0.0, 1.0, 1.0]
    y = nl.tensor([1.0, 2.0])
    y.ldexp_(nl.tensor([1, 2]))
    assert y.tolist() == [2.0, 8.0]


def test_lgamma_of_large_and_tiny_values():
    x = [1e-300, 1e300, 0.5, 171.5]
    np.testing.assert_allclose(nl.lgamma(nl.tensor(x, dtype=nl.float64)).numpy(),
                               torch.lgamma(torch.tensor(x, dtype=torch.float64)).numpy(),
                               rtol=1e-14)


def test_clone_and_detach_functions():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    c, d = nl.clone(x), nl.detach(x)
    assert c.requires_grad and not d.requires_grad
    assert c.data_ptr() != x.data_ptr() and d.data_ptr() == x.data_ptr()


# --------------------------------------------------------------------------- queries
@pytest.mark.parametrize("shapes", [((2, 1), (3,)), (2, (3, 1)), (), ((0, 1), (4,)),
                                    (torch.Size([5, 1, 2]), [4, 1])])
def test_broadcast_shapes_matches_pytorch(shapes):
    ours = nl.broadcast_shapes(*shapes)
    assert isinstance(ours, nl.Size) and tuple(ours) == tuple(torch.broadcast_shapes(*shapes))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int8", "uint8", "bool"])
def test_dtype_queries_match_pytorch(dtype):
    ours, theirs = nl.zeros(2, dtype=getattr(nl, dtype)), torch.zeros(2,
                                                                        dtype=getattr(torch, dtype))
    assert nl.is_signed(ours) == torch.is_signed(theirs) == ours.is_signed()
    assert nl.is_complex(ours) is False
    assert nl.is_nonzero(ours[:1]) is False and ours[:1].is_nonzero() is False
    assert nl.is_nonzero(nl.ones(1, 1, dtype=getattr(nl, dtype))) is True


def test_is_same_size():
    assert nl.is_same_size(nl.ones(2, 3), nl.zeros(2, 3))
    assert not nl.ones(2).is_same_size(nl.ones(2, 1))


def test_cpu_memory_attributes():
    x = nl.ones(2, 3)
    assert x.is_cpu is True and x.get_device() == -1
    assert x.pin_memory() is x and x.share_memory_() is x
    assert x.storage_offset() == 0
    assert x[1:].storage_offset() == torch.ones(2, 3)[1:].storage_offset() == 3
    assert x[:, 1:].T.storage_offset() == 1
    assert x[1].reshape(3)[2:].storage_offset() == 5


def test_post_accumulate_grad_hook_sees_the_accumulated_grad():
    w = nl.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
    (w * w).sum().backward()
    (w * 3).sum().backward()
    assert seen == [[2.0, 4.0], [5.0, 7.0]]
    handle.remove()
    w.sum().backward()
    assert len(seen) == 2


def test_post_accumulate_grad_hook_updates_in_the_backward_pass():
    """The optimizer-in-backward pattern: each parameter steps as soon as its grad is ready."""
    w = nl.tensor([1.0, 2.0], requires_grad=True)

    def step(p):
        with nl.no_grad():
            p.sub_(0.5 * p.grad)
        p.grad = None

    w.register_post_accumulate_grad_hook(step)
    (w * w).sum().backward()
    assert w.tolist() == [0.0, 0.0] and w.grad is None


def test_post_accumulate_grad_hook_errors():
    with pytest.raises(RuntimeError, match="does not require grad"):
        nl.ones(2).register_post_accumulate_grad_hook(lambda p: None)
    with pytest.raises(RuntimeError, match="non-leaf"):
        nl.ones(2, requires_grad=True).exp().register_post_accumulate_grad_hook(lambda p: None)


# --------------------------------------------------------------------------- inference_mode
def test_inference_mode_as_context_manager():
    x = nl.ones(2, requires_grad=True)
    assert not nl.is_inference_mode_enabled()
    with nl.inference_mode():
        assert nl.is_inference_mode_enabled() and not nl.is_grad_enabled()
        y = x * 2
        z = nl.zeros(2)
        assert not y.requires_grad and y.is_inference() and z.is_inference()
        with nl.inference_mode(False):
            assert not nl.is_inference_mode_enabled() and nl.is_grad_enabled()
            assert not (x * 2).is_inference()
        assert nl.is_inference_mode_enabled()
    assert not nl.is_inference_mode_enabled() and nl.is_grad_enabled()
    assert not (x * 2).is_inference() and not x.is_inference()


def test_inference_mode_false_enables_grad_as_pytorch():
    with nl.no_grad(), nl.inference_mode(False):
        ours = (nl.is_grad_enabled(), nl.is_inference_mode_enabled())
    with torch.no_grad(), torch.inference_mode(False):
        theirs = (torch.is_grad_enabled(), torch.is_inference_mode_enabled())
    assert ours == theirs


def test_inference_mode_as_decorator_bare_and_called():
    @nl.inference_mode
    def bare():
        return nl.is_inference_mode_enabled(), nl.is_grad_enabled()

    @nl.inference_mode()
    def called():
        return nl.is_inference_mode_enabled(), nl.is_grad_enabled()

    @nl.inference_mode(False)
    def off():
        return nl.is_inference_mode_enabled()

    assert bare() == called() == (True, False)
    with nl.inference_mode():
        assert off() is False
    assert bare.__name__ == "bare" and not nl.is_inference_mode_enabled()


def test_inference_mode_restores_state_after_an_error():
    with pytest.raises(KeyError), nl.inference_mode():
        raise KeyError("x")
    assert not nl.is_inference_mode_enabled() and nl.is_grad_enabled()
