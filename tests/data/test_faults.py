"""Fault injection on the files the data loaders read: truncated and corrupt archives, stale
caches, gzip bombs, crafted IDX headers, damaged safetensors, text that is not text."""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import tarfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neuralab.data.datasets.cifar import CIFAR10, CIFAR100
from neuralab.data.datasets.imagefolder import ImageFolder
from neuralab.data.datasets.mnist import read_idx
from neuralab.data.datasets.text import CharCorpus
from neuralab.data.download import DataError, read_maybe_gzip


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURALAB_CACHE", str(tmp_path / "cache"))


def _png(color, size=(4, 4)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def _image_tar(path: Path, n_per_class=10, mode="w") -> Path:
    with tarfile.open(path, mode) as tar:
        for split in ("train", "test"):
            for c, color in enumerate([(255, 0, 0), (0, 255, 0)]):
                for i in range(n_per_class):
                    blob = _png(color)
                    info = tarfile.TarInfo(f"top/{split}/class{c}/{i:03d}.png")
                    info.size = len(blob)
                    tar.addfile(info, io.BytesIO(blob))
    return path


def _member_end_offsets(path: Path) -> list[int]:
    with tarfile.open(path) as tar:
        return [m.offset_data + ((m.size + 511) // 512) * 512 for m in tar.getmembers()]


# ---- image archives ------------------------------------------------------------------------------

def test_tar_cut_at_a_member_boundary_is_refused(tmp_path):
    """tarfile takes a file cut between two members for a shorter archive: 5 of 20 images."""
    path = _image_tar(tmp_path / "images.tar")
    assert len(ImageFolder.from_archive(path, cache=False)) == 20
    cut = _member_end_offsets(path)[4]
    path.write_bytes(path.read_bytes()[:cut])
    with pytest.raises(ValueError, match=rf"{path} is truncated: it ends after 5 members"):
        ImageFolder.from_archive(path, cache=False)


@pytest.mark.parametrize("fraction", [0.1, 0.37, 0.5, 0.83, 0.99])
def test_tar_cut_anywhere_is_refused(tmp_path, fraction):
    path = _image_tar(tmp_path / "images.tar")
    end = _member_end_offsets(path)[-1]  # past it: the end marker and zero padding
    path.write_bytes(path.read_bytes()[:int(end * fraction)])
    with pytest.raises(ValueError, match=str(path)):
        ImageFolder.from_archive(path, cache=False)


@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.6, 0.95])
def test_truncated_tar_gz_is_a_message_not_an_eoferror(tmp_path, fraction):
    path = _image_tar(tmp_path / "images.tar.gz", mode="w:gz")
    raw = path.read_bytes()
    path.write_bytes(raw[:int(len(raw) * fraction)])
    with pytest.raises(ValueError, match=rf"{path} is (not a readable tar archive|truncated)"):
        ImageFolder.from_archive(path, cache=False)


def test_gzipped_tar_cut_at_a_member_boundary_is_refused(tmp_path):
    plain = _image_tar(tmp_path / "images.tar")
    cut = _member_end_offsets(plain)[7]
    path = tmp_path / "images.tar.gz"
    path.write_bytes(gzip.compress(plain.read_bytes()[:cut]))
    with pytest.raises(ValueError, match="truncated: it ends after 8 members"):
        ImageFolder.from_archive(path, cache=False)


def test_corrupt_tar_gz_bytes_are_a_message(tmp_path):
    path = _image_tar(tmp_path / "images.tar.gz", mode="w:gz")
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2:len(raw) // 2 + 32] = b"\x00" * 32
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=str(path)):
        ImageFolder.from_archive(path, cache=False)


def test_not_an_archive_and_empty_file(tmp_path):
    for content in (b"", b"hello world" * 100, b"\x1f\x8b" + b"\x00" * 50):
        path = tmp_path / "x.tar.gz"
        path.write_bytes(content)
        with pytest.raises(ValueError, match=str(path)):
            ImageFolder.from_archive(path, cache=False)


def test_corrupt_image_in_a_folder_names_the_file(tmp_path):
    for c in ("a", "b"):
        (tmp_path / "root" / c).mkdir(parents=True)
        (tmp_path / "root" / c / "0.png").write_bytes(_png((1, 2, 3)))
    bad = tmp_path / "root" / "b" / "1.png"
    bad.write_bytes(_png((1, 2, 3))[:30])
    with pytest.raises(ValueError, match=str(bad)):
        ImageFolder(tmp_path / "root", cache=False)


# ---- decoded-image caches ------------------------------------------------------------------------

def test_folder_cache_sees_a_same_size_replacement_with_the_old_mtime(tmp_path):
    root = tmp_path / "root"
    for c in ("a", "b"):
        (root / c).mkdir(parents=True)
        (root / c / "0.png").write_bytes(_png((10, 20, 30)))
    first = ImageFolder(root, progress=False)
    assert first.data[0, 0, 0].tolist() == [10, 20, 30]
    target = root / "a" / "0.png"
    old = target.stat()
    replacement = _png((200, 100, 50))
    assert len(replacement) == old.st_size  # same size: size+mtime keys cannot tell
    time.sleep(0.02)  # a later status-change time, whatever the clock's granularity
    target.write_bytes(replacement)
    os.utime(target, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert target.stat().st_mtime_ns == old.st_mtime_ns
    second = ImageFolder(root, progress=False)
    assert second.data[0, 0, 0].tolist() == [200, 100, 50]


def test_archive_cache_sees_a_same_size_replacement_with_the_old_mtime(tmp_path):
    path = _image_tar(tmp_path / "images.tar", n_per_class=2)
    first = ImageFolder.from_archive(path, progress=False)
    assert first.data[0, 0, 0].tolist() == [255, 0, 0]
    old = path.stat()
    raw = path.read_bytes()
    # Same length, other pixels: rebuild with swapped colours.
    other = tmp_path / "other.tar"
    with tarfile.open(other, "w") as tar, tarfile.open(path) as src:
        for member in src.getmembers():
            blob = src.extractfile(member).read()
            im = np.asarray(Image.open(io.BytesIO(blob)))[..., ::-1]
            buf = io.BytesIO()
            Image.fromarray(np.ascontiguousarray(im)).save(buf, format="PNG")
            member.size = len(buf.getvalue())
            tar.addfile(member, io.BytesIO(buf.getvalue()))
    assert len(other.read_bytes()) == len(raw)
    path.write_bytes(other.read_bytes())
    os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))
    second = ImageFolder.from_archive(path, progress=False)
    assert second.data[0, 0, 0].tolist() == [0, 0, 255]


def test_damaged_cache_is_rebuilt(tmp_path):
    path = _image_tar(tmp_path / "images.tar", n_per_class=2)
    ImageFolder.from_archive(path, progress=False)
    caches = list((tmp_path / "cache").glob("*.npz"))
    assert caches
    for cache in caches:
        cache.write_bytes(cache.read_bytes()[:100])
    again = ImageFolder.from_archive(path, progress=False)
    assert len(again) == 4 and again.data[0, 0, 0].tolist() == [255, 0, 0]


# ---- CIFAR archives ------------------------------------------------------------------------------

def test_cifar_honours_neuralab_offline(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("tried to download although NEURALAB_OFFLINE=1")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    monkeypatch.setenv("NEURALAB_OFFLINE", "1")
    for cls in (CIFAR10, CIFAR100):
        with pytest.raises(FileNotFoundError, match="NEURALAB_OFFLINE is set"):
            cls(tmp_path, download=True)


def _cifar_like(path: Path) -> None:
    import pickle

    with tarfile.open(path, "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]:
            batch = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1],
                     b"label_names": [b"a", b"b"]}
            blob = pickle.dumps(batch, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))


@pytest.mark.parametrize("fraction", [0.2, 0.5, 0.9])
def test_truncated_cifar_archive_is_a_message(tmp_path, fraction):
    path = tmp_path / "cifar-10-python.tar.gz"
    _cifar_like(path)
    assert len(CIFAR10(tmp_path, download=False, check_md5=False)) == 10
    raw = path.read_bytes()
    path.write_bytes(raw[:int(len(raw) * fraction)])
    with pytest.raises(ValueError, match=rf"cannot read {path} .*truncated or corrupt"):
        CIFAR10(tmp_path, download=False, check_md5=False)
    with pytest.raises(ValueError, match="MD5"):
        CIFAR10(tmp_path, download=False)


def test_cifar_archive_cut_at_a_member_boundary(tmp_path):
    plain = tmp_path / "plain.tar"
    _cifar_like(tmp_path / "full.tar.gz")
    plain.write_bytes(gzip.decompress((tmp_path / "full.tar.gz").read_bytes()))
    cut = _member_end_offsets(plain)[-1]  # every member there, no end marker
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(gzip.compress(plain.read_bytes()[:cut]))
    with pytest.raises(ValueError, match="truncated"):
        CIFAR10(tmp_path, download=False, check_md5=False)


# ---- gzip bombs and crafted IDX headers ----------------------------------------------------------

def test_gzip_bomb_is_capped(tmp_path):
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(b"\x00" * (64 << 20), 9))  # 64 MB from ~64 KB
    assert path.stat().st_size < 200_000
    with pytest.raises(DataError, match=rf"{path}: the gzip file inflates to more than 1,048,576"):
        read_maybe_gzip(path, max_size=1 << 20)


def test_gzip_cap_counts_concatenated_members(tmp_path):
    path = tmp_path / "two.gz"
    path.write_bytes(gzip.compress(b"a" * 600_000) + gzip.compress(b"b" * 600_000))
    assert read_maybe_gzip(path, max_size=2_000_000) == b"a" * 600_000 + b"b" * 600_000
    with pytest.raises(DataError, match="inflates to more than"):
        read_maybe_gzip(path, max_size=1_000_000)


@pytest.mark.parametrize("cut", [3, 10, 40, -9, -3])
def test_truncated_gzip_names_the_file(tmp_path, cut):
    path = tmp_path / "f.gz"
    path.write_bytes(gzip.compress(os.urandom(5000))[:cut])
    with pytest.raises(DataError, match=rf"{path}: the gzip file is truncated or corrupt"):
        read_maybe_gzip(path)


def _idx(shape, payload: bytes, code=0x08) -> bytes:
    return bytes([0, 0, code, len(shape)]) + b"".join(struct.pack(">i", n) for n in shape) \
        + payload


def test_idx_gzip_bomb_stops_at_the_size_its_header_announces(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_idx((10, 28, 28), b"\x00" * (50 << 20)), 9))
    with pytest.raises(DataError, match=r"inflates to more than 7,856 bytes"):
        read_idx(path)


@pytest.mark.parametrize("shape", [(65536, 65536, 65536, 65536), (2**31 - 1,) * 3,
                                   (4, -1, 28), (-2, -2)])
def test_crafted_idx_header_is_refused_with_the_file_name(tmp_path, shape):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(_idx(shape, b""))
    with pytest.raises(DataError, match=str(path)):
        read_idx(path)
    gz = tmp_path / "t10k-labels-idx1-ubyte.gz"
    gz.write_bytes(gzip.compress(_idx(shape, b"\x01" * 64)))
    with pytest.raises(DataError, match=str(gz)):
        read_idx(gz)


@pytest.mark.parametrize("content", [b"", b"\x00", b"\x00\x00\x08", b"\x00\x00\x08\x03\x00",
                                     b"\x01\x02\x03\x04" * 10, _idx((3,), b"\x01\x02"),
                                     _idx((2,), b"\x01\x02\x03"), _idx((2,), b"\x01", code=0x0C)])
def test_short_or_foreign_idx_files(tmp_path, content):
    path = tmp_path / "x-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(DataError, match=str(path)):
        read_idx(path)


def test_idx_reads_a_good_file(tmp_path):
    path = tmp_path / "ok-idx2-ubyte.gz"
    path.write_bytes(gzip.compress(_idx((2, 3), bytes(range(6)))))
    np.testing.assert_array_equal(read_idx(path), np.arange(6).reshape(2, 3))


# ---- text ----------------------------------------------------------------------------------------

def test_text_that_is_not_text(tmp_path):
    path = tmp_path / "input.txt"
    path.write_bytes(gzip.compress(b"hello world " * 100))
    with pytest.raises(DataError, match=rf"{path}: not utf-8 text"):
        CharCorpus.from_file(path)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="at least 2 characters"):
        CharCorpus.from_file(path)
    with pytest.raises(DataError, match="checksum mismatch"):
        CharCorpus.from_file(path, sha256="0" * 64)


# ---- safetensors ---------------------------------------------------------------------------------

def _safetensors(tensors: dict[str, tuple[str, list[int], bytes]]) -> bytes:
    header, data = {}, b""
    for name, (dtype, shape, blob) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def test_bf16_safetensors_file_loads_by_path_as_float32(tmp_path):
    import torch
    from safetensors.torch import save_file

    from neuralab import nn
    from neuralab.interop import load_torch_state_dict, read_safetensors

    weight = torch.randn(3, 4).to(torch.bfloat16)
    path = tmp_path / "w.safetensors"
    save_file({"weight": weight, "bias": torch.zeros(3, dtype=torch.bfloat16)}, str(path))
    arrays = read_safetensors(path)
    assert arrays["weight"].dtype == np.float32
    np.testing.assert_array_equal(arrays["weight"], weight.float().numpy())
    layer = nn.Linear(4, 3)
    load_torch_state_dict(layer, path)
    np.testing.assert_array_equal(layer.weight.array, weight.float().numpy())
    # The same as a dict of bf16 tensors.
    other = nn.Linear(4, 3)
    load_torch_state_dict(other, {"weight": weight, "bias": torch.zeros(3, dtype=torch.bfloat16)})
    np.testing.assert_array_equal(layer.weight.array, other.weight.array)


def test_safetensors_written_by_neuralab_read_back(tmp_path):
    from neuralab import nn
    from neuralab.interop import export_state_dict, read_safetensors

    layer = nn.Linear(4, 3)
    path = tmp_path / "w.safetensors"
    export_state_dict(layer, path)
    back = read_safetensors(path)
    np.testing.assert_array_equal(back["weight"], layer.weight.array)


GOOD = ("F32", [2, 2], np.arange(4, dtype="<f4").tobytes())


@pytest.mark.parametrize("content, why", [
    (b"", "less than the 8-byte header length"),
    (b"\x10\x00", "less than the 8-byte header length"),
    (b"\xff" * 20, "exceeds the file's"),
    (struct.pack("<Q", 100) + b'{"w": 3', "exceeds the file's"),
    (struct.pack("<Q", 7) + b'{"w": 3', "does not parse"),
    (struct.pack("<Q", 2) + b"\xff\xfe", "does not parse"),
    (struct.pack("<Q", 6) + b"[1, 2]", "not a JSON object"),
    (_safetensors({"w": ("F32", [2, 2], b"\x00" * 8)}), "data_offsets"),
    (_safetensors({"w": ("Q9", [2], b"\x00" * 8)}), "no valid dtype"),
    (_safetensors({"w": ("F32", [-1, 4], b"\x00" * 16)}), "data_offsets"),
    (_safetensors({"w": GOOD})[:-3], "truncated"),
    (_safetensors({"w": ("F32", "x", b"")}), "no valid dtype"),
])
def test_damaged_safetensors_name_the_file(tmp_path, content, why):
    from neuralab import nn
    from neuralab.interop import load_torch_state_dict, read_safetensors

    path = tmp_path / "w.safetensors"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=rf"safetensors: {path} is damaged.*{why}"):
        read_safetensors(path)
    with pytest.raises(ValueError, match=str(path)):
        load_torch_state_dict(nn.Linear(2, 2, bias=False), path)


def test_damaged_npz_weights_name_the_file(tmp_path):
    from neuralab import nn
    from neuralab.interop import load_torch_state_dict

    path = tmp_path / "w.npz"
    np.savez(path, weight=np.zeros((2, 2), np.float32))
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(ValueError, match=str(path)):
        load_torch_state_dict(nn.Linear(2, 2, bias=False), path)
