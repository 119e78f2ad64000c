"""Run directories: every training run leaves ``config.json``, ``metrics.jsonl`` and checkpoints.

    runs/mlp-mnist-20260101-120000/
        config.json        the settings of the run (command-line arguments, model, data)
        metrics.jsonl      one JSON object per epoch and phase (train, val, test)
        checkpoint.npz     the latest end-of-epoch state (model, optimizer, scheduler, RNG...)
        best.npz           the weights with the best validation metric (early stopping)
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from neuralab.fileio import atomic_write_bytes

__all__ = ["MetricsLog", "new_run_dir", "read_metrics", "write_config"]


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
    if hasattr(value, "item") and getattr(value, "size", 2) == 1:
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
        resumed run starts from), so the log of a resumed run reads like an uninterrupted one."""
        if not self.path.exists():
            return
        kept = [r for r in read_metrics(self.path) if r.get("epoch", 0) <= epoch]
        text = "".join(json.dumps(r) + "\n" for r in kept)
        atomic_write_bytes(self.path, text.encode("utf-8"))


def read_metrics(path: str | os.PathLike) -> list[dict]:
    """The records of a ``metrics.jsonl`` file (or of the one in a run directory)."""
    path = Path(path)
    if path.is_dir():
        path = path / "metrics.jsonl"
    records = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a line cut short by a crash
    return records
