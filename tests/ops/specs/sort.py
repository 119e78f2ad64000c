"""Specs of sorting and order statistics (ops/sort.py)."""

import numpy as np
import torch

import neuralab as nl
from tests.ops.specs import OpSpec

SHAPES = [((5,),), ((3, 4),), ((2, 3, 4),), ((1,),), ((),)]


def _distinct(rng, shapes):
    """Values at least 0.1 apart: no ties, so indices are unambiguous."""
    n = int(np.prod(shapes[0]))
    return [np.asarray(rng.permutation(n).reshape(shapes[0]) * 0.1 - 1.0)]


def _ties(rng, shapes):
    return [np.asarray(rng.integers(-2, 3, shapes[0]).astype(np.float64))]


def _ints(rng, shapes):
    return [np.asarray(rng.integers(-3, 4, shapes[0]))]


def _nans(rng, shapes):
    x = rng.permutation(int(np.prod(shapes[0]))).reshape(shapes[0]) * 0.1
    return [np.where(rng.random(shapes[0]) < 0.3, np.nan, x)]


def _spec(name, ours, ref, shapes=SHAPES, make=_distinct, **kw):
    return OpSpec(name, ours, ref, shapes, make=make, **kw)


def _values_only(name, ours, ref, shapes, make):
    return OpSpec(name, ours, ref, shapes, make=make, gradcheck=False)


SPECS = [
    _spec("sort", nl.sort, torch.sort),
    _spec("sort", lambda x: nl.sort(x, 0, descending=True),
          lambda x: torch.sort(x, 0, descending=True), SHAPES[:3]),
    _spec("sort", lambda x: x.sort(dim=1, stable=True), lambda x: x.sort(dim=1, stable=True),
          [((3, 4),), ((2, 0, 3),), ((3, 0),)]),
    # stable: ties keep their order, ascending and descending; nan sorts as the largest
    _values_only("sort", lambda x: nl.sort(x, stable=True), lambda x: torch.sort(x, stable=True),
                 [((4, 7),)], _ties),
    _values_only("sort", lambda x: nl.sort(x, descending=True, stable=True),
                 lambda x: torch.sort(x, descending=True, stable=True), [((4, 7),)], _ties),
    _values_only("sort", lambda x: nl.sort(x, descending=True, stable=True),
                 lambda x: torch.sort(x, descending=True, stable=True), [((3, 5),)], _ints),
    _values_only("sort", nl.sort, torch.sort, [((3, 5),)], _nans),
    _values_only("sort", lambda x: nl.sort(x, descending=True),
                 lambda x: torch.sort(x, descending=True, stable=True), [((3, 5),)], _nans),
    _spec("argsort", nl.argsort, torch.argsort, gradcheck=False, grad_inputs=()),
    _spec("argsort", lambda x: nl.argsort(x, dim=0, descending=True, stable=True),
          lambda x: torch.argsort(x, dim=0, descending=True, stable=True), [((4, 7),)], make=_ties,
          gradcheck=False, grad_inputs=()),
    _spec("msort", nl.msort, torch.msort, SHAPES[:3]),
    _spec("topk", lambda x: nl.topk(x, 1), lambda x: torch.topk(x, 1), SHAPES),
    _spec("topk", lambda x: nl.topk(x, 2, dim=0, largest=False),
          lambda x: torch.topk(x, 2, dim=0, largest=False), SHAPES[:3]),
    _spec("topk", lambda x: x.topk(3), lambda x: x.topk(3), [((2, 3, 4),), ((5,),)]),
    _spec("topk", lambda x: x.topk(0), lambda x: x.topk(0), [((2, 3),)]),
    _spec("kthvalue", lambda x: nl.kthvalue(x, 1), lambda x: torch.kthvalue(x, 1), SHAPES),
    _spec("kthvalue", lambda x: nl.kthvalue(x, 2, 0, keepdim=True),
          lambda x: torch.kthvalue(x, 2, 0, keepdim=True), SHAPES[:3]),
    _spec("median", nl.median, torch.median, SHAPES),
    _spec("median", lambda x: nl.median(x, -1), lambda x: torch.median(x, -1), SHAPES),
    _spec("median", lambda x: x.median(0, keepdim=True), lambda x: x.median(0, keepdim=True),
          SHAPES[:3]),
    _values_only("median", lambda x: nl.median(x, 1), lambda x: torch.median(x, 1),
                 [((4, 6),), ((4, 5),)], _nans),
    _values_only("median", nl.median, torch.median, [((4, 6),)], _nans),
    _spec("median", nl.median, torch.median, [((4, 5),)], make=_ints, gradcheck=False,
          grad_inputs=()),
    _spec("nanmedian", nl.nanmedian, torch.nanmedian, SHAPES),
    _spec("nanmedian", lambda x: nl.nanmedian(x, 1), lambda x: torch.nanmedian(x, 1),
          [((4, 6),), ((4, 5),)], make=_nans),
    _spec("nanmedian", nl.nanmedian, torch.nanmedian, [((4, 6),), ((3, 5),)], make=_nans),
    _spec("mode", nl.mode, torch.mode, SHAPES, make=_ties, gradcheck=False),
    _spec("mode", nl.mode, torch.mode, SHAPES),
    _spec("median", nl.median, torch.median, [((4, 6),)], make=_ties, gradcheck=False),
    _spec("mode", lambda x: nl.mode(x, 0, True), lambda x: torch.mode(x, 0, True),
          [((7, 3),), ((9,),)], make=_ints, gradcheck=False, grad_inputs=()),
]

_Q = np.array([0.0, 0.1, 0.5, 0.77, 1.0])
SPECS += [
    _spec("quantile", lambda x: nl.quantile(x, 0.3), lambda x: torch.quantile(x, 0.3), SHAPES),
    _spec("quantile", lambda x: nl.quantile(x, 0.6, dim=1, keepdim=True),
          lambda x: torch.quantile(x, 0.6, dim=1, keepdim=True), [((3, 4),), ((2, 3, 4),)]),
    _spec("quantile", lambda x, q: nl.quantile(x, q, dim=-1), lambda x, q: torch.quantile(x, q,
          dim=-1), [((3, 4), (5,))], make=lambda rng, s: [_distinct(rng, s)[0], _Q],
          grad_inputs=(0,)),
    _spec("nanquantile", lambda x: nl.nanquantile(x, 0.4, 1), lambda x: torch.nanquantile(x, 0.4,
          1), [((4, 6),)], make=_nans),
    _values_only("quantile", lambda x: nl.quantile(x, 0.4, 1), lambda x: torch.quantile(x, 0.4, 1),
                 [((4, 6),)], _nans),
]
for _interp in ["lower", "higher", "nearest", "midpoint"]:
    SPECS += [
        _spec("quantile", lambda x, i=_interp: nl.quantile(x, 0.35, 0, interpolation=i),
              lambda x, i=_interp: torch.quantile(x, 0.35, 0, interpolation=i),
              [((7, 3),), ((8,),)]),
        _spec("nanquantile", lambda x, i=_interp: nl.nanquantile(x, 0.5, interpolation=i),
              lambda x, i=_interp: torch.nanquantile(x, 0.5, interpolation=i), [((4, 5),)],
              make=_nans),
    ]
