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


class set_grad_enabled(_GradMode):  # noqa: N801
    """Turn graph recording on or off: a call (``set_grad_enabled(False)``), or a context manager
    (``with set_grad_enabled(is_train):``) that restores the previous mode on exit."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self.previous = is_enabled()
        set_enabled(self.mode)

    def __enter__(self) -> None:
        pass  # the mode was set by the call

    def __call__(self, fn):
        mode = self.mode
        set_enabled(self.previous)  # used as a decorator: only inside the function

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class inference_mode(no_grad):  # noqa: N801
    """PyTorch's ``inference_mode``: here the same as ``no_grad``."""

    def __init__(self, mode: bool = True):
        self.mode = not mode
