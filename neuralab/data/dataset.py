"""Datasets: indexable collections of ``(x, y)`` examples, as in ``torch.utils.data``.

A dataset that keeps all of its examples in memory exposes them as two arrays, ``data`` (N, ...)
and ``targets`` (N,), so that the DataLoader can take a whole mini-batch with one fancy-indexing
operation instead of a Python loop over examples.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import rng, xp

__all__ = ["ConcatDataset", "Dataset", "Subset", "TensorDataset", "random_split"]


def _as_array(value: Any) -> Any:
    return value.array if isinstance(value, Tensor) else xp.asarray(value)


class Dataset:
    """Base class: subclasses define ``__getitem__(i) -> (x, y)`` and ``__len__``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


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

    def __getitem__(self, index: int) -> tuple:
        return tuple(a[index] for a in self.arrays)

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


def random_split(dataset: Dataset, lengths: Sequence[int | float],
                 seed: int | None = None) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping subsets of the given lengths.

    Args:
        dataset: the dataset to split.
        lengths: integers summing to ``len(dataset)``, or fractions summing to 1 (each subset
            gets ``floor(fraction * N)`` examples and the remainder goes round-robin to the first
            subsets, as in PyTorch).
        seed: seed of the permutation; None draws it from neuralab's generator
            (``neuralab.manual_seed``).

    Returns:
        A list of ``Subset``.
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1.0):
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(not isinstance(x, (int, xp.integer)) or x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative integers or fractions "
                         f"summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: lengths sum to {sum(lengths)} but the dataset has {n} "
                         "examples")
    generator = xp.random.default_rng(seed) if seed is not None else rng()
    order = generator.permutation(n)
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, order[start:start + length]))
        start += length
    return out
