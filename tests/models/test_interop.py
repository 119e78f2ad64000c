"""Weights between neuralab and PyTorch: reference architectures are written in torch here
(torchvision is not installed), weights go both ways, and logits and every parameter gradient
must agree, in eval mode and in training mode (batch statistics)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import neuralab as nl
from neuralab.interop import export_state_dict, load_torch_state_dict, to_torch_state_dict
from neuralab.models.googlenet import GoogLeNet, googlenet_loss
from neuralab.models.resnet import BasicBlock, Bottleneck, CifarResNet, ResNet
from neuralab.models.vgg import VGG

torch.manual_seed(0)


# ---- torch reference architectures (same names as torchvision / the paper) -----------------

class TorchShortcutA(tnn.Module):
    def __init__(self, pad):
        super().__init__()
        self.pad = pad

    def forward(self, x):
        return TF.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))


class TorchBasicBlock(tnn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU()
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TorchBottleneck(tnn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.conv2 = tnn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.conv3 = tnn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = tnn.BatchNorm2d(planes * 4)
        self.relu = tnn.ReLU()
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TorchResNet(tnn.Module):
    """torchvision's ResNet layout."""

    def __init__(self, block, layers, num_classes):
        super().__init__()
        self.inplanes = 64
        self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        self.relu = tnn.ReLU()
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make(block, 64, layers[0], 1)
        self.layer2 = self._make(block, 128, layers[1], 2)
        self.layer3 = self._make(block, 256, layers[2], 2)
        self.layer4 = self._make(block, 512, layers[3], 2)
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(512 * block.expansion, num_classes)

    def _make(self, block, planes, n, stride):
        down = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            down = tnn.Sequential(tnn.Conv2d(self.inplanes, planes * block.expansion, 1, stride,
                                             bias=False), tnn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, down)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, n)]
        return tnn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class TorchCifarResNet(tnn.Module):
    """He et al.'s CIFAR ResNet with option-A shortcuts."""

    def __init__(self, depth=20, num_classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.inplanes = 16
        self.conv1 = tnn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(16)
        self.relu = tnn.ReLU()
        self.layer1 = self._make(16, n, 1)
        self.layer2 = self._make(32, n, 2)
        self.layer3 = self._make(64, n, 2)
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(64, num_classes)

    def _make(self, planes, n, stride):
        down = TorchShortcutA((planes - self.inplanes) // 2) if stride != 1 else None
        layers = [TorchBasicBlock(self.inplanes, planes, stride, down)]
        self.inplanes = planes
        layers += [TorchBasicBlock(planes, planes) for _ in range(1, n)]
        return tnn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class TorchVGG(tnn.Module):
    def __init__(self, config, num_classes, hidden=512):
        super().__init__()
        layers, c = [], 3
        for v in config:
            if v == "M":
                layers.append(tnn.MaxPool2d(2, 2))
            else:
                layers += [tnn.Conv2d(c, v, 3, padding=1), tnn.BatchNorm2d(v), tnn.ReLU()]
                c = v
        self.features = tnn.Sequential(*layers)
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.classifier = tnn.Sequential(
            tnn.Linear(c, hidden), tnn.ReLU(), tnn.Dropout(), tnn.Linear(hidden, hidden),
            tnn.ReLU(), tnn.Dropout(), tnn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class TorchBasicConv2d(tnn.Module):
    def __init__(self, i, o, **kw):
        super().__init__()
        self.conv = tnn.Conv2d(i, o, bias=False, **kw)
        self.bn = tnn.BatchNorm2d(o, eps=0.001)

    def forward(self, x):
        return TF.relu(self.bn(self.conv(x)))


class TorchInception(tnn.Module):
    def __init__(self, i, c1, c3r, c3, c5r, c5, pp):
        super().__init__()
        self.branch1 = TorchBasicConv2d(i, c1, kernel_size=1)
        self.branch2 = tnn.Sequential(TorchBasicConv2d(i, c3r, kernel_size=1),
                                      TorchBasicConv2d(c3r, c3, kernel_size=3, padding=1))
        self.branch3 = tnn.Sequential(TorchBasicConv2d(i, c5r, kernel_size=1),
                                      TorchBasicConv2d(c5r, c5, kernel_size=3, padding=1))
        self.branch4 = tnn.Sequential(tnn.MaxPool2d(3, 1, 1, ceil_mode=True),
                                      TorchBasicConv2d(i, pp, kernel_size=1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class TorchAux(tnn.Module):
    def __init__(self, i, num_classes):
        super().__init__()
        self.conv = TorchBasicConv2d(i, 128, kernel_size=1)
        self.fc1 = tnn.Linear(2048, 1024)
        self.fc2 = tnn.Linear(1024, num_classes)

    def forward(self, x):
        x = self.conv(TF.adaptive_avg_pool2d(x, (4, 4)))
        return self.fc2(TF.relu(self.fc1(torch.flatten(x, 1))))  # dropout off in the test


class TorchGoogLeNetCifar(tnn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = TorchBasicConv2d(3, 192, kernel_size=3, padding=1)
        self.inception3a = TorchInception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = TorchInception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = tnn.MaxPool2d(3, 2, padding=1)
        self.inception4a = TorchInception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = TorchInception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = TorchInception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = TorchInception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = TorchInception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = tnn.MaxPool2d(3, 2, padding=1)
        self.inception5a = TorchInception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = TorchInception(832, 384, 192, 384, 48, 128, 128)
        self.aux1 = TorchAux(512, num_classes)
        self.aux2 = TorchAux(528, num_classes)
        self.fc = tnn.Linear(1024, num_classes)

    def forward(self, x):
        x = self.maxpool3(self.inception3b(self.inception3a(self.conv1(x))))
        x = self.inception4a(x)
        aux1 = self.aux1(x)
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x)
        x = self.inception5b(self.inception5a(self.maxpool4(self.inception4e(x))))
        return self.fc(torch.flatten(TF.adaptive_avg_pool2d(x, 1), 1)), aux2, aux1


# ---- helpers -------------------------------------------------------------------------------

def _randomise_bn(torch_model):
    """Non-trivial BN statistics and affine parameters so eval mode tests something."""
    g = torch.Generator().manual_seed(1)
    for m in torch_model.modules():
        if isinstance(m, tnn.BatchNorm2d):
            m.running_mean.copy_(0.1 * torch.randn(m.num_features, generator=g))
            m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=g))
            m.weight.data.copy_(1 + 0.2 * torch.randn(m.num_features, generator=g))
            m.bias.data.copy_(0.1 * torch.randn(m.num_features, generator=g))


def _compare(model, torch_model, x, train, rtol=1e-4, atol=1e-4, grad_atol=1e-4, loss_fn=None):
    """Same logits and the same gradient of every parameter."""
    model.train(train)
    torch_model.train(train)
    xt = torch.from_numpy(x)
    y = np.arange(len(x)) % 10
    out = model(nl.Tensor(x, dtype=x.dtype))
    ref = torch_model(xt)
    if loss_fn is None:
        loss = nl.nn.functional.cross_entropy(out, nl.tensor(y))
        ref_loss = TF.cross_entropy(ref, torch.from_numpy(y))
        outs, refs = [out], [ref]
    else:
        loss, ref_loss, outs, refs = loss_fn(out, ref, y)
    for o, r in zip(outs, refs):
        np.testing.assert_allclose(o.array, r.detach().numpy(), rtol=rtol, atol=atol)
    loss.backward()
    ref_loss.backward()
    torch_params = dict(torch_model.named_parameters())
    named = dict(model.named_parameters())
    assert set(named) == set(torch_params)
    for name, p in named.items():
        assert p.grad is not None, name
        scale = max(1.0, float(torch_params[name].grad.abs().max()))
        np.testing.assert_allclose(p.grad.array, torch_params[name].grad.numpy(), rtol=1e-3,
                                   atol=grad_atol * scale, err_msg=name)
    if train:  # running statistics updated the same way
        sd = model.state_dict()
        for name, value in torch_model.state_dict().items():
            if name.endswith("running_mean") or name.endswith("running_var"):
                np.testing.assert_allclose(sd[name], value.numpy(), rtol=1e-4, atol=1e-5)


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ---- tests ---------------------------------------------------------------------------------

@pytest.mark.parametrize("train", [False, True])
def test_cifar_resnet_torch_to_neuralab(train):
    # Depth 8 (one block per stage) keeps both option-A shortcuts and runs fast.
    torch_model = TorchCifarResNet(8)
    _randomise_bn(torch_model)
    model = CifarResNet(8)
    result = load_torch_state_dict(model, torch_model.state_dict())
    assert not result[0] and not result[1]
    _compare(model, torch_model, _x((4, 3, 16, 16)), train)


def test_resnet_basic_and_bottleneck_neuralab_to_torch():
    # float64: layer4 sees 1x1 maps, so train-mode BN normalises over 2 values per channel and
    # float32 rounding is amplified (see the GoogLeNet test); float64 checks the architecture.
    for block, tblock in [(BasicBlock, TorchBasicBlock), (Bottleneck, TorchBottleneck)]:
        model = ResNet(block, (1, 1, 1, 1), num_classes=10).double()
        torch_model = TorchResNet(tblock, (1, 1, 1, 1), 10).double()
        sd = to_torch_state_dict(model)
        assert list(sd) == list(torch_model.state_dict())  # same keys, same order
        torch_model.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
        _compare(model, torch_model, _x((2, 3, 16, 16)).astype(np.float64), train=True,
                 rtol=1e-9, atol=1e-9, grad_atol=1e-9)


def test_vgg_bn_both_ways_eval_and_train():
    config = [8, "M", 16, 16, "M", 32, "M"]
    torch_model = TorchVGG(config, 10)
    _randomise_bn(torch_model)
    model = VGG(config, num_classes=10, batch_norm=True, cifar=True, dropout=0.0)
    load_torch_state_dict(model, torch_model.state_dict())
    for m in torch_model.modules():
        if isinstance(m, tnn.Dropout):
            m.p = 0.0
    _compare(model, torch_model, _x((3, 3, 16, 16)), train=False)
    back = TorchVGG(config, 10)
    back.load_state_dict({k: torch.from_numpy(v) for k, v in to_torch_state_dict(model).items()})
    for m in back.modules():
        if isinstance(m, tnn.Dropout):
            m.p = 0.0
    fresh = VGG(config, num_classes=10, batch_norm=True, cifar=True, dropout=0.0)
    load_torch_state_dict(fresh, back.state_dict())
    _compare(fresh, back, _x((3, 3, 16, 16), seed=1), train=True)


def test_googlenet_cifar_with_aux_heads_matches_torch():
    # float64: through 60 train-mode BN layers with batch statistics over 2 x 2 x 2 values the
    # float32 rounding of either library grows to ~1% of the gradients; in float64 both agree
    # to 1e-13, which is what tests the architecture.
    torch_model = TorchGoogLeNetCifar(10).double()
    _randomise_bn(torch_model)
    model = GoogLeNet(num_classes=10, aux_logits=True, cifar=True, dropout=0.0,
                      dropout_aux=0.0).double()
    load_torch_state_dict(model, torch_model.state_dict())
    assert model.fc.weight.dtype == np.float64

    def loss_fn(out, ref, y):
        yt = torch.from_numpy(y)
        ref_loss = TF.cross_entropy(ref[0], yt) + 0.3 * (TF.cross_entropy(ref[2], yt)
                                                         + TF.cross_entropy(ref[1], yt))
        return googlenet_loss(out, nl.tensor(y)), ref_loss, list(out), list(ref)

    _compare(model, torch_model, _x((2, 3, 8, 8)).astype(np.float64), train=True,
             loss_fn=loss_fn, rtol=1e-9, atol=1e-9, grad_atol=1e-9)


def test_files_round_trip(tmp_path):
    model = CifarResNet(8)
    for fmt in ("safetensors", "npz"):
        path = tmp_path / f"w.{fmt}"
        written = export_state_dict(model, path, format=fmt)
        assert path.is_file() and not list(tmp_path.glob(".*part"))
        other = CifarResNet(8)
        load_torch_state_dict(other, path)
        for k, v in other.state_dict().items():
            np.testing.assert_array_equal(v, written[k])
    # The safetensors file loads in torch directly.
    from safetensors.torch import load_file

    torch_model = TorchCifarResNet(8)
    torch_model.load_state_dict(load_file(str(tmp_path / "w.safetensors")))
    model.eval()
    torch_model.eval()
    x = _x((2, 3, 32, 32))
    np.testing.assert_allclose(model(nl.Tensor(x)).array,
                               torch_model(torch.from_numpy(x)).detach().numpy(), atol=1e-4)


def test_errors_and_unwrapping(tmp_path):
    model = CifarResNet(8)
    sd = to_torch_state_dict(model)
    wrapped = {"state_dict": {"module." + k: torch.from_numpy(v) for k, v in sd.items()}}
    load_torch_state_dict(model, wrapped)
    del sd["fc.bias"]
    with pytest.raises(RuntimeError, match="fc.bias"):
        load_torch_state_dict(model, sd)
    missing, unexpected = load_torch_state_dict(model, sd, strict=False)
    assert missing == ["fc.bias"] and not unexpected
    with pytest.raises(ValueError, match=r"\.pt"):
        (tmp_path / "w.pt").write_bytes(b"x")
        load_torch_state_dict(model, tmp_path / "w.pt")
    with pytest.raises(ValueError, match="format"):
        export_state_dict(model, tmp_path / "w.bin", format="pickle")


def test_library_does_not_import_torch():
    code = ("import sys, neuralab, neuralab.interop, neuralab.models; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
