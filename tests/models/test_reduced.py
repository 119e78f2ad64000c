"""The reduced networks of the architecture experiments: parameter counts worked out by hand,
summaries, forward shapes at both image sizes, and a network that can overfit one batch."""

from __future__ import annotations

import numpy as np
import pytest

import neuralab as nl
from neuralab.diagnostics.summary import summary
from neuralab.models import create, get_entry
from neuralab.models.googlenet import GoogLeNetOutputs

REDUCED = ("lenet5_rgb", "alexnet_small", "vgg_small", "googlenet_small", "resnet8", "plain8")


def _count(model) -> int:
    return sum(int(p.array.size) for p in model.parameters())


def _conv(c_in, c_out, k):  # weights and biases of a k x k convolution
    return c_in * c_out * k * k + c_out


def _linear(n_in, n_out):
    return n_in * n_out + n_out


def test_parameter_counts_by_hand():
    # LeNet-5 on 32x32 RGB: 5x5 convs 3->6->16, then 16*5*5 -> 120 -> 84 -> 10.
    assert _count(create("lenet5_rgb")) == (_conv(3, 6, 5) + _conv(6, 16, 5) + _linear(400, 120)
                                            + _linear(120, 84) + _linear(84, 10)) == 62_006
    # AlexNet's CIFAR layout at width 1: 64-192-384-256-256, a 3x3 pool, FC 1024-1024-10.
    assert _count(create("alexnet_small")) == (
        _conv(3, 64, 5) + _conv(64, 192, 5) + _conv(192, 384, 3) + _conv(384, 256, 3)
        + _conv(256, 256, 3) + _linear(256 * 9, 1024) + _linear(1024, 1024)
        + _linear(1024, 10)) == 5_871_434
    # ResNet-8 (n = 1, option A shortcuts: no weights): conv 3->16 + BN, one basic block per
    # stage (two 3x3 convs without bias + BN each), FC 64 -> 10.
    bn = 2  # gamma and beta per channel
    resnet8 = (3 * 16 * 9 + bn * 16 + 2 * (16 * 16 * 9 + bn * 16)
               + 16 * 32 * 9 + 32 * 32 * 9 + 2 * bn * 32
               + 32 * 64 * 9 + 64 * 64 * 9 + 2 * bn * 64 + _linear(64, 10))
    assert _count(create("resnet8")) == _count(create("plain8")) == resnet8 == 75_290


def test_width_one_matches_the_zoo():
    assert _count(create("alexnet_small")) == _count(create("alexnet_cifar"))
    assert _count(create("vgg_small")) == _count(create("vgg11_cifar"))


@pytest.mark.parametrize("name", REDUCED)
@pytest.mark.parametrize("size", [32, 16])
def test_summary_and_forward(name, size):
    options = {"image_size": size} if name in ("lenet5_rgb", "alexnet_small", "vgg_small") else {}
    if name in ("alexnet_small", "vgg_small", "googlenet_small"):
        options["width"] = 0.25
    model = create(name, **options)
    assert get_entry(name).meta["input_shape"] == (3, 32, 32)
    info = summary(model, (3, size, size))
    assert info.total_params == _count(model) and info.total_macs > 0
    with nl.no_grad():
        assert model.eval()(nl.randn(2, 3, size, size)).shape == (2, 10)


def test_googlenet_small_aux_heads_in_training_only():
    model = create("googlenet_small", width=0.0625, aux_logits=True)
    out = model(nl.randn(2, 3, 16, 16))
    assert isinstance(out, GoogLeNetOutputs) and [o.shape for o in out] == [(2, 10)] * 3
    with nl.no_grad():
        assert model.eval()(nl.randn(2, 3, 16, 16)).shape == (2, 10)
    # Without the heads the network has exactly the other parameters (googlenet-aux copies them).
    without = create("googlenet_small", width=0.0625)
    shared = {k: v for k, v in model.state_dict().items() if not k.startswith("aux")}
    assert set(shared) == set(without.state_dict())
    without.load_state_dict(shared)


def test_vgg_small_options():
    with pytest.raises(ValueError, match="init must be"):
        create("vgg_small", init="xavier")
    paper = create("vgg_small", width=0.25, image_size=16, init="paper")
    w = paper.features[0].weight.array
    assert abs(float(w.std()) - 0.01) < 0.002


def test_lenet5_rgb_overfits_one_batch():
    nl.manual_seed(0)
    model = create("lenet5_rgb", image_size=16)
    rng = np.random.default_rng(0)
    x = nl.Tensor(rng.standard_normal((8, 3, 16, 16)).astype(np.float32))
    y = nl.tensor(rng.integers(0, 10, 8))
    opt = nl.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = nl.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0], losses


def test_sequence_regressor():
    model = create("sequence_regressor", kind="rnn", hidden=8)
    assert model(nl.randn(5, 3, 2)).shape == (3, 1)
    assert _count(model) == (2 * 8 + 8 * 8 + 2 * 8) + _linear(8, 1)
    with pytest.raises(ValueError, match="kind must be"):
        create("sequence_regressor", kind="gru")
