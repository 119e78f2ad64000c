"""Threads: how many cores neuralab uses, for which work, and what happens on a busy machine.

The policy (measured on the development machine, a 2-core AMD EPYC VM with NumPy's OpenBLAS
0.3.31; the figures are in BENCHMARKS.md, "Threads"):

1. **How many threads.** ``get_num_threads()`` is the most neuralab uses: the
   ``NEURALAB_NUM_THREADS`` environment variable, else ``OMP_NUM_THREADS``, else every core this
   process may run on (``os.sched_getaffinity``). ``set_num_threads(n)`` (torch's name) and
   ``neuralab train --threads N`` set it; ``set_num_threads(None)`` returns to the default.
   ``describe_threads()`` says which of these decided, and ``neuralab train`` prints it.

2. **Never more threads than free cores.** With the default count (not fixed by the user or an
   environment variable) neuralab looks, at most every ``ParallelOptions.check_seconds``
   (0.5 s: ~40 µs per look, reading ``/proc/stat``), how much CPU *other* processes used over
   the last interval, and uses only the cores they leave free, at least one:
   ``threads_in_use()`` = max(1, min(n, cores − round(others' cores))). Why: when the cores are
   taken, a second thread does not make a product faster but much slower. Measured with the
   machine at load 3-5 (other jobs), 40 products each, median (minimum): a 64×784×256 sgemm
   (an MLP layer) took 0.30 ms (0.30) in one thread, 48 ms (0.17) with OpenBLAS's two
   threads, 0.40 ms (0.38) split in two by neuralab's own pool: no collapse there, but no gain
   either. OpenBLAS's worker threads busy-wait for each other (and keep spinning for ~0.1 s
   after each call), so a descheduled one stalls the others for a whole time slice of the
   kernel's scheduler; threads that block instead (a ``ThreadPoolExecutor``'s) are woken
   promptly but still only share a core. ``OPENBLAS_THREAD_TIMEOUT=4`` (workers sleep almost
   at once; it must be set before NumPy loads) made it worse: 32 ms (24) for the same product,
   every call waiting for a sleeping worker to be scheduled. So the count follows the load
   instead; ResNet-20's step at load 7 with niced jobs ignored took 3.23 s with two threads
   against 2.27 s with one, hence niced jobs count too. A fixed count (by the user,
   or an environment variable) is obeyed as it is.

3. **Per operation, and never the BLAS's threads beside the pool's.** neuralab's blocked loops
   (convolution, batch norm, ReLU, the residual sum) hand their
   blocks to ``threads_in_use()`` threads of its own pool (``run_chunks``), the BLAS held to
   one thread inside each block. Elementwise passes over arrays below
   ``ParallelOptions.split_bytes`` (2 MiB) stay in one thread: a hand-off to another thread
   costs some 60 µs, and splitting LeNet-5's 1.2 MB activations made its step 1 ms slower
   while ResNet-20's (2 to 8 MB) gain. Matrix products the kernels split themselves
   (``matmul_rows``) stay whole below ``split_flops`` per thread. The matrix
   products of the reference ops (``nn.Linear``) go to the BLAS, which gets
   ``threads_in_use()`` threads only while the pool has been idle for two looks (a model of
   matrix products alone, an MLP; OpenBLAS itself keeps small products in one thread), and one
   thread otherwise: OpenBLAS's idle workers spin for ~0.1 s after each call, on the cores the
   pool's threads need. Measured on LeNet-5 (batch 64, two threads fixed, load 9 from other
   jobs): 202 ms a step (67 ms of CPU) with the BLAS's workers left spinning beside the pool,
   34 ms (9.4 ms of CPU) without; 27 ms (7.7 ms of CPU) with one thread. Splitting the LSTM's
   batch between the pool's threads instead (each running the loop over time on its rows,
   one-thread BLAS) was tried and lost: 121-137 ms a step (T=100, N=32, H=256) against 93-107
   ms with OpenBLAS's two threads (two rounds, the benchmark's scheduling group at the top
   priority on the loaded machine), so the recurrent layers keep the BLAS's threads.
   Work given to the pool should be few long NumPy calls per thread: each call takes the GIL
   back, and two threads making many short calls wait for each other (batch norm over 8 MiB
   with two threads: 5.4 ms in 128 KiB blocks, 2.2 ms in 512 KiB blocks, 1.2 ms in one block
   per thread, 2.1 ms in one thread; kernels.norm). LeNet-5's batch-last convolutions were
   slower in the pool than in one thread at every batch size measured and stay in one
   (kernels.conv.ConvOptions.batch_last_threads); BENCHMARKS.md, "perf session".

4. **No spinning idle threads** of neuralab's own: the pool's threads block on a queue. The
   BLAS's threads spin only while the BLAS has several (a quiet machine, the pool idle).

**Results and the load.** neuralab's own loops cut their work into ``get_num_threads()`` chunks
whatever the load (the load decides how many run at once), so their sums over chunks (weight
gradients, batch statistics) do not change with other processes' CPU use; they change with
``get_num_threads()``, in the last bits, as PyTorch's do with its thread count. The BLAS's own
thread count does follow the load (point 3), and OpenBLAS sums some products (an MLP layer's
64×784×256, not the convolutions' im2col products) in another order with two threads than
with one. So a run that must be bitwise repeatable on a machine whose load varies (a
comparison of two runs, a resumed run against an uninterrupted one) fixes the count:
``--threads N``, ``NEURALAB_NUM_THREADS`` or ``set_num_threads(n)``.
"""

from __future__ import annotations

import ctypes
import math
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import Any

__all__ = ["ParallelOptions", "get_options", "set_options", "options", "get_num_threads",
           "set_num_threads", "threads_in_use", "describe_threads", "set_blas_threads",
           "follow_load"]


@dataclass(frozen=True)
class ParallelOptions:
    """The tuning options of the thread policy (see the module docstring for the measurements).

    Attributes:
        split_bytes: elementwise passes (ReLU, the residual sum) over arrays from this size on
            are split between threads; smaller ones stay in the calling thread.
        split_flops: matrix products through ``matmul_rows`` are split between threads only
            with at least this many FLOPs per thread: a hand-off to the pool costs some 60 µs,
            3 to 6 MFLOP of one core's sgemm (90-100 GFLOP/s here), so a chunk is at least
            about twice that (an estimate from those two figures, not tuned by measurement).
        check_seconds: how often, at most, the default policy looks at the other processes'
            CPU use (in seconds; each look reads /proc/stat, ~40 µs).
        follow_load: whether the default thread count gives way to other processes (False:
            always ``get_num_threads()`` threads, as a count fixed by the user is).
    """

    split_bytes: int = 2 << 20
    split_flops: int = 8_000_000
    check_seconds: float = 0.5
    follow_load: bool = True


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _from_environment() -> tuple[int, str, bool]:
    """(threads, why, fixed): an environment variable fixes the count; else all cores."""
    for var in ("NEURALAB_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value), f"{var}={value}", True
        if var == "NEURALAB_NUM_THREADS" and value.strip():  # (OMP's may be a nested list)
            warnings.warn(f"NEURALAB_NUM_THREADS must be a positive whole number, got {value!r}; "
                          "the default count is used", RuntimeWarning, stacklevel=2)
    return _cores(), "all cores", False


class _State:
    """The thread policy's state (one per process)."""

    options = ParallelOptions()
    threads, why, fixed = _from_environment()
    active = threads  # threads_in_use(): ≤ threads, fewer while other processes use the cores
    others = 0.0  # other processes' CPU use over the last interval, in cores
    checked_at = -math.inf  # time.monotonic() of the last look at the load
    machine_busy = 0.0  # CPU seconds the machine's cores (ours) had been busy at that look
    own_cpu = 0.0  # and this process's CPU seconds then
    blas = 0  # the BLAS thread count neuralab last set (0: not yet)
    pool_used_at = -math.inf  # time.monotonic() when a loop last ran on several threads


_state = _State()
_pool: ThreadPoolExecutor | None = None
# Held while a parallel loop runs: a loop started meanwhile (inside it, or from another Python
# thread) runs in its own thread instead of waiting for the pool.
_busy = threading.Lock()


def _forget_pool_after_fork() -> None:
    """A forked child has none of the parent's threads: it starts its own pool when needed."""
    global _pool, _busy
    _pool, _busy = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


# ----------------------------------------------------------------------------- options
def get_options() -> ParallelOptions:
    """The options the thread policy uses now."""
    return _state.options


def set_options(new: ParallelOptions | None = None, **changes: Any) -> ParallelOptions:
    """Replace the options (a whole ParallelOptions, or some fields by name); returns the
    previous. ``set_options()`` with no arguments restores the defaults."""
    names = {f.name for f in fields(ParallelOptions)}
    unknown = sorted(set(changes) - names)
    if unknown:
        raise TypeError(f"set_options: ParallelOptions has no field {', '.join(unknown)}; the "
                        f"fields are {', '.join(sorted(names))}")
    previous = _state.options
    base = ParallelOptions() if new is None and not changes else (new or previous)
    _state.options = replace(base, **changes)
    return previous


@contextmanager
def options(**changes: Any) -> Iterator[ParallelOptions]:
    """``with options(split_bytes=0): ...`` changes some options for a block."""
    previous = set_options(**changes)
    try:
        yield _state.options
    finally:
        set_options(previous)


# ----------------------------------------------------------------------------- the count
def get_num_threads() -> int:
    """The most threads neuralab uses (its blocked loops and NumPy's BLAS); torch's name.

    With the default policy fewer are used while other processes keep the cores busy:
    ``threads_in_use()`` says how many now.
    """
    return _state.threads


def threads_in_use() -> int:
    """How many threads neuralab's loops and the BLAS use now (see the module docstring)."""
    return _state.active


def set_num_threads(n: int | None) -> bool:
    """Use at most ``n`` threads in neuralab's blocked loops and NumPy's BLAS (torch's name).

    A number fixes the count: neuralab then uses ``n`` threads whatever the machine's load.
    ``None`` returns to the default policy (the environment variables, else all cores, fewer
    while other processes keep them busy).

    Args:
        n: a positive int (1 runs everything in the calling thread), or None.

    Returns:
        Whether NumPy's BLAS was found and set (see ``set_blas_threads``).
    """
    global _pool
    if n is None:
        threads, why, fixed = _from_environment()
    elif isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive int or None, got {n!r}")
    else:
        threads, why, fixed = n, f"set_num_threads({n})", True
    if threads != _state.threads and _pool is not None:
        _pool.shutdown(wait=True)
        _pool = None
    _state.threads, _state.why, _state.fixed = threads, why, fixed
    follow_load()  # the last look at the other processes' load still counts
    return _set_blas(_state.blas or 1)  # as follow_load chose (1 inside a running loop)


def describe_threads() -> str:
    """How many threads and why, for a program's header: ``2 (all cores; ...; NEURALAB_NUM_THREADS
    or --threads to change)``."""
    follow_load()
    n, active = _state.threads, _state.active
    if _state.fixed:
        return f"{n} ({_state.why})"
    if active < n:
        return (f"{active} of {n} now (other processes use {_state.others:.1f} of the "
                f"{_cores()} cores; NEURALAB_NUM_THREADS or --threads to change)")
    adaptive = "; fewer while other processes use them" if _state.options.follow_load else ""
    return f"{n} ({_state.why}{adaptive}; NEURALAB_NUM_THREADS or --threads to change)"


def _now() -> float:
    return time.monotonic()


def _own_cpu_seconds() -> float:
    """CPU seconds this process has used, all its threads (spinning BLAS threads included)."""
    return time.process_time()


def _load_average() -> float:
    return os.getloadavg()[0]


def _cpu_seconds_busy() -> float | None:
    """CPU seconds the cores this process may use have been busy (all processes), or None.

    Busy = user + nice + system + irq + softirq + steal (a VM's host gave the time to another
    guest) from /proc/stat's per-core lines; idle and iowait are free time. Niced processes
    count too: with five nice-10 jobs and one nice-0 job (0.4 core) beside it, ResNet-20's
    step took 3.23 s with two threads against 2.27 s with one (medians of 5, one after the other).
    """
    try:
        with open("/proc/stat", "rb") as fh:
            text = fh.read().decode("ascii", "replace")
    except OSError:  # not Linux
        return None
    try:
        mine = os.sched_getaffinity(0)
    except AttributeError:
        mine = None
    ticks = 0
    for line in text.splitlines():
        if not line.startswith("cpu") or line.startswith("cpu "):
            continue
        name, *values = line.split()
        if mine is not None and int(name[3:]) not in mine:
            continue
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, values[:8])
        ticks += user + nice + system + irq + softirq + steal
    return ticks / os.sysconf("SC_CLK_TCK")


def follow_load() -> int:
    """Look at the other processes' CPU use (at most every ``check_seconds``) and set how many
    threads to use now; returns ``threads_in_use()``.

    Called by neuralab's parallel loops and once per backward pass; with a fixed count it
    looks all the same but uses the count, and with ``follow_load=False`` it does not look.
    """
    state = _state
    now = _now()
    # Looked at also while the count is fixed, so that the interval seen when the default
    # returns is a recent one.
    if state.options.follow_load and now - state.checked_at >= state.options.check_seconds:
        busy, own = _cpu_seconds_busy(), _own_cpu_seconds()
        if busy is None:  # no /proc/stat: nothing known about other processes
            state.others = 0.0
        elif state.checked_at == -math.inf:  # first look: the 1-minute load average
            state.others = max(0.0, _load_average() - 1.0)
        else:
            wall = now - state.checked_at
            state.others = max(0.0, (busy - state.machine_busy - (own - state.own_cpu)) / wall)
        state.others = min(state.others, float(_cores()))
        state.checked_at, state.machine_busy, state.own_cpu = now, busy or 0.0, own
    if state.fixed or not state.options.follow_load:
        state.active = state.threads
    else:
        free = _cores() - math.floor(state.others + 0.5)
        state.active = max(1, min(state.threads, free))
    # The BLAS gets several threads only while neuralab's pool is idle (a model whose work is
    # all matrix products, an MLP); never both, or the BLAS's spinning workers take the cores
    # the pool's threads need (see the module docstring, point 4).
    pool_idle = now - state.pool_used_at > 2 * state.options.check_seconds
    blas = state.active if pool_idle else 1
    if state.blas != blas and not _busy.locked():
        _set_blas(blas)
    return state.active


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


def _set_blas(n: int) -> bool:
    _state.blas = n
    return set_blas_threads(n)


def set_blas_threads(n: int) -> bool:
    """Limit NumPy's BLAS to ``n`` threads; returns whether a BLAS library was found and set.

    neuralab sets this itself (to ``threads_in_use()``); the next ``set_num_threads`` or change
    of load overrides a value set here.
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
def run_chunks(n_items: int, work: Callable[[int, int], Any],
               max_threads: int | None = None) -> list[Any]:
    """``work(lo, hi)`` on contiguous chunks of range(n_items); results in chunk order.

    As many chunks as ``get_num_threads()`` (at most ``max_threads``), whatever the load: the
    load decides only how many of them run at once (``threads_in_use()``), so sums over chunks,
    which the caller adds in chunk order, come out the same on a busy machine as on a quiet
    one. The first thread is the calling one, and the BLAS is held to one thread meanwhile.
    ``work`` must write only to its own items' outputs and scratch arrays.
    """
    global _pool
    chunks = min(_state.threads, n_items, max_threads or n_items)
    active = min(follow_load(), chunks)
    if not _busy.acquire(blocking=False):  # inside a parallel loop, or another Python thread's
        return [work(0, n_items)]
    try:
        # The BLAS gets one thread for the loop, also when it runs in this thread alone: its
        # workers would otherwise wake and spin for ~0.1 s on the core the pool needs next.
        blas = _openblas() if _state.blas != 1 else []
        saved = [getter() for getter, _ in blas]
        for _, setter in blas:
            setter(ctypes.c_int(1))
        try:
            bounds = [n_items * t // chunks for t in range(chunks + 1)]

            def run_share(first: int) -> list[Any]:  # chunks first, first + active, ...
                return [work(bounds[t], bounds[t + 1]) for t in range(first, chunks, active)]

            if active <= 1:
                return run_share(0)
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=_state.threads - 1,
                                           thread_name_prefix="neuralab")
            _state.pool_used_at = _now()
            futures = [_pool.submit(run_share, t) for t in range(1, active)]
            try:
                shares = [run_share(0)]
            finally:
                wait(futures)  # every chunk done before the BLAS gets its threads back
            shares += [f.result() for f in futures]
            return [shares[t % active][t // active] for t in range(chunks)]
        finally:
            for (_, setter), n in zip(blas, saved):
                setter(ctypes.c_int(n))
    finally:
        _busy.release()


def product_threads(flops: int) -> int:
    """How many threads a matrix product of ``flops`` may be split between: at least
    ``ParallelOptions.split_flops`` per thread, at most ``get_num_threads()`` (a ``max_threads``
    for ``run_chunks``)."""
    return max(1, min(_state.threads, flops // max(1, _state.options.split_flops)))


def matmul_rows(a: Any, b: Any, max_threads: int | None = None) -> Any:
    """a (M, K) @ b (K, Q) with a's rows split between threads when the product is large
    (between at most ``max_threads``).

    In neuralab's pool rather than the BLAS's threads, so that the BLAS's spinning workers are
    not left competing with the pool's threads in the loops that follow.
    """
    from neuralab.backend import xp

    M, K = a.shape
    out = xp.empty((M, b.shape[1]), dtype=xp.result_type(a, b))
    run_chunks(M, lambda lo, hi: xp.matmul(a[lo:hi], b, out=out[lo:hi]),
               max_threads=min(product_threads(2 * M * K * b.shape[1]), max_threads or M))
    return out


def over_rows(a: Any, work: Callable[[Any], Any], axis: int = 0) -> None:
    """``work(index)`` on slices of a's ``axis`` (``a[index]``), one per thread, when ``a`` is
    large.

    Small (or 0-d) arrays, below ``ParallelOptions.split_bytes``, get one call, ``work(...)``
    (an Ellipsis: the whole array). Split the axis that is outermost in memory (axis 1, the
    channels, of a batch-last array), so that each thread walks long contiguous runs.
    """
    if _state.threads == 1 or a.ndim == 0 or a.nbytes < _state.options.split_bytes:
        work(...)
    else:
        lead = (slice(None),) * axis
        run_chunks(a.shape[axis], lambda lo, hi: work((*lead, slice(lo, hi)) if axis else
                                                      slice(lo, hi)))
