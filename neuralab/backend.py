"""The array backend: every array operation in neuralab goes through ``xp``.

NumPy today. Keeping the import in one place means a GPU array library with NumPy's interface
(CuPy, for instance) can stand in later by changing this module alone.
"""

from __future__ import annotations

import numpy as xp  # noqa: F401  (re-exported: ``from neuralab.backend import xp``)

ndarray = xp.ndarray

#: The default floating dtype: float32, as in PyTorch. float64 is used for gradient checks.
default_float = xp.float32

_generator = xp.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed neuralab's random number generator (weights, dropout masks, ``randn``, shuffling).

    Args:
        seed: a non-negative integer.
    """
    global _generator
    if not isinstance(seed, (int, xp.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    _generator = xp.random.default_rng(int(seed))


def rng() -> xp.random.Generator:
    """The generator that every random draw in neuralab uses (reseeded by ``manual_seed``)."""
    return _generator
