"""``neuralab.accelerator``: PyTorch's device-agnostic accelerator queries, for a CPU library.

PyTorch 2.6+ programs pick their device with
``torch.accelerator.current_accelerator() if torch.accelerator.is_available() else "cpu"``;
here there is no accelerator, so they pick the CPU.
"""

from __future__ import annotations

from typing import Any

from neuralab.devices import NO_GPU

__all__ = ["current_accelerator", "current_device_index", "device_count", "is_available",
           "synchronize"]


def is_available() -> bool:
    """False: neuralab computes on the CPU."""
    return False


def device_count() -> int:
    """0: there is no accelerator."""
    return 0


def current_accelerator(check_available: bool = False) -> None:
    """None: there is no accelerator (PyTorch returns None too when it has none)."""
    return None


def current_device_index() -> int:
    """Raises: there is no accelerator device."""
    raise RuntimeError(NO_GPU.format(kind="accelerator"))


def synchronize(device: Any = None) -> None:
    """Does nothing: CPU work is synchronous."""
