"""Nonlinearities as modules (Lecture 5): without them a deep network is one linear map."""

from __future__ import annotations

from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.nn.module import Module, Parameter
from neuralab.ops import activation as _act
from neuralab.ops.elementwise import elu, gelu, leaky_relu, relu, sigmoid, softplus, tanh
from neuralab.ops.reduce import log_softmax, softmax

__all__ = [
    "ReLU", "LeakyReLU", "ELU", "GELU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Softplus",
    "Hardtanh", "ReLU6", "SiLU", "Mish", "Hardswish", "Hardsigmoid", "Softsign", "LogSigmoid",
    "SELU", "CELU", "GLU", "Softmin", "Tanhshrink", "Softshrink", "Hardshrink", "Threshold",
    "PReLU", "Softmax2d",
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


class Softmax2d(Module):
    """Softmax over the channels at every position of (N, C, H, W) or (C, H, W) inputs: each
    pixel's C scores become probabilities (dim -3), as ``torch.nn.Softmax2d``."""

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, "
                             f"got shape {x.shape}")
        return softmax(x, -3)


class LogSoftmax(Module):
    """log softmax(x) along ``dim``; pair it with ``NLLLoss``."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return log_softmax(x, _softmax_dim(x.ndim) if self.dim is None else self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class _Elementwise(Module):
    """An activation without parameters: ``forward`` applies its function to the input.

    ``inplace`` is accepted for PyTorch's signatures; the result is always a new tensor.
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardtanh(_Elementwise):
    """x clipped into [min_val, max_val]."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__(inplace)
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x: Tensor) -> Tensor:
        return _act.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (
            ", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """min(max(x, 0), 6)."""

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class SiLU(_Elementwise):
    """x σ(x) (swish)."""

    def forward(self, x: Tensor) -> Tensor:
        return _act.silu(x)


class Mish(_Elementwise):
    """x tanh(softplus(x))."""

    def forward(self, x: Tensor) -> Tensor:
        return _act.mish(x)


class Hardswish(_Elementwise):
    """x · relu6(x + 3)/6."""

    def forward(self, x: Tensor) -> Tensor:
        return _act.hardswish(x)


class Hardsigmoid(_Elementwise):
    """relu6(x + 3)/6."""

    def forward(self, x: Tensor) -> Tensor:
        return _act.hardsigmoid(x)


class SELU(_Elementwise):
    """Scaled ELU (α ≈ 1.6733, scale ≈ 1.0507)."""

    def forward(self, x: Tensor) -> Tensor:
        return _act.selu(x)


class CELU(_Elementwise):
    """max(0, x) + min(0, α(e^(x/α) − 1))."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__(inplace)
        if alpha == 0:
            raise ValueError("CELU: alpha must not be 0 (it divides x)")
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        return _act.celu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Softsign(Module):
    """x / (1 + |x|)."""

    def forward(self, x: Tensor) -> Tensor:
        return _act.softsign(x)


class LogSigmoid(Module):
    """ln σ(x)."""

    def forward(self, x: Tensor) -> Tensor:
        return _act.logsigmoid(x)


class Tanhshrink(Module):
    """x − tanh x."""

    def forward(self, x: Tensor) -> Tensor:
        return _act.tanhshrink(x)


class GLU(Module):
    """a ⊙ σ(b), a and b the halves of the input along ``dim``."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return _act.glu(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmin(Module):
    """softmax(−x) along ``dim``."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return _act.softmin(x, _softmax_dim(x.ndim) if self.dim is None else self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softshrink(Module):
    """x ∓ λ outside [−λ, λ], 0 inside."""

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        if lambd < 0:
            raise ValueError(f"Softshrink: lambd must be non-negative, got {lambd}")
        self.lambd = lambd

    def forward(self, x: Tensor) -> Tensor:
        return _act.softshrink(x, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardshrink(Softshrink):
    """x outside [−λ, λ], 0 inside."""

    def forward(self, x: Tensor) -> Tensor:
        return _act.hardshrink(x, self.lambd)


class Threshold(_Elementwise):
    """x where x > ``threshold``, else ``value``."""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__(inplace)
        self.threshold, self.value = threshold, value

    def forward(self, x: Tensor) -> Tensor:
        return _act.threshold(x, self.threshold, self.value)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + (
            ", inplace=True" if self.inplace else "")


class PReLU(Module):
    """x for x > 0, a·x otherwise, with learned slopes ``weight`` (``num_parameters`` of them:
    1, or one per channel), initialised to ``init``."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype: Any = None):
        super().__init__()
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, int) \
                or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive int, got "
                             f"{num_parameters!r}")
        self.num_parameters = num_parameters
        self.weight = Parameter(xp.full((num_parameters,), init,
                                        dtype=xp.float32 if dtype is None else dtype))

    def forward(self, x: Tensor) -> Tensor:
        return _act.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
