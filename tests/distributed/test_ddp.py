"""Data-parallel training over MPI: N workers with batch B/N match one worker with batch B."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import neuralab as nl
import neuralab.distributed as dist
from neuralab.data import DataLoader, TensorDataset
from neuralab.distributed.ddp import _buckets
from tests.distributed.ddp_worker import train_steps

WORKER = Path(__file__).with_name("ddp_worker.py")
ROOT = Path(__file__).resolve().parents[2]

needs_mpi = pytest.mark.skipif(
    not dist.is_available() or shutil.which("mpiexec") is None,
    reason="MPI cannot start here: mpi4py or mpiexec is missing "
           "(pip install \"neuralab[distributed]\")")


def mpiexec(n: int, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run(["mpiexec", "-n", str(n), sys.executable, str(WORKER), *args],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


@needs_mpi
@pytest.mark.parametrize("model", ["mlp", "lenet5"])
@pytest.mark.parametrize("n", [2, 3])
def test_n_workers_match_one_worker_with_the_whole_batch(tmp_path, model, n):
    out = tmp_path / "state.npz"
    # Global batch 12 = 6 x 2 = 4 x 3; 8 steps cross an epoch boundary of the 48 examples.
    done = mpiexec(n, "steps", model, "12", "8", str(out))
    assert done.returncode == 0, done.stderr
    got = np.load(out)
    want = train_steps(model, 12, 8, world=1, rank=0, wrap=False)
    assert set(got.files) == set(want)
    for key, value in want.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-5, atol=1e-6, err_msg=key)


@needs_mpi
def test_collectives_on_three_workers():
    done = mpiexec(3, "collectives")
    assert done.returncode == 0, done.stderr
    assert "collectives ok" in done.stdout


@needs_mpi
def test_an_error_in_one_worker_stops_all_with_its_message():
    done = mpiexec(3, "fail", "1", timeout=60)  # a hang would raise TimeoutExpired
    assert done.returncode != 0
    assert "worker 1 failed on purpose" in done.stderr


def test_sampler_shares_are_equal_and_cover_the_order():
    order = np.random.default_rng([5, 2]).permutation(10)
    shares = [dist.DistributedSampler(range(10), num_replicas=3, rank=r, seed=5) for r in range(3)]
    for s in shares:
        s.set_epoch(2)
    assert [len(s) for s in shares] == [4, 4, 4]
    merged = np.stack([s.indices() for s in shares], axis=1).ravel()  # batch-wise interleave
    np.testing.assert_array_equal(merged[:10], order)  # the DataLoader's order of that epoch
    np.testing.assert_array_equal(merged[10:], order[:2])  # padded with the first indices
    assert list(shares[1]) == list(shares[1].indices())


def test_sampler_order_is_the_dataloaders_shuffle_order():
    data = np.arange(10, dtype=np.float32)
    loader = DataLoader(TensorDataset(data, data), batch_size=10, shuffle=True, seed=7)
    loader.set_epoch(3)
    (x, _), = list(loader)
    shares = [dist.DistributedSampler(data, num_replicas=2, rank=r, seed=7) for r in range(2)]
    for s in shares:
        s.set_epoch(3)
    merged = np.stack([s.indices() for s in shares], axis=1).ravel()
    np.testing.assert_array_equal(merged, x.array.astype(np.int64))
    batches = list(DataLoader(TensorDataset(data, data), batch_size=5, sampler=shares[1]))
    np.testing.assert_array_equal(batches[0][0].array, data[shares[1].indices()])


def test_sampler_drop_last_set_epoch_and_no_shuffle():
    s = dist.DistributedSampler(range(10), num_replicas=3, rank=2, drop_last=True, seed=0)
    assert len(s) == 3 and len(set(s.indices())) == 3
    first = s.indices().copy()
    s.set_epoch(1)
    assert not np.array_equal(first, s.indices())
    plain = dist.DistributedSampler(range(7), num_replicas=2, rank=1, shuffle=False)
    np.testing.assert_array_equal(plain.indices(), [1, 3, 5, 0])


def test_sampler_rejects_a_rank_outside_the_world():
    with pytest.raises(ValueError, match=r"invalid rank 3, rank should be in the interval"):
        dist.DistributedSampler(range(4), num_replicas=3, rank=3)


def test_gradients_travel_in_buckets_not_one_collective_per_tensor():
    model = nl.models.create("lenet5", num_classes=10)
    params = list(model.parameters())
    assert len(_buckets(params, 25 << 20)) == 1
    small = _buckets(params, 64 << 10)  # 64 kB: the 400x120 weight (188 kB) forms its own
    assert 1 < len(small) < len(params)
    assert [p for bucket in small for p in bucket] == params


def test_ddp_without_a_process_group_says_what_to_call():
    assert not dist.is_initialized()
    assert dist.get_world_size() == 1 and dist.get_rank() == 0
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.DistributedDataParallel(nl.nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.barrier()
