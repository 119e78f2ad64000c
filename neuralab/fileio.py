"""Atomic file writes: a crash or Ctrl-C leaves the old file or none, never half of one.

Every file neuralab writes that a later run reads (downloads, decoded-image caches, checkpoints,
exported weights, run configurations) goes through :func:`atomic_path`: the content is written to
a temporary file in the same folder, flushed to disk, and renamed over the target with
``os.replace``, which is atomic on POSIX and Windows.

A process killed in the middle of a write (``kill -9``, a power cut) leaves its temporary file
behind. Temporary names carry the writer's process id and host
(``.checkpoint.npz.12345@host.k3j9x.part``), so the next write of the same file removes the
leftovers of writers on this host that are no longer running, and never those of a live one.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from neuralab.backend import xp

__all__ = ["atomic_path", "atomic_savez", "atomic_write_bytes", "pid_alive",
           "remove_stale_parts"]

#: Temporary files in the old form (no process id in the name) older than this are leftovers.
_LEGACY_PART_AGE_S = 3600.0


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _host() -> str:
    # No dots or slashes: the owner is read back by splitting the file name at dots.
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in socket.gethostname())


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (a zombie counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def remove_stale_parts(path: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that interrupted writes of ``path`` left beside it.

    Only files whose writer (process id and host in the name) is no longer running on this
    host are removed, plus nameless old ones (over an hour). Returns the paths removed.
    """
    path = Path(path)
    prefix = f".{path.name}."
    removed = []
    try:
        candidates = [p for p in path.parent.iterdir()
                      if p.name.startswith(prefix) and p.name.endswith(".part")]
    except OSError:
        return removed
    host = _host()
    for part in candidates:
        owner = part.name[len(prefix):-len(".part")].rsplit(".", 1)[0]
        pid_text, _, owner_host = owner.partition("@")
        if owner_host:
            stale = owner_host == host and pid_text.isdigit() and not pid_alive(int(pid_text))
        else:
            try:
                stale = time.time() - part.stat().st_mtime > _LEGACY_PART_AGE_S
            except OSError:
                stale = False
        if stale:
            try:
                part.unlink()
                removed.append(part)
            except OSError:
                pass
    return removed


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it goes.

    Example:
        >>> with atomic_path("weights.safetensors") as tmp:
        ...     save_file(state, tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}@{_host()}.", suffix=".part",
                               dir=path.parent)
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
    arrays = {name: xp.asarray(value) for name, value in arrays.items()}
    for name, array in arrays.items():
        if array.dtype.hasobject:  # np.savez would pickle it
            raise TypeError(f"atomic_savez: entry {name!r} of {path} is not numeric "
                            f"(dtype {array.dtype}); neuralab never saves pickles")
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        xp.savez(fh, **arrays)
        fh.flush()
        os.fsync(fh.fileno())
