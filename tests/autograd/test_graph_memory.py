"""The graph keeps what backward saved, not every intermediate value (Context.held_inputs)."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import neuralab as nl


def test_an_intermediate_nothing_saved_is_freed_before_backward():
    x = nl.tensor(np.array([-1.0, 2.0, 3.0]), requires_grad=True)
    h = x * 2.0  # read only by relu, which saves its output
    gone = weakref.ref(h)
    z = nl.relu(h)
    del h
    gc.collect()
    assert gone() is None
    assert z._ctx.inputs == (None,)  # the graph no longer names it ...
    z.sum().backward()  # ... and backward needs only its shape and dtype
    np.testing.assert_array_equal(x.grad.array, [0.0, 2.0, 2.0])


def test_leaves_are_held_and_receive_their_gradient():
    w = nl.tensor(np.array([1.5, -2.0]), requires_grad=True)
    square = w * w
    y = square.sum()
    a, b = square._ctx.inputs
    assert a is w and b is w
    assert y._ctx.inputs[0] is square  # held by a variable here, so still there
    y.backward()
    np.testing.assert_array_equal(w.grad.array, [3.0, -4.0])


def test_a_gradient_of_the_wrong_shape_still_names_the_op():
    class Bad(nl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, dout):
            return dout[:1]

    x = nl.tensor(np.ones(3), requires_grad=True)
    h = x * 1.0
    out = Bad.apply(h)
    del h
    with pytest.raises(RuntimeError, match=r"Bad.backward returned a gradient of shape \(1,\) "
                       r"for an input of shape \(3,\)"):
        out.sum().backward()
