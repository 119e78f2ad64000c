"""``nn.LinearCrossEntropyLoss``: a classifier's last linear layer and its cross-entropy in one
module (Lecture 4), as PyTorch's; the computation is ``F.linear_cross_entropy``."""

from __future__ import annotations

import math
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.nn.linear import Linear
from neuralab.nn.loss import _WeightedLoss
from neuralab.ops.loss_linear import (
    LinearCrossEntropyError,
    LinearCrossEntropyOptions,
    linear_cross_entropy,
)

__all__ = ["LinearCrossEntropyLoss", "LinearCrossEntropyOptions"]


class LinearCrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of the scores of a learned linear layer: ℓ = CE(W x + b, t).

    Args:
        in_features: D, the size of each input.
        num_classes: C.
        out_features: (d₁, ..., d_K) for a K-dimensional loss (scores (N, C, d₁, ..., d_K)).
        bias: learn a bias (default False, as PyTorch).
        dtype: of the weight (default float32).
        reduction, weight, ignore_index, label_smoothing, options: as
            ``F.linear_cross_entropy``.

    Parameters (PyTorch's names): ``linear`` a Linear(D, C·d₁⋯d_K), reshaped to
    (C, d₁, ..., d_K, D) in ``forward``.
    """

    def __init__(self, in_features: int, num_classes: int, *, out_features: tuple[int, ...] = (),
                 bias: bool = False, device: Any = None, dtype: Any = None,
                 reduction: str = "mean", weight: Tensor | None = None,
                 ignore_index: int | None = None, label_smoothing: float = 0.0,
                 options: LinearCrossEntropyOptions | None = None):
        name = "LinearCrossEntropyLoss"
        if device is not None and str(device) != "cpu":
            raise ValueError(f"{name}: neuralab runs on the CPU only, got device={device!r}")
        for what, n in (("in_features", in_features), ("num_classes", num_classes),
                        *((f"out_features[{i}]", d) for i, d in enumerate(out_features))):
            if isinstance(n, bool) or not isinstance(n, (int, xp.integer)) or n <= 0:
                raise ValueError(f"{name}: {what} must be a positive integer, got {n!r}")
        if weight is not None and tuple(weight.shape) != (num_classes,):
            raise LinearCrossEntropyError(f"{name}: expected weight shape to be "
                                          f"{(num_classes,)}, got {tuple(weight.shape)}")
        if not 0.0 <= label_smoothing <= 1.0:
            raise LinearCrossEntropyError(f"{name}: expected label_smoothing to be in range "
                                          f"[0, 1], got {label_smoothing}")
        if options is not None and not isinstance(options, LinearCrossEntropyOptions):
            raise TypeError(f"{name}: options must be a LinearCrossEntropyOptions or None, got "
                            f"{type(options).__name__}")
        super().__init__(weight, reduction)
        self.num_classes = int(num_classes)
        self.out_features = tuple(int(d) for d in out_features)
        self.ignore_index, self.label_smoothing, self.options = (ignore_index, label_smoothing,
                                                                 options)
        self.linear = Linear(in_features, math.prod(self.out_features, start=self.num_classes),
                             bias=bias, dtype=dtype)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        shape = (self.num_classes, *self.out_features)
        w = self.linear.weight.reshape(*shape, self.linear.in_features)
        b = None if self.linear.bias is None else self.linear.bias.reshape(*shape)
        return linear_cross_entropy(input, w, target, linear_bias=b, weight=self.weight,
                                    reduction=self.reduction, ignore_index=self.ignore_index,
                                    label_smoothing=self.label_smoothing, options=self.options)

    def extra_repr(self) -> str:
        return (f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
                f"out_features={self.out_features}, bias={self.linear.bias is not None}, "
                f"reduction={self.reduction}, ignore_index={self.ignore_index}, "
                f"label_smoothing={self.label_smoothing}, options={self.options}")
