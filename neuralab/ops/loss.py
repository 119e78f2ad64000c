"""Loss functions with explicit backward passes (Lectures 3-4: regression and classification).

Each loss reduces its per-example values ℓᵢ as PyTorch does: ``reduction='none'`` keeps them,
``'sum'`` adds them, ``'mean'`` averages them (for class-weighted losses: divides by the summed
weights of the counted targets, so that a weighted mean is a true weighted average).

Cross-entropy is fused with the log-softmax: x̄ = (softmax(x) − y)/N is the cleanest gradient of
the course (Lecture 4), and computing log-probabilities by the log-sum-exp shift never
overflows. ``CrossEntropy`` below is that code (the reference kernel set, with the targets as a
dense coefficient matrix); ``neuralab.kernels.loss`` is the fast one for class indices.
"""

from __future__ import annotations

from typing import Any

from neuralab import kernels
from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.kernels import loss as fast_loss
from neuralab.ops._checks import require_float

__all__ = [
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
]

_REDUCTIONS = ("none", "mean", "sum")


def check_reduction(op: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of 'none', 'mean', 'sum', got "
                         f"{reduction!r}")


def _no_grad_for(op: str, name: str, t: Tensor) -> None:
    if t.requires_grad:
        raise ValueError(f"{op}: gradients with respect to {name} are not supported; pass "
                         f"{name}.detach()")


def _reduce(loss: Any, reduction: str, normaliser: Any = None) -> Any:
    """Reduce per-element losses; ``normaliser`` replaces the count in the mean."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return xp.asarray(total, dtype=loss.dtype)
    n = loss.size if normaliser is None else normaliser
    if n == 0:
        return xp.asarray(xp.nan, dtype=loss.dtype)  # PyTorch: an empty mean is nan
    return xp.asarray(total / n, dtype=loss.dtype)


def _grad_scale(dout: Any, reduction: str, normaliser: Any) -> Any:
    """The gradient of the reduction: z̄ per element (none), z̄ (sum) or z̄ / n (mean)."""
    if reduction == "mean":
        return dout / normaliser if normaliser else dout * 0
    return dout


# --------------------------------------------------------------------------- class-index targets


def _check_class_target(op: str, x: Tensor, target: Tensor, weight: Tensor | None,
                        ignore_index: int) -> int:
    """Validate (N, C, d1, ...) scores against (N, d1, ...) class indices; return C."""
    require_float(op, "input", x)
    if x.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a scalar")
    batched = x.ndim >= 2
    n_classes = x.shape[1] if batched else x.shape[0]
    expected = (x.shape[:1] + x.shape[2:]) if batched else ()
    if target.shape != expected:
        hint = ""
        if target.shape == x.shape:
            hint = ("; a target shaped like the input looks like one-hot or probabilities: pass "
                    "class indices (target.argmax(1)), or float probabilities")
        raise ValueError(f"{op}: input of shape {x.shape} needs a target of shape {expected} "
                         f"(one class index per example), got {target.shape}{hint}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: class-index targets must be integers (int64), got "
                        f"{target.dtype}; convert with target.long()")
    t = target.array
    valid = t[t != ignore_index]
    if valid.size and (valid.min() < 0 or valid.max() >= n_classes):
        bad = int(valid.max()) if valid.max() >= n_classes else int(valid.min())
        raise IndexError(
            f"{op}: target {bad} is out of bounds: the input has {n_classes} classes (valid "
            f"targets are 0..{n_classes - 1}); did you set num_classes to {max(bad + 1, 2)}?"
        )
    if weight is not None:
        if weight.shape != (n_classes,):
            raise ValueError(f"{op}: weight must have one entry per class, shape "
                             f"({n_classes},), got {weight.shape}")
        _no_grad_for(op, "weight", weight)
    return n_classes


def _rows(x: Any) -> Any:
    """(N, C, d1, ...) -> (M, C) with the class axis last; (C,) -> (1, C)."""
    if x.ndim == 1:
        return x[None, :]
    if x.ndim == 2:
        return x
    c = x.shape[1]
    return xp.moveaxis(x, 1, -1).reshape(-1, c)  # (N·d1·..., C)


def _unrows(g: Any, shape: tuple[int, ...]) -> Any:
    """Inverse of ``_rows`` for a gradient."""
    if len(shape) <= 2:
        return g.reshape(shape)
    moved = (shape[0],) + shape[2:] + (shape[1],)
    return xp.moveaxis(g.reshape(moved), -1, 1)


class CrossEntropy(Function):
    """ℓᵢ = −Σ_c aᵢc log softmax(xᵢ)_c, the log-softmax and the negative log-likelihood fused.

    With class-index targets tᵢ and label smoothing ε over C classes, the coefficients are
    aᵢc = (1 − ε)·w_tᵢ·[c = tᵢ] + (ε/C)·w_c (w the class weights, 1 by default; ignored targets
    have aᵢ = 0). With probability targets yᵢ, aᵢc = w_c((1 − ε)yᵢc + ε/C).

    x̄ᵢ = gᵢ (pᵢ Σ_c aᵢc − aᵢ), pᵢ = softmax(xᵢ); without weights and smoothing this is the
    lecture's gᵢ(pᵢ − yᵢ) (Lecture 4). gᵢ = ℓ̄ᵢ (none), ℓ̄ (sum) or ℓ̄/Σᵢ w_tᵢ (mean; for
    probability targets the mean divides by the number of examples).
    For probability targets ȳᵢc = −gᵢ w_c (1 − ε) log pᵢc.

    Shapes: x (N, C) or (N, C, d1, ...) or (C,); class targets (N,) / (N, d1, ...) / ();
    probability targets have x's shape; weight (C,).
    """

    @staticmethod
    def check(x, target, *weight, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        op = "cross_entropy"
        check_reduction(op, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
        w = weight[0] if weight else None
        if target.dtype.kind == "f":
            require_float(op, "input", x)
            class_shape = (x.shape[:1] + x.shape[2:]) if x.ndim >= 2 else ()
            if target.shape == class_shape and target.shape != x.shape:
                raise TypeError(f"{op}: class-index targets must be integers (int64), got "
                                f"{target.dtype}; convert with target.long()")
            if target.shape != x.shape:
                raise ValueError(f"{op}: probability targets must have the input's shape "
                                 f"{x.shape}, got {target.shape}; for class indices pass an "
                                 "int64 tensor of shape (N,)")
            n_classes = x.shape[1] if x.ndim >= 2 else x.shape[0]
            if w is not None:
                if w.shape != (n_classes,):
                    raise ValueError(f"{op}: weight must have shape ({n_classes},), got "
                                     f"{w.shape}")
                _no_grad_for(op, "weight", w)
            return
        _check_class_target(op, x, target, w, ignore_index)

    @staticmethod
    def forward(ctx, x, target, *weight, ignore_index=-100, reduction="mean",
                label_smoothing=0.0):
        w = weight[0] if weight else None
        eps = label_smoothing
        x2 = _rows(x)  # (M, C): one row of scores per example
        m, c = x2.shape
        out_shape = (x.shape[:1] + x.shape[2:]) if x.ndim >= 2 else ()
        ctx.shape, ctx.reduction, ctx.soft = x.shape, reduction, target.dtype.kind == "f"
        # A learner's softmax cross-entropy (neuralab exercise train) takes the plain mean loss.
        plain = not ctx.soft and w is None and eps == 0 and reduction == "mean"
        ctx.learner = kernels.learner("cross_entropy") if plain else None
        if ctx.learner is not None:
            loss, ctx.norm = ctx.learner.cross_entropy_forward(ctx, x2, target.reshape(-1), w,
                                                               ignore_index, eps)
            return _reduce(loss.reshape(out_shape), reduction, ctx.norm)
        ctx.fast = kernels.fast() and not ctx.soft  # the fast kernel takes class indices
        if ctx.fast:
            loss, ctx.norm = fast_loss.cross_entropy_forward(ctx, x2, target.reshape(-1), w,
                                                             ignore_index, eps)
            return _reduce(loss.reshape(out_shape), reduction, ctx.norm)
        if ctx.soft:  # probabilities: aᵢc = w_c((1 − ε)yᵢc + ε/C); the mean divides by M
            a = ((1 - eps) * _rows(target) + eps / c) * (1 if w is None else w)
            ctx.norm, ctx.t_shape = m, target.shape
        else:  # class indices: aᵢc = (1 − ε)w_tᵢ[c = tᵢ] + (ε/C)w_c, 0 for ignored targets
            t = target.reshape(-1)
            keep = (t != ignore_index)[:, None]
            y = (xp.arange(c) == t[:, None]) & keep  # one-hot rows (M, C)
            w_c = xp.ones(c, dtype=x.dtype) if w is None else w.astype(x.dtype)
            a = (1 - eps) * y * w_c + (eps / c) * w_c * keep
            ctx.norm = (y * w_c).sum()  # Σᵢ w_tᵢ over the kept targets
        shift = x2 - x2.max(axis=1, keepdims=True)  # log softmax by the log-sum-exp shift
        logp = shift - xp.log(xp.exp(shift).sum(axis=1, keepdims=True))
        loss = -(a * logp).sum(axis=1)  # ℓᵢ = −Σ_c aᵢc log pᵢc
        ctx.a, ctx.logp, ctx.eps, ctx.w = a, logp, eps, w
        return _reduce(loss.reshape(out_shape).astype(x.dtype, copy=False), reduction, ctx.norm)

    @staticmethod
    def backward(ctx, dout):
        g = _grad_scale(dout, ctx.reduction, ctx.norm)  # 1/N for the mean of N examples
        g = g.reshape(-1, 1) if ctx.reduction == "none" else g  # (M, 1) or a scalar
        extra = (None,) if len(ctx.inputs) == 3 else ()
        if ctx.learner is not None:
            dx = ctx.learner.cross_entropy_backward(ctx, g)
            return (_unrows(dx, ctx.shape), None) + extra
        if ctx.fast:
            return (_unrows(fast_loss.cross_entropy_backward(ctx, g), ctx.shape), None) + extra
        a, logp = ctx.a, ctx.logp
        p = xp.exp(logp)
        dx = g * (p * a.sum(axis=1, keepdims=True) - a)  # one-hot a: (p − y)/N
        dt = None
        if ctx.soft and ctx.needs_input_grad[1]:  # ȳᵢc = −gᵢ w_c (1 − ε) log pᵢc
            wc = 1 if ctx.w is None else ctx.w
            dt = _unrows(-g * wc * (1 - ctx.eps) * logp, ctx.t_shape)
        return (_unrows(dx, ctx.shape).astype(logp.dtype, copy=False), dt) + extra


class NLLLoss(Function):
    """ℓᵢ = −w_tᵢ xᵢ,tᵢ, the negative log-likelihood of log-probabilities x.

    x̄ᵢc = −gᵢ w_tᵢ [c = tᵢ] (gᵢ as in cross-entropy: the mean divides by Σᵢ w_tᵢ over the
    non-ignored targets). Shapes as cross-entropy with class-index targets.
    """

    @staticmethod
    def check(x, target, *weight, ignore_index=-100, reduction="mean"):
        check_reduction("nll_loss", reduction)
        _check_class_target("nll_loss", x, target, weight[0] if weight else None, ignore_index)

    @staticmethod
    def forward(ctx, x, target, *weight, ignore_index=-100, reduction="mean"):
        w = weight[0] if weight else None
        x2 = _rows(x)
        m = x2.shape[0]
        t = target.reshape(-1)
        keep = t != ignore_index
        t_safe = xp.where(keep, t, 0)
        wt = (keep if w is None else w[t_safe] * keep).astype(x.dtype)
        loss = -wt * x2[xp.arange(m), t_safe]
        out_shape = (x.shape[:1] + x.shape[2:]) if x.ndim >= 2 else ()
        norm = wt.sum()
        ctx.t, ctx.wt, ctx.norm, ctx.shape, ctx.reduction = t_safe, wt, norm, x.shape, reduction
        ctx.dtype = x.dtype
        return _reduce(loss.reshape(out_shape), reduction, norm)

    @staticmethod
    def backward(ctx, dout):
        shape, wt = ctx.shape, ctx.wt
        m = wt.shape[0]
        g = _grad_scale(dout, ctx.reduction, ctx.norm)
        g = g.reshape(-1) if ctx.reduction == "none" else g
        c = shape[1] if len(shape) >= 2 else shape[0]
        dx = xp.zeros((m, c), dtype=ctx.dtype)
        dx[xp.arange(m), ctx.t] = -g * wt
        return (_unrows(dx, shape), None) + ((None,) if len(ctx.inputs) == 3 else ())


# --------------------------------------------------------------------------- regression losses


def _check_pair(op: str, x: Tensor, y: Tensor) -> None:
    require_float(op, "input", x)
    require_float(op, "target", y)
    if x.shape != y.shape:
        raise ValueError(
            f"{op}: input shape {x.shape} and target shape {y.shape} differ; broadcasting them "
            "is almost always a bug (e.g. (N, 1) against (N,) gives an (N, N) loss); reshape "
            "one of them (target.reshape(input.shape))"
        )


class MSELoss(Function):
    """ℓ = (x − y)², the squared error of regression (Lecture 2).   x̄ = 2g(x − y),  ȳ = −x̄."""

    @staticmethod
    def check(x, y, reduction="mean"):
        check_reduction("mse_loss", reduction)
        _check_pair("mse_loss", x, y)

    @staticmethod
    def forward(ctx, x, y, reduction="mean"):
        diff = x - y
        ctx.diff, ctx.reduction = diff, reduction
        return _reduce(diff * diff, reduction)

    @staticmethod
    def backward(ctx, dout):
        diff = ctx.diff
        dx = 2 * _grad_scale(dout, ctx.reduction, diff.size) * diff
        return dx, (-dx if ctx.needs_input_grad[1] else None)


class L1Loss(Function):
    """ℓ = |x − y|.   x̄ = g·sign(x − y),  ȳ = −x̄."""

    @staticmethod
    def check(x, y, reduction="mean"):
        check_reduction("l1_loss", reduction)
        _check_pair("l1_loss", x, y)

    @staticmethod
    def forward(ctx, x, y, reduction="mean"):
        diff = x - y
        ctx.sign, ctx.reduction = xp.sign(diff), reduction
        return _reduce(xp.abs(diff), reduction)

    @staticmethod
    def backward(ctx, dout):
        sign = ctx.sign
        dx = _grad_scale(dout, ctx.reduction, sign.size) * sign
        return dx, (-dx if ctx.needs_input_grad[1] else None)


# --------------------------------------------------------------------------- binary losses


def _check_binary(op: str, x: Tensor, y: Tensor, weight: Tensor | None) -> None:
    _check_pair(op, x, y)
    if weight is not None:
        _no_grad_for(op, "weight", weight)
        _check_broadcasts_to(op, "weight", weight.shape, x.shape)


def _check_broadcasts_to(op: str, name: str, shape: tuple, target: tuple) -> None:
    try:
        fits = xp.broadcast_shapes(shape, target) == target
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{op}: {name} of shape {shape} must broadcast to the input shape "
                         f"{target}")


_LOG_FLOOR = -100.0  # PyTorch clamps log(0) to -100 so that a saturated sigmoid gives a finite loss
_BCE_EPS = 1e-12


class BinaryCrossEntropy(Function):
    """ℓ = −w [y log x + (1 − y) log(1 − x)] for probabilities x (Lecture 4, logistic output).

    x̄ = g w (x − y) / (x(1 − x)),   ȳ = −g w (log x − log(1 − x)); the logs are floored at
    −100 and the denominator at 10⁻¹² as in PyTorch. Prefer the logits version: it is stable.
    """

    @staticmethod
    def check(x, y, *weight, reduction="mean"):
        op = "binary_cross_entropy"
        check_reduction(op, reduction)
        _check_binary(op, x, y, weight[0] if weight else None)
        if x.array.size and (x.array.min() < 0 or x.array.max() > 1):
            raise ValueError(
                f"{op}: input must hold probabilities in [0, 1], got values in "
                f"[{x.array.min():.4g}, {x.array.max():.4g}]; did you forget the sigmoid? "
                "binary_cross_entropy_with_logits takes raw scores and is more stable"
            )

    @staticmethod
    def forward(ctx, x, y, *weight, reduction="mean"):
        with xp.errstate(divide="ignore"):
            log_x = xp.maximum(xp.log(x), _LOG_FLOOR)
            log_1mx = xp.maximum(xp.log1p(-x), _LOG_FLOOR)
        loss = -(y * log_x + (1 - y) * log_1mx)
        w = weight[0] if weight else None
        if w is not None:
            loss = loss * w
        ctx.x, ctx.y, ctx.w, ctx.reduction = x, y, w, reduction
        ctx.log_x, ctx.log_1mx = log_x, log_1mx
        return _reduce(loss.astype(x.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, dout):
        x, y, w = ctx.x, ctx.y, ctx.w
        g = _grad_scale(dout, ctx.reduction, x.size)
        if w is not None:
            g = g * w
        dx = g * (x - y) / xp.maximum(x * (1 - x), _BCE_EPS)
        dy = -g * (ctx.log_x - ctx.log_1mx) if ctx.needs_input_grad[1] else None
        grads = (dx.astype(x.dtype, copy=False),
                 None if dy is None else xp.broadcast_to(dy, y.shape).astype(y.dtype))
        return grads + ((None,) if w is not None else ())


class BinaryCrossEntropyWithLogits(Function):
    """ℓ = w [(1 − y) x + (1 + (q − 1) y) softplus(−x)] for logits x, q the positive weight.

    Equal to the BCE of σ(x) but computed stably: softplus(−x) = log(1 + e^(−|x|)) + max(−x, 0)
    never overflows. x̄ = g w [(1 − y) − (1 + (q − 1) y) σ(−x)] (= g w (σ(x) − y) when q = 1),
    ȳ = g w [−x + (q − 1) softplus(−x)]. ``pos_weight`` q broadcasts over the last (class)
    dimension.
    """

    @staticmethod
    def check(x, y, *extra, reduction="mean", has_weight=False, has_pos_weight=False):
        op = "binary_cross_entropy_with_logits"
        check_reduction(op, reduction)
        w = extra[0] if has_weight else None
        _check_binary(op, x, y, w)
        if has_pos_weight:
            q = extra[-1]
            _no_grad_for(op, "pos_weight", q)
            _check_broadcasts_to(op, "pos_weight", q.shape, x.shape)

    @staticmethod
    def forward(ctx, x, y, *extra, reduction="mean", has_weight=False, has_pos_weight=False):
        w = extra[0] if has_weight else None
        q = extra[-1] if has_pos_weight else None
        sp = xp.logaddexp(0, -x)  # softplus(−x), stable for either sign of x
        coef = 1 if q is None else 1 + (q - 1) * y
        loss = (1 - y) * x + coef * sp
        if w is not None:
            loss = loss * w
        ctx.x, ctx.y, ctx.w, ctx.q, ctx.coef, ctx.sp = x, y, w, q, coef, sp
        ctx.reduction = reduction
        return _reduce(loss.astype(x.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, dout):
        x, y, w, q = ctx.x, ctx.y, ctx.w, ctx.q
        g = _grad_scale(dout, ctx.reduction, x.size)
        if w is not None:
            g = g * w
        sig_neg = 0.5 * (1 - xp.tanh(0.5 * x))  # σ(−x) without overflow
        dx = g * ((1 - y) - ctx.coef * sig_neg)
        dy = None
        if ctx.needs_input_grad[1]:
            dy = g * (-x + (0 if q is None else (q - 1) * ctx.sp))
            dy = xp.broadcast_to(dy, y.shape).astype(y.dtype)
        extra = (None,) * (len(ctx.inputs) - 2)
        return (xp.broadcast_to(dx, x.shape).astype(x.dtype), dy) + extra


# --------------------------------------------------------------------------- user-facing functions


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of scores (logits) against class indices or probabilities.

    ℓᵢ = −log softmax(xᵢ)_tᵢ (Lecture 4), computed in one fused op whose gradient is
    softmax(x) − onehot(t), scaled.

    Args:
        input: unnormalised scores (N, C), (N, C, d1, ...) or (C,).
        target: class indices (int64, shape (N,) / (N, d1, ...)) or class probabilities
            (float, the input's shape).
        weight: optional per-class weights (C,).
        ignore_index: class-index targets equal to this contribute nothing (and are not counted
            in the mean).
        reduction: 'mean' (weighted mean), 'sum' or 'none'.
        label_smoothing: ε in [0, 1]: the target becomes (1 − ε)·onehot + ε/C.

    Returns:
        The loss: a scalar, or per example with reduction='none'.
    """
    extra = () if weight is None else (weight,)
    return CrossEntropy.apply(input, target, *extra, ignore_index=ignore_index,
                              reduction=reduction, label_smoothing=float(label_smoothing))


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities (use after ``log_softmax``).

    Args:
        input: log-probabilities (N, C), (N, C, d1, ...) or (C,).
        target: class indices (int64).
        weight: optional per-class weights (C,).
        ignore_index: targets with this value are skipped.
        reduction: 'mean', 'sum' or 'none'.
    """
    extra = () if weight is None else (weight,)
    return NLLLoss.apply(input, target, *extra, ignore_index=ignore_index, reduction=reduction)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean squared error (x − y)², the regression loss of Lecture 2."""
    return MSELoss.apply(input, target, reduction=reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean absolute error |x − y|."""
    return L1Loss.apply(input, target, reduction=reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities ``input`` (after a sigmoid) against targets in [0, 1].

    Args:
        input: probabilities in [0, 1].
        target: the same shape, values in [0, 1].
        weight: optional weights broadcasting to the input's shape.
        reduction: 'mean', 'sum' or 'none'.
    """
    extra = () if weight is None else (weight,)
    return BinaryCrossEntropy.apply(input, target, *extra, reduction=reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,  # noqa: A002
                                     weight: Tensor | None = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Binary cross-entropy of σ(input), computed stably from the logits (Lecture 4).

    Args:
        input: logits (any shape).
        target: the same shape, values in [0, 1].
        weight: optional weights broadcasting to the input's shape.
        reduction: 'mean', 'sum' or 'none'.
        pos_weight: optional weight of the positive examples, broadcasting over the last
            dimension (one per class): > 1 raises recall.
    """
    extra = tuple(t for t in (weight, pos_weight) if t is not None)
    return BinaryCrossEntropyWithLogits.apply(
        input, target, *extra, reduction=reduction, has_weight=weight is not None,
        has_pos_weight=pos_weight is not None)
