"""GoogLeNet / Inception v1 (Szegedy et al., 2015; Lecture 12: "Inception").

An Inception module runs 1x1, 3x3 and 5x5 convolutions and a 3x3 max-pool side by side on the
same input and concatenates their outputs along the channels, so the network chooses per layer
how much of each receptive field to use. The *naive* module does exactly that; its channel count
grows at every module (the pooling branch passes all input channels through) and the 5x5
convolutions on many channels are expensive. The *dimension-reduced* module (the one GoogLeNet
uses) puts 1x1 convolutions before the 3x3 and 5x5 convolutions and after the pooling, which cuts
the computation several-fold.

Two auxiliary classifiers on inception4a and inception4d add their losses, weighted by 0.3, during
training, to push gradient into the middle of the 22-layer network (``googlenet_loss``).

The layout and names are torchvision's (``conv1, maxpool1, conv2, conv3, maxpool2, inception3a,
inception3b, maxpool3, inception4a..4e, maxpool4, inception5a, inception5b, aux1, aux2, avgpool,
dropout, fc``; ``BasicConv2d`` = conv without bias + BatchNorm2d(eps=0.001) + ReLU), so
torchvision's weights load. Like torchvision, the "5x5" branch uses a 3x3 kernel (a known quirk of
the original port, kept for weight compatibility, and the reason the count is 6,624,904);
``branch3_kernel=5`` gives the paper's 5x5.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import neuralab.nn as nn
from neuralab.autograd.tensor import Tensor
from neuralab.models.initialization import init_googlenet_style
from neuralab.models.registry import register
from neuralab.nn.functional import cross_entropy
from neuralab.ops.shape import cat

__all__ = [
    "BasicConv2d", "GoogLeNet", "GoogLeNetOutputs", "Inception", "InceptionAux",
    "NaiveInception", "googlenet_loss",
]

#: What GoogLeNet returns in training mode with auxiliary heads (torchvision's order).
GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])


class BasicConv2d(nn.Module):
    """Conv (no bias: BN's β replaces it) + BatchNorm2d(eps=0.001) + ReLU."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs: Any):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """The dimension-reduced Inception module: four branches concatenated on channels.

    branch1: 1x1 -> ``ch1x1``;  branch2: 1x1 -> ``ch3x3red``, 3x3 -> ``ch3x3``;
    branch3: 1x1 -> ``ch5x5red``, kxk -> ``ch5x5`` (k = ``branch3_kernel``, 3 as torchvision);
    branch4: 3x3 max-pool (stride 1), 1x1 -> ``pool_proj``.
    Output channels: ch1x1 + ch3x3 + ch5x5 + pool_proj, same spatial size.
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int,
                 ch5x5: int, pool_proj: int, branch3_kernel: int = 3):
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1),
            BasicConv2d(ch5x5red, ch5x5, kernel_size=branch3_kernel,
                        padding=branch3_kernel // 2),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, kernel_size=1),
        )
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj

    def forward(self, x: Tensor) -> Tensor:
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return cat(branches, 1)  # (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)


class NaiveInception(nn.Module):
    """The naive Inception module: 1x1, 3x3 and 5x5 convs and a 3x3 max-pool, concatenated.

    Takes the same arguments as ``Inception`` and ignores the reductions (``ch3x3red``,
    ``ch5x5red``, ``pool_proj``): the pooling branch passes all ``in_channels`` through, so the
    output has ch1x1 + ch3x3 + ch5x5 + in_channels channels and grows module after module.
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int,
                 ch5x5: int, pool_proj: int, branch3_kernel: int = 5):
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = BasicConv2d(in_channels, ch3x3, kernel_size=3, padding=1)
        self.branch3 = BasicConv2d(in_channels, ch5x5, kernel_size=branch3_kernel,
                                   padding=branch3_kernel // 2)
        self.branch4 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True)
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + in_channels

    def forward(self, x: Tensor) -> Tensor:
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return cat(branches, 1)  # (N, ch1x1 + ch3x3 + ch5x5 + C_in, H, W)


class InceptionAux(nn.Module):
    """Auxiliary classifier: 4x4 average pool, 1x1 conv to 128, FC 1024 + ReLU, dropout 0.7, FC."""

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.7):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d((4, 4))
        self.conv = BasicConv2d(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(self.avgpool(x))  # (N, 128, 4, 4)
        x = self.relu(self.fc1(x.reshape(x.shape[0], -1)))  # (N, 2048) -> (N, 1024)
        return self.fc2(self.dropout(x))


# (ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj) of each module (Table 1 of the paper).
INCEPTION_TABLE = {
    "inception3a": (64, 96, 128, 16, 32, 32),
    "inception3b": (128, 128, 192, 32, 96, 64),
    "inception4a": (192, 96, 208, 16, 48, 64),
    "inception4b": (160, 112, 224, 24, 64, 64),
    "inception4c": (128, 128, 256, 24, 64, 64),
    "inception4d": (112, 144, 288, 32, 64, 64),
    "inception4e": (256, 160, 320, 32, 128, 128),
    "inception5a": (256, 160, 320, 32, 128, 128),
    "inception5b": (384, 192, 384, 48, 128, 128),
}


class GoogLeNet(nn.Module):
    """GoogLeNet (Inception v1) with batch norm, torchvision's layout.

    Args:
        num_classes: outputs of ``fc`` (and of the auxiliary heads).
        aux_logits: build the two auxiliary classifiers (``aux1`` on inception4a, ``aux2`` on
            inception4d); in training mode ``forward`` then returns
            ``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)``, in eval mode the logits.
        inception: ``'reduced'`` (the GoogLeNet module) or ``'naive'`` (no 1x1 reductions).
        dropout: before ``fc`` (0.2 as torchvision; the paper used 0.4).
        dropout_aux: inside the auxiliary heads (0.7).
        cifar: 32x32 input: a 3x3 stem with 192 filters and no early down-sampling, so the
            inception stages work on 32x32, 16x16 and 8x8 maps.
        branch3_kernel: kernel of the "5x5" branch (3 as torchvision, 5 as the paper).
        init_weights: truncated N(0, 0.01²) for convs and linears (torchvision).

    Shapes: (N, 3, 224, 224) -> (N, num_classes) (CIFAR: (N, 3, 32, 32)).
    """

    def __init__(self, num_classes: int = 1000, aux_logits: bool = False,
                 inception: str = "reduced", dropout: float = 0.2, dropout_aux: float = 0.7,
                 cifar: bool = False, branch3_kernel: int | None = None,
                 init_weights: bool = True):
        super().__init__()
        if inception not in ("reduced", "naive"):
            raise ValueError(f"GoogLeNet: inception must be 'reduced' or 'naive', got "
                             f"{inception!r}")
        block = Inception if inception == "reduced" else NaiveInception
        if branch3_kernel is None:
            branch3_kernel = 3 if inception == "reduced" else 5
        self.aux_logits, self.inception, self.cifar = aux_logits, inception, cifar
        if cifar:
            self.conv1 = BasicConv2d(3, 192, kernel_size=3, padding=1)
            channels = 192
        else:
            self.conv1 = BasicConv2d(3, 64, kernel_size=7, stride=2, padding=3)
            self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
            self.conv2 = BasicConv2d(64, 64, kernel_size=1)
            self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
            self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
            channels = 192
        widths: dict[str, int] = {}
        for name, spec in INCEPTION_TABLE.items():
            module = block(channels, *spec, branch3_kernel=branch3_kernel)
            widths[name] = channels  # input channels of this module
            setattr(self, name, module)
            channels = module.out_channels
            if name == "inception3b":
                self.maxpool3 = (nn.MaxPool2d(3, stride=2, padding=1) if cifar
                                 else nn.MaxPool2d(3, stride=2, ceil_mode=True))
            elif name == "inception4e":
                self.maxpool4 = (nn.MaxPool2d(3, stride=2, padding=1) if cifar
                                 else nn.MaxPool2d(2, stride=2, ceil_mode=True))
        if aux_logits:
            # Heads read the outputs of inception4a and 4d (= inputs of 4b and 4e).
            self.aux1 = InceptionAux(widths["inception4b"], num_classes, dropout_aux)
            self.aux2 = InceptionAux(widths["inception4e"], num_classes, dropout_aux)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(channels, num_classes)
        if init_weights:
            init_googlenet_style(self)

    def forward(self, x: Tensor) -> Any:
        if self.cifar:
            x = self.conv1(x)  # (N, 192, 32, 32)
        else:
            x = self.maxpool1(self.conv1(x))  # (N, 64, 56, 56)
            x = self.maxpool2(self.conv3(self.conv2(x)))  # (N, 192, 28, 28)
        x = self.maxpool3(self.inception3b(self.inception3a(x)))  # (N, 480, 14, 14)
        x = self.inception4a(x)
        aux1 = self.aux1(x) if self.aux_logits and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.aux_logits and self.training else None
        x = self.maxpool4(self.inception4e(x))  # (N, 832, 7, 7)
        x = self.inception5b(self.inception5a(x))  # (N, 1024, 7, 7)
        x = self.avgpool(x)
        x = self.fc(self.dropout(x.reshape(x.shape[0], -1)))  # (N, 1024) -> (N, num_classes)
        if aux1 is not None:
            return GoogLeNetOutputs(x, aux2, aux1)
        return x

    def criterion(self, outputs: Any, target: Tensor) -> Tensor:
        """The training loss this model needs: ``googlenet_loss`` (the training loop uses a
        model's ``criterion`` in place of the plain cross-entropy when it has one)."""
        return googlenet_loss(outputs, target)

    def extra_repr(self) -> str:
        return f"inception={self.inception!r}, aux_logits={self.aux_logits}, cifar={self.cifar}"


def googlenet_loss(outputs: Any, target: Tensor, aux_weight: float = 0.3) -> Tensor:
    """Cross-entropy of the main logits plus ``aux_weight`` x that of each auxiliary head.

    ``loss = CE(logits) + 0.3 * (CE(aux1) + CE(aux2))`` (Szegedy et al., Sec. 5); plain logits
    (eval mode, or no auxiliary heads) give ``CE(logits)``.
    """
    if isinstance(outputs, tuple):
        logits, aux2, aux1 = outputs
        return cross_entropy(logits, target) + aux_weight * (
            cross_entropy(aux1, target) + cross_entropy(aux2, target))
    return cross_entropy(outputs, target)


_OPTIONS = ("aux_logits", "inception", "dropout", "dropout_aux", "branch3_kernel", "init_weights")


@register("googlenet", options=_OPTIONS + ("cifar",),
          input_shape=(3, 224, 224), dataset="imagenet", lecture=12)
def googlenet(num_classes: int = 1000, **options: Any) -> GoogLeNet:
    """GoogLeNet / Inception v1, torchvision's layout (6.6M parameters without the aux heads)."""
    return GoogLeNet(num_classes=num_classes, **options)


@register("googlenet_cifar", options=_OPTIONS,
          input_shape=(3, 32, 32), dataset="cifar10", lecture=12)
def googlenet_cifar(num_classes: int = 10, **options: Any) -> GoogLeNet:
    """GoogLeNet for 32x32 CIFAR images (3x3 stem, inception stages at 32, 16 and 8 pixels)."""
    return GoogLeNet(num_classes=num_classes, cifar=True, **options)
