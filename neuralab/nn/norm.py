"""Normalization layers (Lecture 12): batch normalization and local response normalization."""

from __future__ import annotations

from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import default_float_dtype, xp
from neuralab.nn import init
from neuralab.nn.module import Module, Parameter
from neuralab.ops.norm import batch_norm, local_response_norm

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LocalResponseNorm"]


class _BatchNorm(Module):
    """Shared code of BatchNorm1d/2d; subclasses say which input ranks they accept."""

    _ranks: tuple[int, ...] = ()
    _layout = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, dtype: Any = None, *,
                 bias: bool = True):
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, (int, xp.integer)) \
                or num_features <= 0:
            raise ValueError(f"{name}: num_features must be a positive integer, got "
                             f"{num_features!r}")
        if eps <= 0:
            raise ValueError(f"{name}: eps must be positive, got {eps!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None (cumulative average), "
                             f"got {momentum!r}")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = default_float_dtype() if dtype is None else xp.dtype(dtype)
        if affine:
            self.weight = Parameter(xp.ones(num_features, dtype=dtype))
            if bias:
                self.bias = Parameter(xp.zeros(num_features, dtype=dtype))
            else:  # γ only (PyTorch's keyword-only bias=False)
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(xp.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(xp.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(xp.array(0, dtype=xp.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batch seen."""
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self) -> None:
        """γ = 1, β = 0 and fresh running statistics."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        if x.ndim not in self._ranks:  # PyTorch's words first; no unbatched form, as PyTorch
            ranks = (f"at least {self._ranks[0]}D" if len(self._ranks) > 2 else
                     " or ".join(f"{r}D" for r in self._ranks))
            raise ValueError(f"{name}: expected {ranks} input (got {x.ndim}D input): the input "
                             f"must be {self._layout}, got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{name}({self.num_features}): the input has {x.shape[1]} channels "
                             f"(shape {x.shape}) but the layer normalizes {self.num_features}; "
                             "give num_features the number of channels of the layer before")
        # PyTorch's rule: momentum None means a cumulative average, factor 1/batches seen.
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array += 1
            if self.momentum is None:
                factor = 1.0 / int(self.num_batches_tracked.array)
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return batch_norm(x, self.running_mean if track else None,
                          self.running_var if track else None, self.weight, self.bias,
                          use_batch_stats, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) inputs, per feature/channel C.

    y = γ (x − μ)/√(var + ε) + β with the batch statistics while training (the running
    averages are updated with ``momentum``) and the running averages in evaluation mode.

    Args:
        num_features: C.
        eps: ε added to the variance.
        momentum: weight of the new batch in the running averages; None = cumulative average.
        affine: learn γ (weight, ones) and β (bias, zeros).
        track_running_stats: keep running_mean, running_var and num_batches_tracked buffers.
        bias: (keyword only) with affine, whether to learn β too; False keeps γ alone.
    """

    _ranks = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) inputs, per channel (statistics over N, H, W).

    Args:
        num_features: C.
        eps: ε added to the variance.
        momentum: weight of the new batch in the running averages; None = cumulative average.
        affine: learn γ (weight, ones) and β (bias, zeros).
        track_running_stats: keep running_mean, running_var and num_batches_tracked buffers.
        bias: (keyword only) with affine, whether to learn β too; False keeps γ alone.
    """

    _ranks = (4,)
    _layout = "(N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch normalization of (N, C, D, H, W) volumes, per channel (statistics over N, D, H, W).

    Args:
        num_features: C.
        eps: ε added to the variance.
        momentum: weight of the new batch in the running averages; None = cumulative average.
        affine: learn γ (weight, ones) and β (bias, zeros).
        track_running_stats: keep running_mean, running_var and num_batches_tracked buffers.
        bias: (keyword only) with affine, whether to learn β too; False keeps γ alone.
    """

    _ranks = (5,)
    _layout = "(N, C, D, H, W)"


class LocalResponseNorm(Module):
    """Local response normalization across channels (AlexNet), y = x / (k + α/n Σ x²)^β.

    Args:
        size: n, the number of neighbouring channels.
        alpha, beta, k: constants of the formula.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"LocalResponseNorm: size must be a positive int, got {size!r}")
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x: Tensor) -> Tensor:
        return local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
