"""Specs of F.normalize, F.cosine_similarity and F.pairwise_distance."""


import torch
import torch.nn.functional as TF

import neuralab.nn.functional as F
from tests.ops.specs import OpSpec


def _normalize(p, dim, shapes):
    return OpSpec("normalize", lambda x: F.normalize(x, p=p, dim=dim),
                  lambda x: TF.normalize(x, p=p, dim=dim), shapes)


def _distance(p, keepdim, shapes):
    return OpSpec("pairwise_distance", lambda a, b: F.pairwise_distance(a, b, p, keepdim=keepdim),
                  lambda a, b: TF.pairwise_distance(a, b, p, keepdim=keepdim), shapes)


def _with_tiny_row(rng, shapes):
    """A row far below eps (the clamp is active there: no gradient through its norm)."""
    x = rng.uniform(-2, 2, shapes[0])
    x.reshape(-1, x.shape[-1])[0] *= 1e-14
    return [x]


SPECS = [
    *[_normalize(p, dim, [((3, 4),), ((2, 3, 4),), ((1, 1),), ((0, 3),)])
      for p in (2.0, 1.0, 3.0) for dim in (1, -1)],
    _normalize(2.0, 0, [((4,),), ((3, 2),)]),
    OpSpec("normalize", F.normalize, TF.normalize, [((3, 4),)], make=_with_tiny_row,
           gradcheck=False),  # the clamp's kink is within the finite-difference step
    OpSpec("normalize", lambda x: F.normalize(x, p=float("inf"), dim=1),
           lambda x: TF.normalize(x, p=float("inf"), dim=1), [((3, 4),)]),
    OpSpec("cosine_similarity", F.cosine_similarity, TF.cosine_similarity,
           [((3, 4), (3, 4)), ((3, 4), (1, 4)), ((2, 3, 4), (3, 4)), ((1, 1), (1, 1))]),
    OpSpec("cosine_similarity", lambda a, b: F.cosine_similarity(a, b, dim=-1, eps=1e-6),
           lambda a, b: TF.cosine_similarity(a, b, dim=-1, eps=1e-6),
           [((3, 4), (3, 4)), ((5,), (5,)), ((2, 0, 3), (2, 0, 3))]),
    *[_distance(p, keepdim, [((3, 4), (3, 4)), ((3, 4), (1, 4)), ((5,), (5,)), ((2, 3, 4), (4,))])
      for p in (2.0, 1.0, 3.0) for keepdim in (False, True)],
    _distance(float("inf"), False, [((3, 4), (3, 4))]),
]



def _cdist(p, shapes):
    return OpSpec("cdist", lambda a, b: F.cdist(a, b, p), lambda a, b: torch.cdist(a, b, p),
                  shapes)


SPECS += [
    *[_cdist(p, [((3, 4), (2, 4)), ((2, 3, 4), (2, 5, 4)), ((2, 3, 4), (5, 4)), ((1, 1), (1, 1))])
      for p in (2.0, 1.0, 3.0)],
    _cdist(float("inf"), [((3, 4), (2, 4))]),
]
