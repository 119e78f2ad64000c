"""One progress display for every long piece of work: training, evaluation, decoding images,
downloads, checking gradients.

``progress(iterable, total=..., desc=...)`` wraps an iterable (or counts by hand with
``update(n)``) and draws a bar on standard error only when it is a terminal: a log file or a
pipe would otherwise fill with carriage returns, so redirected output stays quiet. tqdm draws the
bar when it is installed (the optional ``[train]`` extra); without it a one-line text bar does,
so the core works with NumPy alone. ``NEURALAB_PROGRESS=0`` turns every bar off, ``=1`` forces
them on even when standard error is not a terminal.

This module imports nothing from neuralab, so every layer (data loaders, diagnostics, the
training loop) can use it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any

__all__ = ["Progress", "progress", "progress_enabled"]


def progress_enabled(enabled: bool | None = True, stream: IO | None = None) -> bool:
    """Whether a bar should be drawn: ``enabled`` is not False, ``$NEURALAB_PROGRESS`` allows it
    and ``stream`` (standard error by default) is a terminal (or ``NEURALAB_PROGRESS=1``)."""
    if enabled is False:
        return False
    setting = os.environ.get("NEURALAB_PROGRESS", "").strip().lower()
    if setting in ("0", "false", "no", "off"):
        return False
    if setting in ("1", "true", "yes", "on"):
        return True
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)  # file-like objects from outside neuralab
    return bool(isatty and isatty())


class Progress:
    """A progress bar over ``iterable`` (or counted by ``update``); silent when disabled.

    Args:
        iterable: what to iterate over, or None to count with ``update(n)``.
        total: the number of steps (``len(iterable)`` when it has one).
        desc: a label such as ``"decoding 9,144 images"``.
        unit: the name of one step (``"img"``, ``"batch"``, ``"B"``).
        enabled: False never draws; True or None draw when ``progress_enabled`` says so.
        stream: where to draw (standard error by default).
        unit_scale: show large counts as 1.2k / 3.4M (for bytes).
        leave: keep the finished bar on screen.
    """

    def __init__(self, iterable: Iterable | None = None, total: int | None = None,
                 desc: str = "", unit: str = "it", enabled: bool | None = True,
                 stream: IO | None = None, unit_scale: bool = False, leave: bool = False):
        self.iterable = iterable
        if total is None and iterable is not None:
            try:
                total = len(iterable)  # type: ignore[arg-type]
            except TypeError:
                total = None
        self.total, self.desc, self.unit = total, desc, unit
        self.stream = sys.stderr if stream is None else stream
        self.count = 0
        self.postfix = ""
        self._bar: Any = None
        self._text = False
        self._start = time.perf_counter()
        self._last_draw = 0.0
        self.enabled = progress_enabled(enabled, self.stream)
        if not self.enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:  # tqdm is optional: fall back to the text bar below
            tqdm = None
        if tqdm is not None:
            self._bar = tqdm(total=total, desc=desc, leave=leave, file=self.stream,
                             dynamic_ncols=True, mininterval=0.5, unit=unit,
                             unit_scale=unit_scale)
        else:
            self._text = True
            self._leave = leave

    def __iter__(self) -> Iterator:
        if self.iterable is None:
            raise TypeError("Progress: nothing to iterate over; call update(n) instead")
        try:
            for item in self.iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        """Advance by ``n`` steps."""
        self.count += n
        if self._bar is not None:
            self._bar.update(n)
        elif self._text:
            now = time.perf_counter()
            if now - self._last_draw >= 0.5 or (self.total and self.count >= self.total):
                self._last_draw = now
                self._draw(now)

    def set_postfix(self, **values: Any) -> None:
        """Numbers shown after the bar (a loss, an accuracy)."""
        text = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in values.items())
        self.postfix = text
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)

    def _draw(self, now: float) -> None:
        rate = self.count / max(now - self._start, 1e-9)
        if self.total:
            share = min(1.0, self.count / self.total)
            bar = "#" * int(20 * share) + "-" * (20 - int(20 * share))
            line = f"{self.desc}: [{bar}] {self.count}/{self.total} ({rate:.1f} {self.unit}/s)"
        else:
            line = f"{self.desc}: {self.count} {self.unit} ({rate:.1f} {self.unit}/s)"
        if self.postfix:
            line += f" {self.postfix}"
        self.stream.write("\r" + line[:119].ljust(119))
        self.stream.flush()

    def close(self) -> None:
        """Remove the bar (or leave it, with ``leave=True``)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._text:
            self._text = False
            if self._leave:
                self._draw(time.perf_counter())
                self.stream.write("\n")
            else:
                self.stream.write("\r" + " " * 119 + "\r")
            self.stream.flush()


def progress(iterable: Iterable | None = None, total: int | None = None, desc: str = "",
             unit: str = "it", enabled: bool | None = True, **options: Any) -> Progress:
    """A :class:`Progress` bar (see there); ``for x in progress(items, desc="decoding")``."""
    return Progress(iterable, total=total, desc=desc, unit=unit, enabled=enabled, **options)
