"""``save`` and ``load``: PyTorch's ``torch.save(obj, f)`` / ``torch.load(f)`` without pickle.

What can be saved: Tensors (and Parameters), NumPy arrays, numbers, strings, bytes, None, and
dicts (any of these as keys, order kept), lists and tuples of them, nested to any depth: state
dicts of modules and optimizers, and checkpoints such as
``{'epoch': e, 'model_state_dict': m.state_dict(), 'optimizer_state_dict': opt.state_dict(),
'loss': l}``. A Tensor saved twice in one object is stored once and loaded as one Tensor.

The file is a zip archive (like PyTorch's): ``neuralab.json`` describes the object as JSON, and
each array is an ``.npy`` file under ``arrays/``. Nothing is unpickled on loading, so a file from
a stranger cannot run code. A whole ``nn.Module`` is refused with a pointer to ``state_dict()``:
saving one would mean pickling its class.

``load`` also reads PyTorch's own zip files of tensors and state dicts (``torch.save`` since
1.6) with an unpickler that only rebuilds tensors, ``OrderedDict`` and plain containers; any
other class in the file (a whole pickled model, a custom object) is refused, naming it.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.fileio import atomic_path
from neuralab.nn.module import Module, Parameter
from neuralab.optim.optimizer import Optimizer

__all__ = ["load", "save"]

FORMAT = "neuralab.save"
VERSION = 1
_HEADER = "neuralab.json"


class _Encoder:
    """Turns an object into JSON-able tags and a list of arrays."""

    def __init__(self) -> None:
        self.arrays: list[Any] = []
        self._seen: dict[int, int] = {}  # id(Tensor or ndarray) -> array index
        self._keep: list[Any] = []  # keeps encoded objects alive so their ids stay unique

    def _array(self, obj: Any, array: Any) -> int:
        key = id(obj)
        if key not in self._seen:
            if array.dtype.hasobject:
                raise TypeError("save: cannot save an array of Python objects (dtype=object)")
            self._seen[key] = len(self.arrays)
            self.arrays.append(xp.asarray(array, order="C"))  # ascontiguousarray makes 0-d 1-d
            self._keep.append(obj)
        return self._seen[key]

    def encode(self, obj: Any, where: str) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return {"int": str(obj)}
        if isinstance(obj, float):
            return {"float": repr(obj)} if not math.isfinite(obj) else obj
        if isinstance(obj, Tensor):
            tag = {"tensor": self._array(obj, obj.array), "requires_grad": obj.requires_grad}
            if isinstance(obj, Parameter):
                tag["parameter"] = True
            return tag
        if isinstance(obj, xp.ndarray):
            return {"ndarray": self._array(obj, obj)}
        if isinstance(obj, xp.generic):  # a NumPy scalar keeps its dtype
            return {"scalar": self._array(obj, xp.asarray(obj))}
        if isinstance(obj, bytes):
            return {"bytes": base64.b64encode(obj).decode("ascii")}
        if isinstance(obj, dict):
            items = [[self.encode(k, f"{where} key"), self.encode(v, f"{where}[{k!r}]")]
                     for k, v in obj.items()]
            return {"dict": items, "ordered": isinstance(obj, OrderedDict)}
        if isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
            kind = "list" if isinstance(obj, list) else "tuple"
            return {kind: [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, Module):
            raise TypeError(
                f"save: {where} is a whole {type(obj).__name__} module; neuralab saves without "
                "pickle, which cannot store a module's code: save its weights with "
                "nl.save(model.state_dict(), path), and to load, build the model and call "
                "model.load_state_dict(nl.load(path))"
            )
        if isinstance(obj, Optimizer):
            raise TypeError(
                f"save: {where} is a whole {type(obj).__name__} optimizer; save "
                "optimizer.state_dict() instead and restore it with "
                "optimizer.load_state_dict(nl.load(path))"
            )
        raise TypeError(
            f"save: cannot save {where} of type {type(obj).__module__}.{type(obj).__qualname__}; "
            "neuralab saves Tensors, NumPy arrays, numbers, strings, bytes, None and dicts, "
            "lists and tuples of these (no pickle)"
        )


def _is_file(f: Any) -> bool:
    return hasattr(f, "write") or hasattr(f, "read")


def save(obj: Any, f: str | os.PathLike | Any, **kwargs: Any) -> None:
    """Save ``obj`` to the file ``f`` (a path with any extension, ``.pt``/``.pth`` as in
    PyTorch, or a binary file object such as ``io.BytesIO``), as ``torch.save``.

    A path is written atomically: a crash leaves the old file or none, never half of one.

    Args:
        obj: Tensors, arrays, numbers, strings, None, and dicts/lists/tuples of these (state
            dicts and checkpoints).
        f: file name or writable binary file object.
        **kwargs: ``pickle_module``, ``pickle_protocol``, ``_use_new_zipfile_serialization``
            are refused (there is no pickle).

    Raises:
        TypeError: something that cannot be saved (a whole Module: use its ``state_dict()``),
            naming where in ``obj`` it is and its type.
    """
    if kwargs:
        raise TypeError(f"save: neuralab saves without pickle; the options "
                        f"{', '.join(sorted(kwargs))} do not apply")
    encoder = _Encoder()
    header = {"format": FORMAT, "version": VERSION, "object": encoder.encode(obj, "the object"),
              "arrays": len(encoder.arrays)}
    if _is_file(f):
        _write_zip(f, header, encoder.arrays)
        return
    path = Path(os.fspath(f))
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        _write_zip(fh, header, encoder.arrays)
        fh.flush()
        os.fsync(fh.fileno())


def _write_zip(fh: Any, header: dict, arrays: list[Any]) -> None:
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(_HEADER, json.dumps(header))
        for i, array in enumerate(arrays):
            buffer = io.BytesIO()
            xp.save(buffer, array, allow_pickle=False)
            zf.writestr(f"arrays/{i}.npy", buffer.getvalue())


class _Decoder:
    def __init__(self, zf: zipfile.ZipFile, name: str, count: int, location: Any):
        self.zf, self.name, self.location = zf, name, location
        self.arrays: list[Any] = [None] * count
        self.tensors: dict[int, Tensor] = {}

    def _array(self, i: int) -> Any:
        if not isinstance(i, int) or not 0 <= i < len(self.arrays):
            raise ValueError(f"load: {self.name} is corrupt: it refers to array {i!r} of "
                             f"{len(self.arrays)}")
        if self.arrays[i] is None:
            with self.zf.open(f"arrays/{i}.npy") as fh:
                array = xp.load(io.BytesIO(fh.read()), allow_pickle=False)
            self.arrays[i] = _map_location(array, self.location)
        return self.arrays[i]

    def decode(self, tag: Any) -> Any:
        if tag is None or isinstance(tag, (bool, str, float)):
            return tag
        if isinstance(tag, int):  # written by other tools: take it as it is
            return tag
        if not isinstance(tag, dict):
            raise ValueError(f"load: {self.name} is corrupt: unexpected {type(tag).__name__} "
                             "in its description")
        if "int" in tag:
            return int(tag["int"])
        if "float" in tag:
            return float(tag["float"])
        if "tensor" in tag:
            i = tag["tensor"]
            if i not in self.tensors:
                array = self._array(i)
                self.tensors[i] = _tensor(array, bool(tag.get("requires_grad", False)),
                                          bool(tag.get("parameter", False)))
            return self.tensors[i]
        if "ndarray" in tag:
            return self._array(tag["ndarray"])
        if "scalar" in tag:
            return self._array(tag["scalar"])[()]
        if "bytes" in tag:
            return base64.b64decode(tag["bytes"])
        if "dict" in tag:
            items = [(self.decode(k), self.decode(v)) for k, v in tag["dict"]]
            return OrderedDict(items) if tag.get("ordered") else dict(items)
        if "list" in tag:
            return [self.decode(v) for v in tag["list"]]
        if "tuple" in tag:
            return tuple(self.decode(v) for v in tag["tuple"])
        raise ValueError(f"load: {self.name} is corrupt: unknown entry {sorted(tag)}")


def _tensor(array: Any, requires_grad: bool, parameter: bool) -> Tensor:
    """A Tensor (or Parameter) holding ``array`` with its dtype unchanged."""
    if parameter:
        return Parameter(array, requires_grad=requires_grad)
    t = Tensor._from_op(array, None, 0)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _map_location(array: Any, location: Any) -> Any:
    """Apply ``map_location``: every tensor of neuralab lives on the CPU."""
    if callable(location):
        out = location(array, "cpu")  # PyTorch's (storage, location) -> storage
        if isinstance(out, Tensor):
            return out.array
        if isinstance(out, xp.ndarray):
            return out
        raise TypeError(f"load: map_location returned {type(out).__name__}; neuralab keeps "
                        "every tensor on the CPU (map_location=lambda s, loc: s, or 'cpu')")
    return array


def _check_location(location: Any) -> None:
    if location is None or callable(location):
        return
    targets = location.values() if isinstance(location, dict) else [location]
    for target in targets:
        if str(target).split(":")[0] != "cpu":
            raise ValueError(f"load: map_location={location!r}: neuralab runs on the CPU only; "
                             "use map_location='cpu' (or leave it out)")


def load(f: str | os.PathLike | Any, map_location: Any = None, pickle_module: Any = None, *,
         weights_only: bool | None = None, mmap: bool | None = None, **kwargs: Any) -> Any:
    """Load an object saved by ``save`` (or a PyTorch file of tensors and state dicts), as
    ``torch.load``.

    Args:
        f: file name or readable binary file object.
        map_location: None, ``'cpu'``, a CPU ``device``, a dict mapping locations to ``'cpu'``,
            or PyTorch's ``lambda storage, loc: storage``; neuralab has only the CPU, so anything
            else is an error.
        pickle_module: must be None (nothing is unpickled).
        weights_only: accepted for PyTorch's signature; loading is always weights-only (no
            code from the file runs), True or False.
        mmap: accepted; the arrays are read into memory.

    Returns:
        The object, with Tensors for saved Tensors (``Parameter`` for Parameters), NumPy arrays
        for saved arrays, and the containers as saved (``OrderedDict`` kept).

    Raises:
        ValueError: the file is not a neuralab or PyTorch zip file, or it is truncated or
            corrupt; the message names the file.
    """
    if pickle_module is not None or kwargs:
        extra = ["pickle_module"] if pickle_module is not None else []
        raise TypeError(f"load: neuralab loads without pickle; the options "
                        f"{', '.join(extra + sorted(kwargs))} do not apply")
    _check_location(map_location)
    name = repr(getattr(f, "name", "<file object>")) if _is_file(f) else str(os.fspath(f))
    if not _is_file(f) and not Path(os.fspath(f)).is_file():
        raise FileNotFoundError(f"load: no such file {name}")
    try:
        with zipfile.ZipFile(f if _is_file(f) else os.fspath(f)) as zf:
            names = zf.namelist()
            if _HEADER in names:
                header = json.loads(zf.read(_HEADER))
                if not isinstance(header, dict) or header.get("format") != FORMAT:
                    raise ValueError(f"load: {name} is not a file written by neuralab.save")
                if header.get("version", 0) > VERSION:
                    raise ValueError(f"load: {name} was written by a newer neuralab (format "
                                     f"version {header['version']}); upgrade neuralab")
                decoder = _Decoder(zf, name, int(header.get("arrays", 0)), map_location)
                return decoder.decode(header["object"])
            pkl = [n for n in names if n.endswith("data.pkl")]
            if pkl:
                return _load_torch(zf, pkl[0], name, map_location)
            raise ValueError(f"load: {name} is a zip file but neither a neuralab.save file nor "
                             "a PyTorch one (no neuralab.json or data.pkl inside)")
    except zipfile.BadZipFile as exc:
        head = _peek(f)
        if head[:2] == b"\x80\x02" or head[:1] == b"\x80":
            raise ValueError(
                f"load: {name} is a pickle file (PyTorch's legacy format before 1.6, or "
                "pickle.dump); neuralab does not unpickle: re-save it with a recent torch.save "
                "(zip format) or as safetensors") from None
        raise ValueError(f"load: {name} is not a neuralab.save file or is truncated or "
                         f"corrupt ({exc})") from None
    except (KeyError, EOFError, json.JSONDecodeError, zipfile.LargeZipFile, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"load: {name} is truncated or corrupt ({type(exc).__name__}: "
                         f"{exc})") from None


def _peek(f: Any) -> bytes:
    try:
        if _is_file(f):
            f.seek(0)
            return f.read(2)
        with open(os.fspath(f), "rb") as fh:
            return fh.read(2)
    except OSError:
        return b""


# ---- PyTorch's zip files, read without running code --------------------------------------------

_TORCH_STORAGES = {
    "FloatStorage": xp.float32, "DoubleStorage": xp.float64, "HalfStorage": xp.float16,
    "LongStorage": xp.int64, "IntStorage": xp.int32, "ShortStorage": xp.int16,
    "CharStorage": xp.int8, "ByteStorage": xp.uint8, "BoolStorage": xp.bool_,
}


class _StorageType:
    def __init__(self, name: str):
        self.name = name


def _rebuild_tensor(storage: Any, offset: int, size: tuple, stride: tuple,
                    requires_grad: bool = False, hooks: Any = None, metadata: Any = None) -> Tensor:
    item = storage.itemsize
    if len(size) == 0:
        array = storage[offset:offset + 1].reshape(())
    else:
        array = xp.lib.stride_tricks.as_strided(storage[offset:], shape=tuple(size),
                                                strides=tuple(s * item for s in stride))
    return _tensor(xp.array(array), bool(requires_grad), False)


def _rebuild_parameter(data: Tensor, requires_grad: bool, hooks: Any = None,
                       state: Any = None) -> Parameter:
    return _tensor(data.array, bool(requires_grad), True)


class _TorchUnpickler(pickle.Unpickler):
    """Rebuilds tensors, Parameters, OrderedDicts and plain containers; refuses everything else."""

    _ALLOWED = {
        ("collections", "OrderedDict"): OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
        ("torch", "Size"): tuple,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("builtins", "slice"): slice,
    }

    def __init__(self, data: bytes, zf: zipfile.ZipFile, prefix: str, name: str,
                 location: Any):
        super().__init__(io.BytesIO(data))
        self.zf, self.prefix, self.name, self.location = zf, prefix, name, location
        self.storages: dict[str, Any] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return self._ALLOWED[(module, name)]
        if module == "torch" and name in _TORCH_STORAGES:
            return _StorageType(name)
        raise pickle.UnpicklingError(
            f"load: {self.name} holds {module}.{name}, which neuralab does not load (it reads "
            "tensors and state dicts only, and never runs code from a file); if this is a whole "
            "pickled model, save its state_dict() with PyTorch and load that"
        )

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"load: {self.name}: unsupported storage record "
                                         f"{pid!r}")
        _, kind, key, _location, _numel = pid
        if not isinstance(kind, _StorageType):
            raise pickle.UnpicklingError(f"load: {self.name}: unsupported storage type {kind!r}"
                                         " (neuralab reads float, int and bool tensors)")
        if key not in self.storages:
            raw = self.zf.read(f"{self.prefix}data/{key}")
            array = xp.frombuffer(raw, dtype=xp.dtype(_TORCH_STORAGES[kind.name]).newbyteorder(
                "<"))
            self.storages[key] = _map_location(array.astype(array.dtype.newbyteorder("=")),
                                               self.location)
        return self.storages[key]


def _load_torch(zf: zipfile.ZipFile, pkl: str, name: str, location: Any) -> Any:
    prefix = pkl[:-len("data.pkl")]
    order = f"{prefix}byteorder"
    if order in zf.namelist() and zf.read(order).strip() not in (b"little", b""):
        raise ValueError(f"load: {name} was written on a big-endian machine; not supported")
    try:
        return _TorchUnpickler(zf.read(pkl), zf, prefix, name, location).load()
    except pickle.UnpicklingError as exc:
        raise ValueError(str(exc)) from None
