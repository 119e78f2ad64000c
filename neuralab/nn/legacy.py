"""PyTorch's legacy layers, kept so that old programs run: ``CrossMapLRN2d`` (the local response
normalisation of Lua Torch's ``SpatialCrossMapLRN``) and ``NLLLoss2d`` (now plain ``NLLLoss``)."""

from __future__ import annotations

import warnings
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.nn.loss import NLLLoss
from neuralab.nn.module import Module
from neuralab.ops.einsum import einsum
from neuralab.ops.loss_regression import legacy_reduction

__all__ = ["CrossMapLRN2d", "NLLLoss2d"]


def _channel_window(size: int, channels: int) -> Any:
    """W (C, C): W[c, c'] = 1 when channel c' lies in channel c's window [c − p + 1, c + p − 1],
    p = ⌊(size − 1)/2 + 1⌋ (the centred window of an odd size; one channel narrower than
    ``size`` for an even size, as Lua Torch's SpatialCrossMapLRN)."""
    p = int((size - 1) / 2 + 1)
    c = xp.arange(channels)
    return (xp.abs(c[:, None] - c[None, :]) <= p - 1).astype(xp.float64)


class CrossMapLRN2d(Module):
    """Local response normalisation across channels of (N, C, H, W) input (Lecture 12's AlexNet):

        b_c = a_c / (k + α/size · Σ_{c' ∈ window(c)} a_{c'}²)^β,

    window(c) the channels within ⌊(size − 1)/2⌋ of c. The gradient is the exact derivative
    (autograd through the composition).

    Note: PyTorch's own CrossMapLRN2d (a port of Lua Torch) never drops channel 0 from the
    running window sum of channels c ≥ ⌊(size − 1)/2⌋ + 1, and its backward pass is the gradient
    of the intended window; neuralab computes the intended window throughout, which agrees with
    PyTorch whenever C ≤ ⌊(size − 1)/2⌋ + 1 or channel 0 is zero. For an odd size it equals
    ``LocalResponseNorm(size, alpha, beta, k)``.

    Args:
        size: the number of neighbouring channels in the window.
        alpha: multiplicative factor α.
        beta: exponent β.
        k: additive constant.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1) -> None:
        super().__init__()
        if isinstance(size, bool) or not isinstance(size, (int, xp.integer)) or size < 1:
            raise ValueError(f"CrossMapLRN2d: size must be a positive int, got {size!r}")
        self.size, self.alpha, self.beta, self.k = int(size), alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if not isinstance(input, Tensor):
            raise TypeError(f"CrossMapLRN2d: input must be a Tensor, got {type(input).__name__}")
        if input.ndim != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D "
                             f"instead (shape {tuple(input.shape)})")
        if input.dtype.kind != "f":
            raise TypeError(f"CrossMapLRN2d: input must be a floating-point tensor, got "
                            f"{input.dtype}; convert it with .float()")
        window = Tensor._from_op(_channel_window(self.size, input.shape[1]).astype(input.dtype),
                                 None, 0)
        scale = einsum("dc,nchw->ndhw", window, input * input) * (self.alpha / self.size) + self.k
        return input * scale ** (-self.beta)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class NLLLoss2d(NLLLoss):
    """Deprecated alias of :class:`NLLLoss` (which handles (N, C, H, W) input itself); warns
    with a FutureWarning on construction, as PyTorch."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 ignore_index: int = -100, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        warnings.warn("`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a "
                      "drop-in replacement.", FutureWarning, stacklevel=2)
        super().__init__(weight, ignore_index, legacy_reduction(size_average, reduce, reduction))
