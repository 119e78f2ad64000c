"""Padding layers: add a border around each sequence, image or volume (Lecture 11: padding keeps
the size), as PyTorch's ``ZeroPad``, ``ConstantPad``, ``ReflectionPad``, ``ReplicationPad`` and
``CircularPad`` in 1, 2 and 3 dimensions. All are ``neuralab.ops.pad`` with a fixed mode."""

from __future__ import annotations

from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.nn.module import Module
from neuralab.ops.shape import pad

__all__ = [
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
    "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
    "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
    "CircularPad1d", "CircularPad2d", "CircularPad3d",
]

_ORDER = {1: "(left, right)", 2: "(left, right, top, bottom)",
          3: "(left, right, top, bottom, front, back)"}
_LAYOUT = {1: "(C, W) or (N, C, W)", 2: "(C, H, W) or (N, C, H, W)",
           3: "(C, D, H, W) or (N, C, D, H, W)"}


def _amounts(name: str, padding: Any, dims: int) -> tuple[int, ...]:
    """The 2·dims amounts, last dimension first (PyTorch's order), from an int or a tuple."""
    if isinstance(padding, (int, xp.integer)) and not isinstance(padding, bool):
        return (int(padding),) * (2 * dims)
    if isinstance(padding, (tuple, list)) and len(padding) == 2 * dims and all(
            isinstance(p, (int, xp.integer)) and not isinstance(p, bool) for p in padding):
        return tuple(int(p) for p in padding)
    raise TypeError(f"{name}: padding must be an int or a {2 * dims}-tuple {_ORDER[dims]}, got "
                    f"{padding!r}")


class _Pad(Module):
    """Shared code: ``dims`` padded dimensions, ``mode`` one of ``pad``'s modes."""

    mode = "constant"
    dims = 2

    def __init__(self, padding: Any, value: float = 0.0):
        super().__init__()
        self.padding = _amounts(type(self).__name__, padding, self.dims)
        self.value = float(value)

    def forward(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        if self.mode == "constant":  # any input with enough dimensions, as PyTorch
            if x.ndim < self.dims:
                raise ValueError(f"{name}: the input must have at least {self.dims} "
                                 f"dimension(s) to pad, got shape {x.shape}")
            return pad(x, self.padding, mode="constant", value=self.value)
        if x.ndim not in (self.dims + 1, self.dims + 2):
            raise ValueError(f"{name}: input must be {_LAYOUT[self.dims]}, got shape {x.shape}")
        if self.mode == "circular" and min(self.padding) < 0:
            # PyTorch crops the negative amounts first, then wraps around the rest.
            x = pad(x, tuple(min(p, 0) for p in self.padding), mode="constant")
            return pad(x, tuple(max(p, 0) for p in self.padding), mode="circular")
        return pad(x, self.padding, mode=self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPad(_Pad):
    def __init__(self, padding: Any, value: float):
        super().__init__(padding, value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPad(_Pad):
    def __init__(self, padding: Any):
        super().__init__(padding, 0.0)


class ZeroPad1d(_ZeroPad):
    """Pad the last dimension with zeros.

    Args:
        padding: an int or (left, right); negative values crop.
    """

    dims = 1


class ZeroPad2d(_ZeroPad):
    """Pad the last two dimensions with zeros.

    Args:
        padding: an int or (left, right, top, bottom); negative values crop.
    """


class ZeroPad3d(_ZeroPad):
    """Pad the last three dimensions with zeros.

    Args:
        padding: an int or (left, right, top, bottom, front, back); negative values crop.
    """

    dims = 3


class ConstantPad1d(_ConstantPad):
    """Pad the last dimension with a constant.

    Args:
        padding: an int or (left, right); negative values crop.
        value: the fill value.
    """

    dims = 1


class ConstantPad2d(_ConstantPad):
    """Pad the last two dimensions with a constant.

    Args:
        padding: an int or (left, right, top, bottom); negative values crop.
        value: the fill value.
    """


class ConstantPad3d(_ConstantPad):
    """Pad the last three dimensions with a constant.

    Args:
        padding: an int or (left, right, top, bottom, front, back); negative values crop.
        value: the fill value.
    """

    dims = 3


class ReflectionPad1d(_Pad):
    """Pad the last dimension of (C, W) or (N, C, W) with the reflection of the border (edge not
    repeated; each amount at most W − 1).

    Args:
        padding: an int or (left, right).
    """

    mode, dims = "reflect", 1


class ReflectionPad2d(_Pad):
    """Pad the last two dimensions with the reflection of the border (edge not repeated).

    Args:
        padding: an int or (left, right, top, bottom).
    """

    mode = "reflect"


class ReflectionPad3d(_Pad):
    """Pad the last three dimensions of (C, D, H, W) or (N, C, D, H, W) with the reflection of
    the border (edge not repeated).

    Args:
        padding: an int or (left, right, top, bottom, front, back).
    """

    mode, dims = "reflect", 3


class ReplicationPad1d(_Pad):
    """Pad the last dimension of (C, W) or (N, C, W) by repeating the edge values.

    Args:
        padding: an int or (left, right).
    """

    mode, dims = "replicate", 1


class ReplicationPad2d(_Pad):
    """Pad the last two dimensions by repeating the edge values.

    Args:
        padding: an int or (left, right, top, bottom).
    """

    mode = "replicate"


class ReplicationPad3d(_Pad):
    """Pad the last three dimensions of (C, D, H, W) or (N, C, D, H, W) by repeating the edge
    values.

    Args:
        padding: an int or (left, right, top, bottom, front, back).
    """

    mode, dims = "replicate", 3


class CircularPad1d(_Pad):
    """Pad the last dimension of (C, W) or (N, C, W) by wrapping around (the left border copies
    the right end); negative amounts crop.

    Args:
        padding: an int or (left, right), each at most the size.
    """

    mode, dims = "circular", 1


class CircularPad2d(_Pad):
    """Pad the last two dimensions of (C, H, W) or (N, C, H, W) by wrapping around (periodic
    boundary); negative amounts crop.

    Args:
        padding: an int or (left, right, top, bottom), each at most the size.
    """

    mode = "circular"


class CircularPad3d(_Pad):
    """Pad the last three dimensions of (C, D, H, W) or (N, C, D, H, W) by wrapping around;
    negative amounts crop.

    Args:
        padding: an int or (left, right, top, bottom, front, back), each at most the size.
    """

    mode, dims = "circular", 3
