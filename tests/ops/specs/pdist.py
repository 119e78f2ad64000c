"""Specs of torch.pdist (the distances between the rows of one matrix)."""

import torch

import neuralab.nn.functional as F
from tests.ops.specs import OpSpec


def _pdist(p, shapes):
    return OpSpec("pdist", lambda x: F.pdist(x, p), lambda x: torch.pdist(x, p), shapes)


SPECS = [
    *[_pdist(p, [((4, 3),), ((2, 5),), ((5, 1),)]) for p in (2.0, 1.0, 3.0, 0.5)],
    _pdist(float("inf"), [((4, 3),)]),
    _pdist(0.0, [((4, 3),)]),
    _pdist(2.0, [((1, 3),)]),  # one row: no pairs
]
