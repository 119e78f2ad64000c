"""Compositions for ``neuralab.nn.functional`` that are not primitives of their own.

``linear`` is the fused op of ``neuralab.ops.linalg``, re-exported here because the functional
namespace gathers the ops by family and the linear-algebra family is not one of them.
"""

from __future__ import annotations

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops.linalg import linear

__all__ = ["linear", "one_hot"]


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices (any shape) -> one-hot vectors along a new last dimension (int64).

    The target vectors t of the lectures' softmax cross-entropy (Lecture 4): ``one_hot(y, 10)``
    turns labels (N,) into (N, 10) with a single 1 per row.

    Args:
        tensor: non-negative integer class indices.
        num_classes: the number of classes; -1 infers max(tensor) + 1.

    Returns:
        An int64 tensor of shape ``tensor.shape + (num_classes,)``, without gradient.
    """
    t = tensor.array if isinstance(tensor, Tensor) else xp.asarray(tensor)
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot: class indices must be integers (int64), got {t.dtype}; "
                        "convert with .long()")
    if t.size and t.min() < 0:
        raise ValueError(f"one_hot: class indices must be non-negative, got {int(t.min())}")
    if num_classes == -1:
        if t.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor; pass it")
        num_classes = int(t.max()) + 1
    elif t.size and t.max() >= num_classes:
        raise ValueError(f"one_hot: class index {int(t.max())} is out of range for "
                         f"num_classes={num_classes}; did you set num_classes to "
                         f"{int(t.max()) + 1}?")
    out = xp.zeros(t.shape + (num_classes,), dtype=xp.int64)
    xp.put_along_axis(out, t[..., None].astype(xp.int64), 1, axis=-1)
    return Tensor._from_op(out, None, 0)
