"""Losses over structured targets: the multi-label hinge loss (a set of correct classes per
example), the triplet loss with any distance, and connectionist temporal classification (CTC),
the loss of unsegmented sequence labelling (Graves et al., 2006).

CTC sums the probability of every alignment of a label sequence l (length L) to T frames of
per-frame class log-probabilities y, through the extended sequence l′ = (b, l₁, b, l₂, ..., b)
of S = 2L + 1 states (b the blank). The forward variables α_t(s) (probability of the prefixes
ending in state s at frame t) and backward variables β_t(s) obey, in log space,

    α_t(s) = y_t(l′_s) · (α_{t−1}(s) + α_{t−1}(s−1) + [skip] α_{t−1}(s−2)),
    β_t(s) = y_t(l′_s) · (β_{t+1}(s) + β_{t+1}(s+1) + [skip] β_{t+1}(s+2)),

where the skip over a blank is allowed between two different labels; the loss is
−ln p(l | x) = −ln(α_{T−1}(S−1) + α_{T−1}(S−2)). Every frame's state occupation is
γ_t(c) = Σ_{s: l′_s = c} α_t(s) β_t(s) / (p(l | x) y_t(c)) (Σ_c γ_t(c) = 1), and the gradient
returned for the log-probabilities is PyTorch's, ∂ℓ/∂y_t(c) = e^{log y_t(c)} − γ_t(c): the
derivative with respect to the logits a behind ``log_probs = log_softmax(a)`` (the true partial
derivative with respect to log y is −γ; both give the same gradient through a log-softmax,
since Σ_c (y_t(c) − γ_t(c)) = 0, which is how CTC is used).
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import require_float
from neuralab.ops.distance import pairwise_distance
from neuralab.ops.elementwise import clamp_min, minimum
from neuralab.ops.loss import check_reduction
from neuralab.ops.loss_regression import legacy_reduction, to_tensor

__all__ = ["multilabel_margin_loss", "triplet_margin_with_distance_loss", "ctc_loss"]


def _reduce(losses: Any, reduction: str, dtype: Any) -> Any:
    if reduction == "none":
        return losses.astype(dtype, copy=False)
    total = losses.sum() if reduction == "sum" else losses.mean()
    return xp.asarray(total, dtype=dtype)


def _per_sample_scale(dout: Any, reduction: str, n: int) -> Any:
    if reduction == "none":
        return dout
    return xp.full(n, dout / n if reduction == "mean" else dout)


# --------------------------------------------------------------------------- multi-label margin
class MultiLabelMargin(Function):
    """ℓ = Σ_{j ∈ y} Σ_{i ∉ y} max(0, 1 − (x_j − x_i)) / C for the labels y listed in the
    target row before its first −1.

    x̄_i = z̄/C · #{j: margin violated with i}, x̄_j = −z̄/C · #{i: violated with j}.
    """

    @staticmethod
    def forward(ctx, x, target, reduction="mean"):
        c = x.shape[-1]
        x2, t2 = x.reshape(-1, c), target.reshape(-1, c)
        listed = xp.cumprod(t2 >= 0, axis=1).astype(bool)  # the entries before the first -1
        labels = xp.where(listed, t2, 0)
        rows = xp.arange(x2.shape[0])[:, None]
        is_target = xp.zeros(x2.shape, dtype=bool)
        is_target[xp.broadcast_to(rows, labels.shape)[listed], labels[listed]] = True
        picked = xp.take_along_axis(x2, labels, axis=1)  # x_j for each listed j
        z = 1 - picked[:, :, None] + x2[:, None, :]  # (N, k, i)
        active = (z > 0) & listed[:, :, None] & ~is_target[:, None, :]
        losses = (z * active).sum(axis=(1, 2)) / c
        ctx.active, ctx.labels, ctx.shape, ctx.reduction = active, labels, x.shape, reduction
        out = _reduce(losses, reduction, x.dtype)
        return out.reshape(()) if reduction == "none" and x.ndim == 1 else out

    @staticmethod
    def backward(ctx, dout):
        active, labels = ctx.active, ctx.labels
        n, c = active.shape[0], ctx.shape[-1]
        scale = _per_sample_scale(xp.reshape(dout, -1) if ctx.reduction == "none" else dout,
                                  ctx.reduction, n)[:, None] / c
        dx = active.sum(axis=1) * scale
        counts = active.sum(axis=2) * scale  # per listed label
        xp.add.at(dx, (xp.broadcast_to(xp.arange(n)[:, None], labels.shape), labels), -counts)
        return dx.reshape(ctx.shape).astype(dout.dtype, copy=False), None


def multilabel_margin_loss(input: Tensor, target: Tensor,  # noqa: A002  (PyTorch's names)
                           size_average: bool | None = None, reduce: bool | None = None,
                           reduction: str = "mean") -> Tensor:
    """Multi-label hinge loss: every correct class should beat every other class by 1,
    Σ_{j ∈ y} Σ_{i ∉ y} max(0, 1 − (x_j − x_i)) / C per example.

    Args:
        input: scores (N, C) or (C,).
        target: int64 of the input's shape; each row lists its correct classes first and ends
            the list with −1 (``[3, 0, -1, 1]``: classes 3 and 0).
        size_average, reduce: deprecated; set ``reduction`` instead.
        reduction: 'mean' (over examples), 'sum' or 'none'.
    """
    op = "multilabel_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(op, reduction)
    x, t = to_tensor(input), to_tensor(target)
    require_float(op, "input", x)
    if x.ndim not in (1, 2) or x.shape[-1] == 0:
        raise ValueError(f"{op}: expected a non-empty 1-d (C,) or 2-d (N, C) input, got shape "
                         f"{tuple(x.shape)}")
    if t.shape != x.shape:
        raise ValueError(f"{op}: inconsistent target size: {list(t.shape)} for input of size: "
                         f"{list(x.shape)} (the target lists class indices padded with -1)")
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices (int64), got {t.dtype}")
    if t.requires_grad:
        raise ValueError(f"{op}: the target has no gradient; pass target.detach()")
    if t.numel() and (int(t.array.max()) >= x.shape[-1] or int(t.array.min()) < -1):
        raise IndexError(f"{op}: target values must be class indices in [0, {x.shape[-1] - 1}] "
                         f"or -1 (the end of a row's list), got values in "
                         f"[{int(t.array.min())}, {int(t.array.max())}]")
    return MultiLabelMargin.apply(x, t, reduction=reduction)


# --------------------------------------------------------------------------- triplet
def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Any = None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    """Triplet loss max(0, d(a, p) − d(a, n) + margin) with any distance d (default the
    Euclidean ``pairwise_distance``); ``swap`` uses min(d(a, n), d(p, n)) for the negative.

    Built from differentiable ops (and ``distance_function``'s): the gradient is theirs.

    Args:
        anchor, positive, negative: embeddings with the same number of dimensions.
        distance_function: a callable (x1, x2) -> distances; None for ``pairwise_distance``.
        margin: the required gap (> 0).
        swap: use the distance swap.
        reduction: 'mean', 'sum' or 'none'.
    """
    op = "triplet_margin_with_distance_loss"
    check_reduction(op, reduction)
    if margin <= 0:
        raise ValueError(f"{op}: expected margin to be greater than 0, got {margin}")
    if distance_function is not None and not callable(distance_function):
        raise TypeError(f"{op}: distance_function must be callable (x1, x2) -> distances, got "
                        f"{type(distance_function).__name__}")
    a, pos, neg = to_tensor(anchor), to_tensor(positive), to_tensor(negative)
    if not a.ndim == pos.ndim == neg.ndim:
        raise RuntimeError(f"{op}: the anchor, positive, and negative tensors are expected to "
                           f"have the same number of dimensions, but got: anchor {a.ndim}D, "
                           f"positive {pos.ndim}D, and negative {neg.ndim}D inputs")
    distance = pairwise_distance if distance_function is None else distance_function
    return _triplet_loss(a, pos, neg, distance, margin, swap, reduction)


def _triplet_loss(a: Tensor, pos: Tensor, neg: Tensor, distance: Any, margin: float, swap: bool,
                  reduction: str) -> Tensor:
    """max(0, d(a, p) − d(a, n) + margin), reduced, for checked arguments (``swap``: the
    negative's distance is min(d(a, n), d(p, n)))."""
    d_pos = distance(a, pos)
    d_neg = distance(a, neg)
    if swap:
        d_neg = minimum(d_neg, distance(pos, neg))
    loss = clamp_min(margin + d_pos - d_neg, 0)
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


# --------------------------------------------------------------------------- CTC
def _logsumexp3(a: Any, b: Any, c: Any) -> Any:
    return xp.logaddexp(xp.logaddexp(a, b), c)


def ctc_single(lp: Any, labels: Any, blank: int) -> tuple[float, Any]:
    """−ln p(labels | lp) for one sequence (lp: (T, C) log-probabilities) and PyTorch's
    gradient e^{lp} − γ with respect to lp (see the module docstring)."""
    steps, classes = lp.shape
    states = 2 * len(labels) + 1
    ext = xp.full(states, blank, dtype=xp.int64)
    ext[1::2] = labels
    skip = xp.zeros(states, dtype=bool)
    skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    if steps == 0:
        return (0.0 if states == 1 else xp.inf), xp.zeros_like(lp)
    e = lp[:, ext]  # (T, S): the log-probability of each state's class
    none = -xp.inf
    alpha = xp.full((steps, states), none)
    beta = xp.full((steps, states), none)
    alpha[0, :2] = e[0, :2]
    beta[-1, -2:] = e[-1, -2:]
    pad = xp.full(2, none)
    for t in range(1, steps):
        prev = xp.concatenate([pad, alpha[t - 1]])
        alpha[t] = _logsumexp3(prev[2:], prev[1:-1], xp.where(skip, prev[:-2], none)) + e[t]
    skip_next = xp.concatenate([skip[2:], [False, False]])  # s -> s + 2 allowed
    for t in range(steps - 2, -1, -1):
        nxt = xp.concatenate([beta[t + 1], pad])
        beta[t] = _logsumexp3(nxt[:-2], nxt[1:-1], xp.where(skip_next, nxt[2:], none)) + e[t]
    nll = -xp.logaddexp(alpha[-1, -1], alpha[-1, -2] if states > 1 else none)
    if not xp.isfinite(nll):  # no alignment fits: PyTorch's gradient is nan (-inf + inf)
        return nll, xp.full(lp.shape, xp.nan)
    both = alpha + beta  # ln α_t(s) β_t(s), which counts y_t(l′_s) twice
    grad = xp.exp(lp)
    for c in xp.unique(ext):
        chosen = both[:, ext == c]
        peak = chosen.max(axis=1)
        safe = xp.where(xp.isfinite(peak), peak, 0)
        lcab = xp.log(xp.exp(chosen - safe[:, None]).sum(axis=1)) + safe
        grad[:, c] -= xp.exp(lcab + nll - lp[:, c])
    return nll, grad


class CTC(Function):
    """ℓ_n = −ln p(lₙ | xₙ) by the forward recursion over the extended label sequence; the
    backward recursion gives the occupations γ and the gradient e^{log y} − γ per frame (0 on
    the frames past an input's length), scaled by the reduction's z̄."""

    @staticmethod
    def forward(ctx, lp, labels=(), input_lengths=(), blank=0, reduction="mean",
                zero_infinity=False):
        n = lp.shape[1]
        losses = xp.zeros(n)
        grad = xp.zeros(lp.shape)
        with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for b in range(n):
                frames = int(input_lengths[b])
                nll, g = ctc_single(lp[:frames, b].astype(xp.float64), labels[b], blank)
                if zero_infinity and xp.isinf(nll):
                    nll, g = 0.0, 0.0
                losses[b] = nll
                grad[:frames, b] = g
        ctx.grad, ctx.reduction = grad, reduction
        if reduction == "mean":
            lengths = xp.maximum(xp.array([len(lab) for lab in labels], dtype=xp.float64), 1)
            ctx.divisors = lengths
            losses = losses / lengths
        return _reduce(losses, reduction, lp.dtype)

    @staticmethod
    def backward(ctx, dout):
        n = ctx.grad.shape[1]
        scale = _per_sample_scale(dout, ctx.reduction, n)
        if ctx.reduction == "mean":
            scale = scale / ctx.divisors
        return (ctx.grad * scale[None, :, None]).astype(dout.dtype, copy=False)


def _lengths(op: str, name: str, value: Any, n: int) -> Any:
    if isinstance(value, Tensor):
        if value.dtype.kind not in "iu":
            raise TypeError(f"{op}: {name} must hold integers, got {value.dtype}")
        array = value.array.reshape(-1)
    else:
        array = xp.asarray(value).reshape(-1)
        if array.size and array.dtype.kind not in "iu":
            raise TypeError(f"{op}: {name} must be integers, got {value!r}")
    if array.size != n:
        raise RuntimeError(f"{op}: {name} must have one length per sequence ({n}), got "
                           f"{array.size}")
    if array.size and array.min() < 0:
        raise RuntimeError(f"{op}: {name} must be non-negative, got {array.tolist()}")
    return array.astype(xp.int64)


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """Connectionist temporal classification loss (``F.ctc_loss``): −ln of the total
    probability of every alignment of each target sequence to its input's frames.

    Args:
        log_probs: (T, N, C) (or (T, C) for one sequence) per-frame log-probabilities, e.g.
            ``log_softmax(scores, dim=2)``.
        targets: (N, S) label sequences padded to S, or 1-d: all sequences concatenated
            (length sum(target_lengths)); labels in [0, C), never the blank.
        input_lengths: the number of frames of each input (≤ T): a tensor or a list of ints.
        target_lengths: the length of each target sequence.
        blank: the blank class.
        reduction: 'none' (one loss per sequence), 'sum', or 'mean': each loss divided by its
            target length (at least 1), then averaged over the batch.
        zero_infinity: set infinite losses (inputs too short for their targets) and their
            gradients to zero.
    """
    op = "ctc_loss"
    check_reduction(op, reduction)
    lp = to_tensor(log_probs)
    require_float(op, "log_probs", lp)
    if lp.ndim not in (2, 3):
        raise RuntimeError(f"{op}: log_probs must be 3-d (T, N, C) or 2-d (T, C), got shape "
                           f"{tuple(lp.shape)}")
    t = to_tensor(targets)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: targets must hold integer class indices, got {t.dtype}")
    batched = lp.ndim == 3
    if not batched:
        lp = lp.unsqueeze(1)
        if t.ndim == 1:
            t = t.unsqueeze(0)
    steps, n, classes = lp.shape
    if not 0 <= blank < classes:
        raise RuntimeError(f"{op}: blank must be in label range [0, {classes - 1}], got {blank}")
    frames = _lengths(op, "input_lengths", input_lengths, n)
    lengths = _lengths(op, "target_lengths", target_lengths, n)
    if frames.size and frames.max() > steps:
        raise RuntimeError(f"{op}: Expected input_lengths to have value at most {steps}, but got "
                           f"value {int(frames.max())}")
    labels_all = t.array
    if labels_all.ndim == 2:
        if labels_all.shape[0] != n:
            raise RuntimeError(f"{op}: padded targets must have one row per sequence ({n}), got "
                               f"shape {tuple(labels_all.shape)}")
        if lengths.size and lengths.max() > labels_all.shape[1]:
            raise RuntimeError(f"{op}: a target length ({int(lengths.max())}) exceeds the padded "
                               f"targets' width {labels_all.shape[1]}")
        labels = [labels_all[b, :lengths[b]] for b in range(n)]
    elif labels_all.ndim == 1:
        if lengths.sum() > labels_all.shape[0]:
            raise RuntimeError(f"{op}: the concatenated targets hold {labels_all.shape[0]} "
                               f"labels but target_lengths sum to {int(lengths.sum())}")
        ends = xp.cumsum(lengths)
        labels = [labels_all[end - length:end] for end, length in zip(ends, lengths)]
    else:
        raise RuntimeError(f"{op}: targets must be 2-d (N, S) padded or 1-d concatenated, got "
                           f"shape {tuple(labels_all.shape)}")
    for seq in labels:
        if seq.size and (seq.min() < 0 or seq.max() >= classes):
            raise IndexError(f"{op}: target labels must be in [0, {classes - 1}], got "
                             f"{seq.tolist()}")
    out = CTC.apply(lp, labels=labels, input_lengths=frames, blank=int(blank),
                    reduction=reduction, zero_infinity=bool(zero_infinity))
    return out.reshape(()) if not batched and reduction == "none" else out
