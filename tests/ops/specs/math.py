"""Specs of the pointwise mathematical functions (ops/math.py)."""

import numpy as np
import torch

import neuralab as nl
from tests.ops.specs import OpSpec

UNARY = [((),), ((1,),), ((5,),), ((3, 4),), ((2, 3, 4),), ((0,),), ((2, 0, 3),)]


def _uniform(low, high):
    return lambda rng, shapes: [np.asarray(rng.uniform(low, high, s)) for s in shapes]


def _off_integers(rng, shapes):
    """Values at least 0.1 away from integers and from halves (the jumps of floor/round)."""
    out = []
    for s in shapes:
        whole = rng.integers(-4, 4, s)
        part = rng.choice([0.15, 0.3, 0.4, 0.6, 0.7, 0.85], s)
        out.append(np.asarray(whole + part, dtype=np.float64))
    return out


def _ints(rng, shapes):
    return [np.asarray(rng.integers(-5, 6, s)) for s in shapes]


# name, PyTorch reference, input domain
SMOOTH = [
    ("sin", torch.sin, (-3, 3)), ("cos", torch.cos, (-3, 3)), ("tan", torch.tan, (-1.2, 1.2)),
    ("asin", torch.asin, (-0.9, 0.9)), ("acos", torch.acos, (-0.9, 0.9)),
    ("atan", torch.atan, (-3, 3)), ("sinh", torch.sinh, (-3, 3)), ("cosh", torch.cosh, (-3, 3)),
    ("asinh", torch.asinh, (-3, 3)), ("acosh", torch.acosh, (1.1, 4)),
    ("atanh", torch.atanh, (-0.9, 0.9)), ("arcsin", torch.arcsin, (-0.9, 0.9)),
    ("arccos", torch.arccos, (-0.9, 0.9)), ("arctan", torch.arctan, (-3, 3)),
    ("arcsinh", torch.arcsinh, (-3, 3)), ("arccosh", torch.arccosh, (1.1, 4)),
    ("arctanh", torch.arctanh, (-0.9, 0.9)), ("log1p", torch.log1p, (-0.9, 3)),
    ("expm1", torch.expm1, (-3, 3)), ("log2", torch.log2, (0.1, 4)),
    ("log10", torch.log10, (0.1, 4)), ("exp2", torch.exp2, (-3, 3)),
    ("rsqrt", torch.rsqrt, (0.2, 4)), ("reciprocal", torch.reciprocal, (0.2, 4)),
    ("square", torch.square, (-3, 3)), ("erf", torch.erf, (-3, 3)),
    ("erfc", torch.erfc, (-3, 5)), ("erfinv", torch.erfinv, (-0.95, 0.95)),
    ("logit", torch.logit, (0.05, 0.95)), ("deg2rad", torch.deg2rad, (-360, 360)),
    ("rad2deg", torch.rad2deg, (-3, 3)), ("negative", torch.negative, (-3, 3)),
    ("positive", torch.positive, (-3, 3)),
]
STEPS = [("floor", torch.floor), ("ceil", torch.ceil), ("round", torch.round),
         ("trunc", torch.trunc), ("fix", torch.fix), ("frac", torch.frac), ("sign", torch.sign),
         ("sgn", torch.sgn)]

SPECS = []
for _name, _ref, (_lo, _hi) in SMOOTH:
    SPECS.append(OpSpec(_name, getattr(nl, _name), _ref, UNARY, make=_uniform(_lo, _hi)))
for _name, _ref in STEPS:
    SPECS.append(OpSpec(_name, getattr(nl, _name), _ref, UNARY, make=_off_integers))
# Integers: float functions give float32, rounding and signs keep int64.
for _name in ["sin", "exp2", "reciprocal", "square", "erf", "sign", "floor", "round", "trunc",
              "negative", "deg2rad"]:
    SPECS.append(OpSpec(_name, getattr(nl, _name), getattr(torch, _name), [((3, 4),), ((),)],
                        make=_ints, gradcheck=False, grad_inputs=(), atol=1e-6, rtol=1e-6))
SPECS += [
    OpSpec("absolute", nl.absolute, torch.absolute, UNARY[:5], make=_off_integers),
    OpSpec("signbit", nl.signbit, torch.signbit, [((3, 4),), ((0,),)],
           make=lambda rng, s: [np.asarray(rng.choice([-0.0, 0.0, -1.0, 2.0, np.inf], s[0]))],
           gradcheck=False, grad_inputs=()),
    # round: halves to even, and decimals of either sign (PyTorch's scale-and-round formula)
    OpSpec("round", nl.round, torch.round, [((6,),)], gradcheck=False,
           make=lambda rng, s: [np.array([0.5, 1.5, 2.5, -0.5, -2.5, 3.4999])]),
    OpSpec("round", lambda x: nl.round(x, decimals=2), lambda x: torch.round(x, decimals=2),
           [((3, 4),)], make=_uniform(-5, 5)),
    OpSpec("round", lambda x: x.round(decimals=-1), lambda x: x.round(decimals=-1),
           [((3, 4),)], make=_uniform(-500, 500)),
    OpSpec("logit", lambda x: nl.logit(x, eps=0.2), lambda x: torch.logit(x, eps=0.2),
           [((3, 4),)], make=lambda rng, s: [np.asarray(rng.choice([0.05, 0.1, 0.3, 0.6, 0.9],
                                                                   s[0]))]),
    OpSpec("erf", nl.erf, torch.erf, [((200,),)], make=_uniform(-7, 7), rtol=1e-14, atol=1e-15),
    OpSpec("erfc", nl.erfc, torch.erfc, [((200,),)], make=_uniform(-7, 25), rtol=1e-12,
           atol=1e-300),
    # the default infinities become ±1.8e308: scaled down so that the test's projection of the
    # output does not overflow
    OpSpec("nan_to_num", lambda x: nl.nan_to_num(x) * 1e-300,
           lambda x: torch.nan_to_num(x) * 1e-300, [((3, 4),), ((),), ((0,),)],
           make=lambda rng, s: [np.asarray(rng.choice([np.nan, np.inf, -np.inf, 0.5, -1.5],
                                                      s[0]))]),
    OpSpec("nan_to_num", lambda x: nl.nan_to_num(x, nan=1.0, posinf=9.0, neginf=-9.0),
           lambda x: torch.nan_to_num(x, nan=1.0, posinf=9.0, neginf=-9.0), [((4, 5),)],
           make=lambda rng, s: [np.asarray(rng.choice([np.nan, np.inf, -np.inf, 0.5], s[0]))]),
    OpSpec("sin", lambda x: x.sin() + x.float().cos().double(),
           lambda x: x.sin() + x.float().cos().double(), [((3, 4),)], atol=1e-6, rtol=1e-6,
           gradcheck=False),
]
SPECS += [
    OpSpec("sinc", nl.sinc, torch.sinc, UNARY, make=_uniform(-3, 3)),
    OpSpec("sinc", nl.sinc, torch.sinc, [((4,),)], gradcheck=False,
           make=lambda rng, s: [np.array([0.0, 1.0, -2.0, 0.5])]),
]
