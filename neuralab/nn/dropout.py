"""Dropout layers (Lecture 9): active in ``train()`` mode, the identity after ``eval()``."""

from __future__ import annotations

from neuralab.autograd.tensor import Tensor
from neuralab.nn.module import Module
from neuralab.ops.dropout import check_p, dropout, dropout2d

__all__ = ["Dropout", "Dropout2d"]


class Dropout(Module):
    """Zero each element with probability ``p`` while training, scaling the rest by 1/(1 − p).

    Args:
        p: the probability of dropping an element, in [0, 1].
        inplace: accepted for PyTorch compatibility and ignored.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        check_p(type(self).__name__, p)
        self.p, self.inplace = p, inplace

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) or (C, H, W) inputs with probability ``p`` while
    training (for convolutional feature maps)."""

    def forward(self, x: Tensor) -> Tensor:
        return dropout2d(x, self.p, self.training)
