"""Image-folder data sets: ``root/<class>/<image>`` trees of JPEG/PNG files, or a tar of one.

Images are decoded once with Pillow into one uint8 array ``data`` of shape (N, H, W, 3) (the layout
of torchvision's CIFAR10.data) with integer ``targets``, so that a DataLoader batches them by fancy
indexing and the per-batch transforms of ``neuralab.data.transforms`` do the rest. Decoding 60,000
JPEGs takes a while, so the decoded arrays are cached in an ``.npz`` file (written to a temporary
name, then renamed: a crash never leaves half a cache) keyed by the file list, sizes and times.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from neuralab.backend import xp
from neuralab.data.dataset import Dataset
from neuralab.data.download import cache_dir
from neuralab.fileio import atomic_savez

__all__ = ["IMAGE_EXTENSIONS", "ImageDataset", "ImageFolder", "decode_image"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".ppm", ".webp")


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "ImageFolder: decoding JPEG/PNG images needs Pillow; install it with "
            "`pip install pillow` or `pip install neuralab[train]`"
        ) from exc
    return Image


def decode_image(source: Any, name: str, size: tuple[int, int] | None = None) -> Any:
    """Decode one image file (a path or a file object) to a uint8 (H, W, 3) RGB array.

    Args:
        source: path or binary file object.
        name: the file's name for error messages.
        size: (height, width) to resize to (bilinear), or None to keep the image's size.

    Raises:
        ValueError: naming the file, when it is not a readable image.
    """
    Image = _pillow()
    try:
        with Image.open(source) as img:
            img = img.convert("RGB")
            if size is not None and img.size != (size[1], size[0]):
                img = img.resize((size[1], size[0]), Image.BILINEAR)
            return xp.asarray(img, dtype=xp.uint8)
    except Exception as exc:  # Pillow raises several types for truncated or non-image files
        raise ValueError(
            f"ImageFolder: cannot decode image {name}: {exc}; delete or replace the file"
        ) from exc


def _stack(images: list, names: list[str], size: Any) -> Any:
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        first = images[0].shape
        odd = next(n for n, im in zip(names, images) if im.shape != first)
        raise ValueError(
            f"ImageFolder: images have different sizes ({names[0]} is {first[:2]}, {odd} is "
            f"{images[names.index(odd)].shape[:2]}); pass size=(h, w) to resize them on decoding"
        )
    if not images:
        return xp.zeros((0,) + (tuple(size) if size else (0, 0)) + (3,), dtype=xp.uint8)
    return xp.stack(images)


def _load_cache(path: Path) -> tuple[Any, Any] | None:
    if not path.is_file():
        return None
    try:
        with xp.load(path, allow_pickle=False) as z:
            return z["data"], z["targets"]
    except Exception:  # a stale or unreadable cache is rebuilt, never trusted
        return None


class ImageDataset(Dataset):
    """Base of the in-memory image data sets: uint8 ``data`` (N, H, W, 3) and int64 ``targets``.

    The DataLoader takes a batch as ``data[rows]`` and hands it to ``transform_batch``, which turns
    uint8 NHWC into float32 NCHW in [0, 1] and, when ``normalize=(mean, std)`` is set,
    standardises each channel: ``(x - mean[c]) / std[c]``.
    """

    normalize: tuple | None = None
    transform: Callable | None = None
    target_transform: Callable | None = None

    def transform_batch(self, x: Any) -> Any:
        """uint8 (N, H, W, C) -> float32 (N, C, H, W), scaled to [0, 1] and maybe normalised."""
        x = x.transpose(0, 3, 1, 2).astype(xp.float32) * xp.float32(1 / 255)  # NHWC -> NCHW
        if self.normalize is not None:
            mean, std = (xp.asarray(v, dtype=xp.float32).reshape(1, -1, 1, 1)
                         for v in self.normalize)
            x = (x - mean) / std
        return xp.ascontiguousarray(x)

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """Example ``index``: the transformed image (CHW float32 by default) and its label."""
        x = self.transform_batch(self.data[index:index + 1])[0]
        y = int(self.targets[index])
        if self.transform is not None:
            x = self.transform(x)
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y


def _check_size(size: Any) -> tuple[int, int] | None:
    if size is None:
        return None
    if isinstance(size, int):
        size = (size, size)
    if len(size) != 2 or min(size) <= 0:
        raise ValueError(f"ImageFolder: size must be None, an int or (h, w), got {size!r}")
    return int(size[0]), int(size[1])


class ImageFolder(ImageDataset):
    """A ``root/<class>/<image>`` tree decoded to memory (classes sorted by name, as torchvision).

    Args:
        root: the folder holding one sub-folder per class.
        transform: applied to the image in ``__getitem__`` (for batch-wise augmentation give the
            transform to the DataLoader instead).
        cache: cache the decoded arrays in ``cache_dir()`` so the next run skips decoding.
        size: (h, w) to resize every image to on decoding; needed when sizes differ.
        target_transform: applied to the label in ``__getitem__``.
        normalize: ``(mean, std)`` per channel, applied in ``transform_batch``; None keeps [0, 1].

    Attributes:
        data: uint8 array (N, H, W, 3).
        targets: int64 array (N,).
        classes: class names, ``class_to_idx``: name -> index, ``files``: the image paths.

    Raises:
        FileNotFoundError: root missing or without class folders.
        ValueError: an empty class folder or an undecodable image (naming it).
    """

    def __init__(self, root: str | os.PathLike, transform: Callable | None = None,
                 cache: bool = True, size: Any = None,
                 target_transform: Callable | None = None, normalize: Any = None,
                 _load: bool = True):
        self.root = Path(root)
        self.normalize = normalize
        self.transform, self.target_transform = transform, target_transform
        self.size = _check_size(size)
        if not _load:  # filled in by from_archive / subclasses
            return
        classes, files, targets = self._scan(self.root)
        self._set_classes(classes)
        self.files = files
        self.data, self.targets = self._decode_cached(
            [str(f) for f in files], xp.asarray(targets, dtype=xp.int64), cache,
            key_parts=[f"{f}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files],
            reader=lambda name: decode_image(name, name, self.size))

    # -- scanning and decoding -----------------------------------------------------------------

    @staticmethod
    def _scan(root: Path) -> tuple[list[str], list[Path], list[int]]:
        if not root.is_dir():
            raise FileNotFoundError(f"ImageFolder: folder {root} does not exist")
        classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not
                         d.name.startswith("."))
        if not classes:
            raise FileNotFoundError(
                f"ImageFolder: {root} has no class folders; expected root/<class>/<image> files"
            )
        files: list[Path] = []
        targets: list[int] = []
        for index, name in enumerate(classes):
            images = sorted(p for p in (root / name).iterdir()
                            if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
            if not images:
                raise ValueError(
                    f"ImageFolder: class folder {root / name} holds no images "
                    f"({', '.join(IMAGE_EXTENSIONS)}); remove the folder or add images"
                )
            files += images
            targets += [index] * len(images)
        return classes, files, targets

    def _set_classes(self, classes: Sequence[str]) -> None:
        self.classes = list(classes)
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def _decode_cached(self, names: list[str], targets: Any, cache: bool,
                       key_parts: Iterable[str], reader: Callable[[str], Any]) -> tuple[Any, Any]:
        path = None
        if cache:
            digest = hashlib.sha256()
            for part in [type(self).__name__, str(self.size), *key_parts]:
                digest.update(part.encode())
                digest.update(b"\0")
            path = cache_dir() / f"{type(self).__name__.lower()}-{digest.hexdigest()[:20]}.npz"
            cached = _load_cache(path)
            if cached is not None and len(cached[1]) == len(names):
                return cached
        data = _stack([reader(n) for n in names], names, self.size)
        if path is not None:
            try:
                atomic_savez(path, data=data, targets=targets)
            except OSError:  # a read-only cache folder only costs speed
                pass
        return data, targets

    # -- archives ------------------------------------------------------------------------------

    @classmethod
    def from_archive(cls, path: str | os.PathLike, split: str | None = "train",
                     transform: Callable | None = None, cache: bool = True, size: Any = None,
                     target_transform: Callable | None = None,
                     normalize: Any = None) -> ImageFolder:
        """Read an image-folder tree straight from a ``.tar``/``.tar.gz`` without extracting it.

        The archive holds ``[top/]split/<class>/<image>`` (for example the shared
        ``cifar10-jpg.tar.gz``: ``cifar10-jpg/{train,test}/<class>/NNNN.jpg``), or
        ``[top/]<class>/<image>`` with ``split=None``.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"ImageFolder.from_archive: archive {path} does not exist")
        self = cls(path, transform=transform, cache=False, size=size,
                   target_transform=target_transform, normalize=normalize, _load=False)
        stat = path.stat()
        key = [str(path.resolve()), str(stat.st_size), str(stat.st_mtime_ns), str(split)]
        cached = None
        cache_path = None
        if cache:
            digest = hashlib.sha256("\0".join(key + [str(self.size)]).encode()).hexdigest()[:20]
            cache_path = cache_dir() / f"imagefolder-archive-{digest}.npz"
            if cache_path.is_file():
                try:
                    with xp.load(cache_path, allow_pickle=False) as z:
                        cached = (z["data"], z["targets"], [str(c) for c in z["classes"]])
                except Exception:
                    cached = None
        if cached is not None:
            self.data, self.targets, classes = cached
            self._set_classes(classes)
            self.files = []
            return self
        members: list[tuple[str, str, bytes]] = []  # (class, member name, bytes)
        try:
            with tarfile.open(path, "r:*") as tar:
                for member in tar:  # sequential: a .tar.gz is read once
                    if not member.isfile():
                        continue
                    parts = member.name.split("/")
                    if Path(parts[-1]).suffix.lower() not in IMAGE_EXTENSIONS:
                        continue
                    if split is not None:
                        if len(parts) < 3 or parts[-3] != split:
                            continue
                    elif len(parts) < 2:
                        continue
                    members.append((parts[-2], member.name, tar.extractfile(member).read()))
        except tarfile.TarError as exc:
            raise ValueError(f"ImageFolder.from_archive: {path} is not a readable tar archive: "
                             f"{exc}") from exc
        if not members:
            raise ValueError(
                f"ImageFolder.from_archive: no images under split {split!r} in {path}; expected "
                "[top/]split/<class>/<image> members"
            )
        members.sort(key=lambda m: (m[0], m[1]))
        classes = sorted({m[0] for m in members})
        self._set_classes(classes)
        self.files = [f"{path}:{m[1]}" for m in members]
        images = [decode_image(io.BytesIO(blob), f"{path}:{name}", self.size)
                  for _, name, blob in members]
        self.data = _stack(images, self.files, self.size)
        self.targets = xp.asarray([self.class_to_idx[m[0]] for m in members], dtype=xp.int64)
        if cache_path is not None:
            try:
                atomic_savez(cache_path, data=self.data, targets=self.targets,
                             classes=xp.asarray(classes))
            except OSError:
                pass
        return self

    def __repr__(self) -> str:
        shape = tuple(self.data.shape[1:]) if len(self) else None
        return (f"{type(self).__name__}(root={str(self.root)!r}, n={len(self)}, "
                f"classes={len(self.classes)}, image_shape={shape})")
