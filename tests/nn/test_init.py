"""Initializers: gains and fans against PyTorch, and sample statistics against the formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn as nn
from neuralab.nn import init


@pytest.mark.parametrize(("name", "param"), [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
    ("conv_transpose2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None),
])
def test_calculate_gain_matches_pytorch(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param), rel=1e-12)


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "x")


@pytest.mark.parametrize("shape", [(3, 5), (6, 4, 5, 5), (8, 2, 3)])
def test_fans_match_pytorch(shape):
    assert init._calculate_fan_in_and_fan_out(nl.zeros(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(nl.zeros(4))


SHAPE = (256, 128, 3, 3)  # a conv weight: fan_in = 1152, fan_out = 2304
FAN_IN, FAN_OUT = 128 * 9, 256 * 9


@pytest.mark.parametrize(("fill", "std", "bound"), [
    (lambda t: init.xavier_uniform_(t, gain=2.0), 2 * math.sqrt(2 / (FAN_IN + FAN_OUT)),
     2 * math.sqrt(6 / (FAN_IN + FAN_OUT))),
    (lambda t: init.xavier_normal_(t), math.sqrt(2 / (FAN_IN + FAN_OUT)), None),
    (lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2 / FAN_IN),
     math.sqrt(6 / FAN_IN)),
    (lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), 1 / math.sqrt(3 * FAN_IN),
     1 / math.sqrt(FAN_IN)),
    (lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
     math.sqrt(2 / FAN_OUT), None),
    (lambda t: init.kaiming_normal_(t, a=0.1), math.sqrt(2 / (1.01 * FAN_IN)), None),
    (lambda t: init.normal_(t, 0.5, 0.02), 0.02, None),
    (lambda t: init.uniform_(t, -0.3, 0.3), 0.3 / math.sqrt(3), 0.3),
    (lambda t: init.trunc_normal_(t, std=0.5, a=-1, b=1), 0.5 * 0.8796, 1.0),
])
def test_random_initializers_follow_their_formulas(fill, std, bound):
    nl.manual_seed(0)
    w = nn.Parameter(nl.zeros(*SHAPE))
    data = w.array
    out = fill(w)
    assert out is w and w.array is data and w.dtype == np.float32  # in place
    assert w.requires_grad and w.grad is None and w.is_leaf
    values = w.numpy().astype(np.float64)
    assert abs(values.std() - std) < 0.01 * std  # ~300k samples: the std is within 1%
    if bound is not None:
        assert np.abs(values).max() <= bound * (1 + 1e-6)  # every bounded case has mean 0
        assert np.abs(values).max() > 0.99 * bound


def test_constant_initializers_and_eye():
    w = nl.zeros(3, 4)
    assert np.all(init.ones_(w).numpy() == 1)
    assert np.all(init.constant_(w, 0.25).numpy() == 0.25)
    assert np.all(init.zeros_(w).numpy() == 0)
    np.testing.assert_array_equal(init.eye_(w).numpy(), np.eye(3, 4))
    with pytest.raises(TypeError, match="expected a Tensor"):
        init.zeros_(np.zeros(3))
    with pytest.raises(ValueError, match="mode must be"):
        init.kaiming_normal_(w, mode="fan_avg")


@pytest.mark.parametrize("shape", [(5, 8), (8, 5), (6, 6), (4, 2, 3, 3)])
def test_orthogonal_gives_orthonormal_rows_or_columns(shape):
    w = init.orthogonal_(nl.zeros(*shape, dtype=np.float64), gain=1.5)
    flat = w.numpy().reshape(shape[0], -1)
    gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(gram, 2.25 * np.eye(gram.shape[0]), atol=1e-10)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(nl.zeros(3))


def test_initializers_are_reproducible_with_manual_seed():
    nl.manual_seed(3)
    a = init.kaiming_normal_(nl.zeros(10, 10)).numpy().copy()
    nl.manual_seed(3)
    b = init.kaiming_normal_(nl.zeros(10, 10)).numpy()
    np.testing.assert_array_equal(a, b)


def test_spectral_normal_sets_the_spectral_radius():
    w = init.spectral_normal_(nl.zeros(16, 16), 2.5, generator=np.random.default_rng(3))
    assert w.numpy().dtype == np.float32
    radius = np.abs(np.linalg.eigvals(w.numpy().astype(np.float64))).max()
    assert radius == pytest.approx(2.5, rel=1e-5)
    again = init.spectral_normal_(nl.zeros(16, 16), 2.5, generator=np.random.default_rng(3))
    np.testing.assert_array_equal(w.numpy(), again.numpy())
    nl.manual_seed(0)  # without a generator: neuralab's, reseeded by manual_seed
    assert np.abs(np.linalg.eigvals(init.spectral_normal_(nl.zeros(8, 8), 0.5).numpy())).max() \
        == pytest.approx(0.5, rel=1e-5)
    with pytest.raises(ValueError, match="square"):
        init.spectral_normal_(nl.zeros(4, 5))
    with pytest.raises(ValueError, match="positive"):
        init.spectral_normal_(nl.zeros(4, 4), 0.0)
