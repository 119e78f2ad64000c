"""Image-folder data sets: ``root/<class>/<image>`` trees of JPEG/PNG files, or a tar of one.

Images are decoded with Pillow into one uint8 array ``data`` of shape (N, H, W, 3) (the layout
of torchvision's CIFAR10.data) with integer ``targets``, so that a DataLoader batches them by fancy
indexing and the per-batch transforms of ``neuralab.data.transforms`` do the rest.

Decoding is done at the target size: a JPEG is decoded by its DCT scaling straight to the
smallest power-of-two reduction still at least that size (Pillow's ``draft``), then resized, so a
224-pixel copy of a large photograph never exists at full size. Images are decoded by a pool of
threads (Pillow releases the GIL while decoding) with a progress bar. Pixels stay uint8: 4 times
less memory than float32, converted batch by batch.

Small data sets are decoded up front and cached in an ``.npz`` file (written to a temporary
name, then renamed: a crash never leaves half a cache) keyed by the file list and each file's
size, modification time, inode and status-change time (``file_key``: a file replaced by another
of the same size with its old modification time restored still gets a new inode or ctime), or,
for an archive, by the SHA-256 of its bytes;
the cache's size and location are printed when it is created, and ``neuralab cache`` lists and
clears the caches. Data sets whose decoded pixels would exceed ``LAZY_BYTES`` (Caltech-101 at
224 px: 1.4 GB) are decoded lazily instead (``LazyImages``): an image is decoded the first time a
batch asks for it, so a run on a few hundred images decodes and holds only those.
"""

from __future__ import annotations

import hashlib
import io
import json
import lzma
import os
import sys
import tarfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from neuralab.backend import xp
from neuralab.data.dataset import Dataset
from neuralab.data.download import DataError, cache_dir
from neuralab.fileio import atomic_savez, atomic_write_bytes
from neuralab.progress import Progress

__all__ = ["IMAGE_EXTENSIONS", "LAZY_BYTES", "ImageDataset", "ImageFolder", "LazyImages",
           "decode_image", "decode_images", "parse_image_size", "resize_images"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".ppm", ".webp")

#: Data sets whose decoded uint8 pixels would take more bytes than this are decoded lazily.
LAZY_BYTES = 256 * 2**20


def decode_workers() -> int:
    """Threads decoding images: ``$NEURALAB_DECODE_THREADS`` or the number of cores (at most 8)."""
    value = os.environ.get("NEURALAB_DECODE_THREADS")
    if value and value.isdigit() and int(value) > 0:
        return int(value)
    return max(1, min(8, os.cpu_count() or 1))


def parse_image_size(value: Any) -> tuple[int, int] | None:
    """An image size as (height, width) from ``224``, ``"224"``, ``"224x160"`` (H x W),
    ``(224, 160)`` or None.

    Raises:
        ValueError: anything else, or a size below 1.
    """
    if value is None:
        return None
    if isinstance(value, str):
        parts = value.lower().replace(",", "x").split("x")
        try:
            numbers = [int(p) for p in parts]
        except ValueError:
            raise ValueError(f"image size must be an int or HxW such as 224 or 224x160, got "
                             f"{value!r}") from None
        value = numbers[0] if len(numbers) == 1 else tuple(numbers)
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    if not isinstance(value, (tuple, list)) or len(value) != 2 or \
            not all(isinstance(v, int) and not isinstance(v, bool) for v in value) \
            or min(value) <= 0:
        raise ValueError(f"image size must be a positive int or HxW such as 224 or 224x160, "
                         f"got {value!r}")
    return int(value[0]), int(value[1])


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "ImageFolder: decoding JPEG/PNG images needs Pillow; install it with "
            "`pip install pillow` or `pip install neuralab[train]`"
        ) from exc
    return Image


class ImageDecodeError(DataError, ValueError):
    """An image file cannot be decoded (a ValueError, and a DataError: the user's file to fix,
    which can surface in the middle of training when images are decoded lazily)."""


def decode_image(source: Any, name: str, size: tuple[int, int] | None = None) -> Any:
    """Decode one image file (a path or a file object) to a uint8 (H, W, 3) RGB array.

    A JPEG is decoded straight at reduced scale (Pillow's ``draft``: the DCT scaling by 1/2, 1/4
    or 1/8 that keeps it at least ``size``), then resized, so that large photographs never
    exist at full size in memory.

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
            if size is not None and img.format == "JPEG":
                img.draft("RGB", (size[1], size[0]))
            img = img.convert("RGB")
            if size is not None and img.size != (size[1], size[0]):
                img = img.resize((size[1], size[0]), Image.BILINEAR, reducing_gap=2.0)
            return xp.asarray(img, dtype=xp.uint8)
    except Exception as exc:  # Pillow raises several types for truncated or non-image files
        raise ImageDecodeError(
            f"ImageFolder: cannot decode image {name}: {exc}; replace the file or move it out "
            "of the folder"
        ) from exc


def decode_images(count: int, read: Callable[[int], Any], size: tuple[int, int] | None,
                  names: Sequence[str], desc: str = "decoding images",
                  progress: bool | None = True) -> Any:
    """Decode ``count`` images by ``read(i)`` in a thread pool, with a progress bar, into one
    uint8 (N, H, W, 3) array (written in place when ``size`` is known: no list of copies)."""
    if count == 0:
        return _stack([], [], size)
    workers = decode_workers()
    out = xp.empty((count, *size, 3), dtype=xp.uint8) if size is not None else None
    images: list = []
    with ThreadPoolExecutor(workers) as pool, \
            Progress(None, total=count, desc=desc, unit="img", enabled=progress) as bar:
        for i, image in enumerate(pool.map(read, range(count))):
            if out is not None:
                out[i] = image
            else:
                images.append(image)
            bar.update(1)
    return out if out is not None else _stack(images, list(names), size)


def common_size(count: int, open_one: Callable[[int], Any], names: Sequence[str]
                ) -> tuple[int, int] | None:
    """The (h, w) shared by every image, read from the file headers only (nothing decoded);
    raises ValueError naming two images of different sizes. None when a header is unreadable
    (decoding will then name the file)."""
    Image = _pillow()
    first: tuple[int, int] | None = None
    for i in range(count):
        try:
            with Image.open(open_one(i)) as img:
                w, h = img.size
        except Exception:  # a broken file: decoding reports it with its name
            return None
        if first is None:
            first = (h, w)
        elif (h, w) != first:
            raise ValueError(
                f"ImageFolder: images have different sizes ({names[0]} is {first}, {names[i]} "
                f"is {(h, w)}); pass size=(h, w) to resize them on decoding (--image-size HxW "
                "on the command line, image_size=HxW in an experiment)")
    return first


def resize_images(images: Any, size: tuple[int, int], desc: str = "resizing images",
                  progress: bool | None = True) -> Any:
    """Resize uint8 images (N, H, W) grey or (N, H, W, 3) colour to ``size`` = (h, w) with
    Pillow (bilinear, in a thread pool, with a progress bar)."""
    Image = _pillow()
    h, w = size
    out = xp.empty((len(images), h, w, *images.shape[3:]), dtype=xp.uint8)

    def one(i: int) -> Any:
        return xp.asarray(Image.fromarray(images[i]).resize((w, h), Image.BILINEAR))

    with ThreadPoolExecutor(decode_workers()) as pool, \
            Progress(None, total=len(images), desc=desc, unit="img", enabled=progress) as bar:
        for i, image in enumerate(pool.map(one, range(len(images)))):
            out[i] = image
            bar.update(1)
    return out


class LazyImages(xp.ndarray):
    """uint8 (N, H, W, 3) images decoded from their files the first time they are indexed.

    It is an ndarray (the DataLoader batches it by fancy indexing like any in-memory data) whose
    ``__getitem__`` first decodes the rows it is asked for that were not decoded yet, in a thread
    pool, and answers from them. The array itself holds no pixels (a zero-strided view of one
    byte): each decoded image is kept on its own, so a run that touches a few hundred images of a
    large data set holds only those (a sparse (N, H, W, 3) array would not do: the kernel backs
    each touched row with a whole huge page). Whole-array operations other than indexing
    (``mean``, ``np.save``) see zeros: call ``decode_all()`` for the pixels.
    """

    _lazy: Any = None

    def __new__(cls, count: int, size: tuple[int, int], read: Callable[[int], Any]):
        shape = (count, *size, 3)
        empty = xp.lib.stride_tricks.as_strided(xp.zeros(1, dtype=xp.uint8), shape=shape,
                                                strides=(0,) * 4, writeable=False)
        obj = empty.view(cls)
        obj._lazy = {"read": read, "images": {}, "lock": threading.Lock()}
        return obj

    def __array_finalize__(self, obj: Any) -> None:
        self._lazy = None  # views and results are plain arrays

    def _ensure(self, rows: Any) -> dict:
        state = self._lazy
        images = state["images"]
        with state["lock"]:
            todo = [int(r) for r in xp.unique(rows) if int(r) not in images]
            if len(todo) == 1:
                images[todo[0]] = state["read"](todo[0])
            elif todo:
                with ThreadPoolExecutor(min(decode_workers(), len(todo))) as pool:
                    for i, image in zip(todo, pool.map(state["read"], todo)):
                        images[i] = image
        return images

    def __getitem__(self, index: Any) -> Any:
        if self._lazy is None:
            return super().__getitem__(index)
        first, rest = (index[0], index[1:]) if isinstance(index, tuple) else (index, ())
        if first is Ellipsis:
            first, rest = slice(None), (Ellipsis, *rest)
        rows = xp.arange(len(self))[first]
        scalar = rows.ndim == 0
        rows = rows.reshape(-1)
        images = self._ensure(rows)
        block = xp.empty((len(rows), *self.shape[1:]), dtype=xp.uint8)
        for j, r in enumerate(rows.tolist()):
            block[j] = images[r]
        block = block[0] if scalar else block
        return block[rest] if rest else block

    @property
    def decoded(self) -> int:
        """How many images have been decoded so far."""
        return len(self._lazy["images"]) if self._lazy is not None else len(self)

    def decode_all(self, progress: bool | None = True) -> Any:
        """Decode every image not decoded yet and return them as one plain uint8 array."""
        n = len(self)
        out = xp.empty(self.shape, dtype=xp.uint8)
        with Progress(None, total=n, desc="decoding images", unit="img",
                      enabled=progress) as bar:
            for start in range(0, n, 256):
                stop = min(n, start + 256)
                out[start:stop] = self[start:stop]
                bar.update(stop - start)
        return out


def _announce_cache(path: Path, data: Any, what: str) -> None:
    """Say where a new cache went and how big it is, and leave a note of what it holds."""
    size = path.stat().st_size
    note = {"what": what, "images": int(len(data)), "shape": list(data.shape[1:]),
            "bytes": size, "created": time.strftime("%Y-%m-%d %H:%M:%S")}
    try:
        atomic_write_bytes(path.with_suffix(".json"), json.dumps(note, indent=1).encode())
    except OSError:
        pass
    print(f"{what}: cached {len(data):,} decoded images ({size / 2**20:.1f} MB) in {path}; "
          "`neuralab cache` lists caches, `neuralab cache clear` removes them", file=sys.stderr)


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


def file_key(path: Path) -> str:
    """What identifies a file's content for a cache without reading it: its path, size,
    modification time, inode and status-change time. Rewriting a file (even to the same size,
    with ``touch`` restoring the old mtime) or replacing it changes the ctime or the inode."""
    st = path.stat()
    return f"{path}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{st.st_ctime_ns}"


def archive_digest(path: Path) -> str:
    """SHA-256 of an archive's bytes (read once per load; 20 MB take about 0.1 s)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


#: What reading a damaged tar, tar.gz, tar.bz2 or tar.xz raises besides tarfile's own errors.
TAR_READ_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError)


def check_tar_end(tar: tarfile.TarFile, path: Path, what: str) -> None:
    """Raise ValueError when iterating ``tar`` stopped at the end of the file rather than at
    the archive's end marker (a zero block): the file was cut at a member boundary, which
    ``tarfile`` would otherwise take for the end of a shorter archive."""
    tar.fileobj.seek(tar.offset)
    marker = tar.fileobj.read(tarfile.BLOCKSIZE)
    if len(marker) < tarfile.BLOCKSIZE or marker.count(0) != tarfile.BLOCKSIZE:
        raise ValueError(
            f"{what}: {path} is truncated: it ends after {len(tar.getmembers())} members "
            "without the tar end-of-archive marker (an interrupted download or copy); copy or "
            "download it again")


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
    _array_batched = True  # __getitem__ is transform_batch of one row (see the DataLoader)

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
        """Example ``index`` and its label.

        Without a ``transform``: the image as ``transform_batch`` makes it (float32 CHW in
        [0, 1], standardised with ``normalize``). With one: ``transform`` applied to the raw
        uint8 (H, W, 3) image, as torchvision applies it to a PIL image (``normalize`` then does
        not apply).
        """
        n = len(self.targets)
        if not -n <= index < n:
            raise IndexError(f"{type(self).__name__}: index {index} out of range for {n} images")
        index = index % n
        if self.transform is not None:
            x = self.transform(self.data[index])
        else:
            x = self.transform_batch(self.data[index:index + 1])[0]
        y = int(self.targets[index])
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y


def _check_size(size: Any) -> tuple[int, int] | None:
    try:
        return parse_image_size(size)
    except ValueError as err:
        raise ValueError(f"ImageFolder: size: {err}") from None


class ImageFolder(ImageDataset):
    """A ``root/<class>/<image>`` tree decoded to memory (classes sorted by name, as torchvision).

    Args:
        root: the folder holding one sub-folder per class.
        transform: applied in ``__getitem__`` to the raw uint8 (H, W, 3) image (torchvision
            passes a PIL image); for batch-wise augmentation give the transform to the
            DataLoader instead.
        cache: cache the decoded arrays in ``cache_dir()`` so the next run skips decoding.
        size: (h, w) (or one int) to resize every image to on decoding; needed when sizes
            differ.
        target_transform: applied to the label in ``__getitem__``.
        normalize: ``(mean, std)`` per channel, applied in ``transform_batch``; None keeps [0, 1].
        lazy: decode each image when first used (``LazyImages``) instead of all up front; None
            decides by size (lazy above ``LAZY_BYTES`` of pixels; needs ``size``).
        progress: show a progress bar while decoding (on a terminal).

    Attributes:
        data: uint8 array (N, H, W, 3) (a ``LazyImages`` when decoded lazily).
        targets: int64 array (N,).
        classes: class names, ``class_to_idx``: name -> index, ``files``: the image paths.

    Raises:
        FileNotFoundError: root missing or without class folders.
        ValueError: an empty class folder or an undecodable image (naming it).
    """

    def __init__(self, root: str | os.PathLike, transform: Callable | None = None,
                 cache: bool = True, size: Any = None,
                 target_transform: Callable | None = None, normalize: Any = None,
                 lazy: bool | None = None, progress: bool | None = True, _load: bool = True):
        self.root = Path(root)
        self.normalize = normalize
        self.transform, self.target_transform = transform, target_transform
        self.size = _check_size(size)
        self.lazy, self.progress = lazy, progress
        if not _load:  # filled in by from_archive / subclasses
            return
        classes, files, targets = self._scan(self.root)
        self._set_classes(classes)
        self.files = files
        if self.size is None:  # check the headers before decoding anything
            common_size(len(files), lambda i: files[i], [str(f) for f in files])
        self.data, self.targets = self._decode_cached(
            [str(f) for f in files], xp.asarray(targets, dtype=xp.int64), cache,
            key_parts=[file_key(f) for f in files],
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

    def _use_lazy(self, count: int) -> bool:
        if self.size is None:
            if self.lazy:
                raise ValueError(f"{type(self).__name__}: lazy decoding needs size=(h, w)")
            return False
        if self.lazy is not None:
            return bool(self.lazy)
        return count * self.size[0] * self.size[1] * 3 > LAZY_BYTES

    def _decode_cached(self, names: list[str], targets: Any, cache: bool,
                       key_parts: Iterable[str], reader: Callable[[str], Any]) -> tuple[Any, Any]:
        if self._use_lazy(len(names)):
            return LazyImages(len(names), self.size, lambda i: reader(names[i])), targets
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
        what = f"{type(self).__name__} {self.root}"
        data = decode_images(len(names), lambda i: reader(names[i]), self.size, names,
                             desc=f"decoding {len(names):,} images of {self.root.name}",
                             progress=self.progress)
        if path is not None:
            try:
                atomic_savez(path, data=data, targets=targets)
                _announce_cache(path, data, what)
            except OSError:  # a read-only cache folder only costs speed
                pass
        return data, targets

    # -- archives ------------------------------------------------------------------------------

    @classmethod
    def from_archive(cls, path: str | os.PathLike, split: str | None = "train",
                     transform: Callable | None = None, cache: bool = True, size: Any = None,
                     target_transform: Callable | None = None,
                     normalize: Any = None, progress: bool | None = True) -> ImageFolder:
        """Read an image-folder tree straight from a ``.tar``/``.tar.gz`` without extracting it.

        The archive holds ``[top/]split/<class>/<image>`` (for example the shared
        ``cifar10-jpg.tar.gz``: ``cifar10-jpg/{train,test}/<class>/NNNN.jpg``), or
        ``[top/]<class>/<image>`` with ``split=None``.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"ImageFolder.from_archive: archive {path} does not exist")
        self = cls(path, transform=transform, cache=False, size=size,
                   target_transform=target_transform, normalize=normalize, progress=progress,
                   _load=False)
        cached = None
        cache_path = None
        if cache:
            key = [str(path.resolve()), archive_digest(path), str(split)]
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
                check_tar_end(tar, path, "ImageFolder.from_archive")
        except TAR_READ_ERRORS as exc:
            raise ValueError(f"ImageFolder.from_archive: {path} is not a readable tar archive "
                             f"({exc or type(exc).__name__}); it is truncated or corrupt: copy "
                             "or download it again") from None
        if not members:
            raise ValueError(
                f"ImageFolder.from_archive: no images under split {split!r} in {path}; expected "
                "[top/]split/<class>/<image> members"
            )
        members.sort(key=lambda m: (m[0], m[1]))
        classes = sorted({m[0] for m in members})
        self._set_classes(classes)
        self.files = [f"{path}:{m[1]}" for m in members]
        if self.size is None:  # check the headers before decoding anything
            common_size(len(members), lambda i: io.BytesIO(members[i][2]), self.files)

        def read(i: int, members: list = members) -> Any:
            return decode_image(io.BytesIO(members[i][2]), f"{path}:{members[i][1]}", self.size)

        self.data = decode_images(
            len(members), read, self.size, self.files,
            desc=f"decoding {len(members):,} images of {path.name}"
            + (f" ({split})" if split else ""), progress=progress)
        self.targets = xp.asarray([self.class_to_idx[m[0]] for m in members], dtype=xp.int64)
        if cache_path is not None:
            try:
                atomic_savez(cache_path, data=self.data, targets=self.targets,
                             classes=xp.asarray(classes))
                _announce_cache(cache_path, self.data, f"{path.name}" +
                                (f" ({split})" if split else ""))
            except OSError:
                pass
        return self

    def __repr__(self) -> str:
        shape = tuple(self.data.shape[1:]) if len(self) else None
        return (f"{type(self).__name__}(root={str(self.root)!r}, n={len(self)}, "
                f"classes={len(self.classes)}, image_shape={shape})")
