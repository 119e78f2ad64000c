"""Multi-head attention as one function, ``F.multi_head_attention_forward`` (PyTorch's functional
form of ``nn.MultiheadAttention``, which calls it; sequence-first layout (L, N, E)).

Each of the H heads is scaled dot-product attention on its own d = E/H dimensions of learned
projections of the inputs, and an output projection mixes the heads' concatenation:

    head_h = softmax(Q W_qʰᵀ (K W_kʰᵀ)ᵀ / √d + M) V W_vʰᵀ
    MultiHead(Q, K, V) = concat(head_1, ..., head_H) W_oᵀ + b_o.

M adds the attention mask and the key padding (−∞ hides a key). The attention itself, with its
hand-derived backward, is ``neuralab.ops.attention.ScaledDotProductAttention``; the projections
are ``linear``. This closes CSC321's lectures on attention, in the Transformer's form (Vaswani et
al., 2017).
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops.attention import (
    AttentionError,
    ScaledDotProductAttention,
    _const,
    _shape,
    additive_mask,
    check_attention_inputs,
)
from neuralab.ops.linalg import linear
from neuralab.ops.shape import cat, pad

__all__ = ["multi_head_attention_forward"]

_OP = "multi_head_attention_forward"


def check_mha_inputs(op: str, query: Any, key: Any, value: Any) -> bool:
    """Types and dtypes of query, key and value, all 3-d or all 2-d; whether they are batched."""
    check_attention_inputs(op, query, key, value, shapes=False)
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise AttentionError(f"{op}: query, key and value must all be 3-d (batched) or all "
                             f"2-d (unbatched), got shapes {_shape(query)}, {_shape(key)}, "
                             f"{_shape(value)}")
    return query.ndim == 3


def _projections(op: str, E: int, in_proj_weight: Any, in_proj_bias: Any,
                 use_separate_proj_weight: bool, q_proj_weight: Any, k_proj_weight: Any,
                 v_proj_weight: Any) -> tuple[tuple, tuple]:
    """The (W_q, W_k, W_v) and (b_q, b_k, b_v) of the three input projections."""
    if use_separate_proj_weight:
        ws = (q_proj_weight, k_proj_weight, v_proj_weight)
        if any(w is None for w in ws):
            raise ValueError(f"{op}: use_separate_proj_weight is True but q_proj_weight, "
                             "k_proj_weight or v_proj_weight is None")
        for name, w in zip(("q_proj_weight", "k_proj_weight", "v_proj_weight"), ws):
            if not isinstance(w, Tensor) or w.ndim != 2 or w.shape[0] != E:
                raise AttentionError(f"{op}: {name} must be a 2-d tensor with {E} rows "
                                     f"(embed_dim), got "
                                     f"{_shape(w) if isinstance(w, Tensor) else type(w).__name__}")
    else:
        if in_proj_weight is None:
            raise ValueError(f"{op}: use_separate_proj_weight is False but in_proj_weight is "
                             "None; pass in_proj_weight (3·embed_dim, embed_dim)")
        if not isinstance(in_proj_weight, Tensor) or _shape(in_proj_weight) != (3 * E, E):
            got = (_shape(in_proj_weight) if isinstance(in_proj_weight, Tensor)
                   else type(in_proj_weight).__name__)
            raise AttentionError(f"{op}: in_proj_weight must have shape (3·embed_dim, embed_dim) "
                                 f"= {(3 * E, E)}, got {got}")
        w = in_proj_weight
        ws = (w[:E], w[E:2 * E], w[2 * E:])
    if in_proj_bias is None:
        return ws, (None, None, None)
    if not isinstance(in_proj_bias, Tensor) or _shape(in_proj_bias) != (3 * E,):
        got = (_shape(in_proj_bias) if isinstance(in_proj_bias, Tensor)
               else type(in_proj_bias).__name__)
        raise AttentionError(f"{op}: in_proj_bias must have shape (3·embed_dim,) = {(3 * E,)}, "
                             f"got {got}")
    b = in_proj_bias
    return ws, (b[:E], b[E:2 * E], b[2 * E:])


def _static(op: str, name: str, t: Any, NH: int, d: int) -> Tensor:
    if not isinstance(t, Tensor) or t.ndim != 3 or t.shape[0] != NH or t.shape[2] != d:
        got = _shape(t) if isinstance(t, Tensor) else type(t).__name__
        raise AttentionError(f"{op}: {name} must have shape (N·num_heads, S, head_dim) = "
                             f"({NH}, S, {d}), got {got}")
    return t


def _check_masks(op: str, attn_mask: Any, key_padding_mask: Any, batched: bool, L: int, S: int,
                 N: int, H: int, dtype: Any) -> tuple[Tensor | None, Tensor | None]:
    """Both masks as additive float masks, checked: attn_mask (1 or N·H, L, S), key padding
    (N, S). PyTorch's bool masks here mark what is masked OUT (True = ignore)."""
    if attn_mask is not None:
        attn_mask = additive_mask(op, attn_mask, dtype, allowed_is_true=False)
        expected = ((L, S), (H * N, L, S))
        if tuple(attn_mask.shape) not in expected:
            raise AttentionError(f"{op}: attn_mask must have shape (L, S) = {(L, S)} or "
                                 f"(N·num_heads, L, S) = {expected[1]}, got "
                                 f"{tuple(attn_mask.shape)}")
        if attn_mask.ndim == 2:
            attn_mask = attn_mask.unsqueeze(0)
    if key_padding_mask is not None:
        key_padding_mask = additive_mask(op, key_padding_mask, dtype, allowed_is_true=False)
        expected = (N, S) if batched else (S,)
        if tuple(key_padding_mask.shape) != expected:
            raise AttentionError(f"{op}: key_padding_mask must have shape (N, S) = "
                                 f"{expected} ((S,) for unbatched inputs), got "
                                 f"{tuple(key_padding_mask.shape)}")
        key_padding_mask = key_padding_mask.reshape(N, S)
    return attn_mask, key_padding_mask


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
        bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
        out_proj_bias: Tensor | None, training: bool = True,
        key_padding_mask: Tensor | None = None, need_weights: bool = True,
        attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False,
        q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
        v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
        static_v: Tensor | None = None, average_attn_weights: bool = True,
        is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention from ``query`` to ``key``/``value``, as PyTorch's functional.

    Args:
        query: (L, N, E), or unbatched (L, E).
        key, value: (S, N, kdim), (S, N, vdim) (unbatched: (S, kdim), (S, vdim)).
        embed_dim_to_check: E, checked against the query's last dimension.
        num_heads: H (E must be divisible by H; d = E/H per head).
        in_proj_weight: (3E, E), W_q, W_k, W_v stacked (unless use_separate_proj_weight).
        in_proj_bias: (3E,) or None.
        bias_k, bias_v: (1, 1, E) learned key and value appended to every sequence, or None.
        add_zero_attn: append a zero key and value after the projections.
        dropout_p: dropout on the attention weights (only when ``training``).
        out_proj_weight, out_proj_bias: W_o (E_out, E) and b_o.
        training: apply dropout.
        key_padding_mask: (N, S) ((S,) unbatched); bool: True marks a key to IGNORE; float:
            added to the scores.
        need_weights: also return the attention weights.
        attn_mask: (L, S) or (N·H, L, S); bool: True marks a pair NOT allowed; float: added.
        use_separate_proj_weight: use q_proj_weight (E, E), k_proj_weight (E, kdim) and
            v_proj_weight (E, vdim) instead of in_proj_weight.
        static_k, static_v: (N·H, S', d) keys / values used as they are, instead of projecting
            key / value.
        average_attn_weights: average the returned weights over the heads.
        is_causal: a hint that ``attn_mask`` is the causal mask (it must be given); as in
            PyTorch, without key_padding_mask and need_weights the causal mask replaces it.

    Returns:
        (output (L, N, E_out) or (L, E_out), weights (N, L, S) averaged or (N, H, L, S) per head,
        without N when unbatched; None unless ``need_weights``).
    """
    op = _OP
    batched = check_mha_inputs(op, query, key, value)
    if isinstance(num_heads, bool) or not isinstance(num_heads, (int, xp.integer)) \
            or num_heads <= 0:
        raise ValueError(f"{op}: num_heads must be a positive integer, got {num_heads!r}")
    E = query.shape[-1]
    if E != embed_dim_to_check:
        raise AttentionError(f"{op}: was expecting query of embedding dimension "
                             f"{embed_dim_to_check}, but got shape {_shape(query)}")
    H = int(num_heads)
    if E % H:
        raise ValueError(f"{op}: embed_dim must be divisible by num_heads, got embed_dim={E} "
                         f"and num_heads={H}")
    if isinstance(dropout_p, bool) or not isinstance(dropout_p, (int, float)) \
            or not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be a probability in [0, 1], got {dropout_p!r}")
    if is_causal and attn_mask is None:
        raise AttentionError(f"{op}: is_causal is a hint that attn_mask is the causal mask; "
                             "pass attn_mask too (e.g. Transformer."
                             "generate_square_subsequent_mask(L))")
    if (bias_k is None) != (bias_v is None):
        raise ValueError(f"{op}: bias_k and bias_v must be given together (or neither)")
    if bias_k is not None and (static_k is not None or static_v is not None):
        raise ValueError(f"{op}: bias_k/bias_v cannot be added to static_k/static_v")
    ws, bs = _projections(op, E, in_proj_weight, in_proj_bias, use_separate_proj_weight,
                          q_proj_weight, k_proj_weight, v_proj_weight)
    for name, x, w in (("query", query, ws[0]), ("key", key, ws[1]), ("value", value, ws[2])):
        if x.shape[-1] != w.shape[-1]:
            raise AttentionError(f"{op}: was expecting {name} of embedding dimension "
                                 f"{w.shape[-1]}, but got shape {_shape(x)}")
    if not batched:  # one sequence: a batch of one
        query, key, value = (x.unsqueeze(1) for x in (query, key, value))
    L, N, _ = query.shape
    if key.shape[1] != N or value.shape[:2] != key.shape[:2]:
        raise AttentionError(f"{op}: key and value must have the same sequence length and "
                             f"query, key, value the same batch size, got (seq, batch) = "
                             f"{_shape(query)[:2]}, {_shape(key)[:2]}, {_shape(value)[:2]}")
    d, NH = E // H, N * H
    if static_k is not None:
        static_k = _static(op, "static_k", static_k, NH, d)
    if static_v is not None:
        static_v = _static(op, "static_v", static_v, NH, d)
    S = key.shape[0] if static_k is None else static_k.shape[1]
    S_v = value.shape[0] if static_v is None else static_v.shape[1]
    if S != S_v:
        raise AttentionError(f"{op}: the keys and values must have the same sequence length, got "
                             f"{S} keys and {S_v} values (static_k / static_v included)")

    # Project (all heads at once): q = query W_qᵀ + b_q, and likewise k and v.
    q = linear(query, ws[0], bs[0])
    k = linear(key, ws[1], bs[1]) if static_k is None else None
    v = linear(value, ws[2], bs[2]) if static_v is None else None

    causal = bool(is_causal) and key_padding_mask is None and not need_weights
    masks = _check_masks(op, None if causal else attn_mask, key_padding_mask, batched, L, S, N,
                         H, q.dtype)
    if bias_k is not None:  # one more learned key and value at the end of each sequence
        k = cat([k, bias_k.reshape(1, 1, E).expand(1, N, E)])
        v = cat([v, bias_v.reshape(1, 1, E).expand(1, N, E)])
        masks = tuple(None if m is None else pad(m, (0, 1)) for m in masks)

    # Split the heads: (seq, N, E) -> (N·H, seq, d); head h of example n is row n·H + h.
    q = q.reshape(L, NH, d).transpose(0, 1)
    k = static_k if k is None else k.reshape(k.shape[0], NH, d).transpose(0, 1)
    v = static_v if v is None else v.reshape(v.shape[0], NH, d).transpose(0, 1)
    if add_zero_attn:
        k = cat([k, _const(xp.zeros((NH, 1, d), dtype=k.dtype))], dim=1)
        v = cat([v, _const(xp.zeros((NH, 1, d), dtype=v.dtype))], dim=1)
        masks = tuple(None if m is None else pad(m, (0, 1)) for m in masks)

    # One additive mask M of shape (N·H or 1, L, S): attn_mask plus the padding of each key.
    mask, key_padding_mask = masks
    S = k.shape[1]
    if causal:  # PyTorch's SDPA causal mask: query i sees keys 0..i (top-left aligned)
        hidden = xp.triu(xp.ones((L, S), dtype=bool), 1)
        mask = _const(xp.where(hidden, -xp.inf, 0.0).astype(q.dtype)[None])
    if key_padding_mask is not None:
        padding = key_padding_mask.reshape(N, 1, 1, S).expand(N, H, 1, S).reshape(NH, 1, S)
        mask = padding if mask is None else mask + padding

    # softmax(q kᵀ/√d + M) v for every head at once; P̃: the (dropped-out) weights.
    p = float(dropout_p) if training else 0.0
    out, weights = ScaledDotProductAttention.apply(
        q, k, v, *(() if mask is None else (mask,)), scale=d ** -0.5, dropout_p=p,
        safe=not need_weights)

    # Concatenate the heads and mix them: (N·H, L, d) -> (L, N, E) -> out_proj.
    out = linear(out.transpose(0, 1).reshape(L, N, E), out_proj_weight, out_proj_bias)
    if not batched:
        out = out.squeeze(1)
    if not need_weights:
        return out, None
    weights = weights.reshape(N, H, L, S)
    if average_attn_weights:
        weights = weights.mean(dim=1)
    return out, (weights if batched else weights.squeeze(0))
