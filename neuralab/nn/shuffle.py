"""Shuffle layers, as ``torch.nn.PixelShuffle``, ``torch.nn.PixelUnshuffle`` and
``torch.nn.ChannelShuffle`` (see ``neuralab.ops.shuffle``)."""

from __future__ import annotations

from neuralab.autograd.tensor import Tensor
from neuralab.nn.module import Module
from neuralab.ops.shuffle import channel_shuffle, check_factor, pixel_shuffle, pixel_unshuffle

__all__ = ["PixelShuffle", "PixelUnshuffle", "ChannelShuffle"]


class PixelShuffle(Module):
    """(*, C·r², H, W) -> (*, C, H·r, W·r): the upsampling of sub-pixel convolution.

    Args:
        upscale_factor: r.
    """

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = check_factor("PixelShuffle", "upscale_factor", upscale_factor)

    def forward(self, x: Tensor) -> Tensor:
        return pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H·r, W·r) -> (*, C·r², H, W), the inverse of ``PixelShuffle``.

    Args:
        downscale_factor: r.
    """

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = check_factor("PixelUnshuffle", "downscale_factor", downscale_factor)

    def forward(self, x: Tensor) -> Tensor:
        return pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Interleave the channels of ``groups`` groups (ShuffleNet): (N, C, *) with the channels seen
    as a (groups, C/groups) grid, transposed.

    Args:
        groups: the number of groups (it must divide the input's channels).
    """

    def __init__(self, groups: int):
        super().__init__()
        self.groups = check_factor("ChannelShuffle", "groups", groups)

    def forward(self, x: Tensor) -> Tensor:
        return channel_shuffle(x, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
