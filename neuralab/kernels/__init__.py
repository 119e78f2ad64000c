"""Kernel sets: which implementation computes the heavy ops (convolution, pooling, batch norm,
cross-entropy, the recurrent layers).

Every such op is a ``Function`` in ``neuralab.ops`` whose forward and backward are the lecture's
equations written out plainly (im2col and one matrix product, the batch-norm formulas with x̂,
the six LSTM equations, (p − y)/N): that is the **reference** kernel set, the code a learner
reads and the oracle the tests compare everything else with. The **fast** kernel set lives in
this package, one module per op family (``kernels.conv``, ``kernels.norm``, ``kernels.pool``,
``kernels.loss``, ``kernels.recurrent``, and ``kernels.elementwise`` for the residual sum and
ReLU): memory layouts, cache blocking, threads and buffer reuse, tested against the reference
on the shapes and layouts it specialises for.

The choice is explicit and global to the process::

    nl.set_kernels("reference")        # every op computes the lecture's way
    nl.get_kernels()                   # -> "reference"
    with nl.use_kernels("fast"):       # for a block, then back to what it was
        ...

The default is ``"fast"``. An op records which set ran its forward, so its backward always
matches its forward even if the set changes in between. A GPU array library would add its own
kernel set here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["KERNEL_SETS", "get_kernels", "set_kernels", "use_kernels", "fast"]

#: The kernel sets there are: the lecture's code in ``neuralab.ops``, and this package's.
KERNEL_SETS = ("fast", "reference")


class _Choice:
    """The active kernel set (one per process, like ``set_num_threads``)."""

    name = "fast"


_choice = _Choice()


def set_kernels(name: str) -> str:
    """Choose the kernel set for every heavy op from now on; returns the previous choice.

    Args:
        name: ``"fast"`` (layouts, blocking, threads: ``neuralab.kernels``) or ``"reference"``
            (the lecture's code in each op's Function in ``neuralab.ops``).
    """
    if name not in KERNEL_SETS:
        raise ValueError(f"set_kernels: name must be one of {', '.join(map(repr, KERNEL_SETS))}, "
                         f"got {name!r}")
    previous, _choice.name = _choice.name, name
    return previous


def get_kernels() -> str:
    """The active kernel set: ``"fast"`` or ``"reference"``."""
    return _choice.name


@contextmanager
def use_kernels(name: str) -> Iterator[str]:
    """``with use_kernels("reference"): ...`` runs the block with that kernel set, then restores."""
    previous = set_kernels(name)
    try:
        yield name
    finally:
        set_kernels(previous)


def fast() -> bool:
    """Whether the fast kernel set is active (what an op's forward asks before it dispatches)."""
    return _choice.name == "fast"
