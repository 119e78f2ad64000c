"""CIFAR-10 and CIFAR-100 (Krizhevsky, 2009) from the official archives.

``cifar-10-python.tar.gz`` holds pickled batches (``data_batch_1..5``, ``test_batch``), each a dict
with ``data`` (10000 x 3072 uint8, the red, green then blue 32x32 planes of each image) and
``labels``. Unpickling can run arbitrary code, so the batches are read with an unpickler that only
lets through NumPy's array reconstruction (see ``SafeUnpickler``); anything else is refused.

``cifar-10-binary.tar.gz`` (the "binary version, suitable for C programs") holds the same images
as raw records: ``data_batch_1..5.bin`` and ``test_batch.bin``, 10,000 records each of one label
byte then the 3072 pixel bytes, and ``batches.meta.txt`` with the class names one a line. Either
archive is read by ``CIFAR10``; the python one is preferred when both are present.

The archive is verified by its MD5 (the checksum published with the data) before use.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neuralab.backend import xp
from neuralab.data.datasets.imagefolder import (
    TAR_READ_ERRORS,
    ImageDataset,
    ImageFolder,
    check_tar_end,
)
from neuralab.fileio import atomic_path
from neuralab.progress import Progress

__all__ = ["CIFAR10", "CIFAR100", "SafeUnpickler", "download_url", "safe_unpickle"]

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
CIFAR100_MEAN = (0.5071, 0.4865, 0.4409)
CIFAR100_STD = (0.2673, 0.2564, 0.2762)


def _reconstruct_function() -> Any:
    # ndarray.__reduce__ names the function pickles use to rebuild arrays (its module moved
    # from numpy.core to numpy._core in NumPy 2): ask the running NumPy rather than guess.
    return xp.ndarray((0,)).__reduce__()[0]


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that builds only plain data: dicts, lists, bytes, strings, numbers and
    NumPy arrays. Any other global (``os.system``, a class with ``__reduce__``...) is refused.
    """

    def find_class(self, module: str, name: str) -> Any:
        if name == "_reconstruct" and module in ("numpy.core.multiarray",
                                                 "numpy._core.multiarray"):
            return _reconstruct_function()
        if module == "numpy" and name == "ndarray":
            return xp.ndarray
        if module == "numpy" and name == "dtype":
            return xp.dtype
        if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name == "scalar":
            return _scalar
        if module == "_codecs" and name == "encode":
            # Python 3 writes bytes into protocol-2 pickles as encode(text, 'latin1'): a pure
            # str -> bytes conversion, harmless to allow.
            return _encode
        raise pickle.UnpicklingError(
            f"CIFAR: refusing to load {module}.{name} from a pickle; the CIFAR batches hold only "
            "dicts, lists and arrays, so this file is not a genuine CIFAR batch"
        )


def _scalar(dtype: Any, data: bytes = b"") -> Any:
    return xp.frombuffer(data, dtype=dtype)[0]


def _encode(text: str, encoding: str = "utf-8") -> bytes:
    return str(text).encode(str(encoding))


def safe_unpickle(data: bytes) -> Any:
    """Unpickle ``data`` (Python 2 pickles included, strings left as bytes) with SafeUnpickler."""
    return SafeUnpickler(io.BytesIO(data), encoding="bytes").load()


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_url(url: str, path: Path, what: str) -> None:
    """Download ``url`` to ``path`` atomically (a temporary file beside it, then a rename), with
    a progress bar; a failed download leaves neither a partial file nor a new empty folder."""
    missing = [p for p in [path.parent, *path.parent.parents] if not p.exists()]
    try:
        with urllib.request.urlopen(url, timeout=30) as response, atomic_path(path) as tmp, \
                open(tmp, "wb") as f:
            length = response.headers.get("Content-Length") if response.headers else None
            with Progress(None, total=int(length) if length and length.isdigit() else None,
                          desc=f"downloading {path.name}", unit="B", unit_scale=True) as bar:
                while chunk := response.read(1 << 20):
                    f.write(chunk)
                    bar.update(len(chunk))
    except OSError as exc:
        for folder in missing:  # innermost first: only the folders this call created
            try:
                folder.rmdir()
            except OSError:
                break
        raise RuntimeError(
            f"{what}: could not download {url} ({exc}). If this machine is offline, download "
            f"the file elsewhere and put it at {path}"
        ) from exc


class CIFAR10(ImageDataset):
    """CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes.

    Args:
        root: folder holding (or receiving) ``cifar-10-python.tar.gz``, or torchvision's
            extracted ``cifar-10-batches-py/``; for CIFAR-10, a folder holding the image-folder
            JPEG copy ``cifar10-jpg.tar.gz`` (or its extracted ``cifar10-jpg/``), or that
            archive's path itself, works too (its classes sort into CIFAR-10's label order).
        train: the training batches, else the test batch.
        download: download the archive when missing (needs the internet); never tried when one
            of the copies above is found.
        transform, target_transform: applied in ``__getitem__`` to the raw uint8 (32, 32, 3)
            image and the label (as torchvision, which passes a PIL image).
        normalize: standardise with the training set's per-channel mean and std in
            ``transform_batch`` (True), or keep [0, 1] (False), or a ``(mean, std)`` pair.

    Attributes:
        data: uint8 (N, 32, 32, 3); targets: int64 (N,); classes: the class names.
    """

    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    md5 = "c58f30108f718f92721af3b95e74349a"
    #: The binary version (published MD5 from https://www.cs.toronto.edu/~kriz/cifar.html).
    binary_filename = "cifar-10-binary.tar.gz"
    binary_md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    train_members = [f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)]
    test_members = ["cifar-10-batches-py/test_batch"]
    meta_member = "cifar-10-batches-py/batches.meta"
    label_key, names_key = b"labels", b"label_names"
    mean, std = CIFAR10_MEAN, CIFAR10_STD

    def __init__(self, root: str | os.PathLike, train: bool = True, download: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 check_md5: bool = True, normalize: Any = False):
        name = type(self).__name__
        self.normalize = (self.mean, self.std) if normalize is True else (normalize or None)
        self.root, self.train = Path(root), train
        self.transform, self.target_transform = transform, target_transform
        archive = self.root / self.filename
        binary = self.root / self.binary_filename if self.binary_filename else None
        if not archive.is_file() and binary is not None and binary.is_file():
            self._read_binary(binary, check_md5)
            return
        if not archive.is_file():
            if (self.root / self.train_members[0].split("/")[0]).is_dir():
                self._load_members(self._read_extracted(), name)
                return
            jpeg = self._jpeg_copy()
            if jpeg is not None:
                self._load_jpeg(jpeg)
                return
            offline = bool(os.environ.get("NEURALAB_OFFLINE"))
            if not download or offline:
                why = "NEURALAB_OFFLINE is set" if offline and download else "download=False"
                raise FileNotFoundError(
                    f"{name}: {archive} not found and not downloaded ({why}); download "
                    f"{self.url} elsewhere and put it there (or use the image-folder copy of "
                    "CIFAR-10 with ImageFolder.from_archive)"
                )
            download_url(self.url, archive, name)
        if check_md5:
            got = _md5(archive)
            if got != self.md5:
                raise ValueError(
                    f"{name}: {archive} has MD5 {got}, expected {self.md5}; the file is "
                    f"corrupt or incomplete: replace it with a good copy from {self.url}"
                )
        wanted = self.train_members if train else self.test_members
        batches: dict[str, Any] = {}
        try:
            with tarfile.open(archive, "r:gz") as tar:
                for member in tar:
                    if member.name in wanted or member.name == self.meta_member:
                        batches[member.name] = safe_unpickle(tar.extractfile(member).read())
                check_tar_end(tar, archive, name)
        except (*TAR_READ_ERRORS, pickle.UnpicklingError) as exc:
            raise ValueError(f"{name}: cannot read {archive} ({exc or type(exc).__name__}): "
                             f"it is truncated or corrupt; replace it with a good copy from "
                             f"{self.url}") from None
        self._load_members(batches, name, str(archive))

    def _read_extracted(self) -> dict[str, Any]:
        """The batches of torchvision's extracted folder ``root/cifar-10-batches-py``."""
        wanted = self.train_members if self.train else self.test_members
        batches: dict[str, Any] = {}
        for member in wanted + [self.meta_member]:
            path = self.root / member
            if path.is_file():
                try:
                    batches[member] = safe_unpickle(path.read_bytes())
                except (EOFError, pickle.UnpicklingError) as exc:
                    raise ValueError(f"{type(self).__name__}: cannot read {path}: {exc}; "
                                     "replace it with a good copy") from exc
        return batches

    def _load_members(self, batches: dict[str, Any], name: str, where: str | None = None) -> None:
        wanted = self.train_members if self.train else self.test_members
        missing = [m for m in wanted + [self.meta_member] if m not in batches]
        if missing:
            raise ValueError(f"{name}: {where or self.root} lacks {', '.join(missing)}; is it "
                             "the python version of the archive?")
        # Each row of ``data`` is 3 planes of 32x32 (R, G, B): (N, 3072) -> (N, 3, 32, 32)
        # -> (N, 32, 32, 3), the HWC layout ToTensor expects.
        data = xp.concatenate([batches[m][b"data"] for m in wanted])
        self.data = xp.ascontiguousarray(
            data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), dtype=xp.uint8)
        self.targets = xp.concatenate(
            [xp.asarray(batches[m][self.label_key], dtype=xp.int64) for m in wanted])
        self.classes = [c.decode() if isinstance(c, bytes) else str(c)
                        for c in batches[self.meta_member][self.names_key]]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def _read_binary(self, archive: Path, check_md5: bool) -> None:
        name = type(self).__name__
        if check_md5:
            got = _md5(archive)
            if got != self.binary_md5:
                raise ValueError(f"{name}: {archive} has MD5 {got}, expected {self.binary_md5}; "
                                 "the file is corrupt or incomplete: replace it with a good copy")
        wanted = ([f"data_batch_{i}.bin" for i in range(1, 6)] if self.train
                  else ["test_batch.bin"])
        found: dict[str, bytes] = {}
        try:
            with tarfile.open(archive, "r:gz") as tar:
                for member in tar:
                    base = member.name.rsplit("/", 1)[-1]
                    if member.isfile() and (base in wanted or base == "batches.meta.txt"):
                        found[base] = tar.extractfile(member).read()
                check_tar_end(tar, archive, name)
        except TAR_READ_ERRORS as exc:
            raise ValueError(f"{name}: cannot read {archive} ({exc or type(exc).__name__}): "
                             "it is truncated or corrupt; replace it with a good copy") from None
        missing = [m for m in wanted + ["batches.meta.txt"] if m not in found]
        if missing:
            raise ValueError(f"{name}: {archive} lacks {', '.join(missing)}; is it the binary "
                             "version of CIFAR-10 (cifar-10-batches-bin/)?")
        record = 1 + 3 * 32 * 32  # one label byte, then the R, G and B planes
        rows = []
        for member in wanted:
            blob = found[member]
            if len(blob) % record:
                raise ValueError(f"{name}: {archive}:{member} holds {len(blob)} bytes, not a "
                                 f"multiple of the {record}-byte record")
            rows.append(xp.frombuffer(blob, dtype=xp.uint8).reshape(-1, record))
        table = xp.concatenate(rows)
        # (N, 3072) planes -> (N, 3, 32, 32) -> (N, 32, 32, 3), as in the python version.
        self.data = xp.ascontiguousarray(
            table[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        self.targets = table[:, 0].astype(xp.int64)
        self.classes = [c.strip() for c in found["batches.meta.txt"].decode().splitlines()
                        if c.strip()]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def _jpeg_copy(self) -> Path | None:
        """The image-folder JPEG copy of CIFAR-10 under ``root`` (or ``root`` itself), if any."""
        if type(self) is not CIFAR10:
            return None
        candidates = [self.root, self.root / "cifar10-jpg.tar.gz", self.root / "cifar10-jpg"]
        for path in candidates:
            if path.is_file() and path.name.endswith((".tar.gz", ".tgz", ".tar")):
                return path
            if path.is_dir() and (path / "train").is_dir() and (path / "test").is_dir():
                return path
        return None

    def _load_jpeg(self, path: Path) -> None:
        split = "train" if self.train else "test"
        folder = ImageFolder(path / split) if path.is_dir() else \
            ImageFolder.from_archive(path, split=split)
        if len(folder.classes) != 10:
            raise ValueError(f"CIFAR10: {path} holds {len(folder.classes)} class folders under "
                             f"{split}/, expected CIFAR-10's 10")
        self.data, self.targets = folder.data, folder.targets
        self.classes, self.class_to_idx = folder.classes, folder.class_to_idx
        self.source = str(path)

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"{type(self).__name__}(root={str(self.root)!r}, split={split}, n={len(self)})"


class CIFAR100(CIFAR10):
    """CIFAR-100: the same images format with 100 fine classes (``coarse_targets``: the 20
    superclasses). Arguments as ``CIFAR10``."""

    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_members = ["cifar-100-python/train"]
    test_members = ["cifar-100-python/test"]
    meta_member = "cifar-100-python/meta"
    label_key, names_key = b"fine_labels", b"fine_label_names"
    mean, std = CIFAR100_MEAN, CIFAR100_STD
    binary_filename = None  # the CIFAR-100 binary version is not read here
