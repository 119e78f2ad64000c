"""The MLP and the model registry."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import models, optim
from neuralab.models import MLP
from neuralab.nn import functional as F


def test_parameter_count():
    model = models.create("mlp")
    # 784·256 + 256 + 256·256 + 256 + 256·10 + 10
    assert sum(p.array.size for p in model.parameters()) == 269_322
    assert sum(p.array.size for p in MLP(hidden=()).parameters()) == 7850  # softmax regression


def test_forward_matches_pytorch():
    model = MLP(in_features=12, hidden=(7, 5), num_classes=3, activation="tanh")
    ref = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 7), torch.nn.Tanh(),
                              torch.nn.Linear(7, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    ref.load_state_dict({k.removeprefix("layers."): torch.from_numpy(v.numpy())
                         for k, v in model.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(4, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(model(nl.tensor(x)).array, ref(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_overfits_one_batch():
    nl.manual_seed(0)
    model = models.create("mlp", hidden=(64,), in_features=20, num_classes=5, dropout=0.1)
    x = nl.randn(16, 20)
    y = nl.tensor(np.arange(16) % 5)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(100):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.array) < 0.05


def test_registry():
    assert "mlp" in models.list_models()
    entry = models.get_entry("MLP")
    assert entry.meta["input_shape"] == (1, 28, 28)
    assert models.create("mlp", num_classes=4).num_classes == 4
    with pytest.raises(KeyError, match="did you mean mlp"):
        models.create("mpl")
    with pytest.raises(ValueError, match="already registered"):
        models.register("mlp")(lambda num_classes=10: None)
    with pytest.raises(ValueError, match="activation"):
        MLP(activation="swish")
    with pytest.raises(ValueError, match="dropout"):
        MLP(dropout=1.0)
