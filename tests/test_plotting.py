"""The figure helpers every experiment shares: the trailing moving average and its plot, image
grids, the finishing touches, decision regions, groups of bars."""

from __future__ import annotations

import numpy as np
import pytest

from neuralab.plotting import (
    bar_groups,
    moving_average,
    plot_decision_regions,
    plot_smoothed,
    show_images,
    subplots,
    tidy_figure,
)


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


def test_decision_regions_shade_the_positive_side_and_draw_the_boundary():
    pytest.importorskip("matplotlib")
    fig, ax = subplots()
    seen = []

    def decision(points):  # the line x + y = 1
        seen.append(points.shape)
        return points[:, 0] + points[:, 1] - 1.0

    plot_decision_regions(ax, decision, (0.0, 1.0), (0.0, 2.0), resolution=11)
    assert seen == [(121, 2)]  # one call on the whole grid
    assert len(ax.collections) == 2  # the shaded regions, then the boundary
    # The boundary's one level is s = 0; its vertices lie on x + y = 1.
    vertices = np.concatenate([path.vertices for path in ax.collections[1].get_paths()])
    np.testing.assert_allclose(vertices.sum(axis=1), 1.0, atol=1e-9)
    assert ax.get_xlim() == (0.0, 1.0) and ax.get_ylim() == (0.0, 2.0)


def test_bar_groups_place_each_series_side_by_side():
    pytest.importorskip("matplotlib")
    fig, ax = subplots()
    bar_groups(ax, ["w1", "b1"], {"A": [1.0, 2.0], "B": [3.0, 4.0], "C": [5.0, 6.0]},
               width=0.9)
    bars = ax.patches
    assert [b.get_height() for b in bars] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    centres = [b.get_x() + b.get_width() / 2 for b in bars]
    np.testing.assert_allclose(centres, [-0.3, 0.7, 0.0, 1.0, 0.3, 1.3])
    assert all(b.get_width() == pytest.approx(0.3) for b in bars)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["w1", "b1"]
    assert ax.get_legend_handles_labels()[1] == ["A", "B", "C"]
    with pytest.raises(ValueError, match="bar_groups: series 'A' has 1 values for 2 groups"):
        bar_groups(ax, ["w1", "b1"], {"A": [1.0]})
