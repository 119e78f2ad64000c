"""Batch transforms: values against direct per-sample computation and PyTorch, and seeding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab.data import transforms as T


def _batch(n=6, c=3, h=8, w=10, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w)).astype(np.float32)


def test_to_tensor_nhwc_and_hwc():
    x = np.random.default_rng(0).integers(0, 256, (4, 5, 6, 3), dtype=np.uint8)
    out = T.ToTensor()(x)
    assert isinstance(out, nl.Tensor) and out.dtype == np.float32
    np.testing.assert_allclose(out.array, x.transpose(0, 3, 1, 2) / 255, rtol=1e-6)
    single = T.ToTensor()(x[0])
    assert single.shape == (3, 5, 6)
    grey = T.ToTensor()(np.full((5, 6), 51, np.uint8))  # (H, W), PIL mode 'L': one channel
    assert grey.shape == (1, 5, 6)
    np.testing.assert_allclose(grey.array, 0.2, rtol=1e-6)
    with pytest.raises(ValueError, match="ToTensor"):
        T.ToTensor()(np.zeros((5,), np.uint8))
    with pytest.raises(TypeError, match="already a Tensor"):
        T.ToTensor()(single)


def test_normalize_matches_torch_formula():
    x = _batch()
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    out = T.Normalize(mean, std)(x)
    ref = (torch.from_numpy(x) - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(
        1, 3, 1, 1)
    np.testing.assert_allclose(out, ref.numpy(), rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="channels"):
        T.Normalize((0.1, 0.2), (1, 1))(x)
    with pytest.raises(ValueError, match="std"):
        T.Normalize((0.1,), (0.0,))


def test_random_crop_is_a_window_of_the_padded_image():
    x = _batch(n=16, h=8, w=8)
    g = np.random.default_rng(3)
    out = T.RandomCrop(8, padding=2, generator=g)(x)
    assert out.shape == x.shape
    # Recompute the offsets from the same seed and check every sample.
    g2 = np.random.default_rng(3)
    top = g2.integers(0, 5, size=16)
    left = g2.integers(0, 5, size=16)
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    for n in range(16):
        np.testing.assert_array_equal(out[n], padded[n, :, top[n]:top[n] + 8,
                                                     left[n]:left[n] + 8])
    assert len({(a, b) for a, b in zip(top, left)}) > 1  # offsets really vary per sample


def test_random_crop_tensor_in_tensor_out_and_seeded():
    x = nl.Tensor(_batch())
    a = T.RandomCrop(6, generator=np.random.default_rng(1))(x)
    b = T.RandomCrop(6, generator=np.random.default_rng(1))(x)
    assert isinstance(a, nl.Tensor) and a.shape == (6, 3, 6, 6)
    np.testing.assert_array_equal(a.array, b.array)
    nl.manual_seed(5)
    c = T.RandomCrop(6)(x)
    nl.manual_seed(5)
    d = T.RandomCrop(6)(x)
    np.testing.assert_array_equal(c.array, d.array)
    with pytest.raises(ValueError, match="larger"):
        T.RandomCrop(20)(x)


def test_horizontal_flip_flips_about_half():
    x = _batch(n=200, h=2, w=4)
    out = T.RandomHorizontalFlip(0.5, generator=np.random.default_rng(0))(x)
    flipped = np.all(out == x[..., ::-1], axis=(1, 2, 3))
    same = np.all(out == x, axis=(1, 2, 3))
    assert np.all(flipped | same)
    assert 70 < flipped.sum() < 130
    assert np.array_equal(T.RandomHorizontalFlip(1.0)(x), x[..., ::-1])
    assert np.array_equal(T.RandomHorizontalFlip(0.0)(x), x)


def test_resize_matches_torch_bilinear():
    x = _batch(n=2, h=12, w=9)
    for size in [(6, 5), (20, 17), 7]:
        out = T.Resize(size)(x)
        torch_size = size if isinstance(size, tuple) else (int(7 * 12 / 9), 7)
        ref = torch.nn.functional.interpolate(torch.from_numpy(x), size=torch_size,
                                              mode="bilinear", align_corners=False)
        np.testing.assert_allclose(out, ref.numpy(), atol=1e-5)


def test_center_crop():
    x = _batch(h=9, w=9)
    np.testing.assert_array_equal(T.CenterCrop(5)(x), x[:, :, 2:7, 2:7])


def test_random_resized_crop_boxes_and_values():
    x = _batch(n=5, h=32, w=24)
    t = T.RandomResizedCrop(16, scale=(0.2, 1.0), generator=np.random.default_rng(0))
    out = t(x)
    assert out.shape == (5, 3, 16, 16)
    top, left, h, w = T.RandomResizedCrop(16, scale=(0.2, 1.0),
                                          generator=np.random.default_rng(0)).boxes(5, 32, 24)
    assert np.all(top + h <= 32) and np.all(left + w <= 24)
    area = h * w / (32 * 24)
    assert np.all(area > 0.15) and np.all(area <= 1.0)
    # Sample 0 equals a torch crop + bilinear resize.
    crop = torch.from_numpy(x[:1, :, top[0]:top[0] + h[0], left[0]:left[0] + w[0]])
    ref = torch.nn.functional.interpolate(crop, size=(16, 16), mode="bilinear",
                                          align_corners=False)
    np.testing.assert_allclose(out[:1], ref.numpy(), atol=1e-5)


def test_scale_jitter_output_and_scale_range():
    x = _batch(n=4, h=40, w=50)
    out = T.ScaleJitter(24, 48, 24, generator=np.random.default_rng(0))(x)
    assert out.shape == (4, 3, 24, 24) and out.dtype == np.float32
    assert out.min() >= x.min() - 1e-6 and out.max() <= x.max() + 1e-6
    # S = shorter side exactly: the crop is a plain crop of a full-height resized image.
    flat = np.ones((1, 1, 30, 30), np.float32)
    np.testing.assert_allclose(T.ScaleJitter(30, 30, 30)(flat), flat)
    with pytest.raises(ValueError, match="s_min"):
        T.ScaleJitter(16, 32, 24)


def test_compose_cifar_pipeline():
    x = np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
    pipeline = T.Compose([T.ToTensor(), T.RandomCrop(32, padding=4),
                          T.RandomHorizontalFlip(), T.Normalize((0.5,) * 3, (0.25,) * 3)])
    out = pipeline(x)
    assert out.shape == (8, 3, 32, 32) and out.dtype == np.float32
    assert "RandomCrop" in repr(pipeline)


def test_random_shift_moves_each_sample_within_bounds_and_fills_the_border():
    x = np.zeros((64, 2, 28, 28), np.float32)
    x[:, :, 13, 13] = 1.0  # one bright pixel in the middle of each channel
    out = T.RandomShift(2, fill=-0.5, generator=np.random.default_rng(0))(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert np.all((out == 1.0).reshape(64, -1).sum(1) == 2)  # nothing lost within ±2 px
    assert np.array_equal(out[:, 0], out[:, 1])  # one shift per sample, for all channels
    n, rows, cols = np.nonzero(out[:, 0] == 1.0)
    assert rows.min() >= 11 and rows.max() <= 15 and cols.min() >= 11 and cols.max() <= 15
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 10  # different shifts per image
    # Each sample is the input moved by (dy, dx), the uncovered border filled.
    for k in range(8):
        dy, dx = rows[k] - 13, cols[k] - 13
        padded = np.pad(x[k], ((0, 0), (2, 2), (2, 2)), constant_values=-0.5)
        np.testing.assert_array_equal(out[k], padded[:, 2 - dy:30 - dy, 2 - dx:30 - dx])
    # The same seed, the same shifts; a single image works; s = 0 returns the input.
    again = T.RandomShift(2, fill=-0.5, generator=np.random.default_rng(0))(x)
    np.testing.assert_array_equal(out, again)
    assert T.RandomShift(1)(x[0]).shape == (2, 28, 28)
    assert T.RandomShift(0)(x) is x
    with pytest.raises(ValueError, match="RandomShift: max_shift"):
        T.RandomShift(-1)
