"""Tensor factories with PyTorch's names: ``tensor``, ``zeros``, ``randn``, ``arange``, ``eye``."""

from __future__ import annotations

from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import default_float, rng, xp


def _shape(op: str, size: tuple) -> tuple[int, ...]:
    """Accept ``zeros(2, 3)`` and ``zeros((2, 3))`` as PyTorch does."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if isinstance(n, bool) or not isinstance(n, (int, xp.integer)) or n < 0:
            raise ValueError(f"{op}: sizes must be non-negative integers, got {size}")
    return tuple(int(n) for n in size)


def _dtype(dtype: Any) -> Any:
    return default_float if dtype is None else xp.dtype(dtype)


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (floats become float32 unless ``dtype`` is given)."""
    data = data.array if isinstance(data, Tensor) else data
    return Tensor(xp.array(data, copy=True), dtype=dtype, requires_grad=requires_grad)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros of the given size."""
    return Tensor(xp.zeros(_shape("zeros", size), _dtype(dtype)), dtype=_dtype(dtype),
                  requires_grad=requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones of the given size."""
    return Tensor(xp.ones(_shape("ones", size), _dtype(dtype)), dtype=_dtype(dtype),
                  requires_grad=requires_grad)


def full(size: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of the given size filled with ``fill_value``."""
    shape = _shape("full", (size,) if isinstance(size, (tuple, list)) else (size,))
    return Tensor(xp.full(shape, fill_value, _dtype(dtype)), dtype=_dtype(dtype),
                  requires_grad=requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (excluded) by ``step``; integers stay int64."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    return Tensor(xp.arange(start, end, step), dtype=dtype, requires_grad=requires_grad)


def rand(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1) from neuralab's generator (see ``manual_seed``)."""
    data = rng().random(_shape("rand", size)).astype(_dtype(dtype))
    return Tensor(data, dtype=data.dtype, requires_grad=requires_grad)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from neuralab's generator (see ``manual_seed``)."""
    data = rng().standard_normal(_shape("randn", size)).astype(_dtype(dtype))
    return Tensor(data, dtype=data.dtype, requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The n×m identity matrix."""
    return Tensor(xp.eye(n, m, dtype=_dtype(dtype)), dtype=_dtype(dtype),
                  requires_grad=requires_grad)


def _like(factory: Any, name: str) -> Any:
    def like(x: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return factory(*x.shape, dtype=x.dtype if dtype is None else dtype,
                       requires_grad=requires_grad)

    like.__name__ = name
    like.__doc__ = f"``{factory.__name__}`` with the shape (and by default dtype) of ``x``."
    return like


zeros_like = _like(zeros, "zeros_like")
ones_like = _like(ones, "ones_like")
rand_like = _like(rand, "rand_like")
randn_like = _like(randn, "randn_like")


def full_like(x: Tensor, fill_value: float, dtype: Any = None,
              requires_grad: bool = False) -> Tensor:
    """``full`` with the shape (and by default dtype) of ``x``."""
    return full(x.shape, fill_value, dtype=x.dtype if dtype is None else dtype,
                requires_grad=requires_grad)


def _spaced(op: str, start: float, end: float, steps: int) -> Any:
    """``steps`` evenly spaced values from start to end, both included (PyTorch's two-sided
    formula: the first half counted from start, the second from end, so that end is exact)."""
    if isinstance(steps, bool) or not isinstance(steps, (int, xp.integer)) or steps < 0:
        raise RuntimeError(f"{op}: number of steps must be non-negative, got {steps!r}")
    if steps == 1:
        return xp.asarray([float(start)])
    i = xp.arange(steps)
    step = (end - start) / max(steps - 1, 1)
    return xp.where(i < steps // 2, start + step * i, end - step * (steps - 1 - i))


def linspace(start: float, end: float, steps: int, *, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (float32 default)."""
    return Tensor(_spaced("linspace", start, end, steps), dtype=_dtype(dtype),
                  requires_grad=requires_grad)


def logspace(start: float, end: float, steps: int, base: float = 10.0, *, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` values base**t for t evenly spaced from ``start`` to ``end`` inclusive: a
    log-scale grid (for learning-rate sweeps). float32 by default."""
    return Tensor(float(base) ** _spaced("logspace", start, end, steps), dtype=_dtype(dtype),
                  requires_grad=requires_grad)
