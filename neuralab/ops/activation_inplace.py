"""In-place activations (PyTorch's ``F.relu_``, ``F.elu_``, ``torch.selu_``...): x = f(x) written
into x's own memory.

Each is recorded like ``x.add_``: inside a graph the op runs on a snapshot of the old values and
x takes over the result's history (PyTorch "rebases" x), so x̄_old = z̄ ⊙ f′(x_old), the gradient
of the out-of-place f. As in PyTorch, a leaf that requires grad refuses (wrap the update in
``no_grad()``), and the tensor itself is returned.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.ops.activation import celu, hardtanh, selu, threshold
from neuralab.ops.elementwise import elu, leaky_relu, relu
from neuralab.ops.stochastic import check_rrelu_bounds, rrelu

__all__ = [
    "relu_", "elu_", "leaky_relu_", "hardtanh_", "selu_", "celu_", "threshold_", "rrelu_",
]


def apply_inplace(name: str, x: Any, fn: Any) -> Tensor:
    """``x = fn(x)`` in x's memory (recorded in the graph as an in-place op); returns x."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor to modify in place, got {type(x).__name__}")
    return x._inplace(name, fn)


def relu_(input: Tensor) -> Tensor:  # noqa: A002  (PyTorch's names)
    """max(0, x), in place."""
    return apply_inplace("relu_", input, relu)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """x for x > 0, α(eˣ − 1) otherwise, in place."""
    return apply_inplace("elu_", input, lambda old: elu(old, alpha))


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:  # noqa: A002
    """x for x > 0, ``negative_slope`` · x otherwise, in place."""
    return apply_inplace("leaky_relu_", input, lambda old: leaky_relu(old, negative_slope))


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:  # noqa: A002
    """x clipped into [min_val, max_val], in place."""
    if min_val > max_val:
        raise ValueError(f"hardtanh_: min_val ({min_val}) must not exceed max_val ({max_val})")
    return apply_inplace("hardtanh_", input, lambda old: hardtanh(old, min_val, max_val))


def selu_(input: Tensor) -> Tensor:  # noqa: A002
    """The scaled ELU, in place."""
    return apply_inplace("selu_", input, selu)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """max(0, x) + min(0, α(e^(x/α) − 1)), in place."""
    if alpha == 0:
        raise ValueError("celu_: alpha must not be 0 (it divides x)")
    return apply_inplace("celu_", input, lambda old: celu(old, alpha))


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:  # noqa: A002
    """x where x > ``threshold``, else ``value``, in place."""
    return apply_inplace("threshold_", input,
                         lambda old: _threshold(old, threshold, value))


_threshold = threshold


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,  # noqa: A002
           training: bool = False) -> Tensor:
    """Randomized leaky ReLU (see :func:`~neuralab.ops.stochastic.rrelu`), in place."""
    check_rrelu_bounds("rrelu_", lower, upper)
    return apply_inplace("rrelu_", input, lambda old: rrelu(old, lower, upper, training))
