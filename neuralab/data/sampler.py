"""Samplers: the order in which a DataLoader visits a data set, as in ``torch.utils.data``.

A sampler is an iterable of example indices (``BatchSampler``: of lists of indices). The
DataLoader's default is ``SequentialSampler`` (``shuffle=False``) or ``RandomSampler``
(``shuffle=True``); give ``sampler=`` for another order, or ``batch_sampler=`` to choose whole
batches. Random samplers draw from ``generator`` when given, else from neuralab's generator
(``neuralab.manual_seed``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import as_rng, xp

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler", "WeightedRandomSampler"]


class Sampler:
    """Base class: subclasses define ``__iter__`` (indices) and, when known, ``__len__``."""

    def __init__(self, data_source: Any = None):
        pass

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., N-1."""

    def __init__(self, data_source: Sequence):
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def _check_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, xp.integer)) or value <= 0:
        raise ValueError(f"{name}: num_samples must be a positive integer, got {value!r}")
    return int(value)


class RandomSampler(Sampler):
    """A random permutation (or, with ``replacement=True``, ``num_samples`` draws with
    replacement).

    Args:
        data_source: the data set (only its length is used).
        replacement: draw with replacement.
        num_samples: how many indices per pass (default ``len(data_source)``).
        generator: ``neuralab.Generator`` or NumPy generator; None uses neuralab's generator.
    """

    def __init__(self, data_source: Sequence, replacement: bool = False,
                 num_samples: int | None = None, generator: Any = None):
        self.data_source = data_source
        self.replacement = bool(replacement)
        self._num_samples = None if num_samples is None else _check_count("RandomSampler",
                                                                          num_samples)
        as_rng(generator)  # validate now, not at the first epoch
        self.generator = generator

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n, g = len(self.data_source), as_rng(self.generator)
        if self.replacement:
            return iter(g.integers(0, n, size=self.num_samples).tolist())
        # num_samples beyond n: whole permutations one after the other, as in PyTorch.
        reps = -(-self.num_samples // n) if n else 0
        order = xp.concatenate([g.permutation(n) for _ in range(reps)]) if reps else []
        return iter(list(order[:self.num_samples]))

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, a new one every pass."""

    def __init__(self, indices: Sequence[int], generator: Any = None):
        self.indices = list(indices)
        as_rng(generator)
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        order = as_rng(self.generator).permutation(len(self.indices))
        return iter([self.indices[i] for i in order])

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability proportional to ``weights``.

    Args:
        weights: one non-negative weight per example (need not sum to 1).
        num_samples: how many draws per pass.
        replacement: draw with replacement (without: each index at most once, so
            ``num_samples`` must not exceed the number of non-zero weights).
        generator: ``neuralab.Generator`` or NumPy generator.
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Any = None):
        w = weights.array if isinstance(weights, Tensor) else xp.asarray(weights)
        w = w.astype(xp.float64).reshape(-1)
        if w.size == 0 or (w < 0).any() or not xp.isfinite(w).all() or w.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be finite, non-negative and "
                             "not all zero")
        self.weights = w
        self.num_samples = _check_count("WeightedRandomSampler", num_samples)
        self.replacement = bool(replacement)
        if not self.replacement and self.num_samples > int((w > 0).sum()):
            raise ValueError(f"WeightedRandomSampler: cannot draw {self.num_samples} indices "
                             f"without replacement from {int((w > 0).sum())} non-zero weights")
        as_rng(generator)
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        p = self.weights / self.weights.sum()
        drawn = as_rng(self.generator).choice(len(p), size=self.num_samples,
                                              replace=self.replacement, p=p)
        return iter(drawn.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size``.

    Args:
        sampler: any iterable of indices.
        batch_size: indices per batch.
        drop_last: drop the last, smaller batch.
    """

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, xp.integer)) \
                or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size must be a positive integer, got "
                             f"{batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last must be a bool, got {drop_last!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(int(index))
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
