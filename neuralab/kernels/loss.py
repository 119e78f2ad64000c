"""The fast cross-entropy kernel for class-index targets: no one-hot matrix.

The reference ``CrossEntropy`` in ``neuralab.ops.loss`` builds the dense target coefficients
a (M, C) (the one-hot rows, smoothed and weighted) and reads x̄ = g·(p Σ_c a − a), which is the
lecture's (p − y)/N. With class indices the coefficients are a one-hot row plus a constant, so
this kernel keeps them as the target column and the per-row weight: the forward pass gathers
log p at the targets and the backward pass subtracts at them, instead of filling and reading an
(M, C) matrix; the softmax is computed in place in the buffer of its exponentials.
Chosen by ``nl.set_kernels("fast")`` (the default); tested against the reference by the op
specs, which run with both kernel sets.
"""

from __future__ import annotations

from typing import Any

from neuralab.backend import xp

__all__ = ["cross_entropy_forward", "cross_entropy_backward"]


def cross_entropy_forward(ctx: Any, x2: Any, t: Any, w: Any, ignore_index: int,
                          eps: float) -> tuple[Any, Any]:
    """Per-row losses ℓᵢ (M,) of scores x2 (M, C) against class indices t (M,), and Σᵢ w_tᵢ.

    ℓᵢ = −(1 − ε) w_tᵢ log p_tᵢ − (ε/C) Σ_c w_c log p_c, zero for ignored targets.
    """
    m, c = x2.shape
    shift = x2 - x2.max(axis=1, keepdims=True)  # the log-sum-exp shift: exp never overflows
    p = xp.exp(shift)
    s = p.sum(axis=1, keepdims=True)
    logp = shift - xp.log(s)
    p /= s  # the softmax, kept for backward
    keep = t != ignore_index
    t_safe = xp.where(keep, t, 0)
    wt = xp.ones(m, dtype=x2.dtype) if w is None else w[t_safe].astype(x2.dtype)
    wt = wt * keep  # aᵢ,tᵢ before smoothing: 0 for ignored targets
    loss = -(1 - eps) * wt * logp[xp.arange(m), t_safe]
    if eps:
        wc = 1 if w is None else w
        loss = loss + (eps / c) * -(logp * wc).sum(axis=1) * keep
    ctx.p, ctx.t, ctx.wt, ctx.keep, ctx.eps, ctx.w = p, t_safe, wt, keep, eps, w
    return loss.astype(x2.dtype, copy=False), wt.sum()


def cross_entropy_backward(ctx: Any, g: Any) -> Any:
    """x̄ (M, C) = g·(p Σ_c aᵢc − aᵢ), with g a scalar or (M, 1): the reduction's gradient."""
    p, eps, wt, t = ctx.p, ctx.eps, ctx.wt, ctx.t
    m, c = p.shape
    # Σ_c aᵢc = (1 − ε)w_tᵢ + (ε/C)Σ_c w_c (the second term only for kept targets).
    total = (1 - eps) * wt
    if eps:
        wsum = c if ctx.w is None else ctx.w.sum()
        total = total + (eps / c) * wsum * ctx.keep
    dx = p * total[:, None]
    dx[xp.arange(m), t] -= (1 - eps) * wt
    if eps:
        wc = 1 if ctx.w is None else ctx.w
        dx -= (eps / c) * wc * ctx.keep[:, None]
    dx *= g
    return dx
