"""Specs of F.affine_grid and F.grid_sample (4-d inputs; every mode, padding and corner
convention). Grid locations are drawn in [−1.3, 1.3], so some fall outside the image; bilinear
sampling is piecewise linear in the grid, and random locations stay away from its kinks (the
pixel centres) by far more than the finite-difference step."""

import torch.nn.functional as TF

import neuralab.nn.functional as F
from tests.ops.specs import OpSpec


def _affine(size, align, shapes):
    return OpSpec("affine_grid", lambda t: F.affine_grid(t, size, align_corners=align),
                  lambda t: TF.affine_grid(t, size, align_corners=align), shapes)


def _sample(mode, padding, align):
    return OpSpec("grid_sample",
                  lambda x, g: F.grid_sample(x, g, mode, padding, align),
                  lambda x, g: TF.grid_sample(x, g, mode, padding, align),
                  [((2, 3, 4, 5), (2, 3, 2, 2)), ((1, 1, 3, 3), (1, 4, 1, 2))],
                  low=-1.3, high=1.3, grad_inputs=None if mode == "bilinear" else (0,))


SPECS = [
    _affine((2, 3, 4, 5), False, [((2, 2, 3),)]),
    _affine((2, 3, 4, 5), True, [((2, 2, 3),)]),
    _affine((1, 1, 3, 1), False, [((1, 2, 3),)]),
    _affine((2, 1, 2, 3, 4), False, [((2, 3, 4),)]),
    _affine((2, 1, 2, 3, 4), True, [((2, 3, 4),)]),
    *[_sample(mode, padding, align) for mode in ("bilinear", "nearest")
      for padding in ("zeros", "border", "reflection") for align in (False, True)],
]
