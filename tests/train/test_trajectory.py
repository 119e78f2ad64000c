"""An optimizer's path over a surface: the points gradient descent visits, and divergence."""

from __future__ import annotations

import numpy as np
import pytest

from neuralab.optim import SGD, Adam
from neuralab.train.trajectory import Point, trajectory


def test_gradient_descent_on_a_quadratic_follows_the_closed_form():
    # f = ½(x² + κy²): GD multiplies x by (1 − lr) and y by (1 − lr·κ) at every step.
    kappa, lr = 10.0, 0.05
    points, values = trajectory(lambda x, y: 0.5 * (x * x + kappa * (y * y)), (-4.0, 1.0),
                                lambda params: SGD(params, lr=lr), steps=20)
    k = np.arange(21)
    np.testing.assert_allclose(points[:, 0], -4.0 * (1 - lr) ** k, rtol=1e-12)
    np.testing.assert_allclose(points[:, 1], (1 - lr * kappa) ** k, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(values, 0.5 * (points[:, 0] ** 2 + kappa * points[:, 1] ** 2))


def test_a_diverging_run_stops_above_the_threshold():
    # lr·κ = 3 > 2: y triples in size and flips sign each step; f passes 1e6 after a few steps.
    points, values = trajectory(lambda x, y: 0.5 * (x * x + 10.0 * (y * y)), (0.0, 1.0),
                                lambda params: SGD(params, lr=0.4), steps=100, threshold=1e6)
    assert len(points) == len(values) < 101
    # The step taken from the first point above the threshold is the last one.
    assert values[-3] <= 1e6 < values[-2] < values[-1]


def test_any_number_of_coordinates_and_adam_reaches_the_minimum():
    points, values = trajectory(lambda a, b, c: (a - 1) ** 2 + (b + 2) ** 2 + c * c,
                                (0.0, 0.0, 3.0), lambda params: Adam(params, lr=0.1), steps=500)
    assert points.shape == (501, 3)
    np.testing.assert_allclose(points[-1], [1.0, -2.0, 0.0], atol=1e-2)
    assert values[-1] < 1e-3


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="trajectory: steps must be a positive integer"):
        trajectory(lambda x: x * x, (1.0,), lambda params: SGD(params, lr=0.1), steps=0)
    with pytest.raises(TypeError, match="Point: f must be a function"):
        Point(3.0, (1.0,))
    with pytest.raises(ValueError, match="Point: start must be a sequence of coordinates"):
        Point(lambda x: x, ())
