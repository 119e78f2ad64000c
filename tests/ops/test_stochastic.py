"""The random ops (rrelu, alpha dropout, Gumbel-softmax) by their distributions, evaluation
behaviour and gradients given the sampled noise, and the in-place activations' graph behaviour;
values against PyTorch where they are deterministic (the op table checks the rest)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import neuralab as nl
import neuralab.nn.functional as F

SELU_SATURATION = -1.7580993408473766  # −λα


def test_rrelu_training_draws_uniform_slopes_and_backpropagates_them():
    nl.manual_seed(0)
    x = nl.tensor(-np.random.default_rng(0).uniform(0.5, 2, 40000), dtype=nl.float64,
                  requires_grad=True)
    y = F.rrelu(x, 0.1, 0.4, training=True)
    slopes = y.numpy() / x.detach().numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.4
    np.testing.assert_allclose(slopes.mean(), 0.25, atol=0.003)
    np.testing.assert_allclose(slopes.var(), 0.3**2 / 12, rtol=0.05)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes, rtol=1e-12)  # the sampled slope


def test_rrelu_keeps_positives_and_draws_at_zero():
    nl.manual_seed(1)
    x = nl.tensor([2.0, 0.0, 0.0, 3.0], dtype=nl.float64, requires_grad=True)
    y = F.rrelu(x, 0.2, 0.3, training=True)
    y.sum().backward()
    np.testing.assert_array_equal(y.numpy(), [2.0, 0.0, 0.0, 3.0])
    g = x.grad.numpy()
    assert g[0] == g[3] == 1.0 and 0.2 <= g[1] <= 0.3 and 0.2 <= g[2] <= 0.3  # x ≤ 0: a slope


def test_rrelu_eval_is_the_mean_slope_as_pytorch():
    x = np.random.default_rng(2).standard_normal((3, 5))
    ours = F.rrelu(nl.tensor(x), 0.2, 0.5)
    theirs = TF.rrelu(torch.tensor(x, dtype=torch.float32), 0.2, 0.5)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_rrelu_seeded_draws_repeat():
    x = nl.randn(50)
    nl.manual_seed(5)
    a = F.rrelu(x, training=True)
    nl.manual_seed(5)
    np.testing.assert_array_equal(a.numpy(), F.rrelu(x, training=True).numpy())


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_keeps_zero_mean_and_unit_variance(p):
    nl.manual_seed(0)
    x = nl.tensor(np.random.default_rng(0).standard_normal(200000), dtype=nl.float64,
                  requires_grad=True)
    y = F.alpha_dropout(x, p, training=True)
    a = 1 / np.sqrt((SELU_SATURATION**2 * p + 1) * (1 - p))
    b = -a * SELU_SATURATION * p
    out, xs = y.numpy(), x.detach().numpy()
    dropped = np.isclose(out, a * SELU_SATURATION + b, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dropped.mean(), p, atol=0.005)
    np.testing.assert_allclose(out[~dropped], a * xs[~dropped] + b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out.mean(), 0, atol=0.01)
    np.testing.assert_allclose(out.std(), 1, atol=0.01)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(dropped, 0, a), rtol=1e-12)


def test_feature_alpha_dropout_drops_whole_channels():
    nl.manual_seed(3)
    x = nl.tensor(np.random.default_rng(1).standard_normal((8, 6, 3, 3)), dtype=nl.float64,
                  requires_grad=True)
    y = F.feature_alpha_dropout(x, 0.5, training=True)
    y.sum().backward()
    g = x.grad.numpy()
    per_channel = g.reshape(8, 6, -1)
    assert np.all(per_channel.max(axis=2) == per_channel.min(axis=2))  # one draw per channel
    assert 0 < (per_channel[:, :, 0] == 0).mean() < 1


def test_alpha_dropout_evaluation_and_extremes_as_pytorch():
    x = nl.randn(3, 4)
    assert F.alpha_dropout(x, 0.5) is x  # training=False by default, as PyTorch
    assert F.alpha_dropout(x, 0.0, training=True) is x
    np.testing.assert_array_equal(F.alpha_dropout(x, 1.0, training=True).numpy(), 0)
    with pytest.raises(ValueError, match="probability"):
        F.alpha_dropout(x, 1.5, training=True)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        F.feature_alpha_dropout(nl.randn(4), 0.5, training=True)


def test_alpha_dropout_inplace_writes_the_input():
    nl.manual_seed(2)
    x = nl.randn(100)
    y = F.alpha_dropout(x, 0.5, training=True, inplace=True)
    assert y is x and np.isclose(x.numpy(), -0.7791, atol=1e-3).any()


def _gumbel_noise_from(y, logits, tau):
    """The noise behind a soft sample: τ ln y − logits, up to a constant per row."""
    return tau * np.log(y) - logits


@pytest.mark.parametrize("tau", [1.0, 0.4])
def test_gumbel_softmax_gradient_is_the_softmax_of_its_sample(tau):
    logits = np.random.default_rng(0).standard_normal((4, 5))
    x = nl.tensor(logits, dtype=nl.float64, requires_grad=True)
    nl.manual_seed(9)
    y = F.gumbel_softmax(x, tau=tau)
    np.testing.assert_allclose(y.numpy().sum(axis=-1), 1)
    g = _gumbel_noise_from(y.numpy(), logits, tau)
    xt = torch.tensor(logits, requires_grad=True)
    yt = torch.softmax((xt + torch.tensor(g)) / tau, -1)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-10)
    v = np.random.default_rng(1).standard_normal((4, 5))
    (y * nl.tensor(v, dtype=nl.float64)).sum().backward()
    (yt * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_gumbel_softmax_hard_is_one_hot_with_the_soft_gradient():
    logits = np.random.default_rng(0).standard_normal((6, 4))
    v = np.random.default_rng(1).standard_normal((6, 4))
    grads, outs = [], []
    for hard in (False, True):
        x = nl.tensor(logits, dtype=nl.float64, requires_grad=True)
        nl.manual_seed(4)
        y = F.gumbel_softmax(x, tau=0.7, hard=hard, dim=1)
        (y * nl.tensor(v, dtype=nl.float64)).sum().backward()
        grads.append(x.grad.numpy())
        outs.append(y.numpy())
    soft, hard = outs
    np.testing.assert_array_equal(hard, np.eye(4)[soft.argmax(axis=1)])
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12)  # straight-through


def test_gumbel_max_samples_follow_the_softmax():
    logits = np.log(np.array([0.1, 0.2, 0.3, 0.4]))
    nl.manual_seed(0)
    y = F.gumbel_softmax(nl.tensor(np.tile(logits, (40000, 1))), tau=0.5, hard=True)
    np.testing.assert_allclose(y.numpy().mean(axis=0), [0.1, 0.2, 0.3, 0.4], atol=0.01)


def test_gumbel_softmax_arguments():
    with pytest.warns(UserWarning, match="eps"):
        F.gumbel_softmax(nl.randn(2, 3), eps=1e-5)
    with pytest.raises(ValueError, match="tau"):
        F.gumbel_softmax(nl.randn(2, 3), tau=0)
    with pytest.raises(TypeError, match="floating"):
        F.gumbel_softmax(nl.tensor([1, 2]))


INPLACE = [
    ("relu_", (), F.relu_, TF.relu_), ("elu_", (0.5,), F.elu_, TF.elu_),
    ("leaky_relu_", (0.1,), F.leaky_relu_, TF.leaky_relu_),
    ("hardtanh_", (-0.5, 0.5), F.hardtanh_, TF.hardtanh_), ("selu_", (), F.selu_, TF.selu_),
    ("celu_", (0.8,), F.celu_, TF.celu_), ("threshold_", (0.2, -1.0), F.threshold_, TF.threshold_),
    ("rrelu_", (0.1, 0.3), F.rrelu_, TF.rrelu_),
]


@pytest.mark.parametrize(("name", "args", "ours", "theirs"), INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_activation_rewrites_the_tensor_inside_a_graph(name, args, ours, theirs):
    data = np.random.default_rng(0).uniform(-2, 2, (3, 4))
    x = nl.tensor(data, dtype=nl.float64, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    h, ht = x * 1.5, xt * 1.5
    before = h._version
    out = ours(h, *args)
    theirs(ht, *args)
    assert out is h and h._version > before
    np.testing.assert_allclose(h.numpy(), ht.detach().numpy(), rtol=1e-12)
    (h * h).sum().backward()
    (ht * ht).sum().backward()
    # rtol 1e-7: PyTorch's celu gradient rounds 1/alpha to float32 along the way
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-7)


@pytest.mark.parametrize(("name", "args", "ours", "theirs"), INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_activation_refuses_a_leaf_that_requires_grad(name, args, ours, theirs):
    with pytest.raises(RuntimeError, match=f"{name}: a leaf Variable"):
        ours(nl.randn(3, requires_grad=True), *args)
    x = nl.tensor([-1.0, 2.0])
    with nl.no_grad():
        assert ours(x, *args) is x
    with pytest.raises(TypeError, match=f"{name}: expected a Tensor"):
        ours([1.0, 2.0], *args)


def test_inplace_arguments_are_checked():
    with pytest.raises(ValueError, match="min_val"):
        F.hardtanh_(nl.randn(3), 1.0, -1.0)
    with pytest.raises(ValueError, match="lower bound"):
        F.rrelu_(nl.randn(3), 0.5, 0.1)
    with pytest.raises(ValueError, match="lower bound"):
        F.rrelu(nl.randn(3), 0.5, 0.1)
    with pytest.raises(ValueError, match="alpha"):
        F.celu_(nl.randn(3), 0.0)


def test_rrelu_inplace_flag_and_no_warning():
    x = nl.tensor([-2.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert F.rrelu(x, 0.2, 0.4, inplace=True) is x
    np.testing.assert_allclose(x.numpy(), [-0.6, 1.0], rtol=1e-6)
