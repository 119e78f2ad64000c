"""Every layer against its torch.nn twin with copied weights: outputs and all gradients, in
float32 and float64."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn as nn

DTYPES = [(np.float32, torch.float32, 1e-5), (np.float64, torch.float64, 1e-10)]


def copy_weights(ours: nn.Module, theirs: torch.nn.Module, dtype) -> None:
    """Give our module PyTorch's weights (converted to ``dtype``)."""
    ours.to(dtype)
    ours.load_state_dict({k: v.detach().numpy().astype(dtype)
                          for k, v in theirs.state_dict().items()})


def compare(ours, theirs, x: np.ndarray, dtype, tdtype, tol, train=True):
    """Forward both, backward a fixed random projection, compare outputs and every gradient."""
    theirs = theirs.to(tdtype)
    xo = nl.tensor(x, dtype=dtype, requires_grad=True)
    xt = torch.tensor(x, dtype=tdtype, requires_grad=True)
    out_o, out_t = ours(xo), theirs(xt)
    assert out_o.shape == tuple(out_t.shape)
    assert out_o.dtype == dtype
    np.testing.assert_allclose(out_o.numpy(), out_t.detach().numpy(), rtol=tol, atol=tol)
    v = np.random.default_rng(1).standard_normal(out_o.shape)
    (out_o * nl.tensor(v, dtype=dtype)).sum().backward()
    (out_t * torch.tensor(v, dtype=tdtype)).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=tol)
    grads_t = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads_t[name].grad.numpy(), rtol=tol, atol=tol,
                                   err_msg=name)


@pytest.mark.parametrize(("dtype", "tdtype", "tol"), DTYPES)
@pytest.mark.parametrize("shape", [(8, 5), (5,), (2, 3, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_pytorch(dtype, tdtype, tol, shape, bias):
    theirs = torch.nn.Linear(5, 4, bias=bias)
    ours = nn.Linear(5, 4, bias=bias)
    copy_weights(ours, theirs, dtype)
    x = np.random.default_rng(0).standard_normal(shape)
    compare(ours, theirs, x, dtype, tdtype, tol)


@pytest.mark.parametrize(("dtype", "tdtype", "tol"), DTYPES)
def test_mlp_matches_pytorch(dtype, tdtype, tol):
    theirs = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 16), torch.nn.ReLU(),
                                 torch.nn.Linear(16, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3),
                                 torch.nn.LogSoftmax(dim=1))
    ours = nn.Sequential(nn.Flatten(), nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh(),
                         nn.Linear(8, 3), nn.LogSoftmax(dim=1))
    copy_weights(ours, theirs, dtype)
    x = np.random.default_rng(0).standard_normal((6, 3, 4))
    compare(ours, theirs, x, dtype, tdtype, tol)


ACTIVATIONS = [
    (nn.ReLU(), torch.nn.ReLU()),
    (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    (nn.ELU(0.5), torch.nn.ELU(0.5)),
    (nn.GELU(), torch.nn.GELU()),
    (nn.GELU("tanh"), torch.nn.GELU("tanh")),
    (nn.Sigmoid(), torch.nn.Sigmoid()),
    (nn.Tanh(), torch.nn.Tanh()),
    (nn.Softplus(beta=2.0, threshold=5.0), torch.nn.Softplus(beta=2.0, threshold=5.0)),
    (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
    (nn.Softmax(dim=-1), torch.nn.Softmax(dim=-1)),
    (nn.LogSoftmax(dim=0), torch.nn.LogSoftmax(dim=0)),
    (nn.Identity(), torch.nn.Identity()),
]


@pytest.mark.parametrize(("dtype", "tdtype", "tol"), DTYPES)
@pytest.mark.parametrize(("ours", "theirs"), ACTIVATIONS,
                         ids=[repr(a) for a, _ in ACTIVATIONS])
def test_activations_match_pytorch(ours, theirs, dtype, tdtype, tol):
    rng = np.random.default_rng(0)
    x = rng.uniform(0.05, 3, size=(4, 5, 3)) * rng.choice([-1, 1], size=(4, 5, 3))
    compare(ours, theirs, x, dtype, tdtype, tol)


def test_softmax_without_dim_uses_pytorch_legacy_rule():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    for shape in [(3,), (2, 3), (2, 3, 4), (2, 3, 4, 1)]:
        a = x.reshape(-1)[:math.prod(shape)].reshape(shape)
        with pytest.warns(UserWarning):
            ref = torch.nn.Softmax()(torch.tensor(a)).numpy()
        np.testing.assert_allclose(nn.Softmax()(nl.tensor(a, dtype=np.float64)).numpy(), ref,
                                   rtol=1e-10)


def test_linear_default_init_follows_pytorch():
    nl.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert w.shape == (300, 400) and w.dtype == np.float32 and layer.weight.requires_grad
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.99 * bound  # uniform over the whole interval...
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound  # ...with variance b²/3
    assert nn.Linear(3, 2, dtype=np.float64).weight.dtype == np.float64


def test_linear_errors_name_the_problem():
    layer = nn.Linear(784, 10)
    with pytest.raises(ValueError, match=r"\(2, 28, 28\).*expects 784.*flatten"):
        layer(nl.zeros(2, 28, 28))
    with pytest.raises(TypeError, match="float64 but the weight is float32"):
        layer(nl.tensor(np.zeros((2, 784)), dtype=np.float64))
    with pytest.raises(ValueError, match="in_features must be a positive integer"):
        nn.Linear(0, 3)


def test_dropout_trains_and_evaluates():
    nl.manual_seed(0)
    layer = nn.Dropout(0.25)
    x = nl.ones(400, 500, requires_grad=True)
    y = layer(x)
    kept = y.numpy() != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.75, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())  # the same mask scales x̄
    assert y.dtype == np.float32
    layer.eval()
    assert layer(x) is x
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        nl.dropout(x, -0.1)


def test_dropout2d_drops_whole_channels():
    nl.manual_seed(0)
    layer = nn.Dropout2d(0.5)
    x = nl.ones(64, 16, 3, 3)
    y = layer(x).numpy()
    per_channel = y.reshape(64, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert abs((per_channel[..., 0] == 0).mean() - 0.5) < 0.05
    # PyTorch reads a 3-d input as (N, C, L) (with a warning), not as one image (C, H, W).
    with pytest.warns(UserWarning, match="interpreted as shape \\(N, C, L\\)"):
        y3 = nn.Dropout2d(0.5)(nl.ones(16, 3, 9)).numpy()
    assert np.all((y3 == 0).all(-1) | (y3 == 2).all(-1))
    assert not np.all((y3 == 0).all((-2, -1)) | (y3 == 2).all((-2, -1)))
    with pytest.warns(UserWarning, match="1-D input"), \
            pytest.raises(RuntimeError, match="at least 2 dimensions"):
        nl.dropout2d(nl.ones(4), 0.5)
    layer.eval()
    assert layer(x) is x


LOSSES = [
    (lambda: nn.CrossEntropyLoss(), lambda: torch.nn.CrossEntropyLoss(), "class"),
    (lambda: nn.CrossEntropyLoss(weight=nl.tensor([1.0, 2.0, 0.5, 1.5]), ignore_index=1,
                                 label_smoothing=0.1),
     lambda: torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5, 1.5]),
                                       ignore_index=1, label_smoothing=0.1), "class"),
    (lambda: nn.NLLLoss(reduction="sum"), lambda: torch.nn.NLLLoss(reduction="sum"), "class"),
    (lambda: nn.MSELoss(), lambda: torch.nn.MSELoss(), "real"),
    (lambda: nn.L1Loss(reduction="none"), lambda: torch.nn.L1Loss(reduction="none"), "real"),
    (lambda: nn.BCELoss(), lambda: torch.nn.BCELoss(), "prob"),
    (lambda: nn.BCEWithLogitsLoss(pos_weight=nl.tensor([1.0, 2.0, 3.0, 0.5])),
     lambda: torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, 2.0, 3.0, 0.5])), "prob"),
]


@pytest.mark.parametrize(("dtype", "tdtype", "tol"), DTYPES)
@pytest.mark.parametrize(("make_ours", "make_theirs", "kind"), LOSSES)
def test_loss_modules_match_pytorch(make_ours, make_theirs, kind, dtype, tdtype, tol):
    rng = np.random.default_rng(0)
    ours, theirs = make_ours().to(dtype), make_theirs().to(tdtype)
    x = rng.uniform(0.05, 0.95, size=(6, 4))
    if kind == "class":
        y, ty = nl.tensor(rng.integers(0, 4, 6)), None
    else:
        y = nl.tensor(rng.uniform(0, 1, size=(6, 4)), dtype=dtype)
    ty = torch.tensor(y.numpy())
    xo = nl.tensor(x, dtype=dtype, requires_grad=True)
    xt = torch.tensor(x, dtype=tdtype, requires_grad=True)
    lo, lt = ours(xo, y), theirs(xt, ty)
    np.testing.assert_allclose(lo.numpy(), lt.detach().numpy(), rtol=tol, atol=tol)
    lo.sum().backward()
    lt.sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=tol)
    assert lo.dtype == dtype


def test_loss_module_state_dict_keeps_weight_buffer():
    loss = nn.CrossEntropyLoss(weight=nl.tensor([1.0, 2.0]))
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0]))
    assert list(loss.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == list(
        torch.nn.CrossEntropyLoss().state_dict())
