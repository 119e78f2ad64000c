"""Convolution layers (Lectures 11-12): ``nn.Conv2d``, ``nn.Conv1d`` and the transposed
convolutions ``nn.ConvTranspose2d`` / ``nn.ConvTranspose1d``, with PyTorch's weight layouts and
initialization."""

from __future__ import annotations

import math
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import default_float_dtype, xp
from neuralab.nn import init
from neuralab.nn.module import Module, Parameter
from neuralab.ops.conv import (
    as_pair,
    conv1d,
    conv2d,
    conv_padding,
    conv_transpose1d,
    conv_transpose2d,
)
from neuralab.ops.shape import pad

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

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
        dtype = default_float_dtype() if dtype is None else xp.dtype(dtype)
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
        if isinstance(x, Tensor) and x.ndim in (3, 4) and x.shape[-3] != self.in_channels:
            channels = x.shape[-3]  # (N, C, H, W) or one image (C, H, W)
            hint = ""
            if (channels, self.in_channels) == (3, 1):
                hint = "; did you build the model for MNIST and feed it CIFAR images?"
            elif (channels, self.in_channels) == (1, 3):
                hint = "; did you build the model for CIFAR and feed it MNIST images?"
            raise ValueError(f"{self._describe()}: input has {channels} channels but the layer "
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
        return _repr(self)  # PyTorch prints padding='same' unquoted, as _repr does


def _check_channels(layer: str, in_channels: Any, out_channels: Any, groups: Any) -> None:
    for name, n in (("in_channels", in_channels), ("out_channels", out_channels),
                    ("groups", groups)):
        if isinstance(n, bool) or not isinstance(n, (int, xp.integer)) or n <= 0:
            raise ValueError(f"{layer}: {name} must be a positive integer, got {n!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{layer}: groups={groups} must divide both in_channels="
                         f"{in_channels} and out_channels={out_channels}")


def _single(layer: str, name: str, value: Any, minimum: int) -> tuple[int]:
    """A 1-tuple from an int or a 1-sequence (PyTorch's form for 1-d layers)."""
    v = value[0] if isinstance(value, (tuple, list)) and len(value) == 1 else value
    if isinstance(v, bool) or not isinstance(v, (int, xp.integer)) or v < minimum:
        raise ValueError(f"{layer}: {name} must be an int of at least {minimum}, got {value!r}")
    return (int(v),)


def _reset(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's default: kaiming_uniform_(a=√5), and U(−1/√fan_in, 1/√fan_in) for the bias,
    fan_in = weight.shape[1]·kernel taps (for a transposed convolution too, as in PyTorch)."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        bound = 1 / math.sqrt(weight.shape[1] * math.prod(weight.shape[2:]))
        init.uniform_(bias, -bound, bound)


def _repr(layer: Any, output_padding: tuple[int, ...] | None = None) -> str:
    """PyTorch's extra_repr of a convolution: the non-default settings only
    (``output_padding``: a transposed convolution's)."""
    text = (f"{layer.in_channels}, {layer.out_channels}, kernel_size={layer.kernel_size}, "
            f"stride={layer.stride}")
    n = len(layer.kernel_size)
    for name, value, default in (("padding", layer.padding, (0,) * n),
                                 ("dilation", layer.dilation, (1,) * n),
                                 ("output_padding", output_padding, (0,) * n)):
        if value is not None and value != default:
            text += f", {name}={value}"
    if layer.groups != 1:
        text += f", groups={layer.groups}"
    if layer.bias is None:
        text += ", bias=False"
    if layer.padding_mode != "zeros":
        text += f", padding_mode={layer.padding_mode}"
    return text


class Conv1d(Module):
    """A 1-D convolution layer over sequences (N, C, L) -> (N, O, OL), as ``torch.nn.Conv1d``.

    The same weight sharing as :class:`Conv2d` along one axis (Lecture 11; a time-delay neural
    network). Weight (O, C/groups, k) and bias (O,) are initialized as PyTorch's.
    Arguments as :class:`Conv2d`, with ints (or 1-tuples) for the sizes.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: Any = None):
        super().__init__()
        _check_channels("Conv1d", in_channels, out_channels, groups)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"Conv1d: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _single("Conv1d", "kernel_size", kernel_size, 1)
        self.stride = _single("Conv1d", "stride", stride, 1)
        self.dilation = _single("Conv1d", "dilation", dilation, 1)
        self._pads = conv_padding("Conv1d", padding if isinstance(padding, str) else
                                  (0, _single("Conv1d", "padding", padding, 0)[0]),
                                  (1,) + self.kernel_size, (1,) + self.stride,
                                  (1,) + self.dilation)[1]
        self.padding = padding if isinstance(padding, str) else \
            _single("Conv1d", "padding", padding, 0)
        self.padding_mode = padding_mode
        dtype = default_float_dtype() if dtype is None else xp.dtype(dtype)
        self.weight = Parameter(xp.zeros((out_channels, in_channels // groups,
                                          self.kernel_size[0]), dtype=dtype))
        if bias:
            self.bias = Parameter(xp.zeros((out_channels,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default initialization (see Conv2d)."""
        _reset(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        if self.padding_mode != "zeros":
            x = pad(x, self._pads, mode=self.padding_mode)
            return conv1d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)

    def extra_repr(self) -> str:
        return _repr(self)


class _ConvTranspose(Module):
    """What the transposed convolution layers share: arguments, parameters, initialization.

    Subclasses name themselves and give the tuple converter for their number of spatial
    dimensions and the functional form they call.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", dtype: Any = None):
        super().__init__()
        name = type(self).__name__
        _check_channels(name, in_channels, out_channels, groups)
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported (as in "
                             f"PyTorch), got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        sizes = self._sizes
        self.kernel_size = sizes(name, "kernel_size", kernel_size, 1)
        self.stride = sizes(name, "stride", stride, 1)
        self.padding = sizes(name, "padding", padding, 0)
        self.output_padding = sizes(name, "output_padding", output_padding, 0)
        self.dilation = sizes(name, "dilation", dilation, 1)
        self.padding_mode = padding_mode
        dtype = default_float_dtype() if dtype is None else xp.dtype(dtype)
        self.weight = Parameter(xp.zeros((in_channels, out_channels // groups) +
                                         self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(xp.zeros((out_channels,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    @staticmethod
    def _sizes(layer: str, name: str, value: Any, minimum: int) -> tuple[int, ...]:
        raise NotImplementedError

    def reset_parameters(self) -> None:
        """PyTorch's default initialization (see Conv2d)."""
        _reset(self.weight, self.bias)

    def extra_repr(self) -> str:
        return _repr(self, self.output_padding)


class ConvTranspose2d(_ConvTranspose):
    """A transposed 2-D convolution layer, as ``torch.nn.ConvTranspose2d`` (see conv_transpose2d).

    It maps a feature map back up to the size a Conv2d with the same settings maps from: the
    upsampling layer of decoders. Weight (in_channels, out_channels/groups, kh, kw) and bias
    (out_channels,) are initialized as PyTorch's.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias: as
            :class:`Conv2d` (ints or pairs; no 'same').
        output_padding: extra rows/columns at the bottom/right of the output (smaller than
            the stride or the dilation).
        dtype: parameter dtype (float32 by default).
    """

    _sizes = staticmethod(as_pair)

    def forward(self, x: Tensor) -> Tensor:
        return conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                self.output_padding, self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """A transposed 1-D convolution layer, as ``torch.nn.ConvTranspose1d``.

    Arguments as :class:`ConvTranspose2d`, with ints (or 1-tuples); weight (in_channels,
    out_channels/groups, k).
    """

    _sizes = staticmethod(_single)

    def forward(self, x: Tensor) -> Tensor:
        return conv_transpose1d(x, self.weight, self.bias, self.stride, self.padding,
                                self.output_padding, self.groups, self.dilation)
