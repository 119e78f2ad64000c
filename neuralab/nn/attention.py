"""Multi-head attention (Vaswani et al., 2017), as ``torch.nn.MultiheadAttention``.

One head is scaled dot-product attention on learned projections of its inputs:

    head_h = softmax(Q W_qʰᵀ (K W_kʰᵀ)ᵀ / √d + M) V W_vʰᵀ        (d = embed_dim / num_heads)

and the layer runs num_heads of them side by side, each on its own d-dimensional slice of the
projections, then mixes their concatenation with an output projection:

    MultiHead(Q, K, V) = concat(head_1, ..., head_H) W_oᵀ + b_o.

Each head can learn to look for something different (a neighbour, a matching word...). With
Q = K = V = x it is self-attention; a decoder attending to an encoder's memory passes K = V =
memory. The attention itself is ``neuralab.ops.attention`` (softmax(QKᵀ/√d + M) V).
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import default_float_dtype, xp
from neuralab.nn import init
from neuralab.nn.linear import Linear
from neuralab.nn.module import Module, Parameter
from neuralab.ops.attention import (
    AttentionError,
    ScaledDotProductAttention,
    additive_mask,
    check_attention_inputs,
)
from neuralab.ops.linalg import linear
from neuralab.ops.shape import cat, pad

__all__ = ["MultiheadAttention"]


def _positive_int(op: str, name: str, n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, xp.integer)) or n <= 0:
        raise ValueError(f"{op}: {name} must be a positive integer, got {n!r}")
    return int(n)


class MultiheadAttention(Module):
    """Attention with ``num_heads`` heads on learned projections of query, key and value.

    Args:
        embed_dim: E, the size of the queries and of the output.
        num_heads: H; each head works on E/H dimensions (E must be divisible by H).
        dropout: dropout on the attention weights while training.
        bias: learn the projections' biases (``in_proj_bias``, ``out_proj.bias``).
        add_bias_kv: learn one more key and value (``bias_k``, ``bias_v``), appended to every
            sequence.
        add_zero_attn: append a zero key and value after the projections.
        kdim, vdim: the sizes of the keys and values (default E); when either differs, the
            projections are ``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight`` instead of
            the stacked ``in_proj_weight`` (3E, E).
        batch_first: inputs and outputs are (N, L, E) instead of (L, N, E).
        dtype: of the parameters (default float32).

    Parameters (PyTorch's names, so its state dicts load): ``in_proj_weight`` (3E, E) = the
    query, key and value projections stacked, ``in_proj_bias`` (3E,), ``bias_k``, ``bias_v``
    (1, 1, E), ``out_proj`` a Linear(E, E).
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: Any = None,
                 dtype: Any = None):
        super().__init__()
        op = "MultiheadAttention"
        if device is not None and str(device) != "cpu":
            raise ValueError(f"{op}: neuralab runs on the CPU only, got device={device!r}")
        embed_dim = _positive_int(op, "embed_dim", embed_dim)
        num_heads = _positive_int(op, "num_heads", num_heads)
        if embed_dim % num_heads:
            raise ValueError(f"{op}: embed_dim must be divisible by num_heads, got embed_dim="
                             f"{embed_dim} and num_heads={num_heads}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{op}: dropout must be a probability in [0, 1], got {dropout!r}")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.kdim = embed_dim if kdim is None else _positive_int(op, "kdim", kdim)
        self.vdim = embed_dim if vdim is None else _positive_int(op, "vdim", vdim)
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        self.head_dim = embed_dim // num_heads
        self.add_zero_attn = bool(add_zero_attn)
        dtype = default_float_dtype() if dtype is None else xp.dtype(dtype)
        E = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(xp.zeros((3 * E, E), dtype=dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(xp.zeros((E, E), dtype=dtype))
            self.k_proj_weight = Parameter(xp.zeros((E, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(xp.zeros((E, self.vdim), dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(xp.zeros((3 * E,), dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(xp.zeros((1, 1, E), dtype=dtype))
            self.bias_v = Parameter(xp.zeros((1, 1, E), dtype=dtype))
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's: Xavier-uniform projections, zero biases, Xavier-normal bias_k/bias_v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _projection_weights(self) -> tuple[Tensor, Tensor, Tensor]:
        if self._qkv_same_embed_dim:
            E = self.embed_dim
            w = self.in_proj_weight
            return w[:E], w[E:2 * E], w[2 * E:]
        return self.q_proj_weight, self.k_proj_weight, self.v_proj_weight

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        """Attend from ``query`` to ``key``/``value``.

        Args:
            query: (L, N, E), or (N, L, E) with ``batch_first``, or unbatched (L, E).
            key: (S, N, kdim) (batch_first: (N, S, kdim); unbatched: (S, kdim)).
            value: (S, N, vdim), likewise.
            key_padding_mask: (N, S) ((S,) unbatched); bool: True marks a key to IGNORE
                (padding); float: added to the scores.
            need_weights: also return the attention weights.
            attn_mask: (L, S) or (N·H, L, S); bool: True marks a pair NOT allowed to attend;
                float: added to the scores.
            average_attn_weights: average the returned weights over the heads.
            is_causal: a hint that ``attn_mask`` is the causal mask (it must be given).

        Returns:
            (output of query's shape with E features, weights (N, L, S) averaged or
            (N, H, L, S) per head, without N when unbatched; None unless ``need_weights``).
        """
        op = "MultiheadAttention"
        check_attention_inputs(op, query, key, value, shapes=False)
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise AttentionError(f"{op}: query, key and value must all be 3-d (batched) or all "
                                 f"2-d (unbatched), got shapes {tuple(query.shape)}, "
                                 f"{tuple(key.shape)}, {tuple(value.shape)}")
        for name, x, size in (("query", query, self.embed_dim), ("key", key, self.kdim),
                              ("value", value, self.vdim)):
            if x.shape[-1] != size:
                raise AttentionError(f"{op}: was expecting {name} of embedding dimension {size}, "
                                     f"but got shape {tuple(x.shape)}")
        if is_causal and attn_mask is None:
            raise AttentionError(f"{op}: is_causal is a hint that attn_mask is the causal mask; "
                                 "pass attn_mask too (e.g. Transformer."
                                 "generate_square_subsequent_mask(L))")
        if self.batch_first and batched:
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        if not batched:  # one sequence: a batch of one
            query, key, value = (x.unsqueeze(1) for x in (query, key, value))
        L, N, E = query.shape
        S = key.shape[0]
        if key.shape[1] != N or value.shape[:2] != key.shape[:2]:
            raise AttentionError(f"{op}: key and value must have the same sequence length and "
                                 f"query, key, value the same batch size, got (seq, batch) = "
                                 f"{tuple(query.shape[:2])}, {tuple(key.shape[:2])}, "
                                 f"{tuple(value.shape[:2])}")
        H, d = self.num_heads, self.head_dim

        # Project: q = query W_qᵀ + b_q, and likewise k and v (all heads at once).
        w_q, w_k, w_v = self._projection_weights()
        b = self.in_proj_bias
        b_q, b_k, b_v = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        q, k, v = linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)

        masks = self._masks(attn_mask, key_padding_mask, batched, L, S, N, q.dtype)
        attn_mask, key_padding_mask = masks
        if self.bias_k is not None:  # one more learned key and value at the end of each sequence
            k = cat([k, self.bias_k.expand(1, N, E)])
            v = cat([v, self.bias_v.expand(1, N, E)])
            attn_mask, key_padding_mask = (None if m is None else pad(m, (0, 1)) for m in masks)

        # Split the heads: (seq, N, E) -> (N·H, seq, d); head h of example n is row n·H + h.
        q, k, v = (x.reshape(x.shape[0], N * H, d).transpose(0, 1) for x in (q, k, v))
        if self.add_zero_attn:
            zeros = Tensor._from_op(xp.zeros((N * H, 1, d), dtype=k.dtype), None, 0)
            k, v = cat([k, zeros], dim=1), cat([v, zeros], dim=1)
            attn_mask, key_padding_mask = (None if m is None else pad(m, (0, 1))
                                           for m in (attn_mask, key_padding_mask))

        # One additive mask M of shape (N·H or 1, L, S): attn_mask plus the padding of each key.
        mask = attn_mask
        if key_padding_mask is not None:
            S1 = key_padding_mask.shape[-1]
            padding = key_padding_mask.reshape(N, 1, 1, S1).expand(N, H, 1, S1)
            padding = padding.reshape(N * H, 1, S1)
            mask = padding if mask is None else mask + padding

        # softmax(q kᵀ/√d + M) v for every head at once; P̃: the (dropped-out) weights.
        p = self.dropout if self.training else 0.0
        out, weights = ScaledDotProductAttention.apply(
            q, k, v, *(() if mask is None else (mask,)), scale=d ** -0.5, dropout_p=p,
            safe=not need_weights)

        # Concatenate the heads and mix them: (N·H, L, d) -> (L, N, E) -> out_proj.
        out = self.out_proj(out.transpose(0, 1).reshape(L, N, E))
        if self.batch_first and batched:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(1)
        if not need_weights:
            return out, None
        weights = weights.reshape(N, H, L, weights.shape[-1])
        if average_attn_weights:
            weights = weights.mean(dim=1)
        return out, (weights if batched else weights.squeeze(0))

    def _masks(self, attn_mask: Any, key_padding_mask: Any, batched: bool, L: int, S: int,
               N: int, dtype: Any) -> tuple[Tensor | None, Tensor | None]:
        """Both masks as additive float masks, checked: attn_mask (1 or N·H, L, S), key padding
        (N, S). PyTorch's bool masks here mark what is masked OUT (True = ignore)."""
        op = "MultiheadAttention"
        if attn_mask is not None:
            attn_mask = additive_mask(op, attn_mask, dtype, allowed_is_true=False)
            expected = ((L, S), (self.num_heads * N, L, S))
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

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}, batch_first={self.batch_first}")
