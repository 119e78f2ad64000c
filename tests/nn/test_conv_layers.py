"""Convolution, pooling, normalization and padding layers against their torch.nn twins."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn as nn


def _twin_params(ours: nn.Module, theirs: torch.nn.Module) -> None:
    """Copy torch's parameters into ours (float64 in both)."""
    theirs.double()
    ours.double()
    sd = {k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()}
    ours.load_state_dict(sd)


def _compare(ours, theirs, x: np.ndarray, rtol=1e-7, atol=1e-9):
    """Outputs, input gradient and every parameter gradient of both modules agree."""
    xo = nl.tensor(x, dtype=np.float64, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(1).standard_normal(yt.shape)
    (yo * nl.tensor(g, dtype=np.float64)).sum().backward()
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=atol)
    named = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), named[name].grad.numpy(), rtol=rtol,
                                   atol=atol, err_msg=name)
    return yo, yt


CONV_CASES = [
    dict(in_channels=3, out_channels=6, kernel_size=5, padding=2),
    dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1, groups=2, bias=False),
    dict(in_channels=2, out_channels=3, kernel_size=(3, 2), padding="same", dilation=2),
    dict(in_channels=2, out_channels=4, kernel_size=3, padding="valid"),
    dict(in_channels=2, out_channels=3, kernel_size=3, padding=1, padding_mode="reflect"),
    dict(in_channels=2, out_channels=3, kernel_size=3, padding=(2, 1), padding_mode="replicate",
         stride=2),
    dict(in_channels=2, out_channels=2, kernel_size=3, padding=1, padding_mode="circular"),
]


@pytest.mark.parametrize("kw", CONV_CASES, ids=[str(i) for i in range(len(CONV_CASES))])
def test_conv2d_matches_torch(kw):
    ours, theirs = nn.Conv2d(**kw), torch.nn.Conv2d(**kw)
    _twin_params(ours, theirs)
    x = np.random.default_rng(0).standard_normal((2, kw["in_channels"], 9, 8))
    _compare(ours, theirs, x)
    assert repr(ours) == repr(theirs)


def test_conv2d_default_init_is_torchs_distribution():
    nl.manual_seed(0)
    conv = nn.Conv2d(16, 32, 3)
    bound = 1 / math.sqrt(16 * 9)
    w, b = conv.weight.numpy(), conv.bias.numpy()
    assert w.shape == (32, 16, 3, 3) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound  # U(−a, a) has std a/√3
    assert np.abs(b).max() <= bound


def test_conv2d_float32_forward_matches_torch():
    nl.manual_seed(0)
    ours = nn.Conv2d(3, 8, 3, padding=1)
    theirs = torch.nn.Conv2d(3, 8, 3, padding=1)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 3, 10, 10)).astype(np.float32)
    y = ours(nl.tensor(x))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), theirs(torch.tensor(x)).detach().numpy(), atol=1e-5)


@pytest.mark.parametrize("kind", ["1d-2D", "1d-3D", "2d"])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_training_and_eval_match_torch(kind, momentum):
    shape = {"1d-2D": (6, 3), "1d-3D": (4, 3, 5), "2d": (4, 3, 3, 2)}[kind]
    cls = "BatchNorm2d" if kind == "2d" else "BatchNorm1d"
    ours, theirs = getattr(nn, cls)(3, momentum=momentum), getattr(torch.nn, cls)(3,
                                                                               momentum=momentum)
    _twin_params(ours, theirs)
    rng = np.random.default_rng(0)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(rng.uniform(0.5, 1.5, 3)))
        theirs.bias.copy_(torch.tensor(rng.uniform(-0.5, 0.5, 3)))
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    for step in range(3):
        x = rng.standard_normal(shape) * (1 + step) + step
        for m in (ours, theirs):
            m.zero_grad()
        _compare(ours, theirs, x)
    sd_ours, sd_theirs = ours.state_dict(), theirs.state_dict()
    assert list(sd_ours) == list(sd_theirs)
    for k in sd_theirs:
        np.testing.assert_allclose(np.asarray(sd_ours[k]), sd_theirs[k].numpy(), rtol=1e-10,
                                   err_msg=k)
    assert int(np.asarray(sd_ours["num_batches_tracked"])) == 3
    ours.eval()
    theirs.eval()
    _compare(ours, theirs, rng.standard_normal(shape))
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy())


def test_batchnorm_without_affine_or_running_stats():
    rng = np.random.default_rng(0)
    for kw in (dict(affine=False), dict(track_running_stats=False)):
        ours, theirs = nn.BatchNorm2d(2, **kw), torch.nn.BatchNorm2d(2, **kw)
        _twin_params(ours, theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        _compare(ours, theirs, rng.standard_normal((3, 2, 2, 2)))
        ours.eval()
        theirs.eval()
        _compare(ours, theirs, rng.standard_normal((3, 2, 2, 2)))


def test_batchnorm_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(16\): the input has 6 channels"):
        nn.BatchNorm2d(16)(nl.randn(2, 6, 4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input \(got"):
        nn.BatchNorm1d(3)(nl.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(nl.randn(1, 3))
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm2d(3, momentum=2.0)


@pytest.mark.parametrize(("ours", "theirs"), [
    (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
    (nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
    (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
    (nn.AvgPool2d(3, 2, 1, count_include_pad=False),
     torch.nn.AvgPool2d(3, 2, 1, count_include_pad=False)),
    (nn.AdaptiveAvgPool2d(1), torch.nn.AdaptiveAvgPool2d(1)),
    (nn.AdaptiveAvgPool2d((3, 2)), torch.nn.AdaptiveAvgPool2d((3, 2))),
    (nn.AdaptiveMaxPool2d(2), torch.nn.AdaptiveMaxPool2d(2)),
    (nn.LocalResponseNorm(3, alpha=0.1), torch.nn.LocalResponseNorm(3, alpha=0.1)),
    (nn.ZeroPad2d((1, 2, 0, 3)), torch.nn.ZeroPad2d((1, 2, 0, 3))),
    (nn.ConstantPad2d(1, 0.5), torch.nn.ConstantPad2d(1, 0.5)),
    (nn.ReflectionPad2d(2), torch.nn.ReflectionPad2d(2)),
    (nn.ReplicationPad2d((1, 0, 2, 1)), torch.nn.ReplicationPad2d((1, 0, 2, 1))),
], ids=lambda m: type(m).__name__ if isinstance(m, nn.Module) else "")
def test_parameterless_layers_match_torch(ours, theirs):
    rng = np.random.default_rng(0)
    # distinct values: no ties for the max pools
    x = (rng.permutation(2 * 4 * 7 * 6).reshape(2, 4, 7, 6) - 100) * 0.03
    _compare(ours, theirs, x)


def test_max_pool_ties_go_to_the_first_position_like_torch():
    x = np.ones((1, 1, 4, 4))
    xo, xt = nl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, idx = nl.max_pool2d(xo, 2, return_indices=True)
    out_t, idx_t = torch.nn.functional.max_pool2d(xt, 2, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), idx_t.numpy())
    out.sum().backward()
    out_t.sum().backward()
    np.testing.assert_array_equal(xo.grad.numpy(), xt.grad.numpy())


def test_layers_work_on_channels_last_conv_outputs():
    """A conv output (an NCHW view of channels-last memory) flows through every layer."""
    x = nl.randn(3, 2, 8, 8, requires_grad=True)
    conv = nn.Conv2d(2, 4, 3, padding=1)
    seq = nn.Sequential(conv, nn.ReLU(), nn.BatchNorm2d(4), nn.MaxPool2d(2),
                        nn.Conv2d(4, 4, 3), nn.AvgPool2d(2), nn.Flatten())
    y = seq(x)
    assert y.shape == (3, 4)
    y.sum().backward()
    assert x.grad.shape == x.shape and np.isfinite(x.grad.numpy()).all()


def test_conv_errors_say_what_to_do():
    conv = nn.Conv2d(1, 6, 5)
    with pytest.raises(ValueError, match="did you build the model for MNIST and feed it CIFAR"):
        conv(nl.randn(2, 3, 32, 32))
    w = nl.randn(6, 1, 5, 5)
    msg = (r"conv2d: input has 3 channels but the weight expects 1 \(weight shape "
           r"\(6, 1, 5, 5\)\); did you build the model for MNIST and feed it CIFAR images\?")
    with pytest.raises(ValueError, match=msg):
        nl.conv2d(nl.randn(2, 3, 32, 32), w)
    with pytest.raises(ValueError, match="too small for this layer"):
        nl.conv2d(nl.randn(1, 1, 4, 4), w)
    with pytest.raises(ValueError, match=r"Expected 3D \(unbatched\) or 4D.*unsqueeze"):
        nl.conv2d(nl.randn(28, 28), w)  # one image without its channel: (1, 28, 28) works
    with pytest.raises(ValueError, match="groups=4 must divide"):
        nl.conv2d(nl.randn(1, 4, 8, 8), nl.randn(6, 1, 3, 3), groups=4)
    with pytest.raises(ValueError, match="groups=3 must divide"):
        nn.Conv2d(4, 6, 3, groups=3)
    with pytest.raises(ValueError, match="'same' needs stride=1"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="more than half the kernel"):
        nl.max_pool2d(nl.randn(1, 1, 8, 8), 2, padding=2)
    with pytest.raises(ValueError, match="too small"):
        nl.avg_pool2d(nl.randn(1, 1, 2, 2), 3)


CONV_VARIANTS = [
    (nn.Conv1d, torch.nn.Conv1d, dict(in_channels=3, out_channels=4, kernel_size=3, padding=1),
     (2, 3, 9)),
    (nn.Conv1d, torch.nn.Conv1d, dict(in_channels=4, out_channels=6, kernel_size=3, stride=2,
                                      groups=2, bias=False, dilation=2), (2, 4, 12)),
    (nn.Conv1d, torch.nn.Conv1d, dict(in_channels=2, out_channels=3, kernel_size=3, padding=2,
                                      padding_mode="reflect"), (2, 2, 7)),
    (nn.Conv1d, torch.nn.Conv1d, dict(in_channels=2, out_channels=3, kernel_size=4,
                                      padding="same"), (1, 2, 7)),
    (nn.ConvTranspose2d, torch.nn.ConvTranspose2d,
     dict(in_channels=3, out_channels=2, kernel_size=3, stride=2, padding=1, output_padding=1),
     (2, 3, 4, 5)),
    (nn.ConvTranspose2d, torch.nn.ConvTranspose2d,
     dict(in_channels=4, out_channels=6, kernel_size=(2, 3), groups=2, bias=False, dilation=2),
     (1, 4, 3, 3)),
    (nn.ConvTranspose1d, torch.nn.ConvTranspose1d,
     dict(in_channels=3, out_channels=2, kernel_size=4, stride=2, padding=1), (2, 3, 6)),
]


@pytest.mark.parametrize(("ours_cls", "theirs_cls", "kw", "shape"), CONV_VARIANTS,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CONV_VARIANTS)])
def test_conv_variants_match_torch(ours_cls, theirs_cls, kw, shape):
    ours, theirs = ours_cls(**kw), theirs_cls(**kw)
    assert ours.weight.shape == tuple(theirs.weight.shape)
    _twin_params(ours, theirs)
    _compare(ours, theirs, np.random.default_rng(0).standard_normal(shape))
    assert repr(ours) == repr(theirs)


def test_conv_transpose2d_undoes_the_size_change_of_conv2d():
    """The transposed convolution maps the output size back to the input size (Lecture 11)."""
    down = nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1)
    up = nn.ConvTranspose2d(8, 3, kernel_size=3, stride=2, padding=1, output_padding=1)
    x = nl.randn(2, 3, 16, 16)
    assert up(down(x)).shape == x.shape


def test_conv_transpose_errors_name_the_op():
    with pytest.raises(ValueError, match="output_padding"):
        nl.conv_transpose2d(nl.randn(1, 2, 3, 3), nl.randn(2, 2, 3, 3), output_padding=2)
    with pytest.raises(ValueError, match="input has 3 channels"):
        nl.conv_transpose2d(nl.randn(1, 3, 3, 3), nl.randn(2, 2, 3, 3))
