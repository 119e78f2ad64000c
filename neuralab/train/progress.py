"""Progress display: a tqdm bar per epoch with loss, accuracy and throughput.

Falls back to silence when tqdm is missing, when progress is turned off, or when stderr is not
a terminal (a log file would fill with carriage returns); the end-of-epoch summary lines are
printed by the training loop either way.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

__all__ = ["ProgressBar"]


class ProgressBar:
    """Wraps an iterable of batches; ``update(**metrics)`` refreshes the postfix now and then.

    Args:
        iterable: the batches.
        total: number of batches.
        desc: label, e.g. ``"epoch 3/10"``.
        enabled: show the bar.
        every: refresh the numbers every this many batches (formatting them costs time).
    """

    def __init__(self, iterable: Iterable, total: int | None = None, desc: str = "",
                 enabled: bool = True, every: int = 25):
        self.iterable, self.every, self._count = iterable, max(1, every), 0
        self._bar: Any = None
        if enabled and getattr(sys.stderr, "isatty", lambda: False)():
            try:
                from tqdm.auto import tqdm
            except ImportError:  # tqdm is an optional dependency (the [train] extra)
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=total, desc=desc, leave=False, file=sys.stderr,
                                 dynamic_ncols=True, mininterval=0.5, unit="batch")

    def __iter__(self):
        for item in self.iterable:
            yield item
            self._count += 1
            if self._bar is not None:
                self._bar.update(1)

    def update(self, **metrics: float) -> None:
        if self._bar is not None and self._count % self.every == 0:
            self._bar.set_postfix({k: f"{v:.4g}" for k, v in metrics.items()}, refresh=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
