"""Random layers of ``neuralab.ops.stochastic``: the randomized leaky ReLU and alpha dropout,
random while ``train()``, their expectation (RReLU: the mean slope; alpha dropout: the identity)
after ``eval()``."""

from __future__ import annotations

from neuralab.autograd.tensor import Tensor
from neuralab.nn.dropout import Dropout
from neuralab.nn.module import Module
from neuralab.ops.stochastic import alpha_dropout, check_rrelu_bounds, feature_alpha_dropout, rrelu

__all__ = ["RReLU", "AlphaDropout", "FeatureAlphaDropout"]


class RReLU(Module):
    """x for x > 0, a·x otherwise: a ~ U(lower, upper) per element while training, a =
    (lower + upper)/2 in evaluation.

    Args:
        lower, upper: the range of the random negative slopes.
        inplace: write the result into the input.
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        check_rrelu_bounds("RReLU", lower, upper)
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, x: Tensor) -> Tensor:
        return rrelu(x, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace
                                                            else "")


class AlphaDropout(Dropout):
    """Alpha dropout for SELU networks while training (dropped units take SELU's saturation
    value, then an affine correction keeps zero mean and unit variance); the identity in
    evaluation.

    Args:
        p: the probability of dropping an element, in [0, 1].
        inplace: write the result into the input.
    """

    def forward(self, x: Tensor) -> Tensor:
        return alpha_dropout(x, self.p, self.training, self.inplace)


class FeatureAlphaDropout(Dropout):
    """Alpha dropout of whole channels of (N, C, ...) inputs while training; the identity in
    evaluation."""

    def forward(self, x: Tensor) -> Tensor:
        return feature_alpha_dropout(x, self.p, self.training, self.inplace)
