"""Datasets: indexable collections of ``(x, y)`` examples, as in ``torch.utils.data``.

A dataset that keeps all of its examples in memory exposes them as two arrays, ``data`` (N, ...)
and ``targets`` (N,), so that the DataLoader can take a whole mini-batch with one fancy-indexing
operation instead of a Python loop over examples. It does so only while no per-example
``transform``/``target_transform`` is set (or the transform is one that gives the same result on
a whole batch, see ``transforms.batch_transform``): a transform is applied exactly once per example.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import as_rng, xp

__all__ = ["ConcatDataset", "Dataset", "IterableDataset", "Subset", "TensorDataset",
           "random_split"]


def _as_array(value: Any) -> Any:
    return value.array if isinstance(value, Tensor) else xp.asarray(value)


class Dataset:
    """Base class: subclasses define ``__getitem__(i) -> (x, y)`` and ``__len__``.

    ``transform`` and ``target_transform`` (None here) are the per-example functions of the data
    sets that take them; the DataLoader batches an in-memory data set by fancy indexing only when
    they allow it.
    """

    transform: Any = None
    target_transform: Any = None
    #: A class whose ``__getitem__(i)`` equals ``transform_batch(data[i:i+1])[0], targets[i]``
    #: (without a ``transform``) sets this in its own body: the DataLoader may then batch it by
    #: fancy indexing. Subclasses that override ``__getitem__`` are read item by item.
    _array_batched: bool = False

    def transform_batch(self, x: Any) -> Any:
        """Raw ``data[rows]`` to model input for the DataLoader's fast path (here: unchanged)."""
        return x

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of examples: subclasses define ``__iter__`` (no indexing, no ``__len__`` needed).

    A DataLoader over it groups consecutive examples into batches (``shuffle`` and samplers do not
    apply, as in PyTorch).
    """

    def __iter__(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __getitem__(self, index: int) -> Any:
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate over it instead "
                        "of indexing it")

    def __len__(self) -> int:
        # TypeError (not NotImplementedError), so that list(loader) treats it as "no length".
        raise TypeError(f"{type(self).__name__} is a stream without a length (define __len__ "
                        "to give it one)")


class TensorDataset(Dataset):
    """Examples made of the rows of arrays (or tensors) with the same first dimension.

    ``TensorDataset(x, y)[i] == (x[i], y[i])``. With exactly two arrays, ``data`` and ``targets``
    name them, so the DataLoader batches by fancy indexing.

    Args:
        *arrays: arrays or tensors, all of length N.
    """

    def __init__(self, *arrays: Any):
        if not arrays:
            raise ValueError("TensorDataset: give at least one array")
        self.arrays = tuple(_as_array(a) for a in arrays)
        # Indexing gives back Tensors for Tensor inputs (as torch), arrays for array inputs.
        self._tensors = tuple(isinstance(a, Tensor) for a in arrays)
        lengths = [len(a) for a in self.arrays]
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: all arrays need the same first dimension, got "
                             f"lengths {lengths}")

    @property
    def data(self) -> Any:
        return self.arrays[0]

    @property
    def targets(self) -> Any:
        if len(self.arrays) < 2:
            raise AttributeError("TensorDataset.targets: this dataset holds a single array")
        return self.arrays[1]

    @property
    def tensors(self) -> tuple:
        """The arrays as Tensors (PyTorch's name)."""
        return tuple(Tensor._from_op(a, None, 0) for a in self.arrays)

    def __getitem__(self, index: int) -> tuple:
        return tuple(Tensor._from_op(xp.asarray(a[index]), None, 0) if t else a[index]
                     for a, t in zip(self.arrays, self._tensors))

    def __len__(self) -> int:
        return len(self.arrays[0])


class Subset(Dataset):
    """The examples of ``dataset`` at ``indices`` (a view: nothing is copied).

    Args:
        dataset: any dataset.
        indices: integer positions into ``dataset``.
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = xp.asarray(indices, dtype=xp.int64).reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            raise IndexError(f"Subset: indices must lie in [0, {n}) for a dataset of {n} "
                             f"examples, got range [{self.indices.min()}, {self.indices.max()}]")

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def __len__(self) -> int:
        return int(self.indices.size)

    def __getattr__(self, name: str) -> Any:
        # Forward metadata such as ``classes`` or ``is_subset`` to the wrapped dataset, but never
        # its arrays: ``data``/``targets`` of the whole dataset are not this subset's examples.
        if name in ("dataset", "indices", "data", "targets") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.dataset, name)


class ConcatDataset(Dataset):
    """Several datasets one after the other.

    Args:
        datasets: the datasets, in order.
    """

    def __init__(self, datasets: Sequence[Dataset]):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: give at least one dataset")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"ConcatDataset: index {index} out of range for {n} examples")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def random_split(dataset: Dataset, lengths: Sequence[int | float], generator: Any = None,
                 seed: int | None = None) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping subsets of the given lengths.

    Args:
        dataset: the dataset to split.
        lengths: integers summing to ``len(dataset)``, or fractions summing to 1 (each subset
            gets ``floor(fraction * N)`` examples and the remainder goes round-robin to the first
            subsets, as in PyTorch).
        generator: a ``neuralab.Generator`` (``Generator().manual_seed(42)``, as in PyTorch) or
            a NumPy generator; None draws from neuralab's generator (``neuralab.manual_seed``).
        seed: shorthand for ``generator=Generator().manual_seed(seed)``.

    Returns:
        A list of ``Subset``.
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths):
        if not math.isclose(sum(lengths), 1.0) or any(not 0 <= x <= 1 for x in lengths):
            raise ValueError(f"random_split: fractions must lie in [0, 1] and sum to 1, got "
                             f"{lengths}")
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(isinstance(x, bool) or not isinstance(x, (int, xp.integer)) or x < 0
           for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative integers or fractions "
                         f"summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: lengths sum to {sum(lengths)} but the dataset has {n} "
                         "examples")
    if seed is not None and generator is not None:
        raise ValueError("random_split: give generator= or seed=, not both")
    g = xp.random.default_rng(seed) if seed is not None else as_rng(generator)
    order = g.permutation(n)
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, order[start:start + length]))
        start += length
    return out
