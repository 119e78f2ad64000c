"""Tensor factories with PyTorch's names: ``tensor``, ``zeros``, ``randn``, ``arange``, ``eye``.

Each takes ``dtype=`` (``neuralab.float64``, a NumPy dtype, ...), ``requires_grad=`` and ``device=``
(only the CPU exists; see ``neuralab.devices``), as PyTorch's do.
"""

from __future__ import annotations

import math
from typing import Any

from neuralab import backend, devices, dtypes
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp


def _shape(op: str, size: tuple) -> tuple[int, ...]:
    """Accept ``zeros(2, 3)`` and ``zeros((2, 3))`` as PyTorch does."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if isinstance(n, bool) or not isinstance(n, (int, xp.integer)) or n < 0:
            if isinstance(n, Tensor) and n.numel() == 1 and n.dtype.kind in "iu":
                continue
            raise ValueError(f"{op}: sizes must be non-negative integers, got {size}")
    return tuple(int(n) for n in size)


def _dtype(dtype: Any, op: str = "dtype") -> Any:
    return backend.default_float_dtype() if dtype is None else dtypes.as_numpy(dtype, op)


def _leaf(array: Any, requires_grad: bool, device: Any, op: str) -> Tensor:
    devices.check(device, op)
    out = Tensor._from_op(array, None, 0)
    if requires_grad:
        out.requires_grad_(True)
    return out


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data``.

    As ``torch.tensor``: Python floats become the default float (float32), Python ints int64,
    bools bool; a tensor, an ndarray or a NumPy scalar keeps its dtype (a float64 ndarray stays
    float64: ``.float()`` or ``dtype=`` makes it float32 to meet float32 weights).
    """
    data = data.array if isinstance(data, Tensor) else data
    if dtype is None and isinstance(data, (xp.ndarray, xp.generic)):
        dtype = data.dtype
    if isinstance(data, (list, tuple)) and any(isinstance(v, Tensor) for v in data):
        data = [v.array if isinstance(v, Tensor) else v for v in data]
    out = Tensor(xp.array(data, copy=True), dtype=dtype)
    return _leaf(out.array, requires_grad, device, "tensor")


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a tensor, sharing memory when it already is one (or an ndarray of the dtype)."""
    if isinstance(data, Tensor):
        devices.check(device, "as_tensor")
        return data if dtype is None else data.to(dtype)
    if isinstance(data, xp.ndarray) and (dtype is None or data.dtype == _dtype(dtype)):
        return _leaf(data, False, device, "as_tensor")
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: Any) -> Tensor:
    """A tensor sharing ``array``'s memory and dtype (float64 stays float64, as in PyTorch)."""
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"from_numpy: expected an np.ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "biufc":
        raise TypeError(f"from_numpy: can't convert an array of dtype {array.dtype}; the "
                        "supported dtypes are bool, integers and floats")
    return Tensor._from_op(array, None, 0)


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          out: Any = None) -> Tensor:
    """A tensor of zeros of the given size."""
    return _leaf(xp.zeros(_shape("zeros", size), _dtype(dtype, "zeros")), requires_grad, device,
                 "zeros")


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones of the given size."""
    return _leaf(xp.ones(_shape("ones", size), _dtype(dtype, "ones")), requires_grad, device,
                 "ones")


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor of the given size (its values are whatever memory held)."""
    return _leaf(xp.empty(_shape("empty", size), _dtype(dtype, "empty")), requires_grad, device,
                 "empty")


def full(size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of the given size filled with ``fill_value`` (its dtype by default, as PyTorch:
    a Python int gives int64, a bool gives bool, a float the default float)."""
    shape = _shape("full", (size,) if isinstance(size, (tuple, list)) else (size,))
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = dtypes.result_type_arrays([fill_value])
    return _leaf(xp.full(shape, fill_value, _dtype(dtype, "full")), requires_grad, device, "full")


def arange(start: Any, end: Any = None, step: Any = 1, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (excluded) by ``step``.

    As PyTorch: int64 when start, end and step are all integers, else the default float.
    """
    if end is None:
        start, end = 0, start
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    if (end - start) * step < 0:
        raise ValueError(f"arange: upper bound and larger bound inconsistent with step sign "
                         f"(start={start}, end={end}, step={step})")
    if dtype is None:
        integral = all(isinstance(v, (int, xp.integer)) for v in (start, end, step))
        dtype = xp.int64 if integral else backend.default_float_dtype()
    np_dtype = _dtype(dtype, "arange")
    # PyTorch computes in double and then converts: the same values for float32 and float64.
    n = max(0, math.ceil((end - start) / step))
    values = start + step * xp.arange(n, dtype=xp.float64 if np_dtype.kind == "f" else xp.int64)
    return _leaf(values.astype(np_dtype), requires_grad, device, "arange")


def rand(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         generator: Any = None) -> Tensor:
    """Uniform samples on [0, 1) from ``generator`` (a ``neuralab.Generator``), else from
    neuralab's global generator (see ``manual_seed``)."""
    gen = backend.as_rng(generator)
    data = gen.random(_shape("rand", size)).astype(_dtype(dtype, "rand"))
    return _leaf(data, requires_grad, device, "rand")


def randn(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          generator: Any = None) -> Tensor:
    """Standard normal samples from ``generator`` (a ``neuralab.Generator``), else from
    neuralab's global generator (see ``manual_seed``)."""
    gen = backend.as_rng(generator)
    data = gen.standard_normal(_shape("randn", size)).astype(_dtype(dtype, "randn"))
    return _leaf(data, requires_grad, device, "randn")


def randint(low: int, high: Any = None, size: Any = None, dtype: Any = None, device: Any = None,
            requires_grad: bool = False, generator: Any = None) -> Tensor:
    """Integers drawn uniformly from [low, high) (int64 by default).

    As PyTorch: ``randint(high, size)`` or ``randint(low, high, size)``; ``size`` is a tuple.
    """
    if size is None:
        if not isinstance(high, (tuple, list)):
            raise TypeError("randint: missing the size argument, e.g. randint(0, 10, (3,))")
        low, high, size = 0, low, high
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    shape = _shape("randint", (size,) if not isinstance(size, (tuple, list)) else tuple(size))
    np_dtype = xp.dtype(xp.int64) if dtype is None else _dtype(dtype, "randint")
    data = backend.as_rng(generator).integers(low, high, size=shape).astype(np_dtype)
    return _leaf(data, requires_grad, device, "randint")


def randperm(n: int, dtype: Any = None, device: Any = None, requires_grad: bool = False,
             generator: Any = None) -> Tensor:
    """A random permutation of 0 … n−1 (int64 by default)."""
    if isinstance(n, bool) or not isinstance(n, (int, xp.integer)) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative integer, got {n!r}")
    np_dtype = xp.dtype(xp.int64) if dtype is None else _dtype(dtype, "randperm")
    gen = backend.as_rng(generator)
    return _leaf(gen.permutation(int(n)).astype(np_dtype), requires_grad, device, "randperm")


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """The n×m identity matrix."""
    return _leaf(xp.eye(n, m, dtype=_dtype(dtype, "eye")), requires_grad, device, "eye")


def _like(factory: Any, name: str) -> Any:
    def like(x: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False,
             memory_format: Any = None, *, generator: Any = None) -> Tensor:
        extra = {} if generator is None else {"generator": generator}
        return factory(*x.shape, dtype=x.dtype if dtype is None else dtype, device=device,
                       requires_grad=requires_grad, **extra)

    like.__name__ = name
    like.__doc__ = f"``{factory.__name__}`` with the shape (and by default dtype) of ``x``."
    return like


zeros_like = _like(zeros, "zeros_like")
ones_like = _like(ones, "ones_like")
empty_like = _like(empty, "empty_like")
rand_like = _like(rand, "rand_like")
randn_like = _like(randn, "randn_like")


def full_like(x: Tensor, fill_value: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """``full`` with the shape (and by default dtype) of ``x``."""
    return full(x.shape, fill_value, dtype=x.dtype if dtype is None else dtype, device=device,
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


def linspace(start: float, end: float, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (float32 default)."""
    start, end = (v.item() if isinstance(v, Tensor) else v for v in (start, end))
    values = _spaced("linspace", start, end, steps)
    return _leaf(values.astype(_dtype(dtype, "linspace")), requires_grad, device, "linspace")


def logspace(start: float, end: float, steps: int, base: float = 10.0, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """``steps`` values base**t for t evenly spaced from ``start`` to ``end`` inclusive: a
    log-scale grid (for learning-rate sweeps). float32 by default."""
    values = float(base) ** _spaced("logspace", start, end, steps)
    return _leaf(values.astype(_dtype(dtype, "logspace")), requires_grad, device, "logspace")


def randint_like(x: Tensor, low: int, high: Any = None, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False, *, generator: Any = None) -> Tensor:
    """``randint`` with the shape (and by default dtype) of ``x``."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(x.shape), dtype=x.dtype if dtype is None else dtype,
                   device=device, requires_grad=requires_grad, generator=generator)
