"""Data sets the ``neuralab train`` command knows by name: name -> builder of the splits.

A builder is called as ``builder(root=..., val_split=..., seed=..., subset=..., download=...)``
and returns ``DataSplits``; register one with ``@dataset("name")``. Other data sets (cifar10,
cifar100, imagefolder, caltech101) append their entries below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from neuralab.data.dataset import Dataset, random_split

__all__ = ["DATASETS", "DataSplits", "build", "dataset"]


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


DATASETS: dict[str, Callable[..., DataSplits]] = {}


def dataset(name: str) -> Callable:
    """Decorator registering a ``DataSplits`` builder under ``name``."""

    def decorate(fn: Callable[..., DataSplits]) -> Callable[..., DataSplits]:
        DATASETS[name] = fn
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
    """Build the splits of data set ``name`` (see ``DATASETS`` for the names)."""
    if name not in DATASETS:
        raise KeyError(f"unknown data set {name!r}; choose one of {', '.join(sorted(DATASETS))}")
    return DATASETS[name](**options)


@dataset("mnist")
def mnist(root: Any = None, val_split: float = 0.1, seed: int = 0, subset: bool | None = None,
          download: bool = True, **_: Any) -> DataSplits:
    """MNIST (full data when found, else the shipped subset)."""
    from neuralab.data.datasets.mnist import MNIST

    train_full = MNIST(root, train=True, download=download, subset=subset)
    # Use the test split that matches the training data: the shipped subset has its own.
    test = MNIST(root, train=False, download=download, subset=True if train_full.is_subset
                 else subset)
    train, val = split_train_val(train_full, val_split, seed)
    kind = "shipped subset" if train_full.is_subset else "full"
    return DataSplits(train, val, test, num_classes=10, input_shape=(1, 28, 28),
                      is_subset=train_full.is_subset,
                      description=f"MNIST ({kind})" if train_full.is_subset
                      else f"MNIST ({kind}, {train_full.source})")


# ---- other data sets append their builders below (cifar10, cifar100, imagefolder, caltech101)


# ---- image data sets (cifar10, cifar100, imagefolder, caltech101) ---------------------------

def _cifar_augmentation() -> Callable:
    """Pad 4, random 32x32 crop, horizontal flip: the CIFAR augmentation of He et al. (2016)."""
    from neuralab.data.transforms import Compose, RandomCrop, RandomHorizontalFlip

    return Compose([RandomCrop(32, padding=4), RandomHorizontalFlip()])


def _find_in_roots(root: Any, name: str, candidates: tuple[str, ...]) -> Any:
    from neuralab.data.download import data_roots

    for folder in data_roots(root, name):
        for candidate in candidates:
            if (folder / candidate).exists():
                return folder / candidate
    return None


@dataset("cifar10")
def cifar10(root: Any = None, val_split: float = 0.1, seed: int = 0, subset: bool | None = None,
            download: bool = True, **_: Any) -> DataSplits:
    """CIFAR-10: the official python archive when found, else the image-folder JPEG archive
    ``cifar10-jpg.tar.gz`` (``--data-root`` or ``$NEURALAB_DATA``); standardised per channel,
    training batches augmented with random crops and flips."""
    from neuralab.data.datasets.cifar import CIFAR10, CIFAR10_MEAN, CIFAR10_STD
    from neuralab.data.datasets.imagefolder import ImageFolder

    norm = (CIFAR10_MEAN, CIFAR10_STD)
    official = _find_in_roots(root, "cifar10", ("cifar-10-python.tar.gz",))
    jpeg = _find_in_roots(root, "cifar10", ("cifar10-jpg.tar.gz", "cifar10-jpg"))
    if official is not None or (jpeg is None and download):
        folder = official.parent if official is not None else _roots_first(root, "cifar10")
        train_full = CIFAR10(folder, train=True, download=download, normalize=norm)
        test = CIFAR10(folder, train=False, download=download, normalize=norm)
        source = f"official archive in {folder}"
    elif jpeg is not None:
        if jpeg.is_dir():
            train_full = ImageFolder(jpeg / "train", normalize=norm)
            test = ImageFolder(jpeg / "test", normalize=norm)
        else:
            train_full = ImageFolder.from_archive(jpeg, split="train", normalize=norm)
            test = ImageFolder.from_archive(jpeg, split="test", normalize=norm)
        source = f"JPEG copy {jpeg}"
    else:
        raise FileNotFoundError(
            "cifar10: found neither cifar-10-python.tar.gz nor cifar10-jpg.tar.gz; give "
            "--data-root (or set $NEURALAB_DATA) to the folder holding one of them, or allow "
            "downloading"
        )
    train, val = split_train_val(train_full, val_split, seed)
    return DataSplits(train, val, test, num_classes=10, input_shape=(3, 32, 32),
                      description=f"CIFAR-10 ({source})", train_transform=_cifar_augmentation())


def _roots_first(root: Any, name: str) -> Any:
    from neuralab.data.download import data_roots

    return data_roots(root, name)[0]


@dataset("cifar100")
def cifar100(root: Any = None, val_split: float = 0.1, seed: int = 0, download: bool = True,
             **_: Any) -> DataSplits:
    """CIFAR-100 (100 fine classes) from the official python archive."""
    from neuralab.data.datasets.cifar import CIFAR100, CIFAR100_MEAN, CIFAR100_STD

    norm = (CIFAR100_MEAN, CIFAR100_STD)
    found = _find_in_roots(root, "cifar100", ("cifar-100-python.tar.gz",))
    folder = found.parent if found is not None else _roots_first(root, "cifar100")
    train_full = CIFAR100(folder, train=True, download=download, normalize=norm)
    test = CIFAR100(folder, train=False, download=download, normalize=norm)
    train, val = split_train_val(train_full, val_split, seed)
    return DataSplits(train, val, test, num_classes=100, input_shape=(3, 32, 32),
                      description=f"CIFAR-100 ({folder})", train_transform=_cifar_augmentation())


@dataset("imagefolder")
def imagefolder(root: Any = None, val_split: float = 0.1, seed: int = 0, size: Any = None,
                **_: Any) -> DataSplits:
    """Any ``root/{train,test}/<class>/<image>`` tree (or a .tar.gz of one); images in [0, 1]."""
    from pathlib import Path

    from neuralab.data.datasets.imagefolder import ImageFolder

    if root is None:
        raise FileNotFoundError("imagefolder: give --data-root, the folder (or .tar.gz) holding "
                                "train/ and test/ sub-folders of class folders")
    root = Path(root)
    if root.is_file():
        train_full = ImageFolder.from_archive(root, split="train", size=size)
        test = ImageFolder.from_archive(root, split="test", size=size)
    else:
        test_dir = next((root / s for s in ("test", "val") if (root / s).is_dir()), None)
        train_full = ImageFolder(root / "train" if (root / "train").is_dir() else root,
                                 size=size)
        test = ImageFolder(test_dir, size=size) if test_dir is not None else None
    train, val = split_train_val(train_full, val_split, seed)
    h, w = train_full.data.shape[1:3]
    return DataSplits(train, val, test, num_classes=len(train_full.classes),
                      input_shape=(3, h, w), description=f"image folder {root}")


@dataset("caltech101")
def caltech101(root: Any = None, val_split: float = 0.0, seed: int = 0,
               size: Any = (224, 224), train_per_class: int = 30, **_: Any) -> DataSplits:
    """Caltech-101, 30 training images per class, the rest for testing; ImageNet normalisation."""
    from neuralab.data.datasets.caltech101 import Caltech101
    from neuralab.data.transforms import Compose, RandomHorizontalFlip

    if root is None:
        raise FileNotFoundError("caltech101: give --data-root, the folder holding "
                                "101_ObjectCategories")
    norm = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    train_full = Caltech101(root, train=True, train_per_class=train_per_class, size=size,
                            seed=seed, normalize=norm)
    test = Caltech101(root, train=False, train_per_class=train_per_class, size=size, seed=seed,
                      normalize=norm)
    train, val = split_train_val(train_full, val_split, seed)
    return DataSplits(train, val, test, num_classes=len(train_full.classes),
                      input_shape=(3, *train_full.size), description=f"Caltech-101 ({root})",
                      train_transform=Compose([RandomHorizontalFlip()]))
