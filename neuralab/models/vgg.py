"""VGG networks (Simonyan & Zisserman, 2015; Lecture 12): depth from stacks of 3x3 convolutions.

Two 3x3 convolutions see a 5x5 window and three see 7x7, with fewer parameters (3·9C² against 49C²)
and more non-linearities than one large filter. The four configurations of the paper:

    A (vgg11): 64 M 128 M 256 256 M 512 512 M 512 512 M
    B (vgg13): 64 64 M 128 128 M 256 256 M 512 512 M 512 512 M
    D (vgg16): 64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M
    E (vgg19): 64 64 M 128 128 M 256 256 256 256 M 512 512 512 512 M 512 512 512 512 M

(numbers: 3x3 conv + ReLU with that many filters, M: 2x2 max-pool). The layout and names are
torchvision's: ``features`` (conv[, BatchNorm2d], ReLU, ... MaxPool2d), ``avgpool``
(adaptive 7x7), ``classifier`` (Linear 25088-4096, ReLU, Dropout, Linear 4096-4096, ReLU, Dropout,
Linear 4096-C); the ``_bn`` variants put a BatchNorm2d after every conv. The ``_cifar`` variants
keep the features and use a 512-512-C classifier on the 1x1 map left from a 32x32 image.
"""

from __future__ import annotations

from typing import Any

import neuralab.nn as nn
from neuralab.autograd.tensor import Tensor
from neuralab.models.initialization import init_vgg_style
from neuralab.models.registry import register

__all__ = ["CONFIGS", "VGG", "make_features", "stages", "warm_start"]

CONFIGS: dict[str, list[Any]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
          512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"],
}
_DEPTH = {"A": 11, "B": 13, "D": 16, "E": 19}


def make_features(config: list[Any], batch_norm: bool = False) -> Any:
    """The convolutional part: 3x3 conv (padding 1) [+ BN] + ReLU per number, 2x2 max-pool per M."""
    layers: list[Any] = []
    channels = 3
    for v in config:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU())
        channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """VGG: ``features``, ``avgpool``, ``classifier``.

    Args:
        config: ``'A'``, ``'B'``, ``'D'``, ``'E'`` or a list like ``CONFIGS['A']``.
        num_classes: outputs of the last layer.
        batch_norm: BatchNorm2d after every convolution.
        dropout: drop probability in the classifier (0.5).
        cifar: 32x32 input: a (1, 1) pool and a 512-512-C classifier.
        init_weights: torchvision's init (He normal fan-out convs, N(0, 0.01) linears); False
            keeps the layers' defaults.
    """

    def __init__(self, config: str | list[Any] = "D", num_classes: int = 1000,
                 batch_norm: bool = False, dropout: float = 0.5, cifar: bool = False,
                 init_weights: bool = True):
        super().__init__()
        if isinstance(config, str):
            if config not in CONFIGS:
                raise ValueError(f"VGG: config must be one of {sorted(CONFIGS)} or a list, got "
                                 f"{config!r}")
            config = CONFIGS[config]
        self.features = make_features(config, batch_norm)
        last = [v for v in config if v != "M"][-1]
        pooled, hidden = ((1, 1), 512) if cifar else ((7, 7), 4096)
        self.avgpool = nn.AdaptiveAvgPool2d(pooled)
        self.classifier = nn.Sequential(
            nn.Linear(last * pooled[0] * pooled[1], hidden),
            nn.ReLU(),
            nn.Dropout(p=dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(p=dropout),
            nn.Linear(hidden, num_classes),
        )
        if init_weights:
            init_vgg_style(self)

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))  # (N, 512, 7, 7)
        return self.classifier(x.reshape(x.shape[0], -1))  # (N, 25088) -> (N, num_classes)


def stages(model: nn.Module) -> list[list[tuple[str, nn.Conv2d]]]:
    """The convolutions of ``model.features`` as (name, layer), grouped by stage (the runs of
    convolutions between two max-pools)."""
    groups: list[list[tuple[str, nn.Conv2d]]] = [[]]
    for name, layer in model.features.named_children():
        if isinstance(layer, nn.MaxPool2d):
            groups.append([])
        elif isinstance(layer, nn.Conv2d):
            groups[-1].append((f"features.{name}", layer))
    return [g for g in groups if g]


def warm_start(deep: nn.Module, shallow: nn.Module) -> list[str]:
    """Initialise a deeper VGG from a trained shallower one (Simonyan & Zisserman, Sec. 3.1).

    Copies into ``deep`` the layers of ``shallow`` that correspond: in every stage the first k
    convolutions (k: the shallow net's count in that stage, whose shapes agree), and every
    ``Linear`` of the classifier. The extra convolutions keep their random initialisation.

    Returns:
        The names of the copied layers (``"features.3 <- features.2"``, ``"classifier.0"``).

    Raises:
        ValueError: when the networks do not have the same stages or widths, or ``deep`` has
            fewer convolutions in a stage than ``shallow`` (the arguments swapped).
    """
    deep_stages, shallow_stages = stages(deep), stages(shallow)
    if len(deep_stages) != len(shallow_stages):
        raise ValueError(f"warm_start: the deep net has {len(deep_stages)} stages and the "
                         f"shallow one {len(shallow_stages)}; build both for the same image size")
    copied = []
    for d_stage, s_stage in zip(deep_stages, shallow_stages):
        if len(s_stage) > len(d_stage):
            raise ValueError("warm_start: the 'deep' net has fewer convolutions in a stage than "
                             "the shallow one; pass the deeper configuration first")
        for (d_name, d_conv), (s_name, s_conv) in zip(d_stage, s_stage):
            if d_conv.weight.shape != s_conv.weight.shape:
                raise ValueError(f"warm_start: {d_name} has weight shape {d_conv.weight.shape} "
                                 f"but {s_name} has {s_conv.weight.shape}; are the widths the "
                                 "same?")
            d_conv.weight.array[...] = s_conv.weight.array
            d_conv.bias.array[...] = s_conv.bias.array
            copied.append(f"{d_name} <- {s_name}")
    for (name, d_layer), (_, s_layer) in zip(deep.classifier.named_children(),
                                             shallow.classifier.named_children()):
        if isinstance(d_layer, nn.Linear):
            d_layer.weight.array[...] = s_layer.weight.array
            d_layer.bias.array[...] = s_layer.bias.array
            copied.append(f"classifier.{name}")
    return copied


def _builder(config: str, batch_norm: bool, cifar: bool) -> None:
    depth = _DEPTH[config]
    name = f"vgg{depth}" + ("_bn" if batch_norm else "") + ("_cifar" if cifar else "")

    def build(num_classes: int = 10 if cifar else 1000, **options: Any) -> VGG:
        return VGG(config, num_classes=num_classes, batch_norm=batch_norm, cifar=cifar,
                   **options)

    build.__name__ = build.__qualname__ = name
    what = "32x32 CIFAR images" if cifar else "ImageNet, torchvision's layout"
    build.__doc__ = (f"VGG-{depth} (configuration {config}){' with batch norm' * batch_norm} "
                     f"for {what}.")
    shape, dataset = ((3, 32, 32), "cifar10") if cifar else ((3, 224, 224), "imagenet")
    register(name, options=("dropout", "init_weights"),
             input_shape=shape, dataset=dataset, lecture=12)(build)
    globals()[name] = build
    __all__.append(name)


for _config in _DEPTH:
    for _bn in (False, True):
        for _cifar in (False, True):
            _builder(_config, _bn, _cifar)
