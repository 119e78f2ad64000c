"""``nn.Bilinear``: y = x₁ᵀ A x₂ + b, one matrix A_o per output unit (see ``ops.bilinear``)."""

from __future__ import annotations

import math
from typing import Any

from neuralab import devices
from neuralab.autograd.tensor import Tensor
from neuralab.backend import default_float_dtype, xp
from neuralab.nn import init
from neuralab.nn.module import Module, Parameter
from neuralab.ops.bilinear import bilinear

__all__ = ["Bilinear"]


class Bilinear(Module):
    """A bilinear layer, as ``torch.nn.Bilinear``: y_o = x₁ᵀ A_o x₂ + b_o.

    Args:
        in1_features: size of each first input (its last dimension).
        in2_features: size of each second input.
        out_features: number of output units.
        bias: whether to learn b.
        device: accepted for PyTorch compatibility (the CPU).
        dtype: parameter dtype (float32 by default).

    Attributes:
        weight: (out_features, in1_features, in2_features), U(−1/√in1, 1/√in1) as PyTorch's.
        bias: (out_features,), U(−1/√in1, 1/√in1), or None.

    Shapes: x₁ (*, in1), x₂ (*, in2) -> (*, out_features).
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device: Any = None, dtype: Any = None):
        super().__init__()
        devices.check(device, "Bilinear")
        for name, n in (("in1_features", in1_features), ("in2_features", in2_features),
                        ("out_features", out_features)):
            if isinstance(n, bool) or not isinstance(n, (int, xp.integer)) or n <= 0:
                raise ValueError(f"Bilinear: {name} must be a positive integer, got {n!r}")
        self.in1_features, self.in2_features = int(in1_features), int(in2_features)
        self.out_features = int(out_features)
        dtype = default_float_dtype() if dtype is None else xp.dtype(dtype)
        self.weight = Parameter(xp.zeros((out_features, in1_features, in2_features),
                                         dtype=dtype))
        if bias:
            self.bias = Parameter(xp.zeros((out_features,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: weight and bias U(−1/√in1_features, 1/√in1_features)."""
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
