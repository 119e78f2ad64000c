"""The backward engine: accumulation, graph release, no_grad, hooks, deep graphs."""

import time

import numpy as np
import pytest
import torch

import neuralab as nl


def test_no_grad_context_manager_and_decorator():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    with nl.no_grad():
        assert not nl.is_grad_enabled()
        y = x * 2
        with nl.enable_grad():
            assert (x * 2).requires_grad
    assert nl.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf

    @nl.no_grad()
    def evaluate(t):
        return t * 3

    assert not evaluate(x).requires_grad
    assert nl.is_grad_enabled()
    assert (x * 3).requires_grad


def test_no_grad_restores_state_after_an_exception():
    with pytest.raises(ZeroDivisionError), nl.no_grad():
        _ = 1 / 0
    assert nl.is_grad_enabled()


def test_gradients_accumulate_across_backward_calls():
    x = nl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() + 2)
    x.grad = None
    x.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0, 1.0])


def test_a_tensor_used_several_times_sums_its_gradients():
    xs = [1.5, -0.5]
    x = nl.tensor(xs, requires_grad=True)
    t = torch.tensor(xs, requires_grad=True)
    for v in (x, t):
        h = v * v          # used by three consumers below
        out = (h * v + h.exp() - h / (v * v + 1)).sum() + v.sum()
        out.backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-5)


def test_same_tensor_as_both_operands():
    x = nl.tensor([3.0], requires_grad=True)
    (x * x).backward(nl.tensor([1.0]))
    np.testing.assert_allclose(x.grad.numpy(), [6.0])
    y = nl.tensor([3.0], requires_grad=True)
    (y + y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [2.0])


def test_backward_on_non_scalar_needs_a_gradient():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"implicitly created only for a scalar.*\(2,\)"):
        (x * 2).backward()
    (x * 2).backward(nl.tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])
    with pytest.raises(ValueError, match="gradient has shape"):
        (x * 2).backward(np.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        nl.tensor([1.0]).sum().backward()


def test_second_backward_through_released_graph():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    loss = (x.exp() * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        loss.backward()
    x.grad = None
    loss = (x.exp() * x).sum()
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)


def test_100k_op_chain_backpropagates_without_recursion_error(capsys):
    x = nl.tensor(1.0, requires_grad=True)
    y = x
    start = time.perf_counter()
    for _ in range(100_000):
        y = y * 1.0
    built = time.perf_counter()
    y.backward()
    done = time.perf_counter()
    assert x.grad.item() == 1.0
    with capsys.disabled():
        print(f"\n100k-op chain: forward {built - start:.2f} s, backward {done - built:.2f} s")


def test_leaf_hook_modifies_and_handle_removes():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 10)
    (x * 3).sum().backward()
    np.testing.assert_allclose(seen[0], [3.0, 3.0])
    np.testing.assert_allclose(x.grad.numpy(), [30.0, 30.0])
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
    assert len(seen) == 1
    with pytest.raises(RuntimeError, match="register_hook"):
        nl.tensor([1.0]).register_hook(lambda g: g)


def test_non_leaf_hook_changes_what_flows_upstream():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    handle = h.register_hook(lambda g: g * 0.5)
    (h * h).sum().backward()          # h̄ = 2h, halved by the hook, times ∂h/∂x = 2
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() * 2)
    handle.remove()


def test_retain_grad_on_non_leaf_and_leaf():
    x = nl.tensor([1.0, -2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    x.retain_grad()  # a no-op for leaves, which keep .grad anyway
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.numpy())
    np.testing.assert_allclose(x.grad.numpy(), 18 * x.numpy())
    z = x * 2
    assert z.grad is None  # not retained


def test_int_results_carry_no_grad():
    x = nl.tensor([[1.0, 5.0], [3.0, 2.0]], requires_grad=True)
    assert not x.argmax(1).requires_grad
    assert not x.max(1).indices.requires_grad
    assert (x.sum() * 1).requires_grad


def test_hooks_and_retained_grads_keep_float64():
    x = nl.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    h = x * 2
    h.retain_grad()
    dtypes = []
    x.register_hook(lambda g: dtypes.append(g.dtype))
    h.register_hook(lambda g: dtypes.append(g.dtype))
    (h * h).sum().backward()
    assert dtypes == [np.float64, np.float64]
    assert h.grad.dtype == np.float64 and x.grad.dtype == np.float64
