"""In-memory data: a data set decoded once into float32 arrays, and mini-batches of such arrays.

A sweep that trains many small models on the same few thousand images (learning rates,
optimizers, architectures) spends most of its time re-decoding them through the DataLoader.
Converting once with ``dataset_arrays`` and batching with ``ArrayLoader`` keeps it cheap:

    x, y = dataset_arrays(MNIST(train=True), rows=balanced_subset(mnist.targets, 2000, seed=0))
    loader = ArrayLoader(x, y, batch_size=100, seed=0)
    Trainer(model, opt).fit(loader, epochs=5)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.data.transforms import Resize

__all__ = ["ArrayLoader", "balanced_subset", "dataset_arrays"]


def balanced_subset(targets: Any, n: int | None, seed: int, num_classes: int = 10) -> Any:
    """Indices of ``n`` examples, ``n // num_classes`` of each class, in a random order.

    Args:
        targets: (N,) integer class labels.
        n: how many (None, 0 or at least N: a permutation of all of them).
        seed: seeds the draw, so every run picks the same examples.
        num_classes: the classes 0..num_classes-1 to draw from.
    """
    generator = xp.random.default_rng(seed)
    if n is None or n <= 0 or n >= len(targets):
        return generator.permutation(len(targets))
    per_class = n // num_classes
    rows = [generator.permutation(xp.flatnonzero(targets == c))[:per_class]
            for c in range(num_classes)]
    return generator.permutation(xp.concatenate(rows))


def dataset_arrays(dataset: Any, rows: Any = None, image_size: int | None = None,
                   chunk: int = 5000) -> tuple[Any, Any]:
    """The model inputs and labels of an in-memory image data set (MNIST, CIFAR-10, ...).

    Args:
        dataset: a data set holding raw ``data`` and ``targets`` arrays and a ``transform_batch``
            (the one the DataLoader's fast path uses).
        rows: which examples: a slice, an index array, or None for all.
        image_size: resize the (square) images to this side (bilinear; 32 -> 16 averages each
            2x2 block); None keeps them.
        chunk: images converted at a time (bounds the memory of the float copies).

    Returns:
        x float32 (N, C, H, W), contiguous; y int64 (N,).
    """
    if not isinstance(getattr(dataset, "data", None), xp.ndarray):
        raise TypeError(f"dataset_arrays: expected a data set holding its images as an array "
                        f"in .data (MNIST, CIFAR10, ImageFolder), got {type(dataset).__name__}")
    index = xp.arange(len(dataset.data))[slice(None) if rows is None else rows]
    parts = []
    for begin in range(0, max(1, len(index)), chunk):  # once at least: (0, C, H, W) when empty
        x = dataset.transform_batch(dataset.data[index[begin:begin + chunk]])  # (n, C, H, W)
        if image_size is not None and x.shape[-1] != image_size and len(x):
            x = Resize((image_size, image_size))(x)
        parts.append(xp.ascontiguousarray(x, dtype=xp.float32))
    return xp.concatenate(parts), xp.asarray(dataset.targets)[index].astype(xp.int64)


class ArrayLoader:
    """Mini-batches ``(Tensor x, Tensor y)`` of in-memory arrays in a seeded random order.

    Each pass (epoch) draws a new permutation from the loader's generator, so every model
    trained with the same ``seed`` sees the same mini-batches in the same order; the last batch
    may be smaller. ``augment`` (array -> array, e.g. ``RandomCrop`` + ``RandomHorizontalFlip``)
    is applied to each batch of inputs.

    Args:
        x: inputs (N, ...); y: targets (N, ...).
        batch_size: rows per batch.
        seed: seeds the order (ignored when ``generator`` is given).
        augment: a batch transform of the inputs, or None.
        generator: a NumPy ``Generator`` to draw the orders from (shared, e.g., with the
            augmentation, so that one seed fixes both).
    """

    def __init__(self, x: Any, y: Any, batch_size: int, seed: int = 0,
                 augment: Callable | None = None, generator: Any = None):
        if len(x) != len(y):
            raise ValueError(f"ArrayLoader: x has {len(x)} rows but y has {len(y)}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"ArrayLoader: batch_size must be a positive integer, got "
                             f"{batch_size!r}")
        self.x, self.y, self.batch_size, self.augment = x, y, batch_size, augment
        self.generator = generator if generator is not None else xp.random.default_rng(seed)

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        order = self.generator.permutation(len(self.x))
        for begin in range(0, len(order), self.batch_size):
            rows = order[begin:begin + self.batch_size]
            xb = self.x[rows] if self.augment is None else self.augment(self.x[rows])
            yield Tensor(xp.ascontiguousarray(xb, dtype=xp.float32)), Tensor(self.y[rows])
