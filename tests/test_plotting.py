"""The figure helpers every experiment shares: the trailing moving average and its plot, image
grids, the finishing touches."""

from __future__ import annotations

import numpy as np
import pytest

from neuralab.plotting import moving_average, plot_smoothed, show_images, subplots, tidy_figure


def test_moving_average_is_trailing_and_starts_with_what_exists():
    assert moving_average([1.0, 3.0, 5.0, 7.0], 2) == [1.0, 2.0, 4.0, 6.0]
    assert moving_average([4.0, 2.0], 10) == [4.0, 3.0]
    assert moving_average([1.0, 2.0], 0) == [1.0, 2.0]  # a window under 1 means no smoothing
    assert moving_average([], 3) == []


def test_plot_smoothed_default_window_and_offset():
    pytest.importorskip("matplotlib")
    fig, ax = subplots()
    values = list(np.arange(30.0))
    window = plot_smoothed(ax, values, x0=5, label="loss")
    assert window == 2
    line = ax.get_lines()[0]
    np.testing.assert_array_equal(line.get_xdata(), np.arange(5, 35))
    np.testing.assert_allclose(line.get_ydata()[1:], np.arange(29.0) + 0.5)
    assert line.get_label() == "loss"


def test_tidy_figure_widens_plots_but_not_image_grids():
    pytest.importorskip("matplotlib")
    fig, axes = subplots(1, 4, figsize=(6, 2))
    for ax in axes:
        ax.plot([0, 1], [0, 1])
    tidy_figure(fig)
    assert fig.get_size_inches()[0] >= 4.2 * 4  # four plots side by side get room
    grid, cells = subplots(1, 6, figsize=(6, 1.2))
    for ax in cells:
        ax.imshow(np.zeros((5, 5)))
        ax.axis("off")
    tidy_figure(grid)
    assert grid.get_size_inches()[0] == pytest.approx(6)  # images keep the size they were given


def test_show_images_draws_in_order_and_blanks_the_rest():
    pytest.importorskip("matplotlib")
    fig, axes = subplots(2, 3)
    weights = [np.array([[1.0, -2.0], [0.5, 0.0]]), None, np.zeros((3, 3))]
    show_images(axes.ravel(), weights, ["a", "b", "c"], symmetric=True, cmap="gray")
    cells = axes.ravel()
    assert [len(ax.get_images()) for ax in cells] == [1, 0, 1, 0, 0, 0]
    assert not any(ax.axison for ax in cells)
    first = cells[0].get_images()[0]
    assert first.get_clim() == (-2.0, 2.0)  # symmetric about 0: zero is mid-grey
    assert cells[2].get_images()[0].get_clim() == (-1.0, 1.0)  # all zero: a unit scale
    assert first.get_interpolation() == "nearest" and first.get_cmap().name == "gray"
    assert [ax.get_title() for ax in cells[:3]] == ["a", "", "c"]
    colour = np.random.default_rng(0).random((4, 4, 3))
    fig, axes = subplots(1, 2)
    show_images(axes, [colour])
    np.testing.assert_array_equal(axes[0].get_images()[0].get_array(), colour)
    assert axes[0].get_title() == ""
