"""Specs of the scans (ops/scan.py): running sums, products, extrema and log-sum-exps."""

import numpy as np
import torch

import neuralab as nl
from tests.ops.specs import OpSpec

SHAPES = [((5,),), ((3, 4),), ((2, 3, 4),), ((1,),), ((0,),), ((2, 0),), ((),)]


def _along(name, dims=(0, -1, 1), shapes=SHAPES, **kw):
    """One spec per dim, on every shape that has it (0-d tensors take dim 0 or -1)."""
    specs = []
    ours, ref = getattr(nl, name), getattr(torch, name)
    for d in dims:
        cases = [s for s in shapes if -max(len(s[0]), 1) <= d < max(len(s[0]), 1)]
        specs.append(OpSpec(name, lambda x, d=d: ours(x, d), lambda x, d=d: ref(x, d), cases, **kw))
    return specs


def _with_zeros(rng, shapes):
    """Products with one, two or no zeros per row (cumprod's exact gradient through zeros)."""
    x = rng.uniform(0.5, 1.5, shapes[0]) * rng.choice([-1.0, 1.0], shapes[0])
    if x.size:
        x = np.where(rng.random(shapes[0]) < 0.25, 0.0, x)
    return [np.asarray(x)]


def _distinct(rng, shapes):
    n = int(np.prod(shapes[0]))
    return [np.asarray(rng.permutation(n).reshape(shapes[0]) * 0.1 - 1.0)]


def _ties(rng, shapes):
    return [np.asarray(rng.integers(-2, 3, shapes[0]).astype(np.float64))]


SPECS = [
    *_along("cumsum"),
    *_along("cumprod", low=0.5, high=1.5),
    *_along("cumprod", make=_with_zeros),
    *_along("cummax", make=_distinct),
    *_along("cummin", make=_distinct),
    *_along("logcumsumexp", low=-5, high=5),
    OpSpec("logcumsumexp", lambda x: nl.logcumsumexp(x * 500, 0),
           lambda x: torch.logcumsumexp(x * 500, 0), [((6,),)]),
    OpSpec("cumsum", lambda x: nl.cumsum(x, 1), lambda x: torch.cumsum(x, 1), [((3, 4),)],
           make=lambda rng, s: [rng.integers(-5, 5, s[0])], gradcheck=False, grad_inputs=()),
    OpSpec("cumsum", lambda x: x.cumsum(0, dtype=nl.float64), lambda x: x.cumsum(0,
           dtype=torch.float64), [((3, 4),)], make=lambda rng, s: [rng.random(s[0]) > 0.5],
           gradcheck=False, grad_inputs=()),
    OpSpec("cumprod", lambda x: x.cumprod(-1), lambda x: x.cumprod(-1), [((3, 4),)],
           make=lambda rng, s: [rng.integers(-3, 3, s[0])], gradcheck=False, grad_inputs=()),
]
# ties (the last index among equals) and nan (propagates, the latest nan's index): values and
# indices compared; the gradient follows the indices.
for _name in ("cummax", "cummin"):
    _ours, _ref = getattr(nl, _name), getattr(torch, _name)
    SPECS += [
        OpSpec(_name, lambda x, f=_ours: f(x, 1),
               lambda x, f=_ref: f(x, 1), [((4, 6),)], make=_ties,
               gradcheck=False),
        OpSpec(_name, lambda x, f=_ours: f(x, 0),
               lambda x, f=_ref: f(x, 0), [((6,),)], gradcheck=False,
               make=lambda rng, s: [np.array([1.0, np.nan, 3.0, np.nan, -1.0, 2.0])]),
        OpSpec(_name, lambda x, f=_ours: f(x, -1),
               lambda x, f=_ref: f(x, -1), [((3, 5),)], gradcheck=False,
               grad_inputs=(), make=lambda rng, s: [rng.integers(-2, 3, s[0])]),
    ]
