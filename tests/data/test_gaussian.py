"""TwoGaussians: the Bayes error of two equal-covariance Gaussian classes is Φ(−Δ/2)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neuralab.data.datasets import TwoGaussians
from neuralab.data.datasets.gaussian import normal_cdf


def test_two_gaussians_bayes_error_is_analytic():
    task = TwoGaussians(dim=5, delta=2.0, seed=3)
    assert task.delta == pytest.approx(2.0, rel=1e-10)
    assert task.bayes_error == pytest.approx(0.15865525393145707, rel=1e-12)  # Φ(−1)
    assert normal_cdf(0.0) == 0.5
    # The Bayes rule's empirical error on many samples matches Φ(−Δ/2) within sampling noise.
    x, y = task.sample(200_000, np.random.default_rng(0))
    assert x.shape == (200_000, 5) and x.dtype == np.float32 and y.dtype == np.int64
    err = float((task.bayes_predict(x) != y).mean())
    se = math.sqrt(task.bayes_error * (1 - task.bayes_error) / len(y))
    assert abs(err - task.bayes_error) < 4 * se
    # ... and any other linear rule (here: ignoring the covariance) does worse.
    diff = task.mu[1] - task.mu[0]
    naive = ((x - task.mu.mean(0)) @ diff > 0).astype(np.int64)
    assert float((naive != y).mean()) > err
    # Each class's sample covariance is Σ.
    np.testing.assert_allclose(np.cov(x[y == 1].T), task.cov, atol=0.05)


def test_two_gaussians_rejects_bad_arguments():
    with pytest.raises(ValueError, match="TwoGaussians: dim"):
        TwoGaussians(dim=0, delta=2.0, seed=0)
    with pytest.raises(ValueError, match="TwoGaussians: delta"):
        TwoGaussians(dim=3, delta=0.0, seed=0)
