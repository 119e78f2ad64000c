"""LeNet-5 (LeCun et al., 1998; Lecture 12): the convolutional network that read cheques.

    conv 5×5 (6) → pool 2 → conv 5×5 (16) → pool 2 → fc 120 → fc 84 → fc 10

On 28×28 MNIST digits the first convolution pads by 2, so that the feature maps have the
sizes of the original 32×32 design: 28 → 28 → 14 → 10 → 5, and the first fully connected
layer sees 16·5·5 = 400 features. With ReLU and max pooling it has
(6·1·25 + 6) + (16·6·25 + 16) + (400·120 + 120) + (120·84 + 84) + (84·10 + 10) = 61,706
parameters and reaches about 99% test accuracy in a few epochs.

``classic=True`` restores the 1998 choices: tanh units and average-pooling subsampling.
"""

from __future__ import annotations

from typing import Any

from neuralab import nn
from neuralab.models.registry import register

__all__ = ["LeNet5", "lenet5"]

_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}
_POOLS = {"max": "MaxPool2d", "avg": "AvgPool2d"}


class LeNet5(nn.Module):
    """LeNet-5: two convolution + pooling stages and three fully connected layers.

    Args:
        num_classes: number of outputs (10 digits).
        in_channels: channels of the input images (1 for MNIST).
        activation: 'relu', 'tanh' or 'sigmoid'.
        pool: 'max' or 'avg'.
        classic: the 1998 network: tanh and average pooling (overrides the two above).
        padding: padding of the first convolution (2 for 28×28 inputs, 0 for 32×32).
        channels: (c1, c2), the feature maps of the two convolutions (6, 16).
        hidden: (h1, h2), the fully connected layers (120, 84).
        image_size: side of the (square) input, used to size the first linear layer.

    Attributes:
        features: Sequential of conv, activation, pool, conv, activation, pool.
        classifier: Sequential of Flatten, Linear, activation, Linear, activation, Linear.

    Shapes: (N, in_channels, image_size, image_size) -> logits (N, num_classes).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, activation: str = "relu",
                 pool: str = "max", classic: bool = False, padding: int = 2,
                 channels: tuple[int, int] = (6, 16), hidden: tuple[int, int] = (120, 84),
                 image_size: int = 28):
        super().__init__()
        if classic:
            activation, pool = "tanh", "avg"
        if activation not in _ACTIVATIONS:
            raise ValueError(f"LeNet5: activation must be one of {', '.join(_ACTIVATIONS)}, got "
                             f"{activation!r}")
        if pool not in _POOLS:
            raise ValueError(f"LeNet5: pool must be 'max' or 'avg', got {pool!r}")
        c1, c2 = channels
        side = (image_size + 2 * padding - 4) // 2  # conv 5x5 then pool 2
        side = (side - 4) // 2  # second conv 5x5 then pool 2
        if side < 1:
            raise ValueError(f"LeNet5: images of side {image_size} (padding {padding}) are too "
                             "small: two 5x5 convolutions and two 2x2 poolings need at least 12 "
                             "pixels after padding")
        act, pooling = getattr(nn, _ACTIVATIONS[activation]), getattr(nn, _POOLS[pool])
        self.activation, self.pool, self.num_classes = activation, pool, num_classes
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 5, padding=padding), act(), pooling(2),
            nn.Conv2d(c1, c2, 5), act(), pooling(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c2 * side * side, hidden[0]), act(),
            nn.Linear(hidden[0], hidden[1]), act(),
            nn.Linear(hidden[1], num_classes),
        )

    def forward(self, x: Any) -> Any:
        return self.classifier(self.features(x))


@register("lenet5", options=("in_channels", "activation", "pool", "classic", "padding",
                             "channels", "hidden", "image_size"),
          input_shape=(1, 28, 28), dataset="mnist")
def lenet5(num_classes: int = 10, **options: Any) -> LeNet5:
    """LeNet-5 for 28x28 MNIST digits (ReLU and max pooling; classic=True for tanh/avg)."""
    return LeNet5(num_classes=num_classes, **options)
