"""Reduced networks of the zoo for CPU experiments: every width scaled, small images.

The architecture experiments of Lecture 12 compare LeNet, AlexNet, VGG, GoogLeNet and ResNet on
CIFAR-10 within minutes of one core, so each family is built here at a fraction of its width
(``width=0.25`` keeps a quarter of every layer's channels) and for 32x32 or 16x16 images. The
layouts are the zoo's (``AlexNet``'s 5x5-5x5-3x3-3x3-3x3 stack, ``VGG``'s configurations, the nine
``Inception`` modules of GoogLeNet); only the widths, the number of poolings and the classifiers
shrink. Every builder initialises with He et al. (2015): w ~ N(0, 2 / fan_in) for the convolutions
and hidden linear layers, N(0, 1 / fan_in) for the last linear layer.

Registered names: ``lenet5_rgb``, ``alexnet_small``, ``vgg_small``, ``googlenet_small`` (the CIFAR
ResNets of any depth 6n + 2 are ``resnetN`` / ``plainN`` in :mod:`neuralab.models.resnet`).
"""

from __future__ import annotations

import math
from typing import Any

import neuralab.nn as nn
from neuralab.backend import xp
from neuralab.models.googlenet import INCEPTION_TABLE, BasicConv2d, GoogLeNetOutputs, Inception
from neuralab.models.initialization import normal_fill
from neuralab.models.lenet import LeNet5
from neuralab.models.registry import register
from neuralab.models.vgg import CONFIGS, VGG

__all__ = ["SmallAlexNet", "SmallGoogLeNet", "alexnet_small", "googlenet_small", "he_init",
           "lenet5_rgb", "paper_init", "scaled", "vgg_config", "vgg_small"]


def scaled(channels: int, width: float) -> int:
    """``channels x width`` rounded, at least 4."""
    return max(4, int(round(channels * width)))


def he_init(model: Any) -> None:
    """He et al. (2015): w ~ N(0, 2 / fan_in) for every conv and linear layer (variance kept
    through ReLUs), the last linear layer N(0, 1 / fan_in); biases 0."""
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    for i, m in enumerate(layers):
        fan_in = int(xp.prod(m.weight.shape[1:]))
        gain = 1.0 if i == len(layers) - 1 and isinstance(m, nn.Linear) else 2.0
        normal_fill(m.weight, math.sqrt(gain / fan_in))
        if m.bias is not None:
            m.bias.array[...] = 0


def paper_init(model: Any) -> None:
    """Simonyan & Zisserman's random initialisation: w ~ N(0, 0.01²), biases 0."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            normal_fill(m.weight, 0.01)
            if m.bias is not None:
                m.bias.array[...] = 0


# ------------------------------------------------------------------------------- LeNet
@register("lenet5_rgb", options=("image_size",),
          input_shape=(3, 32, 32), dataset="cifar10", lecture=12)
def lenet5_rgb(num_classes: int = 10, image_size: int = 32) -> LeNet5:
    """LeNet-5 with 3 input channels (the 1998 net, 5x5 convs, for colour images)."""
    padding = 0 if image_size >= 28 else 2  # 32x32: the original design; 16x16 needs padding
    return LeNet5(num_classes=num_classes, in_channels=3, image_size=image_size, padding=padding)


# ------------------------------------------------------------------------------- AlexNet
class SmallAlexNet(nn.Module):
    """The zoo's ``alexnet_cifar`` layout (5x5, 5x5, 3x3, 3x3, 3x3 convs; 3x3/2 overlapping
    max-pools; dropout + two hidden FC layers) with every width scaled by ``width``.

    ``width=1`` has the layers of ``create('alexnet_cifar')`` (64-192-384-256-256, FC 1024).
    """

    def __init__(self, num_classes: int = 10, width: float = 1.0, image_size: int = 32):
        super().__init__()
        c = [scaled(v, width) for v in (64, 192, 384, 256, 256)]
        hidden = scaled(1024, width)
        pooled = 3 if image_size >= 32 else 1
        self.features = nn.Sequential(
            nn.Conv2d(3, c[0], kernel_size=5, padding=2), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(c[0], c[1], kernel_size=5, padding=2), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(c[1], c[2], kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(c[2], c[3], kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(c[3], c[4], kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2) if image_size >= 32 else nn.Identity(),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((pooled, pooled))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(0.5), nn.Linear(c[4] * pooled * pooled, hidden), nn.ReLU(),
            nn.Dropout(0.5), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))

    def forward(self, x: Any) -> Any:
        return self.classifier(self.avgpool(self.features(x)))


@register("alexnet_small", options=("width", "image_size"),
          input_shape=(3, 32, 32), dataset="cifar10", lecture=12)
def alexnet_small(num_classes: int = 10, width: float = 1.0, image_size: int = 32) -> SmallAlexNet:
    """AlexNet's CIFAR layout with widths scaled by ``width`` (He initialisation)."""
    model = SmallAlexNet(num_classes, width, image_size)
    he_init(model)
    return model


# ------------------------------------------------------------------------------- VGG
def vgg_config(width: float, image_size: int, depth: str = "A") -> list[Any]:
    """VGG configuration ``depth`` (A = VGG-11, B = 13, D = 16, E = 19) with scaled widths and as
    many 2x2 pools as the image allows (five for 32x32, four for 16x16)."""
    pools = min(5, int(math.log2(image_size)))
    out: list[Any] = []
    seen = 0
    for v in CONFIGS[depth]:
        if v == "M":
            seen += 1
            if seen <= pools:
                out.append("M")
        else:
            out.append(scaled(v, width))
    return out


@register("vgg_small", options=("width", "image_size", "depth", "batch_norm", "hidden",
                                   "init", "dropout"),
          input_shape=(3, 32, 32), dataset="cifar10", lecture=12)
def vgg_small(num_classes: int = 10, width: float = 1.0, image_size: int = 32, depth: str = "A",
              batch_norm: bool = False, hidden: int = 512, init: str = "he",
              dropout: float = 0.5) -> VGG:
    """The zoo's ``VGG`` (``vgg11_cifar`` for depth A, width 1) with scaled widths and a
    ``hidden``-unit classifier.

    ``init='he'`` (default) or the paper's N(0, 0.01²) (``init='paper'``): torchvision's
    N(0, 0.01²) linear layers shrink the signal ~10x per layer when the classifier is narrow,
    which stalls a small network at the chance loss.
    """
    if init not in ("he", "paper"):
        raise ValueError(f"vgg_small: init must be 'he' or 'paper', got {init!r}")
    config = vgg_config(width, image_size, depth)
    model = VGG(config, num_classes=num_classes, batch_norm=batch_norm, cifar=True,
                init_weights=False)
    last = [v for v in config if v != "M"][-1]
    model.classifier = nn.Sequential(
        nn.Linear(last, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, hidden),
        nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, num_classes))
    (paper_init if init == "paper" else he_init)(model)
    return model


# ------------------------------------------------------------------------------- GoogLeNet
class SmallAux(nn.Module):
    """GoogLeNet's auxiliary head, scaled: avg-pool to 2x2, 1x1 conv, FC, dropout 0.7, FC."""

    def __init__(self, in_channels: int, num_classes: int, width: float):
        super().__init__()
        c, hidden = scaled(128, width), scaled(1024, width)
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.conv = BasicConv2d(in_channels, c, kernel_size=1)
        self.fc1 = nn.Linear(4 * c, hidden)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(p=0.7)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x: Any) -> Any:
        x = self.conv(self.avgpool(x))  # (N, c, 2, 2)
        x = self.relu(self.fc1(x.reshape(x.shape[0], -1)))  # (N, 4c) -> (N, hidden)
        return self.fc2(self.dropout(x))


class SmallGoogLeNet(nn.Module):
    """GoogLeNet for small images with every width scaled: a 3x3 stem, the nine Inception
    modules of the paper (3a-3b, pool, 4a-4e, pool, 5a-5b), global average pooling, dropout and
    one linear layer; optional auxiliary heads on 4a and 4d return ``GoogLeNetOutputs`` in
    training mode, so ``googlenet_loss`` applies unchanged."""

    def __init__(self, num_classes: int = 10, width: float = 0.25, aux_logits: bool = False,
                 dropout: float = 0.2):
        super().__init__()
        self.aux_logits = aux_logits
        channels = scaled(192, width)
        self.conv1 = BasicConv2d(3, channels, kernel_size=3, padding=1)
        widths: dict[str, int] = {}
        for name, spec in INCEPTION_TABLE.items():
            module = Inception(channels, *(scaled(v, width) for v in spec))
            setattr(self, name, module)
            widths[name] = channels = module.out_channels
        self.maxpool3 = nn.MaxPool2d(3, stride=2, padding=1)
        self.maxpool4 = nn.MaxPool2d(3, stride=2, padding=1)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(channels, num_classes)
        if aux_logits:  # built last, so the main network's initial weights do not change
            self.aux1 = SmallAux(widths["inception4a"], num_classes, width)
            self.aux2 = SmallAux(widths["inception4d"], num_classes, width)

    def forward(self, x: Any) -> Any:
        x = self.conv1(x)
        x = self.maxpool3(self.inception3b(self.inception3a(x)))  # (N, C, S/2, S/2)
        x = self.inception4a(x)
        aux1 = self.aux1(x) if self.aux_logits and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.aux_logits and self.training else None
        x = self.maxpool4(self.inception4e(x))  # (N, C, S/4, S/4)
        x = self.avgpool(self.inception5b(self.inception5a(x)))  # (N, C, 1, 1)
        x = self.fc(self.dropout(x.reshape(x.shape[0], -1)))
        if aux1 is not None:
            return GoogLeNetOutputs(x, aux2, aux1)
        return x


@register("googlenet_small", options=("width", "aux_logits", "dropout"),
          input_shape=(3, 32, 32), dataset="cifar10", lecture=12)
def googlenet_small(num_classes: int = 10, width: float = 0.25, aux_logits: bool = False,
                    dropout: float = 0.2) -> SmallGoogLeNet:
    """GoogLeNet's nine Inception modules at width ``width`` for 32x32 (or 16x16) images."""
    model = SmallGoogLeNet(num_classes, width, aux_logits, dropout)
    he_init(model)
    return model
