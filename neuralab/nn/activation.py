"""Nonlinearities as modules (Lecture 5): without them a deep network is one linear map."""

from __future__ import annotations

from neuralab.autograd.tensor import Tensor
from neuralab.nn.module import Module
from neuralab.ops.elementwise import elu, gelu, leaky_relu, relu, sigmoid, softplus, tanh
from neuralab.ops.reduce import log_softmax, softmax

__all__ = [
    "ReLU", "LeakyReLU", "ELU", "GELU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Softplus",
]


class ReLU(Module):
    """max(0, x) elementwise. ``inplace`` is accepted for PyTorch compatibility and ignored."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return relu(x)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x for x > 0, ``negative_slope``·x otherwise (keeps a gradient for negative inputs)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x: Tensor) -> Tensor:
        return leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x for x > 0, α(eˣ − 1) otherwise."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x: Tensor) -> Tensor:
        return elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """x Φ(x) (``approximate='tanh'`` for the tanh approximation)."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate='{self.approximate}'"


class Sigmoid(Module):
    """σ(x) = 1/(1 + e⁻ˣ), the logistic unit (Lectures 4-5)."""

    def forward(self, x: Tensor) -> Tensor:
        return sigmoid(x)


class Tanh(Module):
    """tanh x, the zero-centred squashing unit (Lecture 5)."""

    def forward(self, x: Tensor) -> Tensor:
        return tanh(x)


class Softplus(Module):
    """(1/β) ln(1 + e^(βx)), a smooth ReLU; linear where βx > ``threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Tensor) -> Tensor:
        return softplus(x, beta=self.beta, threshold=self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


def _softmax_dim(ndim: int) -> int:
    """PyTorch's legacy choice when ``dim`` is omitted: 0 for 0-, 1- and 3-d inputs, else 1."""
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """exp(xᵢ)/Σⱼ exp(xⱼ) along ``dim`` (Lecture 4): scores to probabilities.

    For training a classifier, feed the raw scores to ``CrossEntropyLoss`` instead (it fuses the
    softmax, more stably).
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return softmax(x, _softmax_dim(x.ndim) if self.dim is None else self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log softmax(x) along ``dim``; pair it with ``NLLLoss``."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return log_softmax(x, _softmax_dim(x.ndim) if self.dim is None else self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
