"""Cross-entropy of a linear layer's scores in one call: ``F.linear_cross_entropy``.

The last layer of a classifier and its loss (Lecture 4), fused in name:

    zᵢ = W xᵢ + b          (scores, one per class: W is (C, D), or (C, d₁, ..., d_K, D) for one
                            score per class and position)
    ℓᵢ = −log softmax(zᵢ)_tᵢ

It is ``cross_entropy(linear(input, W, b), target, ...)``, as PyTorch documents it, built from
the two ops (so its gradients are theirs: W̄ = (softmax(z) − onehot(t))ᵀ x, scaled). PyTorch's
``options`` (``LinearCrossEntropyOptions``) select a chunked implementation that never holds
all the scores at once; it computes the same loss, and neuralab has the one (reference) path.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops.linalg import linear
from neuralab.ops.loss import cross_entropy

__all__ = ["linear_cross_entropy"]

_POLICIES = ("accurate", "balanced", "compact", "auto")


class LinearCrossEntropyError(ValueError, RuntimeError):
    """Bad linear_cross_entropy inputs. PyTorch raises RuntimeError, neuralab's checks
    ValueError: this error is both, so that either ``except`` clause catches it."""


_Bad = LinearCrossEntropyError


@dataclasses.dataclass(frozen=True)
class LinearCrossEntropyOptions:
    """PyTorch's options of the chunked ``linear_cross_entropy``, checked and kept.

    neuralab computes the loss in one piece whatever they say (the values are the same); they are
    accepted so that PyTorch programs run. Fields: ``allow_retain_graph`` (False),
    ``batch_chunk_size`` (None or a positive int), ``chunking_method`` ('auto',
    'aspect_ratio', 'aspect_ratio:N' or None), ``acc_policy`` ('auto', 'accurate', 'balanced',
    'compact'), ``acc_dtype`` (None or a floating dtype).
    """

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: Any = None

    def __post_init__(self) -> None:
        name = "LinearCrossEntropyOptions"
        if self.acc_policy not in _POLICIES:
            raise ValueError(f"{name}: invalid acc_policy: {self.acc_policy!r}; expected one of "
                             f"{', '.join(map(repr, _POLICIES))}")
        if self.chunking_method is not None and self.chunking_method != "auto":
            method, sep, factor = str(self.chunking_method).partition(":")
            if not sep:
                factor = "1"
            if not (method == "aspect_ratio" and factor.isdigit() and int(factor) > 0):
                raise ValueError(f"{name}: invalid chunking_method: {self.chunking_method!r}; "
                                 "expected 'auto', 'aspect_ratio', 'aspect_ratio:N' (N >= 1) "
                                 "or None")
        size = self.batch_chunk_size
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size <= 0):
            raise ValueError(f"{name}: batch_chunk_size must be positive int or None, got "
                             f"{size!r}")
        if self.acc_dtype is not None:
            try:
                kind = xp.dtype(self.acc_dtype).kind
            except TypeError:
                kind = None
            if kind != "f":
                raise ValueError(f"{name}: acc_dtype must be a floating dtype or None, got "
                                 f"{self.acc_dtype!r}")


def _shape(t: Any) -> tuple[int, ...]:
    return tuple(t.shape)


def linear_cross_entropy(input: Tensor, linear_weight: Tensor, target: Tensor, *,  # noqa: A002
                         linear_bias: Tensor | None = None, weight: Tensor | None = None,
                         reduction: str = "mean", ignore_index: int | None = None,
                         label_smoothing: float = 0.0,
                         options: LinearCrossEntropyOptions | None = None) -> Tensor:
    """``cross_entropy(linear(input, linear_weight, linear_bias), target, ...)``.

    Args:
        input: (D,) or (N, D) (N must be there when the weight has out_features dimensions).
        linear_weight: (C, D), or (C, d₁, ..., d_K, D) for a K-dimensional loss: the scores are
            then (N, C, d₁, ..., d_K).
        target: class indices (int64, () / (N,) / (N, d₁, ..., d_K)) or class probabilities
            (float, the scores' shape).
        linear_bias: (C,) or (C, d₁, ..., d_K), or None.
        weight: per-class weights (C,), or None.
        reduction: 'mean' (weighted mean), 'sum' or 'none'.
        ignore_index: class-index targets equal to it are skipped; None means -100 (and it must
            stay None with probability targets).
        label_smoothing: ε in [0, 1].
        options: a ``LinearCrossEntropyOptions`` (PyTorch's chunked path), or None; the loss is
            the same either way.

    Returns:
        The loss: a scalar, or per example (and position) with reduction='none'.
    """
    op = "linear_cross_entropy"
    for name, t in (("input", input), ("linear_weight", linear_weight), ("target", target)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if input.ndim not in (1, 2):
        raise _Bad(f"{op}: expected input with dimensionality 1 or 2, got {input.ndim} "
                         f"(shape {_shape(input)})")
    if linear_weight.ndim < 2:
        raise _Bad(f"{op}: expected linear_weight with dimensionality at least 2, got "
                         f"{linear_weight.ndim} (shape {_shape(linear_weight)})")
    batches, in_features = _shape(input)[:-1], input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise _Bad(f"{op}: expected equal input and linear_weight last dimensions "
                         f"(in_features), got {in_features} and {linear_weight.shape[-1]}, "
                         "respectively")
    num_classes, out_features = linear_weight.shape[0], _shape(linear_weight)[1:-1]
    if linear_bias is not None and _shape(linear_bias) != (num_classes, *out_features):
        raise _Bad(f"{op}: expected linear_bias shape {(num_classes, *out_features)}, got "
                         f"{_shape(linear_bias)}")
    if out_features and not batches:
        raise _Bad(f"{op}: K-dimensional loss defined by linear_weight shape "
                         f"{_shape(linear_weight)} requires batched input, (N, {in_features}), "
                         f"got unbatched input with shape {_shape(input)}")
    if options is not None and not isinstance(options, LinearCrossEntropyOptions):
        raise TypeError(f"{op}: options must be a LinearCrossEntropyOptions or None, got "
                        f"{type(options).__name__}")
    scores_shape = (*batches, num_classes, *out_features)
    if _shape(target) == scores_shape and ignore_index is not None:
        raise _Bad(f"{op}: ignore_index cannot be specified when target contains "
                         "probabilities")
    if options is not None and (out_features or label_smoothing != 0.0
                                or target.dtype != xp.int64
                                or reduction not in ("mean", "sum", "none")):
        warnings.warn(f"{op}: ``options`` ignored; chunked path needs reduction in "
                      "{'mean','sum','none'}, label_smoothing == 0, target.dtype == int64, "
                      f"out_features == (). Got reduction={reduction!r}, "
                      f"label_smoothing={label_smoothing}, target.dtype={target.dtype}, "
                      f"out_features={out_features}", UserWarning, stacklevel=2)
    if out_features:  # one linear map to C·d₁⋯d_K scores, then the scores' shape
        flat = math.prod(out_features, start=num_classes)
        linear_weight = linear_weight.reshape(flat, in_features)
        if linear_bias is not None:
            linear_bias = linear_bias.reshape(flat)
    scores = linear(input, linear_weight, linear_bias).reshape(scores_shape)
    return cross_entropy(scores, target, weight, -100 if ignore_index is None else ignore_index,
                         reduction, label_smoothing)
