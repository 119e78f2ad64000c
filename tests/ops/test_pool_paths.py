"""Pooling's fast kernels against the reference (the lecture's stacked windows) on the layouts the
fast kernels keep: NCHW views of channels-last and batch-last memory (what the fast convolutions
return), disjoint and overlapping windows, padding, dilation and ceil mode, in one thread and
split between two (however small the array)."""

from __future__ import annotations

import numpy as np
import pytest

import neuralab as nl
from neuralab import parallel
from tests.ops.test_ops import fast_matches_reference

MEMORY_ORDERS = {"nchw": (0, 1, 2, 3), "nhwc": (0, 2, 3, 1), "chwn": (1, 2, 3, 0)}
POOLS = {
    "max-2x2": lambda x: nl.max_pool2d(x, 2),
    "max-3x3-s2-p1": lambda x: nl.max_pool2d(x, 3, stride=2, padding=1),
    "max-3x3-s1-p1": lambda x: nl.max_pool2d(x, 3, stride=1, padding=1),  # Inception's
    "max-dilated-ceil": lambda x: nl.max_pool2d(x, 2, stride=2, dilation=2, ceil_mode=True),
    "max-indices": lambda x: nl.max_pool2d(x, 3, stride=2, return_indices=True)[0],
    "avg-2x2": lambda x: nl.avg_pool2d(x, 2),
    "avg-3x3-s2-p1-ceil": lambda x: nl.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True,
                                                  count_include_pad=False),
}


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("memory", list(MEMORY_ORDERS))
@pytest.mark.parametrize("pool", list(POOLS))
def test_fast_pool_matches_reference(pool, memory, threads):
    rng = np.random.default_rng(0)
    shape = (3, 4, 9, 8)
    order = MEMORY_ORDERS[memory]
    x = rng.standard_normal([shape[a] for a in order]).transpose(np.argsort(order))
    nl.set_num_threads(threads)  # conftest restores it
    with parallel.options(split_bytes=0):  # split between the threads however small
        fast_matches_reference(POOLS[pool], [x], (0,))


@pytest.mark.parametrize("memory", list(MEMORY_ORDERS))
def test_overlapping_max_pool_ties_go_to_the_first_window_offset(memory):
    """Rounded inputs tie often; each window's gradient goes to its first maximum in row-major
    order (PyTorch's rule), also where windows overlap and share inputs."""
    rng = np.random.default_rng(2)
    shape = (2, 3, 6, 7)
    order = MEMORY_ORDERS[memory]
    x = np.round(rng.standard_normal([shape[a] for a in order])).transpose(np.argsort(order))
    fast_matches_reference(POOLS["max-3x3-s1-p1"], [x], (0,))


def test_max_pool_indices_match_between_kernel_sets():
    x = nl.tensor(np.random.default_rng(1).standard_normal((2, 3, 7, 7)))
    with nl.use_kernels("reference"):
        _, ref = nl.max_pool2d(x, 3, stride=2, padding=1, return_indices=True)
    _, fast = nl.max_pool2d(x, 3, stride=2, padding=1, return_indices=True)
    np.testing.assert_array_equal(fast.numpy(), ref.numpy())
