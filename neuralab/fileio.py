"""Atomic file writes: a crash or Ctrl-C leaves the old file or none, never half of one.

Every file neuralab writes that a later run reads (downloads, decoded-image caches, checkpoints,
exported weights, run configurations) goes through :func:`atomic_path`: the content is written to
a temporary file in the same folder, flushed to disk, and renamed over the target with
``os.replace``, which is atomic on POSIX and Windows.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["atomic_path", "atomic_savez", "atomic_write_bytes"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it goes.

    Example:
        >>> with atomic_path("weights.safetensors") as tmp:
        ...     save_file(state, tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual mode
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_bytes(path: str | os.PathLike, content: bytes) -> None:
    """Write ``content`` to ``path`` atomically (flushed to disk before the rename)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())


def atomic_savez(path: str | os.PathLike, **arrays: Any) -> None:
    """``np.savez`` to ``path`` atomically; the arrays must not need pickle to be read back."""
    from neuralab.backend import xp

    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        xp.savez(fh, **arrays)
        fh.flush()
        os.fsync(fh.fileno())
