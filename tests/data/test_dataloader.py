"""DataLoader, datasets and random_split: batching, shuffling determinism, dtypes, hooks."""

from __future__ import annotations

import numpy as np
import pytest

import neuralab as nl
from neuralab.data import ConcatDataset, DataLoader, Dataset, Subset, TensorDataset, random_split


class ListDataset(Dataset):
    """A generic dataset (no arrays): forces the per-item path."""

    def __init__(self, n):
        self.items = [(np.full((2,), i, dtype=np.float64), i % 3) for i in range(n)]

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)


def _xy(n=10):
    x = np.arange(n * 2, dtype=np.float64).reshape(n, 2)
    return x, np.arange(n) % 3


def test_batches_cover_dataset_in_order_with_dtypes():
    x, y = _xy(10)
    batches = list(DataLoader(TensorDataset(x, y), batch_size=4))
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    assert len(DataLoader(TensorDataset(x, y), batch_size=4)) == 3
    xb, yb = batches[0]
    assert isinstance(xb, nl.Tensor) and xb.dtype == np.float32 and yb.dtype == np.int64
    np.testing.assert_array_equal(np.concatenate([b[0].array for b in batches]), x)
    np.testing.assert_array_equal(np.concatenate([b[1].array for b in batches]), y)


def test_drop_last():
    loader = DataLoader(TensorDataset(*_xy(10)), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [len(b[0]) for b in loader] == [4, 4]


def test_shuffle_is_a_permutation_and_seeded():
    ds = TensorDataset(*_xy(50))
    a = [b[0].array.copy() for b in DataLoader(ds, batch_size=8, shuffle=True, seed=3)]
    b = [b[0].array.copy() for b in DataLoader(ds, batch_size=8, shuffle=True, seed=3)]
    c = [b[0].array.copy() for b in DataLoader(ds, batch_size=8, shuffle=True, seed=4)]
    seen = np.concatenate(a)[:, 0] / 2
    assert sorted(seen.tolist()) == list(range(50))
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not all(np.array_equal(p, q) for p, q in zip(a, c))


def test_each_epoch_new_order_and_set_epoch_replays_it():
    loader = DataLoader(TensorDataset(*_xy(30)), batch_size=30, shuffle=True, seed=1)
    e0 = next(iter(loader))[0].array.copy()
    e1 = next(iter(loader))[0].array.copy()
    assert not np.array_equal(e0, e1)
    loader.set_epoch(1)
    np.testing.assert_array_equal(next(iter(loader))[0].array, e1)
    fresh = DataLoader(TensorDataset(*_xy(30)), batch_size=30, shuffle=True, seed=1)
    fresh.load_state_dict({"seed": 1, "epoch": 0})
    np.testing.assert_array_equal(next(iter(fresh))[0].array, e0)


def test_seed_none_follows_manual_seed():
    ds = TensorDataset(*_xy(40))
    nl.manual_seed(5)
    a = next(iter(DataLoader(ds, batch_size=40, shuffle=True)))[0].array
    nl.manual_seed(5)
    b = next(iter(DataLoader(ds, batch_size=40, shuffle=True)))[0].array
    np.testing.assert_array_equal(a, b)


def test_generic_dataset_collation_and_custom_collate():
    ds = ListDataset(7)
    xb, yb = next(iter(DataLoader(ds, batch_size=5)))
    assert xb.shape == (5, 2) and xb.dtype == np.float32 and yb.dtype == np.int64
    np.testing.assert_array_equal(yb.array, [0, 1, 2, 0, 1])

    def collate(items):
        return np.stack([i[0] * 2 for i in items]), np.array([9] * len(items))

    xb, yb = next(iter(DataLoader(ds, batch_size=3, collate_fn=collate)))
    np.testing.assert_array_equal(xb.array[:, 0], [0, 2, 4])
    np.testing.assert_array_equal(yb.array, [9, 9, 9])


def test_transform_hook_gets_batch_array():
    calls = []

    def flip(x):
        calls.append(x.shape)
        return -x

    x, y = _xy(6)
    batches = list(DataLoader(TensorDataset(x, y), batch_size=4, transform=flip))
    assert calls == [(4, 2), (2, 2)]
    np.testing.assert_array_equal(batches[0][0].array, -x[:4])


def test_uint8_images_scaled_to_unit_interval():
    x = np.array([[0, 255], [51, 102]], dtype=np.uint8)
    xb, _ = next(iter(DataLoader(TensorDataset(x, np.array([0, 1])), batch_size=2)))
    np.testing.assert_allclose(xb.array, [[0, 1], [0.2, 0.4]], rtol=1e-6)


def test_fancy_indexing_path_has_no_per_item_calls(monkeypatch):
    ds = TensorDataset(*_xy(20))

    def boom(self, i):
        raise AssertionError("per-item access on an in-memory dataset")

    monkeypatch.setattr(TensorDataset, "__getitem__", boom)
    sub = random_split(ds, [15, 5], seed=0)[0]
    assert sum(len(b[0]) for b in DataLoader(sub, batch_size=4, shuffle=True, seed=0)) == 15


def test_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(TensorDataset(*_xy(4)), batch_size=0)


def test_random_split_lengths_fractions_and_seed():
    ds = TensorDataset(*_xy(10))
    a, b = random_split(ds, [7, 3], seed=0)
    assert len(a) == 7 and len(b) == 3
    assert set(a.indices.tolist()) | set(b.indices.tolist()) == set(range(10))
    assert not set(a.indices.tolist()) & set(b.indices.tolist())
    a2, _ = random_split(ds, [7, 3], seed=0)
    np.testing.assert_array_equal(a.indices, a2.indices)
    parts = random_split(ds, [0.5, 0.3, 0.2], seed=1)
    assert [len(p) for p in parts] == [5, 3, 2]
    parts = random_split(TensorDataset(*_xy(11)), [0.5, 0.5], seed=1)
    assert [len(p) for p in parts] == [6, 5]
    with pytest.raises(ValueError, match="sum"):
        random_split(ds, [5, 6])


def test_subset_and_concat():
    x, y = _xy(6)
    ds = TensorDataset(x, y)
    sub = Subset(ds, [4, 1])
    np.testing.assert_array_equal(sub[0][0], x[4])
    both = ConcatDataset([ds, sub])
    assert len(both) == 8
    np.testing.assert_array_equal(both[7][0], x[1])
    with pytest.raises(IndexError):
        both[8]
    with pytest.raises(IndexError):
        Subset(ds, [6])
    # A loader over a Subset of a Subset takes the composed rows.
    xb, _ = next(iter(DataLoader(Subset(sub, [1]), batch_size=1)))
    np.testing.assert_array_equal(xb.array[0], x[1])
