"""Embedding: a learned vector per symbol, the input layer of language models (Lecture 15)."""

from __future__ import annotations

from typing import Any

from neuralab.autograd.grad_mode import no_grad
from neuralab.autograd.tensor import Tensor
from neuralab.backend import default_float_dtype, rng, xp
from neuralab.nn.module import Module, Parameter
from neuralab.ops.recurrent import embedding

__all__ = ["Embedding"]


class Embedding(Module):
    """A lookup table: index k becomes row k of ``weight`` (num_embeddings, embedding_dim).

    Equivalent to multiplying a one-hot vector by the weight matrix (the first layer of the
    neural language model of Lecture 7), without building the one-hot vectors. ``weight`` starts
    as N(0, 1), as in PyTorch; the row ``padding_idx`` starts at zero and is never updated.

    Args:
        num_embeddings: vocabulary size V.
        embedding_dim: vector size D.
        padding_idx: an index whose row stays zero and receives no gradient (negative values
            count from the end).
        _weight: optional initial table (V, D).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 _weight: Any = None) -> None:
        super().__init__()
        for name, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(v, bool) or not isinstance(v, (int, xp.integer)) or v <= 0:
                raise ValueError(f"Embedding: {name} must be a positive integer, got {v!r}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be in [{-num_embeddings}, "
                                 f"{num_embeddings}), got {padding_idx}")
            padding_idx %= num_embeddings
        self.num_embeddings = int(num_embeddings)
        self.embedding_dim = int(embedding_dim)
        self.padding_idx = padding_idx
        if _weight is None:
            table = rng().standard_normal((num_embeddings, embedding_dim))
            table = table.astype(default_float_dtype())
            self.weight = Parameter(table)
            self._zero_padding()
        else:
            table = _weight.array if isinstance(_weight, Tensor) else xp.asarray(_weight)
            if table.shape != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight must have shape ({num_embeddings}, "
                                 f"{embedding_dim}), got {table.shape}")
            self.weight = Parameter(table)

    def reset_parameters(self) -> None:
        """weight ~ N(0, 1), padding row zero."""
        with no_grad():  # an initialisation, not part of any graph (as PyTorch's)
            self.weight.normal_(0.0, 1.0)
        self._zero_padding()

    def _zero_padding(self) -> None:
        if self.padding_idx is not None:
            with no_grad():
                self.weight.array[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True,
                        padding_idx: int | None = None) -> Embedding:
        """An Embedding whose table is ``embeddings`` (V, D); frozen unless ``freeze=False``."""
        table = embeddings.array if isinstance(embeddings, Tensor) else xp.asarray(embeddings)
        if table.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D (V, D), got "
                             f"shape {table.shape}")
        module = cls(table.shape[0], table.shape[1], padding_idx=padding_idx,
                     _weight=table.copy())
        module.weight.requires_grad = not freeze
        return module

    def forward(self, input: Any) -> Tensor:  # noqa: A002
        """Rows of ``weight`` for integer indices of any shape (...) -> (..., D)."""
        if not isinstance(input, Tensor):
            input = Tensor(input)
        return embedding(input, self.weight, padding_idx=self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
