"""Figures without a display: matplotlib's ``subplots`` on the Agg backend, imported lazily.

A leaf utility (it imports nothing of neuralab), so that the diagnostics' plots and the
experiments' figures share it without a higher layer being imported by a lower one. matplotlib
is an optional dependency (the ``train`` extra) and is imported only when a figure is drawn.
"""

from __future__ import annotations

from typing import Any

__all__ = ["subplots"]


def subplots(*args: Any, **kwargs: Any) -> Any:
    """``matplotlib.pyplot.subplots`` with the Agg backend (no display), imported lazily."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)
