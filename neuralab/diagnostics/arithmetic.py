"""The arithmetic of convolutional layers by hand, and the receptive field measured by backprop.

Lecture 11 walks a chain of square convolution and pooling layers with four formulas. For a layer
with kernel k, stride s and padding p on an n×n input with C_in channels (and C_out filters):

    output size      n' = ⌊(n + 2p − k) / s⌋ + 1
    receptive field  r' = r + (k − 1)·j        (r: the input's receptive field, j: its jump)
    jump             j' = j·s                  (input pixels between neighbouring units)
    parameters       (k²·C_in + 1)·C_out       (a convolution; pooling has none)
    multiply-adds    k²·C_in·C_out·n'²

``conv_arithmetic`` applies them to a list of layers, as a learner does on paper;
``diagnostics.summary`` finds the same numbers with hooks on a real model. The receptive field can
also be *measured*: the input pixels that influence one output unit are exactly those where the
gradient of that unit with respect to the input is non-zero (``gradient_receptive_field``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neuralab.autograd import Tensor
from neuralab.backend import default_float, xp
from neuralab.nn.module import Module

__all__ = ["conv_arithmetic", "gradient_receptive_field"]


def conv_arithmetic(layers: Sequence[tuple], size: int, in_channels: int) -> list[dict[str, Any]]:
    """Walk a chain of square layers with the formulas above.

    Args:
        layers: ``(name, kernel, stride, padding, out_channels)`` per layer, ``out_channels``
            None for a pooling layer (it keeps the channels and has no weights).
        size: the input's height and width n.
        in_channels: the input's channels C_in.

    Returns:
        One dict per layer: ``layer`` (its name), ``output`` (C, n', n'), ``receptive_field``,
        ``jump``, ``params`` and ``macs`` (0 for pooling).

    Example::

        >>> conv, pool = conv_arithmetic([("C1", 5, 1, 0, 6), ("S2", 2, 2, 0, None)], 32, 1)
        >>> conv["params"], conv["macs"], pool["output"], pool["receptive_field"], pool["jump"]
        (156, 117600, (6, 14, 14), 6, 2)
    """
    rows, n, c_in, r, j = [], int(size), int(in_channels), 1, 1
    for name, k, s, p, c_out in layers:
        n = (n + 2 * p - k) // s + 1
        if n < 1:
            raise ValueError(f"conv_arithmetic: layer {name!r} (kernel {k}, stride {s}, padding "
                             f"{p}) leaves no output on its input; the input is too small")
        r, j = r + (k - 1) * j, j * s
        conv = c_out is not None
        c_out = c_out if conv else c_in
        rows.append({"layer": name, "output": (c_out, n, n), "receptive_field": r, "jump": j,
                     "params": (k * k * c_in + 1) * c_out if conv else 0,
                     "macs": k * k * c_in * c_out * n * n if conv else 0})
        c_in = c_out
    return rows


def gradient_receptive_field(model: Module, input_shape: Sequence[int]) -> tuple[int, int]:
    """The receptive field of the centre output unit, measured by backpropagation.

    One input of ``input_shape`` (C, H, W), all ones, goes through ``model`` (whose output must be
    (1, C', H', W')); the centre unit of the first output channel is backpropagated, and the
    extent of the input pixels with a non-zero gradient is returned as (height, width). Weights of
    mixed signs can cancel by accident and make the measured field look smaller; set them
    positive to measure the architecture's field.

    Args:
        model: a convolutional Module.
        input_shape: (C, H, W) of one input, large enough to hold the whole field.

    Returns:
        (height, width) of the receptive field in input pixels.
    """
    if len(input_shape) != 3:
        raise ValueError(f"gradient_receptive_field: input_shape must be (C, H, W), got "
                         f"{tuple(input_shape)!r}")
    x = Tensor(xp.ones((1, *input_shape), dtype=default_float), requires_grad=True)
    y = model(x)
    if y.ndim != 4:
        raise ValueError(f"gradient_receptive_field: the model must output feature maps "
                         f"(1, C, H, W), got shape {y.shape}")
    y[0, 0, y.shape[2] // 2, y.shape[3] // 2].backward()
    touched = xp.abs(x.grad.array[0]).sum(axis=0) != 0  # (H, W): pixels that influence the unit
    rows, cols = xp.nonzero(touched.any(axis=1))[0], xp.nonzero(touched.any(axis=0))[0]
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
