"""Padding layers: add a border around each image (Lecture 11: padding keeps the size)."""

from __future__ import annotations

from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.nn.module import Module
from neuralab.ops.shape import pad

__all__ = ["ZeroPad2d", "ConstantPad2d", "ReflectionPad2d", "ReplicationPad2d"]


def _four(name: str, padding: Any) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) from an int or a 4-tuple (PyTorch's order)."""
    if isinstance(padding, (int, xp.integer)) and not isinstance(padding, bool):
        return (int(padding),) * 4
    if isinstance(padding, (tuple, list)) and len(padding) == 4 and all(
            isinstance(p, (int, xp.integer)) and not isinstance(p, bool) for p in padding):
        return tuple(int(p) for p in padding)
    raise TypeError(f"{name}: padding must be an int or (left, right, top, bottom), got "
                    f"{padding!r}")


class _Pad2d(Module):
    mode = "constant"

    def __init__(self, padding: Any, value: float = 0.0):
        super().__init__()
        self.padding = _four(type(self).__name__, padding)
        self.value = float(value)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in (3, 4):
            raise ValueError(f"{type(self).__name__}: input must be (N, C, H, W) or (C, H, W), "
                             f"got shape {x.shape}")
        if self.mode == "constant":
            return pad(x, self.padding, mode="constant", value=self.value)
        return pad(x, self.padding, mode=self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(_Pad2d):
    """Pad the last two dimensions with zeros.

    Args:
        padding: an int or (left, right, top, bottom); negative values crop.
    """

    def __init__(self, padding: Any):
        super().__init__(padding, 0.0)


class ConstantPad2d(_Pad2d):
    """Pad the last two dimensions with a constant.

    Args:
        padding: an int or (left, right, top, bottom).
        value: the fill value.
    """

    def __init__(self, padding: Any, value: float):
        super().__init__(padding, value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ReflectionPad2d(_Pad2d):
    """Pad the last two dimensions with the reflection of the border (edge not repeated).

    Args:
        padding: an int or (left, right, top, bottom).
    """

    mode = "reflect"


class ReplicationPad2d(_Pad2d):
    """Pad the last two dimensions by repeating the edge values.

    Args:
        padding: an int or (left, right, top, bottom).
    """

    mode = "replicate"
