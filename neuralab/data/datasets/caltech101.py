"""Caltech-101 (Fei-Fei, Fergus & Perona, 2004): 101 object categories, 31 to 800 images each.

The usual protocol (used in the course's transfer-learning experiments) trains on a fixed number
of images per class, 30, and tests on the rest. The split here is stratified and deterministic:
within each class the sorted file list is shuffled by a generator seeded with ``(seed, class
index)``, its first ``train_per_class`` files are the training set and the rest (at most
``test_per_class``) the test set. Changing ``seed`` gives another split; a class never leaks
images across the split.

Expected layout: ``root/101_ObjectCategories/<class>/image_XXXX.jpg`` (or ``root`` itself being
``101_ObjectCategories``). ``BACKGROUND_Google`` is a clutter class, left out by default.
Images vary in size and some are grey, so every image is converted to RGB and resized to ``size``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neuralab.backend import xp
from neuralab.data.datasets.imagefolder import ImageFolder, decode_image, file_key

__all__ = ["Caltech101"]

BACKGROUND = "BACKGROUND_Google"


class Caltech101(ImageFolder):
    """Caltech-101 with a deterministic stratified train/test split, decoded to memory.

    Args:
        root: folder holding ``101_ObjectCategories`` (or that folder itself).
        train: the training part of the split, else the test part.
        train_per_class: training images per class (30 in the usual protocol); a class with fewer
            images than ``train_per_class + 1`` raises an error, since it would have no test image.
        test_per_class: at most this many test images per class; None keeps all the others.
        include_background: keep the ``BACKGROUND_Google`` clutter class.
        size: (h, w) every image is resized to (default 224x224).
        seed: seed of the split.
        transform, target_transform, cache, normalize, lazy, progress: as in ``ImageFolder``
            (at 224x224 the images are decoded lazily, when a batch first uses them: a run on a
            few hundred images decodes only those).
    """

    def __init__(self, root: str | os.PathLike, train: bool = True, train_per_class: int = 30,
                 test_per_class: int | None = None, include_background: bool = False,
                 size: Any = (224, 224), seed: int = 0, transform: Callable | None = None,
                 target_transform: Callable | None = None, cache: bool = True,
                 normalize: Any = None, lazy: bool | None = None,
                 progress: bool | None = True):
        super().__init__(root, transform=transform, cache=False, size=size,
                         target_transform=target_transform, normalize=normalize, lazy=lazy,
                         progress=progress, _load=False)
        if not isinstance(train_per_class, int) or train_per_class < 1:
            raise ValueError(f"Caltech101: train_per_class must be a positive int, got "
                             f"{train_per_class!r}")
        folder = Path(root)
        if (folder / "101_ObjectCategories").is_dir():
            folder = folder / "101_ObjectCategories"
        if not folder.is_dir():
            raise FileNotFoundError(
                f"Caltech101: {root} does not exist; download 101_ObjectCategories.tar.gz from "
                "https://data.caltech.edu/records/mzrjq-6wc02 and extract it there"
            )
        self.train = train
        classes, files, targets = self._scan(folder)
        if not include_background and BACKGROUND in classes:
            drop = classes.index(BACKGROUND)
            keep = [i for i, t in enumerate(targets) if t != drop]
            files = [files[i] for i in keep]
            targets = [t - (t > drop) for t in (targets[i] for i in keep)]
            classes = [c for c in classes if c != BACKGROUND]
        self._set_classes(classes)
        targets = xp.asarray(targets, dtype=xp.int64)
        chosen: list[int] = []
        for index, name in enumerate(classes):
            members = xp.flatnonzero(targets == index)  # sorted by file name (from _scan)
            if len(members) <= train_per_class:
                raise ValueError(
                    f"Caltech101: class folder {folder / name} has {len(members)} images, not "
                    f"more than train_per_class={train_per_class}; lower train_per_class"
                )
            order = members[xp.random.default_rng([seed, index]).permutation(len(members))]
            part = order[:train_per_class] if train else order[train_per_class:]
            if not train and test_per_class is not None:
                part = part[:test_per_class]
            chosen += sorted(part.tolist())
        self.files = [files[i] for i in chosen]
        key = [file_key(f) for f in self.files]
        self.data, self.targets = self._decode_cached(
            [str(f) for f in self.files], targets[chosen], cache, key_parts=key,
            reader=lambda name: decode_image(name, name, self.size))

