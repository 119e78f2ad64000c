"""Keep freed array memory in the process: glibc malloc's thresholds, set once at import.

A training step allocates the same large arrays every time (activations of 2 to 8 MB, their
gradients, im2col blocks). NumPy takes them from the C library's ``malloc``. glibc's malloc
maps every block above its *mmap threshold* (128 KiB to start with) straight from the system
and unmaps it on ``free``, and gives the top of its heap back (``trim``) once more than the
*trim threshold* lies free there. It raises both thresholds by itself as it sees large blocks
freed, but not in every case: with neuralab's two threads (each thread's blocks come from its
own arena), ResNet-20's step at batch 128 kept 42k minor page faults per step (165 MB of fresh
pages the kernel had to zero and map, every step) against PyTorch's 30k (measured by
benchmarks/bench_memory.py). Each fault is a trap into the kernel and a page cleared.

Setting the thresholds explicitly (``mallopt``) keeps blocks up to ``mmap_threshold`` inside
malloc's heaps, where a freed block is reused by the next allocation of its size, and gives
memory back to the system only when more than ``trim_threshold`` lies free at the top of a
heap (glibc's own rule makes it twice the mmap threshold). One arena for all threads
(``arena_max``): a pool thread's own arena grows in separate 64 MiB heaps, and glibc unmaps such
a heap whenever it becomes entirely free, whatever the thresholds (with two threads, one
process in four still took 25k faults per step). Measured on ResNet-20 at batch 128: under 10
faults per step instead of 42k, with the same peak RSS (a step frees what it
allocated, so the retained memory is the memory the next step uses again). The price: memory a
program frees stays in the process (up to ``trim_threshold`` per heap) instead of going back to
the system, so a long-running program's RSS stays at its high-water mark.

``import neuralab`` calls :func:`tune_malloc` with the defaults. ``NEURALAB_MALLOC=system`` in
the environment (read at import) leaves malloc as it was; :func:`tune_malloc` can also be
called later with other sizes. Only glibc has these settings: elsewhere (macOS, Windows, musl)
this is a no-op and :func:`malloc_settings` returns None.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import warnings

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "ARENA_MAX", "tune_malloc", "malloc_settings",
           "tune_malloc_at_import"]

#: The largest block malloc keeps in its heaps (larger ones are mapped and unmapped each time):
#: the ceiling of glibc's own dynamic threshold on 64-bit systems (32 MiB, also the largest value
#: older glibc accepts), above ResNet-20's largest arrays at batch 128 (8 MiB).
MMAP_THRESHOLD = 32 << 20
#: Free memory at the top of a heap beyond this goes back to the system (twice the mmap
#: threshold, as glibc's own dynamic rule sets it).
TRIM_THRESHOLD = 64 << 20
#: Malloc arenas for all threads together: one, the main heap (see the module docstring).
ARENA_MAX = 1

# mallopt's parameter numbers, from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

_settings: dict[str, int] | None = None


def _glibc() -> ctypes.CDLL | None:
    """The running C library when it is glibc (whose mallopt this module calls), else None."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def tune_malloc(mmap_threshold: int = MMAP_THRESHOLD, trim_threshold: int = TRIM_THRESHOLD,
                arena_max: int = ARENA_MAX) -> bool:
    """Set glibc malloc's mmap and trim thresholds and its arena count for this process;
    whether they were set.

    Args:
        mmap_threshold: blocks up to this many bytes stay in malloc's heaps and are reused.
        trim_threshold: free memory at the top of a heap beyond this goes back to the system.
        arena_max: how many malloc arenas threads share (0: glibc's default, 8 per core);
            takes effect for threads that have not allocated yet.

    Returns:
        True on glibc, where both were accepted; False elsewhere (nothing is changed).
    """
    global _settings
    for name, value in (("mmap_threshold", mmap_threshold), ("trim_threshold", trim_threshold),
                        ("arena_max", arena_max)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"tune_malloc: {name} must be a non-negative int (bytes), got "
                             f"{value!r}")
    libc = _glibc()
    if libc is None:
        return False
    mallopt = libc.mallopt
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    if mallopt(_M_MMAP_THRESHOLD, mmap_threshold) != 1:
        raise ValueError(f"tune_malloc: glibc refused mmap_threshold={mmap_threshold}; older "
                         f"glibc accepts at most {MMAP_THRESHOLD} bytes")
    if mallopt(_M_TRIM_THRESHOLD, trim_threshold) != 1:
        raise ValueError(f"tune_malloc: glibc refused trim_threshold={trim_threshold}")
    if mallopt(_M_ARENA_MAX, arena_max) != 1:
        raise ValueError(f"tune_malloc: glibc refused arena_max={arena_max}")
    _settings = {"mmap_threshold": mmap_threshold, "trim_threshold": trim_threshold,
                 "arena_max": arena_max}
    return True


def malloc_settings() -> dict[str, int] | None:
    """The thresholds :func:`tune_malloc` set in this process, or None (not glibc, or
    ``NEURALAB_MALLOC=system``, or never called)."""
    return None if _settings is None else dict(_settings)


def tune_malloc_at_import() -> bool:
    """What ``import neuralab`` runs: :func:`tune_malloc` unless ``NEURALAB_MALLOC=system``."""
    choice = os.environ.get("NEURALAB_MALLOC", "tuned").strip().lower()
    if choice not in ("tuned", "system"):
        # A typo in the environment must not stop every program that imports neuralab: say so
        # once and leave malloc as the system set it.
        warnings.warn(f"NEURALAB_MALLOC must be 'tuned' or 'system', got {choice!r}; malloc "
                      "is left as the system set it", RuntimeWarning, stacklevel=2)
        return False
    return choice == "tuned" and tune_malloc()
