"""Specs of fractional max pooling: fixed ``_random_samples`` (so the windows are PyTorch's),
output_size and output_ratio, rectangular kernels, indices, unbatched input, 2-d and 3-d."""

import numpy as np
import torch
import torch.nn.functional as TF

import neuralab as nl
from tests.ops.specs import OpSpec
from tests.ops.specs.pool import _distinct


def _samples(shape, dims, seed):
    """(N, C, dims) samples in [0, 1), the same for both libraries."""
    n_c = shape[:2] if len(shape) == dims + 2 else (1, shape[0])
    return np.random.default_rng(seed).random(n_c + (dims,))


def _spec(name, shapes, dims, *args, seed=0, **kw):
    ours, theirs = getattr(nl, name), getattr(TF, name)
    specs = []
    for shape in shapes:
        u = _samples(shape, dims, seed)
        specs.append(OpSpec(
            name,
            lambda x, u=u: ours(x, *args, _random_samples=nl.tensor(u, dtype=nl.float64), **kw),
            lambda x, u=u: theirs(x, *args, _random_samples=torch.tensor(u), **kw),
            [(shape,)], make=_distinct, tags=(str(args), str(kw), str(shape))))
    return specs


SPECS = [
    *_spec("fractional_max_pool2d", [(2, 3, 7, 8), (2, 9, 7)], 2, 2, output_size=(4, 5)),
    *_spec("fractional_max_pool2d", [(1, 2, 9, 10)], 2, (3, 2), output_ratio=(0.5, 0.7),
           return_indices=True, seed=1),
    *_spec("fractional_max_pool2d_with_indices", [(2, 2, 6, 6)], 2, 2, output_size=5, seed=2),
    *_spec("fractional_max_pool3d", [(1, 2, 6, 7, 5), (2, 5, 6, 7)], 3, 2, output_size=(3, 4, 2)),
    *_spec("fractional_max_pool3d", [(2, 2, 7, 6, 8)], 3, (2, 3, 1), output_ratio=0.5,
           return_indices=True, seed=3),
    *_spec("fractional_max_pool3d_with_indices", [(1, 2, 5, 5, 5)], 3, 2, output_size=3, seed=4),
]
