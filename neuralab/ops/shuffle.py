"""Shuffles: pixel shuffle (sub-pixel convolution upsampling, Shi et al. 2016), its inverse pixel
unshuffle, and channel shuffle (ShuffleNet, Zhang et al. 2018).

Each is a fixed permutation of the input's numbers, so its backward is the inverse permutation
applied to ȳ: pixel shuffle's backward is pixel unshuffle and the reverse; channel shuffle with
g groups of C/g channels is undone by channel shuffle with C/g groups.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp

__all__ = ["pixel_shuffle", "pixel_unshuffle", "channel_shuffle"]


def check_factor(op: str, name: str, value: Any) -> int:
    """A positive int ``value`` (a factor or a number of groups), or an error naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, xp.integer)):
        raise TypeError(f"{op}: {name} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{op}: {name} must be positive, got {value}")
    return int(value)


def _to_space(a: Any, r: int) -> Any:
    """(*, C·r², H, W) -> (*, C, H·r, W·r): y[c, h·r + i, w·r + j] = x[c·r² + i·r + j, h, w]."""
    *lead, Cr2, H, W = a.shape
    C, k = Cr2 // (r * r), len(lead)
    a = a.reshape(*lead, C, r, r, H, W)
    perm = tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2)  # (*, C, H, r, W, r)
    return a.transpose(perm).reshape(*lead, C, H * r, W * r)


def _to_depth(a: Any, r: int) -> Any:
    """(*, C, H·r, W·r) -> (*, C·r², H, W), the inverse of ``_to_space``."""
    *lead, C, Hr, Wr = a.shape
    H, W, k = Hr // r, Wr // r, len(lead)
    a = a.reshape(*lead, C, H, r, W, r)
    perm = tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3)  # (*, C, r, r, H, W)
    return a.transpose(perm).reshape(*lead, C * r * r, H, W)


class PixelShuffle(Function):
    """y[..., c, h·r + i, w·r + j] = x[..., c·r² + i·r + j, h, w]: r² channels become an r × r
    block of pixels.   x̄ = pixel_unshuffle(ȳ, r)."""

    @staticmethod
    def check(x, *, factor):
        if x.ndim < 3:
            raise ValueError(f"pixel_shuffle: input must have at least 3 dimensions (*, C, H, W), "
                             f"got shape {tuple(x.shape)}")
        if x.shape[-3] % (factor * factor):
            raise ValueError(f"pixel_shuffle: the channel dimension must be divisible by "
                             f"upscale_factor² = {factor * factor}, got input shape "
                             f"{tuple(x.shape)} ({x.shape[-3]} channels)")

    @staticmethod
    def forward(ctx, x, *, factor):
        ctx.factor = factor
        return _to_space(x, factor)

    @staticmethod
    def backward(ctx, dy):
        return (_to_depth(dy, ctx.factor),)


class PixelUnshuffle(Function):
    """y[..., c·r² + i·r + j, h, w] = x[..., c, h·r + i, w·r + j]: each r × r block of pixels
    becomes r² channels.   x̄ = pixel_shuffle(ȳ, r)."""

    @staticmethod
    def check(x, *, factor):
        if x.ndim < 3:
            raise ValueError(f"pixel_unshuffle: input must have at least 3 dimensions "
                             f"(*, C, H, W), got shape {tuple(x.shape)}")
        for name, n in (("height", x.shape[-2]), ("width", x.shape[-1])):
            if n % factor:
                raise ValueError(f"pixel_unshuffle: the {name} ({n}) must be divisible by "
                                 f"downscale_factor={factor}, got input shape {tuple(x.shape)}")

    @staticmethod
    def forward(ctx, x, *, factor):
        ctx.factor = factor
        return _to_depth(x, factor)

    @staticmethod
    def backward(ctx, dy):
        return (_to_space(dy, ctx.factor),)


def _shuffle_channels(a: Any, groups: int) -> Any:
    """(N, g·k, ...) -> (N, k·g, ...): y[:, j·g + i] = x[:, i·k + j] (the transpose of g × k)."""
    N, C = a.shape[:2]
    rest = a.shape[2:]
    a = a.reshape(N, groups, C // groups, *rest)
    return a.swapaxes(1, 2).reshape(N, C, *rest)


class ChannelShuffle(Function):
    """y[:, j·g + i] = x[:, i·k + j] for g groups of k = C/g channels: the channels of each group
    are dealt out among all groups.   x̄ = the same shuffle with k groups (the inverse)."""

    @staticmethod
    def check(x, *, groups):
        if x.ndim < 3:
            raise ValueError(f"channel_shuffle: input must have more than 2 dimensions "
                             f"(N, C, *), got shape {tuple(x.shape)}")
        if x.shape[1] % groups:
            raise ValueError(f"channel_shuffle: the number of channels must be divisible by "
                             f"groups, got {x.shape[1]} channels (input shape {tuple(x.shape)}) "
                             f"and groups={groups}")

    @staticmethod
    def forward(ctx, x, *, groups):
        ctx.groups = groups
        return _shuffle_channels(x, groups)

    @staticmethod
    def backward(ctx, dy):
        return (_shuffle_channels(dy, dy.shape[1] // ctx.groups),)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:  # noqa: A002
    """Rearrange (*, C·r², H, W) into (*, C, H·r, W·r), as ``torch.nn.functional.pixel_shuffle``:
    the upsampling of sub-pixel convolution (a convolution producing r² channels per output
    channel, then this shuffle).

    Args:
        input: (*, C·r², H, W).
        upscale_factor: r.
    """
    factor = check_factor("pixel_shuffle", "upscale_factor", upscale_factor)
    return PixelShuffle.apply(input, factor=factor)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:  # noqa: A002
    """Rearrange (*, C, H·r, W·r) into (*, C·r², H, W), the inverse of ``pixel_shuffle``, as
    ``torch.nn.functional.pixel_unshuffle``.

    Args:
        input: (*, C, H·r, W·r).
        downscale_factor: r.
    """
    factor = check_factor("pixel_unshuffle", "downscale_factor", downscale_factor)
    return PixelUnshuffle.apply(input, factor=factor)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:  # noqa: A002
    """Interleave the channels of ``groups`` groups, as ``torch.nn.functional.channel_shuffle``:
    (N, C, *) with the channels seen as a (groups, C/groups) grid, transposed. ShuffleNet puts it
    between grouped convolutions so that information flows between the groups.

    Args:
        input: (N, C, *) with at least 3 dimensions, C divisible by ``groups``.
        groups: the number of groups.
    """
    return ChannelShuffle.apply(input, groups=check_factor("channel_shuffle", "groups", groups))
