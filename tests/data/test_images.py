"""Image data sets: CIFAR archives (safe unpickling, checksums), image folders, Caltech101."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neuralab.data import DataLoader
from neuralab.data.datasets import cifar as cifar_module
from neuralab.data.datasets.caltech101 import Caltech101
from neuralab.data.datasets.cifar import CIFAR10, CIFAR100, safe_unpickle
from neuralab.data.datasets.imagefolder import ImageFolder
from neuralab.data.datasets.synthetic_caltech import make_synthetic_caltech


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURALAB_CACHE", str(tmp_path / "cache"))


# ---- CIFAR ---------------------------------------------------------------------------------

def _add(tar, name, payload: bytes):
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def _fake_cifar10(root: Path, per_batch=4) -> tuple[Path, np.ndarray]:
    """A tiny archive with the official layout (protocol 2 pickles, bytes keys)."""
    rng = np.random.default_rng(0)
    path = root / "cifar-10-python.tar.gz"
    all_data = []
    with tarfile.open(path, "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
            all_data.append(data)
            batch = {b"batch_label": name.encode(), b"labels": list(range(per_batch)),
                     b"data": data, b"filenames": [b"x.png"] * per_batch}
            _add(tar, f"cifar-10-batches-py/{name}", pickle.dumps(batch, protocol=2))
        meta = {b"label_names": [f"c{i}".encode() for i in range(10)]}
        _add(tar, "cifar-10-batches-py/batches.meta", pickle.dumps(meta, protocol=2))
    return path, np.concatenate(all_data[:5])


def test_cifar10_reads_official_layout(tmp_path, monkeypatch):
    path, data = _fake_cifar10(tmp_path)
    monkeypatch.setattr(CIFAR10, "md5", hashlib.md5(path.read_bytes()).hexdigest())
    train = CIFAR10(tmp_path, train=True, download=False)
    test = CIFAR10(tmp_path, train=False, download=False)
    assert train.data.shape == (20, 32, 32, 3) and train.data.dtype == np.uint8
    assert len(test) == 4 and train.classes[3] == "c3"
    # Pixel (row 1, col 2) of image 5: R, G, B planes of the flat 3072 row.
    row = data[5]
    assert list(train.data[5, 1, 2]) == [row[34], row[1024 + 34], row[2048 + 34]]
    x, y = next(iter(DataLoader(train, batch_size=8)))
    assert x.shape == (8, 3, 32, 32) and x.dtype == np.float32 and float(x.array.max()) <= 1
    np.testing.assert_array_equal(y.array, [0, 1, 2, 3, 0, 1, 2, 3])
    norm = CIFAR10(tmp_path, download=False, normalize=True)
    xn, _ = next(iter(DataLoader(norm, batch_size=8)))
    np.testing.assert_allclose(xn.array[:, 0], (x.array[:, 0] - 0.4914) / 0.2470, rtol=1e-5)


def test_cifar_checksum_and_missing_file(tmp_path):
    _fake_cifar10(tmp_path)
    with pytest.raises(ValueError, match="MD5"):
        CIFAR10(tmp_path, download=False)
    with pytest.raises(FileNotFoundError, match="cifar-100-python.tar.gz"):
        CIFAR100(tmp_path / "nowhere", download=False)


def test_cifar_offline_download_message(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(cifar_module.urllib.request, "urlopen", offline)
    with pytest.raises(RuntimeError, match="offline"):
        CIFAR10(tmp_path, download=True)
    assert not list(tmp_path.iterdir())  # no half-written file left behind


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_safe_unpickler_refuses_code_but_reads_arrays():
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    got = safe_unpickle(pickle.dumps({b"data": array, b"labels": [1, 2]}, protocol=2))
    np.testing.assert_array_equal(got[b"data"], array)
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        safe_unpickle(pickle.dumps(_Evil()))


# ---- image folders -------------------------------------------------------------------------

def _write_tree(root: Path, classes=("cat", "dog"), per_class=3, size=(8, 6), fmt="PNG"):
    rng = np.random.default_rng(1)
    pixels = {}
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            arr = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
            Image.fromarray(arr).save(root / c / f"{i:03d}.{fmt.lower()}", fmt)
            pixels[(c, i)] = arr
    return pixels


def test_image_folder_decodes_and_caches(tmp_path):
    pixels = _write_tree(tmp_path / "tree")
    ds = ImageFolder(tmp_path / "tree")
    assert ds.classes == ["cat", "dog"] and ds.data.shape == (6, 8, 6, 3)
    np.testing.assert_array_equal(ds.targets, [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(ds.data[4], pixels[("dog", 1)])  # PNG is lossless
    cached = list((tmp_path / "cache").glob("imagefolder-*.npz"))
    assert len(cached) == 1
    # Second construction reads the cache (Pillow not needed): break decoding to prove it.
    import neuralab.data.datasets.imagefolder as mod
    original = mod.decode_image
    mod.decode_image = None
    try:
        again = ImageFolder(tmp_path / "tree")
    finally:
        mod.decode_image = original
    np.testing.assert_array_equal(again.data, ds.data)
    x, y = ds[4]
    assert x.shape == (3, 8, 6) and y == 1


def test_image_folder_errors_name_the_culprit(tmp_path):
    _write_tree(tmp_path / "a")
    (tmp_path / "a" / "dog" / "002.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="002.png"):
        ImageFolder(tmp_path / "a", cache=False)
    _write_tree(tmp_path / "b")
    (tmp_path / "b" / "empty").mkdir()
    with pytest.raises(ValueError, match="empty"):
        ImageFolder(tmp_path / "b", cache=False)
    _write_tree(tmp_path / "c", classes=("x",), size=(8, 6))
    Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(tmp_path / "c" / "x" / "zz.png")
    with pytest.raises(ValueError, match="size="):
        ImageFolder(tmp_path / "c", cache=False)
    assert ImageFolder(tmp_path / "c", cache=False, size=4).data.shape == (4, 4, 4, 3)


def test_image_folder_from_archive(tmp_path):
    for split in ("train", "test"):
        _write_tree(tmp_path / "tree" / "top" / split, per_class=2 if split == "test" else 3)
    archive = tmp_path / "tree.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "tree" / "top", arcname="top")
    train = ImageFolder.from_archive(archive, split="train")
    test = ImageFolder.from_archive(archive, split="test")
    assert len(train) == 6 and len(test) == 4 and train.classes == ["cat", "dog"]
    direct = ImageFolder(tmp_path / "tree" / "top" / "train", cache=False)
    np.testing.assert_array_equal(train.data, direct.data)
    np.testing.assert_array_equal(train.targets, direct.targets)
    again = ImageFolder.from_archive(archive, split="train")  # from the cache
    np.testing.assert_array_equal(again.data, train.data)
    assert again.classes == train.classes
    with pytest.raises(ValueError, match="valid"):
        ImageFolder.from_archive(archive, split="valid")


def test_shared_cifar10_jpeg_archive(shared_data):
    archive = shared_data / "cifar10-jpg.tar.gz"
    if not archive.is_file():
        pytest.skip("cifar10-jpg.tar.gz not in the shared data")
    test = ImageFolder.from_archive(archive, split="test")
    assert test.data.shape == (10000, 32, 32, 3)
    assert test.classes[0] == "airplane" and np.bincount(test.targets).tolist() == [1000] * 10


# ---- Caltech101 ----------------------------------------------------------------------------

def test_caltech101_split_is_stratified_and_deterministic(tmp_path):
    root = tmp_path / "101_ObjectCategories"
    rng = np.random.default_rng(0)
    counts = {"accordion": 7, "airplanes": 5, "BACKGROUND_Google": 4, "ant": 6}
    for name, n in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(n):
            shape = (10 + i, 12, 3) if i % 2 else (9, 9)  # varying sizes, some grey
            Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(
                root / name / f"image_{i:04d}.png")
    train = Caltech101(tmp_path, train=True, train_per_class=3, size=(16, 16))
    test = Caltech101(tmp_path, train=False, train_per_class=3, size=(16, 16))
    assert train.classes == ["accordion", "airplanes", "ant"]
    assert np.bincount(train.targets).tolist() == [3, 3, 3]
    assert np.bincount(test.targets).tolist() == [4, 2, 3]
    assert train.data.shape == (9, 16, 16, 3)
    assert not set(map(str, train.files)) & set(map(str, test.files))
    again = Caltech101(tmp_path, train=True, train_per_class=3, size=(16, 16), cache=False)
    assert list(map(str, again.files)) == list(map(str, train.files))
    other = Caltech101(tmp_path, train=True, train_per_class=3, size=(16, 16), seed=1)
    assert list(map(str, other.files)) != list(map(str, train.files))
    bg = Caltech101(tmp_path, train=True, train_per_class=3, size=8, include_background=True)
    assert "BACKGROUND_Google" in bg.classes and len(bg) == 12
    capped = Caltech101(tmp_path, train=False, train_per_class=3, test_per_class=2, size=8)
    assert np.bincount(capped.targets).tolist() == [2, 2, 2]
    with pytest.raises(ValueError, match="airplanes"):
        Caltech101(tmp_path, train_per_class=5, size=8)


def test_synthetic_caltech_folder(tmp_path):
    top = make_synthetic_caltech(tmp_path, classes=3, per_class=8, seed=1)
    assert top.name == "101_ObjectCategories"
    assert sorted(p.name for p in top.iterdir()) == ["circle", "square", "triangle"]
    modes = {Image.open(p).mode for p in top.rglob("*.png")}
    sizes = {Image.open(p).size for p in top.rglob("*.png")}
    assert modes == {"RGB", "L"} and len(sizes) > 3  # grey images and varying sizes, as Caltech
    train = Caltech101(tmp_path, train=True, train_per_class=5, size=(20, 20), cache=False)
    test = Caltech101(tmp_path, train=False, train_per_class=5, size=(20, 20), cache=False)
    assert train.data.shape == (15, 20, 20, 3) and test.data.shape == (9, 20, 20, 3)
    assert not set(train.files) & set(test.files)
    # The same seed writes the same images; another seed other ones.
    again = make_synthetic_caltech(tmp_path / "again", classes=3, per_class=8, seed=1)
    other = make_synthetic_caltech(tmp_path / "other", classes=3, per_class=8, seed=2)
    first = (top / "circle" / "image_0001.png").read_bytes()
    assert (again / "circle" / "image_0001.png").read_bytes() == first
    assert (other / "circle" / "image_0001.png").read_bytes() != first
    with pytest.raises(ValueError, match="classes must be in"):
        make_synthetic_caltech(tmp_path, classes=1)
