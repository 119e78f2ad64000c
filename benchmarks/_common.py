"""Shared helpers of the benchmarks: thread settings, timing with repeats, machine details.

Call ``set_threads(n)`` *before* importing NumPy: OpenBLAS reads its thread count from the
environment when it loads (threadpoolctl, when installed, also adjusts it afterwards).
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def set_threads(n: int | None) -> None:
    """Use ``n`` BLAS threads in NumPy and ``n`` intra-op threads in PyTorch (None: defaults)."""
    if n is None:
        return
    for var in _THREAD_VARS:
        os.environ[var] = str(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:
        pass
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:
        pass


def blas_threads() -> str:
    """NumPy's BLAS thread count as far as it can be known."""
    try:
        from threadpoolctl import threadpool_info

        return ", ".join(f"{i['internal_api']} {i['num_threads']}" for i in threadpool_info())
    except ImportError:
        return os.environ.get("OPENBLAS_NUM_THREADS", "default (all cores)")


def machine_info() -> str:
    """One paragraph: Python, NumPy + BLAS, PyTorch + threads, CPU model and cores."""
    import numpy as np

    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    blas = "unknown BLAS"
    try:
        b = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{b.get('name')} {b.get('version')}"
    except Exception:  # noqa: BLE001 (older NumPy has no dict mode)
        pass
    text = (f"python {platform.python_version()}, numpy {np.__version__} ({blas}, threads: "
            f"{blas_threads()})")
    try:
        import torch

        text += f", torch {torch.__version__} (threads {torch.get_num_threads()})"
    except ImportError:
        text += ", torch not installed"
    return text + f", CPU {cpu}, {os.cpu_count()} logical cores"


def measure(fn: Callable[[], Any], repeats: int = 5, warmup: int = 1,
            clock: Callable[[], float] = time.perf_counter) -> list[float]:
    """Seconds of ``fn()`` over ``repeats`` runs, after ``warmup`` untimed runs.

    ``clock``: ``time.perf_counter`` (wall clock, the default) or ``time.process_time`` (the
    process's CPU time, user + system: steadier on a shared machine, with one thread).
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return times


def page_faults() -> int:
    """Minor page faults of this process so far (fresh memory pages the kernel had to map)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def summary(name: str, times: list[float]) -> str:
    """``name: median 1.234 s (min 1.200, max 1.300, n=5)``."""
    return (f"{name}: median {statistics.median(times):.3f} s (min {min(times):.3f}, "
            f"max {max(times):.3f}, n={len(times)})")


def neuralab_epoch(model: Any, optimizer: Any, loader: Any) -> Callable:
    """A function running one neuralab training epoch (cross-entropy) over ``loader``."""
    from neuralab.nn import functional as F

    def epoch() -> None:
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    return epoch


def torch_mnist_epoch(model: Any, optimizer: Any, data: Any, batch_size: int = 64) -> Callable:
    """A function running one PyTorch training epoch on the same uint8 MNIST images as
    neuralab's loader, standardised per batch in the same way, shuffled by a seeded generator."""
    import numpy as np
    import torch

    from neuralab.data import MNIST, Subset

    base = data.dataset if isinstance(data, Subset) else data
    rows = data.indices if isinstance(data, Subset) else np.arange(len(data))
    images = torch.from_numpy(base.data[rows])
    labels = torch.from_numpy(base.targets[rows])
    mean, std = MNIST.mean, MNIST.std
    gen = torch.Generator().manual_seed(0)

    def epoch() -> None:
        order = torch.randperm(len(images), generator=gen)
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            x = (images[idx].unsqueeze(1).float() / 255 - mean) / std
            loss = torch.nn.functional.cross_entropy(model(x), labels[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    return epoch
