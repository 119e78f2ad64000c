"""PyTorch's window functions (``torch.hann_window``...), the tapers of spectral analysis.

With ``periodic=True`` (the default) a window of length N is the symmetric window of length N + 1
without its last sample (what a DFT of length N expects). For the symmetric window of length N
and n = 0..N−1:

* Hann: ½ − ½ cos(2πn / (N−1));  Hamming: α − β cos(2πn / (N−1)) (α = 0.54, β = 0.46);
* Blackman: 0.42 − 0.5 cos(2πn / (N−1)) + 0.08 cos(4πn / (N−1));
* Bartlett: 1 − |2n / (N−1) − 1|;
* Kaiser: I₀(β √(1 − (2n / (N−1) − 1)²)) / I₀(β).
"""

from __future__ import annotations

from typing import Any

from neuralab import dtypes
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp

__all__ = ["bartlett_window", "blackman_window", "hamming_window", "hann_window",
           "kaiser_window"]


def _make(op: str, window_length: int, periodic: bool, dtype: Any, requires_grad: bool,
          formula: Any) -> Tensor:
    if isinstance(window_length, bool) or not isinstance(window_length, (int, xp.integer)):
        raise TypeError(f"{op}: window_length must be an integer, got {window_length!r}")
    if window_length < 0:
        raise RuntimeError(f"{op} requires non-negative window_length, got "
                           f"window_length={window_length}")
    np_dtype = dtypes.as_numpy(dtype, op) if dtype is not None else dtypes.get_default_dtype().dtype
    if xp.dtype(np_dtype).kind != "f":
        raise RuntimeError(f"{op} expects floating point dtypes, got: {dtypes.of(np_dtype)}")
    if window_length <= 1:
        values = xp.ones(window_length)
    else:
        n_points = window_length + 1 if periodic else window_length
        n = xp.arange(n_points, dtype=xp.float64)
        values = formula(n, n_points - 1)[:window_length]
    out = Tensor._from_op(xp.asarray(values, dtype=np_dtype), None, 0)
    return out.requires_grad_(True) if requires_grad else out


def hann_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """The Hann window ½ − ½ cos(2πn / (N−1))."""
    return _make("hann_window", window_length, periodic, dtype, requires_grad,
                 lambda n, m: 0.5 - 0.5 * xp.cos(2 * xp.pi * n / m))


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype: Any = None, layout: Any = None,
                   device: Any = None, requires_grad: bool = False) -> Tensor:
    """The Hamming window α − β cos(2πn / (N−1))."""
    return _make("hamming_window", window_length, periodic, dtype, requires_grad,
                 lambda n, m: alpha - beta * xp.cos(2 * xp.pi * n / m))


def blackman_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                    layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """The Blackman window 0.42 − 0.5 cos(2πn / (N−1)) + 0.08 cos(4πn / (N−1))."""
    return _make("blackman_window", window_length, periodic, dtype, requires_grad,
                 lambda n, m: (0.42 - 0.5 * xp.cos(2 * xp.pi * n / m)
                               + 0.08 * xp.cos(4 * xp.pi * n / m)))


def bartlett_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                    layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """The Bartlett (triangular) window 1 − |2n / (N−1) − 1|."""
    return _make("bartlett_window", window_length, periodic, dtype, requires_grad,
                 lambda n, m: 1 - xp.abs(2 * n / m - 1))


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *,
                  dtype: Any = None, layout: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
    """The Kaiser window I₀(β √(1 − (2n / (N−1) − 1)²)) / I₀(β)."""
    return _make("kaiser_window", window_length, periodic, dtype, requires_grad,
                 lambda n, m: xp.i0(beta * xp.sqrt(xp.clip(1 - (2 * n / m - 1) ** 2, 0, None)))
                 / xp.i0(beta))
