"""Truncated backpropagation through time over one long sequence (Lecture 15).

A language model reads a text far longer than any graph one can backpropagate through. The text
is cut into B contiguous streams, one per row of a batch, and each stream into chunks of T
tokens; chunk k+1 of a row continues chunk k of the same row, so the recurrent state at the end
of one chunk is the right initial state for the next (carried across, detached from the graph:
see ``neuralab.nn.rnn.CarryState``), while each backward pass runs through T steps only.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp

__all__ = ["BPTTLoader"]


def _positive_int(who: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{who}: {name} must be a positive integer, got {value!r}")
    return value


class BPTTLoader:
    """Chunks ``(x, y)`` of shape (B, T) of a token sequence, in order, y = x shifted by one.

    Row b of every chunk is the b-th contiguous stretch of the sequence; chunk k holds its tokens
    [kT, (k+1)T), and ``y[b, t]`` is the token after ``x[b, t]``. Iterating again starts over
    from the first chunk (one pass = one epoch), so ``Trainer`` can train on it.

    Args:
        tokens: a 1-D integer array (a text encoded as character indices, say).
        batch_size: B, the number of parallel streams.
        seq_len: T, the truncation length of backpropagation through time.
        drop_last: drop a last chunk shorter than T.
        as_tensor: yield int64 Tensors (else ndarrays).
        name: how error messages name the loader's owner.

    Raises:
        ValueError: for a non-positive ``batch_size``/``seq_len``, or a sequence too short for
            ``batch_size`` streams of at least one token (and its target).
    """

    def __init__(self, tokens: Any, batch_size: int, seq_len: int, drop_last: bool = False,
                 as_tensor: bool = True, name: str = "BPTTLoader") -> None:
        self.batch_size = _positive_int(name, "batch_size", batch_size)
        self.seq_len = _positive_int(name, "seq_len", seq_len)
        tokens = xp.asarray(tokens)
        if tokens.ndim != 1:
            raise ValueError(f"{name}: tokens must be a 1-D sequence, got shape {tokens.shape}")
        n = (len(tokens) - 1) // batch_size  # tokens per stream (each target needs one more)
        if n < 1:
            raise ValueError(f"{name}: a sequence of {len(tokens)} tokens is too few for "
                             f"{batch_size} streams; lower batch_size")
        self.x = tokens[:n * batch_size].reshape(batch_size, n)  # (B, n): stream b is row b
        self.y = tokens[1:n * batch_size + 1].reshape(batch_size, n)
        self.drop_last, self.as_tensor = drop_last, as_tensor

    def __len__(self) -> int:
        n = self.x.shape[1]
        return n // self.seq_len if self.drop_last else math.ceil(n / self.seq_len)

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        for k in range(len(self)):
            xb = self.x[:, k * self.seq_len:(k + 1) * self.seq_len]  # (B, T)
            yb = self.y[:, k * self.seq_len:(k + 1) * self.seq_len]
            yield (Tensor(xb), Tensor(yb)) if self.as_tensor else (xb, yb)
