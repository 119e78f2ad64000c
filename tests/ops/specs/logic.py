"""Specs of the tests and logic without gradients (ops/logic.py)."""

import numpy as np
import torch

import neuralab as nl
from tests.ops.specs import OpSpec

PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), ()), ((0,), (1,))]
SINGLE = [((3, 4),), ((),), ((0, 2),), ((7,),)]


def _near(rng, shapes):
    """Pairs that are equal, nearly equal, far apart, nan and inf."""
    a = rng.choice([0.0, 1.0, 1e-9, 1.00001, np.nan, np.inf, -np.inf, 3.0], shapes[0])
    b = rng.choice([0.0, 1.0, 1.0 + 1e-7, np.nan, np.inf, 2.0], shapes[1])
    return [np.asarray(a), np.asarray(b)]


def _special(rng, shapes):
    return [np.asarray(rng.choice([0.0, -1.5, 2.0, np.nan, np.inf, -np.inf], s)) for s in shapes]


def _ints(rng, shapes):
    return [np.asarray(rng.integers(-3, 4, s)) for s in shapes]


def _bools(rng, shapes):
    return [np.asarray(rng.random(s) > 0.5) for s in shapes]


def _spec(name, ours, ref, shapes, make):
    return OpSpec(name, ours, ref, shapes, make=make, gradcheck=False, grad_inputs=())


SPECS = [
    _spec("isclose", nl.isclose, torch.isclose, PAIRS, _near),
    _spec("isclose", lambda a, b: nl.isclose(a, b, rtol=0.1, atol=0.5, equal_nan=True),
          lambda a, b: torch.isclose(a, b, rtol=0.1, atol=0.5, equal_nan=True), PAIRS, _near),
    _spec("isclose", nl.isclose, torch.isclose, PAIRS[:2], _ints),
    _spec("allclose", lambda a, b: nl.tensor(nl.allclose(a, b)),
          lambda a, b: torch.tensor(torch.allclose(a, b)), [((3,), (3,))],
          lambda rng, s: [np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0 + 1e-9, 3.0])]),
    _spec("allclose", lambda a, b: nl.tensor(nl.allclose(a, b, atol=0.1)),
          lambda a, b: torch.tensor(torch.allclose(a, b, atol=0.1)), PAIRS[:2], _special),
    _spec("equal", lambda a, b: nl.tensor(nl.equal(a, b)),
          lambda a, b: torch.tensor(torch.equal(a, b)), [((3, 4), (3, 4)), ((3,), (3,))], _ints),
    _spec("equal", lambda a: nl.tensor(nl.equal(a, a * 1)),
          lambda a: torch.tensor(torch.equal(a, a * 1)), [((2, 3),)], _ints),
]
for _name in ["isnan", "isinf", "isfinite", "isposinf", "isneginf", "isreal"]:
    SPECS.append(_spec(_name, getattr(nl, _name), getattr(torch, _name), SINGLE, _special))
    SPECS.append(_spec(_name, getattr(nl, _name), getattr(torch, _name), SINGLE[:2], _ints))
for _name in ["logical_and", "logical_or", "logical_xor"]:
    SPECS.append(_spec(_name, getattr(nl, _name), getattr(torch, _name), PAIRS, _special))
    SPECS.append(_spec(_name, getattr(nl, _name), getattr(torch, _name), PAIRS[:2], _bools))
SPECS.append(_spec("logical_not", nl.logical_not, torch.logical_not, SINGLE, _special))
for _name, _op in [("bitwise_and", "&"), ("bitwise_or", "|"), ("bitwise_xor", "^")]:
    SPECS.append(_spec(_name, getattr(nl, _name), getattr(torch, _name), PAIRS, _ints))
    SPECS.append(_spec(_name, eval(f"lambda a, b: a {_op} b"), eval(f"lambda a, b: a {_op} b"),
                       PAIRS[:3], _bools))
SPECS.append(_spec("bitwise_not", nl.bitwise_not, torch.bitwise_not, SINGLE, _ints))
SPECS.append(_spec("bitwise_not", lambda a: ~a, lambda a: ~a, SINGLE, _bools))
