"""How many threads NumPy's BLAS uses, changed at run time (``neuralab train --threads``).

Small matrix products (a batch of 64 through a 784-256 layer) gain little from several BLAS
threads, and on a busy machine OpenBLAS threads that spin while waiting for each other can make
training many times slower. ``threadpoolctl`` does this properly when installed; otherwise the
OpenBLAS library loaded by NumPy is found in the process's memory map and told directly.
"""

from __future__ import annotations

import ctypes

__all__ = ["set_blas_threads"]

_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
            "openblas_set_num_threads64_", "openblas_set_num_threads")


def set_blas_threads(n: int) -> bool:
    """Limit NumPy's BLAS to ``n`` threads; returns whether a BLAS library was found and set."""
    if n < 1:
        raise ValueError(f"set_blas_threads: n must be >= 1, got {n}")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        pass
    else:
        threadpool_limits(n, user_api="blas")
        return True
    from neuralab.backend import xp  # noqa: F401  (NumPy, and with it the BLAS library, loaded)

    try:
        with open("/proc/self/maps", encoding="utf-8") as fh:
            paths = {line.split()[-1] for line in fh
                     if "openblas" in line.lower() and line.split()[-1].startswith("/")}
    except OSError:  # not Linux
        return False
    done = False
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _SETTERS:
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(ctypes.c_int(n))
                done = True
                break
    return done
