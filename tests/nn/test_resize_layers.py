"""The layers over interpolate, the 1-d pools, unflatten and the distances, against PyTorch."""

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import nn

LAYERS = [
    (lambda: nn.Upsample(scale_factor=2), lambda: torch.nn.Upsample(scale_factor=2),
     (1, 2, 3, 3)),
    (lambda: nn.Upsample(size=(5, 4), mode="bilinear"),
     lambda: torch.nn.Upsample(size=(5, 4), mode="bilinear"), (1, 2, 3, 3)),
    (lambda: nn.Upsample(scale_factor=1.5, mode="linear", align_corners=True),
     lambda: torch.nn.Upsample(scale_factor=1.5, mode="linear", align_corners=True), (2, 3, 4)),
    (lambda: nn.UpsamplingNearest2d(scale_factor=3),
     lambda: torch.nn.UpsamplingNearest2d(scale_factor=3), (1, 1, 2, 3)),
    (lambda: nn.UpsamplingBilinear2d(size=5), lambda: torch.nn.UpsamplingBilinear2d(size=5),
     (1, 1, 2, 3)),
    (lambda: nn.MaxPool1d(3, 2, 1), lambda: torch.nn.MaxPool1d(3, 2, 1), (2, 3, 8)),
    (lambda: nn.AvgPool1d(2), lambda: torch.nn.AvgPool1d(2), (2, 3, 8)),
    (lambda: nn.AdaptiveAvgPool1d(3), lambda: torch.nn.AdaptiveAvgPool1d(3), (2, 3, 8)),
    (lambda: nn.AdaptiveMaxPool1d(3), lambda: torch.nn.AdaptiveMaxPool1d(3), (2, 3, 8)),
    (lambda: nn.Unflatten(1, (2, 3)), lambda: torch.nn.Unflatten(1, (2, 3)), (4, 6)),
    (lambda: nn.Unfold(2, padding=1), lambda: torch.nn.Unfold(2, padding=1), (1, 2, 3, 3)),
    (lambda: nn.Fold((3, 3), 2), lambda: torch.nn.Fold((3, 3), 2), (1, 8, 4)),
]


@pytest.mark.parametrize(("ours", "theirs", "shape"), LAYERS)
def test_layer_matches_pytorch(ours, theirs, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    a = nl.tensor(x, dtype=np.float64, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    y, z = ours()(a), theirs()(t)
    np.testing.assert_allclose(y.numpy(), z.detach().numpy(), rtol=1e-6, atol=1e-8)
    y.sum().backward()
    z.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(("ours", "theirs"), [
    (lambda: nn.CosineSimilarity(dim=1), lambda: torch.nn.CosineSimilarity(dim=1)),
    (lambda: nn.PairwiseDistance(p=1.0, keepdim=True),
     lambda: torch.nn.PairwiseDistance(p=1.0, keepdim=True)),
])
def test_two_input_layers_match_pytorch(ours, theirs):
    rng = np.random.default_rng(1)
    x1, x2 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    y = ours()(nl.tensor(x1, dtype=np.float64), nl.tensor(x2, dtype=np.float64))
    z = theirs()(torch.tensor(x1), torch.tensor(x2))
    np.testing.assert_allclose(y.numpy(), z.numpy(), rtol=1e-6)


def test_interpolate_errors_match_pytorch():
    x = nl.zeros(1, 1, 3, 3)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        nn.functional.interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor"):
        nn.functional.interpolate(x)
    with pytest.raises(NotImplementedError, match="linear mode needs 3D input"):
        nn.functional.interpolate(x, size=2, mode="linear")
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        nn.functional.interpolate(x, size=2, align_corners=True)
