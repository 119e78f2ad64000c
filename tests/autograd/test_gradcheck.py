"""gradcheck itself: it passes right gradients and reports wrong ones precisely."""

import numpy as np
import pytest

import neuralab as nl
from neuralab.autograd import Function, relative_error


class WrongSquare(Function):
    """y = x², with a deliberately wrong backward at one element."""

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return x * x

    @staticmethod
    def backward(ctx, dout):
        dx = 2 * ctx.x * dout
        dx.reshape(-1)[3] += 1.0  # the bug gradcheck must find
        return dx


class RightMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return a * b

    @staticmethod
    def backward(ctx, dout):
        return dout * ctx.b, dout * ctx.a


def _inputs():
    rng = np.random.default_rng(0)
    a = nl.tensor(rng.standard_normal((2, 3)), dtype=np.float64, requires_grad=True)
    b = nl.tensor(rng.standard_normal((2, 3)), dtype=np.float64, requires_grad=True)
    return a, b


def test_right_gradients_pass():
    assert nl.gradcheck(RightMul.apply, _inputs())


def test_wrong_gradient_is_reported_with_input_index_and_values():
    a, b = _inputs()
    with pytest.raises(nl.GradcheckError) as info:
        nl.gradcheck(lambda p, q: RightMul.apply(p, WrongSquare.apply(q)), [a, b])
    message = str(info.value)
    assert "input 1" in message and "(2, 3)" in message
    assert "at index (1, 0)" in message  # flat element 3 of a (2, 3) tensor
    assert "backprop gives" in message and "finite differences give" in message
    assert "relative error" in message
    assert not nl.gradcheck(lambda q: WrongSquare.apply(q), [b], raise_exception=False)


def test_gradcheck_needs_float64_inputs_that_require_grad():
    with pytest.raises(TypeError, match="float64"):
        nl.gradcheck(lambda x: x * 2, [nl.tensor([1.0], requires_grad=True)])
    with pytest.raises(ValueError, match="no input requires grad"):
        nl.gradcheck(lambda x: x * 2, [nl.tensor([1.0], dtype=np.float64)])


def test_relative_error_is_the_worst_elements_and_two_zeros_agree():
    assert relative_error([1.0, 0.0, -2.0], [1.0, 0.0, -2.0]) == 0.0
    assert relative_error([1.0, 200.0], [1.1, 200.0]) == pytest.approx(0.1 / 1.1)
    assert relative_error(1e-20, 0.0) == pytest.approx(1e-8)  # the 1e-12 floor: not 1.0
    assert relative_error([], []) == 0.0  # nothing checked: nothing disagrees
    assert relative_error(3.0, -3.0) == 2.0
    with pytest.raises(ValueError, match=r"relative_error: the shapes differ, \(2,\) and \(3,\)"):
        relative_error([1.0, 2.0], [1.0, 2.0, 3.0])


def test_gradcheck_takes_non_leaf_strided_inputs_and_leaves_grad_alone():
    # As torch.autograd.gradcheck: a slice of a leaf (a non-contiguous non-leaf) is checked
    # through autograd.grad, and .grad of the leaves is untouched.
    base = nl.tensor(np.random.default_rng(0).standard_normal((4, 5)), dtype=np.float64,
                     requires_grad=True)
    part = base[:3, 1:4]
    assert not part.is_contiguous() and part.grad_fn is not None
    assert nl.gradcheck(lambda t: (t * t).tanh(), [part])
    assert base.grad is None
    with pytest.raises(nl.autograd.GradcheckError, match=r"input 0 \(shape \(3, 3\)\)"):
        nl.gradcheck(WrongSquare.apply, [base[:3, 1:4]])
