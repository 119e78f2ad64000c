"""The model zoo: published parameter counts, torchvision's key layout, outputs, and depth."""

from __future__ import annotations

import inspect
import resource
import time
import typing

import numpy as np
import pytest

import neuralab as nl
import neuralab.nn as nn
from neuralab.models import create, get_entry, list_models
from neuralab.models.googlenet import GoogLeNetOutputs, NaiveInception, googlenet_loss
from neuralab.models.resnet import CifarResNet

IMAGENET_COUNTS = {
    "alexnet": 61_100_840,
    "vgg11": 132_863_336,
    "vgg16": 138_357_544,
    "vgg19": 143_667_240,
    "vgg16_bn": 138_365_992,
    "googlenet": 6_624_904,
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
}
# He et al. (2016), Table 6: 0.27M, 0.46M, 0.66M, 0.85M, 1.7M, 19.4M (option A).
CIFAR_COUNTS = {
    "resnet20": (269_722, "0.27M"),
    "resnet32": (464_154, "0.46M"),
    "resnet44": (658_586, "0.66M"),
    "resnet56": (853_018, "0.85M"),
    "resnet110": (1_727_962, "1.7M"),
    "resnet1202": (19_421_274, "19.4M"),
}


@pytest.fixture
def no_init(monkeypatch):
    """Skip weight initialisation: counting 138M parameters must not draw 138M numbers.

    ``np.empty`` only reserves memory, so a model built this way costs almost nothing.
    """
    identity = lambda tensor, *args, **kwargs: tensor  # noqa: E731
    for name in dir(nn.init):
        if name.endswith("_") and not name.startswith("_"):
            monkeypatch.setattr(nn.init, name, identity)
    import neuralab.models.initialization as model_init

    monkeypatch.setattr(model_init, "normal_fill", lambda *args, **kwargs: None)


def _count(model) -> int:
    return sum(p.array.size for p in model.parameters())


def _shapes(model) -> dict:
    """state_dict keys -> shapes, without copying the arrays as state_dict() would."""
    named = list(model.named_parameters()) + list(model.named_buffers())
    return {name: tuple(t.shape) for name, t in named}


def test_every_architecture_is_registered():
    names = set(list_models())
    expected = {"alexnet", "alexnet_cifar", "googlenet", "googlenet_cifar"}
    expected |= {f"vgg{d}{bn}{c}" for d in (11, 13, 16, 19) for bn in ("", "_bn")
                 for c in ("", "_cifar")}
    expected |= {f"resnet{d}" for d in (18, 34, 50, 101, 152, 20, 32, 44, 56, 110, 1202)}
    expected |= {f"plain{d}" for d in (20, 32, 44, 56, 110)}
    assert expected <= names, sorted(expected - names)


@pytest.mark.parametrize("name", sorted(IMAGENET_COUNTS))
def test_imagenet_parameter_counts(name, no_init):
    start = time.perf_counter()
    assert _count(create(name)) == IMAGENET_COUNTS[name]
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("name", sorted(CIFAR_COUNTS))
def test_cifar_resnet_parameter_counts(name, no_init):
    exact, published = CIFAR_COUNTS[name]
    n = _count(create(name))
    assert n == exact
    shown = f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e6:.2f}M"
    assert shown == published


def test_variants_counts(no_init):
    # Option A adds no parameters, so the plain net has exactly ResNet-20's count; option B adds
    # two 1x1 projections with their BN: 16·32 + 2·32 + 32·64 + 2·64 = 2752.
    assert _count(create("plain20")) == 269_722
    assert _count(create("resnet20", shortcut="B")) == 269_722 + 2_752
    aux = _count(create("googlenet", aux_logits=True))
    # Each head: 1x1 conv to 128 (no bias) + BN, FC 2048-1024, FC 1024-1000.
    assert aux - 6_624_904 == 128 * (512 + 528) + 2 * (2 * 128 + 2048 * 1024 + 1024
                                                       + 1024 * 1000 + 1000)
    # The naive Inception module has no 1x1 reductions: far more weights.
    assert _count(create("googlenet", inception="naive")) > 10 * 6_624_904
    assert _count(create("resnet18", num_classes=10)) == 11_689_512 - 990 * 513


def test_torchvision_key_layout(no_init):
    keys = _shapes(create("alexnet")).keys()
    assert {"features.0.weight", "features.3.weight", "features.10.bias", "classifier.1.weight",
            "classifier.6.bias"} <= set(keys)
    lrn = _shapes(create("alexnet", lrn=True)).keys()
    assert {"features.4.weight", "features.8.weight", "features.12.weight"} <= set(lrn)
    vgg = _shapes(create("vgg16_bn"))
    assert vgg["features.1.running_var"] == (64,)
    assert vgg["classifier.6.weight"] == (1000, 4096)
    g = _shapes(create("googlenet", aux_logits=True))
    assert g["inception5b.branch4.1.conv.weight"] == (128, 832, 1, 1)
    assert g["inception3a.branch3.1.conv.weight"] == (32, 16, 3, 3)  # torchvision's 3x3
    assert g["aux2.fc1.weight"] == (1024, 2048) and g["conv3.bn.running_mean"] == (192,)
    r = _shapes(create("resnet50"))
    assert r["layer2.0.downsample.0.weight"] == (512, 256, 1, 1)
    assert r["layer2.0.conv2.weight"] == (128, 128, 3, 3)
    assert "layer4.2.bn3.num_batches_tracked" in r


def test_cifar_models_forward_shapes():
    x = nl.randn(2, 3, 32, 32)
    for name in ("resnet20", "plain20", "alexnet_cifar", "vgg11_bn_cifar", "googlenet_cifar"):
        model = create(name).eval()
        with nl.no_grad():
            assert model(x).shape == (2, 10), name
    assert create("resnet20", num_classes=100).eval()(x).shape == (2, 100)


def test_imagenet_resnet_forward_small_input():
    model = create("resnet18", num_classes=7).eval()
    with nl.no_grad():
        assert model(nl.randn(1, 3, 64, 64)).shape == (1, 7)


def test_googlenet_outputs_and_loss():
    model = create("googlenet_cifar", aux_logits=True)
    x, y = nl.randn(2, 3, 8, 8), nl.tensor([1, 3])
    out = model(x)
    assert isinstance(out, GoogLeNetOutputs) and out.logits.shape == (2, 10)
    assert out.aux_logits1.shape == out.aux_logits2.shape == (2, 10)
    ce = nl.nn.functional.cross_entropy
    expected = ce(out.logits, y).item() + 0.3 * (ce(out.aux_logits1, y).item()
                                                 + ce(out.aux_logits2, y).item())
    assert abs(googlenet_loss(out, y).item() - expected) < 1e-5
    model.eval()
    with nl.no_grad():
        logits = model(x)
    assert isinstance(logits, nl.Tensor) and logits.shape == (2, 10)
    assert abs(googlenet_loss(logits, y).item() - ce(logits, y).item()) < 1e-6
    # The naive module concatenates 1x1, 3x3, 5x5 convs and the pooled input itself.
    naive = NaiveInception(8, 4, 0, 6, 0, 2, 0)
    assert naive(nl.randn(1, 8, 5, 5)).shape == (1, 4 + 6 + 2 + 8, 5, 5)
    assert naive.branch3.conv.weight.shape == (2, 8, 5, 5)


def test_resnet20_overfits_one_batch():
    nl.manual_seed(0)
    model = create("resnet20")
    rng = np.random.default_rng(0)
    x = nl.Tensor(rng.standard_normal((8, 3, 16, 16)).astype(np.float32))
    y = nl.tensor(rng.integers(0, 10, 8))
    opt = nl.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = nl.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0], losses


@pytest.mark.parametrize("name, last", [("resnet18", "bn2"), ("resnet50", "bn3")])
def test_resnet_init_zero_residual_and_he_fan_out(name, last):
    """zero_init_residual zeroes γ of each block's last BN (bn2 of a BasicBlock, bn3 of a
    Bottleneck) and no other; the convs are drawn with std sqrt(2 / fan-out)."""
    nl.manual_seed(0)
    model = create(name, zero_init_residual=True)
    norms = dict((n, m) for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d))
    zeroed = {n for n, m in norms.items() if not m.weight.array.any()}
    assert zeroed == {n for n in norms if n.endswith("." + last)} and len(zeroed) >= 8
    assert all((norms[n].weight.array == 1).all() for n in set(norms) - zeroed)
    assert all(not m.bias.array.any() for m in norms.values())
    conv = model.layer1[0].conv1
    c_out, _, kh, kw = conv.weight.shape
    assert abs(conv.weight.array.std() / np.sqrt(2 / (c_out * kh * kw)) - 1) < 0.05
    plain = create(name)
    assert all((m.weight.array == 1).all() for m in plain.modules()
               if isinstance(m, nn.BatchNorm2d))


def test_bad_options_raise():
    with pytest.raises(ValueError, match="6n"):
        CifarResNet(depth=21)
    with pytest.raises(ValueError, match="shortcut"):
        create("resnet20", shortcut="C")
    with pytest.raises(ValueError, match="inception"):
        create("googlenet_cifar", inception="v3")


def _peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def test_resnet1202_forward_backward_depth():
    """1202 layers: no RecursionError anywhere (building, forward, backward).

    Measured 2026-11-26 on 2 busy cores: 9.3 s for forward + backward, 0.72 GiB peak RSS.
    """
    model = create("resnet1202")
    x = nl.randn(2, 3, 32, 32)
    y = nl.tensor([0, 1])
    start = time.perf_counter()
    loss = nl.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    elapsed = time.perf_counter() - start
    assert all(p.grad is not None for p in model.parameters())
    assert np.isfinite(model.conv1.weight.grad.array).all()
    assert _peak_rss_gib() < 8, _peak_rss_gib()
    print(f"ResNet-1202 forward+backward, batch 2: {elapsed:.1f} s, peak RSS "
          f"{_peak_rss_gib():.2f} GiB")


def test_every_declared_model_option_is_taken_by_the_model():
    """The options a model declares at registration (what ``create`` and the command line
    accept) are parameters of its builder or of the class its builder passes them to (a
    misspelt option fails here; one the builder itself fixes, such as vgg11's cifar, does not)."""
    for name in list_models():
        entry = get_entry(name)
        builder = inspect.signature(entry.builder).parameters
        takes = {p for p, v in builder.items() if v.kind is not v.VAR_KEYWORD}
        if any(v.kind is v.VAR_KEYWORD for v in builder.values()):  # passed on to the class
            cls = typing.get_type_hints(entry.builder)["return"]
            takes |= set(inspect.signature(cls.__init__).parameters) - {"self"}
        assert set(entry.options) <= takes, (name, set(entry.options) - takes)
        assert "num_classes" not in entry.options, name


def test_create_refuses_an_option_the_model_does_not_take():
    with pytest.raises(ValueError, match=r"models: resnet20 takes no option 'dropout'; its "
                                         r"options: shortcut, init_weights"):
        create("resnet20", dropout=0.5)
