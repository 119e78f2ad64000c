"""Whether operations record a graph for backward: ``no_grad`` and ``enable_grad``."""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    enabled = True
    inference = False  # inside inference_mode(): new tensors are inference tensors


_state = _State()


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


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()`` (``torch.is_inference_mode_enabled``)."""
    return _state.inference


class inference_mode(_GradMode):  # noqa: N801
    """Context manager and decorator for evaluation: no graph is recorded, as in ``no_grad``,
    and the tensors made inside answer ``is_inference()`` with True.

    ``inference_mode(False)`` turns it off again inside (and turns graph recording on, as in
    PyTorch). Used bare as a decorator (``@inference_mode``) or called (``@inference_mode()``).
    Unlike PyTorch, neuralab lets an inference tensor into a later graph (as a constant).
    """

    def __new__(cls, mode=True):  # noqa: ANN001, ANN204
        if callable(mode):  # @inference_mode without parentheses
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True):
        self.inference = bool(mode)
        self.mode = not self.inference

    def __enter__(self) -> None:
        self.previous = is_enabled()
        self.previous_inference = _state.inference
        set_enabled(self.mode)
        _state.inference = self.inference

    def __exit__(self, *exc) -> None:
        set_enabled(self.previous)
        _state.inference = self.previous_inference

    def __call__(self, fn):
        inference = self.inference

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(inference):
                return fn(*args, **kwargs)

        return wrapper
