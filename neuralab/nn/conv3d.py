"""3-D convolution layers: ``nn.Conv3d`` and ``nn.ConvTranspose3d``, with PyTorch's weight layouts,
initialization and printed form (the functional ops are in ``neuralab.ops.conv3d``)."""

from __future__ import annotations

from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import default_float_dtype, xp
from neuralab.nn.conv import _PADDING_MODES, _check_channels, _ConvTranspose, _repr, _reset
from neuralab.nn.module import Module, Parameter
from neuralab.ops.conv3d import as_triple, conv3d, conv3d_padding, conv_transpose3d
from neuralab.ops.shape import pad

__all__ = ["Conv3d", "ConvTranspose3d"]


class Conv3d(Module):
    """A 3-D convolution layer over volumes (N, C, D, H, W) -> (N, O, OD, OH, OW).

    ``out_channels`` kd×kh×kw filters shared by every position of the volume (Lecture 11's weight
    sharing along depth or time too), as ``torch.nn.Conv3d``.

    Args:
        in_channels: C.  out_channels: O.
        kernel_size: an int or (kd, kh, kw).
        stride, dilation: ints or triples.
        padding: an int, a triple, 'same' or 'valid'.
        groups: channel groups convolved separately.
        bias: whether to learn one bias per output channel.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.
        dtype: parameter dtype (float32 by default).

    Attributes:
        weight: (O, C/groups, kd, kh, kw), U(−1/√fan_in, 1/√fan_in), fan_in = C/groups·kd·kh·kw.
        bias: (O,), same distribution, or None.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: Any = None):
        super().__init__()
        _check_channels("Conv3d", in_channels, out_channels, groups)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"Conv3d: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = as_triple("Conv3d", "kernel_size", kernel_size, 1)
        self.stride = as_triple("Conv3d", "stride", stride, 1)
        self.dilation = as_triple("Conv3d", "dilation", dilation, 1)
        # Validates the padding (and 'same' with stride 1) now rather than at the first call.
        self._pads = conv3d_padding("Conv3d", padding, self.kernel_size, self.stride,
                                    self.dilation)
        self.padding = padding if isinstance(padding, str) else \
            as_triple("Conv3d", "padding", padding, 0)
        self.padding_mode = padding_mode
        dtype = default_float_dtype() if dtype is None else xp.dtype(dtype)
        self.weight = Parameter(xp.zeros((out_channels, in_channels // groups)
                                         + self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(xp.zeros((out_channels,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=√5) gives U(−1/√fan_in, 1/√fan_in)."""
        _reset(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        if self.padding_mode != "zeros":
            (f, b), (t, bo), (le, r) = self._pads
            x = pad(x, (le, r, t, bo, f, b), mode=self.padding_mode)
            return conv3d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return conv3d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)

    def extra_repr(self) -> str:
        return _repr(self)


class ConvTranspose3d(_ConvTranspose):
    """A transposed 3-D convolution layer, as ``torch.nn.ConvTranspose3d`` (see
    :func:`neuralab.nn.functional.conv_transpose3d`): the upsampling layer of volumetric decoders.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias: as
            :class:`Conv3d` (ints or triples; no 'same').
        output_padding: extra voxels at the end of each axis of the output (smaller than the
            stride or the dilation).
        dtype: parameter dtype (float32 by default).

    Attributes:
        weight: (in_channels, out_channels/groups, kd, kh, kw).  bias: (out_channels,) or None.
    """

    _sizes = staticmethod(as_triple)

    def forward(self, x: Tensor, output_size: Any = None) -> Tensor:
        output_padding = self.output_padding if output_size is None else \
            self._output_padding(x, output_size)
        return conv_transpose3d(x, self.weight, self.bias, self.stride, self.padding,
                                output_padding, self.groups, self.dilation)

    def _output_padding(self, x: Tensor, output_size: Any) -> tuple[int, ...]:
        """The output_padding that makes the output ``output_size`` (PyTorch's forward argument:
        3 sizes, or the full 5 with the batch and channels)."""
        size = list(output_size)
        if len(size) == 5 or (len(size) == 4 and x.ndim == 4):
            size = size[-3:]
        if len(size) != 3:
            raise ValueError(f"ConvTranspose3d: output_size must have 3 or 5 elements, got "
                             f"{output_size!r}")
        pads = []
        for d, (o, n, k, s, p, dil) in enumerate(zip(size, x.shape[-3:], self.kernel_size,
                                                     self.stride, self.padding,
                                                     self.dilation)):
            smallest = (n - 1) * s - 2 * p + dil * (k - 1) + 1
            if not smallest <= o < smallest + s:
                raise ValueError(f"ConvTranspose3d: requested an output size of {tuple(size)}, "
                                 f"but dimension {d} can only be between {smallest} and "
                                 f"{smallest + s - 1} for an input of shape {x.shape}")
            pads.append(int(o - smallest))
        return tuple(pads)
