"""1-d pooling (over the time axis of (N, C, L) sequences) as 2-d pooling of height 1.

A sequence of length L is an image of height 1 and width L: a window of k steps is a 1×k
window. Each function here reshapes (N, C, L) to (N, C, 1, L), calls the 2-d op and drops the
height again; the gradient flows through the 2-d Functions of ``ops/pool.py`` (and the reshapes),
whose backward passes are written out there.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops.pool import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d
from neuralab.ops.shape import squeeze, unsqueeze

__all__ = ["max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d"]


def _one(op: str, name: str, value: Any) -> int:
    """An int, or a 1-tuple of one (PyTorch accepts both for 1-d pooling)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{op}: {name} must be an int or a 1-tuple, got {value!r}")
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, (int, xp.integer)):
        raise TypeError(f"{op}: {name} must be an int, got {value!r}")
    return int(value)


def _as_2d(op: str, input: Any) -> Tensor:  # noqa: A002
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim not in (2, 3):
        raise RuntimeError(f"{op}: Expected 2D or 3D (batch mode) tensor with optional 0 dim "
                           f"batch size for input, but got shape {x.shape}")
    return unsqueeze(x, -2)  # (N, C, 1, L) or (C, 1, L)


def _back(out: Any) -> Any:
    if isinstance(out, tuple):
        return tuple(squeeze(o, -2) for o in out)
    return squeeze(out, -2)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Any:
    """Max over windows of ``kernel_size`` steps of (N, C, L) or (C, L) input (PyTorch's
    ``F.max_pool1d``); indices (with ``return_indices``) are positions along L."""
    x = _as_2d("max_pool1d", input)
    k = _one("max_pool1d", "kernel_size", kernel_size)
    s = k if stride is None or stride == () or stride == [] else _one("max_pool1d", "stride",
                                                                      stride)
    p = _one("max_pool1d", "padding", padding)
    d = _one("max_pool1d", "dilation", dilation)
    return _back(max_pool2d(x, (1, k), (1, s), (0, p), (1, d), ceil_mode, return_indices))


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """Mean over windows of ``kernel_size`` steps of (N, C, L) or (C, L) input (PyTorch's
    ``F.avg_pool1d``)."""
    x = _as_2d("avg_pool1d", input)
    k = _one("avg_pool1d", "kernel_size", kernel_size)
    s = k if stride is None or stride == () or stride == [] else _one("avg_pool1d", "stride",
                                                                      stride)
    p = _one("avg_pool1d", "padding", padding)
    return _back(avg_pool2d(x, (1, k), (1, s), (0, p), ceil_mode, count_include_pad))


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Mean pooling of (N, C, L) or (C, L) input to ``output_size`` steps; window k covers
    [⌊k·L/out⌋, ⌈(k + 1)·L/out⌉)."""
    x = _as_2d("adaptive_avg_pool1d", input)
    return _back(adaptive_avg_pool2d(x, (1, _one("adaptive_avg_pool1d", "output_size",
                                                 output_size))))


def adaptive_max_pool1d(input: Tensor, output_size: Any,  # noqa: A002
                        return_indices: bool = False) -> Any:
    """Max pooling of (N, C, L) or (C, L) input to ``output_size`` steps (adaptive windows)."""
    x = _as_2d("adaptive_max_pool1d", input)
    n = _one("adaptive_max_pool1d", "output_size", output_size)
    return _back(adaptive_max_pool2d(x, (1, n), return_indices))
