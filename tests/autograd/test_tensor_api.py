"""Everyday Tensor API as PyTorch's: sizes, copies, new tensors, conversions, autograd.grad."""

import numpy as np
import pytest
import torch

import neuralab as nl

A = [[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]]


def test_size_numel_dim_match_torch():
    x, t = nl.tensor(A), torch.tensor(A)
    assert x.size() == t.size() == (2, 3) and isinstance(x.size(), nl.Size)
    assert repr(x.size()) == repr(t.size()).replace("torch", "neuralab")
    assert x.size(0) == t.size(0) and x.size(-1) == t.size(-1)
    assert x.numel() == t.numel() and x.dim() == t.dim() and x.ndimension() == 2
    assert x.size()[1:] == (3,) and isinstance(x.size()[1:], nl.Size)
    assert x.size().numel() == 6 and x.nelement() == 6 and x.element_size() == 4
    with pytest.raises(IndexError, match="dimension out of range"):
        x.size(2)
    assert x.stride() == t.stride() and x.t().stride() == t.t().stride()


def test_t_contiguous_clone_narrow():
    x, t = nl.tensor(A), torch.tensor(A)
    assert x.t().tolist() == t.t().tolist()
    assert x.is_contiguous() and not x.t().is_contiguous()
    c = x.t().contiguous()
    assert c.is_contiguous() and c.tolist() == t.t().contiguous().tolist()
    assert x.contiguous() is x
    assert x.narrow(1, 1, 2).tolist() == t.narrow(1, 1, 2).tolist()
    clone = x.clone()
    clone[0, 0] = 100.0
    assert x[0, 0].item() == 1.0
    with pytest.raises(RuntimeError, match="expects a tensor with <= 2 dimensions"):
        nl.zeros(2, 2, 2).t()
    w = nl.tensor([1.0, 2.0], requires_grad=True)
    (w.clone() * 3).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_new_factories_follow_the_tensor():
    x, t = nl.tensor(A, dtype=nl.float64), torch.tensor(A, dtype=torch.float64)
    for name, args in (("new_zeros", (2, 2)), ("new_ones", ((3,),)), ("new_empty", (2,)),
                       ("new_full", ((2,), 7.0)), ("new_tensor", ([1, 2],))):
        ours, theirs = getattr(x, name)(*args), getattr(t, name)(*args)
        assert ours.shape == tuple(theirs.shape)
        assert repr(ours.dtype) == repr(theirs.dtype).replace("torch.", "neuralab.")
        if name != "new_empty":
            assert ours.tolist() == theirs.tolist()
    assert x.new_zeros(2, dtype=nl.int64).dtype == nl.int64
    assert x.new_tensor([1.0], requires_grad=True).is_leaf


def test_python_conversions():
    i = nl.tensor(3)
    assert [10, 20, 30, 40][i] == 40 and list(range(10))[nl.tensor(2):i] == [2]
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        [1, 2][nl.tensor(1.0)]
    assert int(nl.tensor(3.7)) == 3 and float(nl.tensor([2.5])) == 2.5
    assert bool(nl.tensor(0)) is False and bool(nl.tensor([1.0])) is True
    assert nl.tensor(1.5).item() == 1.5 and nl.tensor(A).tolist() == A
    assert f"{nl.tensor(0.123456):.3f}" == f"{torch.tensor(0.123456):.3f}" == "0.123"
    assert [r.tolist() for r in nl.tensor(A)] == A
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(nl.tensor(1.0))


def test_from_numpy_shares_memory_and_dtype():
    a = np.arange(4.0)
    x = nl.from_numpy(a)
    assert repr(x.dtype) == repr(torch.from_numpy(a).dtype).replace("torch", "neuralab")
    a[0] = 9
    assert x[0].item() == 9.0
    x[1] = 7.0
    assert a[1] == 7.0
    with pytest.raises(TypeError, match="expected an np.ndarray"):
        nl.from_numpy([1, 2])
    assert nl.as_tensor(a).numpy() is a


def test_random_factories():
    nl.manual_seed(0)
    p = nl.randperm(10)
    assert sorted(p.tolist()) == list(range(10)) and p.dtype == nl.int64
    r = nl.randint(3, 7, (1000,))
    assert r.min().item() >= 3 and r.max().item() <= 6 and r.dtype == nl.int64
    assert nl.randint(5, (2, 2)).shape == (2, 2)
    assert nl.randint_like(nl.zeros(3), 2).shape == (3,)
    nl.manual_seed(1)
    a = nl.randperm(5).tolist()
    nl.manual_seed(1)
    assert nl.randperm(5).tolist() == a


def test_requires_grad_setter_and_leaves():
    x = nl.ones(2)
    x.requires_grad = True
    assert x.requires_grad and x.is_leaf
    y = x * 2
    assert not y.is_leaf and y.requires_grad
    with pytest.raises(RuntimeError, match="non-leaf"):
        y.requires_grad = False
    with pytest.raises(TypeError, match="only floating-point"):
        nl.tensor([1]).requires_grad = True


def test_grad_fn_graph_like_torch():
    nodes = []
    for lib in (nl, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x * 2).exp().sum()
        fn = y.grad_fn
        chain = []
        while fn is not None:
            chain.append(fn.name())
            fn = fn.next_functions[0][0] if fn.next_functions else None
        nodes.append(chain)
    assert nodes[0] == ["SumBackward0", "ExpBackward0", "MulBackward0", "AccumulateGrad"]
    assert nodes[1][-1].endswith("AccumulateGrad") and nodes[1][:3] == nodes[0][:3]
    leaf = nl.tensor([1.0], requires_grad=True)
    node = (leaf * 3).grad_fn.next_functions[0][0]
    assert node.variable is leaf and leaf.grad_fn is None
    assert (leaf * nl.tensor([2.0])).grad_fn.next_functions[1] == (None, 0)


def test_retain_grad_and_hooks():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    assert h.retains_grad
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    (h * h).sum().backward()
    assert h.grad.tolist() == [6.0, 12.0] and seen == [[18.0, 36.0]]


def test_backward_with_gradient_argument():
    for lib in (nl, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * x).backward(gradient=lib.tensor([1.0, 0.5]))
        assert x.grad.tolist() == [2.0, 2.0]


def test_autograd_grad_matches_torch():
    results = []
    for lib in (nl, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        h = x * w
        y = (h * h).sum()
        gx, gh = lib.autograd.grad(y, [x, h], retain_graph=True)
        z = lib.tensor([1.0], requires_grad=True)
        with pytest.raises(RuntimeError):
            lib.autograd.grad(y, [z], retain_graph=True)
        (gz,) = lib.autograd.grad(y, [z], allow_unused=True, retain_graph=True)
        (gw,) = lib.autograd.grad([y], w, grad_outputs=[lib.tensor(2.0)])
        results.append((gx.tolist(), gh.tolist(), gw.tolist(), gz, x.grad))
    assert results[0] == results[1]
    with pytest.raises(NotImplementedError, match="create_graph"):
        x = nl.tensor([1.0], requires_grad=True)
        nl.autograd.grad((x * x).sum(), x, create_graph=True)


def test_detach_and_data_share_memory():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and np.shares_memory(d.numpy(), x.numpy())
    assert np.shares_memory(x.data.numpy(), x.numpy())
    y = x * 2
    assert y.data.tolist() == [2.0, 4.0] and not y.data.requires_grad and y.data.is_leaf


def test_set_grad_enabled_and_inference_mode():
    x = nl.ones(2, requires_grad=True)
    with nl.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    with nl.autograd.inference_mode():
        assert not (x * 2).requires_grad
    nl.set_grad_enabled(False)
    try:
        assert not nl.is_grad_enabled()
    finally:
        nl.set_grad_enabled(True)
    assert nl.is_grad_enabled()
