"""The convolution layer (Lectures 11-12): ``nn.Conv2d`` with PyTorch's weight layout and init."""

from __future__ import annotations

import math
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import default_float, xp
from neuralab.nn import init
from neuralab.nn.module import Module, Parameter
from neuralab.ops.conv import as_pair, conv2d, conv_padding
from neuralab.ops.shape import pad

__all__ = ["Conv2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Conv2d(Module):
    """A 2-D convolution layer: out_channels feature detectors slid over the input image.

    Each of the ``out_channels`` filters has a weight for every input channel (of its group)
    and every kernel offset, shared by all positions: weight sharing makes the layer
    equivariant to translation and gives it kh·kw·C_in·C_out parameters instead of one per
    pair of pixels (Lecture 11).

    Args:
        in_channels: C, channels of the input.
        out_channels: O, channels of the output (number of filters).
        kernel_size: an int or (kh, kw).
        stride: step between receptive fields (int or pair).
        padding: an int, a pair, 'same' or 'valid'.
        dilation: spacing of the kernel taps.
        groups: split channels into groups convolved separately.
        bias: whether to learn one bias per output channel.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.
        dtype: parameter dtype (float32 by default).

    Attributes:
        weight: (O, C/groups, kh, kw), U(−1/√fan_in, 1/√fan_in) with fan_in = C/groups·kh·kw
            (PyTorch's kaiming_uniform_ with a = √5).
        bias: (O,), U(−1/√fan_in, 1/√fan_in), or None.

    Shapes: (N, C, H, W) -> (N, O, OH, OW), OH = ⌊(H + 2p − d·(kh − 1) − 1)/s⌋ + 1.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: Any = None):
        super().__init__()
        for name, n in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("groups", groups)):
            if isinstance(n, bool) or not isinstance(n, (int, xp.integer)) or n <= 0:
                raise ValueError(f"Conv2d: {name} must be a positive integer, got {n!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"Conv2d: groups={groups} must divide both in_channels="
                             f"{in_channels} and out_channels={out_channels}")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"Conv2d: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = as_pair("Conv2d", "kernel_size", kernel_size, 1)
        self.stride = as_pair("Conv2d", "stride", stride, 1)
        self.dilation = as_pair("Conv2d", "dilation", dilation, 1)
        # Validates the padding (and 'same' with stride 1) now rather than at the first call.
        self._pads = conv_padding("Conv2d", padding, self.kernel_size, self.stride,
                                   self.dilation)
        self.padding = padding if isinstance(padding, str) else as_pair("Conv2d", "padding",
                                                                      padding, 0)
        self.padding_mode = padding_mode
        dtype = default_float if dtype is None else xp.dtype(dtype)
        kh, kw = self.kernel_size
        self.weight = Parameter(xp.zeros((out_channels, in_channels // groups, kh, kw),
                                         dtype=dtype))
        if bias:
            self.bias = Parameter(xp.zeros((out_channels,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=√5) gives U(−1/√fan_in, 1/√fan_in)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * self.kernel_size[0] * self.kernel_size[1]
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        if isinstance(x, Tensor) and x.ndim == 4 and x.shape[1] != self.in_channels:
            hint = ""
            if (x.shape[1], self.in_channels) == (3, 1):
                hint = "; did you build the model for MNIST and feed it CIFAR images?"
            elif (x.shape[1], self.in_channels) == (1, 3):
                hint = "; did you build the model for CIFAR and feed it MNIST images?"
            raise ValueError(f"{self._describe()}: input has {x.shape[1]} channels but the layer "
                             f"expects {self.in_channels} (input shape {x.shape}){hint}")
        if self.padding_mode != "zeros":
            (pt, pb), (pl, pr) = self._pads
            x = pad(x, (pl, pr, pt, pb), mode=self.padding_mode)
            return conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)

    def _describe(self) -> str:
        return (f"Conv2d({self.in_channels}, {self.out_channels}, "
                f"kernel_size={self.kernel_size})")

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"  # PyTorch prints 'same' unquoted
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text
