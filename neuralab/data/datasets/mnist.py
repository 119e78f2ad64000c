"""MNIST and the other IDX data sets: Fashion-MNIST, Kuzushiji-MNIST (KMNIST) and any folder of
IDX files.

MNIST (LeCun, Cortes and Burges) has 70,000 28x28 grey images of handwritten digits;
Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017) and KMNIST (Clanuwat et al., 2018) are drop-in
replacements in the same four-file IDX format: 10 classes of clothing, and 10 cursive Japanese
characters. ``IDXFolder`` reads any other folder of IDX files, the classes taken from the labels.

The four IDX files (gzip-compressed or raw) are looked for in ``root`` (and ``root/<name>``),
else in ``$NEURALAB_DATA`` (and its ``<name>/`` subfolder), else in the cache folder
(``~/.cache/neuralab/<name>``), and downloaded there from the publishers' mirrors when missing.
MNIST files are verified by the SHA-256 of their decompressed content (the same for every copy);
Fashion-MNIST and KMNIST by the MD5 of the published ``.gz`` files (the checksums their authors
publish); a copy that was decompressed or re-compressed cannot be matched to those and is used
as "not verified", after the IDX header checks. A file that matches another known data set's
checksum is named as such ("this is Fashion-MNIST's train-images-idx3-ubyte").

When the full MNIST is unavailable (offline machine), a class-balanced subset shipped inside the
package (5,000 training and 1,000 test images drawn from the real files) stands in, and the
dataset says so (``is_subset``), so every example and the ``neuralab train`` command run
everywhere.

Pixels are stored as uint8 in ``data`` (N, 28, 28); the DataLoader converts each batch with
``transform_batch``: x / 255, then standardised with the training set's mean (MNIST 0.1307) and
standard deviation (0.3081), giving float32 (N, 1, 28, 28), the layout of PyTorch's MNIST +
ToTensor + Normalize. Pass ``normalize=False`` to keep [0, 1] pixels instead.

With a ``transform=`` (torchvision's way: ``MNIST(root, train=True, download=True,
transform=Compose([ToTensor(), Normalize((0.1307,), (0.3081,))]))``) an example is the raw uint8
(28, 28) image passed through the transform (torchvision passes a PIL image of mode 'L'), and
``normalize`` does not apply. torchvision's folder layout ``root/MNIST/raw`` is searched too.
"""

from __future__ import annotations

import math
import os
import sys
import zlib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from neuralab.backend import default_float, xp
from neuralab.data.dataset import Dataset
from neuralab.data.download import (
    GZIP_MAX_BYTES,
    DataError,
    cache_dir,
    data_roots,
    find_file,
    gunzip,
    md5_bytes,
    sha256_bytes,
)
from neuralab.data.download import (
    download as download_file,
)

__all__ = ["IDX_DATASETS", "FashionMNIST", "IDXFolder", "KMNIST", "MNIST", "identify_idx",
           "read_idx"]

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

#: MD5 of the original MNIST ``.gz`` files (as published on the mirrors; used to recognise
#: MNIST where another data set was expected).
MNIST_GZ_MD5 = {
    "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
}

#: MD5 of the published Fashion-MNIST ``.gz`` files. Source: the table "Get the Data" of
#: https://github.com/zalandoresearch/fashion-mnist (README), the same values as torchvision's.
FASHION_GZ_MD5 = {
    "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
}

#: MD5 of the published Kuzushiji-MNIST ``.gz`` files. Source: https://github.com/rois-codh/kmnist
#: (the files at http://codh.rois.ac.jp/kmnist/dataset/kmnist/), the same values as torchvision's.
KMNIST_GZ_MD5 = {
    "train-images-idx3-ubyte": "bdb82020997e1d708af4cf47b453dcf7",
    "train-labels-idx1-ubyte": "e144d726b3acfaa3e44228e80efcd344",
    "t10k-images-idx3-ubyte": "5c965bf0a639b31b8f53240b1b52f4d7",
    "t10k-labels-idx1-ubyte": "7320c461ea6c1c855c0b718fb2a4b134",
}

SHIPPED = "mnist_subset.npz"
MEAN, STD = 0.1307, 0.3081
CLASSES = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
           "7 - seven", "8 - eight", "9 - nine"]

# IDX type codes (third byte of the magic number) -> dtype; big-endian for multi-byte types.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _known_files() -> list[tuple[str, str, str, str]]:
    """(data set name for --data, file stem, 'sha256' of content or 'md5' of the .gz, digest)."""
    known = [("mnist", stem, "sha256", digest) for stem, digest in SHA256.items()]
    known += [("mnist", stem, "md5", digest) for stem, digest in MNIST_GZ_MD5.items()]
    known += [("fashion-mnist", stem, "md5", d) for stem, d in FASHION_GZ_MD5.items()]
    known += [("kmnist", stem, "md5", d) for stem, d in KMNIST_GZ_MD5.items()]
    return known


def identify_idx(raw: bytes, content: bytes | None = None) -> tuple[str, str] | None:
    """``(data set, file stem)`` of a known IDX file from its bytes (``raw``, maybe gzip) and its
    decompressed ``content``; None when it matches no checksum neuralab knows."""
    content = raw if content is None else content
    digests = {"sha256": sha256_bytes(content), "md5": md5_bytes(raw)}
    for name, stem, kind, digest in _known_files():
        if digests[kind] == digest:
            return name, stem
    return None


def parse_idx(content: bytes, path: Path, todo: str = "") -> Any:
    """The ndarray held by the IDX bytes ``content`` (read from ``path``, for messages).

    The format: two zero bytes, a type code, the number of dimensions d, then d big-endian
    int32 sizes, then the values in C order.
    """
    shape, expected = _idx_header(content, path, todo)
    header = 4 + 4 * len(shape)
    dtype = xp.dtype(_IDX_DTYPES[content[2]])
    if len(content) != expected:
        raise DataError(f"{path}: the file is truncated or corrupt: its header announces shape "
                        f"{shape} ({expected} bytes) but it holds {len(content)} bytes{todo}")
    array = xp.frombuffer(content, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def _idx_header(content: bytes, path: Path, todo: str = "") -> tuple[tuple[int, ...], int]:
    """The shape an IDX header announces and the file size it implies (Python integers: a
    crafted header cannot overflow the size check)."""
    if len(content) < 4 or content[0] != 0 or content[1] != 0 or content[2] not in _IDX_DTYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number {content[:4].hex()}){todo}")
    ndim = content[3]
    header = 4 + 4 * ndim
    if len(content) < header:
        raise DataError(f"{path}: truncated IDX header ({len(content)} bytes){todo}")
    shape = tuple(int.from_bytes(content[4 + 4 * i:8 + 4 * i], "big", signed=True)
                  for i in range(ndim))
    if any(n < 0 for n in shape):
        raise DataError(f"{path}: the IDX header announces a negative size {shape}; the file "
                        f"is corrupt{todo}")
    itemsize = xp.dtype(_IDX_DTYPES[content[2]]).itemsize
    return shape, header + math.prod(shape) * itemsize


def read_idx_bytes(path: Path, todo: str = "") -> bytes:
    """The decompressed bytes of an IDX file, refusing to inflate a ``.gz`` beyond the size its
    own header announces (a gzip bomb, or a header crafted to claim terabytes, stops early)."""
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    limit = GZIP_MAX_BYTES
    try:
        head = zlib.decompressobj(wbits=31).decompress(raw, 4 + 4 * 255)
        if len(head) >= 4 and head[2] in _IDX_DTYPES and len(head) >= 4 + 4 * head[3]:
            limit = min(limit, _idx_header(head, path, todo)[1])
    except zlib.error:
        pass  # gunzip reports it
    return gunzip(raw, path, todo, max_size=limit)


def _replace_hint(path: Path, what: str) -> str:
    # The user may have put this file there by hand: say how to get a good copy, never to
    # delete it.
    return (f"; replace it with a good copy of {path.name.removesuffix('.gz')}(.gz) from "
            f"{what}, or move it away so that neuralab downloads one")


def read_idx(path: str | os.PathLike, sha256: str | None = None) -> Any:
    """Read an IDX file (optionally gzip-compressed) into an ndarray.

    Args:
        path: the file.
        sha256: expected SHA-256 of the decompressed content; None skips the check.

    Raises:
        DataError: the file is truncated, not an IDX file, or has the wrong checksum; the
            message names the file, what it is when it is another known data set, and what to do.
    """
    path = Path(path)
    todo = _replace_hint(path, "the data set's publisher")
    raw = path.read_bytes()
    content = read_idx_bytes(path, todo)
    array = parse_idx(content, path, todo)
    if sha256 is not None:
        got = sha256_bytes(content)
        if got != sha256:
            raise DataError(_mismatch(path, raw, content, "MNIST", f"SHA-256 of the "
                                      f"decompressed content is {got}, expected {sha256}"))
    return array


def _mismatch(path: Path, raw: bytes, content: bytes, expected: str, detail: str) -> str:
    known = identify_idx(raw, content)
    if known is not None:
        name, stem = known
        label = IDX_DATASETS[name].title
        return (f"{path}: checksum mismatch: this is {label}'s {stem}, not {expected}'s; use "
                f"--data {name} (data_root / --data-root as now), or put {expected}'s files in "
                "another folder")
    return (f"{path}: checksum mismatch ({detail}): the file is not the original {expected} or "
            f"is corrupt; for another IDX data set use --data idx --data-root {path.parent} "
            f"(no checksum){_replace_hint(path, 'the publisher')}")


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
        normalize: standardise batches with MNIST's mean and std (else pixels in [0, 1]);
            without effect when a ``transform`` is given.
        verify: check the SHA-256 of the files (turn off only for home-made IDX files).
        transform: applied to each raw uint8 (28, 28) image by ``__getitem__`` (as torchvision).
        target_transform: applied to each label by ``__getitem__``.

    A ``root`` given by the user must hold the data (in ``root``, ``root/mnist`` or torchvision's
    ``root/MNIST/raw``) or receive it by download: otherwise it is an error naming the folders,
    never a quiet fall-back to the shipped subset (which stands in only without a ``root``).

    Attributes:
        data: uint8 (N, 28, 28) images.
        targets: int64 (N,) labels 0-9.
        is_subset: True when the shipped subset stands in for the full data.
        verified: True when every file matched its published checksum.
        source: where the data came from (a folder, or ``"shipped subset"``).
    """

    name = "mnist"           # the --data name, and the sub-folder searched
    title = "MNIST"
    classes = CLASSES
    mean, std = MEAN, STD
    input_shape = (1, 28, 28)
    num_classes = 10
    has_subset = True        # a subset ships inside the package
    homepage = "http://yann.lecun.com/exdb/mnist/"
    _array_batched = True  # __getitem__ is transform_batch of one row (see the DataLoader)

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 download: bool = True, subset: bool | None = None, normalize: bool = True,
                 verify: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None):
        for name, fn in (("transform", transform), ("target_transform", target_transform)):
            if fn is not None and not callable(fn):
                raise TypeError(f"MNIST: {name} must be callable, got {type(fn).__name__}")
        self.transform, self.target_transform = transform, target_transform
        self.train = bool(train)
        self.normalize = bool(normalize)
        self.is_subset = False
        self.verified = False
        if subset and not self.has_subset:
            raise DataError(f"{self.title}: no subset ships with neuralab; give the full data "
                            "(see `neuralab data`)")
        if subset:
            self.data, self.targets = _load_shipped(self.train)
            self.is_subset, self.source = True, "shipped subset"
            return
        paths = self._locate(root, download)
        if paths is None:
            split = "training" if self.train else "test"
            message = self._missing_message(root)
            if subset is False or not self.has_subset or root is not None:
                raise DataError(message)
            self.data, self.targets = _load_shipped(self.train)
            self.is_subset, self.source = True, "shipped subset"
            print(f"MNIST: full data not found, using the shipped subset ({len(self.data)} "
                  f"{split} images). {message}", file=sys.stderr)
            return
        (images, images_ok), (labels, labels_ok) = (self._read(p, verify) for p in paths)
        self.verified = images_ok and labels_ok
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(f"{self.title}: {paths[0]} holds {images.shape} images but "
                            f"{paths[1]} holds {labels.shape} labels; both files must come from "
                            "the same split")
        self.data = images.astype(xp.uint8, copy=False)
        self.targets = labels.astype(xp.int64)
        self.source = str(paths[0].parent)

    # -- checksums: MNIST by the content's SHA-256, the others by the .gz files' MD5 ----------

    @classmethod
    def checksums(cls) -> dict[str, tuple[str, str]]:
        """file stem -> ('sha256' of the decompressed content | 'md5' of the .gz, digest)."""
        return {stem: ("sha256", digest) for stem, digest in SHA256.items()}

    @classmethod
    def mirrors(cls) -> list[str]:
        return list(MIRRORS)

    def _read(self, path: Path, verify: bool) -> tuple[Any, bool]:
        todo = _replace_hint(path, self.homepage)
        content = read_idx_bytes(path, todo)
        array = parse_idx(content, path, todo)
        if not verify:
            return array, False
        return array, self.verify_file(path, path.read_bytes(), content)

    @classmethod
    def verify_file(cls, path: Path, raw: bytes, content: bytes) -> bool:
        """True when the file matches its published checksum, False when there is none to
        compare with (a decompressed or re-compressed copy of a data set whose publisher gives
        only the ``.gz`` files' MD5).

        Raises:
            DataError: a mismatch (naming the data set the file belongs to when it is known).
        """
        kind, digest = cls.checksums()[_stem(path)]
        if kind == "sha256":
            got = sha256_bytes(content)
            if got != digest:
                raise DataError(_mismatch(path, raw, content, cls.title, "SHA-256 of the "
                                          f"decompressed content is {got}, expected {digest}"))
            return True
        if raw[:2] == b"\x1f\x8b" and md5_bytes(raw) == digest:
            return True
        # Only the published .gz has a published checksum: a decompressed or re-compressed copy
        # is used unverified, unless it is recognisably another data set.
        known = identify_idx(raw, content)
        if known is not None and known[0] != cls.name:
            raise DataError(_mismatch(path, raw, content, cls.title, ""))
        return False

    def _roots(self, root: Any) -> list[Path]:
        # torchvision keeps the files in root/MNIST/raw (root/FashionMNIST/raw...): a root
        # shared with it works as it is.
        extra = [Path(root).expanduser() / type(self).__name__ / "raw"] if root is not None \
            else []
        return data_roots(root, self.name) + extra

    def _locate(self, root: Any, download: bool) -> tuple[Path, Path] | None:
        roots = self._roots(root)
        found = [find_file(name, roots) for name in FILES[self.train]]
        if all(found):
            return tuple(found)
        if not download or os.environ.get("NEURALAB_OFFLINE"):
            return None
        dest = Path(root).expanduser() if root is not None else cache_dir() / self.name
        try:
            for i, name in enumerate(FILES[self.train]):
                if found[i] is None:
                    print(f"{self.title}: downloading {name}.gz to {dest}", file=sys.stderr)
                    kind, digest = self.checksums()[name]
                    found[i] = download_file(
                        name + ".gz", self.mirrors(), dest,
                        sha256=digest if kind == "sha256" else None,
                        md5=digest if kind == "md5" else None, timeout=15.0)
        except (DataError, OSError) as err:
            print(f"{self.title}: download failed: {err}", file=sys.stderr)
            return None
        return tuple(found)

    def _missing_message(self, root: Any) -> str:
        where = ", ".join(str(r) for r in self._roots(root))
        names = " and ".join(f"{n}.gz" for n in FILES[self.train])
        return (f"To use the full {self.title}, put {names} (gzip or uncompressed; from "
                f"{self.homepage}) in one of: {where} (or set NEURALAB_DATA=/path/to/folder, or "
                "pass root=/--data-root).")

    def transform_batch(self, x: Any) -> Any:
        """uint8 (N, H, W) -> float32 (N, 1, H, W), scaled to [0, 1] and standardised."""
        x = x.astype(default_float)[:, None]  # (N, 1, H, W): one grey channel
        if self.normalize:
            # (x / 255 - mean) / std as one multiply-add on the whole batch.
            scale = default_float(1.0 / (255.0 * self.std))
            x *= scale
            x -= default_float(self.mean / self.std)
        else:
            x *= default_float(1.0 / 255.0)
        return x

    def __getitem__(self, index: int) -> tuple[Any, int]:
        n = len(self.data)
        if not -n <= index < n:
            raise IndexError(f"{self.title}: index {index} out of range for {n} images")
        index = index % n
        y = int(self.targets[index])
        if self.target_transform is not None:
            y = self.target_transform(y)
        if self.transform is not None:
            return self.transform(self.data[index]), y  # the raw (28, 28) uint8 image
        return self.transform_batch(self.data[index:index + 1])[0], y

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        extra = ", shipped subset" if self.is_subset else ""
        return f"{type(self).__name__}({split}, {len(self)} images{extra}, from {self.source})"


class FashionMNIST(MNIST):
    """Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017): Zalando's 28x28 grey article images in 10
    classes, in MNIST's format (60,000 training and 10,000 test images). Arguments as ``MNIST``
    (no shipped subset)."""

    name = "fashion-mnist"
    title = "Fashion-MNIST"
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
    mean, std = 0.2860, 0.3530  # of the 60,000 training images in [0, 1]
    has_subset = False
    homepage = "https://github.com/zalandoresearch/fashion-mnist"

    @classmethod
    def checksums(cls) -> dict[str, tuple[str, str]]:
        return {stem: ("md5", digest) for stem, digest in FASHION_GZ_MD5.items()}

    @classmethod
    def mirrors(cls) -> list[str]:
        return ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST (Clanuwat et al., 2018): 28x28 grey images of 10 cursive Japanese
    (hiragana) characters, in MNIST's format. Arguments as ``MNIST`` (no shipped subset)."""

    name = "kmnist"
    title = "KMNIST"
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
    mean, std = 0.1918, 0.3483  # of the 60,000 training images in [0, 1]
    has_subset = False
    homepage = "https://github.com/rois-codh/kmnist"

    @classmethod
    def checksums(cls) -> dict[str, tuple[str, str]]:
        return {stem: ("md5", digest) for stem, digest in KMNIST_GZ_MD5.items()}

    @classmethod
    def mirrors(cls) -> list[str]:
        return ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]


#: The IDX data sets known by name (``--data NAME``).
IDX_DATASETS: dict[str, type[MNIST]] = {"mnist": MNIST, "fashion-mnist": FashionMNIST,
                                        "kmnist": KMNIST}

_IDX_SPLITS = {True: ("train",), False: ("t10k", "test")}


def find_idx_pair(folder: Path, train: bool) -> tuple[Path, Path] | None:
    """The (images, labels) IDX files of a split in ``folder``: names starting ``train`` (or
    ``t10k``/``test``) and holding ``images``/``labels`` (``train-images-idx3-ubyte[.gz]``,
    ``test-labels.idx1-ubyte``...); None when either is missing."""
    if not folder.is_dir():
        return None
    files = sorted(p for p in folder.iterdir() if p.is_file() and "idx" in p.name.lower())
    pair = []
    for kind in ("images", "labels"):
        match = [p for p in files if p.name.lower().startswith(_IDX_SPLITS[train])
                 and kind in p.name.lower()]
        if not match:
            return None
        pair.append(match[0])
    return pair[0], pair[1]


class IDXFolder(MNIST):
    """Any folder of IDX files in MNIST's layout: a training pair ``train*images*idx*`` and
    ``train*labels*idx*`` and a test pair ``t10k*``/``test*`` (gzip or raw). The classes are the
    label values 0 .. max; the images (N, H, W) are standardised with the training images' mean
    and standard deviation. Nothing is verified (there is no checksum to compare with).

    Args:
        root: the folder.
        train: the training pair, else the test pair.
        normalize: standardise batches (else pixels in [0, 1]).
    """

    name = "idx"
    title = "IDX folder"
    has_subset = False

    def __init__(self, root: str | os.PathLike, train: bool = True, normalize: bool = True):
        self.train, self.normalize = bool(train), bool(normalize)
        self.is_subset, self.verified = False, False
        folder = Path(root).expanduser()
        pair = find_idx_pair(folder, True)  # the training pair fixes classes and statistics
        if pair is None:
            raise DataError(f"IDX folder: no train*images*idx* and train*labels*idx* files in "
                            f"{folder}; name them like MNIST's (train-images-idx3-ubyte[.gz], "
                            "train-labels-idx1-ubyte[.gz], t10k-...)")
        train_images, train_labels = (self._read(p, False)[0] for p in pair)
        if not train:
            pair = find_idx_pair(folder, False)
            if pair is None:
                raise DataError(f"IDX folder: no t10k*/test* images and labels IDX files in "
                                f"{folder}")
        images, labels = (train_images, train_labels) if train else \
            tuple(self._read(p, False)[0] for p in pair)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(f"IDX folder: {pair[0]} holds {images.shape} images but {pair[1]} "
                            f"holds {labels.shape} labels; expected (N, H, W) images and (N,) "
                            "labels of the same split")
        if labels.size and (labels.min() < 0 or labels.max() >= 100_000):
            raise DataError(f"IDX folder: labels of {pair[1]} must be class numbers 0, 1, ...")
        self.num_classes = int(train_labels.max()) + 1 if train_labels.size else 0
        self.classes = [str(c) for c in range(self.num_classes)]
        self.input_shape = (1, *images.shape[1:])
        pixels = train_images.astype(xp.float64) / 255.0
        self.mean, self.std = float(pixels.mean()), float(pixels.std()) or 1.0
        self.data = images.astype(xp.uint8, copy=False)
        self.targets = labels.astype(xp.int64)
        self.source = str(folder)


def _stem(path: Path) -> str:
    return path.name.removesuffix(".gz")
