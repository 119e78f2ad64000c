"""Specs of lp_pool1d/2d/3d: p = 1, 2, 3 and non-integer, strides, ceil mode, unbatched input.

Inputs are positive (x^p of a negative x with a non-integer p is nan, in both libraries) and away
from zero (the root's slope is infinite at an all-zero window)."""

import torch.nn.functional as TF

import neuralab as nl
from tests.ops.specs import OpSpec


def _spec(name, shapes, *args, low=0.2, **kw):
    ours, theirs = getattr(nl, name), getattr(TF, name)
    return OpSpec(name, lambda x: ours(x, *args, **kw), lambda x: theirs(x, *args, **kw),
                  [(s,) for s in shapes], low=low, high=2.0, tags=(str(args), str(kw)))


SPECS = [
    _spec("lp_pool1d", [(2, 3, 7), (3, 6)], 2, 3),
    _spec("lp_pool1d", [(2, 2, 8)], 1.5, 3, stride=2, ceil_mode=True),
    _spec("lp_pool1d", [(2, 2, 6)], 2, 2, low=-2.0),  # an even p takes signed input
    _spec("lp_pool2d", [(2, 2, 5, 6), (2, 4, 4)], 2, 2),
    _spec("lp_pool2d", [(1, 2, 7, 6)], 3, (3, 2), stride=(2, 1), ceil_mode=True),
    _spec("lp_pool2d", [(1, 2, 4, 5)], 1, 2, stride=1),
    _spec("lp_pool3d", [(1, 2, 4, 4, 4), (2, 3, 4, 5)], 2, 2),
    _spec("lp_pool3d", [(1, 2, 5, 4, 5)], 2.5, (3, 2, 2), stride=(2, 1, 2), ceil_mode=True),
]
