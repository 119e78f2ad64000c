"""Layer normalization as a layer (Ba, Kiros & Hinton, 2016), as ``torch.nn.LayerNorm``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import default_float, xp
from neuralab.nn.module import Module, Parameter
from neuralab.ops.layer_norm import layer_norm, normalized_shape_tuple

__all__ = ["LayerNorm"]


class LayerNorm(Module):
    """Standardize each example over its last dimensions, then scale and shift elementwise:
    y = γ ⊙ (x − μ)/√(σ² + ε) + β, with μ, σ² over ``normalized_shape`` (see ``ops.layer_norm``).

    Unlike batch norm there are no running statistics: training and evaluation agree.

    Args:
        normalized_shape: the trailing shape to normalize over (an int: the last dimension).
        eps: ε added to the variance.
        elementwise_affine: learn γ (``weight``, ones) and β (``bias``, zeros) of shape
            ``normalized_shape``.
        bias: learn β (with ``elementwise_affine``).
        dtype: of the parameters (default float32).
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: Any = None,
                 dtype: Any = None):
        super().__init__()
        if device is not None and str(device) != "cpu":
            raise ValueError(f"LayerNorm: neuralab runs on the CPU only, got device={device!r}")
        self.normalized_shape = normalized_shape_tuple(normalized_shape)
        if not isinstance(eps, (int, float)) or isinstance(eps, bool) or not eps > 0:
            raise ValueError(f"LayerNorm: eps must be a positive number, got {eps!r}")
        self.eps, self.elementwise_affine = float(eps), bool(elementwise_affine)
        dtype = default_float if dtype is None else xp.dtype(dtype)
        if self.elementwise_affine:
            self.weight = Parameter(xp.ones(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(xp.zeros(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """γ = 1, β = 0."""
        if self.weight is not None:
            self.weight.array[...] = 1
        if self.bias is not None:
            self.bias.array[...] = 0

    def forward(self, x: Tensor) -> Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
