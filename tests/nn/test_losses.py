"""Loss behaviour beyond the op table: error messages, stability, edge cases, one_hot."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import neuralab as nl
import neuralab.nn.functional as F


def test_cross_entropy_target_out_of_range_names_class_and_count():
    x = nl.randn(4, 10)
    with pytest.raises(IndexError, match=r"target 10 .*10 classes.*num_classes to 11"):
        F.cross_entropy(x, nl.tensor([0, 3, 10, 2]))
    with pytest.raises(IndexError, match=r"target -1 "):
        F.cross_entropy(x, nl.tensor([0, -1, 1, 2]))
    with pytest.raises(IndexError, match="did you set num_classes to 10"):
        F.cross_entropy(nl.randn(4, 2), nl.tensor([0, 9, 1, 1]))
    with pytest.raises(IndexError, match="10 classes"):
        F.nll_loss(x, nl.tensor([0, 3, 12, 2]))


def test_cross_entropy_validates_shapes_and_dtypes():
    x = nl.randn(4, 3)
    with pytest.raises(ValueError, match=r"target of shape \(4,\).*got \(5,\)"):
        F.cross_entropy(x, nl.tensor([0, 1, 2, 0, 1]))
    with pytest.raises(TypeError, match="integers.*long"):
        F.cross_entropy(x, nl.tensor([0.0, 1.0, 2.0, 0.0]).reshape(4))
    with pytest.raises(ValueError, match="probability targets must have the input's shape"):
        F.cross_entropy(x, nl.rand(4, 2))
    with pytest.raises(ValueError, match="one-hot"):
        F.cross_entropy(x, nl.tensor(np.eye(3, dtype=np.int64)[[0, 1, 2, 0]]))
    with pytest.raises(ValueError, match="weight must have one entry per class"):
        F.cross_entropy(x, nl.tensor([0, 1, 2, 0]), weight=nl.ones(4))
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.cross_entropy(x, nl.tensor([0, 1, 2, 0]), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, nl.tensor([0, 1, 2, 0]), label_smoothing=1.5)
    with pytest.raises(TypeError, match="floating"):
        F.cross_entropy(nl.tensor([[1, 2]]), nl.tensor([0]))


def test_regression_and_binary_losses_validate():
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\).*broadcasting"):
        F.mse_loss(nl.randn(4, 1), nl.randn(4))
    with pytest.raises(ValueError, match="forget the sigmoid"):
        F.binary_cross_entropy(nl.randn(5) * 3, nl.rand(5))
    with pytest.raises(ValueError, match="weight of shape"):
        F.binary_cross_entropy_with_logits(nl.randn(3, 4), nl.rand(3, 4), weight=nl.ones(5))
    w = nl.ones(3, requires_grad=True)
    with pytest.raises(ValueError, match="weight.detach"):
        F.cross_entropy(nl.randn(2, 3), nl.tensor([0, 1]), weight=w)


def test_cross_entropy_is_stable_for_huge_logits():
    x = np.array([[1000.0, -1000.0, 0.0], [-500.0, 500.0, 499.0]], dtype=np.float32)
    t = np.array([0, 2])
    ours = nl.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    lo = F.cross_entropy(ours, nl.tensor(t))
    lt = TF.cross_entropy(theirs, torch.tensor(t))
    lo.backward()
    lt.backward()
    assert np.isfinite(lo.item())
    np.testing.assert_allclose(lo.item(), lt.item(), rtol=1e-6)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), atol=1e-7)
    z = nl.tensor([[80.0, -80.0]], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(z, nl.tensor([[0.0, 1.0]]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.allclose(loss.item(), 80.0)
    np.testing.assert_allclose(z.grad.numpy(), [[0.5, -0.5]])


def test_saturated_bce_matches_pytorch_clamping():
    x = np.array([0.0, 1.0, 0.5])
    y = np.array([1.0, 0.0, 1.0])
    ours = F.binary_cross_entropy(nl.tensor(x, dtype=np.float64), nl.tensor(y, dtype=np.float64),
                                  reduction="none")
    theirs = TF.binary_cross_entropy(torch.tensor(x), torch.tensor(y), reduction="none")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())


def test_all_targets_ignored_gives_nan_like_pytorch():
    x = np.random.default_rng(0).standard_normal((3, 4))
    t = np.full(3, -100)
    ours = F.cross_entropy(nl.tensor(x), nl.tensor(t))
    theirs = TF.cross_entropy(torch.tensor(x, dtype=torch.float32), torch.tensor(t))
    assert np.isnan(ours.item()) and np.isnan(theirs.item())
    assert F.cross_entropy(nl.tensor(x), nl.tensor(t), reduction="sum").item() == 0


def test_cross_entropy_float32_keeps_dtype_and_matches_pytorch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 10)).astype(np.float32)
    t = rng.integers(0, 10, 64)
    ours = nl.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    lo = F.cross_entropy(ours, nl.tensor(t), label_smoothing=0.1)
    lt = TF.cross_entropy(theirs, torch.tensor(t), label_smoothing=0.1)
    lo.backward()
    lt.backward()
    assert lo.dtype == np.float32 and ours.grad.dtype == np.float32
    np.testing.assert_allclose(lo.item(), lt.item(), rtol=1e-5)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), atol=1e-7)


def test_one_hot_matches_pytorch():
    t = np.array([[0, 2], [1, 3]])
    ours = F.one_hot(nl.tensor(t), 5)
    theirs = TF.one_hot(torch.tensor(t), 5)
    assert ours.dtype == np.int64 and not ours.requires_grad
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(F.one_hot(nl.tensor(t)).numpy(),
                                  TF.one_hot(torch.tensor(t)).numpy())
    with pytest.raises(ValueError, match="num_classes to 4"):
        F.one_hot(nl.tensor(t), 3)
    with pytest.raises(TypeError, match="integers"):
        F.one_hot(nl.tensor([0.0, 1.0]), 2)
