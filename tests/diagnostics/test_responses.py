"""response_stds: the standard deviation of each batch-norm layer's output (He et al. 2016,
Fig. 7), against the same numbers computed from the layers' outputs directly."""

from __future__ import annotations

import numpy as np
import pytest

import neuralab as nl
from neuralab import nn
from neuralab.diagnostics.responses import response_stds
from neuralab.models import create


def test_response_stds_match_the_layers_outputs_in_eval_mode():
    nl.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.Conv2d(4, 5, 3, padding=1), nn.BatchNorm2d(5))
    x = np.random.default_rng(0).standard_normal((7, 3, 6, 6)).astype(np.float32)
    model.train()
    model(nl.tensor(x))  # running statistics that differ from the initial ones
    stds = response_stds(model, x, batch_size=3)  # three batches: 3 + 3 + 1 images
    assert model.training  # the mode is restored
    model.eval()
    with nl.no_grad():
        first = model[1](model[0](nl.tensor(x))).numpy()
        second = model(nl.tensor(x)).numpy()
    np.testing.assert_allclose(stds, [first.std(), second.std()], rtol=1e-5)


def test_the_cifar_nets_give_one_response_per_3x3_layer():
    """The zoo's plain-20 and ResNet-20: 6n + 1 = 19 batch norms (option A shortcuts have no
    projection), one after each 3x3 convolution."""
    x = np.random.default_rng(1).standard_normal((4, 3, 16, 16)).astype(np.float32)
    for name in ("plain20", "resnet20"):
        nl.manual_seed(0)
        assert len(response_stds(create(name), x)) == 19


def test_response_stds_refuse_a_model_without_the_layer_and_no_images():
    model = nn.Sequential(nn.Linear(3, 2))
    with pytest.raises(ValueError, match="no BatchNorm2d layer"):
        response_stds(model, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="holds no image"):
        response_stds(nn.Sequential(nn.BatchNorm2d(2)), np.zeros((0, 2, 3, 3)))
