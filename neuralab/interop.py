"""Weights in and out of neuralab: PyTorch state dicts, safetensors and npz files.

neuralab modules use PyTorch's parameter names and layouts (``features.0.weight`` of shape
(C_out, C_in, kh, kw), ``bn1.running_mean``...), so moving weights between the two libraries is a
matter of converting arrays, not of renaming:

    >>> model = neuralab.models.create("resnet18")
    >>> load_torch_state_dict(model, torchvision_model.state_dict())   # torch -> neuralab
    >>> sd = to_torch_state_dict(model)                                # neuralab -> numpy dict
    >>> torch_model.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})

This module never imports torch: torch tensors are recognised by their ``detach``/``cpu``/``numpy``
methods. ``.safetensors`` files are read by ``read_safetensors`` (the format is an 8-byte length,
a JSON header and the raw data; bfloat16 is widened to float32); the safetensors package (in the
``train`` extra) is imported only to write them.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.fileio import atomic_path
from neuralab.nn.module import Module

__all__ = ["export_state_dict", "load_torch_state_dict", "read_safetensors",
           "to_torch_state_dict"]


def _safetensors_numpy() -> Any:
    try:
        import safetensors.numpy as st
    except ImportError as exc:
        raise ImportError(
            "interop: writing .safetensors files needs the safetensors package; "
            "install it with `pip install safetensors` (or `pip install neuralab[train]`), or "
            "use format='npz'"
        ) from exc
    return st


def _to_array(name: str, value: Any) -> Any:
    """A torch tensor, Tensor, ndarray or number as an ndarray (torch detected by duck typing)."""
    if isinstance(value, Tensor):
        return value.array
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):
        # torch.Tensor: bfloat16 has no NumPy dtype, so widen it first.
        tensor = value.detach().cpu()
        if str(getattr(tensor, "dtype", "")) == "torch.bfloat16":
            tensor = tensor.float()
        return tensor.numpy()
    try:
        return xp.asarray(value)
    except Exception as exc:
        raise TypeError(f"load_torch_state_dict: entry {name!r} is a {type(value).__name__}, "
                        "not an array or tensor") from exc


# safetensors dtype names -> NumPy dtypes (little-endian); BF16 is widened to float32 on reading.
_ST_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8",
              "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?", "U16": "<u2",
              "U32": "<u4", "U64": "<u8"}
_ST_MAX_HEADER = 100 << 20  # the format's own limit on the JSON header (100 MB)


def read_safetensors(path: str | os.PathLike) -> dict[str, Any]:
    """Read a ``.safetensors`` file into ``{name: ndarray}``, checking its header.

    The format: an 8-byte little-endian header length n, n bytes of JSON mapping each tensor's
    name to its ``dtype``, ``shape`` and ``data_offsets`` [begin, end) in the data that follows.
    bfloat16 tensors (``BF16``, the upper 16 bits of a float32) are widened to float32, as a
    dict of torch bf16 tensors is by ``load_torch_state_dict``.

    Raises:
        ValueError: the file is truncated or its header is damaged (naming the file and entry).
    """
    path = Path(path)
    raw = path.read_bytes()

    def bad(why: str) -> ValueError:
        return ValueError(f"safetensors: {path} is damaged or not a safetensors file: {why}")

    if len(raw) < 8:
        raise bad(f"it holds {len(raw)} bytes, less than the 8-byte header length")
    n = int.from_bytes(raw[:8], "little")
    if n > min(_ST_MAX_HEADER, len(raw) - 8):
        raise bad(f"the header length {n:,} exceeds the file's {len(raw) - 8:,} remaining bytes "
                  "(truncated?)")
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise bad(f"the JSON header does not parse ({err})") from None
    if not isinstance(header, dict):
        raise bad("the header is not a JSON object")
    data = memoryview(raw)[8 + n:]
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype = xp.dtype(_ST_DTYPES[entry["dtype"]])
            shape = tuple(int(d) for d in entry["shape"])
            begin, end = (int(o) for o in entry["data_offsets"])
        except (KeyError, TypeError, ValueError) as err:
            raise bad(f"entry {name!r} has no valid dtype/shape/data_offsets ({err!r}); "
                      f"dtypes read: {', '.join(_ST_DTYPES)}") from None
        if any(d < 0 for d in shape) or not 0 <= begin <= end <= len(data) or \
                end - begin != math.prod(shape) * dtype.itemsize:
            raise bad(f"entry {name!r} ({entry['dtype']} {list(shape)}) has data_offsets "
                      f"[{begin}, {end}) that do not fit its size or the file's "
                      f"{len(data):,} data bytes (truncated?)")
        array = xp.frombuffer(data[begin:end], dtype=dtype).reshape(shape)
        if entry["dtype"] == "BF16":
            array = (array.astype(xp.uint32) << 16).view(xp.float32)
        out[name] = array.astype(array.dtype.newbyteorder("="), copy=True)
    return out


def _read_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"load_torch_state_dict: file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        return read_safetensors(path)
    if suffix == ".npz":
        try:
            with xp.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as err:
            raise ValueError(f"load_torch_state_dict: cannot read {path}: {err or type(err)}; "
                             "the file is truncated, corrupt or not an .npz of arrays") from None
    raise ValueError(
        f"load_torch_state_dict: cannot read {path.name}: expected a .safetensors or .npz file "
        "(for a torch .pt/.pth checkpoint, torch.load it yourself and pass the dict)"
    )


def load_torch_state_dict(model: Any, state_dict_or_path: Any, strict: bool = True) -> Any:
    """Copy weights from a PyTorch state dict (or a ``.safetensors``/``.npz`` file) into ``model``.

    Args:
        model: a neuralab ``Module`` with the same architecture (same key names and shapes).
        state_dict_or_path: a mapping name -> torch tensor / ndarray / Tensor, or a path to a
            ``.safetensors`` or ``.npz`` file. A ``{"state_dict": ...}`` checkpoint and the
            ``module.`` prefix of ``DataParallel`` are unwrapped.
        strict: require exactly the model's keys (missing or unexpected keys raise).

    Returns:
        The ``(missing_keys, unexpected_keys)`` result of ``model.load_state_dict``.

    Raises:
        KeyError / ValueError: from ``load_state_dict``, naming the keys or shapes that differ.
    """
    if isinstance(state_dict_or_path, (str, os.PathLike)):
        state = _read_file(Path(state_dict_or_path))
    elif isinstance(state_dict_or_path, Mapping):
        state = dict(state_dict_or_path)
    else:
        raise TypeError(
            f"load_torch_state_dict: expected a state dict or a file path, got "
            f"{type(state_dict_or_path).__name__}"
        )
    if isinstance(state.get("state_dict"), Mapping):  # a training checkpoint
        state = dict(state["state_dict"])
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    arrays = {name: _to_array(name, value) for name, value in state.items()}
    if not isinstance(model, Module):
        raise TypeError(f"load_torch_state_dict: model must be a neuralab nn.Module, got "
                        f"{type(model).__name__}")
    own = model._state_tensors()  # the live tensors: no copy of a 138M-parameter VGG
    # Keep each array in the dtype of the model's own entry (float64 checkpoints into a float32
    # model, int64 num_batches_tracked): load_state_dict copies the values.
    for name, value in arrays.items():
        if name in own and value.dtype != own[name].dtype:
            arrays[name] = value.astype(own[name].dtype)
    return model.load_state_dict(arrays, strict=strict)


def to_torch_state_dict(model: Any) -> dict[str, Any]:
    """The model's parameters and persistent buffers as ``{torch key: ndarray}`` (copies).

    ``num_batches_tracked`` is int64 and every float array keeps its dtype, as PyTorch expects;
    convert with ``{k: torch.from_numpy(v) for k, v in sd.items()}``.
    """
    return {name: xp.array(value, copy=True) for name, value in model.state_dict().items()}


def export_state_dict(model: Any, path: str | os.PathLike | None = None,
                      format: str = "safetensors") -> dict[str, Any]:
    """Save the model's state dict to ``path`` (atomically) and return it as numpy arrays.

    Args:
        model: a neuralab ``Module``.
        path: destination file; None only returns the dict. The suffix is not changed.
        format: ``'safetensors'`` (loadable by ``safetensors.torch.load_file``) or ``'npz'``.

    Returns:
        The ``{name: ndarray}`` state dict that was written.
    """
    if format not in ("safetensors", "npz"):
        raise ValueError(f"export_state_dict: format must be 'safetensors' or 'npz', got "
                         f"{format!r}")
    # (np.ascontiguousarray would turn the 0-d num_batches_tracked into shape (1,).)
    state = {k: xp.array(v, order="C") for k, v in model.state_dict().items()}
    if path is None:
        return state
    with atomic_path(path) as tmp:  # an interrupted save never leaves a broken file
        if format == "safetensors":
            _safetensors_numpy().save_file(state, str(tmp))
        else:
            with open(tmp, "wb") as f:
                xp.savez(f, **state)
    return state
