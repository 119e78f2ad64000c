"""Margin and embedding losses: PyTorch's ranking, hinge, soft-margin, multi-class margin (the
SVM loss), cosine and triplet embedding losses.

A margin loss is zero once the right answer wins by the margin and grows linearly (or, with
p = 2, quadratically) below it: the hinge loss max(0, 1 − t y) of Lecture 4's comparison of
classification losses, whose gradient is −t where the margin is violated and 0 elsewhere. The
soft margin is its smooth version log(1 + e^(−t y)), the logistic loss of the same lecture.
Reductions as in ``ops.loss``; a gradient at a kink of max(0, ·) is the one-sided value PyTorch
takes (0 where the margin is met exactly).
"""

from __future__ import annotations

from neuralab.autograd.function import Function, unbroadcast
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import IndexOutOfRange, broadcast_shape, require_float
from neuralab.ops.distance import pairwise_distance
from neuralab.ops.loss import _grad_scale, _reduce, check_reduction
from neuralab.ops.loss_regression import (
    PointwiseLoss,
    float_target,
    legacy_reduction,
    to_tensor,
)
from neuralab.ops.loss_structured import _triplet_loss

__all__ = [
    "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
    "multilabel_soft_margin_loss", "multi_margin_loss", "cosine_embedding_loss",
    "triplet_margin_loss",
]


def _sigmoid(x):  # noqa: ANN001, ANN202
    return 0.5 * (1 + xp.tanh(0.5 * x))  # never overflows


class MarginRanking(PointwiseLoss):
    """ℓ = max(0, −y (x₁ − x₂) + margin): x₁ should rank above x₂ by the margin when y = 1,
    below when y = −1.

    With a = [−y (x₁ − x₂) + margin > 0]: x̄₁ = −g y a,  x̄₂ = g y a,  ȳ = −g (x₁ − x₂) a.
    """

    op = "margin_ranking_loss"
    names = ("input1", "input2", "target")

    @staticmethod
    def value(x1, x2, y, margin=0.0):
        return xp.maximum(-y * (x1 - x2) + margin, 0)

    @staticmethod
    def partials(x1, x2, y, margin=0.0):
        active = (-y * (x1 - x2) + margin > 0).astype(x1.dtype)
        return -y * active, y * active, -(x1 - x2) * active


class HingeEmbedding(PointwiseLoss):
    """ℓ = x where y = 1, max(0, margin − x) where y = −1 (x is a distance: small for similar
    pairs, at least the margin for dissimilar ones). As in PyTorch, a target that is neither
    gets both terms.

    x̄ = g ([y ≠ −1] − [y ≠ 1][margin − x > 0]); the target gets no gradient.
    """

    op = "hinge_embedding_loss"

    @staticmethod
    def value(x, y, margin=1.0):
        return xp.where(y != 1, xp.maximum(margin - x, 0), 0) + xp.where(y != -1, x, 0)

    @staticmethod
    def partials(x, y, margin=1.0):
        dx = (y != -1).astype(x.dtype) - ((y != 1) & (margin - x > 0)).astype(x.dtype)
        return dx, None


class SoftMargin(PointwiseLoss):
    """ℓ = log(1 + e^(−y x)), computed as softplus(−y x) (finite where PyTorch overflows).

    x̄ = −g y σ(−y x),  ȳ = −g x σ(−y x).
    """

    op = "soft_margin_loss"

    @staticmethod
    def value(x, y):
        return xp.logaddexp(0, -y * x)

    @staticmethod
    def partials(x, y):
        s = _sigmoid(-y * x)
        return -y * s, -x * s


class MultiLabelSoftMargin(Function):
    """ℓₙ = (1/C) Σ_c w_c [−y log σ(x) − (1 − y) log σ(−x)] = (1/C) Σ_c w_c [softplus(−x) +
    (1 − y) x] over the last (class) dimension: one logistic loss per label.

    x̄ = g w (σ(x) − y)/C,  ȳ = −g w x/C,  w̄ = g [softplus(−x) + (1 − y) x]/C, each summed over
    the dimensions its input was broadcast along.
    """

    @staticmethod
    def check(x, y, *weight, reduction="mean"):
        op = "multilabel_soft_margin_loss"
        require_float(op, "input", x)
        require_float(op, "target", y)
        if x.ndim == 0:
            raise ValueError(f"{op}: input must have a class dimension (the last), got a scalar")
        others = [("target", y)] + ([("weight", weight[0])] if weight else [])
        for name, t in others:
            if broadcast_shape(op, t.shape, x.shape) != x.shape:
                raise ValueError(f"{op}: {name} of shape {t.shape} must broadcast to the "
                                 f"input's shape {x.shape}")

    @staticmethod
    def forward(ctx, x, y, *weight, reduction="mean"):
        per_label = xp.logaddexp(0, -x) + (1 - y) * x  # −y log σ(x) − (1 − y) log σ(−x)
        c = x.shape[-1]
        loss = (per_label * weight[0] if weight else per_label).sum(axis=-1) / c
        ctx.x, ctx.y, ctx.w, ctx.per_label = x, y, (weight[0] if weight else None), per_label
        ctx.reduction, ctx.norm = reduction, loss.size
        return _reduce(loss.astype(xp.result_type(x, y), copy=False), reduction)

    @staticmethod
    def backward(ctx, dout):
        x, y, w = ctx.x, ctx.y, ctx.w
        c = x.shape[-1]
        g = _grad_scale(dout, ctx.reduction, ctx.norm)
        g = (g[..., None] if ctx.reduction == "none" else g) / c
        gw = g if w is None else g * w
        dx = dy = dw = None
        if ctx.needs_input_grad[0]:
            dx = xp.broadcast_to(gw * (_sigmoid(x) - y), x.shape).astype(x.dtype, copy=False)
        if ctx.needs_input_grad[1]:
            dy = unbroadcast(xp.broadcast_to(-gw * x, x.shape), y.shape).astype(y.dtype)
        if w is not None and ctx.needs_input_grad[2]:
            dw = unbroadcast(xp.broadcast_to(g * ctx.per_label, x.shape), w.shape)
            dw = dw.astype(w.dtype, copy=False)
        return (dx, dy) + ((dw,) if w is not None else ())


class MultiMargin(Function):
    """The multi-class hinge (SVM) loss of scores xₙ (C,) against the class yₙ:
    ℓₙ = (1/C) Σ_{i≠yₙ} w_yₙ max(0, margin − xₙ,yₙ + xₙ,ᵢ)^p, p ∈ {1, 2}.

    With zᵢ = margin − x_y + xᵢ and hᵢ = g w_y p z_i^(p−1) [zᵢ > 0] / C (i ≠ y):
    x̄ᵢ = hᵢ,  x̄_y = −Σᵢ hᵢ. The mean averages over the N examples (not the weights).
    """

    @staticmethod
    def check(x, target, *weight, p=1, margin=1.0, reduction="mean"):
        op = "multi_margin_loss"
        require_float(op, "input", x)
        if x.ndim not in (1, 2) or x.shape[-1] == 0:
            raise ValueError(f"{op}: input must be a non-empty vector (C,) or matrix (N, C) of "
                             f"scores, got shape {x.shape}")
        if target.dtype.kind not in "iu":
            raise TypeError(f"{op}: target must hold class indices (int64), got "
                            f"{target.dtype}; convert with target.long()")
        n, c = (1, x.shape[0]) if x.ndim == 1 else x.shape
        if (x.ndim == 2 and target.shape != (n,)) or (x.ndim == 1 and (
                target.ndim > 1 or target.size != 1)):
            raise ValueError(f"{op}: target must be 1-D with one class index per example: "
                             f"expected shape ({n},) for input of shape {x.shape}, got "
                             f"{target.shape}")
        t = target.array
        if t.size and (t.min() < 0 or t.max() >= c):
            bad = int(t.max()) if t.max() >= c else int(t.min())
            raise IndexOutOfRange(f"{op}: target {bad} is out of range: the input has {c} "
                                  f"classes (valid targets are 0..{c - 1})")
        if weight:
            w = weight[0]
            if w.shape != (c,):
                raise ValueError(f"{op}: weight must have one entry per class, shape ({c},), "
                                 f"got {w.shape}")

    @staticmethod
    def forward(ctx, x, target, *weight, p=1, margin=1.0, reduction="mean"):
        c = x.shape[-1]
        x2 = x.reshape(-1, c)
        t = target.reshape(-1)
        rows = xp.arange(x2.shape[0])
        z = margin - x2[rows, t][:, None] + x2  # zᵢ = margin − x_y + xᵢ
        active = z > 0
        active[rows, t] = False  # the true class is not its own rival
        zp = xp.where(active, z, 0)
        wy = weight[0][t].astype(x.dtype) if weight else xp.ones(t.shape, dtype=x.dtype)
        loss = wy * (zp ** p).sum(axis=1) / c
        ctx.z, ctx.active, ctx.t, ctx.wy, ctx.p, ctx.shape = zp, active, t, wy, p, x.shape
        ctx.reduction, ctx.norm = reduction, loss.size
        return _reduce(loss.reshape(target.shape).astype(x.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, dout):
        g = _grad_scale(dout, ctx.reduction, ctx.norm)
        g = g.reshape(-1) if ctx.reduction == "none" else g
        slope = ctx.active.astype(ctx.z.dtype) if ctx.p == 1 else 2 * ctx.z
        h = (g * ctx.wy / ctx.shape[-1])[:, None] * slope  # ∂ℓ/∂xᵢ for the rivals
        rows = xp.arange(h.shape[0])
        h[rows, ctx.t] -= h.sum(axis=1)
        return (h.reshape(ctx.shape), None) + (None,) * (len(ctx.needs_input_grad) - 2)


class CosineEmbedding(Function):
    """ℓ = 1 − cos(x₁, x₂) where y = 1, max(0, cos(x₁, x₂) − margin) where y = −1 (0 for any
    other target), cos = Σ x₁x₂ / √((‖x₁‖² + ε)(‖x₂‖² + ε)), ε = 10⁻¹² (PyTorch's).

    With c̄ = g (−[y = 1] + [y = −1][cos > margin]) and mᵢ = ‖xᵢ‖² + ε:
    x̄₁ = c̄ (x₂/√(m₁m₂) − cos x₁/m₁), x̄₂ likewise; the target gets no gradient.
    """

    @staticmethod
    def check(x1, x2, target, margin=0.0, reduction="mean"):
        op = "cosine_embedding_loss"
        require_float(op, "input1", x1)
        require_float(op, "input2", x2)
        if target.ndim > 1:
            raise ValueError(f"{op}: target must be 0-D or 1-D (one ±1 per pair), got shape "
                             f"{target.shape}; multi-target is not supported")
        want = 2 if target.ndim == 1 else 1
        if x1.ndim != want or x2.ndim != want:
            raise ValueError(f"{op}: a {target.ndim}-D target expects {want}-D inputs, got "
                             f"input1 of shape {x1.shape} and input2 of shape {x2.shape}")
        shape = broadcast_shape(op, x1.shape, x2.shape)
        if target.ndim == 1 and target.shape[0] != shape[0]:
            raise ValueError(f"{op}: target has {target.shape[0]} entries for {shape[0]} pairs "
                             f"of inputs (shape {shape}); give one ±1 per pair")

    @staticmethod
    def forward(ctx, x1, x2, target, margin=0.0, reduction="mean"):
        shape = xp.broadcast_shapes(x1.shape, x2.shape)
        a, b = xp.broadcast_to(x1, shape), xp.broadcast_to(x2, shape)
        m1 = (a * a).sum(axis=-1) + 1e-12
        m2 = (b * b).sum(axis=-1) + 1e-12
        den = xp.sqrt(m1 * m2)
        cos = (a * b).sum(axis=-1) / den
        pos, neg = target == 1, target == -1
        loss = xp.where(pos, 1 - cos, 0) + xp.where(neg, xp.maximum(cos - margin, 0), 0)
        ctx.saved = a, b, m1, m2, den, cos
        ctx.dcos = (neg & (cos - margin > 0)).astype(cos.dtype) - pos.astype(cos.dtype)
        ctx.shapes, ctx.reduction, ctx.norm = (x1.shape, x2.shape), reduction, loss.size
        return _reduce(loss.astype(xp.result_type(x1, x2), copy=False), reduction)

    @staticmethod
    def backward(ctx, dout):
        a, b, m1, m2, den, cos = ctx.saved
        g = (_grad_scale(dout, ctx.reduction, ctx.norm) * ctx.dcos)[..., None]
        den, cos = den[..., None], cos[..., None]
        da = db = None
        if ctx.needs_input_grad[0]:
            da = unbroadcast(g * (b / den - cos * a / m1[..., None]), ctx.shapes[0])
        if ctx.needs_input_grad[1]:
            db = unbroadcast(g * (a / den - cos * b / m2[..., None]), ctx.shapes[1])
        return da, db, None


# --------------------------------------------------------------------------- user-facing functions


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """Ranking loss max(0, −y (x₁ − x₂) + margin): y = 1 asks x₁ ≥ x₂ + margin, y = −1 the
    reverse.

    Args:
        input1, input2: scores, broadcasting together.
        target: ±1 per pair (the same number of dimensions as the inputs).
        margin: the required gap.
        size_average, reduce: deprecated; set ``reduction`` instead.
        reduction: 'mean', 'sum' or 'none'.
    """
    op = "margin_ranking_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(op, reduction)
    x1, x2 = to_tensor(input1), to_tensor(input2)
    y = to_tensor(target)
    if not x1.ndim == x2.ndim == y.ndim:
        raise RuntimeError(f"{op}: all input tensors should have the same number of dimensions, "
                           f"got input1 {x1.shape}, input2 {x2.shape}, target {y.shape}")
    return MarginRanking.apply(x1, x2, float_target(y, x1), reduction=reduction,
                               margin=float(margin))


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,  # noqa: A002
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """Hinge embedding loss: x where y = 1, max(0, margin − x) where y = −1.

    ``input`` is typically a distance between two embeddings (e.g. ``pairwise_distance``):
    similar pairs (y = 1) are pulled together, dissimilar ones (y = −1) pushed past the margin.

    Args:
        input: the distances (any shape).
        target: ±1, broadcasting with ``input``.
        margin: the distance beyond which dissimilar pairs cost nothing.
        size_average, reduce: deprecated; set ``reduction`` instead.
        reduction: 'mean', 'sum' or 'none'.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("hinge_embedding_loss", reduction)
    x = to_tensor(input)
    return HingeEmbedding.apply(x, float_target(to_tensor(target), x), reduction=reduction,
                                margin=float(margin))


def soft_margin_loss(input: Tensor, target: Tensor, size_average: bool | None = None,  # noqa: A002
                     reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Two-class logistic loss log(1 + e^(−y x)) of scores x against labels y = ±1 (Lecture 4).

    Args:
        input: scores (any shape).
        target: ±1, broadcasting with ``input``.
        size_average, reduce: deprecated; set ``reduction`` instead.
        reduction: 'mean', 'sum' or 'none'.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("soft_margin_loss", reduction)
    x = to_tensor(input)
    return SoftMargin.apply(x, float_target(to_tensor(target), x), reduction=reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor,  # noqa: A002
                                weight: Tensor | None = None, size_average: bool | None = None,
                                reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Multi-label one-versus-all logistic loss: the binary cross-entropy of σ(x) against each
    label in {0, 1}, averaged over the C labels of the last dimension.

    Args:
        input: scores (N, C) (or (C,), or (..., C)).
        target: 0/1 labels broadcasting to the input's shape.
        weight: optional per-label weights broadcasting to the input's shape (e.g. (C,)).
        size_average, reduce: deprecated; set ``reduction`` instead.
        reduction: 'mean' (over examples), 'sum' or 'none' (one loss per example).
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("multilabel_soft_margin_loss", reduction)
    x = to_tensor(input)
    extra = () if weight is None else (to_tensor(weight),)
    return MultiLabelSoftMargin.apply(x, float_target(to_tensor(target), x), *extra,
                                      reduction=reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,  # noqa: A002
                      weight: Tensor | None = None, size_average: bool | None = None,
                      reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Multi-class hinge (SVM) loss: Σ_{i≠y} max(0, margin − x_y + x_i)^p / C per example.

    Args:
        input: scores (N, C) or (C,).
        target: class indices (int64) (N,), or one index for a single vector.
        p: 1 (hinge) or 2 (squared hinge).
        margin: how far the true class's score must exceed the others.
        weight: optional per-class weights (C,), applied by the true class.
        size_average, reduce: deprecated; set ``reduction`` instead.
        reduction: 'mean', 'sum' or 'none'.
    """
    op = "multi_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(op, reduction)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 are supported, got p={p}")
    extra = ()
    if weight is not None:
        w = to_tensor(weight)
        if w.ndim != 1:
            raise ValueError(f"{op}: weight must be one-dimensional (one per class), got shape "
                             f"{w.shape}")
        extra = (w,)
    return MultiMargin.apply(to_tensor(input), to_tensor(target), *extra, p=int(p),
                             margin=float(margin), reduction=reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average: bool | None = None, reduce: bool | None = None,
                          reduction: str = "mean") -> Tensor:
    """Cosine embedding loss: 1 − cos(x₁, x₂) for similar pairs (y = 1), max(0, cos − margin)
    for dissimilar ones (y = −1).

    Args:
        input1, input2: embeddings (N, D) with a target (N,), or (D,) with a 0-D target.
        target: ±1 per pair.
        margin: in [−1, 1]; dissimilar pairs with cosine below it cost nothing.
        size_average, reduce: deprecated; set ``reduction`` instead.
        reduction: 'mean', 'sum' or 'none'.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("cosine_embedding_loss", reduction)
    return CosineEmbedding.apply(to_tensor(input1), to_tensor(input2), to_tensor(target),
                                 margin=float(margin), reduction=reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6, swap: bool = False,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """Triplet loss max(0, d(a, p) − d(a, n) + margin), d the p-norm ``pairwise_distance``.

    Built from ``pairwise_distance``, ``minimum`` and ``clamp_min``: its gradient is theirs.
    With ``swap`` (the distance swap of Balntas et al.) the negative's distance is
    min(d(a, n), d(p, n)).

    Args:
        anchor, positive, negative: embeddings (N, D) (or (D,)), the same number of dimensions.
        margin: the required gap (> 0).
        p: the norm's degree.
        eps: added to the differences, as in ``pairwise_distance``.
        swap: use the distance swap.
        size_average, reduce: deprecated; set ``reduction`` instead.
        reduction: 'mean', 'sum' or 'none'.
    """
    op = "triplet_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(op, reduction)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    a, pos, neg = to_tensor(anchor), to_tensor(positive), to_tensor(negative)
    if not a.ndim == pos.ndim == neg.ndim:
        raise RuntimeError(f"{op}: the anchor, positive, and negative tensors are expected to "
                           f"have the same number of dimensions, got anchor {a.shape}, "
                           f"positive {pos.shape} and negative {neg.shape}")
    for name, t in (("anchor", a), ("positive", pos), ("negative", neg)):
        require_float(op, name, t)
    return _triplet_loss(a, pos, neg, lambda x1, x2: pairwise_distance(x1, x2, p, eps), margin,
                         swap, reduction)
