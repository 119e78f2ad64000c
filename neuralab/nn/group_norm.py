"""Group, instance and RMS normalization layers, as ``torch.nn.GroupNorm``,
``torch.nn.InstanceNorm1d/2d/3d`` and ``torch.nn.RMSNorm`` (see ``neuralab.ops.group_norm``)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import default_float_dtype, xp
from neuralab.nn.module import Module, Parameter
from neuralab.ops.group_norm import check_eps, group_norm, instance_norm, rms_norm
from neuralab.ops.layer_norm import normalized_shape_tuple

__all__ = ["GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "RMSNorm"]


def _cpu_dtype(name: str, device: Any, dtype: Any) -> Any:
    if device is not None and str(device) != "cpu":
        raise ValueError(f"{name}: neuralab runs on the CPU only, got device={device!r}")
    return default_float_dtype() if dtype is None else xp.dtype(dtype)


def _positive(name: str, what: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, xp.integer)) or value <= 0:
        raise ValueError(f"{name}: {what} must be a positive integer, got {value!r}")
    return int(value)


def _affine_parameters(module: Module, affine: bool, bias: bool, n: int, dtype: Any) -> None:
    """γ (``weight``, ones) and, with ``bias``, β (``bias``, zeros) of n channels, or None."""
    if affine:
        module.weight = Parameter(xp.ones(n, dtype=dtype))
        if bias:
            module.bias = Parameter(xp.zeros(n, dtype=dtype))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


class GroupNorm(Module):
    """Standardize each group of ``num_channels / num_groups`` channels of each example over its
    channels and positions, then scale and shift every channel: y = γ_c x̂ + β_c.

    Args:
        num_groups: G, the number of groups (it must divide ``num_channels``).
        num_channels: C, the channels of the input (N, C, ...).
        eps: ε added to the variance.
        affine: learn γ (``weight``, ones) and β (``bias``, zeros), one per channel.
        bias: learn β (with ``affine``).
        dtype: of the parameters (default: the default float dtype).
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True):
        super().__init__()
        dtype = _cpu_dtype("GroupNorm", device, dtype)
        self.num_groups = _positive("GroupNorm", "num_groups", num_groups)
        self.num_channels = _positive("GroupNorm", "num_channels", num_channels)
        if self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.eps, self.affine = check_eps("GroupNorm", eps), bool(affine)
        _affine_parameters(self, self.affine, bias, self.num_channels, dtype)

    def reset_parameters(self) -> None:
        """γ = 1, β = 0."""
        if self.weight is not None:
            self.weight.array[...] = 1
        if self.bias is not None:
            self.bias.array[...] = 0

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim >= 2 and x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm({self.num_groups}, {self.num_channels}): the input has "
                             f"{x.shape[1]} channels (shape {x.shape}) but the layer normalizes "
                             f"{self.num_channels}")
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(Module):
    """Shared code of InstanceNorm1d/2d/3d; subclasses give the rank of an unbatched input."""

    _unbatched = 0  # the rank of an input without the batch dimension
    _layout = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device: Any = None,
                 dtype: Any = None, *, bias: bool = True):
        super().__init__()
        name = type(self).__name__
        dtype = _cpu_dtype(name, device, dtype)
        self.num_features = _positive(name, "num_features", num_features)
        if momentum is not None and (isinstance(momentum, bool)
                                     or not isinstance(momentum, (int, float))
                                     or not 0.0 <= momentum <= 1.0):
            raise ValueError(f"{name}: momentum must be a number in [0, 1] or None, got "
                             f"{momentum!r}")
        self.eps, self.momentum = check_eps(name, eps), momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        _affine_parameters(self, self.affine, bias, self.num_features, dtype)
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor(xp.zeros(self.num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(xp.ones(self.num_features, dtype=dtype)))
            # PyTorch keeps this buffer (for state-dict compatibility) but never counts with it.
            self.register_buffer("num_batches_tracked", Tensor(xp.array(0, dtype=xp.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1."""
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self) -> None:
        """γ = 1, β = 0 and fresh running statistics."""
        self.reset_running_stats()
        if self.weight is not None:
            self.weight.array[...] = 1
        if self.bias is not None:
            self.bias.array[...] = 0

    def forward(self, x: Tensor) -> Tensor:
        name, rank = type(self).__name__, self._unbatched
        if x.ndim not in (rank, rank + 1):
            raise ValueError(f"{name}: expected a {rank}-D (unbatched) or {rank + 1}-D input "
                             f"{self._layout}, got shape {x.shape}")
        channel_dim = x.ndim - rank
        if x.shape[channel_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"{name}({self.num_features}): the input has "
                                 f"{x.shape[channel_dim]} channels at dim={channel_dim} (shape "
                                 f"{x.shape}) but the layer normalizes {self.num_features}")
            warnings.warn(f"{name}({self.num_features}): the input's size at dim={channel_dim} "
                          f"is {x.shape[channel_dim]}, not num_features; num_features is "
                          "unused because affine=False", stacklevel=2)
        unbatched = x.ndim == rank
        if unbatched:
            x = x.unsqueeze(0)
        # PyTorch's rule: momentum None counts as 0 here (no cumulative average).
        y = instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          self.training or not self.track_running_stats,
                          0.0 if self.momentum is None else self.momentum, self.eps)
        return y.squeeze(0) if unbatched else y

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of (N, C, L) or (C, L) inputs: every channel of every example is
    standardized over its L positions, y = γ (x − μ)/√(σ² + ε) + β.

    Args:
        num_features: C.
        eps: ε added to the variance.
        momentum: weight of the new statistics in the running averages (None counts as 0).
        affine: learn γ (weight, ones) and β (bias, zeros), one per channel (default False).
        track_running_stats: keep running averages, used in evaluation mode (default False:
            the input's statistics in both modes).
        bias: learn β (with ``affine``).
        dtype: of the parameters and buffers.
    """

    _unbatched = 2
    _layout = "(C, L) or (N, C, L)"


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of (N, C, H, W) or (C, H, W) inputs, per example and channel over
    the H × W positions (style transfer's normalization).

    Args:
        num_features: C.
        eps: ε added to the variance.
        momentum: weight of the new statistics in the running averages (None counts as 0).
        affine: learn γ (weight, ones) and β (bias, zeros), one per channel (default False).
        track_running_stats: keep running averages, used in evaluation mode (default False).
        bias: learn β (with ``affine``).
        dtype: of the parameters and buffers.
    """

    _unbatched = 3
    _layout = "(C, H, W) or (N, C, H, W)"


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of (N, C, D, H, W) or (C, D, H, W) inputs, per example and channel
    over the D × H × W positions.

    Args:
        num_features: C.
        eps: ε added to the variance.
        momentum: weight of the new statistics in the running averages (None counts as 0).
        affine: learn γ (weight, ones) and β (bias, zeros), one per channel (default False).
        track_running_stats: keep running averages, used in evaluation mode (default False).
        bias: learn β (with ``affine``).
        dtype: of the parameters and buffers.
    """

    _unbatched = 4
    _layout = "(C, D, H, W) or (N, C, D, H, W)"


class RMSNorm(Module):
    """Divide each example by the root mean square of its last dimensions, then scale:
    y = x / √(mean(x²) + ε) ⊙ γ (see ``ops.rms_norm``). No mean is subtracted and there is no β.

    Args:
        normalized_shape: the trailing shape to normalize over (an int: the last dimension).
        eps: ε added to the mean square; None: the machine epsilon of the input's dtype.
        elementwise_affine: learn γ (``weight``, ones) of shape ``normalized_shape``.
        dtype: of the parameter.
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float | None = None,
                 elementwise_affine: bool = True, device: Any = None, dtype: Any = None):
        super().__init__()
        dtype = _cpu_dtype("RMSNorm", device, dtype)
        try:
            self.normalized_shape = normalized_shape_tuple(normalized_shape)
        except ValueError:
            raise ValueError(f"RMSNorm: normalized_shape must be a positive int or a non-empty "
                             f"tuple of them, got {normalized_shape!r}") from None
        self.eps = None if eps is None else check_eps("RMSNorm", eps)
        self.elementwise_affine = bool(elementwise_affine)
        if self.elementwise_affine:
            self.weight = Parameter(xp.ones(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self) -> None:
        """γ = 1."""
        if self.weight is not None:
            self.weight.array[...] = 1

    def forward(self, x: Tensor) -> Tensor:
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
