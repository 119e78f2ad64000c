"""Spatial transformers: ``F.affine_grid`` makes a sampling grid from affine matrices and
``F.grid_sample`` reads an image at the grid's (generally fractional) locations.

Grid coordinates are normalized: −1 and +1 are the left/top and right/bottom edges of the
image; with ``align_corners=True`` they are the centres of the corner pixels, with ``False``
the outer edges of the corner pixels. The pixel coordinate of g along a side of n pixels is
u = (g + 1)(n − 1)/2 (aligned) or u = ((g + 1) n − 1)/2.

Bilinear sampling mixes the four neighbours of (u, v) with the weights of the opposite
rectangle's area, z = Σ_corners w · x[corner]; the weights are piecewise linear in (u, v), so
ū = Σ_c z̄ (∂w/∂u) x[corner] and the same for v, times du/dg (the unnormalizing scale and, for
the 'border' and 'reflection' paddings, the clip's 0/1 and the reflection's ±1). Neighbours
outside the image read 0; x̄ scatters z̄ · w back to the corners that were read.
"""

from __future__ import annotations

import warnings
from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import require_float
from neuralab.ops.linalg import matmul
from neuralab.ops.shape import reshape, transpose

__all__ = ["affine_grid", "grid_sample"]

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False "
                  "since 1.3.0. Please specify align_corners=True if the old behavior is desired. "
                  "See the documentation of grid_sample for details.")


def _align(align_corners: bool | None) -> bool:
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=3)
        return False
    return bool(align_corners)


def _base_coordinates(n: int, align_corners: bool, dtype: Any) -> Any:
    """The normalized coordinates of the n pixel centres along one side."""
    if n <= 1:
        return xp.zeros((n,), dtype=dtype)
    g = xp.linspace(-1.0, 1.0, n)
    return (g if align_corners else g * (n - 1) / n).astype(dtype)


def affine_grid(theta: Tensor, size: Any, align_corners: bool | None = None) -> Tensor:
    """The sampling grid of a batch of affine maps: grid[n, h, w] = θₙ · (x_w, y_h, 1) for the
    normalized pixel coordinates of an output of ``size`` (N, C, H, W) (θ: (N, 2, 3); grid:
    (N, H, W, 2), x first), or (N, C, D, H, W) (θ: (N, 3, 4); grid (N, D, H, W, 3)).

    Built from a matrix product, whose gradient gives θ̄.
    """
    op = "affine_grid"
    if not isinstance(theta, Tensor):
        raise TypeError(f"{op}: theta must be a Tensor, got {type(theta).__name__}")
    require_float(op, "theta", theta)
    size = tuple(int(s) for s in size)
    if len(size) == 4:
        rows, what = 2, "2D affine matrices of shape Nx2x3"
    elif len(size) == 5:
        rows, what = 3, "3D affine matrices of shape Nx3x4"
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {list(size)}.")
    if theta.ndim != 3 or theta.shape[1:] != (rows, rows + 1):
        raise ValueError(f"Expected a batch of {what} for size {list(size)}. Got "
                         f"{list(theta.shape)}.")
    if theta.shape[0] != size[0]:
        raise ValueError(f"affine_grid: theta has {theta.shape[0]} matrices but size asks for a "
                         f"batch of {size[0]}")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {list(size)}")
    align = _align(align_corners)
    spatial = size[2:]
    if align and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids "
                      "when align_corners=True. This is not an intended use case of affine_grid. "
                      "See the documentation of affine_grid for details.", UserWarning,
                      stacklevel=2)  # (H, W) or (D, H, W)
    axes = [_base_coordinates(n, align, theta.dtype) for n in spatial]
    mesh = xp.meshgrid(*axes, indexing="ij")  # one array per spatial axis, slowest first
    base = xp.stack([*reversed(mesh), xp.ones(spatial, dtype=theta.dtype)], axis=-1)
    base = Tensor._from_op(base.reshape(1, -1, rows + 1), None, 0)
    grid = matmul(base, transpose(theta, 1, 2))  # (N, H·W, rows)
    return reshape(grid, (size[0], *spatial, rows))


# --------------------------------------------------------------------------- grid_sample
def _clip(u: Any, n: int) -> tuple[Any, Any]:
    """u clipped into [0, n − 1] and du_clipped/du (0 on the borders too, as PyTorch)."""
    return xp.clip(u, 0, n - 1), ((u > 0) & (u < n - 1)).astype(u.dtype)


def _reflect(u: Any, twice_low: int, twice_high: int) -> tuple[Any, Any]:
    """u reflected into [twice_low/2, twice_high/2] and its derivative (±1)."""
    if twice_low == twice_high:
        return xp.zeros_like(u), xp.zeros_like(u)
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    u = u - low
    sign = xp.where(u < 0, -1.0, 1.0)
    u = xp.abs(u)
    extra = xp.fmod(u, span)
    even = xp.floor(u / span) % 2 == 0
    return (xp.where(even, extra + low, span - extra + low),
            xp.where(even, sign, -sign).astype(u.dtype))


def _source(g: Any, n: int, padding: str, align: bool) -> tuple[Any, Any]:
    """Pixel coordinates of the normalized g along a side of n pixels, and du/dg."""
    if align:
        u, du = (g + 1) / 2 * (n - 1), (n - 1) / 2
    else:
        u, du = ((g + 1) * n - 1) / 2, n / 2
    du = xp.full_like(g, du)
    if padding == "border":
        u, d = _clip(u, n)
        du = du * d
    elif padding == "reflection":
        u, d1 = _reflect(u, 0, 2 * (n - 1)) if align else _reflect(u, -1, 2 * n - 1)
        u, d2 = _clip(u, n)
        du = du * d1 * d2
    return u, du


class GridSample2d(Function):
    """z[n, c, i, j] = Σ_corners w · x[n, c, corner] at the source (u, v) of grid[n, i, j].

    Bilinear: with (u₀, v₀) = ⌊(u, v)⌋, wx = u − u₀, wy = v − v₀ the weights are
    (1 − wx)(1 − wy), wx(1 − wy), (1 − wx)wy, wx·wy; ū = Σ_c z̄ ((1 − wy)(x_ne − x_nw) +
    wy(x_se − x_sw)), v̄ = Σ_c z̄ ((1 − wx)(x_sw − x_nw) + wx(x_se − x_ne)), each times du/dg.
    Nearest: the pixel round(u, v) (half to even), no gradient for the grid. Corners outside
    the image read 0 and receive no gradient.
    """

    @staticmethod
    def forward(ctx, x, grid, mode="bilinear", padding_mode="zeros", align_corners=False):
        n, c, h, w = x.shape
        u, du = _source(grid[..., 0], w, padding_mode, align_corners)
        v, dv = _source(grid[..., 1], h, padding_mode, align_corners)
        batch = xp.arange(n).reshape(n, 1, 1)
        xt = x.transpose(0, 2, 3, 1)  # (N, H, W, C)
        if mode == "nearest":
            corners = [(xp.rint(v), xp.rint(u), xp.ones_like(u))]
        else:
            u0, v0 = xp.floor(u), xp.floor(v)
            wx, wy = u - u0, v - v0
            corners = [(v0, u0, (1 - wx) * (1 - wy)), (v0, u0 + 1, wx * (1 - wy)),
                       (v0 + 1, u0, (1 - wx) * wy), (v0 + 1, u0 + 1, wx * wy)]
            ctx.fractions = wx, wy
        reads, values = [], []
        out = xp.zeros(grid.shape[:3] + (c,), dtype=x.dtype)
        for yy, xx, weight in corners:
            inside = (xx >= 0) & (xx < w) & (yy >= 0) & (yy < h)
            yi = xp.where(inside, yy, 0).astype(xp.int64)
            xi = xp.where(inside, xx, 0).astype(xp.int64)
            value = xt[batch, yi, xi] * inside[..., None]  # (N, Ho, Wo, C)
            out += weight[..., None] * value
            reads.append(((batch * h + yi) * w + xi, weight * inside))
            values.append(value)
        ctx.reads, ctx.values, ctx.derivatives = reads, values, (du, dv)
        ctx.shape, ctx.mode = x.shape, mode
        return out.transpose(0, 3, 1, 2).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dout):
        n, c, h, w = ctx.shape
        g = dout.transpose(0, 2, 3, 1)  # (N, Ho, Wo, C)
        dx = dgrid = None
        if ctx.needs_input_grad[0]:
            flat = xp.zeros((n * h * w, c), dtype=dout.dtype)
            for index, weight in ctx.reads:
                xp.add.at(flat, index.ravel(), (g * weight[..., None]).reshape(-1, c))
            dx = flat.reshape(n, h, w, c).transpose(0, 3, 1, 2)
        if ctx.needs_input_grad[1]:
            dgrid = xp.zeros(g.shape[:3] + (2,), dtype=dout.dtype)
            if ctx.mode == "bilinear":
                wx, wy = ctx.fractions
                nw, ne, sw, se = (xp.sum(g * value, axis=-1) for value in ctx.values)
                du, dv = ctx.derivatives
                dgrid[..., 0] = ((1 - wy) * (ne - nw) + wy * (se - sw)) * du
                dgrid[..., 1] = ((1 - wx) * (sw - nw) + wx * (se - ne)) * dv
        return dx, dgrid


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",  # noqa: A002
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """Sample ``input`` (N, C, H, W) at the normalized locations ``grid`` (N, Ho, Wo, 2) (x, y
    in [−1, 1]): the output is (N, C, Ho, Wo) (``F.grid_sample``, 4-D inputs).

    Args:
        input: the images.
        grid: the sampling locations; grid[..., 0] is x (the width), grid[..., 1] is y.
        mode: 'bilinear' (differentiable in the grid) or 'nearest'.
        padding_mode: what locations outside the image read: 'zeros', 'border' (the nearest
            edge pixel) or 'reflection' (the image mirrored at its edges).
        align_corners: whether ±1 are the centres (True) or the outer edges (False, the default
            since PyTorch 1.3; a warning when not given) of the corner pixels.
    """
    op = "grid_sample"
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if mode == "bicubic":
        raise NotImplementedError("grid_sample: mode='bicubic' is not implemented in neuralab; "
                                  "use 'bilinear' or 'nearest'")
    for name, t in (("input", input), ("grid", grid)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        require_float(op, name, t)
    if input.ndim == 5:
        raise NotImplementedError("grid_sample: 5-D (volumetric) inputs are not implemented in "
                                  "neuralab; only 4-D (N, C, H, W) inputs")
    if input.ndim != 4 or grid.ndim != 4:
        raise RuntimeError(f"grid_sample(): expected 4D input and grid with same number of "
                           f"dimensions, but got input with sizes {list(input.shape)} and grid "
                           f"with sizes {list(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sample(): expected grid and input to have same batch size, but "
                           f"got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if grid.shape[-1] != 2:
        raise RuntimeError(f"grid_sample(): expected grid to have size 2 in last dimension, but "
                           f"got grid with sizes {list(grid.shape)}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sample(): expected input and grid to have the same dtype, but "
                           f"input has {input.dtype} and grid has {grid.dtype}")
    if min(input.shape[2:]) <= 0:
        raise RuntimeError(f"grid_sample(): expected input to have non-empty spatial dimensions, "
                           f"but input has sizes {list(input.shape)}")
    return GridSample2d.apply(input, grid, mode=mode, padding_mode=padding_mode,
                              align_corners=_align(align_corners))
