"""In-memory data: dataset_arrays, balanced_subset and the ArrayLoader (tested like DataLoader)."""

from __future__ import annotations

import numpy as np
import pytest

import neuralab as nl
from neuralab.data import MNIST, DataLoader, Dataset, TensorDataset
from neuralab.data.arrays import ArrayLoader, balanced_subset, dataset_arrays
from neuralab.data.transforms import RandomHorizontalFlip


def _xy(n=10):
    x = np.arange(n * 2, dtype=np.float64).reshape(n, 2)
    return x, np.arange(n) % 3


def test_batches_cover_the_arrays_once_with_dtypes():
    x, y = _xy(10)
    loader = ArrayLoader(x, y, batch_size=4, seed=0)
    batches = list(loader)
    assert len(loader) == 3 and [len(b[0]) for b in batches] == [4, 4, 2]
    xb, yb = batches[0]
    assert isinstance(xb, nl.Tensor) and xb.dtype == np.float32 and yb.dtype == np.int64
    rows = np.concatenate([b[0].array for b in batches])[:, 0] / 2
    assert sorted(rows.tolist()) == list(range(10))  # a permutation: each row exactly once
    labels = np.concatenate([b[1].array for b in batches])
    np.testing.assert_array_equal(labels, rows.astype(int) % 3)  # rows keep their labels


def test_seeded_order_repeats_and_each_epoch_is_new():
    x, y = _xy(50)
    first = [b[0].array.copy() for b in ArrayLoader(x, y, 8, seed=3)]
    again = [b[0].array.copy() for b in ArrayLoader(x, y, 8, seed=3)]
    other = [b[0].array.copy() for b in ArrayLoader(x, y, 8, seed=4)]
    assert all(np.array_equal(p, q) for p, q in zip(first, again))
    assert not all(np.array_equal(p, q) for p, q in zip(first, other))
    loader = ArrayLoader(x, y, 50, seed=3)
    e0, e1 = next(iter(loader))[0].array.copy(), next(iter(loader))[0].array.copy()
    assert not np.array_equal(e0, e1)
    # The same order as a shared generator seeded alike.
    shared = ArrayLoader(x, y, 8, generator=np.random.default_rng(3))
    assert all(np.array_equal(p, b[0].array) for p, b in zip(first, shared))


def test_same_batches_as_a_dataloader_over_the_same_order():
    """With the same permutation, ArrayLoader's batches are DataLoader's over the TensorDataset."""
    x, y = _xy(23)
    order = np.random.default_rng(5).permutation(23)
    ours = list(ArrayLoader(x, y, 5, seed=5))
    theirs = list(DataLoader(TensorDataset(x[order], y[order]), batch_size=5))
    for (a, b), (c, d) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a.array, c.array)
        np.testing.assert_array_equal(b.array, d.array)


def test_augment_applies_to_each_batch():
    x = np.arange(2 * 1 * 2 * 3, dtype=np.float32).reshape(2, 1, 2, 3)
    flipped = list(ArrayLoader(x, np.zeros(2), 2, seed=0, augment=lambda b: b[..., ::-1]))
    order = np.random.default_rng(0).permutation(2)
    np.testing.assert_array_equal(flipped[0][0].array, x[order][..., ::-1])
    assert flipped[0][0].array.flags["C_CONTIGUOUS"]
    assert len(list(ArrayLoader(x, np.zeros(2), 1, augment=RandomHorizontalFlip()))) == 2


def test_loader_validation():
    with pytest.raises(ValueError, match="ArrayLoader: x has 3 rows but y has 2"):
        ArrayLoader(np.zeros((3, 2)), np.zeros(2), 1)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        ArrayLoader(np.zeros((3, 2)), np.zeros(3), 0)


def test_balanced_subset_draws_equally_from_each_class():
    targets = np.repeat(np.arange(10), 50)
    rows = balanced_subset(targets, 200, seed=1)
    assert len(rows) == 200 and len(set(rows.tolist())) == 200
    np.testing.assert_array_equal(np.bincount(targets[rows]), np.full(10, 20))
    np.testing.assert_array_equal(rows, balanced_subset(targets, 200, seed=1))
    assert not np.array_equal(rows, balanced_subset(targets, 200, seed=2))
    assert sorted(balanced_subset(targets, None, seed=0).tolist()) == list(range(500))


def test_dataset_arrays_equal_the_dataloaders_batches():
    mnist = MNIST(train=False, subset=True)
    x, y = dataset_arrays(mnist, slice(10, 30))
    assert x.shape == (20, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    xb, yb = next(iter(DataLoader(mnist, batch_size=40)))
    np.testing.assert_array_equal(x, xb.array[10:30])
    np.testing.assert_array_equal(y, yb.array[10:30])
    rows = np.array([5, 3, 7])
    small, labels = dataset_arrays(mnist, rows, image_size=14, chunk=2)
    assert small.shape == (3, 1, 14, 14)
    np.testing.assert_array_equal(labels, yb.array[rows])
    # Bilinear 28 -> 14 averages 2x2 blocks.
    np.testing.assert_allclose(small[0, 0], xb.array[5, 0].reshape(14, 2, 14, 2).mean((1, 3)),
                               rtol=1e-5, atol=1e-5)


def test_dataset_arrays_validation():
    with pytest.raises(TypeError, match="dataset_arrays: expected a data set holding"):
        dataset_arrays(Dataset())
    x, y = dataset_arrays(MNIST(train=False, subset=True), slice(0, 0))
    assert x.shape == (0, 1, 28, 28) and y.shape == (0,)
