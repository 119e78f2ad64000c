"""Unbatched inputs: one example (C, *) where PyTorch allows it, and PyTorch's errors where it
does not.

Every accepted form is compared with PyTorch (values, the input's gradient and the parameters'
gradients, float64), and its batched twin is checked to give the same numbers with a batch
dimension, so that an op cannot pass by treating the example as a batch. Every rejected form is
rejected by both libraries, with PyTorch's words in neuralab's message.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import neuralab as nl
import neuralab.nn as nn
import neuralab.nn.functional as F

_RNG = np.random.default_rng(0)


def _w(*shape):
    """A fixed float64 array (a weight or bias shared by both libraries)."""
    return _RNG.standard_normal(shape)


# (id, call(F, x, *params), input shape, params, unbatched dims of the example) --------------
# ``call`` takes neuralab.nn.functional or torch.nn.functional and the library's tensors.
W1, B1 = _w(4, 3, 3), _w(4)
W1G = _w(4, 1, 3)
W2, B2 = _w(4, 3, 2, 3), _w(4)
W2G = _w(6, 1, 3, 3)
WT1, WT1G = _w(3, 2, 3), _w(4, 3, 2)
WT2 = _w(3, 2, 3, 2)

FUNCTIONAL = [
    ("conv1d", lambda f, x, w, b: f.conv1d(x, w, b, stride=2, padding=1, dilation=2),
     (3, 9), (W1, B1)),
    ("conv1d-no-bias", lambda f, x, w: f.conv1d(x, w), (3, 5), (W1,)),
    ("conv1d-groups-same", lambda f, x, w: f.conv1d(x, w, padding="same", groups=2),
     (2, 7), (W1G,)),
    ("conv2d", lambda f, x, w, b: f.conv2d(x, w, b, stride=(2, 1), padding=1), (3, 6, 7),
     (W2, B2)),
    ("conv2d-groups-dilation", lambda f, x, w: f.conv2d(x, w, groups=2, dilation=2,
                                                        padding="same"), (2, 7, 6), (W2G,)),
    ("conv2d-valid", lambda f, x, w, b: f.conv2d(x, w, b, padding="valid"), (3, 4, 5), (W2, B2)),
    ("conv_transpose1d", lambda f, x, w, b: f.conv_transpose1d(
        x, w, b, stride=2, padding=1, output_padding=1), (3, 5), (WT1, _w(2))),
    ("conv_transpose1d-groups", lambda f, x, w: f.conv_transpose1d(x, w, groups=2, dilation=2),
     (4, 5), (WT1G,)),
    ("conv_transpose2d", lambda f, x, w, b: f.conv_transpose2d(
        x, w, b, stride=(2, 1), padding=(1, 0), output_padding=(1, 0)), (3, 4, 3),
     (WT2, _w(2))),
    ("max_pool1d", lambda f, x: f.max_pool1d(x, 3, 2, padding=1, ceil_mode=True), (3, 8), ()),
    ("max_pool2d", lambda f, x: f.max_pool2d(x, 2, dilation=(1, 2)), (2, 5, 7), ()),
    ("avg_pool1d", lambda f, x: f.avg_pool1d(x, 3, 2, padding=1, count_include_pad=False),
     (3, 8), ()),
    ("avg_pool2d", lambda f, x: f.avg_pool2d(x, 3, 2, padding=1, ceil_mode=True,
                                             divisor_override=4), (2, 6, 5), ()),
    ("adaptive_avg_pool1d", lambda f, x: f.adaptive_avg_pool1d(x, 3), (3, 7), ()),
    ("adaptive_avg_pool2d", lambda f, x: f.adaptive_avg_pool2d(x, (2, None)), (2, 5, 7), ()),
    ("adaptive_max_pool1d", lambda f, x: f.adaptive_max_pool1d(x, 3), (3, 7), ()),
    ("adaptive_max_pool2d", lambda f, x: f.adaptive_max_pool2d(x, (3, 2)), (2, 5, 7), ()),
    ("lp_pool1d", lambda f, x: f.lp_pool1d(x.abs() + 0.1, 3, 2), (3, 8), ()),
    ("lp_pool2d", lambda f, x: f.lp_pool2d(x.abs() + 0.1, 2, (2, 3), stride=1), (2, 5, 6), ()),
    ("pad-reflect-CL", lambda f, x: f.pad(x, (2, 1), mode="reflect"), (3, 5), ()),
    ("pad-replicate-CL", lambda f, x: f.pad(x, (0, 3), mode="replicate"), (3, 5), ()),
    ("pad-circular-CL", lambda f, x: f.pad(x, (2, 3), mode="circular"), (3, 5), ()),
    ("pad-reflect-CHW", lambda f, x: f.pad(x, (1, 2, 2, 1), mode="reflect"), (2, 4, 5), ()),
    ("pad-replicate-CHW", lambda f, x: f.pad(x, (1, 0, 2, 3), mode="replicate"), (2, 4, 5), ()),
    ("pad-circular-CHW", lambda f, x: f.pad(x, (1, 2, 0, 3), mode="circular"), (2, 4, 5), ()),
    ("pad-reflect-CDHW", lambda f, x: f.pad(x, (1, 1, 0, 2, 1, 0), mode="reflect"),
     (2, 3, 4, 3), ()),
    ("pad-circular-CDHW", lambda f, x: f.pad(x, (1, 0, 1, 2, 2, 1), mode="circular"),
     (2, 3, 4, 3), ()),
    ("unfold", lambda f, x: f.unfold(x, (2, 3), padding=1, stride=2), (2, 5, 6), ()),
    ("fold", lambda f, x: f.fold(x, (4, 5), 2), (8, 12), ()),
    ("pixel_shuffle", lambda f, x: f.pixel_shuffle(x, 2), (8, 2, 3), ()),
    ("pixel_unshuffle", lambda f, x: f.pixel_unshuffle(x, 2), (2, 4, 6), ()),
    # F.instance_norm reads 3-d as a batch (N, C, L), as PyTorch (the modules take (C, *))
    ("instance_norm-3d", lambda f, x, w, b: f.instance_norm(x, weight=w, bias=b), (3, 4, 5),
     (_w(4), _w(4))),
    ("local_response_norm", lambda f, x: f.local_response_norm(x, 3, alpha=0.1, k=2.0),
     (4, 5, 6), ()),
]


def _tensors(lib, x, params):
    make = (lambda a: nl.tensor(a, dtype=np.float64, requires_grad=True)) if lib == "nl" else \
        (lambda a: torch.tensor(a, requires_grad=True))
    return make(x), [make(p) for p in params]


def _run(lib, call, x, params, upstream=None):
    """Output, and (given the upstream gradient) the gradients of x and of every parameter."""
    f = F if lib == "nl" else TF
    xt, ps = _tensors(lib, x, params)
    y = call(f, xt, *ps)
    if upstream is None:
        return y, None
    g = nl.tensor(upstream, dtype=np.float64) if lib == "nl" else torch.tensor(upstream)
    (y * g).sum().backward()
    return y, [t.grad.numpy() for t in (xt, *ps)]


def _value(y):
    return y.detach().numpy() if isinstance(y, torch.Tensor) else y.numpy()


@pytest.mark.parametrize("call, shape, params", [c[1:] for c in FUNCTIONAL],
                         ids=[c[0] for c in FUNCTIONAL])
def test_functional_unbatched_matches_torch(call, shape, params):
    x = np.random.default_rng(1).standard_normal(shape)
    yt, _ = _run("torch", call, x, params)
    g = np.random.default_rng(2).standard_normal(tuple(yt.shape))
    yt, grads_t = _run("torch", call, x, params, g)
    yo, grads_o = _run("nl", call, x, params, g)
    assert tuple(yo.shape) == tuple(yt.shape)
    np.testing.assert_allclose(_value(yo), _value(yt), rtol=1e-7, atol=1e-9)
    for name, go, gt in zip(["input"] + [f"param{i}" for i in range(len(params))],
                            grads_o, grads_t):
        np.testing.assert_allclose(go, gt, rtol=1e-7, atol=1e-9, err_msg=name)


@pytest.mark.parametrize("name, call, shape, params",
                         [c for c in FUNCTIONAL if c[0].split("-")[0] in
                          ("conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d")],
                         ids=lambda c: c if isinstance(c, str) else "")
def test_unbatched_conv_is_the_batch_of_one(name, call, shape, params):
    """(C, *) gives exactly the (1, C, *) result without its batch dimension."""
    x = np.random.default_rng(3).standard_normal(shape)
    one, _ = _run("nl", call, x, params)
    batch, _ = _run("nl", call, x[None], params)
    assert tuple(batch.shape) == (1,) + tuple(one.shape)
    np.testing.assert_array_equal(one.numpy(), batch.numpy()[0])


# modules ----------------------------------------------------------------------------------
MODULES = [
    ("Conv1d", lambda m: m.Conv1d(3, 4, 3, stride=2, padding=1), (3, 8)),
    ("Conv1d-reflect", lambda m: m.Conv1d(3, 2, 3, padding=2, padding_mode="reflect"), (3, 6)),
    ("Conv1d-circular", lambda m: m.Conv1d(2, 2, 3, padding="same", padding_mode="circular",
                                           bias=False), (2, 6)),
    ("Conv2d", lambda m: m.Conv2d(3, 4, (2, 3), stride=(1, 2), padding=1), (3, 5, 6)),
    ("Conv2d-replicate", lambda m: m.Conv2d(2, 4, 3, padding=(1, 2), groups=2,
                                            padding_mode="replicate"), (2, 4, 5)),
    ("ConvTranspose1d", lambda m: m.ConvTranspose1d(3, 2, 3, stride=2, output_padding=1),
     (3, 5)),
    ("ConvTranspose2d", lambda m: m.ConvTranspose2d(2, 3, (3, 2), stride=2, padding=1),
     (2, 3, 4)),
    ("InstanceNorm1d-affine", lambda m: m.InstanceNorm1d(3, affine=True), (3, 6)),
    ("InstanceNorm2d-affine", lambda m: m.InstanceNorm2d(3, affine=True), (3, 4, 5)),
    ("MaxPool2d", lambda m: m.MaxPool2d(2, stride=1), (2, 4, 5)),
    ("AvgPool1d", lambda m: m.AvgPool1d(2), (3, 6)),
    ("AdaptiveAvgPool2d", lambda m: m.AdaptiveAvgPool2d(3), (2, 5, 7)),
    ("AdaptiveMaxPool1d", lambda m: m.AdaptiveMaxPool1d(2), (3, 5)),
    ("LPPool1d", lambda m: m.LPPool1d(2, 2), (3, 6)),
    ("ReflectionPad2d", lambda m: m.ReflectionPad2d((1, 0, 2, 1)), (2, 4, 5)),
    ("ReplicationPad1d", lambda m: m.ReplicationPad1d(2), (2, 4)),
    ("CircularPad2d", lambda m: m.CircularPad2d(1), (2, 3, 4)),
    ("LocalResponseNorm", lambda m: m.LocalResponseNorm(2), (4, 3, 5)),
    ("Upsample-3d-is-a-batch", lambda m: m.Upsample(scale_factor=2, mode="linear",
                                                    align_corners=True), (2, 3, 4)),
    ("Flatten-start0", lambda m: m.Flatten(0), (3, 4)),
    ("Flatten-0d", lambda m: m.Flatten(0, -1), ()),
    ("Unflatten-1d", lambda m: m.Unflatten(0, (2, -1)), (6,)),
    ("Unflatten-last", lambda m: m.Unflatten(-1, (3, 2)), (2, 6)),
]


@pytest.mark.parametrize("make, shape", [c[1:] for c in MODULES], ids=[c[0] for c in MODULES])
def test_module_unbatched_matches_torch(make, shape):
    theirs = make(torch.nn).double()
    ours = make(nn).double()
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(4).standard_normal(shape)
    xo = nl.tensor(x, dtype=np.float64, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert tuple(yo.shape) == tuple(yt.shape)
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-7, atol=1e-9)
    g = np.random.default_rng(5).standard_normal(tuple(yt.shape))
    (yo * nl.tensor(g, dtype=np.float64)).sum().backward()
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-7, atol=1e-9)
    named = dict(theirs.named_parameters())
    assert {n for n, _ in ours.named_parameters()} == set(named)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), named[name].grad.numpy(), rtol=1e-7,
                                   atol=1e-9, err_msg=name)


def test_lazy_conv_infers_channels_from_an_unbatched_input():
    for lazy, shape, out in [(nn.LazyConv1d(4, 3), (3, 8), (4, 6)),
                             (nn.LazyConv2d(4, 3), (2, 5, 6), (4, 3, 4)),
                             (nn.LazyConvTranspose2d(2, 2), (3, 2, 2), (2, 3, 3))]:
        y = lazy(nl.randn(*shape))
        in_axis = 0 if "Transpose" in type(lazy).__name__ else 1  # (C_in, ...) or (O, C_in, ...)
        assert tuple(y.shape) == out and lazy.weight.shape[in_axis] == shape[0]


# what PyTorch rejects --------------------------------------------------------------------
def _x(*shape):
    return np.random.default_rng(6).standard_normal(shape)


# (id, call(lib, tensor), input shape, exception types (both libraries), pattern in our message)
REJECTED = [
    ("conv1d-1d", lambda f, t: f.conv1d(t(_x(8)), t(W1)), (RuntimeError, ValueError),
     r"Expected 2D \(unbatched\) or 3D \(batched\) input to conv1d, but got input of size: \[8\]"),
    ("conv2d-2d", lambda f, t: f.conv2d(t(_x(6, 7)), t(W2)), (RuntimeError, ValueError),
     r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of size: "
     r"\[6, 7\]"),
    ("conv2d-5d", lambda f, t: f.conv2d(t(_x(1, 1, 3, 4, 4)), t(W2)), (RuntimeError, ValueError),
     r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d"),
    ("conv_transpose1d-4d", lambda f, t: f.conv_transpose1d(t(_x(1, 3, 1, 5)), t(WT1)),
     (RuntimeError, ValueError), r"Expected 2D \(unbatched\) or 3D \(batched\) input to "
     r"conv_transpose1d"),
    ("conv_transpose2d-2d", lambda f, t: f.conv_transpose2d(t(_x(3, 4)), t(WT2)),
     (RuntimeError, ValueError), r"Expected 3D \(unbatched\) or 4D \(batched\) input to "
     r"conv_transpose2d"),
    ("conv2d-unbatched-channels", lambda f, t: f.conv2d(t(_x(2, 5, 5)), t(W2)),
     (RuntimeError, ValueError), r"input has 2 channels but the weight expects 3"),
    ("interpolate-2d", lambda f, t: f.interpolate(t(_x(3, 4)), scale_factor=2),
     (NotImplementedError,), r"Only 3D, 4D and 5D input Tensors supported \(got 2D\)"),
    ("interpolate-bilinear-3d", lambda f, t: f.interpolate(t(_x(3, 4, 4)), scale_factor=2,
                                                           mode="bilinear"),
     (NotImplementedError,), r"Got 3D input, but bilinear mode needs 4D input"),
    ("pad-reflect-1d", lambda f, t: f.pad(t(_x(5)), (1, 1), mode="reflect"),
     (NotImplementedError, ValueError), r"Padding size 2 is not supported for 1D input tensor"),
    ("pad-replicate-2d-two-dims", lambda f, t: f.pad(t(_x(4, 5)), (1, 1, 1, 1),
                                                     mode="replicate"),
     (NotImplementedError, ValueError), r"Padding size 4 is not supported for 2D input tensor"),
    ("pad-circular-5d-one-dim", lambda f, t: f.pad(t(_x(1, 2, 3, 3, 3)), (1, 1),
                                                   mode="circular"),
     (NotImplementedError, ValueError), r"Padding size 2 is not supported for 5D input tensor"),
    ("max_pool2d-2d", lambda f, t: f.max_pool2d(t(_x(4, 6)), 2), (RuntimeError, ValueError),
     r"\(C, H, W\)"),
    ("avg_pool1d-1d", lambda f, t: f.avg_pool1d(t(_x(6)), 2), (RuntimeError,),
     r"Expected 2D or 3D"),
    ("adaptive_max_pool2d-2d", lambda f, t: f.adaptive_max_pool2d(t(_x(4, 6)), 2),
     (RuntimeError, ValueError), r"\(C, H, W\)"),
    ("local_response_norm-2d", lambda f, t: f.local_response_norm(t(_x(4, 6)), 2),
     (ValueError,), r"at least 3 dimensions"),
    ("instance_norm-2d-is-a-batch", lambda f, t: f.instance_norm(t(_x(3, 6))), (ValueError,),
     r"more than 1 spatial element"),
    ("unfold-2d", lambda f, t: f.unfold(t(_x(4, 6)), 2), (RuntimeError, IndexError),
     r"expected 3D or 4D input"),
]


def _torch_tensor(a):
    return torch.tensor(a)


def _nl_tensor(a):
    return nl.tensor(a, dtype=np.float64)


@pytest.mark.parametrize("call, errors, pattern", [c[1:] for c in REJECTED],
                         ids=[c[0] for c in REJECTED])
def test_inputs_torch_rejects_are_rejected(call, errors, pattern):
    with pytest.raises(errors):
        call(TF, _torch_tensor)
    with pytest.raises(errors, match=pattern):
        call(F, _nl_tensor)


def test_conv_rank_errors_are_both_runtime_and_value_errors():
    """PyTorch raises RuntimeError and neuralab's checks ValueError: either except clause works."""
    for error in (RuntimeError, ValueError):
        with pytest.raises(error, match=r"input of size: \[28, 28\]; .*x.unsqueeze\(0\)"):
            nl.conv2d(nl.randn(28, 28), nl.randn(6, 1, 5, 5))


@pytest.mark.parametrize("layer, x, pattern", [
    (lambda m: m.BatchNorm2d(3), (3, 4, 5), r"expected 4D input \(got 3D input\)"),
    (lambda m: m.BatchNorm1d(3), (3,), r"expected 2D or 3D input \(got 1D input\)"),
    (lambda m: m.BatchNorm3d(2), (2, 3, 3, 3), r"expected 5D input \(got 4D input\)"),
    (lambda m: m.Conv2d(3, 4, 3), (2, 5, 5), r"input has 2 channels but the layer expects 3"),
    (lambda m: m.Conv1d(3, 4, 3), (6,), r"Expected 2D \(unbatched\) or 3D \(batched\)"),
    (lambda m: m.Upsample(scale_factor=2), (3, 4), r"Only 3D, 4D and 5D input"),
    (lambda m: m.Flatten(), (6,), r"out of range"),
    (lambda m: m.Unflatten(0, (4, 2)), (6,), r"don't multiply up to the size of dim 0"),
    (lambda m: m.ReflectionPad2d(1), (4, 4), r"\(C, H, W\)"),
], ids=["BatchNorm2d-3d", "BatchNorm1d-1d", "BatchNorm3d-4d", "Conv2d-channels", "Conv1d-1d",
        "Upsample-2d", "Flatten-1d", "Unflatten-sizes", "ReflectionPad2d-2d"])
def test_modules_reject_what_torch_rejects(layer, x, pattern):
    a = _x(*x)
    with pytest.raises(Exception) as theirs:
        layer(torch.nn).double()(torch.tensor(a))
    with pytest.raises(Exception, match=pattern) as ours:
        layer(nn).double()(nl.tensor(a, dtype=np.float64))
    # the same kind of error as PyTorch's (ours may also be a ValueError)
    assert isinstance(ours.value, type(theirs.value)) or isinstance(ours.value, ValueError)


# dropout2d/dropout3d: PyTorch's rank rules ------------------------------------------------
def test_dropout2d_reads_a_3d_input_as_sequences_with_torchs_warning():
    with pytest.warns(UserWarning) as theirs:
        TF.dropout2d(torch.ones(2, 3, 4), 0.5)
    with pytest.warns(UserWarning) as ours:
        y = F.dropout2d(nl.ones(64, 8, 5), 0.5).numpy()
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    assert "interpreted as shape (N, C, L)" in str(ours[0].message)
    # one draw per (N, C) row, shared along L; not one per leading "channel" (C, H, W)
    assert np.all((y == 0).all(-1) | (y == 2).all(-1))
    rows = (y[..., 0] == 0)
    assert not np.all(rows.all(-1) | (~rows).all(-1))
    assert 0.4 < rows.mean() < 0.6


def test_dropout2d_4d_does_not_warn_and_drops_feature_maps():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.dropout2d(nl.ones(16, 8, 2, 3), 0.5).numpy().reshape(16, 8, 6)
    assert np.all((y == 0).all(-1) | (y == 2).all(-1))


@pytest.mark.parametrize("op, shape, varies", [
    ("dropout2d", (40, 30), (0, 1)),           # deprecated: each input[i, j] on its own
    ("dropout2d", (8, 6, 2, 2, 2), (0, 1)),    # deprecated: (N, C, *) feature maps
    ("dropout3d", (30, 3, 4), (0,)),           # deprecated: one example, channel = dim 0
    ("dropout3d", (30, 2, 2, 2), (0,)),        # unbatched (C, D, H, W): no warning
])
def test_channel_dropout_of_other_ranks_follows_torch(op, shape, varies):
    deprecated = len(shape) not in ((3, 4) if op == "dropout2d" else (4, 5))
    expected = (f"Received a {len(shape)}-D input to {op}, which is deprecated")
    for f, x in ((TF, torch.ones(shape)), (F, nl.ones(*shape))):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y = getattr(f, op)(x, 0.5)
        assert any(expected in str(w.message) for w in caught) == deprecated
        y = np.asarray(_value(y))
        for axis in range(len(shape)):  # constant along the shared axes, varying along the rest
            constant = np.all(y == y.take([0], axis=axis))
            assert constant == (axis not in varies), (f, axis)


def test_channel_dropout_matches_torch_when_deterministic_and_rejects_1d():
    for op, shape in [("dropout2d", (3, 4, 5)), ("dropout2d", (3, 4)), ("dropout3d", (3, 4))]:
        for p, training in [(1.0, True), (0.5, False), (0.0, True)]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                x = _x(*shape)
                yt = getattr(TF, op)(torch.tensor(x), p, training)
                yo = getattr(F, op)(nl.tensor(x), p, training)
            np.testing.assert_array_equal(yo.numpy(), yt.numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
            TF.dropout2d(torch.ones(4), 0.5)
        with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
            F.dropout2d(nl.ones(4), 0.5)
        assert F.dropout2d(nl.ones(4), 0.5, training=False).shape == (4,)  # as PyTorch
