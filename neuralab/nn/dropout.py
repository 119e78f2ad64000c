"""Dropout layers (Lecture 9): active in ``train()`` mode, the identity after ``eval()``."""

from __future__ import annotations

from neuralab.autograd.tensor import Tensor
from neuralab.nn.module import Module
from neuralab.ops.dropout import check_p, dropout, dropout1d, dropout2d, dropout3d

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"]


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


class Dropout1d(Dropout):
    """Zero whole channels of (N, C, L) or (C, L) inputs with probability ``p`` while training
    (for 1-d convolutional feature maps), scaling the rest by 1/(1 − p)."""

    def forward(self, x: Tensor) -> Tensor:
        return dropout1d(x, self.p, self.training)


class Dropout3d(Dropout):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs with probability ``p`` while
    training (for 3-d convolutional feature maps), scaling the rest by 1/(1 − p)."""

    def forward(self, x: Tensor) -> Tensor:
        return dropout3d(x, self.p, self.training)
