"""nn.Bilinear and nn.EmbeddingBag against their torch.nn twins: outputs and the gradients of
inputs and parameters (weights copied in, float64), initialization bounds, state-dict keys,
reprs, max_norm's in-place renormalization, from_pretrained, and the messages of bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn as nn


def _copy(ours, theirs, rng):
    theirs.double()
    ours.double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape))))
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})


def _check_grads(ours, theirs):
    named = dict(theirs.named_parameters())
    assert sorted(named) == sorted(n for n, _ in ours.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), named[name].grad.numpy(), rtol=1e-7,
                                   atol=1e-9, err_msg=name)


@pytest.mark.parametrize(("args", "kw", "lead"), [
    ((3, 4, 2), {}, (5,)), ((2, 2, 3), {"bias": False}, (2, 3)), ((4, 1, 2), {}, ()),
])
def test_bilinear_matches_torch(args, kw, lead):
    rng = np.random.default_rng(0)
    ours, theirs = nn.Bilinear(*args, **kw), torch.nn.Bilinear(*args, **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _copy(ours, theirs, rng)
    a, b = rng.standard_normal(lead + (args[0],)), rng.standard_normal(lead + (args[1],))
    ao, bo = (nl.tensor(v, dtype=nl.float64, requires_grad=True) for v in (a, b))
    at, bt = (torch.tensor(v, requires_grad=True) for v in (a, b))
    yo, yt = ours(ao, bo), theirs(at, bt)
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-7, atol=1e-9)
    g = rng.standard_normal(tuple(yt.shape))
    (yo * nl.tensor(g, dtype=nl.float64)).sum().backward()
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(ao.grad.numpy(), at.grad.numpy(), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(bo.grad.numpy(), bt.grad.numpy(), rtol=1e-7, atol=1e-9)
    _check_grads(ours, theirs)


def test_bilinear_init_and_errors():
    layer = nn.Bilinear(16, 3, 50)
    bound = 1 / 4
    for p in (layer.weight, layer.bias):
        assert np.abs(p.numpy()).max() <= bound and np.abs(p.numpy()).max() > bound * 0.8
    with pytest.raises(ValueError, match="input1 has 3 and input2 3 features but weight"):
        layer(nl.randn(2, 3), nl.randn(2, 3))
    with pytest.raises(ValueError, match="batch dimensions"):
        layer(nl.randn(2, 16), nl.randn(3, 3))
    with pytest.raises(ValueError, match="same number of dimensions"):
        layer(nl.randn(2, 16), nl.randn(3))
    with pytest.raises(TypeError, match="share one dtype"):
        layer(nl.randn(2, 16).double(), nl.randn(2, 3))
    with pytest.raises(ValueError, match="in2_features must be a positive integer"):
        nn.Bilinear(2, 0, 3)


BAGS = [
    ({"mode": "sum"}, np.array([[1, 2, 4], [4, 3, 0]]), None, False),
    ({"mode": "mean", "padding_idx": 2}, np.array([1, 2, 4, 5, 4, 3, 2, 0]),
     np.array([0, 2, 2, 5]), False),
    ({"mode": "max"}, np.array([1, 2, 4, 5, 4, 3, 2, 0]), np.array([0, 3, 3, 6]), False),
    ({"mode": "sum", "include_last_offset": True}, np.array([1, 2, 4, 5, 0]),
     np.array([0, 2, 5]), False),
    ({"mode": "sum", "padding_idx": 0}, np.array([1, 2, 4, 5, 0, 3]), np.array([0, 4]), True),
]


@pytest.mark.parametrize(("kw", "idx", "offsets", "psw"), BAGS)
def test_embedding_bag_matches_torch(kw, idx, offsets, psw):
    rng = np.random.default_rng(0)
    ours, theirs = nn.EmbeddingBag(6, 3, **kw), torch.nn.EmbeddingBag(6, 3, **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if "padding_idx" in kw:
        assert not ours.weight.numpy()[kw["padding_idx"]].any()
    _copy(ours, theirs, rng)
    args_o = [nl.tensor(idx)] + ([nl.tensor(offsets)] if offsets is not None else [None])
    args_t = [torch.tensor(idx)] + ([torch.tensor(offsets)] if offsets is not None else [None])
    if psw:
        w = rng.uniform(0.5, 1.5, size=idx.shape)
        wo, wt = nl.tensor(w, dtype=nl.float64, requires_grad=True), torch.tensor(
            w, requires_grad=True)
        args_o.append(wo)
        args_t.append(wt)
    yo, yt = ours(*args_o), theirs(*args_t)
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-7, atol=1e-9)
    g = rng.standard_normal(tuple(yt.shape))
    (yo * nl.tensor(g, dtype=nl.float64)).sum().backward()
    yt.backward(torch.tensor(g))
    _check_grads(ours, theirs)
    if psw:
        np.testing.assert_allclose(wo.grad.numpy(), wt.grad.numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("norm_type", [2.0, 1.0])
def test_embedding_bag_max_norm_renormalizes_in_place(norm_type):
    rng = np.random.default_rng(1)
    table = rng.standard_normal((6, 3)) * 2
    ours = nn.EmbeddingBag.from_pretrained(nl.tensor(table, dtype=nl.float64), max_norm=1.5,
                                           norm_type=norm_type, mode="sum")
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(table), max_norm=1.5,
                                                   norm_type=norm_type, mode="sum")
    assert repr(ours) == repr(theirs) and not ours.weight.requires_grad
    idx = np.array([[0, 2], [2, 5]])
    yo, yt = ours(nl.tensor(idx)), theirs(torch.tensor(idx))
    np.testing.assert_allclose(yo.numpy(), yt.numpy(), rtol=1e-7)
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.numpy(), rtol=1e-7)
    np.testing.assert_array_equal(ours.weight.numpy()[1], table[1])  # unused rows untouched


def test_embedding_bag_errors():
    bag = nn.EmbeddingBag(5, 2)
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        bag(nl.tensor([1, 2]))
    with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
        bag(nl.tensor([[1, 2]]), nl.tensor([0]))
    with pytest.raises(ValueError, match=r"offsets\[0\] has to be 0"):
        bag(nl.tensor([1, 2]), nl.tensor([1]))
    with pytest.raises(ValueError, match=r"offsets\[-1\] can not be greater"):
        bag(nl.tensor([1, 2]), nl.tensor([0, 3]))
    with pytest.raises(IndexError, match=r"indices must lie in \[0, 5\)"):
        bag(nl.tensor([1, 7]), nl.tensor([0]))
    with pytest.raises(TypeError, match="integer tensor"):
        bag(nl.tensor([1.0, 2.0]), nl.tensor([0]))
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        bag(nl.tensor([[1, 2]]), per_sample_weights=nl.ones(1, 2))
    with pytest.raises(ValueError, match="max mode does not support scaling"):
        nn.EmbeddingBag(5, 2, mode="max", scale_grad_by_freq=True)(nl.tensor([[1, 2]]))
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        nn.EmbeddingBag(5, 2, mode="prod")
    with pytest.raises(ValueError, match="padding_idx must be within"):
        nn.EmbeddingBag(5, 2, padding_idx=5)
    with pytest.raises(ValueError, match="must have the shape of the input"):
        nn.EmbeddingBag(5, 2, mode="sum")(nl.tensor([[1, 2]]), per_sample_weights=nl.ones(3))
