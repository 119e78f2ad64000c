"""MNIST: IDX parsing (gz and raw), checksum and truncation errors, offline fallback, shipped
subset, and the real files when the shared data sets are present."""

from __future__ import annotations

import gzip
import hashlib
import struct
from importlib import resources

import numpy as np
import pytest

from neuralab.data import DataLoader
from neuralab.data.datasets import MNIST
from neuralab.data.datasets.mnist import SHA256, read_idx
from neuralab.data.download import DataError, atomic_write_bytes
from neuralab.data.download import download as download_file


def _idx_bytes(array: np.ndarray) -> bytes:
    code = {np.uint8: 0x08, np.int32: 0x0C}[array.dtype.type]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def _write_split(folder, train=True, n=12, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    prefix = "train" if train else "t10k"
    for name, array in ((f"{prefix}-images-idx3-ubyte", images),
                        (f"{prefix}-labels-idx1-ubyte", labels)):
        content = _idx_bytes(array)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(content))
        else:
            (folder / name).write_bytes(content)
    return images, labels


@pytest.mark.parametrize("gz", [True, False])
def test_reads_tiny_idx_files(tmp_path, gz):
    images, labels = _write_split(tmp_path, gz=gz)
    ds = MNIST(tmp_path, train=True, download=False, verify=False)
    assert not ds.is_subset and len(ds) == 12
    assert ds.data.dtype == np.uint8 and ds.data.shape == (12, 28, 28)
    assert ds.targets.dtype == np.int64
    np.testing.assert_array_equal(ds.data, images)
    np.testing.assert_array_equal(ds.targets, labels)
    x, y = next(iter(DataLoader(ds, batch_size=5)))
    assert x.shape == (5, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    expected = (images[:5, None].astype(np.float32) / 255 - 0.1307) / 0.3081
    np.testing.assert_allclose(x.array, expected, rtol=1e-5, atol=1e-5)
    raw = MNIST(tmp_path, train=True, download=False, verify=False, normalize=False)
    np.testing.assert_allclose(raw[3][0][0], images[3] / 255, rtol=1e-6)
    assert raw[3][1] == 3


def test_checksum_mismatch_names_file(tmp_path):
    _write_split(tmp_path)
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz: checksum mismatch"):
        MNIST(tmp_path, train=True, download=False)


def test_truncated_file_names_file(tmp_path):
    _write_split(tmp_path, gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match=r"idx3-ubyte: the file is truncated.*replace it"):
        MNIST(tmp_path, train=True, download=False, verify=False)


def test_truncated_gzip_names_file(tmp_path):
    _write_split(tmp_path)
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte\.gz: the gzip file is trunc"):
        MNIST(tmp_path, train=True, download=False, verify=False)


def test_not_an_idx_file(tmp_path):
    path = tmp_path / "junk"
    path.write_bytes(b"hello world, not idx")
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(path)


def test_offline_message_and_shipped_fallback(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("NEURALAB_DATA", raising=False)
    monkeypatch.setenv("NEURALAB_CACHE", str(tmp_path / "cache"))
    with pytest.raises(DataError, match=r"put t10k-images-idx3-ubyte\.gz .* in one of: "
                       + str(tmp_path)):
        MNIST(tmp_path, train=False, download=False, subset=False)
    # A root the user gave that holds no data is an error naming it (and torchvision's
    # root/MNIST/raw), never a quiet fall-back to the shipped subset.
    with pytest.raises(DataError, match=r"MNIST/raw"):
        MNIST(tmp_path, train=False, download=False)
    # Without a root, the shipped subset stands in, and says so.
    ds = MNIST(train=False, download=False)
    assert ds.is_subset and len(ds) == 1000
    assert "using the shipped subset" in capsys.readouterr().err


def test_offline_env_skips_download(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURALAB_OFFLINE", "1")

    def no_network(*args, **kwargs):
        raise AssertionError("tried to download although NEURALAB_OFFLINE is set")

    monkeypatch.setattr("neuralab.data.datasets.mnist.download_file", no_network)
    monkeypatch.delenv("NEURALAB_DATA", raising=False)
    monkeypatch.setenv("NEURALAB_CACHE", str(tmp_path / "cache"))
    with pytest.raises(DataError, match=str(tmp_path)):
        MNIST(tmp_path, train=True, download=True)
    assert MNIST(train=True, download=True).is_subset


def test_shipped_subset_is_class_balanced():
    train = MNIST(subset=True, train=True)
    test = MNIST(subset=True, train=False)
    assert train.is_subset and test.is_subset
    assert train.data.shape == (5000, 28, 28) and test.data.shape == (1000, 28, 28)
    assert train.data.dtype == np.uint8 and train.targets.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(train.targets, minlength=10), [500] * 10)
    np.testing.assert_array_equal(np.bincount(test.targets, minlength=10), [100] * 10)
    assert 20 < train.data.mean() < 50  # real digits: mostly black background


def test_env_variable_root(tmp_path, monkeypatch):
    (tmp_path / "mnist").mkdir()
    _write_split(tmp_path / "mnist", train=False, n=4)
    monkeypatch.setenv("NEURALAB_DATA", str(tmp_path))
    ds = MNIST(train=False, download=False, verify=False)
    assert len(ds) == 4 and not ds.is_subset


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "f.bin"
    atomic_write_bytes(target, b"abc")

    with pytest.raises(TypeError):
        atomic_write_bytes(target, object())  # fails while writing
    assert target.read_bytes() == b"abc"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_real_mnist(shared_data):
    root = shared_data / "mnist"
    train = MNIST(root, train=True, download=False, subset=False)
    test = MNIST(root, train=False, download=False, subset=False)
    assert len(train) == 60000 and len(test) == 10000
    np.testing.assert_array_equal(np.bincount(test.targets)[:3], [980, 1135, 1032])
    # Loading verified the SHA-256 of the decompressed content; recheck the small label files
    # independently of the loader.
    for name in ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"):
        content = gzip.decompress((root / f"{name}.gz").read_bytes())
        assert hashlib.sha256(content).hexdigest() == SHA256[name]
    # The shipped subset is drawn from the real files.
    path = resources.files("neuralab.data").joinpath("shipped", "mnist_subset.npz")
    with resources.as_file(path) as p, np.load(p, allow_pickle=False) as shipped:
        np.testing.assert_array_equal(train.data[shipped["train_indices"]],
                                      shipped["train_images"])
        np.testing.assert_array_equal(test.targets[shipped["test_indices"]],
                                      shipped["test_labels"])


def test_download_from_mirror_verifies_and_stores(tmp_path, monkeypatch):
    from neuralab.data.datasets import mnist

    mirror, dest = tmp_path / "mirror", tmp_path / "dest"
    mirror.mkdir()
    images, labels = _write_split(mirror, train=False, n=6)
    digests = {name: hashlib.sha256(gzip.decompress((mirror / f"{name}.gz").read_bytes()))
               .hexdigest() for name in mnist.FILES[False]}
    monkeypatch.setattr(mnist, "SHA256", {**mnist.SHA256, **digests})
    monkeypatch.delenv("NEURALAB_OFFLINE", raising=False)
    # The first mirror is unreachable; the second (a local file:// URL) answers.
    monkeypatch.setattr(mnist, "MIRRORS", [f"file://{tmp_path}/nowhere/", f"file://{mirror}/"])
    ds = MNIST(dest, train=False, download=True)
    assert not ds.is_subset
    np.testing.assert_array_equal(ds.data, images)
    assert sorted(p.name for p in dest.iterdir()) == sorted(f"{n}.gz" for n in digests)
    # A mirror serving the wrong content is rejected and nothing is stored.
    (mirror / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\0\0\x08\x01junk"))
    with pytest.raises(DataError, match="checksum"):
        download_file("t10k-labels-idx1-ubyte.gz", [f"file://{mirror}/"], tmp_path / "d2",
                      sha256=digests["t10k-labels-idx1-ubyte"])
    assert not (tmp_path / "d2").exists() or not any((tmp_path / "d2").iterdir())
