"""nn.LinearCrossEntropyLoss against PyTorch's (same weights: loss, input and parameter
gradients), F.linear_cross_entropy's and LinearCrossEntropyOptions' bad input, and the warning
when options cannot apply. Values and gradients of the function: tests/ops/specs/loss_linear.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn as nn
import neuralab.nn.functional as F

D, C, N = 5, 4, 3


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(out_features=(2, 3), bias=True, reduction="sum", ignore_index=1, label_smoothing=0.1),
    dict(bias=True, reduction="none", label_smoothing=0.3, weighted=True),
    dict(bias=True, options="chunked", weighted=True),
])
def test_module_matches_torch(kwargs):
    kwargs = dict(kwargs)
    rng = np.random.default_rng(0)
    weighted = kwargs.pop("weighted", False)
    if kwargs.get("options"):
        kwargs["options"] = nn.LinearCrossEntropyOptions(batch_chunk_size=2)
        topts = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=2)
    else:
        topts = None
    class_weight = rng.uniform(0.5, 2, C) if weighted else None
    ours = nn.LinearCrossEntropyLoss(
        D, C, dtype=nl.float64, **kwargs,
        weight=None if class_weight is None else nl.tensor(class_weight))
    theirs = torch.nn.LinearCrossEntropyLoss(
        D, C, dtype=torch.float64, **{**kwargs, "options": topts},
        weight=None if class_weight is None else torch.tensor(class_weight))
    assert set(ours.state_dict()) == set(theirs.state_dict())
    ours.load_state_dict({k: nl.tensor(v.detach().numpy())
                          for k, v in theirs.state_dict().items()})
    x = rng.uniform(-1, 1, (N, D))
    t = rng.integers(0, C, (N, *kwargs.get("out_features", ())))
    xs, tx = nl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    loss, t_loss = ours(xs, nl.tensor(t)), theirs(tx, torch.tensor(t))
    np.testing.assert_allclose(loss.numpy(), t_loss.detach().numpy(), rtol=1e-10, atol=1e-12)
    loss.sum().backward()
    t_loss.sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(dict(ours.named_parameters())[name].grad.numpy(),
                                   p.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_options_that_cannot_apply_warn_like_torch():
    x, w, t = nl.randn(N, D), nl.randn(C, D), nl.tensor([0, 1, 2])
    with pytest.warns(UserWarning, match="options.*ignored"):
        F.linear_cross_entropy(x, w, t, label_smoothing=0.1,
                               options=nn.LinearCrossEntropyOptions())


@pytest.mark.parametrize(("shapes", "kwargs", "message"), [
    (((2, N, D), (C, D), (2, N)), {}, "dimensionality 1 or 2"),
    (((N, D), (C,), (N,)), {}, "linear_weight with dimensionality at least 2"),
    (((N, D), (C, D + 1), (N,)), {}, "in_features"),
    (((N, D), (C, D), (N,)), dict(linear_bias=(C + 1,)), r"linear_bias shape \(4,\)"),
    (((D,), (C, 2, D), (2,)), {}, "requires batched input"),
    (((N, D), (C, D), "prob"), dict(ignore_index=0), "ignore_index cannot be specified"),
])
def test_functional_bad_input(shapes, kwargs, message):
    x, w, t = shapes
    target = nl.rand(N, C).double() if t == "prob" else nl.zeros(*t, dtype=nl.int64)
    if "linear_bias" in kwargs:
        kwargs["linear_bias"] = nl.zeros(*kwargs["linear_bias"])
    with pytest.raises(RuntimeError, match=message):  # also a ValueError
        F.linear_cross_entropy(nl.zeros(*x).double(), nl.zeros(*w).double(), target, **kwargs)
    with pytest.raises(TypeError, match="LinearCrossEntropyOptions"):
        F.linear_cross_entropy(nl.zeros(N, D), nl.zeros(C, D), nl.zeros(N, dtype=nl.int64),
                               options={"batch_chunk_size": 2})


@pytest.mark.parametrize(("make", "message"), [
    (lambda: nn.LinearCrossEntropyLoss(D, C, weight=nl.ones(C + 1)), "expected weight shape"),
    (lambda: nn.LinearCrossEntropyLoss(D, C, label_smoothing=1.5), "label_smoothing"),
    (lambda: nn.LinearCrossEntropyLoss(D, 0), "num_classes must be a positive integer"),
    (lambda: nn.LinearCrossEntropyLoss(D, C, out_features=(2, 0)), r"out_features\[1\]"),
    (lambda: nn.LinearCrossEntropyLoss(D, C, reduction="avg"), "reduction"),
    (lambda: nn.LinearCrossEntropyOptions(acc_policy="fast"), "invalid acc_policy"),
    (lambda: nn.LinearCrossEntropyOptions(chunking_method="rows"), "invalid chunking_method"),
    (lambda: nn.LinearCrossEntropyOptions(chunking_method="aspect_ratio:0"),
     "invalid chunking_method"),
    (lambda: nn.LinearCrossEntropyOptions(batch_chunk_size=0), "batch_chunk_size"),
    (lambda: nn.LinearCrossEntropyOptions(acc_dtype=nl.int64), "acc_dtype"),
])
def test_module_and_options_bad_input(make, message):
    with pytest.raises(ValueError, match=message):
        make()
