"""The adding problem's sequences (Hochreiter & Schmidhuber, 1997)."""

from __future__ import annotations

import numpy as np
import pytest

from neuralab.data.datasets.adding import TRIVIAL_MSE, adding_problem


def test_adding_problem_targets_are_the_marked_sums():
    x, y = adding_problem(200, 30, np.random.default_rng(0))
    assert x.shape == (30, 200, 2) and y.shape == (200, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    markers = x[:, :, 1]
    assert (markers.sum(axis=0) == 1 + 1).all()
    assert (markers[:15].sum(axis=0) == 1).all()  # one marker in each half
    np.testing.assert_allclose((x[:, :, 0] * markers).sum(axis=0), y[:, 0], rtol=1e-6)
    # Predicting the mean sum scores Var(u1 + u2) = 1/6.
    _, big = adding_problem(20000, 10, np.random.default_rng(1))
    assert abs(float(((big - 1.0) ** 2).mean()) - 1 / 6) < 0.01 and TRIVIAL_MSE == 1 / 6
    with pytest.raises(ValueError, match="T must be at least 2"):
        adding_problem(4, 1, np.random.default_rng(0))
