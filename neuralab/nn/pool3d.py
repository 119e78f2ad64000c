"""Pooling layers beyond the 2-d ones: the 3-d pools, max unpooling and Lp pooling (Lecture 12).

Each holds its arguments and calls the functional op of the same name; none has parameters.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.nn.module import Module
from neuralab.ops.conv3d import as_sizes
from neuralab.ops.lp_pool import lp_pool1d, lp_pool2d, lp_pool3d
from neuralab.ops.pool3d import adaptive_avg_pool3d, adaptive_max_pool3d, avg_pool3d, max_pool3d
from neuralab.ops.unpool import max_unpool1d, max_unpool2d, max_unpool3d

__all__ = [
    "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool3d", "MaxUnpool1d",
    "MaxUnpool2d", "MaxUnpool3d", "LPPool1d", "LPPool2d", "LPPool3d",
]


class MaxPool3d(Module):
    """Max pooling over kd×kh×kw windows of (N, C, D, H, W) input (see
    :func:`neuralab.nn.functional.max_pool3d`).

    Args:
        kernel_size: window size (int or triple).
        stride: window step (defaults to kernel_size).
        padding: implicit −∞ padding on each side (at most half the kernel).
        dilation: spacing of the window taps.
        return_indices: also return the argmax positions (for :class:`MaxUnpool3d`).
        ceil_mode: round the output size up.
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        return max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool3d(Module):
    """Average pooling over kd×kh×kw windows (see :func:`neuralab.nn.functional.avg_pool3d`).

    Args:
        kernel_size: window size (int or triple).
        stride: window step (defaults to kernel_size).
        padding: implicit zero padding on each side.
        ceil_mode: round the output size up.
        count_include_pad: count the padding zeros in the mean.
        divisor_override: divide every window sum by this instead.
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool3d(Module):
    """Average pooling of (N, C, D, H, W) input to a fixed size; ``AdaptiveAvgPool3d(1)`` is
    global average pooling.

    Args:
        output_size: an int or (od, oh, ow) (None keeps that input size).
    """

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return adaptive_avg_pool3d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool3d(Module):
    """Max pooling of (N, C, D, H, W) input to a fixed size.

    Args:
        output_size: an int or (od, oh, ow) (None keeps that input size).
        return_indices: also return the argmax positions.
    """

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        return adaptive_max_pool3d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _MaxUnpool(Module):
    """What the MaxUnpool layers share: kernel_size, stride and padding as n-tuples."""

    _n = 0

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        name, n = type(self).__name__, self._n
        self.kernel_size = as_sizes(name, "kernel_size", kernel_size, n, 1)
        self.stride = self.kernel_size if stride is None else as_sizes(name, "stride", stride,
                                                                       n, 1)
        self.padding = as_sizes(name, "padding", padding, n, 0)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpool):
    """The inverse of :class:`MaxPool1d` (see :func:`neuralab.nn.functional.max_unpool1d`):
    ``forward(input, indices, output_size=None)`` puts each value back at its argmax position.

    Args:
        kernel_size, stride, padding: those of the max pooling (stride defaults to kernel_size).
    """

    _n = 1

    def forward(self, input: Tensor, indices: Tensor,  # noqa: A002
                output_size: Any = None) -> Tensor:
        return max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding,
                            output_size)


class MaxUnpool2d(_MaxUnpool):
    """The inverse of :class:`MaxPool2d` (see :func:`neuralab.nn.functional.max_unpool2d`):
    ``forward(input, indices, output_size=None)``; the non-maximal positions are zero.

    Args:
        kernel_size, stride, padding: those of the max pooling (ints or pairs).
    """

    _n = 2

    def forward(self, input: Tensor, indices: Tensor,  # noqa: A002
                output_size: Any = None) -> Tensor:
        return max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding,
                            output_size)


class MaxUnpool3d(_MaxUnpool):
    """The inverse of :class:`MaxPool3d` (see :func:`neuralab.nn.functional.max_unpool3d`):
    ``forward(input, indices, output_size=None)``.

    Args:
        kernel_size, stride, padding: those of the max pooling (ints or triples).
    """

    _n = 3

    def forward(self, input: Tensor, indices: Tensor,  # noqa: A002
                output_size: Any = None) -> Tensor:
        return max_unpool3d(input, indices, self.kernel_size, self.stride, self.padding,
                            output_size)


class _LPPool(Module):
    """What the LPPool layers share: norm_type, kernel_size, stride, ceil_mode."""

    def __init__(self, norm_type: float, kernel_size: Any, stride: Any = None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPool):
    """Power-average pooling (Σ x^p)^(1/p) over windows of (N, C, L) input (see
    :func:`neuralab.nn.functional.lp_pool1d`).

    Args:
        norm_type: p.  kernel_size: the window length.  stride: defaults to kernel_size.
        ceil_mode: round the output size up.
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return lp_pool1d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class LPPool2d(_LPPool):
    """Power-average pooling over kh×kw windows (see :func:`neuralab.nn.functional.lp_pool2d`).

    Args:
        norm_type: p.  kernel_size: an int or (kh, kw).  stride: defaults to kernel_size.
        ceil_mode: round the output size up.
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return lp_pool2d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class LPPool3d(_LPPool):
    """Power-average pooling over kd×kh×kw windows (see
    :func:`neuralab.nn.functional.lp_pool3d`).

    Args:
        norm_type: p.  kernel_size: an int or (kd, kh, kw).  stride: defaults to kernel_size.
        ceil_mode: round the output size up.
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return lp_pool3d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)
