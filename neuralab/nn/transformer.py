"""The Transformer (Vaswani et al., 2017), as ``torch.nn.Transformer`` and its layers.

An encoder layer refines every position of a sequence with two residual sub-layers:

    x ← LayerNorm(x + SelfAttention(x))         every position looks at every other one
    x ← LayerNorm(x + W₂ act(W₁ x + b₁) + b₂)    a two-layer network applied to each position

(``norm_first``: x ← x + SelfAttention(LayerNorm(x)), and so on, the "pre-norm" variant that
trains more easily when deep). A decoder layer adds a third sub-layer between the two, attention
from its positions to the encoder's output (the "memory"), and masks its self-attention causally
so that position i sees only positions ≤ i. The attention is ``MultiheadAttention``; the residual
connections and layer normalization are those of deep residual networks (Lecture 11 on
normalization, and ResNets). Dropout follows every sub-layer while training.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import default_float_dtype, xp
from neuralab.nn import init
from neuralab.nn.attention import MultiheadAttention
from neuralab.nn.dropout import Dropout
from neuralab.nn.layer_norm import LayerNorm
from neuralab.nn.linear import Linear
from neuralab.nn.module import Module, ModuleList
from neuralab.ops.attention import AttentionError
from neuralab.ops.elementwise import gelu, relu

__all__ = ["Transformer", "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder",
           "TransformerEncoderLayer"]


def _activation(op: str, activation: str | Callable) -> Callable:
    if activation == "relu":
        return relu
    if activation == "gelu":
        return gelu
    if isinstance(activation, str) or not callable(activation):
        raise ValueError(f"{op}: activation should be 'relu', 'gelu' or a callable, got "
                         f"{activation!r}")
    return activation


def _clones(op: str, layer: Module, num_layers: int) -> ModuleList:
    if isinstance(num_layers, bool) or not isinstance(num_layers, (int, xp.integer)) \
            or num_layers < 0:
        raise ValueError(f"{op}: num_layers must be a non-negative integer, got {num_layers!r}")
    if not isinstance(layer, Module):
        raise TypeError(f"{op}: expected a layer Module to copy, got {type(layer).__name__}")
    return ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])


def _sequence_length(x: Tensor, batch_first: bool) -> int:
    return x.shape[1] if batch_first and x.ndim == 3 else x.shape[0]


def _square_subsequent_mask(sz: int, dtype: Any = None) -> Tensor:
    """(sz, sz): 0 on and below the diagonal, −∞ above: position i may attend to j ≤ i only."""
    dtype = default_float_dtype() if dtype is None else xp.dtype(dtype)
    mask = xp.triu(xp.full((sz, sz), -xp.inf, dtype=dtype), k=1)
    return Tensor._from_op(mask, None, 0)


def _detect_is_causal(mask: Tensor | None, is_causal: bool | None, size: int) -> bool:
    """PyTorch's hint: None means "find out", True when the mask is the causal mask."""
    if is_causal is None and mask is not None:
        m = mask.array
        if m.shape == (size, size):
            causal = xp.triu(xp.ones((size, size), dtype=bool), k=1)
            return bool(((m == -xp.inf) == causal).all()) if m.dtype != bool \
                else bool((m == causal).all())
        return False
    return bool(is_causal)


class _Layer(Module):
    """What the encoder and decoder layers share: the feed-forward block and the options."""

    _op: str  # the layer's name in error messages
    _n_blocks: int  # sub-layers, each with its normN and dropoutN

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable = "relu",
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None,
                 dtype: Any = None):
        super().__init__()
        op = self._op
        for name, n in (("d_model", d_model), ("dim_feedforward", dim_feedforward)):
            if isinstance(n, bool) or not isinstance(n, (int, xp.integer)) or n <= 0:
                raise ValueError(f"{op}: {name} must be a positive integer, got {n!r}")
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **kw)
        self._second_attention(d_model, nhead, dropout, bias, batch_first, kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = bool(norm_first)
        self.batch_first = bool(batch_first)
        for i in range(1, self._n_blocks + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        for i in range(1, self._n_blocks + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = _activation(op, activation)

    def _second_attention(self, *args: Any) -> None:
        pass

    def _sa_block(self, x: Tensor, mask: Any, padding: Any, is_causal: bool) -> Tensor:
        x = self.self_attn(x, x, x, attn_mask=mask, key_padding_mask=padding,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        """W₂ dropout(act(W₁ x + b₁)) + b₂, position by position."""
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return getattr(self, f"dropout{self._n_blocks}")(x)


class TransformerEncoderLayer(_Layer):
    """Self-attention and a position-wise feed-forward network, each with a residual connection
    and layer normalization (after, or with ``norm_first`` before, the sub-layer).

    Args:
        d_model: the number of features of every position.
        nhead: the number of attention heads (must divide d_model).
        dim_feedforward: the hidden width of the feed-forward network.
        dropout: after each sub-layer, on the attention weights and in the feed-forward network.
        activation: "relu", "gelu" or a callable (a function or a module).
        layer_norm_eps: ε of the layer normalizations.
        batch_first: (N, L, E) inputs instead of (L, N, E).
        norm_first: normalize before each sub-layer (pre-norm) instead of after.
        bias: learn biases in the linear layers and layer normalizations.

    Submodules (PyTorch's names): ``self_attn``, ``linear1``, ``dropout``, ``linear2``,
    ``norm1``, ``norm2``, ``dropout1``, ``dropout2``.
    """

    _op, _n_blocks = "TransformerEncoderLayer", 2

    def forward(self, src: Tensor, src_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None, is_causal: bool = False) -> Tensor:
        """src (L, N, E) / (N, L, E) / (L, E); masks as in ``MultiheadAttention``."""
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x


class TransformerDecoderLayer(_Layer):
    """Masked self-attention, attention to the encoder's memory, and a feed-forward network, each
    with a residual connection and layer normalization.

    Args: as ``TransformerEncoderLayer``. Submodules: ``self_attn``, ``multihead_attn``,
    ``linear1``, ``dropout``, ``linear2``, ``norm1``-``norm3``, ``dropout1``-``dropout3``.
    """

    _op, _n_blocks = "TransformerDecoderLayer", 3

    def _second_attention(self, d_model, nhead, dropout, bias, batch_first, kw) -> None:  # noqa: ANN001
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, **kw)

    def _mha_block(self, x: Tensor, mem: Tensor, mask: Any, padding: Any,
                   is_causal: bool) -> Tensor:
        x = self.multihead_attn(x, mem, mem, attn_mask=mask, key_padding_mask=padding,
                                is_causal=is_causal, need_weights=False)[0]
        return self.dropout2(x)

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> Tensor:
        """tgt (T, N, E) and the encoder's memory (S, N, E) (batch_first: N first)."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask,
                                    memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` (deep copies: same initial weights, trained
    apart), then ``norm`` if given.

    Args:
        encoder_layer: a ``TransformerEncoderLayer`` (copied, not shared).
        num_layers: how many.
        norm: an optional final layer normalization.
        enable_nested_tensor, mask_check: accepted for PyTorch compatibility (its nested-tensor
            fast path does not exist here).
    """

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True):
        super().__init__()
        self.layers = _clones("TransformerEncoder", encoder_layer, num_layers)
        self.num_layers = int(num_layers)
        self.norm = norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(self, src: Tensor, mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        first = self.layers[0] if len(self.layers) else None
        batch_first = getattr(getattr(first, "self_attn", None), "batch_first", False)
        is_causal = _detect_is_causal(mask, is_causal, _sequence_length(src, batch_first))
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, is_causal=is_causal,
                      src_key_padding_mask=src_key_padding_mask)
        return x if self.norm is None else self.norm(x)


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer``, each attending to the same memory, then
    ``norm`` if given."""

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None):
        super().__init__()
        self.layers = _clones("TransformerDecoder", decoder_layer, num_layers)
        self.num_layers = int(num_layers)
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        first = self.layers[0] if len(self.layers) else None
        batch_first = getattr(getattr(first, "self_attn", None), "batch_first", False)
        tgt_is_causal = _detect_is_causal(tgt_mask, tgt_is_causal,
                                          _sequence_length(tgt, batch_first))
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return x if self.norm is None else self.norm(x)


class Transformer(Module):
    """An encoder of the source sequence and a decoder of the target sequence that attends to
    it (the translation model of Vaswani et al., 2017), without embeddings or output layer.

    Args:
        d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
            norm_first, bias: as ``TransformerEncoderLayer``.
        num_encoder_layers, num_decoder_layers: the depths.
        custom_encoder, custom_decoder: modules to use instead of the standard ones.

    Every parameter with more than one dimension is initialised Xavier-uniform, as PyTorch.
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable = "relu", custom_encoder: Module | None = None,
                 custom_decoder: Module | None = None, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device: Any = None, dtype: Any = None):
        super().__init__()
        layer_args = dict(dim_feedforward=dim_feedforward, dropout=dropout,
                          activation=activation, layer_norm_eps=layer_norm_eps,
                          batch_first=batch_first, norm_first=norm_first, bias=bias,
                          device=device, dtype=dtype)
        norm_args = dict(eps=layer_norm_eps, bias=bias, device=device, dtype=dtype)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(d_model, nhead, **layer_args), num_encoder_layers,
                LayerNorm(d_model, **norm_args))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(d_model, nhead, **layer_args), num_decoder_layers,
                LayerNorm(d_model, **norm_args))
        self._reset_parameters()
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def _reset_parameters(self) -> None:
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None) -> Tensor:
        """The causal mask (sz, sz): 0 on and below the diagonal, −∞ above (float32 default)."""
        if isinstance(sz, bool) or not isinstance(sz, (int, xp.integer)) or sz < 0:
            raise ValueError(f"generate_square_subsequent_mask: sz must be a non-negative "
                             f"integer, got {sz!r}")
        return _square_subsequent_mask(int(sz), dtype)

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None,
                tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        """src (S, N, E), tgt (T, N, E) (batch_first: N first; unbatched: no N) -> (T, N, E)."""
        batch_axis = 0 if self.batch_first else 1
        if src.ndim == 3 and tgt.ndim == 3 and src.shape[batch_axis] != tgt.shape[batch_axis]:
            raise AttentionError(f"Transformer: the batch number of src and tgt must be equal, "
                                 f"got src {tuple(src.shape)} and tgt {tuple(tgt.shape)} "
                                 f"(batch_first={self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise AttentionError(f"Transformer: the feature number of src and tgt must be equal "
                                 f"to d_model={self.d_model}, got src {tuple(src.shape)} and "
                                 f"tgt {tuple(tgt.shape)}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
