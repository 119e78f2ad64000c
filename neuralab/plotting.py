"""Figures without a display: matplotlib's ``subplots`` on the Agg backend, imported lazily.

A leaf utility (it imports nothing of neuralab but the array backend), so that the diagnostics'
plots and the experiments' figures share it without a higher layer being imported by a lower
one. matplotlib is an optional dependency (the ``train`` extra) and is imported only when a
figure is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from neuralab.backend import xp

__all__ = ["bar_groups", "colors", "moving_average", "plot_decision_regions", "plot_smoothed",
           "show_images", "subplots", "tidy_figure"]


def subplots(*args: Any, **kwargs: Any) -> Any:
    """``matplotlib.pyplot.subplots`` with the Agg backend (no display), imported lazily."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def moving_average(values: Any, window: int) -> list[float]:
    """Trailing moving average over ``window`` values (the first points average what exists so
    far): noisy mini-batch losses become readable curves."""
    out, total, window = [], 0.0, max(1, int(window))
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def plot_smoothed(ax: Any, values: Any, window: int | None = None, x0: int = 0,
                  **style: Any) -> int:
    """Plot one value per step (the first at step ``x0``) as its trailing moving average over
    ``window`` steps (default: a fifteenth of the curve); returns the window used."""
    window = max(1, len(values) // 15 if window is None else int(window))
    ax.plot(range(x0, x0 + len(values)), moving_average(values, window), **style)
    return window


def show_images(axes: Any, images: Any, titles: Any = (), symmetric: bool = False,
                fontsize: int = 8, **imshow: Any) -> None:
    """Draw one image per axes, in order, without ticks or frames: filters, feature maps,
    examples of a data set.

    Args:
        axes: the axes, in order (a grid's ``axes.ravel()``); those without an image are blanked.
        images: 2-D arrays (grey or one channel, drawn with ``cmap``) or (H, W, 3) colour images;
            None leaves its axes blank.
        titles: one title per image (fewer: the rest untitled).
        symmetric: draw each image on its own scale symmetric about 0, from −max|v| to max|v|
            (filters and weights, whose sign matters: with ``cmap="gray"`` zero is mid-grey),
            without smoothing between pixels.
        fontsize: the titles' font size.
        **imshow: passed to ``Axes.imshow`` (``cmap``...).
    """
    images, titles = list(images), list(titles)
    for k, ax in enumerate(axes):
        ax.set_axis_off()
        if k >= len(images) or images[k] is None:
            continue
        if symmetric:
            m = float(abs(images[k]).max()) or 1.0
            imshow = {**imshow, "vmin": -m, "vmax": m, "interpolation": "nearest"}
        ax.imshow(images[k], **imshow)
        if k < len(titles):
            ax.set_title(titles[k], fontsize=fontsize)


def tidy_figure(fig: Any) -> None:
    """The finishing touches every experiment figure gets before it is saved.

    * log axes spanning a decade or more label the decades only (the minor ticks'
      ``2x10^4 3x10^4`` collide);
    * an axis labelled "epoch" or "step" gets integer ticks (no epoch 1.5);
    * an axis labelled in percent whose data lie in [0, 100] stops at 0 and 100 (no 102%);
    * point labels (annotations) are never clipped: the axes get a margin around them;
    * labelled artists without a legend get one (twin axes share one legend);
    * three or more plots side by side get at least 4.2 inches (about 460 px) each (image
      grids, whose axes are off, keep their size).
    """
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

    # Image grids (axes switched off) keep their size: only plots need the width.
    columns = len({round(ax.get_position().x0, 3) for ax in fig.axes
                   if ax.get_visible() and ax.axison})
    width, height = fig.get_size_inches()
    if columns >= 3 and width < 4.2 * columns:  # side-by-side panels each at least ~460 px
        fig.set_size_inches(4.2 * columns, height)
    twins = {}
    for ax in fig.axes:
        for axis, scale, label in ((ax.xaxis, ax.get_xscale(), ax.get_xlabel()),
                                   (ax.yaxis, ax.get_yscale(), ax.get_ylabel())):
            if scale == "log":
                low, high = ax.get_xlim() if axis is ax.xaxis else ax.get_ylim()
                decades = math.log10(high / low) if 0 < low < high else 0.0
                if decades >= 2.5:  # many decades: label the decades only
                    axis.set_minor_formatter(NullFormatter())
                elif decades >= 1:  # one or two decades: the decades, and 2 and 5 between them
                    axis.set_minor_formatter(FuncFormatter(_two_and_five))
                # (Under a decade matplotlib labels 3x10^0 4x10^0 6x10^0: the only labels.)
            elif label.lower().startswith(("epoch", "step", "training step")):
                axis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 2.5, 5, 10]))
        if any(type(t).__name__ == "Annotation" for t in ax.texts):
            for text in ax.texts:
                text.set_clip_on(False)
            ax.margins(x=0.15, y=0.1)
            ax.autoscale_view()
        if "%" in ax.get_ylabel() and ax.get_yscale() == "linear":
            low, high = ax.get_ylim()
            values = [v for line in ax.get_lines() for v in line.get_ydata()]
            values += [p.get_height() for p in ax.patches if hasattr(p, "get_height")]
            if values and 0 <= min(values) and max(values) <= 100:
                ax.set_ylim(max(low, 0.0), min(high, 100.0))
        shared = ax.get_shared_x_axes().get_siblings(ax)
        twins.setdefault(id(min(shared, key=id)), []).append(ax)
    shown = {text.get_text() for ax in fig.axes if ax.get_legend() is not None
             for text in ax.get_legend().get_texts()}
    for group in twins.values():
        labels = {lab for a in group for lab in a.get_legend_handles_labels()[1]}
        if labels and labels <= shown and all(a.get_legend() is None for a in group):
            continue  # another panel's legend already names these lines
        if len(group) > 1 and not any(a.get_position().bounds != group[0].get_position().bounds
                                      for a in group):
            handles = [(h, lab) for a in group for h, lab in zip(*a.get_legend_handles_labels())]
        else:
            for a in group:
                _legend_if_missing([a], list(zip(*a.get_legend_handles_labels())))
            continue
        _legend_if_missing(group, handles)


def _legend_if_missing(group: list, handles: list) -> None:
    """One legend on the first axes of ``group`` when labelled artists have none (not where
    the points carry their own labels)."""
    if any(type(t).__name__ == "Annotation" for a in group for t in a.texts):
        return
    if not handles or any(a.get_legend() is not None for a in group):
        if handles and len(group) > 1:  # a twin has its own legend: merge them into one
            for a in group:
                if a.get_legend() is not None:
                    a.get_legend().remove()
            group[-1].legend(*zip(*handles), fontsize=8)
        return
    group[-1].legend(*zip(*handles), fontsize=8)


def _two_and_five(value: float, position: Any = None) -> str:
    """Label a minor tick of a log axis only at 2 and 5 times a power of ten."""
    exponent = math.floor(math.log10(value) + 1e-9)
    mantissa = round(value / 10 ** exponent)
    return f"${mantissa}\\times10^{{{exponent}}}$" if mantissa in (2, 5) else ""


def colors(n: int, name: str = "viridis") -> list:
    """``n`` colours spread evenly over the matplotlib colormap ``name`` (first to last)."""
    import matplotlib

    cmap = matplotlib.colormaps[name]
    return [cmap(i / max(1, n - 1)) for i in range(n)]


def plot_decision_regions(ax: Any, decision: Callable[[Any], Any], xlim: tuple[float, float],
                          ylim: tuple[float, float], resolution: int = 201,
                          region_colors: tuple[str, str] = ("#cfe2ff", "#ffd8cc")) -> None:
    """Shade where a binary classifier of the plane predicts 1 and draw its decision boundary.

    A classifier thresholds a score: y = [s(x) > 0] (a linear unit's s = w·x + b, Lecture 3;
    a network's logit). The boundary is the level set s(x) = 0: a straight line for a linear
    unit, any curve for a network with a hidden layer (Lecture 5's XOR).

    Args:
        ax: the matplotlib axes.
        decision: the score s of a batch of points, an array (N, 2) -> (N,).
        xlim, ylim: the square of the plane to draw.
        resolution: grid points per side.
        region_colors: the colours of the regions predicted 0 and 1.
    """
    gx, gy = xp.meshgrid(xp.linspace(*xlim, resolution), xp.linspace(*ylim, resolution))
    z = xp.asarray(decision(xp.stack([gx.ravel(), gy.ravel()], axis=1))).reshape(gx.shape)
    ax.contourf(gx, gy, (z > 0).astype(float), levels=[-0.5, 0.5, 1.5], colors=region_colors,
                alpha=0.9)
    ax.contour(gx, gy, z, levels=[0.0], colors="k", linewidths=1.5)


def bar_groups(ax: Any, groups: Sequence[str], series: dict[str, Sequence[float]],
               width: float = 0.8) -> None:
    """One group of side-by-side bars per entry of ``groups``, one bar per series (labelled
    for the legend): ``bar_groups(ax, ["w1", "b1"], {"method A": [..], "method B": [..]})``.

    Args:
        ax: the matplotlib axes.
        groups: the group names under the x axis.
        series: each series' label and its value in every group.
        width: the width of a whole group (the bars share it).
    """
    bar = width / max(1, len(series))
    for j, (label, values) in enumerate(series.items()):
        if len(values) != len(groups):
            raise ValueError(f"bar_groups: series {label!r} has {len(values)} values for "
                             f"{len(groups)} groups")
        ax.bar([i + bar * (j - (len(series) - 1) / 2) for i in range(len(groups))], values,
               width=bar, label=label)
    ax.set_xticks(range(len(groups)), list(groups))
