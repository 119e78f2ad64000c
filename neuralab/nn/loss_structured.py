"""Loss modules of ``neuralab.ops.loss_structured``: the multi-label hinge loss, the triplet loss
with any distance and the CTC loss, with PyTorch's constructor arguments."""

from __future__ import annotations

from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.nn.loss import _Loss
from neuralab.nn.loss_regression import _LegacyLoss
from neuralab.ops.loss_structured import (
    ctc_loss,
    multilabel_margin_loss,
    triplet_margin_with_distance_loss,
)

__all__ = ["MultiLabelMarginLoss", "TripletMarginWithDistanceLoss", "CTCLoss"]


class MultiLabelMarginLoss(_LegacyLoss):
    """Multi-label hinge loss Σ_{j ∈ y} Σ_{i ∉ y} max(0, 1 − (x_j − x_i)) / C; each target row
    lists its correct classes and ends the list with −1."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return multilabel_margin_loss(input, target, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """max(0, d(a, p) − d(a, n) + margin) with ``distance_function`` d (default: Euclidean
    ``pairwise_distance``); ``swap`` uses min(d(a, n), d(p, n))."""

    def __init__(self, *, distance_function: Any = None, margin: float = 1.0,
                 swap: bool = False, reduction: str = "mean"):
        super().__init__(reduction)
        self.distance_function = distance_function
        self.margin, self.swap = margin, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)


class CTCLoss(_Loss):
    """Connectionist temporal classification: ``forward(log_probs, targets, input_lengths,
    target_lengths)`` as :func:`~neuralab.ops.loss_structured.ctc_loss`.

    Args:
        blank: the blank class.
        reduction: 'none', 'sum', or 'mean' (each loss over its target length, then the batch
            mean).
        zero_infinity: zero the infinite losses and their gradients.
    """

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False):
        super().__init__(reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs: Tensor, targets: Tensor, input_lengths: Any,
                target_lengths: Any) -> Tensor:
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                        self.reduction, self.zero_infinity)
