"""The adding problem (Hochreiter & Schmidhuber, 1997): a test of long-range memory (Lecture 15).

Each sequence holds T random values in [0, 1] and a marker channel with exactly two ones, one in
each half; the target is the sum of the two marked values. A network that cannot carry
information across the sequence can do no better than predict the mean sum, 1, with the mean
squared error Var(u₁ + u₂) = 2 · 1/12 = 1/6 (``TRIVIAL_MSE``).
"""

from __future__ import annotations

from typing import Any

from neuralab.backend import xp

__all__ = ["TRIVIAL_MSE", "adding_problem"]

TRIVIAL_MSE = 1.0 / 6.0  # Var(u₁ + u₂) for u ~ U(0, 1): the MSE of always predicting 1


def adding_problem(n: int, T: int, generator: Any) -> tuple[Any, Any]:  # noqa: N803
    """``n`` sequences of the adding problem of length ``T``, drawn from ``generator``.

    Returns:
        x: float32 (T, N, 2), (value, marker) per step, time-major as the recurrent layers want;
        y: float32 (N, 1), the sum of the two marked values (one marker in each half).
    """
    if T < 2:
        raise ValueError(f"adding_problem: T must be at least 2 (one marker per half), got {T}")
    values = generator.random((n, T), dtype=xp.float32)
    markers = xp.zeros((n, T), dtype=xp.float32)
    first = generator.integers(0, T // 2, n)
    second = generator.integers(T // 2, T, n)
    rows = xp.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = xp.stack([values, markers], axis=2).transpose(1, 0, 2)  # (N, T, 2) -> (T, N, 2)
    y = (values[rows, first] + values[rows, second])[:, None]  # (N, 1)
    return xp.ascontiguousarray(x), y
