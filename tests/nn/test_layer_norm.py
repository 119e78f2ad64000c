"""nn.LayerNorm against torch.nn.LayerNorm: outputs and every gradient, with weights copied."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl


@pytest.mark.parametrize("shape,normalized,affine,bias", [
    ((4, 6), 6, True, True),
    ((3, 5, 6), (6,), True, False),
    ((2, 3, 4, 5), (4, 5), True, True),
    ((2, 3, 4), [3, 4], False, True),
])
def test_layer_norm_module_matches_torch(shape, normalized, affine, bias):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32) * 3 + 1
    ours = nl.nn.LayerNorm(normalized, eps=1e-4, elementwise_affine=affine, bias=bias)
    theirs = torch.nn.LayerNorm(normalized, eps=1e-4, elementwise_affine=affine, bias=bias)
    if affine:
        w = rng.standard_normal(ours.weight.shape).astype(np.float32)
        ours.weight.array[...] = w
        theirs.weight.data = torch.from_numpy(w.copy())
        if bias:
            b = rng.standard_normal(ours.bias.shape).astype(np.float32)
            ours.bias.array[...] = b
            theirs.bias.data = torch.from_numpy(b.copy())
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    xn, xt = nl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    dy = rng.standard_normal(shape).astype(np.float32)
    yn, yt = ours(xn), theirs(xt)
    np.testing.assert_allclose(yn.array, yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    (yn * nl.tensor(dy)).sum().backward()
    (yt * torch.from_numpy(dy)).sum().backward()
    np.testing.assert_allclose(xn.grad.array, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(getattr(ours, name).grad.array, p.grad.numpy(), rtol=1e-4,
                                   atol=1e-5)
    assert "eps=0.0001" in repr(ours)


def test_layer_norm_errors_name_the_shape():
    with pytest.raises(ValueError, match=r"last 1 dimensions must be normalized_shape \(5,\)"):
        nl.nn.LayerNorm(5)(nl.randn(2, 4))
    with pytest.raises(ValueError, match="normalized_shape"):
        nl.nn.LayerNorm(0)
    with pytest.raises(ValueError, match="eps"):
        nl.nn.LayerNorm(3, eps=-1)
