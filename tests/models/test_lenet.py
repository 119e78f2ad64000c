"""LeNet-5: parameter count, variants, shapes, registry, and learning a batch."""

from __future__ import annotations

import numpy as np
import pytest

import neuralab as nl
import neuralab.nn as nn
from neuralab.models import create, get_entry
from neuralab.models.lenet import LeNet5


def _count(model):
    return sum(p.numel() for p in model.parameters())


def test_parameter_count_and_output_shape():
    model = create("lenet5")
    # (6·25 + 6) + (16·6·25 + 16) + (400·120 + 120) + (120·84 + 84) + (84·10 + 10)
    assert _count(model) == 61_706
    assert model(nl.randn(3, 1, 28, 28)).shape == (3, 10)
    assert get_entry("lenet5").meta["input_shape"] == (1, 28, 28)


def test_variants():
    classic = LeNet5(classic=True)
    kinds = [type(m).__name__ for m in classic.modules()]
    assert "Tanh" in kinds and "AvgPool2d" in kinds and "ReLU" not in kinds
    sig = LeNet5(activation="sigmoid", pool="avg")
    assert any(isinstance(m, nn.Sigmoid) for m in sig.modules())
    assert _count(LeNet5(padding=0, image_size=32)) == 61_706  # the original 32x32 design
    assert create("lenet5", num_classes=5)(nl.randn(2, 1, 28, 28)).shape == (2, 5)
    with pytest.raises(ValueError, match="activation"):
        LeNet5(activation="swish")
    with pytest.raises(ValueError, match="pool"):
        LeNet5(pool="median")


def test_overfits_one_batch():
    nl.manual_seed(0)
    model = create("lenet5")
    rng = np.random.default_rng(0)
    x = nl.tensor(rng.standard_normal((16, 1, 28, 28)).astype(np.float32))
    y = nl.tensor(rng.integers(0, 10, 16))
    opt = nl.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for _ in range(40):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    assert (model(x).numpy().argmax(1) == y.numpy()).all()
