"""``neuralab.cuda``: PyTorch's CUDA queries, answered for a CPU-only library.

``is_available()`` is False and ``device_count()`` is 0, so the usual
``device = "cuda" if torch.cuda.is_available() else "cpu"`` picks the CPU. Seeding functions
do nothing, as PyTorch's do when there is no GPU.
"""

from __future__ import annotations

from typing import Any

from neuralab.devices import NO_GPU

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all", "current_device",
           "synchronize", "empty_cache"]


def is_available() -> bool:
    """False: neuralab computes on the CPU."""
    return False


def device_count() -> int:
    """0: there are no CUDA devices for neuralab."""
    return 0


def manual_seed(seed: int) -> None:
    """Does nothing (PyTorch silently ignores it without a GPU too); seed with
    ``neuralab.manual_seed``."""


def manual_seed_all(seed: int) -> None:
    """Does nothing, like :func:`manual_seed`."""


def synchronize(device: Any = None) -> None:
    """Does nothing: CPU work is synchronous."""


def empty_cache() -> None:
    """Does nothing: there is no GPU memory cache."""


def current_device() -> int:
    """Raises: there is no CUDA device."""
    raise RuntimeError(NO_GPU.format(kind="cuda"))
