"""The data sets' accepted forms on small synthetic files: Fashion-MNIST/KMNIST/IDX folders,
checksum mismatches naming the right data set, the three CIFAR-10 forms, decoding at a size,
lazy decoding, and the progress helper."""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import tarfile

import numpy as np
import pytest
from PIL import Image

from neuralab.data import DataLoader
from neuralab.data.datasets.cifar import CIFAR10
from neuralab.data.datasets.imagefolder import (
    ImageFolder,
    LazyImages,
    decode_image,
    parse_image_size,
)
from neuralab.data.datasets.mnist import (
    FASHION_GZ_MD5,
    KMNIST,
    MNIST,
    FashionMNIST,
    IDXFolder,
)
from neuralab.data.download import DataError
from neuralab.progress import Progress, progress_enabled


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURALAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("NEURALAB_DATA", raising=False)
    monkeypatch.setenv("NEURALAB_OFFLINE", "1")


def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_idx(folder, n=12, classes=10, size=(28, 28), seed=0, gz=True, test_prefix="t10k"):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = {}
    for prefix in ("train", test_prefix):
        images = rng.integers(0, 256, size=(n, *size), dtype=np.uint8)
        labels = (np.arange(n) % classes).astype(np.uint8)
        for kind, array in (("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)):
            content = _idx(array)
            name = f"{prefix}-{kind}"
            if gz:
                (folder / f"{name}.gz").write_bytes(gzip.compress(content, mtime=0))
            else:
                (folder / name).write_bytes(content)
        out[prefix] = (images, labels)
    return out


# ---- IDX data sets ---------------------------------------------------------------------------

def test_fashion_mnist_reads_unverified_copy_and_has_its_classes(tmp_path):
    arrays = _write_idx(tmp_path / "fashion-mnist")
    ds = FashionMNIST(tmp_path, train=True, download=False)
    assert not ds.verified  # a re-compressed copy: the published .gz MD5 cannot match
    np.testing.assert_array_equal(ds.data, arrays["train"][0])
    assert ds.classes[0] == "T-shirt/top" and KMNIST.classes[1] == "ki"
    x, _ = next(iter(DataLoader(ds, batch_size=4)))
    expected = (arrays["train"][0][:4, None] / 255 - 0.2860) / 0.3530
    np.testing.assert_allclose(x.array, expected, rtol=1e-5, atol=1e-5)


def test_fashion_mnist_verified_by_published_md5(tmp_path, monkeypatch):
    _write_idx(tmp_path)
    digests = {stem: hashlib.md5((tmp_path / f"{stem}.gz").read_bytes()).hexdigest()
               for stem in FASHION_GZ_MD5}
    monkeypatch.setattr("neuralab.data.datasets.mnist.FASHION_GZ_MD5", digests)
    assert FashionMNIST(tmp_path, train=False, download=False).verified


def test_mismatch_names_the_data_set_the_file_belongs_to(tmp_path, monkeypatch):
    """MNIST pointed at Fashion-MNIST files says so, and never tells to delete the file."""
    _write_idx(tmp_path)
    digests = {stem: hashlib.md5((tmp_path / f"{stem}.gz").read_bytes()).hexdigest()
               for stem in FASHION_GZ_MD5}
    monkeypatch.setattr("neuralab.data.datasets.mnist.FASHION_GZ_MD5", digests)
    with pytest.raises(DataError, match=r"this is Fashion-MNIST's train-images-idx3-ubyte.*"
                       r"--data fashion-mnist") as info:
        MNIST(tmp_path, train=True, download=False)
    assert "delete" not in str(info.value)
    # An unknown file: not MNIST, with the generic route and no "delete".
    monkeypatch.setattr("neuralab.data.datasets.mnist.FASHION_GZ_MD5", {})
    with pytest.raises(DataError, match="--data idx --data-root") as info:
        MNIST(tmp_path, train=True, download=False)
    assert "delete" not in str(info.value)
    # KMNIST given Fashion-MNIST's files refuses them by name too.
    monkeypatch.setattr("neuralab.data.datasets.mnist.FASHION_GZ_MD5", digests)
    with pytest.raises(DataError, match="this is Fashion-MNIST's"):
        KMNIST(tmp_path, train=True, download=False)


def test_no_subset_for_fashion_mnist_lists_where_it_looked(tmp_path):
    with pytest.raises(DataError, match=f"put train-images-idx3-ubyte.gz .* {tmp_path}"):
        FashionMNIST(tmp_path, train=True, download=False)


def test_idx_folder_any_shape_and_classes(tmp_path):
    arrays = _write_idx(tmp_path / "letters", n=30, classes=26, size=(20, 24), gz=False,
                        test_prefix="test")
    train = IDXFolder(tmp_path / "letters", train=True)
    test = IDXFolder(tmp_path / "letters", train=False)
    assert train.num_classes == 26 and train.input_shape == (1, 20, 24)
    np.testing.assert_array_equal(test.data, arrays["test"][0])
    x, y = next(iter(DataLoader(train, batch_size=30)))
    assert x.shape == (30, 1, 20, 24) and abs(float(x.array.mean())) < 1e-4
    with pytest.raises(DataError, match="train-images-idx3-ubyte"):
        IDXFolder(tmp_path / "nothing")


# ---- CIFAR-10: python tarball, binary tarball, image-folder archive ----------------------------

def _add(tar, name, blob):
    info = tarfile.TarInfo(name)
    info.size = len(blob)
    tar.addfile(info, io.BytesIO(blob))


def _fake_binary_cifar(folder, per_batch=4, seed=0):
    rng = np.random.default_rng(seed)
    path = folder / "cifar-10-binary.tar.gz"
    rows = []
    with tarfile.open(path, "w:gz") as tar:
        for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
            labels = (np.arange(per_batch) % 10).astype(np.uint8)
            pixels = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
            rows.append((labels, pixels))
            _add(tar, f"cifar-10-batches-bin/{name}",
                 np.concatenate([labels[:, None], pixels], axis=1).tobytes())
        _add(tar, "cifar-10-batches-bin/batches.meta.txt",
             "\n".join(f"class{i}" for i in range(10)).encode() + b"\n\n")
    return path, rows


def test_cifar10_binary_tarball(tmp_path, monkeypatch):
    path, rows = _fake_binary_cifar(tmp_path)
    monkeypatch.setattr(CIFAR10, "binary_md5", hashlib.md5(path.read_bytes()).hexdigest())
    train = CIFAR10(tmp_path, train=True, download=False)
    test = CIFAR10(tmp_path, train=False, download=False)
    assert train.data.shape == (20, 32, 32, 3) and len(test) == 4
    assert train.classes == [f"class{i}" for i in range(10)]
    labels, pixels = rows[1]
    np.testing.assert_array_equal(train.targets[4:8], labels)
    # Pixel (row 1, col 2) of the first image of batch 2: its R, G and B planes.
    assert list(train.data[4, 1, 2]) == [pixels[0, 34], pixels[0, 1024 + 34],
                                         pixels[0, 2048 + 34]]
    monkeypatch.setattr(CIFAR10, "binary_md5", "0" * 32)
    with pytest.raises(ValueError, match="MD5") as info:
        CIFAR10(tmp_path, download=False)
    assert "delete" not in str(info.value)


def _jpeg_archive(path, classes=("cat", "dog"), per_class=3, size=(32, 32), top="cifar10-jpg"):
    rng = np.random.default_rng(0)
    with tarfile.open(path, "w:gz") as tar:
        for split in ("train", "test"):
            for c in classes:
                for i in range(per_class):
                    buf = io.BytesIO()
                    Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(
                        buf, "JPEG", quality=90)
                    _add(tar, f"{top}/{split}/{c}/{i:04d}.jpg", buf.getvalue())
    return path


# ---- images: sizes, decoding at a size, lazy decoding ----------------------------------------

def test_parse_image_size():
    assert parse_image_size(None) is None
    assert parse_image_size(64) == (64, 64) and parse_image_size("64") == (64, 64)
    assert parse_image_size("48x64") == (48, 64) and parse_image_size((48, 64)) == (48, 64)
    for bad in ("big", "0", (1, 2, 3), -3, "4x"):
        with pytest.raises(ValueError, match="image size"):
            parse_image_size(bad)


def test_jpeg_decoded_at_reduced_scale_matches_full_decode(tmp_path):
    yy, xx = np.mgrid[0:480, 0:640]
    smooth = np.stack([128 + 100 * np.sin(xx / 70), 128 + 100 * np.cos(yy / 50),
                       (xx + yy) / 1120 * 255], axis=-1).astype(np.uint8)
    Image.fromarray(smooth).save(tmp_path / "big.jpg", quality=95)  # 480x640
    with Image.open(tmp_path / "big.jpg") as img:
        img.draft("RGB", (80, 60))
        assert img.size == (80, 60)  # decoded at 1/8 scale by the DCT: never at 640x480
    small = decode_image(tmp_path / "big.jpg", "big.jpg", (60, 80))
    with Image.open(tmp_path / "big.jpg") as img:
        full = np.asarray(img.convert("RGB").resize((80, 60), Image.BOX), dtype=np.float64)
    assert small.shape == (60, 80, 3) and small.dtype == np.uint8
    assert np.abs(small - full).mean() < 3  # the same picture as a full decode + resize


def test_image_folder_sizes_checked_before_decoding(tmp_path, monkeypatch):
    root = tmp_path / "tree"
    for c, shape in (("a", (8, 8)), ("b", (6, 9))):
        (root / c).mkdir(parents=True)
        Image.fromarray(np.zeros((*shape, 3), np.uint8)).save(root / c / "0.png")
    import neuralab.data.datasets.imagefolder as mod

    def never(*args, **kwargs):
        raise AssertionError("decoded although the sizes differ")

    monkeypatch.setattr(mod, "decode_image", never)
    with pytest.raises(ValueError, match="--image-size"):
        ImageFolder(root, cache=False)


def test_lazy_images_decode_only_what_is_indexed(tmp_path):
    calls = []

    def read(i):
        calls.append(i)
        return np.full((4, 5, 3), i, dtype=np.uint8)

    data = LazyImages(10, (4, 5), read)
    assert isinstance(data, np.ndarray) and data.shape == (10, 4, 5, 3)
    batch = data[np.array([7, 2, 7])]
    assert type(batch) is np.ndarray and batch[:, 0, 0, 0].tolist() == [7, 2, 7]
    assert sorted(calls) == [2, 7] and data.decoded == 2
    assert data[3:5][:, 0, 0, 0].tolist() == [3, 4] and data[-1][0, 0, 0] == 9
    data[np.array([2, 3])]
    assert sorted(calls) == [2, 3, 4, 7, 9]  # never twice
    assert data.decode_all(progress=False)[:, 0, 0, 0].tolist() == list(range(10))


def test_large_image_folder_is_lazy_and_batches_decode_on_demand(tmp_path, monkeypatch):
    import neuralab.data.datasets.imagefolder as mod

    _write_tree = tmp_path / "tree"
    for c in ("a", "b"):
        (_write_tree / c).mkdir(parents=True)
        for i in range(5):
            Image.fromarray(np.full((12, 12, 3), 10 * i, np.uint8)).save(
                _write_tree / c / f"{i}.png")
    monkeypatch.setattr(mod, "LAZY_BYTES", 100)
    ds = ImageFolder(_write_tree, size=8)
    assert isinstance(ds.data, LazyImages) and ds.data.decoded == 0
    x, y = next(iter(DataLoader(ds, batch_size=3)))
    assert x.shape == (3, 3, 8, 8) and ds.data.decoded == 3
    assert not list((tmp_path / "cache").glob("*.npz"))  # lazy data is not cached


def test_cache_is_announced_with_size_and_place(tmp_path, capsys):
    archive = _jpeg_archive(tmp_path / "x.tar.gz")
    ImageFolder.from_archive(archive, split="test", size=16)
    err = capsys.readouterr().err
    cache = next((tmp_path / "cache").glob("*.npz"))
    assert "cached 6 decoded images" in err and str(cache) in err and "MB" in err
    assert cache.with_suffix(".json").is_file()


# ---- progress ----------------------------------------------------------------------------------

class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_quiet_off_a_terminal_and_drawn_on_one(monkeypatch):
    monkeypatch.delenv("NEURALAB_PROGRESS", raising=False)
    quiet = io.StringIO()
    assert list(Progress(range(5), desc="x", stream=quiet)) == list(range(5))
    assert quiet.getvalue() == ""
    assert not progress_enabled(True, quiet) and progress_enabled(True, _Terminal())
    assert not progress_enabled(False, _Terminal())
    monkeypatch.setenv("NEURALAB_PROGRESS", "0")
    assert not progress_enabled(True, _Terminal())
    monkeypatch.setenv("NEURALAB_PROGRESS", "1")
    assert progress_enabled(True, quiet)


def test_progress_text_bar_without_tqdm(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError("no tqdm here")
        return real_import(name, *args, **kwargs)

    monkeypatch.delenv("NEURALAB_PROGRESS", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    term = _Terminal()
    with Progress(None, total=4, desc="decoding", unit="img", stream=term) as bar:
        for _ in range(4):
            bar.update(1)
    assert "decoding: [####################] 4/4" in term.getvalue()
