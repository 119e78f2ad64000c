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

The third set, **learner**, is the reference set with some ops computed by a learner's own code
(``neuralab exercise train``): ``use_learner({"conv2d": kernel})`` runs a block with it, and an
op asks ``learner("conv2d")`` for that kernel. A learner kernel has the fast kernel's functions
for the op (``conv2d_forward(ctx, ...)``, ``conv2d_backward(ctx, dout)``, same arguments, same
results); every op without one computes the lecture's way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

__all__ = ["KERNEL_SETS", "get_kernels", "set_kernels", "use_kernels", "fast", "learner",
           "use_learner", "LEARNER_OPS"]

#: The kernel sets there are: this package's, the lecture's code in ``neuralab.ops``, and the
#: lecture's code with some ops replaced by a learner's (``use_learner``).
KERNEL_SETS = ("fast", "reference", "learner")

#: The ops a learner kernel can stand in for (each op's Function asks ``learner(name)``).
LEARNER_OPS = ("linear", "sigmoid", "tanh", "relu", "cross_entropy", "dropout", "conv2d",
               "max_pool2d", "batch_norm", "rnn", "lstm")


class _Choice:
    """The active kernel set (one per process, like ``set_num_threads``)."""

    name = "fast"
    learner: Mapping[str, Any] = {}  # op name -> the learner's kernel, while "learner" is active


_choice = _Choice()


def set_kernels(name: str) -> str:
    """Choose the kernel set for every heavy op from now on; returns the previous choice.

    Args:
        name: ``"fast"`` (layouts, blocking, threads: ``neuralab.kernels``), ``"reference"``
            (the lecture's code in each op's Function in ``neuralab.ops``) or ``"learner"``
            (the reference, with the ops given to ``use_learner`` computed by a learner's code).
    """
    if name not in KERNEL_SETS:
        raise ValueError(f"set_kernels: name must be one of {', '.join(map(repr, KERNEL_SETS))}, "
                         f"got {name!r}")
    previous, _choice.name = _choice.name, name
    return previous


def get_kernels() -> str:
    """The active kernel set: ``"fast"``, ``"reference"`` or ``"learner"``."""
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


def learner(op: str) -> Any:
    """The learner's kernel for ``op`` while the learner set is active; None otherwise (the op
    then computes with the fast or the reference code, as ``fast()`` says)."""
    if _choice.name != "learner":
        return None
    return _choice.learner.get(op)


@contextmanager
def use_learner(kernels: Mapping[str, Any]) -> Iterator[str]:
    """``with use_learner({"conv2d": kernel}): ...`` runs the block with the learner kernel set:
    the named ops computed by the learner's kernels, every other op by the reference code.

    Args:
        kernels: op name (one of ``LEARNER_OPS``) -> an object with that op's kernel functions,
            e.g. ``conv2d_forward(ctx, x, w, b, stride, padding, dilation, groups)`` and
            ``conv2d_backward(ctx, dout)``, as in ``neuralab.kernels.conv``.
    """
    unknown = sorted(set(kernels) - set(LEARNER_OPS))
    if unknown:
        raise ValueError(f"use_learner: no op named {', '.join(map(repr, unknown))}; a learner "
                         f"kernel can replace {', '.join(LEARNER_OPS)}")
    previous_set, previous_kernels = _choice.name, _choice.learner
    _choice.name, _choice.learner = "learner", dict(kernels)
    try:
        yield "learner"
    finally:
        _choice.name, _choice.learner = previous_set, previous_kernels
