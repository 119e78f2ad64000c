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

# --------------------------------------------------------------------------- newer reductions
EMPTY = [((0,),), ((2, 0),)]


def _with_zeros(rng, shapes):
    """Rows with no zero, one zero and two zeros (prod's exact gradient through zeros)."""
    x = rng.uniform(0.5, 1.5, shapes[0]) * rng.choice([-1.0, 1.0], shapes[0])
    if x.ndim == 2 and x.shape[0] >= 3 and x.shape[1] >= 2:
        x[1, 0] = 0.0
        x[2, :2] = 0.0
    return [x]


def _ties(rng, shapes):
    return [np.asarray(rng.integers(-2, 3, shapes[0]).astype(np.float64))]


def _nans(rng, shapes):
    return [np.where(rng.random(shapes[0]) < 0.3, np.nan, rng.uniform(-2, 2, shapes[0]))]


def _ints(rng, shapes):
    return [np.asarray(rng.integers(-3, 4, shapes[0]))]


def _nograd(name, ours, ref, shapes, make=None, **kw):
    return OpSpec(name, ours, ref, shapes, make=make, gradcheck=False, grad_inputs=(), **kw)


SPECS += [
    # NumPy's spellings PyTorch accepts, lists of dims, negative dims, empty inputs
    OpSpec("sum", lambda x: nl.sum(x, axis=1, keepdims=True), lambda x: torch.sum(x, axis=1,
           keepdims=True), [((3, 4),), ((2, 0),)]),
    OpSpec("sum", lambda x: x.sum([0, -1]), lambda x: x.sum([0, -1]), [((2, 3, 4),)]),
    OpSpec("sum", nl.sum, torch.sum, EMPTY),
    _nograd("sum", lambda x: nl.sum(x, 0), lambda x: torch.sum(x, 0), [((3, 4),)], _ints),
    OpSpec("sum", lambda x: nl.sum(x, dtype=nl.float64), lambda x: torch.sum(x,
           dtype=torch.float64), [((3, 4),)], make=_ints, gradcheck=False, grad_inputs=()),
    OpSpec("mean", lambda x: nl.mean(x, axis=(0, 1)), lambda x: torch.mean(x, axis=(0, 1)),
           [((2, 3, 4),)]),
    OpSpec("mean", lambda x: nl.mean(x, 1), lambda x: torch.mean(x, 1), EMPTY[1:]),
    OpSpec("max", lambda x: nl.max(x, axis=0), lambda x: torch.max(x, axis=0), [((3, 4),)],
           make=_distinct),
    OpSpec("min", lambda x: nl.min(x, dim=1, keepdims=True), lambda x: torch.min(x, dim=1,
           keepdims=True), [((3, 4),)], make=_distinct),
    OpSpec("var", lambda x: nl.var(x, axis=-1, correction=2), lambda x: torch.var(x, axis=-1,
           correction=2), [((3, 5),)]),
    OpSpec("std", lambda x: x.std(dim=[0, 1], keepdim=True), lambda x: x.std(dim=[0, 1],
           keepdim=True), [((2, 3, 4),)]),
    OpSpec("logsumexp", lambda x: nl.logsumexp(x, axis=0), lambda x: torch.logsumexp(x, axis=0),
           [((3, 4),)]),
    _nograd("argmax", lambda x: nl.argmax(x, axis=1, keepdims=True),
            lambda x: torch.argmax(x, axis=1, keepdims=True), [((3, 4),)], _distinct),
    OpSpec("prod", nl.prod, torch.prod, SHAPES + EMPTY, low=0.5, high=1.5),
    OpSpec("prod", lambda x: nl.prod(x, 1), lambda x: torch.prod(x, 1), [((4, 5),)],
           make=_with_zeros),
    OpSpec("prod", lambda x: x.prod(-1, keepdim=True), lambda x: x.prod(-1, keepdim=True),
           [((4, 5),), ((3, 0),)], make=_with_zeros),
    OpSpec("prod", lambda x: nl.prod(x.T), lambda x: torch.prod(x.T), [((4, 1),)],
           make=lambda rng, s: [np.array([[0.0], [2.0], [3.0], [0.5]])]),
    _nograd("prod", lambda x: nl.prod(x, 0), lambda x: torch.prod(x, 0), [((3, 4),)], _ints),
    OpSpec("amax", nl.amax, torch.amax, SHAPES, make=_distinct),
    OpSpec("amax", lambda x: nl.amax(x, (0, -1), keepdim=True),
           lambda x: torch.amax(x, (0, -1), keepdim=True), [((2, 3, 4),)], make=_distinct),
    OpSpec("amax", lambda x: nl.amax(x, 1), lambda x: torch.amax(x, 1), [((4, 5),)], make=_ties,
           gradcheck=False),
    OpSpec("amin", lambda x: nl.amin(x, -1), lambda x: torch.amin(x, -1), [((3, 4),), ((5,),)],
           make=_distinct),
    OpSpec("amin", nl.amin, torch.amin, [((4, 5),)], make=_ties, gradcheck=False),
    OpSpec("aminmax", nl.aminmax, torch.aminmax, [((3, 4),), ((5,),)], make=_distinct),
    OpSpec("aminmax", lambda x: nl.aminmax(x, dim=0, keepdim=True),
           lambda x: torch.aminmax(x, dim=0, keepdim=True), [((3, 4),)], make=_distinct),
    OpSpec("nansum", nl.nansum, torch.nansum, [((3, 4),), ((5,),)], make=_nans),
    OpSpec("nansum", lambda x: nl.nansum(x, 1), lambda x: torch.nansum(x, 1), [((3, 4),)],
           make=_nans),
    OpSpec("nanmean", lambda x: nl.nanmean(x, 1), lambda x: torch.nanmean(x, 1), [((3, 4),)],
           make=_nans),
    OpSpec("nanmean", nl.nanmean, torch.nanmean, [((3, 4),)], make=_nans),
    _nograd("count_nonzero", nl.count_nonzero, torch.count_nonzero, [((3, 4),), ((),)], _ties),
    _nograd("count_nonzero", lambda x: nl.count_nonzero(x, dim=(0, 1)),
            lambda x: torch.count_nonzero(x, dim=(0, 1)), [((2, 3, 4),)], _ints),
    _nograd("any", nl.any, torch.any, [((3, 4),), ((),), ((0,),)], _ties),
    _nograd("any", lambda x: x.any(1, keepdim=True), lambda x: x.any(1, keepdim=True),
            [((3, 4),)], lambda rng, s: [rng.random(s[0]) > 0.7]),
    _nograd("all", nl.all, torch.all, [((3, 4),), ((),), ((0,),)], _ties),
    _nograd("all", lambda x: nl.all(x, dim=0), lambda x: torch.all(x, dim=0), [((3, 4),)],
            lambda rng, s: [rng.random(s[0]) > 0.2]),
    OpSpec("var_mean", lambda x: nl.var_mean(x, 1), lambda x: torch.var_mean(x, 1),
           [((3, 4),)]),
    OpSpec("std_mean", lambda x: nl.std_mean(x, 0, correction=0, keepdim=True),
           lambda x: torch.std_mean(x, 0, correction=0, keepdim=True), [((3, 4),)]),
    OpSpec("std_mean", nl.std_mean, torch.std_mean, [((3, 4),)]),
    OpSpec("dist", nl.dist, torch.dist, [((3, 4), (3, 4)), ((3, 4), (4,))]),
    OpSpec("dist", lambda a, b: nl.dist(a, b, 1), lambda a, b: torch.dist(a, b, 1),
           [((3, 4), (3, 4))], make=lambda rng, s: [rng.uniform(-2, 2, s[0]),
                                                    rng.uniform(-2, 2, s[1]) + 5]),
]
_NORM_SHAPES = [((5,),), ((3, 4),), ((2, 3, 4),), ((1,),), ((),), ((0,),)]
for _p in [2, 1, 3, 0.5, float("inf"), float("-inf"), 0]:
    _kw = dict(make=_distinct) if _p in (float("inf"), float("-inf")) else dict(low=0.2, high=2) \
        if _p == 0.5 else {}
    # the ±inf norms of nothing have no identity: PyTorch raises, and so do we
    _shapes = [s for s in _NORM_SHAPES if s != ((0,),) or _p not in (float("inf"), float("-inf"))]
    SPECS += [
        OpSpec("vector_norm", lambda x, p=_p: nl.vector_norm(x, p),
               lambda x, p=_p: torch.linalg.vector_norm(x, p), _shapes, gradcheck=_p != 0, **_kw),
        OpSpec("vector_norm", lambda x, p=_p: nl.linalg.vector_norm(x, p, dim=-1, keepdim=True),
               lambda x, p=_p: torch.linalg.vector_norm(x, p, dim=-1, keepdim=True),
               [((3, 4),), ((2, 3, 4),)], gradcheck=_p != 0, **_kw),
        OpSpec("norm", lambda x, p=_p: nl.norm(x, p, dim=(0, 1)),
               lambda x, p=_p: torch.norm(x, p, dim=(0, 1)), [((2, 3, 4),)], gradcheck=_p != 0,
               **_kw),
    ]
SPECS += [
    OpSpec("norm", nl.norm, torch.norm, _NORM_SHAPES),
    OpSpec("norm", lambda x: x.norm(dim=1), lambda x: x.norm(dim=1), [((3, 4),)]),
    OpSpec("norm", lambda x: nl.norm(x * 0), lambda x: torch.norm(x * 0), [((3, 4),)],
           gradcheck=False),  # the 2-norm's gradient at 0 is taken as 0, as PyTorch
    OpSpec("norm", lambda x: nl.norm(x, "nuc"), lambda x: torch.norm(x, "nuc"), [((3, 4),)]),
    OpSpec("vector_norm", lambda x: nl.linalg.norm(x), lambda x: torch.linalg.norm(x),
           _NORM_SHAPES),
    OpSpec("vector_norm", lambda x: nl.linalg.norm(x, 1, dim=0), lambda x: torch.linalg.norm(
           x, 1, dim=0), [((3, 4),)]),
]
for _ord in ["fro", "nuc", 1, -1, 2, -2, float("inf"), float("-inf")]:
    SPECS += [
        OpSpec("matrix_norm", lambda x, o=_ord: nl.linalg.matrix_norm(x, o),
               lambda x, o=_ord: torch.linalg.matrix_norm(x, o), [((3, 4),), ((2, 3, 3),)],
               make=_distinct),
        OpSpec("matrix_norm", lambda x, o=_ord: nl.linalg.norm(x, o, dim=(0, 2), keepdim=True),
               lambda x, o=_ord: torch.linalg.norm(x, o, dim=(0, 2), keepdim=True),
               [((3, 2, 4),)], make=_distinct),
    ]
