"""DataLoader(num_workers=N): the same batches in the same order as without workers,
reproducible per-worker randomness, get_worker_info, worker_init_fn, persistent workers,
prefetching, and a clean stop on errors, dead workers, timeouts, break and Ctrl-C."""

from __future__ import annotations

import gc
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import neuralab as nl
from neuralab.data import transforms
from neuralab.utils.data import (
    DataLoader,
    Dataset,
    IterableDataset,
    TensorDataset,
    get_worker_info,
)

ROOT = Path(__file__).resolve().parents[2]


class Items(Dataset):
    """A per-item data set: example i is (float i, i % 3)."""

    def __init__(self, n=23):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full((2,), i, dtype=np.float32), i % 3


class WhoAmI(Dataset):
    """Returns, for each index, what the process making it knows about itself."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        info = get_worker_info()
        return {"index": i, "id": info.id, "num_workers": info.num_workers, "seed": info.seed,
                "pid": os.getpid(), "threads": nl.get_num_threads(),
                "same_dataset": info.dataset is self, "init": _INIT.get("id", -1)}


class Noisy(Dataset):
    """Random augmentation drawn in __getitem__ from neuralab's, NumPy's and Python's
    generators."""

    def __len__(self):
        return 16

    def __getitem__(self, i):
        return np.array([i, nl.rand(1).item(), np.random.random(), random.random()])


class Failing(Dataset):
    def __init__(self, bad=5, error=ValueError):
        self.bad, self.error = bad, error

    def __len__(self):
        return 12

    def __getitem__(self, i):
        if i == self.bad:
            raise self.error(f"example {i} is broken")
        return np.float32(i)


class Killed(Dataset):
    def __len__(self):
        return 12

    def __getitem__(self, i):
        if i == 6:
            os.kill(os.getpid(), signal.SIGKILL)
        return np.float32(i)


class Slow(Dataset):
    def __init__(self, seconds=0.5):
        self.seconds = seconds

    def __len__(self):
        return 8

    def __getitem__(self, i):
        time.sleep(self.seconds if i >= 2 else 0.0)
        return np.float32(i)


class Stream(IterableDataset):
    """0..n-1; split between workers by get_worker_info when ``split``."""

    def __init__(self, n=10, split=True):
        self.n, self.split = n, split

    def __iter__(self):
        info = get_worker_info()
        if not self.split or info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class LocalError(Exception):
    """Stands in for an exception class that cannot be rebuilt in the main process."""

    def __init__(self, a, b):
        super().__init__(a, b)


_INIT: dict = {}


def _init(worker_id):
    _INIT["id"] = worker_id


def _alive(loader_iterator):
    return [p for p in loader_iterator._processes if p.is_alive()]


def _array(value):
    return value.array if isinstance(value, nl.Tensor) else np.asarray(value)


def _values(batches, key=0):
    return [b[key].array.tolist() for b in batches]


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_batches_and_order_equal_those_without_workers(workers):
    for kwargs in [dict(batch_size=4, shuffle=True, seed=3), dict(batch_size=5, drop_last=True),
                   dict(batch_size=None), dict(batch_sampler=[[9, 0], [5], [1, 2, 3]])]:
        here = list(DataLoader(Items(), **kwargs))
        there = list(DataLoader(Items(), num_workers=workers, **kwargs))
        assert len(here) == len(there) > 0
        for a, b in zip(here, there):
            assert type(a[1]) is type(b[1])
            np.testing.assert_array_equal(_array(a[0]), _array(b[0]))
            np.testing.assert_array_equal(_array(a[1]), _array(b[1]))
    # With a generator= the order is the same too, epoch after epoch.
    def passes(n, **options):
        loader = DataLoader(Items(), batch_size=4, shuffle=True, num_workers=n,
                            generator=nl.Generator().manual_seed(2), **options)
        return [_values(loader, 1) for _ in range(3)]

    assert passes(0) == passes(workers) == passes(workers, persistent_workers=True)
    # The in-memory fast path (fancy indexing) and neuralab's per-batch transform hook.
    x = np.random.default_rng(0).integers(0, 256, (50, 3, 4, 4), dtype=np.uint8)
    data = TensorDataset(x, np.arange(50))
    here = list(DataLoader(data, batch_size=8, shuffle=True, seed=1, transform=np.sqrt))
    there = list(DataLoader(data, batch_size=8, shuffle=True, seed=1, transform=np.sqrt,
                            num_workers=workers))
    assert [b[1].array.tolist() for b in here] == [b[1].array.tolist() for b in there]
    for a, b in zip(here, there):
        np.testing.assert_array_equal(a[0].array, b[0].array)
        assert b[0].dtype == np.float32


def test_worker_info_seeds_threads_and_init_fn():
    assert get_worker_info() is None  # in the main process
    loader = DataLoader(WhoAmI(), batch_size=2, num_workers=3, worker_init_fn=_init,
                        generator=nl.Generator().manual_seed(5))
    batches = list(loader)
    ids = [b["id"].array.tolist() for b in batches]
    assert ids == [[k, k] for k in (0, 1, 2, 0, 1, 2)]  # batch i from worker i % 3
    base = int(nl.Generator().manual_seed(5).rng.integers(2**63 - 1 - 3))
    for b in batches:
        k = int(b["id"].array[0])
        assert b["seed"].array.tolist() == [base + k] * 2
        assert b["num_workers"].array.tolist() == [3, 3]
        assert b["init"].array.tolist() == [k, k]  # worker_init_fn ran in that worker
        assert b["threads"].array.tolist() == [1, 1]  # single-threaded workers
        assert b["same_dataset"].array.all()
        assert int(b["pid"].array[0]) != os.getpid()
    assert _INIT == {}  # worker_init_fn never ran in this process


def test_random_augmentation_in_workers_is_reproducible_for_a_given_seed():
    def run(seed, workers=2):
        nl.manual_seed(seed)
        return np.concatenate([b.array for b in DataLoader(Noisy(), batch_size=3,
                                                           num_workers=workers)])

    a, b, c = run(0), run(0), run(1)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[:, 0], np.arange(16))
    for column in (1, 2, 3):  # neuralab's, NumPy's legacy and Python's generators all seeded
        assert not np.array_equal(a[:, column], c[:, column])
        # Different workers draw different numbers (seeds base + id).
        assert a[0, column] != a[3, column]
    # A generator= of the loader gives the base seed, not the global generator.
    g = [DataLoader(Noisy(), batch_size=4, num_workers=2, generator=nl.Generator().manual_seed(7))
         for _ in range(2)]
    first, second = (np.concatenate([b.array for b in loader]) for loader in g)
    np.testing.assert_array_equal(first, second)


def test_cifar_style_batch_augmentation_in_workers_is_reproducible():
    x = np.random.default_rng(0).integers(0, 256, (40, 3, 8, 8), dtype=np.uint8)
    augment = transforms.Compose([transforms.RandomCrop(8, padding=2),
                                  transforms.RandomHorizontalFlip()])

    def run():
        nl.manual_seed(3)
        loader = DataLoader(TensorDataset(x, np.arange(40)), batch_size=8, shuffle=True,
                            seed=0, transform=augment, num_workers=2)
        return [b[0].array for b in loader], [b[1].array.tolist() for b in loader]

    (x1, y1), (x2, y2) = run(), run()
    assert y1 == y2
    for a, b in zip(x1, x2):
        np.testing.assert_array_equal(a, b)
    plain = [b[0].array for b in DataLoader(TensorDataset(x, np.arange(40)), batch_size=8,
                                            shuffle=True, seed=0, num_workers=2)]
    assert any(not np.array_equal(a, b) for a, b in zip(x1, plain))  # it did augment


def test_persistent_workers_keep_their_processes_and_state():
    loader = DataLoader(WhoAmI(), batch_size=4, num_workers=2, persistent_workers=True,
                        worker_init_fn=_init)
    pids = [sorted({p for b in loader for p in b["pid"].array.tolist()}) for _ in range(3)]
    assert pids[0] == pids[1] == pids[2] and len(pids[0]) == 2
    iterator = loader._iterator
    assert len(_alive(iterator)) == 2
    # A pass left by break: the next pass still starts at the first batch.
    for _ in loader:
        break
    assert [b["index"].array.tolist() for b in loader][0] == [0, 1, 2, 3]
    iterator.close()
    assert _alive(iterator) == []
    fresh = DataLoader(WhoAmI(), batch_size=4, num_workers=2)
    once, twice = ({p for b in fresh for p in b["pid"].array.tolist()} for _ in range(2))
    assert not once & twice  # without persistent_workers each pass starts new workers


@pytest.mark.parametrize("workers", [0, 2])
def test_stats_count_batches_examples_and_seconds(workers):
    loader = DataLoader(Slow(0.05), batch_size=3, num_workers=workers)
    for _ in range(2):
        assert len(list(loader)) == 3
    stats = loader.stats
    assert (stats.batches, stats.examples) == (6, 16)
    assert 12 * 0.05 <= stats.make_seconds < 12 * 0.05 + 2  # 6 examples sleep in each pass
    assert 0 < stats.wait_seconds and stats.images_per_second() == 16 / stats.make_seconds
    if workers == 0:
        assert stats.wait_seconds == stats.make_seconds


def test_prefetch_factor_bounds_the_batches_in_flight():
    iterator = iter(DataLoader(Items(40), batch_size=2, num_workers=2, prefetch_factor=3))
    assert len(iterator._pending) == 6
    next(iterator)
    assert len(iterator._pending) == 6
    iterator.close()
    iterator = iter(DataLoader(Items(40), batch_size=2, num_workers=2))
    assert len(iterator._pending) == 4  # PyTorch's default of 2 per worker
    iterator.close()
    for kwargs, message in [(dict(prefetch_factor=2), "num_workers > 0"),
                            (dict(num_workers=1, prefetch_factor=0), "prefetch_factor"),
                            (dict(num_workers=1, timeout=-1), "timeout"),
                            (dict(num_workers=1, multiprocessing_context="fast"), "fork"),
                            (dict(multiprocessing_context="spawn"), "num_workers > 0")]:
        with pytest.raises(ValueError, match=message):
            DataLoader(Items(), **kwargs)


def test_iterable_dataset_in_workers():
    # Each worker iterates over its own copy unless the data set splits itself (as PyTorch).
    whole = DataLoader(Stream(10, split=False), batch_size=4, num_workers=2)
    assert sorted(v for b in whole for v in b.array.tolist()) == sorted(list(range(10)) * 2)
    split = DataLoader(Stream(10), batch_size=3, num_workers=2, persistent_workers=True)
    for _ in range(2):
        batches = [b.array.tolist() for b in split]
        assert batches == [[0, 2, 4], [1, 3, 5], [6, 8], [7, 9]]
    split._iterator.close()
    assert list(DataLoader(Stream(5), batch_size=None, num_workers=2)) == \
        [0, 1, 2, 3, 4]


def test_an_error_in_a_worker_comes_back_with_its_traceback():
    iterator = iter(DataLoader(Failing(), batch_size=2, num_workers=2))
    assert next(iterator)[0] == 0
    with pytest.raises(ValueError) as info:
        list(iterator)
    text = str(info.value)
    assert text.startswith("Caught ValueError in DataLoader worker process 0.")
    assert "Original Traceback (most recent call last)" in text
    assert 'raise self.error(f"example {i} is broken")' in text
    assert "ValueError: example 5 is broken" in text
    assert isinstance(info.value.__cause__, ValueError)  # the worker's own exception
    assert str(info.value.__cause__) == "example 5 is broken"
    assert _alive(iterator) == []
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 1"):
        list(DataLoader(Failing(bad=3, error=KeyError), batch_size=2, num_workers=2))
    # An exception type that cannot be rebuilt from a message becomes a RuntimeError.
    with pytest.raises(RuntimeError, match="Caught LocalError"):
        list(DataLoader(Failing(bad=0, error=lambda m: LocalError(m, 1)), batch_size=2,
                        num_workers=1))
    with pytest.raises(ZeroDivisionError, match=r"worker process 0 \(in worker_init_fn\)"):
        list(DataLoader(Items(), batch_size=2, num_workers=1, worker_init_fn=lambda i: 1 / 0))


def test_a_killed_worker_is_reported_not_waited_for():
    iterator = iter(DataLoader(Killed(), batch_size=2, num_workers=2))
    start = time.perf_counter()
    with pytest.raises(RuntimeError, match=r"worker process 1 \(pid \d+\) was killed by SIGKILL"):
        list(iterator)
    assert time.perf_counter() - start < 10
    assert _alive(iterator) == []


def test_timeout_raises_and_stops_the_workers():
    iterator = iter(DataLoader(Slow(), batch_size=2, num_workers=1, timeout=0.2))
    assert next(iterator).array.tolist() == [0, 1]
    with pytest.raises(RuntimeError, match="timed out after 0.2 seconds"):
        next(iterator)
    assert _alive(iterator) == []


def test_break_and_deleting_the_iterator_stop_the_workers():
    loader = DataLoader(Slow(), batch_size=1, num_workers=2)
    iterator = iter(loader)
    processes = list(iterator._processes)
    for _ in iterator:
        break
    del iterator
    gc.collect()
    assert not any(p.is_alive() for p in processes)


def test_spawn_workers_and_an_unpicklable_dataset():
    loader = DataLoader(Items(9), batch_size=4, num_workers=1, multiprocessing_context="spawn")
    assert _values(loader, 1) == [[0, 1, 2, 0], [1, 2, 0, 1], [2]]
    with pytest.raises(RuntimeError, match="cannot be pickled.*module level"):
        list(DataLoader(Items(9), batch_size=4, num_workers=1, collate_fn=lambda b: b,
                        multiprocessing_context="spawn"))


def test_large_arrays_come_through_shared_memory(monkeypatch):
    from neuralab.data import worker

    if worker.SHARED_MEMORY_ROOT is None:
        pytest.skip("no /dev/shm on this platform: batches go through the pipe")
    monkeypatch.setattr(worker, "SHARED_MEMORY_BYTES", 1024)  # x batches: 8 KB
    sent = []
    monkeypatch.setattr(worker._SharedArray, "read", lambda self, read=worker._SharedArray.read:
                        sent.append(self.shape) or read(self))
    x = np.random.default_rng(0).standard_normal((40, 2, 16, 16)).astype(np.float32)
    data = TensorDataset(x, np.arange(40))
    here = list(DataLoader(data, batch_size=8, shuffle=True, seed=0))
    iterator = iter(DataLoader(data, batch_size=8, shuffle=True, seed=0, num_workers=2))
    folder = Path(iterator._shared)
    there = list(iterator)
    assert sent == [(8, 2, 16, 16)] * 5  # x by shared memory, y (64 bytes) by the pipe
    for a, b in zip(here, there):
        np.testing.assert_array_equal(a[0].array, b[0].array)
        np.testing.assert_array_equal(a[1].array, b[1].array)
        assert isinstance(b[0], nl.Tensor) and b[0].array.flags.writeable
    assert not folder.exists()  # removed when the workers stopped
    # Per-item batches (dicts of stacked arrays) too, and a pass left by break.
    dicts = DataLoader(WhoAmI(), batch_size=4, num_workers=2, collate_fn=lambda items: {
        "big": np.stack([np.full(512, item["index"], np.float32) for item in items])})
    assert [b["big"][:, 0].tolist() for b in dicts] == [[0, 1, 2, 3], [4, 5, 6, 7],
                                                        [8, 9, 10, 11]]
    iterator = iter(dicts)
    folder = Path(iterator._shared)
    next(iterator)
    del iterator
    gc.collect()
    assert not folder.exists()


CTRL_C_SCRIPT = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    from neuralab.utils.data import DataLoader, Dataset

    class Slow(Dataset):
        def __len__(self):
            return 100
        def __getitem__(self, i):
            time.sleep(0.2)
            return np.float32(i)

    iterator = iter(DataLoader(Slow(), batch_size=1, num_workers=2))
    next(iterator)
    print(" ".join(str(p.pid) for p in iterator._processes), flush=True)
    for batch in iterator:
        pass
""")


def test_ctrl_c_stops_the_workers_without_tracebacks_from_them():
    process = subprocess.Popen([sys.executable, "-c", CTRL_C_SCRIPT], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)},
                               # (a shell's background job would start with Ctrl-C ignored)
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        pids = [int(p) for p in process.stdout.readline().split()]
        assert len(pids) == 2
        os.killpg(process.pid, signal.SIGINT)  # as the terminal does: the whole process group
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode != 0
    assert err.count("Traceback") == 1 and "KeyboardInterrupt" in err  # the main process's
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or \
            Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
