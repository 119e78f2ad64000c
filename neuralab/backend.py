"""The array backend: every array operation in neuralab goes through ``xp``.

NumPy today. Keeping the import in one place means a GPU array library with NumPy's interface
(CuPy, for instance) can stand in later by changing this module alone.
"""

from __future__ import annotations

from typing import Any

import numpy as xp  # noqa: F401  (re-exported: ``from neuralab.backend import xp``)

ndarray = xp.ndarray

#: The floating dtype new tensors start in: float32, as in PyTorch (float64 for gradient checks).
#: ``neuralab.set_default_dtype`` changes what ``default_float_dtype()`` returns; this constant
#: stays float32 for the data pipeline (images become float32 whatever the default, as in
#: torchvision).
default_float = xp.float32
_default_float = xp.dtype(xp.float32)


def default_float_dtype() -> xp.dtype:
    """The current default floating dtype (see ``neuralab.set_default_dtype``)."""
    return _default_float


def set_default_float(dtype: xp.dtype) -> None:
    """Set the default floating dtype (``neuralab.set_default_dtype`` validates it)."""
    global _default_float
    _default_float = xp.dtype(dtype)

_initial_seed = int(xp.random.SeedSequence().generate_state(1, xp.uint64)[0])
_generator = xp.random.default_rng(_initial_seed)


def manual_seed(seed: int) -> None:
    """Seed neuralab's random number generator (weights, dropout masks, ``randn``, shuffling).

    Args:
        seed: a non-negative integer.
    """
    global _generator, _initial_seed
    if not isinstance(seed, (int, xp.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    _initial_seed = int(seed)
    _generator = xp.random.default_rng(_initial_seed)


def initial_seed() -> int:
    """The seed the global generator was last seeded with (``manual_seed`` or ``seed``)."""
    return _initial_seed


def seed() -> int:
    """Reseed the global generator from fresh OS entropy; returns the new seed."""
    new = int(xp.random.SeedSequence().generate_state(1, xp.uint64)[0])
    manual_seed(new)
    return new


# The global generator's state as bytes: PCG64's 128-bit state and increment, its cached 32-bit
# half-word (flag and value) and the initial seed, little-endian.
STATE_SIZE = 16 + 16 + 1 + 4 + 8


def get_state() -> bytes:
    """The global generator's state (``set_state`` restores it)."""
    state = _generator.bit_generator.state
    return (state["state"]["state"].to_bytes(16, "little")
            + state["state"]["inc"].to_bytes(16, "little")
            + int(state["has_uint32"]).to_bytes(1, "little")
            + int(state["uinteger"]).to_bytes(4, "little")
            + _initial_seed.to_bytes(8, "little"))


def set_state(data: bytes) -> None:
    """Restore the global generator's state from ``get_state``'s bytes."""
    global _generator, _initial_seed
    if len(data) != STATE_SIZE:
        raise ValueError(f"set_rng_state: expected a state of {STATE_SIZE} bytes (from "
                         f"get_rng_state), got {len(data)}")
    generator = xp.random.Generator(xp.random.PCG64())
    generator.bit_generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": int.from_bytes(data[:16], "little"),
                  "inc": int.from_bytes(data[16:32], "little")},
        "has_uint32": data[32], "uinteger": int.from_bytes(data[33:37], "little"),
    }
    _generator, _initial_seed = generator, int.from_bytes(data[37:], "little")


def rng() -> xp.random.Generator:
    """The generator that every random draw in neuralab uses (reseeded by ``manual_seed``)."""
    return _generator


class Generator:
    """A random number generator object, as ``torch.Generator``: ``Generator().manual_seed(42)``.

    Passed as ``generator=`` to ``random_split``, the samplers and the DataLoader so that their
    draws do not depend on (or disturb) the global generator of ``manual_seed``. It wraps a NumPy
    ``Generator`` (``.rng``); a NumPy generator itself is accepted wherever this one is.

    Args:
        device: only "cpu" (accepted for PyTorch's signature).
    """

    def __init__(self, device: Any = "cpu"):
        if str(device) != "cpu":
            raise ValueError(f"Generator: neuralab runs on the CPU only, got device={device!r}")
        self._seed = int(_generator.integers(2**63 - 1))
        self.rng = xp.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        """Reseed; returns the generator itself (``Generator().manual_seed(0)``)."""
        if not isinstance(seed, (int, xp.integer)) or isinstance(seed, bool):
            raise ValueError(f"Generator.manual_seed: seed must be an integer, got {seed!r}")
        self._seed = int(seed) % 2**64
        self.rng = xp.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with."""
        return self._seed

    def seed(self) -> int:
        """Reseed from the global generator and return the new seed."""
        self.manual_seed(int(_generator.integers(2**63 - 1)))
        return self._seed


def as_rng(generator: Any) -> xp.random.Generator:
    """The NumPy generator behind ``generator=``: a ``Generator``, a NumPy generator, or None for
    neuralab's global generator."""
    if generator is None:
        return _generator
    if isinstance(generator, Generator):
        return generator.rng
    if isinstance(generator, xp.random.Generator):
        return generator
    raise TypeError(f"generator: expected neuralab.Generator, a numpy.random.Generator or None, "
                    f"got {type(generator).__name__}")
