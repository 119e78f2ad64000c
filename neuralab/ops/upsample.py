"""Resizing feature maps: nearest, linear, bicubic and area interpolation (``F.interpolate``).

Every mode is separable: along one spatial axis, each output position is a fixed weighted sum of
a few input positions. Written as a matrix M (out × in) per axis, resizing is y = M x along each
axis in turn, and the backward pass is x̄ = Mᵀ ȳ along the same axes in reverse order: the
transpose sends each output's gradient back to the inputs it was computed from, in proportion to
their weights. The modes differ only in M:

* nearest: one 1 per row, at src = floor(dst · scale) (PyTorch's rule, not rounding);
  nearest-exact: src = floor((dst + ½) · scale);
* linear: two weights 1 − λ and λ around src = (dst + ½) · scale − ½ (clamped at 0), or
  src = dst · (in − 1)/(out − 1) with align_corners;
* bicubic: four weights of Keys' cubic convolution (a = −0.75), indices clamped to the edge;
* area: the mean of the window [floor(i · in/out), ceil((i + 1) · in/out)), as adaptive
  average pooling.

``scale`` is in/out when an output size is given (or recompute_scale_factor=True), and
1/scale_factor when a scale factor is given, as in PyTorch.
"""

from __future__ import annotations

import math
from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_LINEAR_MODES = {"linear": 3, "bilinear": 4, "trilinear": 5, "bicubic": 4}


def _resize_matrix(mode: str, n_in: int, n_out: int, scale: float | None,
                   align_corners: bool) -> Any:
    """The (n_out, n_in) matrix M of one axis: y = M x along that axis."""
    m = xp.zeros((n_out, n_in))
    dst = xp.arange(n_out)
    rows = dst[:, None]
    if mode in ("nearest", "nearest-exact"):
        # PyTorch computes the scale and the source index in float32.
        s = xp.float32(1.0 / scale if scale else n_in / n_out)
        d = dst.astype(xp.float32) + (xp.float32(0.5) if mode == "nearest-exact" else 0)
        src = xp.minimum(xp.floor(d * s).astype(xp.int64), n_in - 1)
        m[dst, src] = 1.0
        return m
    if mode == "area":
        start = (dst * n_in) // n_out
        end = -((-(dst + 1) * n_in) // n_out)
        cols = xp.arange(n_in)[None, :]
        inside = (cols >= start[:, None]) & (cols < end[:, None])
        return inside / (end - start)[:, None]
    if align_corners:
        s = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        src = dst * s
    else:
        s = 1.0 / scale if scale else n_in / n_out
        src = (dst + 0.5) * s - 0.5
        if mode != "bicubic":
            src = xp.maximum(src, 0.0)
    base = xp.floor(src).astype(xp.int64)
    t = src - base
    if mode == "bicubic":
        a = -0.75

        def near(x: Any) -> Any:  # |x| <= 1
            return ((a + 2) * x - (a + 3)) * x * x + 1

        def far(x: Any) -> Any:  # 1 < |x| < 2
            return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

        weights = (far(t + 1), near(t), near(1 - t), far(2 - t))
        for k, w in enumerate(weights):
            xp.add.at(m, (rows[:, 0], xp.clip(base + k - 1, 0, n_in - 1)), w)
        return m
    i0 = xp.minimum(base, n_in - 1)
    i1 = xp.minimum(i0 + 1, n_in - 1)
    xp.add.at(m, (dst, i0), 1 - t)
    xp.add.at(m, (dst, i1), t)
    return m


def _along(a: Any, m: Any, axis: int) -> Any:
    """M applied along ``axis`` of a: out[..., i, ...] = Σ_j M[i, j] a[..., j, ...]."""
    moved = xp.moveaxis(a, axis, -1)  # (..., in)
    return xp.moveaxis(moved @ m.T, -1, axis)


class Resize(Function):
    """y = M_d … M_2 M_1 x, one interpolation matrix per spatial axis (see the module docstring).

    x̄ = M_1ᵀ M_2ᵀ … M_dᵀ ȳ: each axis's transpose, in reverse order.
    """

    @staticmethod
    def forward(ctx, x, matrices=()):
        ctx.matrices = matrices
        y = x
        for k, m in enumerate(matrices):
            y = _along(y, m.astype(x.dtype, copy=False), 2 + k)
        return xp.ascontiguousarray(y, dtype=x.dtype)

    @staticmethod
    def backward(ctx, dout):
        dx = dout
        for k in reversed(range(len(ctx.matrices))):
            m = ctx.matrices[k].astype(dout.dtype, copy=False)
            dx = _along(dx, m.T, 2 + k)
        return dx


def _per_dim(name: str, value: Any, dims: int) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != dims:
            raise ValueError(
                f"Input and {name} must have the same number of spatial dimensions, but got "
                f"input with spatial dimensions of {dims} and {name} of {list(value)}. Please "
                "provide input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, "
                "o2, ...,oK) format.")
        return list(value)
    return [value] * dims


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None,  # noqa: A002
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Resize (N, C, L), (N, C, H, W) or (N, C, D, H, W) input to ``size`` or by
    ``scale_factor`` (PyTorch's ``F.interpolate``).

    Args:
        input: a batch of 1-d, 2-d or 3-d feature maps.
        size: the output spatial size (int or one per spatial dim).
        scale_factor: multiplier(s) of the spatial size; output = floor(input · scale_factor).
        mode: 'nearest', 'nearest-exact', 'linear' (3-d input), 'bilinear' (4-d), 'bicubic'
            (4-d), 'trilinear' (5-d) or 'area'.
        align_corners: for the linear modes and bicubic: map the corner pixels' centres onto
            each other (True) or the corners of the pixel grid (False, the default).
        recompute_scale_factor: with a scale factor, interpolate as if the computed output
            size had been given (the scale in/out instead of 1/scale_factor).
        antialias: not supported (False only).

    The gradient is the transpose of the interpolation (see the module docstring).
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    if mode not in _MODES:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {x.ndim}D) for the modes: {', '.join(_MODES)} "
                                  f"(got {mode!r})")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if align_corners is not None and mode not in _LINEAR_MODES:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if x.ndim not in (3, 4, 5):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {x.ndim}D) for the modes: nearest | linear | bilinear | "
                                  f"bicubic | trilinear | area | nearest-exact (got {mode})")
    if mode in _LINEAR_MODES and _LINEAR_MODES[mode] != x.ndim:
        raise NotImplementedError(f"Got {x.ndim}D input, but {mode} mode needs "
                                  f"{_LINEAR_MODES[mode]}D input")
    if x.dtype.kind != "f":
        raise RuntimeError(f"interpolate: input must be floating point, got {x.dtype}")
    dims = x.ndim - 2
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined" if size is not None
                         else "either size or scale_factor should be defined")
    if size is not None:
        sizes = [int(s) for s in _per_dim("output size", size, dims)]
        scales: list = [None] * dims
    else:
        factors = [float(f) for f in _per_dim("scale_factor", scale_factor, dims)]
        sizes = [math.floor(n * f) for n, f in zip(x.shape[2:], factors)]
        scales = [None] * dims if recompute_scale_factor else factors
        if mode == "area":
            scales = [None] * dims
    if any(s <= 0 for s in sizes):
        raise RuntimeError(f"interpolate: the output size {sizes} must be greater than 0 in "
                           f"every spatial dimension (input {x.shape})")
    if any(n == 0 for n in x.shape[2:]):
        raise RuntimeError(f"interpolate: input {x.shape} has an empty spatial dimension")
    matrices = tuple(_resize_matrix(mode, n, s, f, bool(align_corners))
                     for n, s, f in zip(x.shape[2:], sizes, scales))
    return Resize.apply(x, matrices=matrices)


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None,  # noqa: A002
             mode: str = "nearest", align_corners: bool | None = None) -> Tensor:
    """The older name of :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:  # noqa: A002
    """Nearest-neighbour :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:  # noqa: A002
    """Bilinear :func:`interpolate` with align_corners=True (the old default)."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)

