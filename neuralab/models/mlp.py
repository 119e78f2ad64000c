"""The multilayer perceptron (Lectures 3-5): fully connected layers with a nonlinearity between.

h₁ = φ(W₁x + b₁), h₂ = φ(W₂h₁ + b₂), ..., y = W_L h_{L-1} + b_L (the logits; the softmax is
folded into the cross-entropy loss). With hidden=(256, 256) on MNIST it has
784·256 + 256 + 256·256 + 256 + 256·10 + 10 = 269,322 parameters and reaches about 98% test
accuracy in 10 epochs of SGD with momentum.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neuralab import nn
from neuralab.models.registry import register

__all__ = ["MLP", "mlp"]

_ACTIVATIONS = {
    "relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "gelu": "GELU",
    "leaky_relu": "LeakyReLU", "elu": "ELU", "softplus": "Softplus",
}


class MLP(nn.Module):
    """A multilayer perceptron on flattened inputs.

    Args:
        in_features: size of the flattened input (784 for 28x28 images).
        hidden: sizes of the hidden layers, e.g. (256, 256); () gives softmax regression.
        num_classes: number of outputs (logits).
        activation: nonlinearity between layers: relu, tanh, sigmoid, gelu, leaky_relu, elu,
            softplus.
        dropout: probability of zeroing each hidden unit during training (0 disables it).

    Shapes: input (N, *) with prod(*) == in_features -> logits (N, num_classes).
    """

    def __init__(self, in_features: int = 784, hidden: Sequence[int] = (256, 256),
                 num_classes: int = 10, activation: str = "relu", dropout: float = 0.0):
        super().__init__()
        if isinstance(hidden, int):
            hidden = (hidden,)
        hidden = tuple(int(h) for h in hidden)
        if in_features < 1 or num_classes < 1 or any(h < 1 for h in hidden):
            raise ValueError(f"MLP: in_features, hidden sizes and num_classes must be positive, "
                             f"got {in_features}, {hidden}, {num_classes}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"MLP: unknown activation {activation!r}; choose one of "
                             f"{', '.join(_ACTIVATIONS)}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MLP: dropout must be in [0, 1), got {dropout}")
        self.in_features, self.hidden, self.num_classes = in_features, hidden, num_classes
        act = getattr(nn, _ACTIVATIONS[activation])
        layers: list[Any] = [nn.Flatten()]
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), act()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Any) -> Any:
        return self.layers(x)


@register("mlp", options=("in_features", "hidden", "activation", "dropout"),
          input_shape=(1, 28, 28), dataset="mnist", lecture="Lectures 3-5")
def mlp(num_classes: int = 10, in_features: int = 784, hidden: Sequence[int] = (256, 256),
        activation: str = "relu", dropout: float = 0.0) -> MLP:
    """Multilayer perceptron, 784-256-256-10 with ReLU by default."""
    return MLP(in_features, hidden, num_classes, activation, dropout)
