"""The DataLoader's worker processes (``num_workers > 0``), as ``torch.utils.data``'s.

Reading and augmenting a batch (decoding images, random crops, flips) is independent of the
training step, so other processes can prepare the next batches while this one trains: each
worker is a process with its own copy of the data set (shared copy-on-write under ``fork``,
pickled under ``spawn``). The main process sends each worker the index batches of the sampler
in turn (batch ``i`` to worker ``i % num_workers``), at most ``prefetch_factor`` ahead per
worker, and reads each worker's results from its own pipe in the order it sent the tasks, so
the batches come out in exactly the order a loader without workers gives them.

Randomness: every iterator draws a ``base_seed`` from the loader's generator (or neuralab's
global one) when it starts its workers; worker ``k`` seeds neuralab's generator, NumPy's legacy
global generator and Python's ``random`` with ``base_seed + k``, as PyTorch seeds its own. Random
augmentations in workers are therefore the same in two runs with the same seed and the same
number of workers (not the same as with another number of workers, as in PyTorch).

Each worker runs single-threaded (``neuralab.set_num_threads(1)``: one BLAS thread, no loop
threads): ``num_workers`` processes on top of the training threads would otherwise each start
one thread per core.

Transfer: a batch goes back pickled through the worker's pipe, except arrays of at least
``SHARED_MEMORY_BYTES``: those the worker writes to a file in shared memory (``/dev/shm``, a
folder per iterator), and the main process maps that file as its array (no copy) and deletes
its name. A pipe moves 64 KiB at a time, handing the CPU between the two processes for each
piece: a (128, 3, 224, 224) float32 batch (77 MB) took 0.7-1.0 s to receive through it on two
busy cores (``benchmarks/bench_loader.py``); CIFAR-10 batches (1.6 MB) take about a
millisecond through the pipe and stay there. The folder is removed when
the workers stop (a main process killed by SIGKILL leaves it behind, as PyTorch leaves its
shared memory).

Shutdown: at the end of an epoch (unless ``persistent_workers``), when the iterator is dropped
(``break`` out of the loop), on an error and at interpreter exit the workers are told to stop,
their pipes closed, and any still alive a second later terminated. Workers ignore Ctrl-C (the
terminal sends it to the whole process group): the main process gets the KeyboardInterrupt and
stops them, so no worker prints a traceback. An exception in a worker comes back to the main
process with the worker's traceback text; a worker that dies (killed by a signal, out of memory)
is reported with its exit code or signal instead of a hang.
"""

from __future__ import annotations

import atexit
import mmap
import multiprocessing as mp
import os
import pickle
import queue
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import manual_seed, xp
from neuralab.parallel import set_num_threads

__all__ = ["LoaderStats", "WorkerInfo", "get_worker_info", "default_start_method"]

#: How long shutdown waits for a worker to stop by itself before terminating it (seconds).
JOIN_SECONDS = 1.0
#: How often an idle worker checks that the main process is still alive (seconds).
PARENT_CHECK_SECONDS = 1.0
#: Arrays of a batch at least this large go through shared memory instead of the pipe.
SHARED_MEMORY_BYTES = 4 * 2**20
#: Where the shared-memory folders are made (None: the pipe only).
SHARED_MEMORY_ROOT = "/dev/shm" if os.path.isdir("/dev/shm") else None


@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` tells code running in a worker (PyTorch's fields).

    Attributes:
        id: this worker's number, 0 to ``num_workers - 1``.
        num_workers: how many workers the loader runs.
        seed: the seed of this worker's generators (``base_seed + id``).
        dataset: this worker's copy of the data set.
    """

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


@dataclass
class LoaderStats:
    """What a DataLoader's batches cost, summed over its passes (``loader.stats``).

    Attributes:
        batches: batches delivered.
        examples: examples in them (data sets with indices; streams count 0).
        make_seconds: seconds spent making them: in this process without workers, summed over
            the workers with them.
        wait_seconds: seconds this process spent waiting for them (making them, without
            workers): the training time lost to data loading.
    """

    batches: int = 0
    examples: int = 0
    make_seconds: float = 0.0
    wait_seconds: float = 0.0

    def images_per_second(self) -> float:
        """Examples one process makes per second (the loader alone; N workers make up to N
        times this on N free cores); NaN before any batch."""
        return self.examples / self.make_seconds if self.make_seconds > 0 else float("nan")


def get_worker_info() -> WorkerInfo | None:
    """Inside a DataLoader worker: its ``WorkerInfo``; in the main process: None.

    An ``IterableDataset`` uses it to give each worker its own share of the stream (each worker
    otherwise iterates over a whole copy of it, as in PyTorch).
    """
    return _worker_info


def default_start_method() -> str:
    """``fork`` where the platform has it (Linux: the workers share the data set's arrays with
    this process, nothing is pickled), else ``spawn``."""
    return "fork" if "fork" in mp.get_all_start_methods() and sys.platform != "darwin" \
        else "spawn"


class _Stop:
    """Sent by a worker whose stream (``IterableDataset``) is exhausted."""


class WorkerError:
    """An exception raised in a worker, carried to the main process with its traceback text."""

    def __init__(self, worker_id: int, exc: BaseException, where: str):
        self.worker_id = worker_id
        self.type_name = type(exc).__name__
        self.text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.where = where
        try:  # the class itself when the main process can unpickle it, else a RuntimeError
            pickle.loads(pickle.dumps(type(exc)))
            self.exc_type: type | None = type(exc)
        except Exception:
            self.exc_type = None
        try:  # the exception itself (without its traceback) becomes the new one's __cause__
            self.original: BaseException | None = pickle.loads(pickle.dumps(exc))
        except Exception:
            self.original = None

    def reraise(self) -> None:
        """Raise the worker's exception type with a message holding the original traceback,
        from the original exception (``__cause__``) when it could be carried over."""
        message = (f"Caught {self.type_name} in DataLoader worker process {self.worker_id}"
                   f"{self.where}.\nOriginal {self.text}")
        if self.exc_type is KeyError:  # KeyError would show the message as a quoted repr
            raise KeyError(_Message(message)) from self.original
        try:
            error = self.exc_type(message) if self.exc_type is not None else None
        except Exception:
            error = None
        if not isinstance(error, BaseException):
            raise RuntimeError(message) from self.original
        raise error from self.original


class _Message(str):
    def __repr__(self) -> str:
        return str(self)


class _SharedArray:
    """Stands for an array written to a file in shared memory (``path``)."""

    def __init__(self, path: str, array: Any, tensor: bool):
        self.path, self.shape, self.dtype, self.tensor = path, array.shape, array.dtype, tensor
        with open(path, "wb") as fh:
            fh.write(memoryview(xp.ascontiguousarray(array)).cast("B"))

    def read(self) -> Any:
        """The array, mapped from the file without a copy (the mapping outlives the file's
        name, deleted here, and is released with the array)."""
        with open(self.path, "r+b") as fh:
            mapped = mmap.mmap(fh.fileno(), 0)
        os.unlink(self.path)
        array = xp.frombuffer(mapped, dtype=self.dtype).reshape(self.shape)
        return Tensor._from_op(array, None, 0) if self.tensor else array


def _to_shared(batch: Any, folder: str, name: str) -> Any:
    """``batch`` with its large arrays (and Tensors) written to files under ``folder``."""
    if isinstance(batch, (Tensor, xp.ndarray)):
        array = batch.array if isinstance(batch, Tensor) else batch
        if array.nbytes < SHARED_MEMORY_BYTES or array.dtype.hasobject or \
                (isinstance(batch, Tensor) and batch.requires_grad):
            return batch
        return _SharedArray(os.path.join(folder, name), array, isinstance(batch, Tensor))
    if isinstance(batch, dict):
        return {k: _to_shared(v, folder, f"{name}-{i}") for i, (k, v) in enumerate(batch.items())}
    if isinstance(batch, (list, tuple)) and type(batch) in (list, tuple):
        return type(batch)(_to_shared(v, folder, f"{name}-{i}") for i, v in enumerate(batch))
    return batch


def _from_shared(batch: Any) -> Any:
    if isinstance(batch, _SharedArray):
        return batch.read()
    if isinstance(batch, dict):
        return {k: _from_shared(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)) and type(batch) in (list, tuple):
        return type(batch)(_from_shared(v) for v in batch)
    return batch


def _seed_worker(seed: int) -> None:
    manual_seed(seed)
    xp.random.seed(seed % 2**32)
    random.seed(seed)


def _worker_loop(fetcher: Any, tasks: Any, results: Any, worker_id: int, num_workers: int,
                 seed: int, init_fn: Callable | None, parent_pid: int,
                 shared: str | None) -> None:
    """The body of one worker process: take tasks, send back batches (or errors) in order.

    Tasks are ``("fetch", indices)`` (a map-style data set), ``("next", None)`` (the next batch
    of this worker's stream), ``("reset", None)`` (a new epoch of a persistent worker's
    stream) and None (stop).
    """
    global _worker_info
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C
    set_num_threads(1)
    _seed_worker(seed)
    _worker_info = WorkerInfo(worker_id, num_workers, seed, fetcher.dataset)
    init_error = None
    if init_fn is not None:
        try:
            init_fn(worker_id)
        except Exception as exc:
            init_error = WorkerError(worker_id, exc, " (in worker_init_fn)")
    stream: Iterator | None = None
    exhausted, count = False, 0
    while True:
        try:
            task = tasks.get(timeout=PARENT_CHECK_SECONDS)
        except queue.Empty:
            if os.getppid() != parent_pid:  # the main process died: nobody to serve
                return
            continue
        except (EOFError, OSError):
            return
        if task is None:
            return
        kind, payload = task
        if kind == "reset":
            stream, exhausted = None, False
            continue
        start = time.perf_counter()
        if init_error is not None:
            result: Any = init_error
        else:
            try:
                if kind == "fetch":
                    result = fetcher.fetch(payload)
                elif exhausted:
                    result = _Stop()
                else:
                    if stream is None:
                        stream = fetcher.stream()
                    result = next(stream)
            except StopIteration:
                result, exhausted = _Stop(), True
            except Exception as exc:
                result = WorkerError(worker_id, exc, "")
        if shared is not None and not isinstance(result, (WorkerError, _Stop)):
            count += 1
            try:
                result = _to_shared(result, shared, f"{worker_id}-{count}")
            except OSError:  # shared memory full: the pipe still works
                pass
        try:
            results.send((result, time.perf_counter() - start))
        except (BrokenPipeError, EOFError, ConnectionResetError):
            return  # the main process stopped listening
        except Exception as exc:  # the batch cannot be pickled
            try:
                results.send((WorkerError(worker_id, exc, " (sending the batch)"), 0.0))
            except Exception:
                return


def _exit_message(worker_id: int, process: Any) -> str:
    code = process.exitcode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        why = f"was killed by {name}"
        if -code == signal.SIGKILL:
            why += " (out of memory? the kernel's OOM killer sends SIGKILL)"
    else:
        why = f"exited unexpectedly with exit code {code}"
    return (f"DataLoader worker process {worker_id} (pid {process.pid}) {why}; its batches are "
            "lost. Try num_workers=0 to see the error in this process")


_live: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for iterator in list(_live):
        iterator.close()


class WorkerIterator:
    """One pass (or, with ``persistent_workers``, every pass) of a DataLoader with workers.

    Args:
        fetcher: makes a batch from a task (``fetch(indices)``, ``stream()``), with the data set.
        tasks: the index batches of the first pass, or None for an ``IterableDataset``.
        num_workers, prefetch_factor, timeout, worker_init_fn, context: the loader's options.
        base_seed: worker ``k`` seeds its generators with ``base_seed + k``.
        persistent: keep the workers after a pass for the next ``reset``.
        stats: where the batches' cost is added up (the loader's ``stats``).
    """

    def __init__(self, fetcher: Any, tasks: Iterator | None, num_workers: int,
                 prefetch_factor: int, timeout: float, worker_init_fn: Callable | None,
                 context: Any, base_seed: int, persistent: bool = False,
                 stats: LoaderStats | None = None):
        self._pid = os.getpid()
        self._stats = stats if stats is not None else LoaderStats()
        self._closed = False
        self._persistent = persistent
        # (worker, examples) of each task in flight, in the order they were sent.
        self._pending: deque = deque()
        self._timeout = timeout
        self._prefetch = prefetch_factor
        self._queues: list = []
        self._conns: list = []
        self._processes: list = []
        self._iterable = tasks is None
        self._shared = None
        _live.add(self)
        try:
            if SHARED_MEMORY_ROOT is not None:
                self._shared = tempfile.mkdtemp(prefix=f"neuralab-loader-{self._pid}-",
                                                dir=SHARED_MEMORY_ROOT)
            for worker_id in range(num_workers):
                tasks_queue = context.Queue()
                receive, send = context.Pipe(duplex=False)
                process = context.Process(
                    target=_worker_loop, daemon=True, name=f"DataLoader worker {worker_id}",
                    args=(fetcher, tasks_queue, send, worker_id, num_workers,
                          base_seed + worker_id, worker_init_fn, self._pid, self._shared))
                self._queues.append(tasks_queue)
                self._conns.append(receive)
                process.start()
                send.close()  # only the worker writes: its death closes the pipe
                self._processes.append(process)
        except (pickle.PicklingError, AttributeError, TypeError) as err:
            self.close()
            if context.get_start_method() == "fork":
                raise
            raise RuntimeError(
                f"DataLoader: the workers are started with {context.get_start_method()!r}, "
                "which sends the data set, collate_fn and worker_init_fn to each worker by "
                f"pickling, and one of them cannot be pickled ({type(err).__name__}: {err}). "
                "Define them at module level (not lambdas or local functions), run the script "
                "under `if __name__ == '__main__':`, or use num_workers=0") from None
        except BaseException:
            self.close()
            raise
        self.reset(tasks)

    def reset(self, tasks: Iterator | None) -> None:
        """Start a pass over ``tasks`` (index batches; None: the workers' streams), first
        discarding what the previous pass left in flight (a ``break``)."""
        while self._pending:
            self._receive(self._pending.popleft()[0])
        self._tasks = tasks
        self._outstanding = [0] * len(self._processes)
        self._active = [True] * len(self._processes)
        self._next_worker = 0
        if self._iterable:
            for q in self._queues:
                q.put(("reset", None))
        self._fill()

    def _fill(self) -> None:
        n = len(self._processes)
        while len(self._pending) < self._prefetch * n and any(self._active):
            worker_id = self._next_worker
            self._next_worker = (worker_id + 1) % n
            if not self._active[worker_id]:
                continue
            if self._iterable:
                task, count = ("next", None), 0
            else:
                indices = next(self._tasks, None)
                if indices is None:
                    return
                task, count = ("fetch", indices), len(indices)
            self._queues[worker_id].put(task)
            self._outstanding[worker_id] += 1
            self._pending.append((worker_id, count))

    def _receive(self, worker_id: int) -> Any:
        conn, process = self._conns[worker_id], self._processes[worker_id]
        while True:
            ready = wait([conn, process.sentinel], timeout=self._timeout or None)
            if not ready:
                self.close()
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds waiting "
                                   f"for a batch from worker process {worker_id}")
            if conn.poll():
                try:
                    result, seconds = conn.recv()
                    self._stats.make_seconds += seconds
                    return _from_shared(result)
                except EOFError:
                    pass
            process.join(JOIN_SECONDS)
            if process.exitcode is not None or not process.is_alive():
                message = _exit_message(worker_id, process)
                self.close()
                raise RuntimeError(message)

    def __iter__(self) -> WorkerIterator:
        return self

    def __next__(self) -> Any:
        if self._closed:
            raise StopIteration
        start = time.perf_counter()
        while self._pending:
            worker_id, count = self._pending.popleft()
            result = self._receive(worker_id)
            self._outstanding[worker_id] -= 1
            if isinstance(result, _Stop):
                self._active[worker_id] = False
                continue
            if isinstance(result, WorkerError):
                self.close()
                result.reraise()
            self._fill()
            stats = self._stats
            stats.batches, stats.examples = stats.batches + 1, stats.examples + count
            stats.wait_seconds += time.perf_counter() - start
            return result
        self._tasks = iter(())
        if not self._persistent:
            self.close()
        raise StopIteration

    @property
    def alive(self) -> bool:
        """True while the workers run (a persistent iterator can start another pass)."""
        return not self._closed

    def close(self) -> None:
        """Stop the workers: tell them, close the pipes (a worker blocked sending a batch gets
        a broken pipe), wait a moment, terminate any left."""
        if self._closed or os.getpid() != self._pid:  # a forked child never stops its parent's
            return
        self._closed = True
        for q in self._queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        for conn in self._conns:
            conn.close()
        for process in self._processes:
            process.join(JOIN_SECONDS)
            if process.is_alive():
                process.terminate()
                process.join(JOIN_SECONDS)
            if process.is_alive():  # SIGTERM not handled in time (a busy machine): no zombie left
                process.kill()
                process.join()
        for q in self._queues:
            q.cancel_join_thread()
            q.close()
        if self._shared is not None:  # the batches still in flight
            shutil.rmtree(self._shared, ignore_errors=True)
        _live.discard(self)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # at interpreter exit half the world may be gone
            pass
