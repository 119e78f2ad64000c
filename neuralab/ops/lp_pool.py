"""Power-average (Lp) pooling: z = (Σ_{window} x^p)^(1/p) over 1-, 2- and 3-d windows.

Between average pooling (p = 1, up to the factor |window|) and max pooling (p → ∞), the Lp norm
of each window; p = 2 is the "L2 pooling" of complex-cell models. As in PyTorch, it is composed
from differentiable ops, so its gradient is the one the composition gives:

    a = avg_pool(x^p)   (no padding),     z = (sign(a) · relu(|a|) · |kernel|)^(1/p),

where |kernel| is the product of the kernel sizes (with ceil_mode a partial window is averaged
over its clipped size and then scaled by the full |kernel|, exactly as PyTorch). The gradient of
x^p and of the final root are those of ``pow``; at an all-zero window the root's slope is
infinite, as in PyTorch.
"""

from __future__ import annotations

import math
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops.conv3d import as_triple
from neuralab.ops.elementwise import abs as abs_
from neuralab.ops.elementwise import pow as pow_
from neuralab.ops.elementwise import relu
from neuralab.ops.math import sign
from neuralab.ops.pool import avg_pool2d
from neuralab.ops.pool1d import avg_pool1d
from neuralab.ops.pool3d import avg_pool3d

__all__ = ["lp_pool1d", "lp_pool2d", "lp_pool3d"]


def _norm_type(op: str, norm_type: Any) -> float:
    if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float, xp.number)):
        raise TypeError(f"{op}: norm_type must be a number (the p of the Lp norm), got "
                        f"{norm_type!r}")
    if norm_type == 0:
        raise ValueError(f"{op}: norm_type must be non-zero (the output is a 1/p-th power)")
    return norm_type


def _finish(a: Tensor, p: Any, taps: int) -> Tensor:
    """(sign(a) · relu(|a|) · taps)^(1/p): PyTorch's last steps of lp_pool."""
    return pow_(sign(a) * relu(abs_(a)) * taps, 1.0 / p)


def _check_input(op: str, input: Any) -> None:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int, stride: Any = None,  # noqa: A002
              ceil_mode: bool = False) -> Tensor:
    """Lp pooling over windows of ``kernel_size`` steps, as ``torch.nn.functional.lp_pool1d``.

    Args:
        input: (N, C, L) or (C, L).
        norm_type: p (a non-zero number; with a non-integer p, negative inputs give nan).
        kernel_size: the window length (an int).
        stride: the window step; defaults to kernel_size.
        ceil_mode: ⌈·⌉ for the output size.
    """
    op = "lp_pool1d"
    _check_input(op, input)
    p = _norm_type(op, norm_type)
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, (int, xp.integer)):
        raise TypeError(f"{op}: kernel_size must be an int, got {kernel_size!r}")
    a = avg_pool1d(pow_(input, p), kernel_size, stride, 0, ceil_mode)
    return _finish(a, p, int(kernel_size))


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,  # noqa: A002
              ceil_mode: bool = False) -> Tensor:
    """Lp pooling over kh×kw windows, as ``torch.nn.functional.lp_pool2d``.

    Args:
        input: (N, C, H, W) or (C, H, W).
        norm_type: p (a non-zero number; with a non-integer p, negative inputs give nan).
        kernel_size: an int or (kh, kw).
        stride: the window step; defaults to kernel_size.
        ceil_mode: ⌈·⌉ for the output size.
    """
    op = "lp_pool2d"
    _check_input(op, input)
    p = _norm_type(op, norm_type)
    kernel = (kernel_size,) * 2 if isinstance(kernel_size, (int, xp.integer)) else kernel_size
    if isinstance(kernel_size, bool) or not isinstance(kernel, (tuple, list)) or \
            len(kernel) != 2:
        raise TypeError(f"{op}: kernel_size must be an int or a pair, got {kernel_size!r}")
    a = avg_pool2d(pow_(input, p), kernel_size, stride, 0, ceil_mode)
    return _finish(a, p, math.prod(kernel))


def lp_pool3d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,  # noqa: A002
              ceil_mode: bool = False) -> Tensor:
    """Lp pooling over kd×kh×kw windows, as ``torch.nn.functional.lp_pool3d``.

    Args:
        input: (N, C, D, H, W) or (C, D, H, W).
        norm_type: p (a non-zero number; with a non-integer p, negative inputs give nan).
        kernel_size: an int or (kd, kh, kw).
        stride: the window step; defaults to kernel_size.
        ceil_mode: ⌈·⌉ for the output size.
    """
    op = "lp_pool3d"
    _check_input(op, input)
    p = _norm_type(op, norm_type)
    kernel = as_triple(op, "kernel_size", kernel_size, 1)
    a = avg_pool3d(pow_(input, p), kernel, stride, 0, ceil_mode)
    return _finish(a, p, math.prod(kernel))
