"""Attention: every query looks at every key and takes a weighted average of the values.

For one query qᵢ (a row of Q, L × E), keys K (S × E) and values V (S × Ev):

    sᵢⱼ = qᵢ · kⱼ / √E + mᵢⱼ          how well query i matches key j (m: the mask, 0 or −∞)
    pᵢ  = softmax(sᵢ)                  attention weights over the S keys, summing to 1
    oᵢ  = Σⱼ pᵢⱼ vⱼ                     the output: a convex combination of the values

or, for all queries at once, O = softmax(QKᵀ/√E + M) V. Dividing by √E keeps the scores' variance
near 1 when q and k have unit-variance entries, so the softmax does not saturate. A mask entry of
−∞ removes key j from query i's average (e^−∞ = 0): the causal mask of a decoder hides the future,
a padding mask hides the padding. This is the attention with which CSC321 closes its lectures on
recurrent networks (attention-based translation), in the form Transformers use (Vaswani et al.,
2017).
"""

from __future__ import annotations

import math
from typing import Any

from neuralab.autograd.function import Function, unbroadcast
from neuralab.autograd.tensor import Tensor
from neuralab.backend import rng, xp

__all__ = ["scaled_dot_product_attention"]


class AttentionError(ValueError, RuntimeError):
    """Bad attention inputs. PyTorch raises RuntimeError, neuralab's checks ValueError: this error
    is both, so that either ``except`` clause written against PyTorch catches it."""


class ScaledDotProductAttention(Function):
    """O = P̃ V with P = softmax(S), S = Q Kᵀ · scale + M, P̃ = P ⊙ D / (1 − p).

    Q (..., L, E), K (..., S, E), V (..., S, Ev); M (additive float mask) broadcasts to the scores
    (..., L, S); D is a Bernoulli(1 − p) dropout mask on the weights (none when p = 0). Returns O
    and the weights P̃ (``nn.MultiheadAttention`` hands them back).

    Backward, from Ō (and W̄, the gradient of the returned weights):
        V̄ = P̃ᵀ Ō
        P̃̄ = Ō Vᵀ + W̄,    P̄ = P̃̄ ⊙ D / (1 − p)
        S̄ = P ⊙ (P̄ − Σⱼ P̄ⱼ Pⱼ)           the softmax's Jacobian, row by row
        Q̄ = S̄ K · scale,   K̄ = S̄ᵀ Q · scale,   M̄ = S̄
    each summed back to its input's shape where the batch dimensions broadcast.

    ``safe``: a row whose scores are all −∞ (a query with nothing to attend to) gets weights 0,
    hence output 0, as PyTorch's ``scaled_dot_product_attention``; otherwise it is NaN, as in
    ``nn.MultiheadAttention`` returning its weights.
    """

    @staticmethod
    def forward(ctx, q, k, v, *mask, scale, dropout_p, safe):
        S = q @ xp.swapaxes(k, -1, -2) * q.dtype.type(scale)  # scores (..., L, S)
        if mask:
            S = S + mask[0]
        row_max = S.max(axis=-1, keepdims=True) if S.shape[-1] else S.sum(-1, keepdims=True)
        if safe:
            row_max = xp.where(row_max == -xp.inf, 0, row_max)  # all-masked rows: e = 0 below
        with xp.errstate(invalid="ignore"):  # unsafe all-masked rows: −∞ − (−∞) = NaN
            e = xp.exp(S - row_max)
        total = e.sum(axis=-1, keepdims=True)
        P = e / (xp.where(total == 0, 1, total) if safe else total)  # softmax along the keys
        if dropout_p > 0:
            keep = rng().random(P.shape) >= dropout_p if dropout_p < 1 else xp.zeros(P.shape, bool)
            D = (keep * (1.0 / (1.0 - dropout_p)) if dropout_p < 1 else keep).astype(P.dtype)
            P_drop = P * D
        else:
            D, P_drop = None, P
        ctx.q, ctx.k, ctx.v, ctx.P, ctx.D, ctx.P_drop = q, k, v, P, D, P_drop
        ctx.scale, ctx.mask_shape = scale, mask[0].shape if mask else None
        return P_drop @ v, P_drop

    @staticmethod
    def backward(ctx, dO, dW):
        q, k, v, P, D, P_drop = ctx.q, ctx.k, ctx.v, ctx.P, ctx.D, ctx.P_drop
        scale = q.dtype.type(ctx.scale)
        dV = unbroadcast(xp.swapaxes(P_drop, -1, -2) @ dO, v.shape)
        dP = dO @ xp.swapaxes(v, -1, -2) + dW
        if D is not None:
            dP = dP * D
        dS = P * (dP - (dP * P).sum(axis=-1, keepdims=True))
        dQ = unbroadcast(dS @ k * scale, q.shape)
        dK = unbroadcast(xp.swapaxes(dS, -1, -2) @ q * scale, k.shape)
        grads = (dQ, dK, dV)
        if ctx.mask_shape is not None:
            grads += (unbroadcast(dS, ctx.mask_shape) if ctx.needs_input_grad[3] else None,)
        return grads


def _const(array: Any) -> Tensor:
    return Tensor._from_op(array, None, 0)  # keeps the array's dtype, records no history


def _shape(t: Tensor) -> tuple[int, ...]:
    return tuple(t.shape)


def check_attention_inputs(op: str, query: Any, key: Any, value: Any,
                           shapes: bool = True) -> None:
    """Types, dtypes and (``shapes``) shapes of Q (..., L, E), K (..., S, E), V (..., S, Ev)."""
    named = (("query", query), ("key", key), ("value", value))
    for name, t in named:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.dtype.kind != "f":
            raise TypeError(f"{op}: {name} must be a floating-point tensor, got {t.dtype}; "
                            "convert it with .float()")
    if not query.dtype == key.dtype == value.dtype:
        raise TypeError(f"{op}: query, key and value must have the same dtype, got "
                        f"{query.dtype}, {key.dtype} and {value.dtype}")
    if not shapes:
        return
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise AttentionError(f"{op}: query, key and value must be at least 2-d (..., L, E), got "
                             f"shapes {_shape(query)}, {_shape(key)}, {_shape(value)}")
    if query.shape[-1] != key.shape[-1]:
        raise AttentionError(f"{op}: query and key must have the same embedding size E (last "
                             f"dimension) to be compared, got query {_shape(query)} and key "
                             f"{_shape(key)}")
    if key.shape[-2] != value.shape[-2]:
        raise AttentionError(f"{op}: key and value must have the same sequence length S "
                             f"(dimension -2), got key {_shape(key)} and value {_shape(value)}")


def _batch_shape(op: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    try:
        return xp.broadcast_shapes(*(s[:-2] for s in shapes))
    except ValueError:
        raise AttentionError(f"{op}: the batch dimensions (all but the last two) of query, key "
                             f"and value must broadcast, got shapes "
                             f"{', '.join(str(s) for s in shapes)}") from None


def additive_mask(op: str, mask: Any, dtype: Any, allowed_is_true: bool = True) -> Tensor:
    """A bool or float attention mask as the additive float mask M (0 or −∞ for a bool one).

    ``allowed_is_true``: scaled_dot_product_attention's bool masks mark the positions that TAKE
    PART (True = attend); nn.MultiheadAttention's mark those that do NOT (True = masked out).
    """
    if not isinstance(mask, Tensor):
        mask = _const(xp.asarray(mask))
    if mask.dtype == xp.bool_:
        hidden = ~mask.array if allowed_is_true else mask.array
        return _const(xp.where(hidden, -xp.inf, 0.0).astype(dtype))
    if mask.dtype.kind != "f":
        raise TypeError(f"{op}: attn_mask must be a bool tensor (which positions take part) or a "
                        f"float tensor (added to the scores), got {mask.dtype}")
    return mask if mask.dtype == dtype else mask.to(dtype)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, *, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(Q Kᵀ · scale + M) V, as ``torch.nn.functional.scaled_dot_product_attention``.

    Args:
        query: (..., L, E): L queries.
        key: (..., S, E): S keys, compared with the queries by dot products.
        value: (..., S, Ev): what each key contributes to the output.
        attn_mask: broadcastable to (..., L, S); bool: True where query i may attend to key j
            (False becomes −∞); float: added to the scores (0 keeps, −∞ removes).
        dropout_p: drop attention weights with this probability (applied whenever > 0: pass
            ``p if self.training else 0.0``).
        is_causal: query i attends to keys j ≤ i only (the lower triangle of an L × S mask);
            cannot be combined with ``attn_mask``.
        scale: the factor on Q Kᵀ; default 1/√E.
        enable_gqa: grouped-query attention: the H key/value heads (dimension -3) are shared by
            groups of Hq/H query heads.

    Returns:
        (..., L, Ev); a query whose keys are all masked gets 0 (PyTorch 2.5+ behaviour).
    """
    op = "scaled_dot_product_attention"
    check_attention_inputs(op, query, key, value)
    if isinstance(dropout_p, bool) or not isinstance(dropout_p, (int, float)) \
            or not 0.0 <= dropout_p <= 1.0:
        raise AttentionError(f"{op}: dropout probability has to be between 0 and 1, got "
                             f"{dropout_p!r}")
    if enable_gqa:
        hq, hk = (query.shape[-3] if query.ndim >= 3 else 1), (key.shape[-3] if key.ndim >= 3
                                                                else 1)
        if key.ndim < 3 or key.shape[-3] != value.shape[-3] or hq % hk:
            raise AttentionError(f"{op}: with enable_gqa the number of key/value heads "
                                 f"(dimension -3) must be equal and divide the query's, got "
                                 f"query {_shape(query)}, key {_shape(key)}, value "
                                 f"{_shape(value)}")
        if hq != hk:
            key = key.repeat_interleave(hq // hk, dim=-3)
            value = value.repeat_interleave(hq // hk, dim=-3)
    batch = _batch_shape(op, _shape(query), _shape(key), _shape(value))
    L, S = query.shape[-2], key.shape[-2]
    if is_causal:
        if attn_mask is not None:
            raise AttentionError(f"{op}: an explicit attn_mask should not be set when "
                                 "is_causal=True (the causal mask is built from L and S)")
        attn_mask = _const(xp.tril(xp.ones((L, S), dtype=bool)))
    masks = ()
    if attn_mask is not None:
        mask = additive_mask(op, attn_mask, query.dtype)
        try:
            xp.broadcast_shapes(_shape(mask), batch + (L, S))
        except ValueError:
            raise AttentionError(f"{op}: attn_mask of shape {_shape(mask)} does not broadcast "
                                 f"to the scores' shape {batch + (L, S)} (..., L, S)") from None
        masks = (mask,)
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    out, _ = ScaledDotProductAttention.apply(query, key, value, *masks, scale=float(scale),
                                             dropout_p=float(dropout_p), safe=True)
    return out
