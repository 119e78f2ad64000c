"""Specs of the *_with_indices forms of max pooling and of max_unpool1d/2d/3d.

max_unpool's inputs are the pooled values and int64 indices, distinct within each plane (PyTorch
leaves unspecified which value lands where two indices coincide)."""

import numpy as np
import torch.nn.functional as TF

import neuralab as nl
from tests.ops.specs import OpSpec
from tests.ops.specs.pool import _distinct


def _with_indices(name, shapes, *args, **kw):
    ours, theirs = getattr(nl, name), getattr(TF, name)
    return OpSpec(name, lambda x: ours(x, *args, **kw), lambda x: theirs(x, *args, **kw),
                  [(s,) for s in shapes], make=_distinct, tags=(str(args), str(kw)))


def _tuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def _indices_into(n, kernel, stride, padding, output_size):
    """make() for (values, indices) with n spatial dims: indices distinct within each plane and
    within the plane of the unpooled output (its default size, or output_size)."""
    def make(rng, shapes):
        values, index_shape = shapes
        size = index_shape[-n:]
        if output_size is None:
            k, s, p = _tuple(kernel, n), _tuple(stride or kernel, n), _tuple(padding, n)
            out = [(m - 1) * si - 2 * pi + ki for m, ki, si, pi in zip(size, k, s, p)]
        else:
            out = list(output_size)[-n:]
        per_plane, plane = int(np.prod(size)), int(np.prod(out))
        planes = int(np.prod(index_shape)) // per_plane
        idx = rng.permuted(np.tile(np.arange(plane), (planes, 1)), axis=1)[:, :per_plane]
        return [rng.uniform(-2, 2, size=values), idx.reshape(index_shape).astype(np.int64)]
    return make


def _unpool(name, shapes, kernel, stride=None, padding=0, output_size=None):
    ours, theirs = getattr(nl, name), getattr(TF, name)
    kw = dict(stride=stride, padding=padding, output_size=output_size)
    return OpSpec(name, lambda y, i: ours(y, i, kernel, **kw),
                  lambda y, i: theirs(y, i, kernel, **kw), [(s, s) for s in shapes],
                  make=_indices_into(int(name[-2]), kernel, stride, padding, output_size),
                  tags=(str(kernel), str(kw)))


SPECS = [
    _with_indices("max_pool1d_with_indices", [(2, 3, 7), (3, 6)], 3, stride=2, padding=1),
    _with_indices("max_pool2d_with_indices", [(2, 2, 5, 6), (2, 5, 4)], 2, ceil_mode=True),
    _with_indices("max_pool3d_with_indices", [(1, 2, 4, 5, 4)], 2, stride=(1, 2, 2),
                  dilation=(2, 1, 1)),
    _with_indices("adaptive_max_pool1d_with_indices", [(2, 3, 7), (3, 6)], 3),
    _with_indices("adaptive_max_pool2d_with_indices", [(2, 2, 5, 6)], (3, None)),
    _with_indices("adaptive_max_pool3d_with_indices", [(1, 2, 4, 5, 4)], 2),
    # max_unpool(values, indices, kernel_size, stride, padding, output_size)
    _unpool("max_unpool1d", [(2, 3, 4), (3, 4)], 2),
    _unpool("max_unpool1d", [(2, 2, 3)], 3, stride=2, padding=1, output_size=[4]),
    _unpool("max_unpool2d", [(2, 2, 2, 3), (3, 2, 3)], 2),
    _unpool("max_unpool2d", [(1, 2, 3, 4)], 3, stride=2, padding=1, output_size=(1, 2, 5, 7)),
    _unpool("max_unpool3d", [(1, 2, 2, 2, 3), (2, 2, 1, 2)], 2),
    _unpool("max_unpool3d", [(1, 2, 2, 3, 2)], (3, 2, 2), stride=(2, 2, 2), padding=(1, 0, 0),
            output_size=(4, 6, 4)),
]
