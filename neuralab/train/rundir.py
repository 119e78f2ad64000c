"""Run directories: every training run leaves ``config.json``, ``metrics.jsonl`` and checkpoints.

    runs/mlp-mnist-20260101-120000/
        config.json        the settings of the run (command-line arguments, model, data)
        metrics.jsonl      one JSON object per epoch and phase (train, val, test)
        checkpoint.npz     the latest end-of-epoch state (model, optimizer, scheduler, RNG...)
        best.npz           the weights with the best validation metric (early stopping)
        .lock              while a process trains in it: that process's id, host and start time

Only one process at a time may write a run directory: ``lock_run_dir`` creates ``.lock``
exclusively, and a second ``neuralab train --resume`` of the same run is refused with the id
of the process holding it. A lock left by a process that no longer runs (killed with
``kill -9``) is recognised as stale and taken over.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from neuralab.fileio import atomic_write_bytes, pid_alive

__all__ = ["LOCK", "MetricsLog", "RunDirLocked", "lock_run_dir", "new_run_dir", "read_metrics",
           "write_config"]

LOCK = ".lock"
# Run directories this process holds (resolved path -> depth), so that the CLI and the Trainer
# it drives can both take the lock.
_HELD: dict[str, int] = {}


class RunDirLocked(RuntimeError):
    """Another live process is writing this run directory."""


def _read_lock(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _lock_is_stale(path: Path, owner: dict | None) -> bool:
    if owner is None:
        # Unreadable: a writer between creating and filling it, or a crash in that instant.
        try:
            return time.time() - path.stat().st_mtime > 10.0
        except OSError:
            return True
    pid = owner.get("pid")
    return (owner.get("host") == socket.gethostname() and isinstance(pid, int)
            and not pid_alive(pid))


@contextmanager
def lock_run_dir(run_dir: str | os.PathLike) -> Iterator[Path]:
    """Hold the run directory's ``.lock`` for the duration of the ``with`` block.

    Re-entrant within one process. A lock whose process has died on this host is taken over.

    Raises:
        RunDirLocked: another live process holds the lock; the message names it.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    key = str(run_dir.resolve())
    lock = run_dir / LOCK
    if _HELD.get(key):
        _HELD[key] += 1
        try:
            yield lock
        finally:
            _HELD[key] -= 1
        return
    me = {"pid": os.getpid(), "host": socket.gethostname(),
          "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    for attempt in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            owner = _read_lock(lock)
            if attempt == 0 and _lock_is_stale(lock, owner):
                try:
                    lock.unlink()
                except FileNotFoundError:
                    pass
                continue
            who = (f"process {owner.get('pid')} on {owner.get('host')} (since "
                   f"{owner.get('started')})" if owner else "another process")
            raise RunDirLocked(
                f"run directory {run_dir} is in use by {who}: two processes must not train "
                f"the same run; wait for it to finish, or delete {lock} if that process is "
                "gone") from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(me) + "\n")
        break
    _HELD[key] = 1
    try:
        yield lock
    finally:
        del _HELD[key]
        if (_read_lock(lock) or {}).get("pid") == os.getpid():
            try:
                lock.unlink()
            except FileNotFoundError:
                pass


def new_run_dir(out: str | os.PathLike, name: str) -> Path:
    """Create ``out/name-YYYYmmdd-HHMMSS`` (with a suffix if it exists) and return it."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path(out) / f"{name}-{stamp}"
    path, i = base, 1
    while path.exists():
        path, i = Path(f"{base}-{i}"), i + 1
    path.mkdir(parents=True)
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "item") and getattr(value, "size", 2) == 1:  # a user's NumPy scalar
        return value.item()
    return str(value)


def write_config(run_dir: str | os.PathLike, config: dict) -> None:
    """Write ``config.json`` (atomically)."""
    text = json.dumps(_jsonable(config), indent=2, sort_keys=True) + "\n"
    atomic_write_bytes(Path(run_dir) / "config.json", text.encode("utf-8"))


class MetricsLog:
    """Appends one JSON object per line to ``metrics.jsonl``."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def write(self, record: dict) -> None:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(_jsonable(record)) + "\n")

    def truncate_after(self, epoch: int) -> None:
        """Drop the records of epochs after ``epoch`` (those not covered by the checkpoint a
        resumed run starts from) and the test records (a resumed run tests again at its new
        end), so the log of a resumed run reads like an uninterrupted one."""
        if not self.path.exists():
            return
        kept = [r for r in read_metrics(self.path)
                if r.get("epoch", 0) <= epoch and r.get("phase") != "test"]
        text = "".join(json.dumps(r) + "\n" for r in kept)
        atomic_write_bytes(self.path, text.encode("utf-8"))


def read_metrics(path: str | os.PathLike) -> list[dict]:
    """The records of a ``metrics.jsonl`` file (or of the one in a run directory)."""
    path = Path(path)
    if path.is_dir():
        path = path / "metrics.jsonl"
    records = []
    # A line cut short by a crash (even inside a UTF-8 sequence) is skipped.
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                record = json.loads(line) if line.strip() else None
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                records.append(record)
    return records
