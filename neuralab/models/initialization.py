"""Weight initialisations of the ImageNet architectures, as their papers and torchvision use them.

He et al. (2015) initialisation keeps the variance of the activations constant through ReLU
layers: w ~ N(0, 2 / fan), here with fan = fan-out = C_out·kh·kw as torchvision does. Draws go
straight into the parameter arrays in float32 (a 138M-parameter VGG initialises in about a second).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from neuralab.backend import rng, xp
from neuralab.nn.conv import Conv2d
from neuralab.nn.linear import Linear
from neuralab.nn.norm import BatchNorm2d

__all__ = ["init_resnet_style", "init_vgg_style", "init_googlenet_style", "normal_fill"]


def normal_fill(param: Any, std: float, truncate: float | None = None) -> None:
    """Fill ``param`` in place with N(0, std²) float32 draws (optionally resampled to |w| <= a)."""
    draws = rng().standard_normal(param.array.shape, dtype=xp.float32)
    if truncate is not None:  # resample the (rare) draws beyond ±truncate standard deviations
        bad = xp.abs(draws) > truncate
        while bad.any():
            draws[bad] = rng().standard_normal(int(bad.sum()), dtype=xp.float32)
            bad = xp.abs(draws) > truncate
    draws *= xp.float32(std)
    param.array[...] = draws


def _fill_bn(module: BatchNorm2d, gamma: float = 1.0) -> None:
    if module.weight is not None:  # None when affine=False
        module.weight.array[...] = gamma
        module.bias.array[...] = 0


def _he_fan_out(conv: Any) -> None:
    """w ~ N(0, 2 / fan_out), fan_out = C_out·kh·kw; bias 0 (He et al., 2015, as torchvision)."""
    c_out, _, kh, kw = conv.weight.shape
    normal_fill(conv.weight, math.sqrt(2.0 / (c_out * kh * kw)))
    if conv.bias is not None:
        conv.bias.array[...] = 0


def init_resnet_style(model: Any, zero_norms: Iterable[BatchNorm2d] = ()) -> None:
    """Convs: He normal with fan-out; BN: γ = 1, β = 0, except γ = 0 for the BNs in
    ``zero_norms`` (each residual block's last BN under ``zero_init_residual``, which the model
    that knows its blocks names); Linear layers keep their default init."""
    for m in model.modules():
        if type(m) is Conv2d:
            _he_fan_out(m)
        elif type(m) is BatchNorm2d:
            _fill_bn(m)
    for norm in zero_norms:
        _fill_bn(norm, 0.0)


def init_vgg_style(model: Any) -> None:
    """Convs: He normal fan-out, bias 0; BN 1/0; Linear: N(0, 0.01²), bias 0 (torchvision)."""
    for m in model.modules():
        if type(m) is Conv2d:
            _he_fan_out(m)
        elif type(m) is BatchNorm2d:
            _fill_bn(m)
        elif type(m) is Linear:
            normal_fill(m.weight, 0.01)
            if m.bias is not None:
                m.bias.array[...] = 0


def init_googlenet_style(model: Any) -> None:
    """Convs and Linear: N(0, 0.01²) truncated at ±2σ (torchvision); BN 1/0."""
    for m in model.modules():
        if type(m) in (Conv2d, Linear):
            normal_fill(m.weight, 0.01, truncate=2.0)
            if m.bias is not None:
                m.bias.array[...] = 0
        elif type(m) is BatchNorm2d:
            _fill_bn(m)
