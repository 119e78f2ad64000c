"""Specs of the pooling ops: kernel, stride, padding, dilation, ceil mode, count_include_pad."""

import numpy as np
import torch.nn.functional as TF

import neuralab as nl
from tests.ops.specs import OpSpec


def _distinct(rng, shapes):
    """Values at least 0.05 apart in random order: no ties, so the argmax is unambiguous."""
    (shape,) = shapes
    n = int(np.prod(shape))
    values = (rng.permutation(n) - n / 2) * 0.05 + rng.uniform(-0.01, 0.01, size=n)
    return [values.reshape(shape)]


def _max(shapes, **kw):
    return OpSpec("max_pool2d", lambda x: nl.max_pool2d(x, **kw),
                  lambda x: TF.max_pool2d(x, **kw), [(s,) for s in shapes], make=_distinct,
                  tags=(str(kw),))


def _max_indices(shapes, **kw):
    """The argmax positions compared with PyTorch's return_indices."""
    return OpSpec("max_pool2d",
                  lambda x: nl.max_pool2d(x, return_indices=True, **kw),
                  lambda x: TF.max_pool2d(x, return_indices=True, **kw),
                  [(s,) for s in shapes], make=_distinct, tags=("indices", str(kw)))


def _avg(shapes, **kw):
    return OpSpec("avg_pool2d", lambda x: nl.avg_pool2d(x, **kw),
                  lambda x: TF.avg_pool2d(x, **kw), [(s,) for s in shapes], tags=(str(kw),))


def _adaptive(name, shapes, size, make=None):
    fn, ref = getattr(nl, name), getattr(TF, name)
    return OpSpec(name, lambda x: fn(x, size), lambda x: ref(x, size), [(s,) for s in shapes],
                  make=make, tags=(str(size),))


SPECS = [
    _max([(2, 3, 4, 4), (1, 2, 5, 7), (2, 5, 4)], kernel_size=2),
    _max([(2, 2, 7, 7)], kernel_size=3, stride=2, padding=1),
    _max([(1, 2, 7, 6)], kernel_size=(3, 2), stride=(2, 1)),
    _max([(1, 2, 8, 8)], kernel_size=2, dilation=2, padding=1),
    _max([(2, 2, 7, 7), (1, 1, 6, 5)], kernel_size=3, stride=2, ceil_mode=True),
    _max([(1, 2, 5, 5)], kernel_size=2, stride=2, padding=1, ceil_mode=True),
    _max_indices([(2, 2, 6, 6)], kernel_size=3, stride=2, padding=1),
    _avg([(2, 3, 4, 4), (1, 2, 5, 7), (2, 5, 4)], kernel_size=2),
    _avg([(2, 2, 7, 7)], kernel_size=3, stride=2, padding=1),
    _avg([(2, 2, 7, 7)], kernel_size=3, stride=2, padding=1, count_include_pad=False),
    _avg([(1, 2, 7, 6)], kernel_size=(3, 2), stride=(2, 1), padding=(1, 0)),
    _avg([(2, 2, 6, 6), (1, 1, 5, 5)], kernel_size=3, stride=2, padding=1, ceil_mode=True),
    _avg([(1, 2, 6, 6)], kernel_size=3, stride=2, padding=1, ceil_mode=True,
         count_include_pad=False),
    _avg([(1, 2, 4, 5)], kernel_size=2, stride=1, divisor_override=3),
    _adaptive("adaptive_avg_pool2d", [(2, 3, 5, 5), (1, 2, 7, 4)], 1),
    _adaptive("adaptive_avg_pool2d", [(2, 2, 7, 5), (1, 2, 6, 6), (3, 5, 4)], (3, 2)),
    _adaptive("adaptive_avg_pool2d", [(1, 2, 5, 6)], (None, 4)),
    _adaptive("adaptive_max_pool2d", [(2, 2, 7, 5), (1, 2, 6, 6), (3, 5, 4)], (3, 2),
              make=_distinct),
    _adaptive("adaptive_max_pool2d", [(1, 2, 5, 6)], 1, make=_distinct),
]
