"""MNIST: 70,000 28x28 grey images of handwritten digits (LeCun, Cortes and Burges).

The four original IDX files (gzip-compressed or raw) are looked for in ``root``, else in
``$NEURALAB_DATA`` (and its ``mnist/`` subfolder), else in the cache folder
(``~/.cache/neuralab/mnist``), and downloaded there from the usual mirrors when missing. Each file
is verified by the SHA-256 of its decompressed content.

When the full data is unavailable (offline machine), a class-balanced subset shipped inside the
package (5,000 training and 1,000 test images drawn from the real files) stands in, and the
dataset says so (``is_subset``), so every example and the ``neuralab train`` command run
everywhere.

Pixels are stored as uint8 in ``data`` (N, 28, 28); the DataLoader converts each batch with
``transform_batch``: x / 255, then standardised with the training set's mean 0.1307 and standard
deviation 0.3081, giving float32 (N, 1, 28, 28), the layout of PyTorch's MNIST + ToTensor +
Normalize. Pass ``normalize=False`` to keep [0, 1] pixels instead.
"""

from __future__ import annotations

import os
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from neuralab.backend import default_float, xp
from neuralab.data.dataset import Dataset
from neuralab.data.download import (
    DataError,
    cache_dir,
    data_roots,
    find_file,
    read_maybe_gzip,
    sha256_bytes,
)
from neuralab.data.download import (
    download as download_file,
)

__all__ = ["MNIST", "read_idx"]

MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]

FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

#: SHA-256 of the decompressed files (the same for every copy of MNIST).
SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

SHIPPED = "mnist_subset.npz"
MEAN, STD = 0.1307, 0.3081
CLASSES = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
           "7 - seven", "8 - eight", "9 - nine"]

# IDX type codes (third byte of the magic number) -> dtype; big-endian for multi-byte types.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike, sha256: str | None = None) -> Any:
    """Read an IDX file (optionally gzip-compressed) into an ndarray.

    The format: two zero bytes, a type code, the number of dimensions d, then d big-endian
    int32 sizes, then the values in C order.

    Args:
        path: the file.
        sha256: expected SHA-256 of the decompressed content; None skips the check.

    Raises:
        DataError: the file is truncated, not an IDX file, or has the wrong checksum; the
            message names the file and what to do.
    """
    path = Path(path)
    todo = (f"; delete {path} and run again to download it, or copy a good copy of "
            f"{path.name.removesuffix('.gz')}(.gz) there")
    content = read_maybe_gzip(path, hint=todo)
    if len(content) < 4 or content[0] != 0 or content[1] != 0 or content[2] not in _IDX_DTYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number {content[:4].hex()}){todo}")
    ndim = content[3]
    header = 4 + 4 * ndim
    if len(content) < header:
        raise DataError(f"{path}: truncated IDX header ({len(content)} bytes){todo}")
    shape = tuple(int(s) for s in xp.frombuffer(content, dtype=">i4", count=ndim, offset=4))
    dtype = xp.dtype(_IDX_DTYPES[content[2]])
    expected = header + int(xp.prod(shape, dtype=xp.int64)) * dtype.itemsize
    if len(content) != expected:
        raise DataError(f"{path}: the file is truncated or corrupt: its header announces shape "
                        f"{shape} ({expected} bytes) but it holds {len(content)} bytes{todo}")
    if sha256 is not None:
        got = sha256_bytes(content)
        if got != sha256:
            raise DataError(f"{path}: checksum mismatch (SHA-256 of the decompressed content is "
                            f"{got}, expected {sha256}); the file is corrupt or not the "
                            f"original MNIST{todo}")
    array = xp.frombuffer(content, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def _load_shipped(train: bool) -> tuple[Any, Any]:
    split = "train" if train else "test"
    ref = resources.files("neuralab.data").joinpath("shipped", SHIPPED)
    with resources.as_file(ref) as path, xp.load(path, allow_pickle=False) as npz:
        return npz[f"{split}_images"], npz[f"{split}_labels"].astype(xp.int64)


class MNIST(Dataset):
    """The MNIST digits, in memory.

    Args:
        root: folder holding the IDX files (``.gz`` or raw); None searches ``$NEURALAB_DATA``
            and the cache folder.
        train: the 60,000 training images, else the 10,000 test images.
        download: download missing files from the mirrors (skipped when ``$NEURALAB_OFFLINE``
            is set).
        subset: None uses the full data when it can be found or downloaded and the shipped
            subset otherwise (with a message); True always uses the shipped subset; False
            requires the full data.
        normalize: standardise batches with MNIST's mean and std (else pixels in [0, 1]).
        verify: check the SHA-256 of the files (turn off only for home-made IDX files).

    Attributes:
        data: uint8 (N, 28, 28) images.
        targets: int64 (N,) labels 0-9.
        is_subset: True when the shipped subset stands in for the full data.
        source: where the data came from (a folder, or ``"shipped subset"``).
    """

    classes = CLASSES
    mean, std = MEAN, STD
    input_shape = (1, 28, 28)
    num_classes = 10

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 download: bool = True, subset: bool | None = None, normalize: bool = True,
                 verify: bool = True):
        self.train = bool(train)
        self.normalize = bool(normalize)
        self.is_subset = False
        if subset:
            self.data, self.targets = _load_shipped(self.train)
            self.is_subset, self.source = True, "shipped subset"
            return
        paths = self._locate(root, download)
        if paths is None:
            split = "training" if self.train else "test"
            message = self._missing_message(root)
            if subset is False:
                raise DataError(message)
            self.data, self.targets = _load_shipped(self.train)
            self.is_subset, self.source = True, "shipped subset"
            print(f"MNIST: full data not found, using the shipped subset ({len(self.data)} "
                  f"{split} images). {message}", file=sys.stderr)
            return
        images, labels = (read_idx(p, SHA256[_stem(p)] if verify else None) for p in paths)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(f"MNIST: {paths[0]} holds {images.shape} images but {paths[1]} holds "
                            f"{labels.shape} labels; both files must come from the same split")
        self.data = images.astype(xp.uint8, copy=False)
        self.targets = labels.astype(xp.int64)
        self.source = str(paths[0].parent)

    def _locate(self, root: Any, download: bool) -> tuple[Path, Path] | None:
        roots = data_roots(root, "mnist")
        found = [find_file(name, roots) for name in FILES[self.train]]
        if all(found):
            return tuple(found)
        if not download or os.environ.get("NEURALAB_OFFLINE"):
            return None
        dest = Path(root).expanduser() if root is not None else cache_dir() / "mnist"
        try:
            for i, name in enumerate(FILES[self.train]):
                if found[i] is None:
                    print(f"MNIST: downloading {name}.gz to {dest}", file=sys.stderr)
                    found[i] = download_file(name + ".gz", MIRRORS, dest, sha256=SHA256[name],
                                             timeout=15.0)
        except (DataError, OSError) as err:
            print(f"MNIST: download failed: {err}", file=sys.stderr)
            return None
        return tuple(found)

    def _missing_message(self, root: Any) -> str:
        where = ", ".join(str(r) for r in data_roots(root, "mnist"))
        names = " and ".join(f"{n}.gz" for n in FILES[self.train])
        return (f"To use the full MNIST, put {names} (gzip or uncompressed) in one of: {where} "
                f"(or set NEURALAB_DATA=/path/to/folder, or pass root=/--data-root).")

    def transform_batch(self, x: Any) -> Any:
        """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28), scaled to [0, 1] and standardised."""
        x = x.astype(default_float)[:, None]  # (N, 1, 28, 28): one grey channel
        if self.normalize:
            # (x / 255 - mean) / std as one multiply-add on the whole batch.
            scale = default_float(1.0 / (255.0 * STD))
            x *= scale
            x -= default_float(MEAN / STD)
        else:
            x *= default_float(1.0 / 255.0)
        return x

    def __getitem__(self, index: int) -> tuple[Any, int]:
        n = len(self.data)
        if not -n <= index < n:
            raise IndexError(f"MNIST: index {index} out of range for {n} images")
        index = index % n
        return self.transform_batch(self.data[index:index + 1])[0], int(self.targets[index])

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        extra = ", shipped subset" if self.is_subset else ""
        return f"MNIST({split}, {len(self)} images{extra}, from {self.source})"


def _stem(path: Path) -> str:
    return path.name.removesuffix(".gz")
