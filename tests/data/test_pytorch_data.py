"""torch.utils.data and torchvision as PyTorch users write them: neuralab.utils.data,
neuralab.vision, transforms applied exactly once, samplers and default_collate against PyTorch."""

from __future__ import annotations

import io
import shutil
import tarfile
from collections import namedtuple

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import neuralab as nl
from neuralab.data.download import DataError
from neuralab.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    random_split,
)
from neuralab.vision import datasets, transforms

PIL = pytest.importorskip("PIL.Image")


def test_utils_data_reexports_neuralab_data():
    import neuralab.data as d

    assert nl.utils.data.DataLoader is d.DataLoader and nl.utils.data.Dataset is d.Dataset
    assert datasets.MNIST is d.MNIST and transforms.ToTensor is d.transforms.ToTensor
    assert nl.utils.make_grid is nl.vision.utils.make_grid
    assert nl.utils.data.get_worker_info() is None  # None outside the loader's workers


# ---- transforms on raw images -------------------------------------------------------------


def test_to_tensor_takes_grey_hwc_and_pil_images():
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (5, 7), dtype=np.uint8)
    rgb = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    for image, ref in [(grey, grey[None]), (rgb, rgb.transpose(2, 0, 1)),
                       (PIL.fromarray(grey), grey[None]), (PIL.fromarray(rgb),
                                                           rgb.transpose(2, 0, 1))]:
        out = transforms.ToTensor()(image)
        assert isinstance(out, nl.Tensor) and out.dtype == np.float32
        # torchvision: float(x) / 255 in float32.
        ref_t = torch.from_numpy(np.ascontiguousarray(ref)).float().div(255)
        np.testing.assert_allclose(out.array, ref_t.numpy(), rtol=1e-6, atol=1e-7)


def test_geometric_transforms_keep_raw_images_raw():
    rgb = np.random.default_rng(1).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    flipped = transforms.RandomHorizontalFlip(p=1.0)(rgb)
    np.testing.assert_array_equal(flipped, rgb[:, ::-1])
    crop = transforms.RandomCrop(8, padding=2)(rgb)
    assert crop.shape == (8, 8, 3) and crop.dtype == np.uint8
    grey = rgb[:, :, 0]
    np.testing.assert_array_equal(transforms.CenterCrop(4)(grey), grey[2:6, 2:6])
    pil = transforms.RandomHorizontalFlip(p=1.0)(PIL.fromarray(rgb))
    assert type(pil).__module__.startswith("PIL")
    np.testing.assert_array_equal(np.asarray(pil), rgb[:, ::-1])
    assert transforms.Lambda(lambda x: x + 1)(1) == 2


def _image_folder(root, n_per_class=3, size=6):
    rng = np.random.default_rng(0)
    for c in ("cat", "dog"):
        (root / c).mkdir(parents=True)
        for i in range(n_per_class):
            pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            PIL.fromarray(pixels).save(root / c / f"{i}.png")
    return root


def test_user_transform_gives_minus_one_to_one_and_runs_once_per_item(tmp_path):
    folder = _image_folder(tmp_path / "imgs")
    plain = datasets.ImageFolder(folder, cache=False)
    calls = []

    def count(x):
        calls.append(1)
        return x

    norm = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,) * 3,
                                                                          (0.5,) * 3),
                               transforms.Lambda(count)])
    ds = datasets.ImageFolder(folder, cache=False, transform=norm)
    x0, y0 = ds[0]  # the raw HWC image went through ToTensor once: CHW, in [-1, 1]
    assert x0.shape == (3, 6, 6) and y0 == 0
    np.testing.assert_allclose(x0.array, plain[0][0] * 2 - 1, atol=1e-6)
    calls.clear()
    batches = list(DataLoader(ds, batch_size=4, shuffle=True))
    assert len(calls) == len(ds) == 6  # every example once, none skipped by a fast path
    xs = np.concatenate([b[0].array for b in batches])
    assert xs.min() < -0.5 and xs.max() > 0.5 and xs.min() >= -1 and xs.max() <= 1


def test_batchable_transform_fast_path_equals_per_item(monkeypatch):
    t = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    fast = datasets.MNIST(subset=True, train=False, transform=t)
    slow = datasets.MNIST(subset=True, train=False, transform=transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,)),
         transforms.Lambda(lambda x: x)]))
    a = next(iter(DataLoader(fast, batch_size=50)))
    b = next(iter(DataLoader(slow, batch_size=50)))
    np.testing.assert_array_equal(a[0].array, b[0].array)  # bit for bit
    np.testing.assert_array_equal(a[1].array, b[1].array)
    assert a[0].shape == (50, 1, 28, 28) and a[1].dtype == np.int64
    # The fast path really is taken: no per-item reads.
    monkeypatch.setattr(type(fast), "__getitem__", lambda self, i: 1 / 0)
    assert len(next(iter(DataLoader(fast, batch_size=8)))[0]) == 8


def test_target_transform_and_user_getitem_are_never_skipped():
    ds = datasets.MNIST(subset=True, train=False, target_transform=lambda y: y + 100)
    _, y = next(iter(DataLoader(ds, batch_size=10)))
    assert (y.array >= 100).all()

    class Doubled(Dataset):  # in-memory arrays but its own __getitem__: read item by item
        def __init__(self):
            self.data = np.arange(6, dtype=np.float32).reshape(3, 2)
            self.targets = np.arange(3)

        def __getitem__(self, i):
            return self.data[i] * 2, int(self.targets[i])

        def __len__(self):
            return 3

    x, _ = next(iter(DataLoader(Doubled(), batch_size=3)))
    np.testing.assert_array_equal(x.array, np.arange(6).reshape(3, 2) * 2)


# ---- MNIST and CIFAR-10 as torchvision users point at them ----------------------------------


def test_mnist_torchvision_layout_without_network(shared_data, tmp_path, monkeypatch):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(shared_data / "mnist" / name, raw / name)

    def no_network(*args, **kwargs):
        raise AssertionError("download=True with the files present must not use the network")

    monkeypatch.setattr("neuralab.data.datasets.mnist.download_file", no_network)
    t = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    ds = datasets.MNIST(str(tmp_path), train=False, download=True, transform=t)
    assert len(ds) == 10000 and not ds.is_subset
    x, y = ds[0]
    assert x.shape == (1, 28, 28) and y == 7
    # Same values as neuralab's own standardisation of the same image.
    plain = datasets.MNIST(str(tmp_path), train=False, download=True)
    np.testing.assert_allclose(x.array, plain[0][0], atol=1e-5)


def test_mnist_empty_root_is_an_error_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURALAB_OFFLINE", "1")
    with pytest.raises(DataError, match=str(tmp_path)):
        datasets.MNIST(str(tmp_path), train=True, download=True)


def test_cifar10_reads_the_image_folder_archive(tmp_path):
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck"]
    archive = tmp_path / "cifar10-jpg.tar.gz"
    rng = np.random.default_rng(0)
    with tarfile.open(archive, "w:gz") as tar:
        for split in ("train", "test"):
            for c in classes:
                buffer = io.BytesIO()
                PIL.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(
                    buffer, format="PNG")
                info = tarfile.TarInfo(f"cifar10-jpg/{split}/{c}/0000.png")
                info.size = len(buffer.getvalue())
                tar.addfile(info, io.BytesIO(buffer.getvalue()))
    t = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,) * 3, (0.5,) * 3)])
    ds = datasets.CIFAR10(root=str(tmp_path), train=False, download=True, transform=t)
    assert len(ds) == 10 and ds.classes == classes
    x, y = ds[3]
    assert x.shape == (3, 32, 32) and y == 3 and -1 <= x.array.min() and x.array.max() <= 1


# ---- default_collate, samplers, DataLoader options against PyTorch --------------------------


def _same(ours, theirs):
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, nl.Tensor)
        np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-6)
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs)
        for k in theirs:
            _same(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
    else:
        assert ours == theirs


def test_default_collate_matches_torch_structure_and_values():
    Point = namedtuple("Point", "x y")
    rng = np.random.default_rng(0)
    items = [{"image": rng.random((2, 3)).astype(np.float32), "label": i, "name": f"n{i}",
              "pair": (float(i), [i, i + 1]), "pt": Point(i, 2 * i)} for i in range(4)]
    _same(default_collate(items), tud.default_collate(items))
    t_items = [(torch.full((2,), float(i)), i) for i in range(3)]
    n_items = [(nl.full((2,), float(i)), i) for i in range(3)]
    _same(default_collate(n_items), tud.default_collate(t_items))
    ints = default_collate([1, 2, 3])
    assert ints.dtype == np.int64
    with pytest.raises(TypeError, match="NoneType"):
        default_collate([None, None])


def test_samplers_against_torch():
    data = list(range(10))
    assert list(SequentialSampler(data)) == list(tud.SequentialSampler(data))
    assert sorted(RandomSampler(data)) == data
    assert list(BatchSampler(SequentialSampler(data), 4, drop_last=False)) == \
        list(tud.BatchSampler(tud.SequentialSampler(data), 4, drop_last=False))
    assert list(BatchSampler(range(10), 3, True)) == list(tud.BatchSampler(range(10), 3, True))
    assert len(BatchSampler(range(10), 3, False)) == len(tud.BatchSampler(range(10), 3, False))
    assert sorted(SubsetRandomSampler([7, 2, 5])) == [2, 5, 7]
    g = nl.Generator().manual_seed(0)
    drawn = list(WeightedRandomSampler([0.0, 1.0, 3.0], 4000, generator=g))
    counts = np.bincount(drawn, minlength=3)
    assert counts[0] == 0 and 2.7 < counts[2] / counts[1] < 3.3
    assert len(RandomSampler(data, replacement=True, num_samples=25)) == 25
    assert sorted(RandomSampler(data, num_samples=20))[:4] == [0, 0, 1, 1]


def test_dataloader_options_as_torch():
    x, y = np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10)
    ds = TensorDataset(nl.tensor(x), nl.tensor(y))
    loader = DataLoader(ds, batch_size=4, num_workers=2, pin_memory=True, persistent_workers=True,
                        prefetch_factor=2, drop_last=True,
                        generator=nl.Generator().manual_seed(1), shuffle=True)
    in_process = DataLoader(ds, batch_size=4, drop_last=True, shuffle=True,
                            generator=nl.Generator().manual_seed(1))
    for _ in range(2):  # the same order as without workers, epoch after epoch
        assert [b[1].array.tolist() for b in loader] == \
            [b[1].array.tolist() for b in in_process]
    loader._iterator.close()  # (tests/data/test_worker.py tests the workers themselves)
    by_sampler = DataLoader(ds, batch_size=3, sampler=SequentialSampler(ds))
    assert [b[1].array.tolist() for b in by_sampler] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    batches = DataLoader(ds, batch_sampler=[[9, 0], [5]])
    assert [b[1].array.tolist() for b in batches] == [[9, 0], [5]] and len(batches) == 2
    one = list(DataLoader(ds, batch_size=None))
    assert len(one) == 10 and one[3][1].item() == 3
    assert DataLoader(ds, collate_fn=lambda b: b).collate_fn is not None
    # The same errors as torch.utils.data.DataLoader.
    for kwargs in [dict(sampler=SequentialSampler(ds), shuffle=True),
                   dict(batch_sampler=[[0]], batch_size=2),
                   dict(persistent_workers=True), dict(prefetch_factor=2),
                   dict(num_workers=-1)]:
        with pytest.raises(ValueError):
            tud.DataLoader(list(range(3)), **kwargs)
        with pytest.raises(ValueError):
            DataLoader(ds, **kwargs)


def test_generator_makes_shuffling_and_random_split_reproducible():
    ds = TensorDataset(np.arange(30, dtype=np.float32)[:, None], np.arange(30))

    def order(seed):
        loader = DataLoader(ds, batch_size=30, shuffle=True,
                            generator=nl.Generator().manual_seed(seed))
        return next(iter(loader))[1].array.tolist()

    assert order(3) == order(3) and order(3) != order(4)
    a = random_split(ds, [0.7, 0.3], generator=nl.Generator().manual_seed(42))
    b = random_split(ds, [0.7, 0.3], generator=nl.Generator().manual_seed(42))
    assert [len(p) for p in a] == [len(p) for p in tud.random_split(range(30), [0.7, 0.3])]
    assert a[0].indices.tolist() == b[0].indices.tolist()
    with pytest.raises(ValueError, match="sum"):
        random_split(ds, [0.5, 0.2])


def test_iterable_dataset_batches_a_stream():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter((np.float32(i), i) for i in range(7))

    batches = list(DataLoader(Stream(), batch_size=3))
    assert [b[1].array.tolist() for b in batches] == [[0, 1, 2], [3, 4, 5], [6]]
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(), shuffle=True)


def test_tensor_dataset_items_are_tensors_for_tensor_inputs():
    ds = TensorDataset(nl.randn(4, 2), nl.tensor([0, 1, 0, 1]))
    x, y = ds[1]
    assert isinstance(x, nl.Tensor) and isinstance(y, nl.Tensor) and y.item() == 1
    assert len(ds.tensors) == 2


# ---- make_grid and save_image ------------------------------------------------------------------


def test_make_grid_layout_as_torchvision(tmp_path):
    images = np.stack([np.full((1, 2, 3), float(i), np.float32) for i in range(5)])
    grid = nl.utils.make_grid(nl.tensor(images), nrow=2, padding=1, pad_value=9.0)
    # 3 rows of 2: height 3*(2+1)+1, width 2*(3+1)+1, grey repeated to 3 channels.
    assert grid.shape == (3, 10, 9)
    g = grid.array
    assert g[0, 1, 1] == 0 and g[0, 1, 5] == 1 and g[0, 4, 1] == 2 and g[0, 7, 1] == 4
    assert g[0, 0, 0] == 9 and g[0, 7, 5] == 9  # padding, and the empty sixth cell
    single = nl.utils.make_grid(nl.tensor(images[:1]))
    assert single.shape == (3, 2, 3)
    norm = nl.utils.make_grid(nl.tensor(images), normalize=True, padding=0)
    assert norm.array.min() == 0 and norm.array.max() == 1
    path = tmp_path / "grid.png"
    nl.utils.save_image(nl.tensor(images / 4), path, nrow=5)
    back = np.asarray(PIL.open(path))
    assert back.shape == (2 + 4, 5 * 5 + 2, 3) and back[2, 2 + 5 * 4, 0] == 255


def test_random_crop_padding_forms_match_torch_padding():
    x = np.random.default_rng(2).random((2, 3, 5, 6)).astype(np.float32)
    tx = torch.from_numpy(x)
    # Cropping the whole padded image shows the padding itself: compare with torch's F.pad.
    for padding, mode, torch_pad in [(2, "reflect", (2, 2, 2, 2)),
                                     ((1, 3), "edge", (1, 1, 3, 3)),
                                     ((1, 2, 3, 0), "constant", (1, 3, 2, 0))]:
        left, right, top, bottom = torch_pad
        crop = transforms.RandomCrop((5 + top + bottom, 6 + left + right), padding=padding,
                                     padding_mode=mode, fill=0)
        ref = torch.nn.functional.pad(tx, torch_pad, mode="replicate" if mode == "edge"
                                      else mode)
        np.testing.assert_array_equal(crop(x), ref.numpy())
    grown = transforms.RandomCrop(8, pad_if_needed=True, fill=7.0)(x)
    assert grown.shape == (2, 3, 8, 8) and (grown == 7.0).any()
    with pytest.raises(ValueError, match="padding_mode"):
        transforms.RandomCrop(4, padding=1, padding_mode="wrap")
    with pytest.raises(ValueError, match="padding"):
        transforms.RandomCrop(4, padding=(1, 2, 3))
