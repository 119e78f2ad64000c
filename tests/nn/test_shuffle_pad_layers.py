"""Parameterless layers against their torch.nn twins: PixelShuffle, PixelUnshuffle,
ChannelShuffle, the 1-, 2- and 3-d padding layers (every mode), Softmax2d; Dropout1d/Dropout3d
drop whole channels. Values and input gradients (float64), reprs, and the messages of bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn as nn


def _compare(ours, theirs, x):
    xo = nl.tensor(x, dtype=np.float64, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert yo.shape == tuple(yt.shape)
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(yt.shape)
    (yo * nl.tensor(g, dtype=np.float64)).sum().backward()
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


LAYERS = [
    ("PixelShuffle", (2,), (2, 8, 3, 2)),
    ("PixelShuffle", (3,), (9, 2, 1)),
    ("PixelUnshuffle", (2,), (2, 1, 4, 6)),
    ("PixelUnshuffle", (3,), (1, 2, 1, 3, 6)),
    ("ChannelShuffle", (3,), (2, 6, 2, 2)),
    ("ChannelShuffle", (2,), (1, 4, 3)),
    ("Softmax2d", (), (2, 4, 3, 2)),
    ("Softmax2d", (), (3, 2, 2)),
    ("ZeroPad1d", ((1, 2),), (2, 3, 4)),
    ("ZeroPad1d", (-1,), (5,)),
    ("ZeroPad2d", (1,), (3, 4)),
    ("ZeroPad3d", ((1, 0, 2, 1, 0, 3),), (1, 2, 3, 2, 2)),
    ("ConstantPad1d", (2, 0.5), (3, 4)),
    ("ConstantPad1d", ((1, -2), -1.5), (1, 2, 3, 5)),
    ("ConstantPad3d", (1, 2.0), (2, 2, 3, 2)),
    ("ConstantPad3d", ((0, 1, 1, 0, 2, -1), 3.0), (1, 1, 2, 2, 3)),
    ("ReflectionPad1d", ((2, 3),), (2, 3, 5)),
    ("ReflectionPad1d", (1,), (3, 4)),
    ("ReflectionPad3d", (1,), (1, 2, 3, 3, 2)),
    ("ReflectionPad3d", ((2, 1, 0, 1, 1, 2),), (2, 3, 2, 3)),
    ("ReplicationPad1d", ((3, 1),), (2, 2, 3)),
    ("ReplicationPad3d", ((1, 2, 0, 1, 3, 0),), (1, 2, 2, 3, 2)),
    ("ReplicationPad3d", (2,), (2, 2, 2, 2)),
    ("CircularPad1d", ((2, 3),), (2, 3, 4)),
    ("CircularPad1d", ((-1, 2),), (2, 5)),
    ("CircularPad2d", ((1, 2, 2, 0),), (2, 2, 3, 4)),
    ("CircularPad2d", ((2, -1, -1, 1),), (2, 3, 4)),
    ("CircularPad3d", (1,), (1, 2, 2, 3, 2)),
    ("CircularPad3d", ((0, 2, 1, 1, 2, 0),), (2, 2, 2, 3)),
]


@pytest.mark.parametrize(("name", "args", "shape"), LAYERS,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(LAYERS)])
def test_layer_matches_torch(name, args, shape):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    _compare(ours, theirs, np.random.default_rng(0).standard_normal(shape))


def test_pixel_unshuffle_inverts_pixel_shuffle():
    x = nl.randn(2, 12, 3, 2)
    y = nn.PixelShuffle(2)(x)
    assert y.shape == (2, 3, 6, 4)
    np.testing.assert_array_equal(nn.PixelUnshuffle(2)(y).numpy(), x.numpy())


@pytest.mark.parametrize(("ours", "theirs", "mask_axes", "shape"), [
    (nn.Dropout1d, torch.nn.Dropout1d, (-1,), (64, 8, 5)),
    (nn.Dropout1d, torch.nn.Dropout1d, (-1,), (256, 5)),
    (nn.Dropout3d, torch.nn.Dropout3d, (-3, -2, -1), (64, 8, 2, 2, 3)),
    (nn.Dropout3d, torch.nn.Dropout3d, (-3, -2, -1), (256, 2, 3, 2)),
])
def test_channel_dropout_drops_whole_channels(ours, theirs, mask_axes, shape):
    nl.manual_seed(0)
    layer = ours(0.25)
    assert repr(layer) == repr(theirs(0.25))
    x = nl.ones(*shape, requires_grad=True)
    y = layer(x)
    out = y.numpy()
    kept = np.all(out == 1 / 0.75, axis=mask_axes)
    dropped = np.all(out == 0, axis=mask_axes)
    assert np.all(kept | dropped)  # each channel is entirely kept or entirely dropped
    assert abs(dropped.mean() - 0.25) < 0.06
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out)  # x̄ = mask / (1 − p)
    layer.eval()
    assert layer(x) is x


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="divisible by upscale_factor² = 4"):
        nn.PixelShuffle(2)(nl.randn(1, 5, 2, 2))
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        nl.pixel_shuffle(nl.randn(4, 2), 2)
    with pytest.raises(ValueError, match="upscale_factor must be positive"):
        nn.PixelShuffle(0)
    with pytest.raises(TypeError, match="downscale_factor must be an int"):
        nl.pixel_unshuffle(nl.randn(1, 1, 4, 4), 2.0)
    with pytest.raises(ValueError, match=r"height \(3\) must be divisible by downscale_factor=2"):
        nn.PixelUnshuffle(2)(nl.randn(1, 1, 3, 4))
    with pytest.raises(ValueError, match="5 channels .* and groups=2"):
        nn.ChannelShuffle(2)(nl.randn(1, 5, 2))
    with pytest.raises(ValueError, match="more than 2 dimensions"):
        nl.channel_shuffle(nl.randn(2, 4), 2)
    with pytest.raises(ValueError, match="ReflectionPad1d: input must be .C, W. or .N, C, W."):
        nn.ReflectionPad1d(2)(nl.randn(1, 2, 3, 5))
    with pytest.raises(ValueError, match="CircularPad3d: input must be"):
        nn.CircularPad3d(1)(nl.randn(3, 3, 3))
    with pytest.raises(ValueError, match="too large"):
        nn.CircularPad1d(6)(nl.randn(1, 2, 5))
    with pytest.raises(ValueError, match="too large"):
        nn.ReflectionPad1d(5)(nl.randn(1, 2, 5))
    with pytest.raises(TypeError, match=r"ZeroPad3d: padding must be an int or a 6-tuple"):
        nn.ZeroPad3d((1, 2, 3))
    with pytest.raises(TypeError, match=r"ConstantPad1d: padding must be an int or a 2-tuple"):
        nn.ConstantPad1d((1, 2, 3, 4), 0.0)
    with pytest.raises(ValueError, match="at least 3 dimension"):
        nn.ZeroPad3d(1)(nl.randn(2, 2))
    with pytest.raises(ValueError, match="Softmax2d: expected a 3-D .* or 4-D"):
        nn.Softmax2d()(nl.randn(2, 3))
    with pytest.raises(ValueError, match="dropout1d: expected a 2-d .* or 3-d"):
        nn.Dropout1d()(nl.randn(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="Received a 0-D input to dropout3d"), \
            pytest.raises(RuntimeError, match="at least 2 dimensions"):
        nl.dropout3d(nl.tensor(1.0), 0.5)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        nn.Dropout3d(1.5)
