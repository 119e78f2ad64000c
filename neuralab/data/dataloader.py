"""The DataLoader: mini-batches of ``(x, y)`` tensors from a dataset (Lecture 4, SGD).

Stochastic gradient descent visits the training set in a fresh random order every epoch and
computes each update on a mini-batch. For data held in memory the loader takes a whole batch
with one fancy-indexing operation ``data[indices]`` (no Python loop over examples); other
datasets are read item by item and stacked.

Shuffling is reproducible: epoch ``e`` uses the permutation drawn from a generator seeded with
``(seed, e)``, so a run resumed at epoch ``e`` sees exactly the batches an uninterrupted run saw.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import default_float, rng, xp
from neuralab.data.dataset import Dataset, Subset, TensorDataset

__all__ = ["DataLoader", "default_collate", "to_batch_arrays"]


def _to_array(value: Any) -> Any:
    return value.array if isinstance(value, Tensor) else xp.asarray(value)


def default_collate(items: list) -> tuple:
    """Stack a list of ``(x, y)`` examples into ``(X, Y)`` arrays, one per field."""
    if not items:
        raise ValueError("default_collate: empty batch")
    first = items[0]
    if not isinstance(first, (tuple, list)):
        return (xp.stack([_to_array(x) for x in items]),)
    return tuple(xp.stack([_to_array(item[k]) for item in items]) for k in range(len(first)))


def to_batch_arrays(x: Any, y: Any = None) -> tuple:
    """Apply neuralab's dtype rules to a batch: images (uint8) become float32 in [0, 1], other
    floats float32, integer class labels int64."""
    x = _to_array(x)
    if x.dtype == xp.uint8:
        x = x.astype(default_float) * default_float(1.0 / 255.0)
    elif x.dtype.kind == "f":
        x = x.astype(default_float, copy=False)
    elif x.dtype.kind in "iub":
        x = x.astype(xp.int64, copy=False)
    if y is None:
        return (x,)
    y = _to_array(y)
    y = y.astype(xp.int64, copy=False) if y.dtype.kind in "iub" else \
        y.astype(default_float, copy=False)
    return x, y


def _array_source(dataset: Dataset) -> tuple | None:
    """``(data, targets, index_map, owner)`` when ``dataset`` keeps its examples in two arrays.

    Subsets of such a dataset (``random_split``) resolve to the base arrays plus the subset's
    index map, so they are batched by fancy indexing too. ``owner`` is the dataset whose
    ``transform_batch`` turns raw batches into model input.
    """
    index_map = None
    while isinstance(dataset, Subset):
        index_map = dataset.indices if index_map is None else dataset.indices[index_map]
        dataset = dataset.dataset
    if isinstance(dataset, TensorDataset):
        if len(dataset.arrays) != 2:
            return None
        return dataset.arrays[0], dataset.arrays[1], index_map, dataset
    data = getattr(dataset, "data", None)
    targets = getattr(dataset, "targets", None)
    if isinstance(data, xp.ndarray) and isinstance(targets, xp.ndarray) \
            and len(data) == len(targets) and not getattr(dataset, "per_item", False):
        return data, targets, index_map, dataset
    return None


class DataLoader:
    """Iterate over a dataset in mini-batches of ``(x, y)`` tensors.

    Args:
        dataset: a ``Dataset``; in-memory ones (``.data``/``.targets`` arrays, ``TensorDataset``,
            and ``Subset`` of these) are batched by fancy indexing.
        batch_size: examples per batch.
        shuffle: visit the examples in a new random order every epoch.
        drop_last: drop the final batch when it is smaller than ``batch_size``.
        collate_fn: turns a list of examples into a batch (generic datasets only); defaults to
            stacking each field.
        seed: seed of the shuffling generator; None draws one from neuralab's generator when the
            loader is made, so ``neuralab.manual_seed`` makes runs reproducible.
        transform: a per-batch hook ``transform(x_array) -> x_array`` applied to the float32
            input batch: data augmentation on the whole batch at once (give it to the training
            loader only). Random draws should use ``neuralab.backend.rng()`` so that seeds and
            resumed runs reproduce them.

    Batches are ``(Tensor x, Tensor y)``: x float32 (uint8 images scaled to [0, 1], or the
    dataset's own ``transform_batch``, e.g. MNIST's standardisation), y int64 class labels.

    Example:
        >>> loader = DataLoader(MNIST(train=True), batch_size=64, shuffle=True, seed=0)
        >>> for x, y in loader:        # x (64, 1, 28, 28) float32, y (64,) int64
        ...     ...
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, collate_fn: Callable | None = None,
                 seed: int | None = None, transform: Callable | None = None):
        if not isinstance(batch_size, (int, xp.integer)) or isinstance(batch_size, bool) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got "
                             f"{batch_size!r}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError("DataLoader: collate_fn must be callable")
        if transform is not None and not callable(transform):
            raise TypeError("DataLoader: transform must be callable (it receives the batch array)")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.transform = transform
        # The shuffling seed is fixed once; each epoch derives its own generator from it.
        self.seed = int(seed) if seed is not None else int(rng().integers(2**63 - 1))
        self.epoch = 0
        self._epoch_set = False
        self._source = None if collate_fn is not None else _array_source(dataset)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Use the shuffling order of ``epoch`` for the next iteration (for resuming a run).

        Without calls to ``set_epoch`` every new iteration advances to the next epoch.
        """
        self.epoch = int(epoch)
        self._epoch_set = True

    def state_dict(self) -> dict:
        """What reproduces the order of batches: the seed and the next epoch."""
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        self.seed = int(state["seed"])
        self.set_epoch(int(state["epoch"]))

    def _order(self, epoch: int) -> Any:
        n = len(self.dataset)
        if not self.shuffle:
            return xp.arange(n)
        return xp.random.default_rng([self.seed, epoch]).permutation(n)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        epoch = self.epoch
        # The next iteration moves on to the next epoch unless set_epoch says otherwise.
        self.epoch, self._epoch_set = epoch + 1, False
        order = self._order(epoch)
        n, bs = len(order), self.batch_size
        stop = n - n % bs if self.drop_last else n
        for start in range(0, stop, bs):
            yield self._batch(order[start:start + bs])

    def _batch(self, indices: Any) -> tuple:
        if self._source is not None:
            data, targets, index_map, owner = self._source
            rows = indices if index_map is None else index_map[indices]
            x, y = data[rows], targets[rows]
            hook = getattr(owner, "transform_batch", None)
            x, y = (hook(x), _to_array(y)) if hook is not None else (x, y)
            arrays = to_batch_arrays(x, y)
        else:
            items = [self.dataset[int(i)] for i in indices]
            collated = (self.collate_fn or default_collate)(items)
            if not isinstance(collated, (tuple, list)):
                collated = (collated,)
            arrays = to_batch_arrays(*collated[:2]) + tuple(_to_array(c) for c in collated[2:])
        if self.transform is not None:
            arrays = (_to_array(self.transform(arrays[0])),) + tuple(arrays[1:])
        return tuple(Tensor._from_op(a, None, 0) for a in arrays)
