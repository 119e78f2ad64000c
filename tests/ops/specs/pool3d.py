"""Specs of the 3-d pools: kernel, stride, padding, dilation, ceil mode, count_include_pad,
divisor_override, adaptive sizes with None, indices, unbatched input."""

import torch.nn.functional as TF

import neuralab as nl
from tests.ops.specs import OpSpec
from tests.ops.specs.pool import _distinct


def _spec(name, shapes, *args, make=None, **kw):
    ours, theirs = getattr(nl, name), getattr(TF, name)
    return OpSpec(name, lambda x: ours(x, *args, **kw), lambda x: theirs(x, *args, **kw),
                  [(s,) for s in shapes], make=make, tags=(str(args), str(kw)))


SPECS = [
    _spec("max_pool3d", [(2, 2, 4, 4, 4), (2, 3, 5, 4)], 2, make=_distinct),
    _spec("max_pool3d", [(1, 2, 5, 6, 5)], (3, 2, 3), stride=(2, 1, 2), padding=(1, 1, 0),
          dilation=(1, 2, 1), return_indices=True, make=_distinct),
    _spec("max_pool3d", [(1, 2, 5, 4, 6)], 3, stride=2, padding=1, ceil_mode=True,
          return_indices=True, make=_distinct),
    _spec("avg_pool3d", [(2, 2, 4, 4, 4), (2, 3, 5, 4)], 2),
    _spec("avg_pool3d", [(1, 2, 5, 4, 5)], 3, stride=2, padding=1),
    _spec("avg_pool3d", [(1, 2, 5, 6, 4)], 3, stride=2, padding=1, ceil_mode=True,
          count_include_pad=False),
    _spec("avg_pool3d", [(1, 2, 6, 5, 5)], 3, stride=2, padding=1, ceil_mode=True),
    _spec("avg_pool3d", [(1, 2, 3, 4, 5)], (2, 1, 3), stride=1, divisor_override=4),
    _spec("adaptive_avg_pool3d", [(2, 2, 5, 4, 6), (2, 4, 3, 5)], (3, 2, 4)),
    _spec("adaptive_avg_pool3d", [(1, 2, 4, 5, 3)], (None, 2, 1)),
    _spec("adaptive_avg_pool3d", [(2, 3, 3, 4, 2)], 1),
    _spec("adaptive_max_pool3d", [(2, 2, 5, 4, 6), (2, 4, 3, 5)], (3, 2, 4),
          return_indices=True, make=_distinct),
    _spec("adaptive_max_pool3d", [(1, 2, 4, 5, 3)], (None, 2, 1), make=_distinct),
]
