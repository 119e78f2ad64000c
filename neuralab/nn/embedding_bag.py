"""``nn.EmbeddingBag``: the sum, mean or max of the embeddings of each bag of indices (see
``ops.embedding_bag``), the bag-of-words input layer."""

from __future__ import annotations

from typing import Any

from neuralab import devices
from neuralab.autograd.grad_mode import no_grad
from neuralab.autograd.tensor import Tensor
from neuralab.backend import default_float_dtype, rng, xp
from neuralab.nn.module import Module, Parameter
from neuralab.ops.embedding_bag import embedding_bag

__all__ = ["EmbeddingBag"]


class EmbeddingBag(Module):
    """A table of embeddings reduced per bag, as ``torch.nn.EmbeddingBag``.

    Args:
        num_embeddings: vocabulary size V.
        embedding_dim: vector size D.
        max_norm: rows used whose ``norm_type``-norm exceeds it are rescaled to it in place.
        norm_type: p of that norm.
        scale_grad_by_freq: divide each row's gradient by its count in the batch.
        mode: 'sum', 'mean' (the default) or 'max'.
        sparse: must be False (neuralab has no sparse gradients).
        _weight: optional initial table (V, D).
        include_last_offset: ``offsets`` has one more entry than there are bags.
        padding_idx: an index left out of every bag; its row starts at zero and gets no
            gradient.
        device: accepted for PyTorch compatibility (the CPU).
        dtype: of the table (float32 by default).

    Attributes:
        weight: (V, D), N(0, 1) as PyTorch's.

    Call: ``bag(input, offsets=None, per_sample_weights=None)`` -> (B, D).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight: Any = None, include_last_offset: bool = False,
                 padding_idx: int | None = None, device: Any = None, dtype: Any = None):
        super().__init__()
        devices.check(device, "EmbeddingBag")
        for name, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(v, bool) or not isinstance(v, (int, xp.integer)) or v <= 0:
                raise ValueError(f"EmbeddingBag: {name} must be a positive integer, got {v!r}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"EmbeddingBag: padding_idx must be within [{-num_embeddings}, "
                                 f"{num_embeddings}), got {padding_idx}")
            padding_idx %= num_embeddings
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode has to be one of sum, mean or max, got "
                             f"{mode!r}")
        if sparse:
            raise NotImplementedError("EmbeddingBag: sparse=True is not supported (neuralab has "
                                      "no sparse gradients); use sparse=False")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.mode, self.sparse = scale_grad_by_freq, mode, sparse
        self.include_last_offset, self.padding_idx = include_last_offset, padding_idx
        if _weight is None:
            dtype = default_float_dtype() if dtype is None else xp.dtype(dtype)
            self.weight = Parameter(xp.empty((num_embeddings, embedding_dim), dtype=dtype))
            self.reset_parameters()
        else:
            table = _weight.array if isinstance(_weight, Tensor) else xp.asarray(_weight)
            if table.shape != (num_embeddings, embedding_dim):
                raise ValueError(f"EmbeddingBag: _weight must have shape ({num_embeddings}, "
                                 f"{embedding_dim}), got {table.shape}")
            self.weight = Parameter(table)

    def reset_parameters(self) -> None:
        """weight ~ N(0, 1), the padding row zero."""
        with no_grad():
            self.weight.array[...] = rng().standard_normal(self.weight.array.shape)
            if self.padding_idx is not None:
                self.weight.array[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True,
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> EmbeddingBag:
        """An EmbeddingBag whose table is ``embeddings`` (V, D); frozen unless ``freeze=False``."""
        table = embeddings.array if isinstance(embeddings, Tensor) else xp.asarray(embeddings)
        if table.ndim != 2:
            raise ValueError(f"EmbeddingBag.from_pretrained: embeddings must be 2-D (V, D), got "
                             f"shape {table.shape}")
        bag = cls(table.shape[0], table.shape[1], max_norm, norm_type, scale_grad_by_freq, mode,
                  sparse, table.copy(), include_last_offset, padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

    def forward(self, input: Any, offsets: Any = None,  # noqa: A002
                per_sample_weights: Tensor | None = None) -> Tensor:
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                             self.scale_grad_by_freq, self.mode, self.sparse,
                             per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
