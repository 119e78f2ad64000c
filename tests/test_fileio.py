"""Atomic writes: an interrupted write leaves the old file intact and no temporary file behind."""

import os

import numpy as np
import pytest

from neuralab.fileio import atomic_path, atomic_savez, atomic_write_bytes


def test_atomic_write_replaces_and_leaves_nothing_else(tmp_path):
    target = tmp_path / "sub" / "config.json"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert os.listdir(target.parent) == ["config.json"]
    assert target.stat().st_mode & 0o644 == 0o644  # not mkstemp's private 0600


def test_interrupted_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "weights.npz"
    atomic_savez(target, w=np.arange(3))
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half a fi")
            raise KeyboardInterrupt
    with np.load(target, allow_pickle=False) as z:
        np.testing.assert_array_equal(z["w"], np.arange(3))
    assert os.listdir(tmp_path) == ["weights.npz"]
