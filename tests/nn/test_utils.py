"""Gradient clipping, parameter vectors and the L1 penalty against PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn as nn
from neuralab.nn import utils


def twins(scale: float):
    """The same parameters with the same gradients in neuralab and PyTorch."""
    rng = np.random.default_rng(0)
    shapes = [(4, 3), (4,), (2, 4)]
    ours, theirs = [], []
    for s in shapes:
        p = rng.standard_normal(s)
        g = rng.standard_normal(s) * scale
        po = nn.Parameter(nl.tensor(p, dtype=np.float64))
        po.grad = nl.tensor(g, dtype=np.float64)
        pt = torch.nn.Parameter(torch.tensor(p))
        pt.grad = torch.tensor(g)
        ours.append(po)
        theirs.append(pt)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3, math.inf])
@pytest.mark.parametrize("scale", [0.01, 10.0])
def test_clip_grad_norm_matches_pytorch(norm_type, scale):
    ours, theirs = twins(scale)
    total_o = utils.clip_grad_norm_(ours, max_norm=1.0, norm_type=norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm=1.0, norm_type=norm_type)
    assert isinstance(total_o, nl.Tensor) and total_o.ndim == 0
    np.testing.assert_allclose(total_o.item(), total_t.item(), rtol=1e-10)
    for po, pt in zip(ours, theirs):
        np.testing.assert_allclose(po.grad.numpy(), pt.grad.numpy(), rtol=1e-10)
    if scale == 10.0:  # clipped: the new total norm is max_norm
        grads = np.concatenate([p.grad.numpy().ravel() for p in ours])
        assert np.linalg.norm(grads, norm_type) == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_norm_on_a_module_and_nonfinite():
    model = nn.Linear(3, 2)
    model(nl.randn(4, 3)).sum().backward()
    total = utils.clip_grad_norm_(model, 1e-3)
    assert total.item() > 1e-3
    assert np.sqrt(sum((p.grad.numpy() ** 2).sum() for p in model.parameters())) <= 1.001e-3
    model.weight.grad.array[0, 0] = np.nan
    with pytest.raises(RuntimeError, match="nan"):
        utils.clip_grad_norm_(model.parameters(), 1.0, error_if_nonfinite=True)
    assert utils.clip_grad_norm_([nn.Parameter(nl.zeros(2))], 1.0).item() == 0.0


def test_clip_grad_value_matches_pytorch():
    ours, theirs = twins(3.0)
    utils.clip_grad_value_(ours, 0.5)
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    for po, pt in zip(ours, theirs):
        np.testing.assert_array_equal(po.grad.numpy(), pt.grad.numpy())


def test_parameter_vector_round_trip_matches_pytorch():
    ours, theirs = twins(1.0)
    vo = utils.parameters_to_vector(ours)
    vt = torch.nn.utils.parameters_to_vector(theirs)
    np.testing.assert_array_equal(vo.numpy(), vt.detach().numpy())
    for p in ours:
        p.grad = None
    (vo * nl.tensor(np.arange(vo.shape[0]), dtype=np.float64)).sum().backward()
    np.testing.assert_array_equal(ours[1].grad.numpy(), np.arange(12.0, 16.0))  # differentiable
    new = np.arange(vo.shape[0], dtype=np.float64)
    utils.vector_to_parameters(nl.tensor(new, dtype=np.float64), ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs)
    for po, pt in zip(ours, theirs):
        np.testing.assert_array_equal(po.numpy(), pt.detach().numpy())
    with pytest.raises(ValueError, match="has 3 elements but the parameters hold 24"):
        utils.vector_to_parameters(nl.zeros(3), ours)


def test_l1_penalty_value_and_gradient():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    penalty = utils.l1_penalty(model, weight=0.1)
    expected = 0.1 * sum(np.abs(p.numpy()).sum() for p in model.parameters())
    assert penalty.item() == pytest.approx(expected, rel=1e-5)
    penalty.backward()
    for p in model.parameters():
        np.testing.assert_allclose(p.grad.numpy(), 0.1 * np.sign(p.numpy()), rtol=1e-6)
    weights_only = utils.l1_penalty([model[0].weight, model[2].weight])
    assert weights_only.item() == pytest.approx(
        np.abs(model[0].weight.numpy()).sum() + np.abs(model[2].weight.numpy()).sum(), rel=1e-5)
