"""Lazy modules, as PyTorch's: the input size is inferred at the first forward.

``nn.LazyLinear(10)`` needs no ``in_features``: its weight and bias start as
:class:`~neuralab.nn.parameter.UninitializedParameter` s, and the first call reads the size of
the input's last dimension, materializes them with the shapes that gives, initializes them as
the ordinary layer does, and turns the module into that layer (``type(m)`` becomes
``nn.Linear``, PyTorch's ``cls_to_become``). The same holds for the convolutions (in_channels
from dimension 1) and the batch and instance norms (num_features from dimension 1).

Before the first forward, ``state_dict()`` holds the placeholders themselves, and
``load_state_dict`` of an initialized checkpoint gives the placeholders the checkpoint's shapes
and values (the module stays lazy until its first forward, which then only infers the sizes).
Build the optimizer after the first forward (a dry run): before it there are no weights to give.
"""

from __future__ import annotations

from typing import Any

from neuralab import devices
from neuralab.autograd.grad_mode import no_grad
from neuralab.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from neuralab.nn.conv3d import Conv3d, ConvTranspose3d
from neuralab.nn.group_norm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from neuralab.nn.linear import Linear
from neuralab.nn.norm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from neuralab.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy

__all__ = [
    "LazyModuleMixin", "LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d",
    "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d",
    "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d",
    "LazyInstanceNorm3d",
]


class LazyModuleMixin:
    """What the lazy modules share: a forward pre-hook that infers the shapes at the first call.

    A subclass defines ``initialize_parameters(*inputs)`` (materialize its placeholders from
    the inputs' shapes and initialize them) and ``cls_to_become``, the class the module takes
    afterwards; its ``__init__`` ends with ``self._lazy_setup()``.
    """

    cls_to_become: type | None = None

    def _lazy_setup(self) -> None:
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)

    def _lazy_weight_bias(self, bias: bool) -> None:
        """Placeholders (of the built layer's dtype) in place of ``weight`` and, with ``bias``,
        ``bias`` (the layer was built without one), then the pre-hook."""
        dtype = self.weight.dtype
        self.weight = UninitializedParameter(dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)
        self._lazy_setup()

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter or buffer of this module (not its children) is a placeholder."""
        return any(is_lazy(t) for t in
                   list(self._parameters.values()) + list(self._buffers.values()))

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f"initialize_parameters is not implemented for "
                                  f"{type(self).__name__}")


def _infer_parameters(module: Any, args: tuple) -> None:
    """The pre-hook of the first call: materialize, then become ``cls_to_become``."""
    module.initialize_parameters(*args)
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
    module._initialize_hook.remove()
    del module._initialize_hook
    if module.cls_to_become is not None:
        object.__setattr__(module, "__class__", module.cls_to_become)


def _check_size(layer: str, name: str, n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {n!r}")
    return n


class LazyLinear(LazyModuleMixin, Linear):
    """``nn.Linear`` whose ``in_features`` is inferred from the first input's last dimension.

    Args:
        out_features: number of output units.
        bias: whether to learn the bias.
        device: accepted for PyTorch compatibility (the CPU).
        dtype: parameter dtype (float32 by default).
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None):
        devices.check(device, "LazyLinear")
        _check_size("LazyLinear", "out_features", out_features)
        Linear.__init__(self, 1, out_features, bias=False, dtype=dtype)
        self.in_features = 0
        self._lazy_weight_bias(bias)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Any) -> None:  # noqa: A002
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()
        if self.in_features == 0:  # loaded from a checkpoint: only the size is left to read
            if input.shape[-1] != self.weight.shape[-1]:
                raise ValueError(f"LazyLinear: the input has {input.shape[-1]} features but the "
                                 f"loaded weight {self.weight.shape} expects "
                                 f"{self.weight.shape[-1]}")
            self.in_features = input.shape[-1]


class _LazyConvMixin(LazyModuleMixin):
    """Lazy convolutions: in_channels from dimension 1 of a batched input (0 unbatched)."""

    _transposed = False

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _get_in_channels(self, input: Any) -> int:  # noqa: A002
        spatial = len(self.kernel_size)
        if input.ndim not in (spatial + 1, spatial + 2):
            raise RuntimeError(f"Expected {spatial + 1}D (unbatched) or {spatial + 2}D "
                               f"(batched) input to {type(self).__name__}, but got input of "
                               f"size: {tuple(input.shape)}")
        return input.shape[1] if input.ndim == spatial + 2 else input.shape[0]

    def initialize_parameters(self, input: Any) -> None:  # noqa: A002
        if self.has_uninitialized_params():
            channels = self._get_in_channels(input)
            if channels % self.groups:
                raise ValueError(f"{type(self).__name__}: in_channels={channels} (from the "
                                 f"input of shape {tuple(input.shape)}) must be divisible by "
                                 f"groups={self.groups}")
            self.in_channels = channels
            if self._transposed:
                shape = (channels, self.out_channels // self.groups)
            else:
                shape = (self.out_channels, channels // self.groups)
            with no_grad():
                self.weight.materialize(shape + tuple(self.kernel_size))
                if self.bias is not None:
                    self.bias.materialize((self.out_channels,))
                self.reset_parameters()
        if self.in_channels == 0:  # loaded from a checkpoint: only the size is left to read
            # (PyTorch leaves in_channels at 0 here; neuralab's layers check it)
            self.in_channels = self._get_in_channels(input)


def _conv_init(self: Any, out_channels: int, kwargs: dict, bias: bool, device: Any) -> None:
    name = type(self).__name__
    devices.check(device, name)
    _check_size(name, "out_channels", out_channels)
    groups = kwargs.get("groups", 1)
    _check_size(name, "groups", groups)
    # The ordinary layer is built for in_channels = groups (the smallest valid), then its
    # weight replaced by the placeholder.
    self.cls_to_become.__init__(self, groups, out_channels, bias=False, **kwargs)
    self.in_channels = 0
    self._lazy_weight_bias(bias)


class LazyConv1d(_LazyConvMixin, Conv1d):
    """``nn.Conv1d`` whose ``in_channels`` is inferred from the first input (N, C, L).

    Arguments as :class:`~neuralab.nn.Conv1d` without ``in_channels``.
    """

    cls_to_become = Conv1d

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None):
        _conv_init(self, out_channels, dict(kernel_size=kernel_size, stride=stride,
                                            padding=padding, dilation=dilation, groups=groups,
                                            padding_mode=padding_mode, dtype=dtype), bias, device)


class LazyConv2d(_LazyConvMixin, Conv2d):
    """``nn.Conv2d`` whose ``in_channels`` is inferred from the first input (N, C, H, W).

    Arguments as :class:`~neuralab.nn.Conv2d` without ``in_channels``.
    """

    cls_to_become = Conv2d

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None):
        _conv_init(self, out_channels, dict(kernel_size=kernel_size, stride=stride,
                                            padding=padding, dilation=dilation, groups=groups,
                                            padding_mode=padding_mode, dtype=dtype), bias, device)


class LazyConv3d(_LazyConvMixin, Conv3d):
    """``nn.Conv3d`` whose ``in_channels`` is inferred from the first input (N, C, D, H, W).

    Arguments as :class:`~neuralab.nn.Conv3d` without ``in_channels``.
    """

    cls_to_become = Conv3d

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None):
        _conv_init(self, out_channels, dict(kernel_size=kernel_size, stride=stride,
                                            padding=padding, dilation=dilation, groups=groups,
                                            padding_mode=padding_mode, dtype=dtype), bias, device)


class LazyConvTranspose1d(_LazyConvMixin, ConvTranspose1d):
    """``nn.ConvTranspose1d`` whose ``in_channels`` is inferred from the first input.

    Arguments as :class:`~neuralab.nn.ConvTranspose1d` without ``in_channels``.
    """

    cls_to_become = ConvTranspose1d
    _transposed = True

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None):
        _conv_init(self, out_channels, dict(kernel_size=kernel_size, stride=stride,
                                            padding=padding, output_padding=output_padding,
                                            groups=groups, dilation=dilation,
                                            padding_mode=padding_mode, dtype=dtype), bias, device)


class LazyConvTranspose2d(_LazyConvMixin, ConvTranspose2d):
    """``nn.ConvTranspose2d`` whose ``in_channels`` is inferred from the first input.

    Arguments as :class:`~neuralab.nn.ConvTranspose2d` without ``in_channels``.
    """

    cls_to_become = ConvTranspose2d
    _transposed = True

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None):
        _conv_init(self, out_channels, dict(kernel_size=kernel_size, stride=stride,
                                            padding=padding, output_padding=output_padding,
                                            groups=groups, dilation=dilation,
                                            padding_mode=padding_mode, dtype=dtype), bias, device)


class LazyConvTranspose3d(_LazyConvMixin, ConvTranspose3d):
    """``nn.ConvTranspose3d`` whose ``in_channels`` is inferred from the first input.

    Arguments as :class:`~neuralab.nn.ConvTranspose3d` without ``in_channels``.
    """

    cls_to_become = ConvTranspose3d
    _transposed = True

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None):
        _conv_init(self, out_channels, dict(kernel_size=kernel_size, stride=stride,
                                            padding=padding, output_padding=output_padding,
                                            groups=groups, dilation=dilation,
                                            padding_mode=padding_mode, dtype=dtype), bias, device)


class _LazyNormMixin(LazyModuleMixin):
    """Lazy batch and instance norms: num_features from dimension 1 of the first input (as
    PyTorch's, for the instance norms too)."""

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Any) -> None:  # noqa: A002
        if self.has_uninitialized_params():
            if input.ndim < 2:
                raise ValueError(f"{type(self).__name__}: expected an input with a channel "
                                 f"dimension (N, C, ...), got shape {tuple(input.shape)}")
            self.num_features = input.shape[1]
            with no_grad():
                for t in (self.weight, self.bias, self.running_mean, self.running_var):
                    if t is not None:
                        t.materialize((self.num_features,))
                self.reset_parameters()
        if self.num_features == 0:  # loaded from a checkpoint, or nothing to materialize
            # (PyTorch leaves num_features at 0 here; neuralab's layers check it)
            self.num_features = input.shape[1] if input.ndim > 1 else 0


def _norm_init(self: Any, eps: float, momentum: Any, affine: bool, track_running_stats: bool,
               device: Any, dtype: Any, bias: bool) -> None:
    devices.check(device, type(self).__name__)
    # The ordinary layer with one feature and running statistics (so that the buffers exist
    # with their dtype), then the placeholders in place of its tensors.
    self.cls_to_become.__init__(self, 1, eps=eps, momentum=momentum, affine=True,
                                track_running_stats=True, dtype=dtype)
    # The placeholders take the running statistics' dtype when they are kept (it can differ
    # from the weight's: the norms' buffers are made with Tensor(), which defaults to float32).
    dtype = self.running_mean.dtype if track_running_stats else self.weight.dtype
    if track_running_stats:
        self.running_mean = UninitializedBuffer(dtype=dtype)
        self.running_var = UninitializedBuffer(dtype=dtype)
    else:
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            self.register_buffer(name, None)
    self.num_features = 0
    self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
    self.register_parameter("weight", None)
    self.register_parameter("bias", None)
    if self.affine:
        self.weight = UninitializedParameter(dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)
    self._lazy_setup()


def _norm_class(name: str, base: type, doc: str) -> type:
    def __init__(self: Any, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        _norm_init(self, eps, momentum, affine, track_running_stats, device, dtype, bias)

    __init__.__doc__ = None
    return type(name, (_LazyNormMixin, base), {
        "__init__": __init__, "cls_to_become": base, "__doc__": doc,
        "__module__": __name__, "__qualname__": name})


_NORM_DOC = ("``nn.{base}`` whose ``num_features`` is inferred from dimension 1 of the first "
             "input.\n\n    Args:\n        eps, momentum, affine, track_running_stats, dtype: "
             "as :class:`~neuralab.nn.{base}`\n            (here affine and track_running_stats "
             "default to True, as in PyTorch).\n        bias: learn β (with ``affine``).\n")

LazyBatchNorm1d = _norm_class("LazyBatchNorm1d", BatchNorm1d,
                              _NORM_DOC.format(base="BatchNorm1d"))
LazyBatchNorm2d = _norm_class("LazyBatchNorm2d", BatchNorm2d,
                              _NORM_DOC.format(base="BatchNorm2d"))
LazyBatchNorm3d = _norm_class("LazyBatchNorm3d", BatchNorm3d,
                              _NORM_DOC.format(base="BatchNorm3d"))
LazyInstanceNorm1d = _norm_class("LazyInstanceNorm1d", InstanceNorm1d,
                                 _NORM_DOC.format(base="InstanceNorm1d"))
LazyInstanceNorm2d = _norm_class("LazyInstanceNorm2d", InstanceNorm2d,
                                 _NORM_DOC.format(base="InstanceNorm2d"))
LazyInstanceNorm3d = _norm_class("LazyInstanceNorm3d", InstanceNorm3d,
                                 _NORM_DOC.format(base="InstanceNorm3d"))
