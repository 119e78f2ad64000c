"""Loss modules of ``neuralab.ops.loss_regression``: smooth L1, Huber, KL divergence, Poisson and
Gaussian negative log-likelihoods, with PyTorch's constructor arguments."""

from __future__ import annotations

from neuralab.autograd.tensor import Tensor
from neuralab.nn.loss import _Loss
from neuralab.nn.module import Module
from neuralab.ops.loss import check_reduction
from neuralab.ops.loss_regression import (
    gaussian_nll_loss,
    huber_loss,
    kl_div,
    legacy_reduction,
    poisson_nll_loss,
    smooth_l1_loss,
)

__all__ = ["SmoothL1Loss", "HuberLoss", "KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss"]


class _LegacyLoss(_Loss):
    """A loss that still takes PyTorch's deprecated ``size_average`` and ``reduce`` flags."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean"):
        super().__init__(legacy_reduction(size_average, reduce, reduction))


class SmoothL1Loss(_LegacyLoss):
    """Smooth L1 loss: ½(x − y)²/β inside |x − y| < β, |x − y| − ½β outside (beta=0: L1)."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Huber loss: ½(x − y)² inside |x − y| < δ, δ(|x − y| − ½δ) outside."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(Module):
    """KL(target ‖ p) for log-probabilities ``input`` = log p; use ``reduction='batchmean'`` for
    the divergence per example ('mean' averages over every element, and warns as PyTorch)."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", log_target: bool = False):
        super().__init__()
        reduction = legacy_reduction(size_average, reduce, reduction)
        if reduction != "batchmean":
            check_reduction("KLDivLoss", reduction)
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return kl_div(input, target, reduction=self.reduction, log_target=self.log_target)

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction='{self.reduction}'"


class PoissonNLLLoss(_LegacyLoss):
    """Poisson negative log-likelihood of counts: eˣ − y x for log-rates x (``log_input``)."""

    def __init__(self, log_input: bool = True, full: bool = False,
                 size_average: bool | None = None, eps: float = 1e-8,
                 reduce: bool | None = None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full,
                                eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood ½(log var + (x − y)²/var); ``forward(input, target,
    var)``."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
        super().__init__(reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Tensor, var: Tensor | float) -> Tensor:  # noqa: A002
        return gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                 reduction=self.reduction)
