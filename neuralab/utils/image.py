"""Image grids, as torchvision's ``make_grid`` and ``save_image``: a batch of images laid out on
one canvas, to look at what a data set holds or what a network produces."""

from __future__ import annotations

import math
import os
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp

__all__ = ["make_grid", "save_image"]


def _as_batch(images: Any) -> Any:
    """(N, C, H, W) float array from a Tensor/array (N, C, H, W), (C, H, W) or (H, W), or a list
    of (C, H, W) images; one channel is repeated to three, as torchvision does."""
    if isinstance(images, (list, tuple)):
        images = xp.stack([im.array if isinstance(im, Tensor) else xp.asarray(im)
                           for im in images])
    x = images.array if isinstance(images, Tensor) else xp.asarray(images)
    if x.ndim == 2:  # (H, W) -> (1, H, W)
        x = x[None]
    if x.ndim == 3:  # (C, H, W) -> (1, C, H, W)
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"make_grid: expected images (N, C, H, W), (C, H, W) or (H, W), got "
                         f"shape {tuple(x.shape)}")
    if x.shape[1] == 1:
        x = xp.concatenate([x, x, x], axis=1)
    return x


def make_grid(tensor: Any, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: tuple[float, float] | None = None, scale_each: bool = False,
              pad_value: float = 0.0) -> Tensor:
    """Lay a batch of images out on a grid, as ``torchvision.utils.make_grid``.

    Args:
        tensor: images (N, C, H, W) (Tensor or array), one image (C, H, W) or (H, W), or a list
            of (C, H, W) images. Grey images are repeated to three channels.
        nrow: images per row (the number of columns).
        padding: pixels between images and around the grid.
        normalize: shift and scale to [0, 1] by ``value_range`` (default: the min and max of
            the images, or of each image with ``scale_each``).
        value_range: (low, high) for ``normalize``; values outside are clipped.
        scale_each: normalise each image by its own min and max.
        pad_value: the value of the padding pixels.

    Returns:
        A Tensor (C, H', W') with H' = rows·(H + padding) + padding, W' = cols·(W + padding) +
        padding; a single image is returned alone, without padding.
    """
    if isinstance(nrow, bool) or not isinstance(nrow, int) or nrow < 1:
        raise ValueError(f"make_grid: nrow must be a positive integer, got {nrow!r}")
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ValueError(f"make_grid: padding must be a non-negative integer, got {padding!r}")
    x = _as_batch(tensor)
    if normalize:
        x = x.astype(xp.float32 if x.dtype.kind != "f" else x.dtype, copy=True)

        def scale(img: Any, low: float, high: float) -> Any:
            img = xp.clip(img, low, high)
            return (img - low) / max(high - low, 1e-5)

        if scale_each:
            x = xp.stack([scale(im, *(value_range or (float(im.min()), float(im.max()))))
                          for im in x])
        else:
            x = scale(x, *(value_range or (float(x.min()), float(x.max()))))
    N, C, H, W = x.shape
    if N == 1:
        return Tensor._from_op(xp.ascontiguousarray(x[0]), None, 0)
    cols = min(nrow, N)
    rows = math.ceil(N / cols)
    h, w = H + padding, W + padding
    grid = xp.full((C, rows * h + padding, cols * w + padding), pad_value, dtype=x.dtype)
    for k in range(N):
        r, c = divmod(k, cols)
        top, left = r * h + padding, c * w + padding
        grid[:, top:top + H, left:left + W] = x[k]
    return Tensor._from_op(grid, None, 0)


def save_image(tensor: Any, fp: str | os.PathLike | Any, format: str | None = None,
               **kwargs: Any) -> None:
    """Save images as one picture file (PNG, JPEG... by the name or ``format``), as
    ``torchvision.utils.save_image``: ``make_grid(tensor, **kwargs)``, values in [0, 1] scaled
    to 0-255 and rounded. Needs Pillow.

    Args:
        tensor: what ``make_grid`` takes.
        fp: a file name or a binary file object.
        format: the image format when ``fp`` is a file object (``"png"``).
        **kwargs: ``make_grid``'s options (``nrow``, ``padding``, ``normalize``...).
    """
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("save_image: writing image files needs Pillow; install it with "
                          "`pip install pillow`") from exc
    grid = make_grid(tensor, **kwargs).array
    # (C, H, W) in [0, 1] -> (H, W, C) uint8, rounded to nearest as torchvision does.
    pixels = xp.clip(grid * 255 + 0.5, 0, 255).astype(xp.uint8).transpose(1, 2, 0)
    if pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    Image.fromarray(xp.ascontiguousarray(pixels)).save(fp, format=format)
