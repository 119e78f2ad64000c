"""Fractional max pooling layers (Graham, 2014): max pooling that shrinks each axis by any ratio,
over pseudo-random overlapping windows (see :mod:`neuralab.ops.fractional_pool`)."""

from __future__ import annotations

from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.nn.module import Module
from neuralab.ops.fractional_pool import fractional_max_pool2d, fractional_max_pool3d

__all__ = ["FractionalMaxPool2d", "FractionalMaxPool3d"]


def _tuple(value: Any, dims: int) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims


class _FractionalMaxPoolNd(Module):
    _dims = 2

    def __init__(self, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                 return_indices: bool = False, _random_samples: Tensor | None = None) -> None:
        super().__init__()
        name, dims = type(self).__name__, self._dims
        self.kernel_size = _tuple(kernel_size, dims)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = None if output_size is None else _tuple(output_size, dims)
        self.output_ratio = None if output_ratio is None else _tuple(output_ratio, dims)
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling "
                             "ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError(f"{name}: only one of output_size and output_ratio may be "
                             "specified")
        if self.output_ratio is not None and not all(
                isinstance(r, (int, float)) and not isinstance(r, bool) and 0 < r < 1
                for r in self.output_ratio):
            raise ValueError(f"{name}: output_ratio must be between 0 and 1 (got "
                             f"{output_ratio!r})")

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        fn = fractional_max_pool2d if self._dims == 2 else fractional_max_pool3d
        return fn(input, self.kernel_size, self.output_size, self.output_ratio,
                  self.return_indices, _random_samples=self._random_samples)

    def extra_repr(self) -> str:
        size = (f"output_size={self.output_size}" if self.output_size is not None
                else f"output_ratio={self.output_ratio}")
        return f"kernel_size={self.kernel_size}, {size}"


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Fractional max pooling of (N, C, H, W) input over k_h×k_w windows whose starts are drawn
    at random per example and channel (see :func:`neuralab.nn.functional.fractional_max_pool2d`).

    Args:
        kernel_size: window size (int or pair).
        output_size: the output (o_h, o_w) (int or pair); or instead
        output_ratio: o = ⌊n · ratio⌋ per axis, ratio in (0, 1).
        return_indices: also return the argmax positions (for :class:`MaxUnpool2d`).
        _random_samples: fixed (N, C, 2) samples (a buffer); drawn anew each call when None.
    """

    _dims = 2


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """Fractional max pooling of (N, C, T, H, W) input over k_t×k_h×k_w windows (see
    :func:`neuralab.nn.functional.fractional_max_pool3d`); arguments as
    :class:`FractionalMaxPool2d`, with triples and (N, C, 3) samples."""

    _dims = 3
