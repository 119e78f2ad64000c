"""Specs of F.interpolate (every mode, size and scale_factor, align_corners) and the 1-d pools."""

import numpy as np
import torch.nn.functional as TF

import neuralab.nn.functional as F
from tests.ops.specs import OpSpec


def _resize(mode, shapes, **kw):
    return OpSpec("interpolate", lambda x: F.interpolate(x, mode=mode, **kw),
                  lambda x: TF.interpolate(x, mode=mode, **kw), shapes)


_1D, _2D, _3D = [((2, 3, 5),), ((1, 1, 1),)], [((1, 2, 4, 5),), ((2, 1, 1, 3),)], \
    [((1, 2, 3, 4, 2),)]
SPECS = [
    *[_resize(mode, shapes, **kw)
      for mode, shapes in (("nearest", _1D + _2D + _3D), ("nearest-exact", _1D + _2D),
                           ("area", _1D + _2D + _3D))
      for kw in (dict(size=7), dict(size=3), dict(scale_factor=2), dict(scale_factor=1.7))],
    *[_resize(mode, shapes[:1], scale_factor=0.6, recompute_scale_factor=recompute)
      for mode, shapes in (("nearest", _1D), ("nearest", _2D), ("nearest", _3D), ("area", _2D))
      for recompute in (None, True)],
    *[_resize(mode, shapes, align_corners=corners, **kw)
      for mode, shapes in (("linear", _1D), ("bilinear", _2D), ("bicubic", _2D),
                           ("trilinear", _3D))
      for corners in (False, True)
      for kw in (dict(size=7), dict(size=2), dict(scale_factor=2.5),
                 dict(scale_factor=1.5, recompute_scale_factor=True))],
    *[_resize(mode, shapes[:1], align_corners=False, scale_factor=0.7)
      for mode, shapes in (("linear", _1D), ("bilinear", _2D), ("bicubic", _2D))],
    _resize("bilinear", [((1, 2, 3, 4),)], size=(5, 2)),
    _resize("nearest", [((1, 2, 3, 4),)], scale_factor=(2, 0.5)),
    _resize("bilinear", [((1, 2, 2, 2),)], size=1, align_corners=True),
    OpSpec("upsample", lambda x: F.upsample(x, scale_factor=2, mode="bilinear"),
           lambda x: TF.interpolate(x, scale_factor=2, mode="bilinear"), [((1, 2, 3, 3),)]),
    OpSpec("upsample_nearest", lambda x: F.upsample_nearest(x, size=(5, 4)),
           lambda x: TF.interpolate(x, size=(5, 4), mode="nearest"), [((1, 2, 3, 3),)]),
    OpSpec("upsample_bilinear", lambda x: F.upsample_bilinear(x, scale_factor=2),
           lambda x: TF.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True),
           [((1, 2, 3, 3),)]),
]


def _distinct(rng, shapes):
    """Values at least 0.1 apart: max pooling has a unique winner (no tie, no kink)."""
    return [rng.permutation(int(np.prod(s))).reshape(s) * 0.1 - 1.0 + rng.uniform(0, 0.01, s)
            for s in shapes]


def _adaptive(name, n, **kw):
    return OpSpec(name, lambda x: getattr(F, name)(x, n, **kw),
                  lambda x: getattr(TF, name)(x, n, **kw), _SEQ[:2], make=_distinct)


_SEQ = [((2, 3, 9),), ((3, 8),), ((1, 1, 4),)]
SPECS += [
    OpSpec("max_pool1d", lambda x: F.max_pool1d(x, 2), lambda x: TF.max_pool1d(x, 2), _SEQ,
           make=_distinct),
    OpSpec("max_pool1d", lambda x: F.max_pool1d(x, 3, stride=2, padding=1, ceil_mode=True),
           lambda x: TF.max_pool1d(x, 3, stride=2, padding=1, ceil_mode=True), _SEQ[:2],
           make=_distinct),
    OpSpec("max_pool1d", lambda x: F.max_pool1d(x, (2,), dilation=2, return_indices=True),
           lambda x: TF.max_pool1d(x, (2,), dilation=2, return_indices=True), _SEQ[:2],
           make=_distinct),
    OpSpec("avg_pool1d", lambda x: F.avg_pool1d(x, 2), lambda x: TF.avg_pool1d(x, 2), _SEQ),
    OpSpec("avg_pool1d", lambda x: F.avg_pool1d(x, 3, 2, 1, count_include_pad=False),
           lambda x: TF.avg_pool1d(x, 3, 2, 1, count_include_pad=False), _SEQ[:2]),
    OpSpec("avg_pool1d", lambda x: F.avg_pool1d(x, 4, 3, ceil_mode=True),
           lambda x: TF.avg_pool1d(x, 4, 3, ceil_mode=True), _SEQ[:2]),
    *[_adaptive("adaptive_avg_pool1d", n) for n in (1, 4, 9)],
    *[_adaptive("adaptive_max_pool1d", n, return_indices=True) for n in (1, 4, 5)],
]
