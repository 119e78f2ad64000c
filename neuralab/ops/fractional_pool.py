"""Fractional max pooling (Graham, 2014): max pooling whose stride is a fraction, e.g. √2.

Ordinary 2×2 max pooling halves the resolution at every layer, so only a few such layers fit in a
network. Fractional max pooling shrinks an axis of length n to any o < n: with a k-wide window and
α = (n − k)/(o − 1), the window starts of one axis are the pseudo-random sequence

    start_i = ⌊(i + u)·α⌋ − ⌊u·α⌋   (i = 0 … o − 2),   start_{o−1} = n − k,

one u ~ U[0, 1) per example, channel and axis (PyTorch's ``_random_samples``, shape (N, C, 2) or
(N, C, 3), the last axis listed width first: (u_w, u_h) and (u_t, u_h, u_w) as PyTorch stores them).
The steps between starts are ⌊α⌋ or ⌈α⌉, mixed at random, so the pooling regions overlap and
vary from sample to sample: a regulariser, like dropout, on top of the subsampling.

z[n, c, y, x] = max over the k_h×k_w window at (start_y, start_x) of x[n, c]; the backward pass
routes z̄ to the element that won (the first maximum in row-major order), as max pooling does
(Lecture 12). The returned indices are flat positions y·W + x (t·H·W + y·W + x in 3-d) in each
input plane, as PyTorch's.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import rng, xp
from neuralab.ops._checks import require_float
from neuralab.ops.pool3d import to_winners

__all__ = [
    "fractional_max_pool2d", "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d", "fractional_max_pool3d_with_indices",
]


def _starts(u: Any, n: int, o: int, k: int) -> Any:
    """Window starts (N, C, o) along one axis from the samples u (N, C), in u's dtype as
    PyTorch computes them: ⌊(i + u)α⌋ − ⌊uα⌋, and n − k for the last window."""
    starts = xp.empty(u.shape + (o,), dtype=xp.int64)
    if o > 1:
        alpha = u.dtype.type(n - k) / u.dtype.type(o - 1)
        i = xp.arange(o - 1, dtype=u.dtype)
        starts[..., :-1] = (xp.trunc((i + u[..., None]) * alpha).astype(xp.int64)
                            - xp.trunc(u * alpha).astype(xp.int64)[..., None])
    starts[..., -1] = n - k
    return starts


class FractionalMaxPool(Function):
    """z = max of x over the windows whose starts come from the random samples (2-d or 3-d).

    Backward: x̄[argmax] += z̄ (the windows may overlap, so one element can win several).
    """

    @staticmethod
    def check(x, *, kernel, out, samples, op):
        require_float(op, "input", x)

    @staticmethod
    def forward(ctx, x, *, kernel, out, samples, op):
        N, C, *size = x.shape
        dims = len(size)
        # samples[..., j] drives axis order (w, h) in 2-d and (t, h, w) in 3-d, as PyTorch's.
        axis_sample = (1, 0) if dims == 2 else (0, 1, 2)
        pos = []  # per axis: (N, C, o, k) positions of the window taps
        for a in range(dims):
            s = _starts(samples[..., axis_sample[a]].astype(x.dtype), size[a], out[a], kernel[a])
            pos.append(s[..., None] + xp.arange(kernel[a]))
        # Broadcast to (N, C, o_0, …, o_{d−1}, k_0, …, k_{d−1}) and gather.
        flat = xp.zeros((N, C) + tuple(out) + tuple(kernel), dtype=xp.int64)
        for a in range(dims):
            shape = [N, C] + [1] * dims + [1] * dims
            shape[2 + a], shape[2 + dims + a] = out[a], kernel[a]
            stride = int(xp.prod(size[a + 1:], dtype=xp.int64)) if a + 1 < dims else 1
            flat = flat + pos[a].reshape(shape) * stride
        flat = flat.reshape((N, C) + tuple(out) + (-1,))
        plane = x.reshape(N, C, -1)
        values = xp.take_along_axis(plane, flat.reshape(N, C, -1), axis=2).reshape(flat.shape)
        # The first maximum in row-major order wins, as PyTorch's strict ">" scan.
        win = values.argmax(axis=-1)[..., None]
        z = xp.take_along_axis(values, win, axis=-1)[..., 0]
        indices = xp.take_along_axis(flat, win, axis=-1)[..., 0]
        ctx.indices, ctx.shape = indices, x.shape
        return z, indices

    @staticmethod
    def backward(ctx, dout, _dindices):
        return (to_winners(dout, ctx.indices, ctx.shape),)


def _as_tuple(op: str, name: str, value: Any, dims: int) -> tuple:
    if isinstance(value, (tuple, list)):
        if len(value) not in (1, dims):
            raise ValueError(f"{op}: {name} must be a number or a tuple of {dims}, got {value!r}")
        value = tuple(value) * (dims if len(value) == 1 else 1)
    else:
        value = (value,) * dims
    return value


def _positive_ints(op: str, name: str, value: Any, dims: int) -> tuple[int, ...]:
    value = _as_tuple(op, name, value, dims)
    if not all(isinstance(v, (int, xp.integer)) and not isinstance(v, bool) and v >= 1
               for v in value):
        raise ValueError(f"{op}: {name} must be positive ints, got {value!r}")
    return tuple(int(v) for v in value)


def _fractional_max_pool(dims: int, input: Any, kernel_size: Any, output_size: Any,  # noqa: A002
                         output_ratio: Any, _random_samples: Any) -> tuple[Tensor, Tensor]:
    op = f"fractional_max_pool{dims}d"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (dims + 1, dims + 2):
        raise ValueError(f"{op}: input must be {dims + 2}-d (N, C, ...) or {dims + 1}-d "
                         f"(C, ...) with {dims} spatial dimensions, got shape "
                         f"{tuple(input.shape)}")
    if 0 in tuple(input.shape):
        raise ValueError(f"{op}: input must be non-empty, got shape {tuple(input.shape)}")
    unbatched = input.ndim == dims + 1
    x = input.unsqueeze(0) if unbatched else input
    size = tuple(x.shape[2:])
    kernel = _positive_ints(op, "kernel_size", kernel_size, dims)
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        ratio = _as_tuple(op, "output_ratio", output_ratio, dims)
        if not all(isinstance(r, (int, float)) and not isinstance(r, bool) and 0 < r < 1
                   for r in ratio):
            raise ValueError(f"{op}: output_ratio must be between 0 and 1 (got {output_ratio!r})")
        out = tuple(int(n * r) for n, r in zip(size, ratio))
    else:
        out = _positive_ints(op, "output_size", output_size, dims)
    names = ("height", "width") if dims == 2 else ("time", "height", "width")
    # PyTorch's bounds: o + k − 1 <= n in 2-d, strictly below n in 3-d.
    limit = 0 if dims == 2 else 1
    for name, n, o, k in zip(names, size, out, kernel):
        if o + k - 1 > n - limit:
            rel = "<=" if dims == 2 else "<"
            raise ValueError(f"{op}: pool {name} {k} too large relative to input {name} {n} "
                             f"for output {name} {o} (need output + kernel − 1 {rel} input)")
    N, C = x.shape[:2]
    if _random_samples is None:
        samples = rng().random((N, C, dims)).astype(x.dtype)
    else:
        samples = (_random_samples.array if isinstance(_random_samples, Tensor)
                   else xp.asarray(_random_samples))
        if samples.shape != (N, C, dims):
            raise ValueError(f"{op}: _random_samples must have shape (N, C, {dims}) = "
                             f"{(N, C, dims)}, got {tuple(samples.shape)}")
    z, indices = FractionalMaxPool.apply(x, kernel=kernel, out=out, samples=samples, op=op)
    if unbatched:
        z, indices = z.squeeze(0), indices.squeeze(0)
    return z, indices


def fractional_max_pool2d_with_indices(
        input: Tensor, kernel_size: Any, output_size: Any = None,  # noqa: A002
        output_ratio: Any = None, return_indices: bool = False,
        _random_samples: Any = None) -> tuple[Tensor, Tensor]:
    """Fractional max pooling over k_h×k_w windows, with the argmax positions (always a pair).

    Args:
        input: (N, C, H, W) or (C, H, W).
        kernel_size: window size, an int or (k_h, k_w).
        output_size: (o_h, o_w) or an int; or instead
        output_ratio: o = ⌊n · ratio⌋ per axis, ratio in (0, 1).
        return_indices: accepted for PyTorch's signature (the pair is returned either way).
        _random_samples: (N, C, 2) samples u in [0, 1) (width's first); drawn from neuralab's
            generator when omitted.

    Returns:
        (output (N, C, o_h, o_w), indices y·W + x int64).
    """
    return _fractional_max_pool(2, input, kernel_size, output_size, output_ratio,
                                _random_samples)


def fractional_max_pool2d(input: Tensor, kernel_size: Any, output_size: Any = None,  # noqa: A002
                          output_ratio: Any = None, return_indices: bool = False,
                          _random_samples: Any = None) -> Tensor | tuple[Tensor, Tensor]:
    """Fractional max pooling, as ``torch.nn.functional.fractional_max_pool2d`` (see
    :func:`fractional_max_pool2d_with_indices`); the pair (output, indices) when
    ``return_indices``."""
    z, indices = _fractional_max_pool(2, input, kernel_size, output_size, output_ratio,
                                      _random_samples)
    return (z, indices) if return_indices else z


def fractional_max_pool3d_with_indices(
        input: Tensor, kernel_size: Any, output_size: Any = None,  # noqa: A002
        output_ratio: Any = None, return_indices: bool = False,
        _random_samples: Any = None) -> tuple[Tensor, Tensor]:
    """Fractional max pooling over k_t×k_h×k_w windows, with the argmax positions.

    Args:
        input: (N, C, T, H, W) or (C, T, H, W).
        kernel_size: an int or (k_t, k_h, k_w).
        output_size: (o_t, o_h, o_w) or an int; or instead
        output_ratio: o = ⌊n · ratio⌋ per axis, ratio in (0, 1).
        return_indices: accepted for PyTorch's signature (the pair is returned either way).
        _random_samples: (N, C, 3) samples u in [0, 1) for (t, h, w); drawn from neuralab's
            generator when omitted.

    Returns:
        (output (N, C, o_t, o_h, o_w), indices t·H·W + y·W + x int64).
    """
    return _fractional_max_pool(3, input, kernel_size, output_size, output_ratio,
                                _random_samples)


def fractional_max_pool3d(input: Tensor, kernel_size: Any, output_size: Any = None,  # noqa: A002
                          output_ratio: Any = None, return_indices: bool = False,
                          _random_samples: Any = None) -> Tensor | tuple[Tensor, Tensor]:
    """Fractional max pooling, as ``torch.nn.functional.fractional_max_pool3d`` (see
    :func:`fractional_max_pool3d_with_indices`)."""
    z, indices = _fractional_max_pool(3, input, kernel_size, output_size, output_ratio,
                                      _random_samples)
    return (z, indices) if return_indices else z

