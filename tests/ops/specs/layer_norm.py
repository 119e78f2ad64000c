"""Specs of layer_norm: one and several normalized dimensions, with and without γ/β."""

import torch.nn.functional as TF

import neuralab as nl
from tests.ops.specs import OpSpec


def _spec(shapes, normalized_shape, affine=True, eps=1e-5):
    D = len(normalized_shape)
    if affine:
        cases = [(s, tuple(s[-D:]), tuple(s[-D:])) for s in shapes]
        return OpSpec("layer_norm",
                      lambda x, w, b: nl.layer_norm(x, normalized_shape, w, b, eps=eps),
                      lambda x, w, b: TF.layer_norm(x, normalized_shape, w, b, eps=eps), cases,
                      tags=(f"normalized_shape={normalized_shape}", "affine"))
    return OpSpec("layer_norm", lambda x: nl.layer_norm(x, normalized_shape, eps=eps),
                  lambda x: TF.layer_norm(x, normalized_shape, eps=eps), [(s,) for s in shapes],
                  tags=(f"normalized_shape={normalized_shape}", "no affine"))


SPECS = [
    _spec([(4, 6), (3, 2, 6)], (6,)),
    _spec([(2, 3, 4), (2, 2, 3, 4)], (3, 4)),
    _spec([(5, 7)], (7,), affine=False, eps=1e-3),
    _spec([(2, 3, 2, 2)], (3, 2, 2), affine=False),
]
