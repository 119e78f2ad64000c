"""The table of op specifications: every op in ``neuralab.ops.__all__`` has at least one.

Each module in this package (one per op family) defines ``SPECS: list[OpSpec]``; ``ALL_SPECS``
collects them. ``tests/ops/test_ops.py`` turns every spec and shape case into a float64 gradcheck
and a comparison of values and gradients with PyTorch.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class OpSpec:
    """How to test one op.

    Attributes:
        name: the op's name in ``neuralab.ops.__all__`` (several specs may share a name).
        fn: calls the neuralab op: ``fn(*tensors)``.
        ref: the PyTorch reference with the same signature on torch tensors, or None when the op
            has no deterministic PyTorch twin (then ``no_ref_reason`` says why).
        shapes: the cases: each is a tuple with the shape of every input.
        low, high: inputs are drawn uniformly from [low, high] (keep away from kinks).
        make: optional ``make(rng, shapes) -> list[np.ndarray]`` for inputs that need care
            (indices, masks, values away from ties); float64 arrays are differentiated.
        grad_inputs: indices of the inputs to differentiate (default: every floating input).
        gradcheck: run the finite-difference check (False only for ops with no gradient).
        atol, rtol: tolerances of the PyTorch comparison (float64).
    """

    name: str
    fn: Callable[..., Any]
    ref: Callable[..., Any] | None
    shapes: Sequence[tuple]
    low: float = -2.0
    high: float = 2.0
    make: Callable[[np.random.Generator, tuple], list] | None = None
    grad_inputs: tuple[int, ...] | None = None
    gradcheck: bool = True
    no_ref_reason: str = ""
    atol: float = 1e-8
    rtol: float = 1e-6
    tags: tuple[str, ...] = field(default_factory=tuple)


def _collect() -> list[OpSpec]:
    specs: list[OpSpec] = []
    for module in pkgutil.iter_modules(__path__):
        specs.extend(importlib.import_module(f"{__name__}.{module.name}").SPECS)
    return specs


ALL_SPECS = _collect()
