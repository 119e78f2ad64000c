"""Specs of the reductions and the softmax family."""

import numpy as np
import torch
import torch.nn.functional as TF

import neuralab as nl
from tests.ops.specs import OpSpec

SHAPES = [((),), ((1,),), ((5,),), ((3, 4),), ((2, 1, 4),), ((2, 3, 4),)]


def _distinct(rng, shapes):
    """Values at least 0.1 apart, so that max/min have a unique winner (no tie, no kink)."""
    return [rng.permutation(int(np.prod(s))).reshape(s) * 0.1 - 1.0 + rng.uniform(0, 0.01, s)
            for s in shapes]



SPECS = [
    OpSpec("sum", nl.sum, torch.sum, SHAPES),
    OpSpec("sum", lambda x: nl.sum(x, 1), lambda x: torch.sum(x, 1), [((3, 4),), ((2, 1, 4),)]),
    OpSpec("sum", lambda x: nl.sum(x, (0, -1), keepdim=True),
           lambda x: torch.sum(x, (0, -1), keepdim=True), [((2, 3, 4),), ((1, 1, 1),)]),
    OpSpec("sum", lambda x: x.sum(0), lambda x: x.sum(0), [((),), ((4,),)]),
    OpSpec("mean", nl.mean, torch.mean, SHAPES),
    OpSpec("mean", lambda x: nl.mean(x, -1, keepdim=True),
           lambda x: torch.mean(x, -1, keepdim=True), [((3, 4),), ((2, 3, 1),)]),
    OpSpec("mean", lambda x: x.mean((0, 2)), lambda x: x.mean((0, 2)), [((2, 3, 4),)]),
    OpSpec("max", nl.max, torch.max, SHAPES, make=_distinct),
    OpSpec("max", lambda x: nl.max(x, 1), lambda x: torch.max(x, 1), [((3, 4),), ((2, 3, 4),)],
           make=_distinct),
    OpSpec("max", lambda x: nl.max(x, -1, keepdim=True), lambda x: torch.max(x, -1, keepdim=True),
           [((3, 4),), ((5,),), ((2, 1),)], make=_distinct),
    OpSpec("max", lambda x: nl.max(x, 0), lambda x: torch.max(x, 0), [((),)], make=_distinct),
    OpSpec("max", lambda x: nl.max(x, (0, 2)), lambda x: torch.amax(x, (0, 2)), [((2, 3, 4),)],
           make=_distinct),
    OpSpec("max", lambda a, b: nl.max(a, b), lambda a, b: torch.max(a, b), [((3, 4), (4,))],
           make=_distinct),
    OpSpec("min", nl.min, torch.min, SHAPES, make=_distinct),
    OpSpec("min", lambda x: nl.min(x, 0), lambda x: torch.min(x, 0), [((3, 4),), ((2, 3, 4),)],
           make=_distinct),
    OpSpec("min", lambda x: x.min(-2, keepdim=True), lambda x: x.min(-2, keepdim=True),
           [((2, 3, 4),)], make=_distinct),
    OpSpec("var", nl.var, torch.var, SHAPES[2:]),
    OpSpec("var", lambda x: nl.var(x, 1, keepdim=True), lambda x: torch.var(x, 1, keepdim=True),
           [((3, 4),), ((2, 3, 4),)]),
    OpSpec("var", lambda x: nl.var(x, (0, 2), correction=0),
           lambda x: torch.var(x, (0, 2), correction=0), [((2, 3, 4),)]),
    OpSpec("var", lambda x: x.var(0, False), lambda x: x.var(0, False), [((3, 4),), ((1, 4),)]),
    OpSpec("std", nl.std, torch.std, SHAPES[2:]),
    OpSpec("std", lambda x: nl.std(x, -1, keepdim=True), lambda x: torch.std(x, -1, keepdim=True),
           [((3, 4),), ((2, 3, 4),)]),
    OpSpec("std", lambda x: nl.std(x, 0, unbiased=False), lambda x: torch.std(x, 0, unbiased=False),
           [((3, 4),), ((1, 4),)]),
    OpSpec("logsumexp", lambda x: nl.logsumexp(x, -1), lambda x: torch.logsumexp(x, -1),
           [((5,),), ((3, 4),), ((2, 3, 4),), ((),)], low=-5, high=5),
    OpSpec("logsumexp", lambda x: nl.logsumexp(x, (0, 1), keepdim=True),
           lambda x: torch.logsumexp(x, (0, 1), keepdim=True), [((2, 3, 4),)], low=-5, high=5),
    OpSpec("logsumexp", lambda x: nl.logsumexp(x * 1000.0, 1),
           lambda x: torch.logsumexp(x * 1000.0, 1), [((2, 3),)], rtol=1e-6),
    OpSpec("softmax", lambda x: nl.softmax(x, -1), lambda x: torch.softmax(x, -1),
           [((5,),), ((3, 4),), ((2, 3, 4),), ((),), ((3, 1),)], low=-5, high=5),
    OpSpec("softmax", lambda x: nl.softmax(x, 1), lambda x: torch.softmax(x, 1),
           [((2, 3, 4),)], low=-5, high=5),
    OpSpec("softmax", lambda x: nl.softmax(x * 300.0, 0), lambda x: torch.softmax(x * 300.0, 0),
           [((4,),)]),
    OpSpec("log_softmax", lambda x: nl.log_softmax(x, -1), lambda x: TF.log_softmax(x, -1),
           [((5,),), ((3, 4),), ((2, 3, 4),), ((),)], low=-5, high=5),
    OpSpec("log_softmax", lambda x: nl.log_softmax(x * 300.0, 0),
           lambda x: TF.log_softmax(x * 300.0, 0), [((3, 4),)]),
]

# argmax/argmin: int64 indices, no gradient; compared on values only.
for _name, _ref in [("argmax", torch.argmax), ("argmin", torch.argmin)]:
    _ours = getattr(nl, _name)
    SPECS += [
        OpSpec(_name, _ours, _ref, [((3, 4),), ((5,),), ((),)], make=_distinct, gradcheck=False,
               grad_inputs=()),
        OpSpec(_name, lambda x, f=_ours: f(x, 1), lambda x, f=_ref: f(x, 1),
               [((3, 4),), ((2, 3, 4),)], make=_distinct, gradcheck=False, grad_inputs=()),
        OpSpec(_name, lambda x, f=_ours: f(x, 0, keepdim=True),
               lambda x, f=_ref: f(x, 0, keepdim=True), [((3, 4),)], make=_distinct,
               gradcheck=False, grad_inputs=()),
    ]
