"""The data sets every command knows by name (``--data NAME``), where each is looked for, and the
builder of its splits.

One vocabulary for every command: ``--data NAME`` picks a data set, ``--data-root DIR`` (or the
environment variable ``NEURALAB_DATA``) says where its files are, ``--image-size N`` or ``HxW``
the size image data sets are decoded at; the experiments take the same names as ``key=value``
(``data=``, ``data_root=``, ``image_size=``). Without a root, each data set is looked for in
``$NEURALAB_DATA`` (and its ``<name>/`` sub-folder), then in the cache folder
(``~/.cache/neuralab/<name>``).

A builder is called as ``builder(root=..., val_split=..., seed=..., subset=..., download=...,
image_size=...)`` and returns ``DataSplits``; ``val_split=None`` keeps the data set's own split
(Caltech-101 has none: its protocol fixes 30 training images per class). ``locate(name, root)``
says what was found where without loading anything (``neuralab data``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuralab.data.dataset import Dataset, random_split
from neuralab.data.datasets.caltech101 import Caltech101
from neuralab.data.datasets.cifar import (
    CIFAR10,
    CIFAR10_MEAN,
    CIFAR10_STD,
    CIFAR100,
    CIFAR100_MEAN,
    CIFAR100_STD,
)
from neuralab.data.datasets.imagefolder import (
    IMAGE_EXTENSIONS,
    ImageFolder,
    parse_image_size,
    resize_images,
)
from neuralab.data.datasets.mnist import FILES, IDX_DATASETS, IDXFolder, find_idx_pair
from neuralab.data.datasets.text import TINYSHAKESPEARE_SHA256
from neuralab.data.download import (
    DataError,
    cache_dir,
    data_roots,
    find_file,
    read_maybe_gzip,
    sha256_file,
)
from neuralab.data.transforms import Compose, RandomCrop, RandomHorizontalFlip
from neuralab.progress import Progress

__all__ = ["DATASETS", "INFO", "DataInfo", "DataNotFound", "DataSplits", "Found", "build",
           "caltech101_folder", "cifar_augmentation", "data_shape", "dataset", "locate",
           "missing_message"]


class DataNotFound(FileNotFoundError):
    """No copy of a data set was found (and none could be downloaded); the message lists where
    neuralab looked, the forms it accepts and how to get one."""


@dataclass
class DataSplits:
    """The splits of a data set plus what the model needs to know about its inputs.

    Attributes:
        train, val, test: datasets (val and test may be None).
        num_classes: number of classes.
        input_shape: shape of one example, e.g. (1, 28, 28).
        is_subset: the shipped subset stands in for the full data.
        description: one line for the log.
        train_transform: optional per-batch augmentation for the training loader.
    """

    train: Dataset
    val: Dataset | None
    test: Dataset | None
    num_classes: int
    input_shape: tuple[int, ...]
    is_subset: bool = False
    description: str = ""
    train_transform: Callable | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class Found:
    """What ``locate`` found for one data set.

    Attributes:
        searched: the folders looked in, in order.
        path: the file or folder found (None: nothing).
        form: which of the accepted forms it is.
        verified: True (checksum matches), False (mismatch), None (nothing to compare with).
        note: a word on the check (or the mismatch).
    """

    searched: list[Path]
    path: Path | None = None
    form: str = ""
    verified: bool | None = None
    note: str = ""


@dataclass
class DataInfo:
    """What a data set is, which forms of it are accepted and how to get it."""

    name: str
    title: str
    summary: str
    forms: list[str]
    get: str
    image: bool = True          # takes --image-size
    default_val_split: float = 0.1
    num_classes: int | None = None
    input_shape: tuple[int, ...] | None = None
    locate: Callable[[Any], Found] | None = None
    train: bool = True          # a --data of `neuralab train` (else only listed, for experiments)


DATASETS: dict[str, Callable[..., DataSplits]] = {}
INFO: dict[str, DataInfo] = {}


def dataset(name: str, info: DataInfo | None = None) -> Callable:
    """Decorator registering a ``DataSplits`` builder (and its description) under ``name``."""

    def decorate(fn: Callable[..., DataSplits]) -> Callable[..., DataSplits]:
        DATASETS[name] = fn
        if info is not None:
            INFO[name] = info
        return fn

    return decorate


def split_train_val(train: Dataset, val_split: float, seed: int) -> tuple[Dataset, Dataset | None]:
    """Hold out a fraction ``val_split`` of ``train`` (a seeded random split) for validation."""
    if not 0.0 <= val_split < 1.0:
        raise ValueError(f"--val-split must be in [0, 1), got {val_split}")
    if val_split == 0:
        return train, None
    n_val = max(1, int(round(len(train) * val_split)))
    fit_part, val_part = random_split(train, [len(train) - n_val, n_val], seed=seed)
    return fit_part, val_part


def build(name: str, **options: Any) -> DataSplits:
    """Build the splits of data set ``name`` (see ``DATASETS`` for the names); options of value
    None take the data set's own defaults."""
    if name not in DATASETS:
        raise KeyError(f"unknown data set {name!r}; choose one of {', '.join(sorted(DATASETS))}")
    return DATASETS[name](**{k: v for k, v in options.items() if v is not None})


def locate(name: str, root: Any = None) -> Found:
    """Where data set ``name`` was looked for and what was found (checksums verified)."""
    info = INFO[name]
    return info.locate(root) if info.locate is not None else Found(data_roots(root, name))


def _val(val_split: float | None, name: str) -> float:
    return INFO[name].default_val_split if val_split is None else val_split


def _missing(name: str, found: Found, reason: str = "") -> DataNotFound:
    info = INFO[name]
    where = "\n    ".join(str(p) for p in found.searched) or "(nowhere: give --data-root DIR)"
    forms = "\n    ".join(info.forms)
    text = (f"{name}: no copy of {info.title} found{': ' + reason if reason else ''}.\n"
            f"  Looked in:\n    {where}\n  Accepted forms:\n    {forms}\n"
            f"  Get it: {info.get}\n"
            f"  Then pass --data-root FOLDER (data_root=FOLDER in experiments) or set "
            f"NEURALAB_DATA=FOLDER; `neuralab data` shows what is found where.")
    return DataNotFound(text)


def missing_message(name: str, root: Any, reason: str = "") -> str:
    """The message of a data set not found under ``root``: where neuralab looked, the forms it
    accepts and how to get one."""
    return str(_missing(name, locate(name, root), reason))


def _offline(download: bool) -> bool:
    return not download or bool(os.environ.get("NEURALAB_OFFLINE"))


# ---- IDX data sets: mnist, fashion-mnist, kmnist, idx --------------------------------------

def _idx_locate(name: str) -> Callable[[Any], Found]:
    def find(root: Any) -> Found:
        cls = IDX_DATASETS[name]
        roots = data_roots(root, name)
        paths = [find_file(stem, roots) for stem in FILES[True] + FILES[False]]
        found = Found(roots)
        if not all(paths):
            missing = [s for s, p in zip(FILES[True] + FILES[False], paths) if p is None]
            if any(paths):
                found.note = f"incomplete: missing {', '.join(missing)}"
            return found
        found.path, found.form = paths[0].parent, "IDX files"
        checks = []
        try:
            for path in paths:
                checks.append(cls.verify_file(path, path.read_bytes(), read_maybe_gzip(path)))
        except DataError as err:
            found.verified, found.note = False, str(err)
            return found
        found.verified = True if all(checks) else None
        found.note = ("checksums match" if all(checks) else
                      "not verified: only the published .gz files have published checksums")
        return found

    return find


def _idx_builder(name: str) -> Callable[..., DataSplits]:
    def build_idx(root: Any = None, val_split: float | None = None, seed: int = 0,
                  subset: bool | None = None, download: bool = True, image_size: Any = None,
                  **_: Any) -> DataSplits:
        cls = IDX_DATASETS[name]
        if not cls.has_subset and not subset:
            found = locate(name, root)
            if found.path is None and _offline(download):
                raise _missing(name, found, found.note)
        try:
            train_full = cls(root, train=True, download=download, subset=subset)
        except DataError as err:
            if "To use the full" in str(err):
                raise _missing(name, locate(name, root)) from None
            raise
        # Use the test split that matches the training data: the shipped subset has its own.
        test = cls(root, train=False, download=download,
                   subset=True if train_full.is_subset else subset)
        _resize_idx(train_full, test, image_size)
        train, val = split_train_val(train_full, _val(val_split, name), seed)
        kind = "shipped subset" if train_full.is_subset else f"full, {train_full.source}"
        return DataSplits(train, val, test, num_classes=cls.num_classes,
                          input_shape=(1, *train_full.data.shape[1:]),
                          is_subset=train_full.is_subset, description=f"{cls.title} ({kind})")

    return build_idx


def _resize_idx(train: Any, test: Any, image_size: Any) -> None:
    size = parse_image_size(image_size)
    if size is None:
        return
    for ds in (train, test):
        if ds is not None and tuple(ds.data.shape[1:3]) != size:
            ds.data = resize_images(ds.data, size, desc=f"resizing {type(ds).__name__}")


_IDX_FORMS = ["the four IDX files train-images-idx3-ubyte, train-labels-idx1-ubyte, "
              "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each .gz or uncompressed)"]

for _name, _title, _summary, _get in [
    ("mnist", "MNIST", "70,000 28x28 grey handwritten digits, 10 classes (a 6,000-image subset "
     "ships with neuralab)", "downloaded automatically when online; or from "
     "https://ossci-datasets.s3.amazonaws.com/mnist/ (the four .gz files)"),
    ("fashion-mnist", "Fashion-MNIST", "70,000 28x28 grey clothing articles, 10 classes",
     "downloaded automatically when online; or the four .gz files from "
     "https://github.com/zalandoresearch/fashion-mnist (data/fashion/)"),
    ("kmnist", "Kuzushiji-MNIST", "70,000 28x28 grey cursive hiragana, 10 classes",
     "downloaded automatically when online; or the four .gz files (MNIST format) from "
     "https://github.com/rois-codh/kmnist"),
]:
    dataset(_name, DataInfo(_name, _title, _summary, _IDX_FORMS, _get, num_classes=10,
                            input_shape=(1, 28, 28), locate=_idx_locate(_name)))(
        _idx_builder(_name))


def _idx_folder_locate(root: Any) -> Found:
    if root is None:
        return Found([], note="give --data-root DIR")
    folder = Path(root).expanduser()
    found = Found([folder])
    if find_idx_pair(folder, True) and find_idx_pair(folder, False):
        found.path, found.form, found.note = folder, "IDX files", "no checksum (any IDX data)"
    return found


@dataset("idx", DataInfo(
    "idx", "an IDX folder", "any folder of MNIST-format IDX files; classes from the labels",
    ["train*images*idx* + train*labels*idx* and t10k*/test* images and labels "
     "(.gz or uncompressed), e.g. EMNIST's or your own"],
    "give the folder with --data-root DIR", num_classes=None, input_shape=None,
    locate=_idx_folder_locate))
def idx_folder(root: Any = None, val_split: float | None = None, seed: int = 0,
               image_size: Any = None, **_: Any) -> DataSplits:
    """Any folder of IDX files (``--data idx --data-root DIR``)."""
    found = _idx_folder_locate(root)
    if found.path is None:
        raise _missing("idx", found)
    train_full = IDXFolder(root, train=True)
    test = IDXFolder(root, train=False)
    _resize_idx(train_full, test, image_size)
    train, val = split_train_val(train_full, _val(val_split, "idx"), seed)
    return DataSplits(train, val, test, num_classes=train_full.num_classes,
                      input_shape=(1, *train_full.data.shape[1:]),
                      description=f"IDX folder {train_full.source} "
                      f"({train_full.num_classes} classes)")


# ---- CIFAR-10 and CIFAR-100 ------------------------------------------------------------------

#: SHA-256 of the CIFAR-10 image-folder archive in ../shared/datasets (a known copy: JPEG, q 75).
CIFAR10_JPG_SHA256 = "b4d6b53403b47a973a5b2a9be8c1d46671215710ff260ffb85e85b188866d228"

_CIFAR10_FORMS = [
    "cifar-10-python.tar.gz (the python version, 163 MB)",
    "cifar-10-binary.tar.gz (the binary version, 162 MB)",
    "an image-folder archive or tree: cifar10-jpg.tar.gz or cifar10-jpg/ holding "
    "[top/]{train,test}/<class>/<image>",
]


def cifar_augmentation(size: tuple[int, int] = (32, 32)) -> Callable:
    """Pad 4 (scaled with the image size: size/8), random crop back to the image size,
    horizontal flip: the CIFAR augmentation of He et al. (2016)."""
    pad = max(1, round(4 * size[0] / 32))
    return Compose([RandomCrop(size, padding=pad), RandomHorizontalFlip()])


def _md5_file(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _check(found: Found, path: Path, form: str, kind: str | None, digest: str | None) -> Found:
    found.path, found.form = path, form
    if path.is_dir() or kind is None:
        found.verified, found.note = None, "a folder" if path.is_dir() else \
            "no published checksum"
        return found
    got = _md5_file(path) if kind == "md5" else sha256_file(path)
    found.verified = got == digest
    found.note = (("the published MD5 matches" if kind == "md5" else
                   "the SHA-256 of a known copy matches") if found.verified else
                  f"{kind.upper()} {got} differs from {digest}: corrupt, incomplete or another "
                  "copy")
    return found


def _locate_cifar10(root: Any) -> Found:
    roots = data_roots(root, "cifar10")
    found = Found(roots)
    candidates = [("cifar-10-python.tar.gz", "python tarball", "md5", CIFAR10.md5),
                  ("cifar-10-binary.tar.gz", "binary tarball", "md5", CIFAR10.binary_md5),
                  ("cifar10-jpg.tar.gz", "image-folder archive", "sha256", CIFAR10_JPG_SHA256),
                  ("cifar10-jpg", "image-folder tree", None, None)]
    for folder in roots:
        for filename, form, kind, digest in candidates:
            path = folder / filename
            if path.is_file() or (kind is None and (path / "train").is_dir()):
                return _check(found, path, form, kind, digest)
    return found


@dataset("cifar10", DataInfo(
    "cifar10", "CIFAR-10", "60,000 32x32 colour images, 10 classes", _CIFAR10_FORMS,
    "https://www.cs.toronto.edu/~kriz/cifar.html (downloaded automatically when online: the "
    "python version, into --data-root or the cache folder)", num_classes=10,
    input_shape=(3, 32, 32), locate=_locate_cifar10))
def cifar10(root: Any = None, val_split: float | None = None, seed: int = 0,
            subset: bool | None = None, download: bool = True, image_size: Any = None,
            **_: Any) -> DataSplits:
    """CIFAR-10 from the python tarball, the binary tarball or an image-folder archive/tree
    (``cifar10-jpg.tar.gz``), found in ``--data-root``, ``$NEURALAB_DATA`` or the cache, or
    downloaded; standardised per channel, training batches augmented with random crops and
    flips."""
    size = parse_image_size(image_size)
    norm = (CIFAR10_MEAN, CIFAR10_STD)
    found = _locate_cifar10(root)
    if found.path is None:
        if _offline(download):
            raise _missing("cifar10", found, "downloading is off")
        folder = Path(root).expanduser() if root is not None else cache_dir() / "cifar10"
        try:
            CIFAR10(folder, train=False, download=True)
        except (RuntimeError, ValueError) as err:
            raise _missing("cifar10", found, f"downloading {CIFAR10.url} failed "
                           f"({err.__cause__ or err})") from None
        found = _locate_cifar10(root if root is not None else folder)
    path = found.path
    if path.name.endswith(".tar.gz") and found.form.endswith("tarball"):
        train_full = CIFAR10(path.parent, train=True, download=False, normalize=norm)
        test = CIFAR10(path.parent, train=False, download=False, normalize=norm)
        if size is not None and size != (32, 32):
            for ds in (train_full, test):
                ds.data = resize_images(ds.data, size, desc="resizing CIFAR-10")
    elif path.is_dir():
        train_full = ImageFolder(path / "train", normalize=norm, size=size)
        test = ImageFolder(path / "test", normalize=norm, size=size)
    else:
        train_full = ImageFolder.from_archive(path, split="train", normalize=norm, size=size)
        test = ImageFolder.from_archive(path, split="test", normalize=norm, size=size)
    if found.verified is False:
        print(f"cifar10: note: {path}: {found.note}", file=sys.stderr)
    train, val = split_train_val(train_full, _val(val_split, "cifar10"), seed)
    shape = tuple(train_full.data.shape[1:3])
    return DataSplits(train, val, test, num_classes=10, input_shape=(3, *shape),
                      description=f"CIFAR-10 ({found.form} {path})",
                      train_transform=cifar_augmentation(shape))


def _locate_cifar100(root: Any) -> Found:
    roots = data_roots(root, "cifar100")
    found = Found(roots)
    for folder in roots:
        path = folder / CIFAR100.filename
        if path.is_file():
            return _check(found, path, "python tarball", "md5", CIFAR100.md5)
    return found


@dataset("cifar100", DataInfo(
    "cifar100", "CIFAR-100", "60,000 32x32 colour images, 100 classes",
    ["cifar-100-python.tar.gz (the python version, 161 MB)"],
    "https://www.cs.toronto.edu/~kriz/cifar.html (downloaded automatically when online)",
    num_classes=100, input_shape=(3, 32, 32), locate=_locate_cifar100))
def cifar100(root: Any = None, val_split: float | None = None, seed: int = 0,
             download: bool = True, image_size: Any = None, **_: Any) -> DataSplits:
    """CIFAR-100 (100 fine classes) from the official python archive."""
    size = parse_image_size(image_size)
    norm = (CIFAR100_MEAN, CIFAR100_STD)
    found = _locate_cifar100(root)
    if found.path is None and _offline(download):
        raise _missing("cifar100", found, "downloading is off")
    folder = found.path.parent if found.path is not None else (
        Path(root).expanduser() if root is not None else cache_dir() / "cifar100")
    try:
        train_full = CIFAR100(folder, train=True, download=download, normalize=norm)
    except RuntimeError as err:
        raise _missing("cifar100", found, f"downloading {CIFAR100.url} failed "
                       f"({err.__cause__ or err})") from None
    test = CIFAR100(folder, train=False, download=download, normalize=norm)
    if size is not None and size != (32, 32):
        for ds in (train_full, test):
            ds.data = resize_images(ds.data, size, desc="resizing CIFAR-100")
    train, val = split_train_val(train_full, _val(val_split, "cifar100"), seed)
    shape = tuple(train_full.data.shape[1:3])
    return DataSplits(train, val, test, num_classes=100, input_shape=(3, *shape),
                      description=f"CIFAR-100 ({folder})",
                      train_transform=cifar_augmentation(shape))


# ---- image folders and Caltech-101 -----------------------------------------------------------

def _locate_imagefolder(root: Any) -> Found:
    if root is None:
        return Found([], note="give --data-root DIR")

    path = Path(root).expanduser()
    found = Found([path])

    def holds_images(folder: Path) -> bool:
        return any(p.suffix.lower() in IMAGE_EXTENSIONS for p in list(folder.iterdir())[:50])

    if path.is_file() and tarfile.is_tarfile(path):
        found.path, found.form, found.note = path, "image-folder archive", "no checksum"
    elif path.is_dir():
        top = path / "train" if (path / "train").is_dir() else path
        classes = [p for p in top.iterdir() if p.is_dir()]
        if classes and holds_images(classes[0]):
            found.path, found.form, found.note = path, "image-folder tree", "a folder"
    return found


@dataset("imagefolder", DataInfo(
    "imagefolder", "an image folder", "any tree of class folders of images (JPEG, PNG, ...)",
    ["a folder DIR/{train,test}/<class>/<image> (test/ or val/ optional) or DIR/<class>/<image>",
     "a .tar/.tar.gz of such a tree"],
    "give the folder or archive with --data-root; --image-size HxW when the images differ in "
    "size", default_val_split=0.1, locate=_locate_imagefolder))
def imagefolder(root: Any = None, val_split: float | None = None, seed: int = 0,
                image_size: Any = None, size: Any = None, **_: Any) -> DataSplits:
    """Any ``root/{train,test}/<class>/<image>`` tree (or a .tar.gz of one); images in [0, 1]."""
    size = parse_image_size(image_size if image_size is not None else size)
    found = _locate_imagefolder(root)
    if found.path is None:
        raise _missing("imagefolder", found)
    root = found.path
    if root.is_file():
        train_full = ImageFolder.from_archive(root, split="train", size=size)
        test = ImageFolder.from_archive(root, split="test", size=size)
    else:
        test_dir = next((root / s for s in ("test", "val") if (root / s).is_dir()), None)
        train_full = ImageFolder(root / "train" if (root / "train").is_dir() else root,
                                 size=size)
        test = ImageFolder(test_dir, size=size) if test_dir is not None else None
    train, val = split_train_val(train_full, _val(val_split, "imagefolder"), seed)
    h, w = train_full.data.shape[1:3]
    return DataSplits(train, val, test, num_classes=len(train_full.classes),
                      input_shape=(3, h, w), description=f"image folder {root}")


#: SHA-256 of the downscaled Caltech-101 archive in ../shared/datasets (a known copy).
CALTECH101_160PX_SHA256 = "d7afbefaf74a1f21be9184a2e02be26d3f2ec8e2a8e90f4ccfc04a8d0714d7ec"
#: MD5 of 101_ObjectCategories.tar.gz as published (inside caltech-101.zip; torchvision's value).
CALTECH101_MD5 = "b224c7392d521a49829488ab0f1120d9"

_CALTECH_CANDIDATES = [
    ("101_ObjectCategories", "image-folder tree", None, None),
    ("caltech101-160px", "image-folder tree", None, None),
    ("101_ObjectCategories.tar.gz", "archive", "md5", CALTECH101_MD5),
    ("caltech101-160px.tar.gz", "archive", "sha256", CALTECH101_160PX_SHA256),
]


def _locate_caltech101(root: Any) -> Found:
    roots = data_roots(root, "caltech101")
    found = Found(roots)
    for folder in roots:
        if folder.is_dir() and (folder / "accordion").is_dir():
            return _check(found, folder, "image-folder tree", None, None)
        for name, form, kind, digest in _CALTECH_CANDIDATES:
            path = folder / name
            if (path.is_dir() and kind is None) or (path.is_file() and kind is not None):
                return _check(found, path, form, kind, digest)
    return found


def extract_archive(archive: Path, name: str) -> Path:
    """Extract ``archive`` once into the cache (``cache_dir()/name/<archive stem>``), atomically
    (into a temporary folder, then renamed), saying where and how big; returns the folder."""
    stem = archive.name.removesuffix(".gz").removesuffix(".tar").removesuffix(".tgz")
    target = cache_dir() / name / stem
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{stem}.", dir=target.parent))
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            safe = [m for m in members if (m.isfile() or m.isdir()) and not m.name.startswith("/")
                    and ".." not in Path(m.name).parts]
            with Progress(None, total=len(safe), desc=f"extracting {archive.name}",
                          unit="file") as bar:
                for member in safe:
                    tar.extract(member, tmp, filter="data")
                    bar.update(1)
        # An archive of one top folder holding the classes: keep that folder's content.
        inner = [p for p in tmp.iterdir()]
        source = inner[0] if len(inner) == 1 and inner[0].is_dir() and not any(
            (inner[0] / c).is_file() for c in os.listdir(inner[0])) else tmp
        os.replace(source, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    print(f"{name}: extracted {archive} ({size / 2**20:.0f} MB) to {target}; `neuralab cache` "
          "lists caches, `neuralab cache clear` removes them", file=sys.stderr)
    return target


def caltech101_folder(root: Any = None) -> Path:
    """The folder of Caltech-101's class folders, found as ``--data caltech101`` finds it
    (``root``, ``$NEURALAB_DATA``, the cache; a ``.tar.gz`` is extracted once into the cache).

    Raises:
        DataNotFound: nothing found; the message lists where neuralab looked and how to get it.
    """
    found = _locate_caltech101(root)
    if found.path is None:
        raise _missing("caltech101", found)
    return extract_archive(found.path, "caltech101") if found.path.is_file() else found.path


@dataset("caltech101", DataInfo(
    "caltech101", "Caltech-101",
    "9,144 colour photographs of 101 object classes and a clutter class (varying sizes); "
    "30 training images per class, the rest for testing",
    ["a folder 101_ObjectCategories/<class>/<image> (or a copy such as caltech101-160px/)",
     "101_ObjectCategories.tar.gz or caltech101-160px.tar.gz (extracted once into the cache)"],
    "https://data.caltech.edu/records/mzrjq-6wc02 (caltech-101.zip holds "
    "101_ObjectCategories.tar.gz)", default_val_split=0.0, num_classes=101,
    input_shape=(3, 224, 224), locate=_locate_caltech101))
def caltech101(root: Any = None, val_split: float | None = None, seed: int = 0,
               image_size: Any = None, size: Any = None, train_per_class: int = 30,
               **_: Any) -> DataSplits:
    """Caltech-101, 30 training images per class, the rest for testing; ImageNet normalisation.
    Decoded at ``image_size`` (default 224x224), lazily when large."""
    size = parse_image_size(image_size if image_size is not None else size) or (224, 224)
    folder = caltech101_folder(root)
    norm = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    train_full = Caltech101(folder, train=True, train_per_class=train_per_class, size=size,
                            seed=seed, normalize=norm)
    test = Caltech101(folder, train=False, train_per_class=train_per_class, size=size,
                      seed=seed, normalize=norm)
    train, val = split_train_val(train_full, _val(val_split, "caltech101"), seed)
    return DataSplits(train, val, test, num_classes=len(train_full.classes),
                      input_shape=(3, *train_full.size),
                      description=f"Caltech-101 ({folder}, {size[0]}x{size[1]})",
                      train_transform=Compose([RandomHorizontalFlip()]))


def data_shape(name: str, root: Any = None, image_size: Any = None
               ) -> tuple[tuple[int, ...], int | None]:
    """The shape of one example and the number of classes of data set ``name`` (at
    ``image_size`` for image data sets) without loading it: from the catalogue, or for ``idx``
    and ``imagefolder`` from the files' headers under ``root``.

    Raises:
        KeyError: an unknown data set; DataNotFound: ``idx``/``imagefolder`` files not found.
    """
    if name not in DATASETS:
        raise KeyError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    info = INFO[name]
    size = parse_image_size(image_size)
    if info.input_shape is not None:
        channels = info.input_shape[0]
        return (channels, *(size or info.input_shape[1:])), info.num_classes
    found = info.locate(root)
    if found.path is None:
        raise _missing(name, found)
    if name == "idx":
        train = IDXFolder(found.path, train=True)
        return (1, *(size or train.data.shape[1:])), train.num_classes
    top = found.path
    if top.is_file():
        raise DataNotFound(f"{name}: give --image-size HxW for an archive (its images are not "
                           "read to find their size)")
    top = top / "train" if (top / "train").is_dir() else top
    classes = sorted(p for p in top.iterdir() if p.is_dir())
    if size is None:
        from PIL import Image

        first = next(p for p in sorted(classes[0].iterdir()) if p.is_file())
        with Image.open(first) as img:
            size = (img.size[1], img.size[0])
    return (3, *size), len(classes)


def data_summary(names: list[str] | None = None) -> str:
    """A few lines naming the data sets of ``--data``, for ``--help``."""
    rows = [f"  {n:<14} {INFO[n].summary}" for n in names or INFO if INFO[n].train]
    return "\n".join(rows)



# ---- listed by `neuralab data` for the experiments, not a --data of `neuralab train` ---------

def _locate_tinyshakespeare(root: Any) -> Found:
    roots = data_roots(root, "tinyshakespeare")
    found = Found(roots)
    path = find_file("input.txt", roots)
    if path is not None:
        _check(found, path, "text file", "sha256", TINYSHAKESPEARE_SHA256)
    return found


INFO["tinyshakespeare"] = DataInfo(
    "tinyshakespeare", "Tiny Shakespeare",
    "1,115,394 characters of Shakespeare (the char-rnn experiment; data_root=DIR)",
    ["input.txt (in DIR or DIR/tinyshakespeare/)"],
    "downloaded when online; or input.txt from "
    "https://github.com/karpathy/char-rnn (data/tinyshakespeare/)",
    image=False, locate=_locate_tinyshakespeare, train=False)
