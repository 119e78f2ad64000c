"""Anomaly detection, as ``torch.autograd.detect_anomaly``: with ``check_nan`` on, the backward
pass raises as soon as an op's backward returns a gradient containing NaN, naming the op
(``Function 'DivBackward0' returned nan values in its 0th output.``)."""

from __future__ import annotations

import functools
import warnings
from typing import Any

_state = {"enabled": False, "check_nan": True}


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on."""
    return _state["enabled"]


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection checks the backward gradients for NaN."""
    return _state["check_nan"]


def check_gradients(ctx: Any, grads: tuple) -> None:
    """Called by the engine after each backward while anomaly detection is on."""
    if not (_state["enabled"] and _state["check_nan"]):
        return
    from neuralab.backend import xp

    for i, grad in enumerate(grads):
        if grad is not None and xp.asarray(grad).dtype.kind in "fc" and xp.isnan(grad).any():
            raise RuntimeError(f"Function '{ctx.name()}' returned nan values in its {i}th "
                               "output.")


class _Mode:
    def __init__(self, enabled: bool, check_nan: bool):
        self._new = (bool(enabled), bool(check_nan))
        self._old = (_state["enabled"], _state["check_nan"])

    def __enter__(self) -> None:
        _state["enabled"], _state["check_nan"] = self._new

    def __exit__(self, *exc: Any) -> None:
        _state["enabled"], _state["check_nan"] = self._old

    def __call__(self, fn: Any) -> Any:
        @functools.wraps(fn)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with self.__class__(*self._new):
                return fn(*args, **kwargs)

        return wrapped


class detect_anomaly(_Mode):  # noqa: N801  (PyTorch's name)
    """Context manager (or decorator) turning anomaly detection on; with ``check_nan`` a NaN
    gradient returned by an op's backward raises a RuntimeError naming the op."""

    def __init__(self, check_nan: bool = True):
        super().__init__(True, check_nan)

    def __enter__(self) -> None:
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", UserWarning, stacklevel=2)
        super().__enter__()


class set_detect_anomaly(_Mode):  # noqa: N801  (PyTorch's name)
    """Turn anomaly detection on or off: at once (``set_detect_anomaly(True)``) or for a
    ``with`` block, restoring the previous setting after it."""

    def __init__(self, mode: bool, check_nan: bool = True):
        super().__init__(mode, check_nan)
        _state["enabled"], _state["check_nan"] = self._new
