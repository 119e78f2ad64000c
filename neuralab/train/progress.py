"""Progress display of the training loop: one bar per epoch with loss, accuracy and throughput.

A thin layer over :mod:`neuralab.progress` (the one progress helper every module uses): silent
when progress is turned off or standard error is not a terminal; tqdm draws the bar when it is
installed, a text line otherwise. The end-of-epoch summary lines are printed by the training
loop either way.
"""

from __future__ import annotations

from collections.abc import Iterable

from neuralab.progress import Progress

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
        self._bar = Progress(None, total=total, desc=desc, unit="batch", enabled=enabled)

    def __iter__(self):
        for item in self.iterable:
            yield item
            self._count += 1
            self._bar.update(1)

    def update(self, **metrics: float) -> None:
        if self._bar.enabled and self._count % self.every == 0:
            self._bar.set_postfix(**{k: float(v) for k, v in metrics.items()})

    def close(self) -> None:
        self._bar.close()
