"""Batches of sequences of different lengths, as PyTorch's ``torch.nn.utils.rnn`` (Lecture 15).

A language model trains on sentences of different lengths. Padding them to the longest one
(``pad_sequence``) gives one (T, B, *) tensor, but a recurrent layer run over it would also
read the padding and report, as each sentence's final state, the state after the padding.
*Packing* removes the padding: a :class:`PackedSequence` holds, for each time step t, the
steps of only the sequences still running at t, sorted longest first::

    lengths 3, 2, 1 (sorted)      data (6, *) = x₀[0] x₁[0] x₂[0] | x₀[1] x₁[1] | x₀[2]
                                  batch_sizes = [3, 2, 1]

``nn.RNN``, ``nn.LSTM`` and ``nn.GRU`` accept a PackedSequence: they return the outputs packed
the same way and, as the final states, each sequence's state at its own last step.
``pad_packed_sequence`` turns packed outputs back into a padded tensor.

Everything here is a rearrangement of rows (one gather per call), so gradients flow back to
the padded input exactly as through PyTorch's functions; padding positions get none.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops.gather_scatter import index_select
from neuralab.ops.shape import cat, reshape, transpose

__all__ = [
    "PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
    "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence",
]

_ENFORCE_SORTED = (
    "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can "
    "pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this "
    "requirement if you do not need ONNX exportability."
)


def _int64(array: Any) -> Tensor:
    """An int64 index tensor (no gradient) holding ``array``."""
    return Tensor(xp.asarray(array, dtype=xp.int64))


def _indices(op: str, name: str, value: Any) -> Tensor | None:
    """``value`` (None, a 1-d Tensor or a list of ints) as a 1-d int64 Tensor or None."""
    if value is None:
        return None
    array = value.array if isinstance(value, Tensor) else xp.asarray(value)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise TypeError(f"{op}: {name} must be a 1-d integer tensor, got "
                        f"{array.dtype} of shape {array.shape}")
    return value if isinstance(value, Tensor) and array.dtype == xp.int64 else _int64(array)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse permutation: ``out[permutation[i]] = i`` (None stays None)."""
    if permutation is None:
        return None
    p = _indices("invert_permutation", "permutation", permutation).array
    out = xp.empty_like(p)
    out[p] = xp.arange(p.size, dtype=p.dtype)
    return _int64(out)


_Fields = namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices",
                                         "unsorted_indices"])


class PackedSequence(_Fields):
    """A batch of variable-length sequences with the padding taken out (PyTorch's namedtuple).

    Fields:
        data: (sum of lengths, *) — the steps of every sequence, time step by time step, and
            within a time step the sequences still running, longest first.
        batch_sizes: int64 (max length,) — how many sequences are running at each time step.
        sorted_indices: int64 (B,) — original batch position of the k-th longest sequence, or
            None when the batch was already sorted (``enforce_sorted=True``).
        unsorted_indices: int64 (B,) — its inverse (sorted position of each original
            sequence), or None.

    Build one with :func:`pack_padded_sequence` or :func:`pack_sequence` rather than by hand.
    ``PackedSequence(data, batch_sizes, sorted_indices)`` computes ``unsorted_indices``.
    """

    __slots__ = ()

    def __new__(cls, data: Any, batch_sizes: Any = None, sorted_indices: Any = None,
                unsorted_indices: Any = None) -> PackedSequence:
        if batch_sizes is None:  # PackedSequence((data, batch_sizes)), the old calling form
            if not isinstance(data, (list, tuple)) or len(data) != 2:
                raise TypeError("PackedSequence: give data and batch_sizes (or the pair "
                                "(data, batch_sizes) as the only argument)")
            data, batch_sizes = data
        if not isinstance(data, Tensor):
            raise TypeError(f"PackedSequence: data must be a Tensor, got {type(data).__name__}")
        batch_sizes = _indices("PackedSequence", "batch_sizes", batch_sizes)
        sorted_indices = _indices("PackedSequence", "sorted_indices", sorted_indices)
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        else:
            unsorted_indices = _indices("PackedSequence", "unsorted_indices", unsorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """``data.to(...)``; the index tensors stay int64. Returns self when nothing changes."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self, *args: Any, **kwargs: Any) -> PackedSequence:
        return self.to("cpu")

    def cuda(self, *args: Any, **kwargs: Any) -> PackedSequence:
        data = self.data.cuda(*args, **kwargs)  # raises as Tensor.cuda does: CPU only
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def double(self) -> PackedSequence:
        return self.to(dtype=xp.float64)

    def float(self) -> PackedSequence:
        return self.to(dtype=xp.float32)

    def half(self) -> PackedSequence:
        return self.to(dtype=xp.float16)

    def long(self) -> PackedSequence:
        return self.to(dtype=xp.int64)

    def int(self) -> PackedSequence:
        return self.to(dtype=xp.int32)

    def short(self) -> PackedSequence:
        return self.to(dtype=xp.int16)

    def char(self) -> PackedSequence:
        return self.to(dtype=xp.int8)

    def byte(self) -> PackedSequence:
        return self.to(dtype=xp.uint8)

    @property
    def is_cuda(self) -> bool:
        """Whether the data lives on a GPU: never here."""
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        """Whether the data is in pinned memory: never here (CPU arrays only)."""
        return False

    def pin_memory(self) -> PackedSequence:
        return type(self)(self.data.pin_memory(), self.batch_sizes, self.sorted_indices,
                          self.unsorted_indices)


def _lengths(op: str, lengths: Any) -> Any:
    """The lengths (a list or 1-d tensor) as a 1-d int64 array."""
    array = lengths.array if isinstance(lengths, Tensor) else xp.asarray(lengths)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iuf"):
        raise RuntimeError(f"{op}: 'lengths' must be a 1-d list or tensor of sequence lengths, "
                           f"got {array.dtype} of shape {array.shape}")
    return array.astype(xp.int64)


def _padding_row(x: Tensor, padding_value: Any) -> Tensor:
    """One row (1, *x.shape[1:]) of ``padding_value`` in x's dtype, without gradient."""
    return Tensor(xp.full((1,) + tuple(x.shape[1:]), padding_value, dtype=x.array.dtype))


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,  # noqa: A002
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch: keep only each sequence's first ``lengths[b]`` steps.

    Args:
        input: (T, B, *) padded sequences, or (B, T, *) with ``batch_first``.
        lengths: the B lengths, a list or 1-d tensor, each in [1, T].
        batch_first: input is batch-major.
        enforce_sorted: require lengths in decreasing order (sorted_indices is then None);
            with False the batch is sorted here and the permutation recorded.

    Returns:
        A :class:`PackedSequence`; its data is differentiable with respect to ``input``.
    """
    op = "pack_padded_sequence"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"{op}: input must have shape (T, B, *) (or (B, T, *) with "
                         f"batch_first), got {input.ndim} dimension(s) {input.shape}")
    lengths = _lengths(op, lengths)
    if enforce_sorted:
        if xp.any(lengths[:-1] < lengths[1:]):
            raise RuntimeError(_ENFORCE_SORTED)
        order, sorted_indices = None, None
    T, B = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    if lengths.size != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lengths.size} (batch_size={B})")
    if B and lengths.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if B and lengths.max() > T:
        raise ValueError(f"{op}: a sequence has length {lengths.max()} but the input has only "
                         f"{T} time steps (dimension {1 if batch_first else 0} of "
                         f"{input.shape})")
    if not enforce_sorted:
        order = xp.argsort(-lengths, kind="stable")  # longest first, ties in original order
        lengths = lengths[order]
        sorted_indices = _int64(order)
    batch_sizes = (lengths[None, :] > xp.arange(lengths.max() if B else 0)[:, None]).sum(1)
    columns = xp.arange(B) if order is None else order
    rows = []  # row of the flattened input for each packed step, time step by time step
    for t, b in enumerate(batch_sizes):
        rows.append(columns[:b] * T + t if batch_first else t * B + columns[:b])
    flat = reshape(input, (T * B,) + tuple(input.shape[2:]))
    index = xp.concatenate(rows) if rows else xp.zeros(0, dtype=xp.int64)
    data = index_select(flat, 0, _int64(index))
    return PackedSequence(data, _int64(batch_sizes), sorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Unpack: the inverse of :func:`pack_padded_sequence`, in the original batch order.

    Args:
        sequence: a :class:`PackedSequence`.
        batch_first: return (B, T, *) instead of (T, B, *).
        padding_value: the value of the padding positions.
        total_length: pad to this many steps (at least the longest length) instead of the
            longest length, e.g. to match the input of a DataParallel chunk.

    Returns:
        (padded, lengths): the padded tensor (differentiable with respect to ``data``) and
        the int64 lengths in the original order.
    """
    op = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{op}: expected a PackedSequence, got {type(sequence).__name__}; "
                        "build one with pack_padded_sequence or pack_sequence")
    data = sequence.data
    batch_sizes = sequence.batch_sizes.array
    steps = batch_sizes.size
    B = int(batch_sizes[0]) if steps else 0
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        T = int(total_length)
    else:
        T = steps
    sorted_lengths = (batch_sizes[None, :] > xp.arange(B)[:, None]).sum(1)  # (B,)
    position = (xp.arange(B) if sequence.unsorted_indices is None
                else sequence.unsorted_indices.array)  # sorted position of each sequence
    offsets = xp.concatenate([[0], xp.cumsum(batch_sizes)])[:-1]
    t = xp.arange(T)[:, None]
    lengths = sorted_lengths[position]
    pad = data.shape[0]  # the padding row appended after the data
    index = xp.where(t < lengths[None, :], offsets[xp.minimum(t, max(steps - 1, 0))] + position,
                     pad) if steps else xp.full((T, B), pad)
    if batch_first:
        index = index.T
    source = cat([data, _padding_row(data, padding_value)])
    out = index_select(source, 0, _int64(index.reshape(-1)))
    out = reshape(out, index.shape + tuple(data.shape[1:]))
    return out, _int64(lengths)


def pad_sequence(sequences: Any, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors of shapes (L_i, *) into one (T, B, *) tensor padded to T = max L_i.

    Args:
        sequences: a list or tuple of tensors (L_i, *) with equal trailing shapes (a tensor is
            read as the list of its rows, as PyTorch).
        batch_first: return (B, T, *).
        padding_value: the value of the padding positions.
        padding_side: ``'right'`` (sequences start at step 0) or ``'left'`` (they end at T−1).

    Returns:
        The padded tensor in the first sequence's dtype, differentiable with respect to every
        sequence.
    """
    op = "pad_sequence"
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    if not isinstance(sequences, Iterable):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg "
                           f"of type: {type(sequences)}")
    if isinstance(sequences, Tensor):
        sequences = [sequences[i] for i in range(sequences.shape[0])] if sequences.ndim else [
            sequences]
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    for i, s in enumerate(sequences):
        if not isinstance(s, Tensor):
            raise TypeError(f"{op}: sequence {i} is a {type(s).__name__}, not a Tensor")
        if s.ndim == 0:
            raise RuntimeError(f"{op}: sequence {i} is 0-dimensional; every sequence needs a "
                               "first dimension, its length")
        if s.shape[1:] != sequences[0].shape[1:]:
            raise RuntimeError(f"{op}: every sequence must have the trailing shape "
                               f"{tuple(sequences[0].shape[1:])} of sequence 0 (all but the "
                               f"length), but sequence {i} has shape {tuple(s.shape)}")
    dtype = sequences[0].array.dtype
    sequences = [s if s.array.dtype == dtype else s.to(dtype) for s in sequences]
    lengths = xp.asarray([s.shape[0] for s in sequences], dtype=xp.int64)
    T = int(lengths.max())
    offsets = xp.concatenate([[0], xp.cumsum(lengths)])[:-1]
    pad = int(lengths.sum())
    t = xp.arange(T)[:, None]
    if padding_side == "left":
        t = t - (T - lengths)[None, :]  # step within each sequence (negative: padding)
    index = xp.where((t >= 0) & (t < lengths[None, :]), offsets[None, :] + t, pad)
    if batch_first:
        index = index.T
    source = cat(sequences + [_padding_row(sequences[0], padding_value)])
    out = index_select(source, 0, _int64(index.reshape(-1)))
    return reshape(out, index.shape + tuple(sequences[0].shape[1:]))


def pack_sequence(sequences: Any, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors (L_i, *) directly: ``pack_padded_sequence(pad_sequence(...))``.

    Args:
        sequences: tensors (L_i, *), longest first unless ``enforce_sorted=False``.
        enforce_sorted: require decreasing lengths.
    """
    sequences = list(sequences) if isinstance(sequences, (list, tuple)) else sequences
    padded = pad_sequence(sequences)
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(padded, lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths: Any,
                   batch_first: bool = False) -> list[Tensor]:
    """Split a padded batch back into a list of B tensors (lengths[b], *).

    Args:
        padded_sequences: (T, B, *), or (B, T, *) with ``batch_first``.
        lengths: the B lengths (a list or 1-d tensor).
        batch_first: the input is batch-major.
    """
    op = "unpad_sequence"
    if not isinstance(padded_sequences, Tensor) or padded_sequences.ndim < 2:
        got = (padded_sequences.shape if isinstance(padded_sequences, Tensor)
               else type(padded_sequences).__name__)
        raise ValueError(f"{op}: padded_sequences must be a Tensor (T, B, *) (or (B, T, *) "
                         f"with batch_first), got {got}")
    if not batch_first:
        padded_sequences = transpose(padded_sequences, 0, 1)
    B, T = padded_sequences.shape[:2]
    lengths = _lengths(op, lengths)
    if lengths.size != B:
        raise ValueError(f"{op}: got {lengths.size} lengths for a batch of {B} sequences")
    if lengths.size and (lengths.min() < 0 or lengths.max() > T):
        raise ValueError(f"{op}: lengths must lie in [0, {T}] (the padded length), got "
                         f"{lengths.tolist()}")
    return [padded_sequences[b, :int(n)] for b, n in enumerate(lengths)]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of the B sequences (L_i, *) of a PackedSequence, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
