"""Checkpoints without pickle: arrays in a ``.npz`` file, everything else as JSON inside it.

``np.load(..., allow_pickle=False)`` can read every file written here, so a checkpoint from an
untrusted source cannot run code. Files are written to a temporary name in the same folder and
then renamed with ``os.replace``, so an interrupted save never leaves a half-written checkpoint.

A checkpoint is a nested structure (dicts, lists, tuples, numbers, strings, arrays): the arrays
are stored as separate npz entries and the rest of the structure as JSON under ``__tree__``.
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.fileio import atomic_savez

__all__ = ["CheckpointError", "load", "load_state_dict", "save", "save_state_dict"]


class CheckpointError(ValueError):
    """A checkpoint file cannot be read, or does not fit what it is loaded into; the message
    names the file."""


# What NumPy, zipfile and json raise on a truncated, corrupt or foreign file.
_READ_ERRORS = (OSError, EOFError, ValueError, KeyError, IndexError, TypeError,
                zipfile.BadZipFile)

_TREE = "__tree__"


def _array_of(value: Any) -> Any:
    return value.array if isinstance(value, Tensor) else value


def save_state_dict(path: str | os.PathLike, state_dict: dict[str, Any]) -> None:
    """Save a model's ``state_dict()`` (name -> array) as a flat ``.npz`` file, atomically.

    The keys are PyTorch's parameter names (``features.0.weight``), one npz entry each.
    """
    arrays = {}
    for name, value in state_dict.items():
        array = xp.asarray(_array_of(value))
        if array.dtype.kind == "O":
            raise TypeError(f"save_state_dict: entry {name!r} is not numeric ({type(value)})")
        arrays[name] = array
    atomic_savez(path, **arrays)


def load_state_dict(path: str | os.PathLike) -> dict[str, Any]:
    """Read a file written by ``save_state_dict`` (or the model part of a checkpoint).

    Raises:
        CheckpointError: the file is missing, truncated or not such a file (naming it).
    """
    try:
        with xp.load(path, allow_pickle=False) as npz:
            if _TREE not in npz.files:
                return {name: npz[name] for name in npz.files}
    except _READ_ERRORS as err:
        raise CheckpointError(f"load_state_dict: cannot read {path}: {_reason(err)}") from None
    tree = load(path)
    if isinstance(tree, dict) and isinstance(tree.get("model"), dict):
        return tree["model"]
    raise CheckpointError(f"load_state_dict: {path} is a checkpoint without a 'model' entry")


def _reason(err: BaseException) -> str:
    if isinstance(err, FileNotFoundError):
        return "the file does not exist"
    text = str(err) or type(err).__name__
    if isinstance(err, KeyError):
        text = f"missing entry {text}"
    return f"{text} ({type(err).__name__}); the file is truncated, corrupt or not a neuralab " \
        "checkpoint"


def _encode(value: Any, arrays: dict[str, Any]) -> Any:
    value = _array_of(value)
    if isinstance(value, xp.ndarray):
        if value.dtype.kind == "O":
            raise TypeError("checkpoint: object arrays cannot be saved without pickle")
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"__array__": key}
    if isinstance(value, xp.generic):
        key = f"a{len(arrays)}"
        arrays[key] = xp.asarray(value)
        return {"__scalar__": key}
    if isinstance(value, dict):
        return {"__dict__": [[_encode_key(k), _encode(v, arrays)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return [_encode(v, arrays) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, float) and not xp.isfinite(value):
            return {"__float__": repr(value)}
        return value
    raise TypeError(f"checkpoint: cannot save a value of type {type(value).__name__} without "
                    "pickle; convert it to arrays, numbers, strings, lists or dicts")


def _encode_key(key: Any) -> Any:
    if isinstance(key, (str, int)) and not isinstance(key, bool):
        return key
    raise TypeError(f"checkpoint: dict keys must be str or int, got {key!r}")


def _decode(node: Any, npz: Any) -> Any:
    if isinstance(node, list):
        return [_decode(v, npz) for v in node]
    if isinstance(node, dict):
        if "__array__" in node:
            return npz[node["__array__"]]
        if "__scalar__" in node:
            return npz[node["__scalar__"]][()]
        if "__dict__" in node:
            return {k: _decode(v, npz) for k, v in node["__dict__"]}
        if "__tuple__" in node:
            return tuple(_decode(v, npz) for v in node["__tuple__"])
        if "__float__" in node:
            return float(node["__float__"])
    return node


def save(path: str | os.PathLike, tree: Any) -> None:
    """Save a nested structure of dicts/lists/tuples/numbers/strings/arrays, atomically.

    Example:
        >>> save("run/checkpoint.npz", {"model": model.state_dict(),
        ...                            "optimizer": optimizer.state_dict(), "epoch": 3})
    """
    arrays: dict[str, Any] = {}
    encoded = _encode(tree, arrays)
    arrays[_TREE] = xp.frombuffer(json.dumps(encoded).encode("utf-8"), dtype=xp.uint8)
    atomic_savez(path, **arrays)


def load(path: str | os.PathLike) -> Any:
    """Load what ``save`` wrote (arrays come back as ndarrays, tuples as tuples).

    Raises:
        CheckpointError: the file is missing, truncated, corrupt or not written by ``save``;
            the message names the file (NumPy, zip and JSON errors never escape bare).
    """
    try:
        with xp.load(path, allow_pickle=False) as npz:
            files = npz.files
            if _TREE not in files:
                raise CheckpointError(f"checkpoint.load: {path} has no {_TREE} entry; was it "
                                      "written by save_state_dict? Use load_state_dict for that")
            tree = json.loads(npz[_TREE].tobytes().decode("utf-8"))
            return _decode(tree, {k: npz[k] for k in files if k != _TREE})
    except CheckpointError:
        raise
    except _READ_ERRORS as err:
        raise CheckpointError(f"checkpoint.load: cannot read {path}: {_reason(err)}") from None
