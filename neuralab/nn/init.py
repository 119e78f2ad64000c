"""Weight initialization (Lectures 5 and 7): the scale of the initial weights decides whether
activations and gradients keep their size through many layers.

Every function fills a tensor in place, without recording a graph, and returns it, as in
PyTorch (``nn.init.kaiming_normal_(layer.weight, nonlinearity='relu')``).

The variance-preserving rules: for a layer with ``fan_in`` inputs per unit and ``fan_out`` outputs,

* Glorot & Bengio (2010), "Understanding the difficulty of training deep feedforward neural
  networks": Var(w) = gain² · 2 / (fan_in + fan_out), a compromise between keeping the forward
  activations (Var = 1/fan_in) and the backward gradients (Var = 1/fan_out) at constant scale;
* He, Zhang, Ren & Sun (2015), "Delving deep into rectifiers": Var(w) = gain² / fan, with
  gain² = 2 for ReLU, because a ReLU zeroes half of its inputs and so halves the variance.

A uniform U(−b, b) has variance b²/3, hence the bounds b = √3 · std below.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import as_rng, xp

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "zeros_", "ones_", "constant_",
    "eye_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
    "orthogonal_", "spectral_normal_", "dirac_", "sparse_",
    # PyTorch's deprecated names without the underscore (they warn, then call the new one)
    "uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
    "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse",
]

_LINEAR_LIKE = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (the factor on the standard deviation).

    linear, conv and sigmoid: 1; tanh: 5/3; relu: √2; leaky_relu with negative slope a:
    √(2 / (1 + a²)) (a = 0.01 by default); selu: 3/4.

    Args:
        nonlinearity: the name, as in PyTorch.
        param: the negative slope for 'leaky_relu'.
    """
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one "
                     f"of {', '.join(_LINEAR_LIKE + ('tanh', 'relu', 'leaky_relu', 'selu'))}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: (out, in) for Linear, (out, in, kH, kW) for Conv2d.

    For a convolution each unit sees in·kH·kW inputs (its receptive field times the input
    channels) and sends to out·kH·kW outputs.
    """
    if tensor.ndim < 2:
        raise ValueError(f"init: fan in and fan out cannot be computed for a tensor with fewer "
                         f"than 2 dimensions (shape {tensor.shape}); biases use uniform_ or zeros_")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor: Tensor, values: Any) -> Tensor:
    """Write ``values`` into the tensor's array in place (no graph), keeping its dtype."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init: expected a Tensor (e.g. layer.weight), got {type(tensor).__name__}")
    tensor.array[...] = values
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with U(a, b).

    Every function here that draws takes ``generator=`` (a ``neuralab.Generator``, as
    PyTorch's ``torch.Generator``): the draws then come from it and neuralab's global generator
    (``manual_seed``) is left as it was; without it they come from the global one.
    """
    if a > b:
        raise ValueError(f"uniform_: the lower bound a={a} exceeds the upper bound b={b}")
    return _fill(tensor, as_rng(generator).uniform(a, b, size=tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Any = None) -> Tensor:
    """Fill with N(mean, std²)."""
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    return _fill(tensor, as_rng(generator).normal(mean, std, size=tensor.shape))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Any = None) -> Tensor:
    """Fill with N(mean, std²) redrawn until every value lies in [a, b]."""
    if a >= b:
        raise ValueError(f"trunc_normal_: need a < b, got a={a}, b={b}")
    gen = as_rng(generator)
    values = gen.normal(mean, std, size=tensor.shape)
    bad = (values < a) | (values > b)
    while bad.any():  # the expected number of rounds is tiny for the usual [-2σ, 2σ]
        values[bad] = gen.normal(mean, std, size=int(bad.sum()))
        bad = (values < a) | (values > b)
    return _fill(tensor, values)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return _fill(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return _fill(tensor, 1)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    return _fill(tensor, val)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-d tensor with the identity (ones on the diagonal)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only 2-d tensors are supported, got shape {tensor.shape}")
    return _fill(tensor, xp.eye(*tensor.shape))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """Glorot & Bengio (2010): U(−b, b) with b = gain·√(6 / (fan_in + fan_out)), so
    Var(w) = gain² · 2 / (fan_in + fan_out)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """Glorot & Bengio (2010): N(0, std²) with std = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator: Any = None) -> Tensor:
    """He et al. (2015): U(−b, b) with b = gain·√(3 / fan), so Var(w) = gain² / fan.

    Args:
        tensor: the weight.
        a: negative slope of the leaky ReLU that follows (0 for ReLU).
        mode: 'fan_in' keeps the forward activations' variance, 'fan_out' the gradients'.
        nonlinearity: the nonlinearity's name for ``calculate_gain`` ('relu', 'leaky_relu').
        generator: a ``neuralab.Generator`` to draw from (default: the global generator).
    """
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: Any = None) -> Tensor:
    """He et al. (2015): N(0, std²) with std = gain / √fan (std = √(2/fan_in) for ReLU).

    Args: as :func:`kaiming_uniform_`.
    """
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2014): W Wᵀ = gain²·I when
    rows ≤ columns. Dimensions after the first are flattened, so conv weights work too.

    Orthogonal matrices keep every singular value at 1, so repeated multiplication (deep or
    recurrent networks, Lecture 15) neither explodes nor vanishes at initialization.
    """
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, "
                         f"got shape {tensor.shape}")
    rows = tensor.shape[0]
    cols = tensor.array.size // rows
    flat = as_rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    q *= xp.sign(xp.diag(r))  # makes the distribution uniform over orthogonal matrices
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.shape))


def spectral_normal_(tensor: Tensor, radius: float = 1.0, generator: Any = None) -> Tensor:
    """A square matrix drawn from N(0, 1/n) and rescaled so that its spectral radius, the
    largest |eigenvalue|, is ``radius`` (the recurrent weights W_hh of Lecture 15).

    Backpropagation through time multiplies the gradient by W_hhᵀ diag(φ'(z_t)) once per step,
    so ρ(W_hh) < 1 makes ‖∂L/∂h_t‖ shrink geometrically going back in time and ρ(W_hh) > 1 lets
    it grow (necessary, not sufficient: saturated units shrink it again). A Gaussian n × n
    matrix with variance 1/n has ρ ≈ 1 (the circular law); the rescaling sets it exactly.

    Args:
        tensor: a square 2-d weight (n, n), e.g. ``rnn.weight_hh_l0``.
        radius: the spectral radius wanted (positive).
        generator: a ``neuralab.Generator`` (or NumPy ``Generator``) to draw from (default:
            neuralab's global one, ``manual_seed``).
    """
    if tensor.ndim != 2 or tensor.shape[0] != tensor.shape[1]:
        raise ValueError(f"spectral_normal_: needs a square 2-d tensor, got shape {tensor.shape}")
    if not radius > 0:
        raise ValueError(f"spectral_normal_: radius must be positive, got {radius}")
    n = tensor.shape[0]
    w = as_rng(generator).standard_normal((n, n)) / math.sqrt(n)  # float64: eigvals exact
    return _fill(tensor, w * (radius / float(xp.abs(xp.linalg.eigvals(w)).max())))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-d convolution weight with the Dirac delta: each output channel copies
    one input channel through the kernel's centre, so the convolution is the identity (on the
    first min(out, in) channels of each of ``groups`` groups). Deep convolutional nets
    initialised this way start as the identity map.
    """
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only tensors with 3, 4, or 5 dimensions are supported, got "
                         f"shape {tensor.shape}")
    out_channels = tensor.shape[0]
    if groups <= 0 or out_channels % groups:
        raise ValueError(f"dirac_: dim 0 must be divisible by groups (size {out_channels}, "
                         f"groups={groups})")
    per_group = out_channels // groups
    values = xp.zeros(tensor.shape)
    centre = tuple(size // 2 for size in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(per_group, tensor.shape[1])):
            values[(g * per_group + d, d) + centre] = 1
    return _fill(tensor, values)


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator: Any = None) -> Tensor:
    """Martens (2010): N(0, std²) with a fraction ``sparsity`` of each column set to zero
    (⌈sparsity · rows⌉ entries, chosen at random per column), for a 2-d weight.

    Args:
        tensor: a 2-d weight.
        sparsity: the fraction of each column to zero.
        std: the standard deviation of the non-zero values.
        generator: a ``neuralab.Generator`` or NumPy ``Generator`` (default: neuralab's global
            one, ``manual_seed``).
    """
    if tensor.ndim != 2:
        raise ValueError(f"sparse_: only tensors with 2 dimensions are supported, got shape "
                         f"{tensor.shape}")
    gen = as_rng(generator)
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    values = gen.normal(0.0, std, size=(rows, cols))
    for col in range(cols):
        values[gen.permutation(rows)[:num_zeros], col] = 0
    return _fill(tensor, values)


def _deprecated(new: Callable[..., Tensor]) -> Callable[..., Tensor]:
    old_name = new.__name__[:-1]

    def deprecated_init(*args: Any, **kwargs: Any) -> Tensor:
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of "
                      f"`nn.init.{new.__name__}`.", FutureWarning, stacklevel=2)
        return new(*args, **kwargs)

    deprecated_init.__name__ = deprecated_init.__qualname__ = old_name
    deprecated_init.__doc__ = f"Deprecated: use :func:`{new.__name__}` (same arguments)."
    return deprecated_init


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
