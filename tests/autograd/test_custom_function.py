"""torch.autograd.Function subclasses written as in PyTorch (forward and backward on Tensors,
non-Tensor arguments passed through, one gradient per argument), compared with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab.backend import xp


def _clamped_relu(lib):
    class ClampedReLU(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input, ceiling):
            ctx.save_for_backward(input)
            ctx.ceiling = ceiling
            ctx.seen = (type(input).__module__.split(".")[0], type(ceiling).__name__,
                        tuple(ctx.needs_input_grad))
            return input.clamp(min=0, max=ceiling)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[input < 0] = 0
            grad_input[input > ctx.ceiling] = 0
            return grad_input, None

    return ClampedReLU


def test_tensor_function_values_gradients_and_arguments_match_torch():
    x = np.random.default_rng(0).normal(size=(4, 5)) * 3
    ours_fn, theirs_fn = _clamped_relu(nl), _clamped_relu(torch)
    ours_x = nl.tensor(x, dtype=np.float64, requires_grad=True)
    theirs_x = torch.tensor(x, requires_grad=True)
    ours, theirs = ours_fn.apply(ours_x * 2, 4.0), theirs_fn.apply(theirs_x * 2, 4.0)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy())
    assert ours.requires_grad and ours.grad_fn.name().startswith("ClampedReLUBackward")
    # forward saw a Tensor and the float itself; needs_input_grad has one entry per argument
    assert ours.grad_fn.seen == ("neuralab", "float", (True, False))
    w = np.random.default_rng(1).normal(size=(4, 5))
    (ours * nl.tensor(w)).sum().backward()
    (theirs * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy())
    assert nl.gradcheck(lambda t: ours_fn.apply(t, 0.5), [nl.tensor(x[:2, :3] / 3,
                                                                     dtype=np.float64,
                                                                     requires_grad=True)])


def test_forward_runs_without_recording_and_outputs_of_no_grad_inputs_need_none():
    class Square(nl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.inner = (x * x).requires_grad  # PyTorch: grad mode is off inside forward
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = nl.tensor([1.0, -2.0], requires_grad=True)
    y = Square.apply(x)
    assert y.grad_fn.inner is False
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -4.0])
    assert not Square.apply(nl.tensor([1.0])).requires_grad


def test_setup_context_style_and_mark_non_differentiable():
    class SortValues(nl.autograd.Function):  # PyTorch 2: forward without ctx
        @staticmethod
        def forward(x):
            values, indices = x.sort()
            return values, indices

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.mark_non_differentiable(output[1])
            ctx.save_for_backward(output[1])

        @staticmethod
        def backward(ctx, g_values, g_indices):
            (indices,) = ctx.saved_tensors
            grad = nl.zeros_like(g_values)
            grad[indices] = g_values
            return grad

    x = nl.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values, indices = SortValues.apply(x)
    assert values.requires_grad and not indices.requires_grad
    (values * nl.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [100.0, 1.0, 10.0])


def test_array_code_still_works_in_a_user_function():
    class Tanh(nl.autograd.Function):  # the README's pattern, written with xp
        @staticmethod
        def forward(ctx, x):
            ctx.z = xp.tanh(x)
            return ctx.z

        @staticmethod
        def backward(ctx, dout):
            return dout * (1 - ctx.z * ctx.z)

    x = nl.tensor(np.linspace(-2, 2, 5), dtype=np.float64, requires_grad=True)
    assert nl.gradcheck(Tanh.apply, [x])

    class Explicit(Tanh):
        tensor_args = False  # arrays, as neuralab's own ops

        @staticmethod
        def forward(ctx, x):
            assert isinstance(x, xp.ndarray)
            ctx.z = xp.tanh(x)
            return ctx.z

    assert nl.gradcheck(Explicit.apply, [x])


def test_wrong_gradient_counts_are_named_as_torch_does():
    class TooFew(nl.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            return x * scale

        @staticmethod
        def backward(ctx, g):
            return g

    class ForAFloat(TooFew):
        @staticmethod
        def backward(ctx, g):
            return g, g

    x = nl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"TooFewBackward returned an incorrect number of "
                       r"gradients \(expected 2, got 1\)"):
        TooFew.apply(x, 2.0).sum().backward()
    with pytest.raises(RuntimeError, match=r"gradient different than None at position 2, but "
                       r"the corresponding forward input was not a Tensor"):
        ForAFloat.apply(x, 2.0).sum().backward()
