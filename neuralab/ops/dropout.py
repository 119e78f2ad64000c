"""Dropout (Lecture 9, regularization): randomly silence units while training.

Inverted dropout keeps each unit with probability 1 − p and scales the kept ones by 1/(1 − p), so
the expected activation is unchanged and evaluation needs no rescaling: at test time the layer
is the identity.
"""

from __future__ import annotations

import warnings
from typing import Any

from neuralab import kernels
from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import rng, xp
from neuralab.ops._checks import require_float

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d"]


def check_p(op: str, p: Any) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability p must be a number in [0, 1], got {p!r} "
                         "(p is the probability of DROPPING a unit, not of keeping it)")


class Dropout(Function):
    """z = x ⊙ m / (1 − p), mᵢ ~ Bernoulli(1 − p) drawn once per call.   x̄ = z̄ ⊙ m / (1 − p).

    ``mask_shape`` lets whole channels share one draw (dropout2d: (N, C, 1, 1)).
    """

    @staticmethod
    def check(x: Tensor, p: float = 0.5, mask_shape: tuple | None = None) -> None:
        require_float("dropout", "input", x)

    @staticmethod
    def forward(ctx, x, p=0.5, mask_shape=None):
        ctx.learner = kernels.learner("dropout")  # a learner's code (neuralab exercise train)
        if ctx.learner is not None:
            return ctx.learner.dropout_forward(ctx, x, p, mask_shape)
        shape = x.shape if mask_shape is None else mask_shape
        if p >= 1.0:
            scale = xp.zeros(shape, dtype=x.dtype)
        else:
            # Drawing in the input's dtype halves the cost of the mask for float32 activations.
            draw = rng().random(shape, dtype=x.dtype if x.dtype in (xp.float32, xp.float64)
                                else xp.float64)
            scale = (draw >= p) * x.dtype.type(1.0 / (1.0 - p))  # m / (1 − p)
            scale = scale.astype(x.dtype, copy=False)
        ctx.scale = scale
        return x * scale

    @staticmethod
    def backward(ctx, dout):
        if ctx.learner is not None:
            return ctx.learner.dropout_backward(ctx, dout)
        scale = ctx.scale
        dx = dout * scale
        return dx if dx.shape == dout.shape else xp.broadcast_to(dx, dout.shape)


def dropout(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
            inplace: bool = False) -> Tensor:
    """Inverted dropout: zero each element with probability ``p`` and scale the rest by
    1/(1 − p) while ``training``; the identity otherwise (Lecture 9).

    Args:
        input: any floating tensor.
        p: the probability of dropping an element, in [0, 1].
        training: apply dropout (pass ``self.training`` from a module).
        inplace: accepted for PyTorch compatibility; the result is always a new tensor.
    """
    check_p("dropout", p)
    if not training or p == 0.0:
        return input
    return Dropout.apply(input, p=float(p))


def _feature_mask(op: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The mask shape of PyTorch's feature dropout on a batch of this shape: one draw per
    (example, channel), shared by the rest, (N, C, 1, ..., 1)."""
    if len(shape) < 2:
        raise RuntimeError(f"{op}: Feature dropout requires at least 2 dimensions in the input, "
                           f"got shape {shape}")
    return shape[:2] + (1,) * (len(shape) - 2)


def _warn_rank(op: str, ndim: int, spatial: int) -> None:
    """PyTorch's deprecation warning for channel dropout on an input of another rank."""
    if ndim not in (spatial + 1, spatial + 2):
        warnings.warn(
            f"{op}: Received a {ndim}-D input to {op}, which is deprecated and will result in an "
            f"error in a future release. To retain the behavior and silence this warning, please "
            f"use dropout instead. Note that {op} exists to provide channel-wise dropout on "
            f"inputs with {spatial} spatial dimensions, a channel dimension, and an optional "
            f"batch dimension (i.e. {spatial + 1}D or {spatial + 2}D inputs).", stacklevel=3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Channel dropout: zero whole feature maps of (N, C, H, W) inputs with probability ``p``
    (neighbouring pixels are correlated, so dropping single pixels barely regularizes a
    convolutional layer).

    PyTorch's rules for other ranks, kept here: a 3-d input is read as a batch of sequences
    (N, C, L), not as one image (C, H, W), with a warning (use dropout1d for that, or
    ``dropout2d(x.unsqueeze(0)).squeeze(0)`` for one image); 2-d and 5-d or more inputs warn
    that they are deprecated and drop ``input[i, j]`` as a whole; fewer than 2 dimensions is an
    error.

    Args:
        input: a 4-d (N, C, H, W) floating tensor.
        p: the probability of dropping a channel, in [0, 1].
        training: apply dropout (pass ``self.training``).
        inplace: accepted for PyTorch compatibility.
    """
    check_p("dropout2d", p)
    _warn_rank("dropout2d", input.ndim, 2)
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    if not training or p == 0.0:
        return input
    mask_shape = _feature_mask("dropout2d", input.shape)  # one draw per (example, channel)
    return Dropout.apply(input, p=float(p), mask_shape=mask_shape)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Channel dropout for sequences: zero whole channels of (N, C, L) or (C, L) inputs with
    probability ``p`` and scale the rest by 1/(1 − p), as ``torch.nn.functional.dropout1d``.

    Args:
        input: a 3-d (N, C, L) or 2-d (C, L) floating tensor.
        p: the probability of dropping a channel, in [0, 1].
        training: apply dropout (pass ``self.training``).
        inplace: accepted for PyTorch compatibility.
    """
    check_p("dropout1d", p)
    if input.ndim not in (2, 3):
        raise ValueError(f"dropout1d: expected a 2-d (C, L) or 3-d (N, C, L) input, got shape "
                         f"{input.shape}; dropout2d/dropout3d drop channels of images/volumes")
    if not training or p == 0.0:
        return input
    return Dropout.apply(input, p=float(p), mask_shape=input.shape[:-1] + (1,))


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Channel dropout for volumes: zero whole channels of (N, C, D, H, W) or (C, D, H, W)
    inputs with probability ``p`` and scale the rest by 1/(1 − p), as
    ``torch.nn.functional.dropout3d``.

    As PyTorch, other ranks warn that they are deprecated and are then treated as one unbatched
    example: each ``input[j]`` is dropped as a whole.

    Args:
        input: a 5-d (N, C, D, H, W) or 4-d (C, D, H, W) floating tensor.
        p: the probability of dropping a channel, in [0, 1].
        training: apply dropout (pass ``self.training``).
        inplace: accepted for PyTorch compatibility.
    """
    check_p("dropout3d", p)
    _warn_rank("dropout3d", input.ndim, 3)
    if not training or p == 0.0:
        return input
    if input.ndim == 5:
        mask_shape = _feature_mask("dropout3d", input.shape)
    else:  # unbatched: the mask of the batch of one, without its batch dimension
        mask_shape = _feature_mask("dropout3d", (1,) + input.shape)[1:]
    return Dropout.apply(input, p=float(p), mask_shape=mask_shape)
