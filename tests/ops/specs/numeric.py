"""Specs of the numerical helpers (ops/numeric.py): differences, integrals, statistics, aliases."""

import numpy as np
import torch

import neuralab as nl
from tests.ops.specs import OpSpec

PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((), ())]


def _ints(rng, shapes):
    return [np.asarray(rng.integers(-3, 4, s)) for s in shapes]


def _no_grad(name, ours, ref, shapes, make=None, **kw):
    return OpSpec(name, ours, ref, shapes, make=make, gradcheck=False, grad_inputs=(), **kw)


def _weighted(rng, shapes):
    """Observations, integer frequency weights and positive observation weights."""
    x = rng.uniform(-2, 2, shapes[0])
    n = shapes[0][-1]
    return [x, rng.integers(1, 4, n), rng.uniform(0.5, 2.0, n)]


def _lgamma_points(rng, shapes):
    """Positive values and negative non-integers, away from the poles."""
    x = rng.uniform(0.2, 6.0, shapes[0])
    negative = rng.random(shapes[0]) < 0.3
    return [np.where(negative, -rng.uniform(2.2, 2.8, shapes[0]), x)]


def _ldexp_int(rng, shapes):
    return [rng.uniform(-2, 2, shapes[0]), rng.integers(-4, 5, shapes[1])]


def _vander_grad(name, ours, shapes, **kw):
    """PyTorch's vander cannot backpropagate (it runs cumprod in place on its own output): the
    values are compared by the value specs, the gradient checked by finite differences."""
    return OpSpec(name, ours, None, shapes, no_ref_reason="PyTorch's vander has no working "
                  "backward (in-place cumprod); gradcheck only", **kw)


def _histogram(rng, shapes):
    return [rng.uniform(-1.5, 2.5, shapes[0]).astype(np.float32)]


SPECS = [
    OpSpec("clone", nl.clone, torch.clone, [((3, 4),), ((),)]),
    _no_grad("detach", nl.detach, torch.detach, [((3, 4),)]),
    OpSpec("sum_to_size", lambda x: x.sum_to_size(1, 4), lambda x: x.sum_to_size(1, 4),
           [((3, 4),), ((2, 3, 4),)]),
    OpSpec("sum_to_size", lambda x: x.sum_to_size((3, 1)), lambda x: x.sum_to_size((3, 1)),
           [((3, 4),), ((2, 3, 1),)]),
    OpSpec("sum_to_size", lambda x: x.sum_to_size(4), lambda x: x.sum_to_size(4), [((3, 4),)]),
    # diff: orders, dims, prepend/append, bools and integers
    OpSpec("diff", nl.diff, torch.diff, [((5,),), ((3, 4),), ((1,),), ((0,),)]),
    OpSpec("diff", lambda x: nl.diff(x, n=2, dim=0), lambda x: torch.diff(x, n=2, dim=0),
           [((4, 3),), ((2, 3),), ((1, 2),)]),
    OpSpec("diff", lambda x: x.diff(3), lambda x: x.diff(3), [((6,),), ((2,),)]),
    OpSpec("diff", lambda x: nl.diff(x, n=0), lambda x: torch.diff(x, n=0), [((3,),)]),
    OpSpec("diff", lambda x, p, a: nl.diff(x, dim=1, prepend=p, append=a),
           lambda x, p, a: torch.diff(x, dim=1, prepend=p, append=a), [((2, 3), (2, 1), (2, 2))]),
    OpSpec("diff", lambda x, p: nl.diff(x, n=2, dim=0, prepend=p),
           lambda x, p: torch.diff(x, n=2, dim=0, prepend=p), [((2, 3), (2, 3))]),
    _no_grad("diff", lambda x, a: nl.diff(x, append=a), lambda x, a: torch.diff(x, append=a),
             [((3, 4), (3, 2))], _ints),
    _no_grad("diff", lambda x: nl.diff(x, dim=0), lambda x: torch.diff(x, dim=0), [((4, 3),)],
             lambda rng, s: [rng.random(s[0]) > 0.5]),
    # integrals
    OpSpec("trapezoid", nl.trapezoid, torch.trapezoid, [((5,),), ((3, 4),), ((1,),)]),
    _no_grad("trapezoid", nl.trapezoid, torch.trapezoid, [((2, 0),)]),  # zeros, no graph
    OpSpec("trapezoid", lambda y: nl.trapezoid(y, dx=0.3, dim=0),
           lambda y: torch.trapezoid(y, dx=0.3, dim=0), [((4, 3),), ((1, 2),)]),
    OpSpec("trapezoid", lambda y, x: nl.trapezoid(y, x, dim=0),
           lambda y, x: torch.trapezoid(y, x, dim=0), [((4, 3), (4,)), ((4, 3), (4, 3)),
                                                       ((4, 3), (4, 1))]),
    OpSpec("trapezoid", lambda y, x: nl.trapezoid(y, x), lambda y, x: torch.trapezoid(y, x),
           [((2, 3, 4), (3, 4)), ((3,), (3,))]),
    _no_grad("trapezoid", nl.trapezoid, torch.trapezoid, [((3, 4),)], _ints),
    OpSpec("trapz", nl.trapz, torch.trapz, [((5,),), ((3, 4),)]),
    OpSpec("trapz", lambda y, x: nl.trapz(y, x, dim=0), lambda y, x: torch.trapz(y, x, dim=0),
           [((4, 3), (4,))]),
    OpSpec("trapz", lambda y: nl.trapz(y, dx=2.5), lambda y: torch.trapz(y, dx=2.5), [((4,),)]),
    OpSpec("cumulative_trapezoid", nl.cumulative_trapezoid, torch.cumulative_trapezoid,
           [((5,),), ((3, 4),), ((1,),)]),
    OpSpec("cumulative_trapezoid", lambda y: nl.cumulative_trapezoid(y, dx=0.5, dim=0),
           lambda y: torch.cumulative_trapezoid(y, dx=0.5, dim=0), [((4, 3),)]),
    OpSpec("cumulative_trapezoid", lambda y, x: nl.cumulative_trapezoid(y, x, dim=1),
           lambda y, x: torch.cumulative_trapezoid(y, x, dim=1),
           [((2, 4), (4,)), ((2, 4), (2, 4)), ((2, 4), (1, 4))]),
    _no_grad("cumulative_trapezoid", nl.cumulative_trapezoid, torch.cumulative_trapezoid,
             [((3, 4),)], _ints),
    # statistics
    OpSpec("cov", nl.cov, torch.cov, [((3, 6),), ((6,),), ((1, 4),), ((2, 2),)]),
    OpSpec("cov", lambda x: nl.cov(x, correction=0), lambda x: torch.cov(x, correction=0),
           [((3, 5),)]),
    OpSpec("cov", lambda x, f, a: nl.cov(x, fweights=f, aweights=a),
           lambda x, f, a: torch.cov(x, fweights=f, aweights=a), [((3, 5), None, None), ((6,),
           None, None)], make=_weighted),
    OpSpec("cov", lambda x, f, a: nl.cov(x, correction=2, fweights=f),
           lambda x, f, a: torch.cov(x, correction=2, fweights=f), [((2, 5), None, None)],
           make=_weighted),
    OpSpec("cov", lambda x, f, a: nl.cov(x, correction=0, aweights=a),
           lambda x, f, a: torch.cov(x, correction=0, aweights=a), [((2, 5), None, None)],
           make=_weighted),
    _no_grad("cov", nl.cov, torch.cov, [((3, 4),)], _ints, atol=1e-6),
    OpSpec("corrcoef", nl.corrcoef, torch.corrcoef, [((3, 6),), ((5,),), ((2, 3),)]),
    OpSpec("corrcoef", lambda x: x.corrcoef(), lambda x: x.corrcoef(), [((4, 7),)]),
    _no_grad("histc", nl.histc, torch.histc, [((50,),), ((4, 6),), ((1,),)], _histogram),
    _no_grad("histc", lambda x: nl.histc(x, bins=7, min=-1, max=2),
             lambda x: torch.histc(x, bins=7, min=-1, max=2), [((200,),)], _histogram),
    _no_grad("histc", lambda x: x.histc(5, 0.5, 0.5), lambda x: x.histc(5, 0.5, 0.5),
             [((30,),)], lambda rng, s: [rng.uniform(-1, 1, s[0])]),
    _no_grad("histc", lambda x: nl.histc(x, bins=3, min=0, max=2),
             lambda x: torch.histc(x, bins=3, min=0, max=2),
             [((4,),)], lambda rng, s: [np.array([1.0, 1.0, np.nan, 1.0])[:s[0][0]]]),
    _no_grad("histc", lambda x: nl.histc(x, bins=10, min=0, max=1),
             lambda x: torch.histc(x, bins=10, min=0, max=1), [((11,),)],
             lambda rng, s: [np.linspace(0, 1, 11).astype(np.float32)]),
    _no_grad("isin", nl.isin, torch.isin, [((3, 4), (5,)), ((6,), (2, 2)), ((), (3,))], _ints),
    _no_grad("isin", lambda a, b: nl.isin(a, b, invert=True),
             lambda a, b: torch.isin(a, b, invert=True), [((3, 4), (5,))], _ints),
    _no_grad("isin", lambda a: nl.isin(a, 2), lambda a: torch.isin(a, 2), [((3, 4),)], _ints),
    _no_grad("isin", lambda b: nl.isin(1, b), lambda b: torch.isin(1, b), [((5,),)], _ints),
    _no_grad("vander", nl.vander, torch.vander, [((4,),), ((1,),), ((0,),)]),
    _no_grad("vander", lambda x: nl.vander(x, N=3, increasing=True),
             lambda x: torch.vander(x, N=3, increasing=True), [((5,),)]),
    _no_grad("vander", lambda x: nl.vander(x, 5), lambda x: torch.vander(x, 5), [((3,),)],
             lambda rng, s: [np.array([0.0, 1.5, -0.5])]),
    _vander_grad("vander", nl.vander, [((4,),), ((1,),)]),
    _vander_grad("vander", lambda x: nl.vander(x, N=3, increasing=True), [((5,),)]),
    _vander_grad("vander", lambda x: nl.vander(x, 5), [((3,),)],
                 make=lambda rng, s: [np.array([0.0, 1.5, -0.5])]),
    _no_grad("vander", lambda x: nl.vander(x, N=0), lambda x: torch.vander(x, N=0), [((3,),)],
             _ints),
    _no_grad("vander", nl.vander, torch.vander, [((4,),)], _ints),
    _no_grad("vander", nl.vander, torch.vander, [((3,),)],
             lambda rng, s: [np.array([True, False, True])]),
    _no_grad("unravel_index", lambda i: nl.unravel_index(i, (2, 3, 4)),
             lambda i: torch.unravel_index(i, (2, 3, 4)), [((5,),), ((2, 3),), ((),)],
             lambda rng, s: [rng.integers(-30, 30, s[0])]),
    _no_grad("unravel_index", lambda i: nl.unravel_index(i, 7),
             lambda i: torch.unravel_index(i, 7), [((4,),)], _ints),
    _no_grad("unravel_index", lambda i: nl.unravel_index(i.int(), nl.Size([3, 5])),
             lambda i: torch.unravel_index(i.int(), torch.Size([3, 5])), [((4,),)], _ints),
    # floating point and special functions
    OpSpec("frexp", nl.frexp, torch.frexp, [((3, 4),), ((),), ((0,),)]),
    OpSpec("frexp", lambda x: x.frexp().mantissa, lambda x: x.frexp().mantissa, [((5,),)],
           low=-100, high=100),
    _no_grad("frexp", nl.frexp, torch.frexp, [((6,),)],
             lambda rng, s: [np.array([0.0, -0.0, 8.0, np.inf, -np.inf, np.nan])]),
    OpSpec("ldexp", nl.ldexp, torch.ldexp, PAIRS),
    _no_grad("ldexp", lambda x, e: x.ldexp(e), lambda x, e: x.ldexp(e), [((3, 4), (3, 4))],
             _ldexp_int),
    OpSpec("ldexp", lambda x, e: x.ldexp(e), None, [((3, 4), (3, 4))], make=_ldexp_int,
           no_ref_reason="PyTorch's ldexp backward with an integer exponent computes 2^e in "
           "integers (0 for e < 0); the values are compared in the spec above"),
    _no_grad("ldexp", nl.ldexp, torch.ldexp, [((3,), (3,))], _ints),
    OpSpec("lgamma", nl.lgamma, torch.lgamma, [((3, 4),), ((),), ((0,),)], make=_lgamma_points),
    OpSpec("lgamma", lambda x: x.lgamma(), lambda x: x.lgamma(), [((20,),)], low=0.05,
           high=30),
    OpSpec("lgamma", nl.lgamma, torch.lgamma, [((4,),)],
           make=lambda rng, s: [np.array([0.01, 1.4616321449683622, 150.5, -7.5])]),
    _no_grad("lgamma", nl.lgamma, torch.lgamma, [((7,),)],
             lambda rng, s: [np.array([0.0, -1.0, -3.0, np.inf, -np.inf, np.nan, 2.0])]),
    _no_grad("lgamma", nl.lgamma, torch.lgamma, [((5,),)], lambda rng, s: [np.arange(1, 6)]),
]
for _name in ("greater", "greater_equal", "less", "less_equal", "not_equal"):
    _ours, _ref = getattr(nl, _name), getattr(torch, _name)
    SPECS += [
        _no_grad(_name, _ours, _ref, PAIRS, _ints),
        _no_grad(_name, lambda a, b, m=_name: getattr(a, m)(b),
                 lambda a, b, m=_name: getattr(a, m)(b), PAIRS[:2]),
        _no_grad(_name, lambda a, m=_name: getattr(a, m)(0.5),
                 lambda a, m=_name: getattr(a, m)(0.5), [((3, 4),)]),
    ]
