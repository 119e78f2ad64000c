"""AlexNet (Krizhevsky, Sutskever & Hinton, 2012; Lecture 12: "ImageNet and AlexNet").

Five convolutional layers and three fully connected ones, with ReLU, max-pooling, dropout in the
classifier, and (in the paper) local response normalisation after the first two convolutions.

``alexnet`` follows torchvision's single-tower layout (64-192-384-256-256 filters), so that its
state_dict keys and shapes equal torchvision's and its weights load directly:

    features.0  Conv2d(3, 64, 11, stride 4, pad 2)   features.3  Conv2d(64, 192, 5, pad 2)
    features.6  Conv2d(192, 384, 3, pad 1)           features.8  Conv2d(384, 256, 3, pad 1)
    features.10 Conv2d(256, 256, 3, pad 1)           avgpool     AdaptiveAvgPool2d(6, 6)
    classifier.1 Linear(9216, 4096)  classifier.4 Linear(4096, 4096)  classifier.6 Linear(4096, C)

With ``lrn=True`` a ``LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2)`` follows the ReLUs of
conv1 and conv2, as in the paper; the feature indices then shift (conv2 becomes ``features.4``,
then 8, 10, 12), so torchvision weights need ``lrn=False``.
"""

from __future__ import annotations

from typing import Any

import neuralab.nn as nn
from neuralab.autograd.tensor import Tensor
from neuralab.models.registry import register

__all__ = ["AlexNet", "alexnet", "alexnet_cifar"]


def _lrn() -> Any:
    # The paper's constants: k = 2, n = 5, alpha = 1e-4, beta = 0.75 (Sec. 3.3).
    return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)


class AlexNet(nn.Module):
    """AlexNet: ``features`` (convolutions), ``avgpool``, ``classifier`` (dropout + 3 FC layers).

    Args:
        num_classes: outputs of the last layer (1000 for ImageNet).
        dropout: drop probability before the first two FC layers (0.5 in the paper).
        lrn: insert the paper's local response normalisation after conv1 and conv2.
        cifar: a 32x32 variant (5x5 and 3x3 convs, stride 1, 3x3/2 pools, ``hidden`` FC units).
        hidden: FC width of the classifier (4096 for ImageNet).

    Shapes: (N, 3, 224, 224) -> (N, num_classes) (any size >= 63 works through the adaptive
    pool); the CIFAR variant takes (N, 3, 32, 32).
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5, lrn: bool = False,
                 cifar: bool = False, hidden: int | None = None):
        super().__init__()
        hidden = hidden or (1024 if cifar else 4096)
        if cifar:
            layers: list[Any] = [nn.Conv2d(3, 64, kernel_size=5, padding=2), nn.ReLU()]
        else:
            layers = [nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU()]
        layers += [_lrn()] if lrn else []
        layers += [nn.MaxPool2d(kernel_size=3, stride=2),
                   nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU()]
        layers += [_lrn()] if lrn else []
        layers += [nn.MaxPool2d(kernel_size=3, stride=2),
                   nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(),
                   nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
                   nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(),
                   nn.MaxPool2d(kernel_size=3, stride=2)]
        self.features = nn.Sequential(*layers)
        pooled = (3, 3) if cifar else (6, 6)  # 32 -> 15 -> 7 -> 3 on CIFAR
        self.avgpool = nn.AdaptiveAvgPool2d(pooled)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * pooled[0] * pooled[1], hidden),
            nn.ReLU(),
            nn.Dropout(p=dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))  # (N, 256, 6, 6)
        return self.classifier(x.reshape(x.shape[0], -1))  # (N, 9216) -> (N, num_classes)


@register("alexnet", options=("dropout", "lrn", "hidden", "cifar"),
          input_shape=(3, 224, 224), dataset="imagenet", lecture=12)
def alexnet(num_classes: int = 1000, **options: Any) -> AlexNet:
    """AlexNet for ImageNet in torchvision's layout (61.1M parameters); ``lrn=True`` adds LRN."""
    return AlexNet(num_classes=num_classes, **options)


@register("alexnet_cifar", options=("dropout", "lrn", "hidden"),
          input_shape=(3, 32, 32), dataset="cifar10", lecture=12)
def alexnet_cifar(num_classes: int = 10, **options: Any) -> AlexNet:
    """AlexNet-style network for 32x32 CIFAR images (5x5/3x3 convs, 1024-unit classifier)."""
    return AlexNet(num_classes=num_classes, cifar=True, **options)
