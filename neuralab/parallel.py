"""Threads: neuralab's blocked loops on several cores, and the BLAS's own thread count.

NumPy releases the GIL inside its array loops and matrix products, so Python threads that each
work on their own blocks of images run on separate cores. The convolution and batch-norm loops
(which go through a batch a few images at a time, for the cache) hand their blocks out to
``get_num_threads()`` threads this way: the copies of im2col and the elementwise passes gain
as much as the matrix products, which the BLAS alone would parallelize. Inside such a loop the
BLAS (OpenBLAS, as NumPy's wheels bundle it) is held to one thread, so that two threads do not
each start two more on two cores.

``set_num_threads(n)`` sets both, as ``torch.set_num_threads`` does. The default is the
``NEURALAB_NUM_THREADS`` or ``OMP_NUM_THREADS`` environment variable, else every core this
process may use. Results do not depend on the number of threads except in the order of
floating-point sums over blocks (weight gradients, batch statistics), as in PyTorch.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

__all__ = ["get_num_threads", "set_num_threads", "set_blas_threads"]


def _default_threads() -> int:
    for var in ("NEURALAB_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


_threads = _default_threads()
_pool: ThreadPoolExecutor | None = None
# Held while a parallel loop runs: a loop started meanwhile (inside it, or from another Python
# thread) runs in its own thread instead of waiting for the pool.
_busy = threading.Lock()
# Elementwise passes over arrays smaller than this stay in one thread: handing work to another
# thread costs some 60 µs (measured), and splitting LeNet-5's 1.2 MB activations made its
# training step 1 ms slower, while ResNet-20's (2 to 8 MB) gain.
_SPLIT_BYTES = 2 << 20


def _forget_pool_after_fork() -> None:
    """A forked child has none of the parent's threads: it starts its own pool when needed."""
    global _pool, _busy
    _pool, _busy = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def get_num_threads() -> int:
    """How many threads neuralab's blocked loops (convolution, batch norm) use."""
    return _threads


def set_num_threads(n: int) -> bool:
    """Use ``n`` threads in neuralab's blocked loops and ``n`` BLAS threads (torch's name).

    Args:
        n: a positive int; 1 runs everything in the calling thread.

    Returns:
        Whether NumPy's BLAS was found and set (see ``set_blas_threads``).
    """
    global _threads, _pool
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive int, got {n!r}")
    found = set_blas_threads(n)
    if n != _threads and _pool is not None:
        _pool.shutdown(wait=True)
        _pool = None
    _threads = n
    return found


# ----------------------------------------------------------------------------- the BLAS
# OpenBLAS (the BLAS that NumPy's wheels bundle, under a prefixed name) is found in the
# process's memory map and its thread-count functions are called directly, once looked up.
_GETTERS = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
            "openblas_get_num_threads64_", "openblas_get_num_threads")
_SETTERS = tuple(name.replace("_get_", "_set_") for name in _GETTERS)
_blas: list[tuple[Any, Any]] | None = None  # (getter, setter) per OpenBLAS library loaded


def _openblas() -> list[tuple[Any, Any]]:
    global _blas
    if _blas is None:
        from neuralab.backend import xp  # noqa: F401  (NumPy, and with it its BLAS, loaded)

        _blas = []
        try:
            with open("/proc/self/maps", encoding="utf-8") as fh:
                paths = {line.split()[-1] for line in fh
                         if "openblas" in line.lower() and line.split()[-1].startswith("/")}
        except OSError:  # not Linux: the BLAS keeps its own settings
            paths = set()
        for path in sorted(paths):
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for get_name, set_name in zip(_GETTERS, _SETTERS):
                getter, setter = getattr(lib, get_name, None), getattr(lib, set_name, None)
                if getter is not None and setter is not None:
                    getter.restype = ctypes.c_int
                    _blas.append((getter, setter))
                    break
    return _blas


def set_blas_threads(n: int) -> bool:
    """Limit NumPy's BLAS to ``n`` threads; returns whether a BLAS library was found and set.

    Small matrix products gain little from several BLAS threads, and on a busy machine OpenBLAS
    threads that spin while waiting for each other can make training many times slower.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_blas_threads: n must be a positive int, got {n!r}")
    for _, setter in _openblas():
        setter(ctypes.c_int(n))
    if _openblas():
        return True
    try:  # another BLAS (MKL, Accelerate): threadpoolctl knows them, when installed
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    threadpool_limits(n, user_api="blas")
    return True


# ----------------------------------------------------------------------------- blocked loops
def run_chunks(n_items: int, work: Callable[[int, int], Any]) -> list[Any]:
    """``work(lo, hi)`` on contiguous chunks of range(n_items), one per thread; results in order.

    The first chunk runs in the calling thread. ``work`` must write only to its own items'
    outputs and scratch arrays; sums over items are returned per chunk and added by the caller
    in chunk order.
    """
    global _pool
    threads = min(_threads, n_items)
    if threads <= 1 or not _busy.acquire(blocking=False):  # or a parallel loop is running
        return [work(0, n_items)]
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_threads - 1, thread_name_prefix="neuralab")
    bounds = [n_items * t // threads for t in range(threads + 1)]
    blas = _openblas()
    saved = [getter() for getter, _ in blas]
    for _, setter in blas:
        setter(ctypes.c_int(1))
    try:
        futures = [_pool.submit(work, bounds[t], bounds[t + 1]) for t in range(1, threads)]
        try:
            first = work(bounds[0], bounds[1])
        finally:
            wait(futures)  # every chunk done before the BLAS gets its threads back
        return [first] + [f.result() for f in futures]
    finally:
        for (_, setter), n in zip(blas, saved):
            setter(ctypes.c_int(n))
        _busy.release()


def over_rows(a: Any, work: Callable[[Any], Any]) -> None:
    """``work(rows)`` on slices of a's first axis, one per thread, when ``a`` is large.

    Small (or 0-d) arrays get one call, ``work(...)`` (an Ellipsis: the whole array).
    """
    if _threads == 1 or a.ndim == 0 or a.nbytes < _SPLIT_BYTES:
        work(...)
    else:
        run_chunks(a.shape[0], lambda lo, hi: work(slice(lo, hi)))
