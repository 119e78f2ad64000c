"""Whether operations record a graph for backward: ``no_grad`` and ``enable_grad``."""

from __future__ import annotations

import functools
import threading

_state = threading.local()


def is_enabled() -> bool:
    """True when new operations record the graph (the default)."""
    return getattr(_state, "enabled", True)


def set_enabled(mode: bool) -> None:
    _state.enabled = bool(mode)


class _GradMode:
    mode: bool

    def __enter__(self) -> None:
        self.previous = is_enabled()
        set_enabled(self.mode)

    def __exit__(self, *exc) -> None:
        set_enabled(self.previous)

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):  # noqa: N801  (PyTorch's name)
    """Context manager and decorator: operations inside record no graph (evaluation, updates).

    Example:
        >>> with neuralab.no_grad():
        ...     y = model(x)        # no graph kept, no memory spent on saved activations
    """

    mode = False


class enable_grad(_GradMode):  # noqa: N801
    """Context manager and decorator that turns graph recording back on inside ``no_grad``."""

    mode = True
