"""The fully connected layer z = Wx + b (Lecture 5) with PyTorch's weight layout and init."""

from __future__ import annotations

import math
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import default_float_dtype, xp
from neuralab.nn import init
from neuralab.nn.module import Module, Parameter
from neuralab.ops.linalg import linear

__all__ = ["Linear"]


class Linear(Module):
    """z = x Wᵀ + b: every output unit is a weighted sum of every input plus a bias.

    Args:
        in_features: size of each input example (the last dimension of x).
        out_features: number of output units.
        bias: whether to learn the bias b.
        dtype: parameter dtype (float32 by default).

    Attributes:
        weight: (out_features, in_features), initialised U(−1/√in, 1/√in) as PyTorch does
            (kaiming_uniform_ with a = √5).
        bias: (out_features,), U(−1/√in, 1/√in), or None.

    Shapes: x (*, in_features) -> z (*, out_features).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: Any = None):
        super().__init__()
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(n, bool) or not isinstance(n, (int, xp.integer)) or n <= 0:
                raise ValueError(f"Linear: {name} must be a positive integer, got {n!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        dtype = default_float_dtype() if dtype is None else xp.dtype(dtype)
        self.weight = Parameter(xp.zeros((out_features, in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(xp.zeros((out_features,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=√5) gives U(−1/√fan_in, 1/√fan_in)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        if self.bias is None:
            return linear(x, self.weight)
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
