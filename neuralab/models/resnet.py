"""Residual networks (He, Zhang, Ren & Sun, 2016; Lecture 12: "ResNet").

A residual block learns a correction F(x) to its input rather than a whole new mapping:

    y = relu(F(x) + shortcut(x)),   F(x) = bn(conv(relu(bn(conv(x)))))

so that a block that should do nothing only has to push F towards zero, and the gradient reaches
early layers through the identity path, x̄ = ȳ·(∂F/∂x + I), however deep the network. Without the
shortcut (the "plain" networks below) a 56-layer network trains *worse* than a 20-layer one: the
degradation problem the paper demonstrates on CIFAR-10.

Two families, both with torchvision's parameter names so ImageNet weights load unchanged:

* ImageNet ResNets ``resnet18/34/50/101/152``: ``conv1, bn1, relu, maxpool, layer1..layer4,
  avgpool, fc``; BasicBlock (two 3x3 convs) for 18/34, Bottleneck (1x1 reduce, 3x3, 1x1 expand by
  4) for 50+; the stride of a Bottleneck sits on its 3x3 conv ("ResNet v1.5", as torchvision).
* CIFAR ResNets ``resnet20/32/44/56/110/1202`` (6n+2 layers: a 3x3 conv, three stages of n
  blocks with 16, 32 and 64 filters on 32x32, 16x16 and 8x8 maps, global average pooling, fc)
  with the paper's shortcut option A (default: the identity, subsampled by 2 and padded with zero
  channels where the shape changes, so the shortcut adds no parameters) or B (a 1x1 convolution +
  BN projection where the shape changes), and the matching plain nets ``plain20..plain110``.
"""

from __future__ import annotations

from typing import Any

import neuralab.nn as nn
from neuralab.autograd.tensor import Tensor
from neuralab.models.initialization import init_resnet_style
from neuralab.models.registry import register
from neuralab.ops.shape import pad

__all__ = [
    "BasicBlock", "Bottleneck", "CifarResNet", "LambdaShortcut", "ResNet", "cifar_resnet",
]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> Any:
    """3x3 convolution with padding 1 and no bias (the BN after it has one)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> Any:
    """1x1 convolution without bias: a per-pixel linear map of the channels."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class LambdaShortcut(nn.Module):
    """Option A shortcut: keep every other pixel (stride 2) and pad the new channels with zeros.

    ``x (N, C, H, W) -> (N, C + 2p, H/2, W/2)`` with p = ``pad_channels`` zero channels on each
    side; no parameters, so ResNet-20 has exactly as many weights as the plain 20-layer net.
    """

    def __init__(self, pad_channels: int, stride: int = 2):
        super().__init__()
        self.pad_channels, self.stride = pad_channels, stride

    def forward(self, x: Tensor) -> Tensor:
        s, p = self.stride, self.pad_channels
        x = x[:, :, ::s, ::s]  # (N, C, H/s, W/s)
        return pad(x, (0, 0, 0, 0, p, p))  # (N, C + 2p, H/s, W/s)

    def extra_repr(self) -> str:
        return f"pad_channels={self.pad_channels}, stride={self.stride}"


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers and a shortcut: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + s(x))``.

    Args:
        inplanes, planes: input and output channels.
        stride: stride of the first conv (2 halves the map at the start of a stage).
        downsample: the shortcut when the shape changes (None: identity).
        residual: False builds the plain block (no shortcut) of the paper's baselines.
    """

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: Any = None, residual: bool = True):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.residual = residual
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.residual:
            identity = x if self.downsample is None else self.downsample(x)
            out = out + identity  # the gradient flows through "+" to x unchanged
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 (reduce to ``planes``), 3x3 (stride here, v1.5), 1x1 (expand to 4·planes) + shortcut.

    The 1x1 convs keep the expensive 3x3 conv on a quarter of the channels, which is what makes
    50-152 layer networks affordable.
    """

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: Any = None, residual: bool = True):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = downsample
        self.residual = residual
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.residual:
            identity = x if self.downsample is None else self.downsample(x)
            out = out + identity
        return self.relu(out)


class ResNet(nn.Module):
    """The ImageNet ResNet of torchvision: 7x7/2 conv, 3x3/2 max-pool, four stages, avg-pool, fc.

    Args:
        block: ``BasicBlock`` or ``Bottleneck``.
        layers: blocks per stage, e.g. (2, 2, 2, 2) for ResNet-18.
        num_classes: outputs of ``fc``.
        zero_init_residual: start each block's last BN at γ = 0, so every block begins as the
            identity (Goyal et al., 2017).
        init_weights: He (fan-out) init of the convs as torchvision; False keeps the layers'
            defaults (faster when the weights are loaded afterwards).

    Shapes: (N, 3, H, W) -> (N, num_classes), any H, W >= 32 (the pooling is adaptive).
    """

    def __init__(self, block: type, layers: tuple[int, ...], num_classes: int = 1000,
                 zero_init_residual: bool = False, init_weights: bool = True):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        if init_weights:
            last_norms = [m.bn3 if isinstance(m, Bottleneck) else m.bn2 for m in self.modules()
                          if isinstance(m, (BasicBlock, Bottleneck))]
            init_resnet_style(self, zero_norms=last_norms if zero_init_residual else ())

    def _make_layer(self, block: type, planes: int, blocks: int, stride: int = 1) -> Any:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avgpool(x)  # (N, C, 1, 1)
        return self.fc(x.reshape(x.shape[0], -1))  # (N, C) -> (N, num_classes)


class CifarResNet(nn.Module):
    """The CIFAR-10 ResNet of He et al. (2016, Sec. 4.2): 6n+2 weighted layers.

    Args:
        depth: 6n + 2 (20, 32, 44, 56, 110, 1202).
        num_classes: outputs of ``fc``.
        shortcut: ``'A'`` zero-padding identity (the paper's CIFAR choice) or ``'B'`` projection.
        residual: False builds the plain network (same layers, no shortcuts).
        init_weights: He init of the convs (fan-out, as torchvision).

    Shapes: (N, 3, 32, 32) -> (N, num_classes).
    """

    def __init__(self, depth: int = 20, num_classes: int = 10, shortcut: str = "A",
                 residual: bool = True, init_weights: bool = True):
        super().__init__()
        if not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
            raise ValueError(f"CifarResNet: depth must be 6n + 2 (20, 32, 44, 56, 110, 1202), "
                             f"got {depth!r}")
        if shortcut not in ("A", "B"):
            raise ValueError(f"CifarResNet: shortcut must be 'A' (zero-padding identity) or 'B' "
                             f"(projection), got {shortcut!r}")
        n = (depth - 2) // 6
        self.depth, self.shortcut, self.residual = depth, shortcut, residual
        self.inplanes = 16
        self.conv1 = conv3x3(3, 16)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        self.layer1 = self._make_layer(16, n, 1)
        self.layer2 = self._make_layer(32, n, 2)
        self.layer3 = self._make_layer(64, n, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)
        if init_weights:
            init_resnet_style(self)

    def _make_layer(self, planes: int, blocks: int, stride: int) -> Any:
        downsample = None
        if self.residual and (stride != 1 or self.inplanes != planes):
            if self.shortcut == "A":
                downsample = LambdaShortcut((planes - self.inplanes) // 2, stride)
            else:
                downsample = nn.Sequential(conv1x1(self.inplanes, planes, stride),
                                           nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample, self.residual)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes, residual=self.residual) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = self.avgpool(x)  # (N, 64, 1, 1)
        return self.fc(x.reshape(x.shape[0], -1))  # (N, 64) -> (N, num_classes)

    def extra_repr(self) -> str:
        kind = f"shortcut={self.shortcut}" if self.residual else "plain"
        return f"depth={self.depth}, {kind}"


def cifar_resnet(depth: int, num_classes: int = 10, **options: Any) -> CifarResNet:
    """A CIFAR ResNet of any depth 6n + 2 (options as ``CifarResNet``)."""
    return CifarResNet(depth, num_classes=num_classes, **options)


_IMAGENET = {
    "resnet18": (BasicBlock, (2, 2, 2, 2), "11.7M"),
    "resnet34": (BasicBlock, (3, 4, 6, 3), "21.8M"),
    "resnet50": (Bottleneck, (3, 4, 6, 3), "25.6M"),
    "resnet101": (Bottleneck, (3, 4, 23, 3), "44.5M"),
    "resnet152": (Bottleneck, (3, 8, 36, 3), "60.2M"),
}


def _imagenet_builder(name: str, block: type, layers: tuple, params: str) -> None:
    def build(num_classes: int = 1000, **options: Any) -> ResNet:
        return ResNet(block, layers, num_classes=num_classes, **options)

    depth = name[len("resnet"):]
    build.__name__ = build.__qualname__ = name
    build.__doc__ = (f"ResNet-{depth} for ImageNet ({block.__name__}s {layers}, {params} "
                     "parameters), torchvision's layout.")
    register(name, options=("zero_init_residual", "init_weights"),
             input_shape=(3, 224, 224), dataset="imagenet", lecture=12)(build)
    globals()[name] = build


def _cifar_builder(depth: int, residual: bool) -> None:
    name = f"resnet{depth}" if residual else f"plain{depth}"

    def build(num_classes: int = 10, **options: Any) -> CifarResNet:
        return CifarResNet(depth, num_classes=num_classes, residual=residual, **options)

    build.__name__ = build.__qualname__ = name
    kind = "ResNet" if residual else "Plain net (no shortcuts)"
    build.__doc__ = f"{kind}-{depth} for CIFAR (He et al., 2016, Sec. 4.2), 6n+2 layers."
    register(name, options=("shortcut", "init_weights"),
             input_shape=(3, 32, 32), dataset="cifar10", lecture=12)(build)
    globals()[name] = build


for _name, (_block, _layers, _params) in _IMAGENET.items():
    _imagenet_builder(_name, _block, _layers, _params)
for _depth in (8, 20, 32, 44, 56, 110, 1202):  # 8: the reduced experiments' shallow net
    _cifar_builder(_depth, residual=True)
for _depth in (8, 20, 32, 44, 56, 110):
    _cifar_builder(_depth, residual=False)
