"""Specs of the arithmetic family (ops/arith.py): rounded division, remainders, signs, lerp."""

import numpy as np
import torch

import neuralab as nl
from tests.ops.specs import OpSpec

# Broadcasting, size-1, 0-d and empty cases (non-contiguous copies are made by the test itself).
BINARY = [((), ()), ((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((1,), (2, 3)),
          ((3, 4), ()), ((0,), (0,)), ((2, 0), (1,))]
TERNARY = [((3, 4), (3, 4), (3, 4)), ((3, 1), (1, 4), (4,)), ((), (2, 2), ()),
           ((0, 3), (3,), (1,))]


def _quotients(rng, shapes):
    """A dividend and a divisor |b| ≥ 0.5 of either sign whose quotient is never near an integer
    (so that finite differences do not cross a jump of floor, trunc or the remainders)."""
    b = rng.uniform(0.5, 2.0, shapes[1]) * rng.choice([-1.0, 1.0], shapes[1])
    q = rng.integers(-4, 4, np.broadcast_shapes(shapes[0], shapes[1])) + rng.uniform(0.1, 0.9)
    a = (q * b)
    a = a.reshape(a.shape) if a.shape == tuple(shapes[0]) else rng.uniform(-5, 5, shapes[0])
    return [np.asarray(a), np.asarray(b)]


def _integers(rng, shapes):
    """Integer operands of both signs, divisors nonzero."""
    a = rng.integers(-9, 10, shapes[0])
    b = rng.integers(1, 5, shapes[1]) * rng.choice([-1, 1], shapes[1])
    return [np.asarray(a), np.asarray(b)]


def _nonzero(rng, shapes):
    out = []
    for s in shapes:
        out.append(np.asarray(rng.uniform(0.2, 2.0, s) * rng.choice([-1.0, 1.0], s)))
    return out


def _positive_y(rng, shapes):
    return [np.asarray(rng.uniform(-2, 2, shapes[0])), np.asarray(rng.uniform(0.2, 3, shapes[1]))]


def _distinct(rng, shapes):
    a = rng.uniform(-2, 2, shapes[0])
    b = rng.uniform(-2, 2, shapes[1])
    return [np.asarray(a), np.asarray(b)]


def _int_spec(name, ours, ref, shapes=BINARY[:6], make=_integers):
    return OpSpec(name, ours, ref, shapes, make=make, gradcheck=False, grad_inputs=())


def _scalar_cases(name, ours, ref):
    """Python numbers on either side (the dtype stays the tensor's, as PyTorch)."""
    return [
        OpSpec(name, lambda a, f=ours: f(a, 1.5), lambda a, f=ref: f(a, 1.5), [((3, 4),), ((),)],
               low=-4, high=4),
        _int_spec(name, lambda a, f=ours: f(a, 3), lambda a, f=ref: f(a, 3), [((3, 4),)],
                  make=lambda rng, s: [rng.integers(-9, 10, s[0])]),
    ]


SPECS = [
    OpSpec("div", lambda a, b: nl.div(a, b, rounding_mode="floor"),
           lambda a, b: torch.div(a, b, rounding_mode="floor"), BINARY, make=_quotients),
    OpSpec("div", lambda a, b: nl.div(a, b, rounding_mode="trunc"),
           lambda a, b: torch.div(a, b, rounding_mode="trunc"), BINARY, make=_quotients),
    OpSpec("div", lambda a, b: a.div(b, rounding_mode=None), lambda a, b: a.div(b), BINARY,
           make=_nonzero),
    _int_spec("div", lambda a, b: nl.div(a, b, rounding_mode="floor"),
              lambda a, b: torch.div(a, b, rounding_mode="floor")),
    _int_spec("div", lambda a, b: nl.div(a, b, rounding_mode="trunc"),
              lambda a, b: torch.div(a, b, rounding_mode="trunc")),
    _int_spec("div", nl.div, torch.div),  # true division of integers is float32
    _int_spec("div", lambda a, b: nl.div(a.double(), b, rounding_mode="floor"),
              lambda a, b: torch.div(a.double(), b, rounding_mode="floor")),
    OpSpec("divide", nl.divide, torch.divide, BINARY[:3], make=_nonzero),
    OpSpec("true_divide", nl.true_divide, torch.true_divide, BINARY[:3], make=_nonzero),
    OpSpec("multiply", nl.multiply, torch.multiply, BINARY[:3]),
    OpSpec("subtract", lambda a, b: nl.subtract(a, b, alpha=2),
           lambda a, b: torch.subtract(a, b, alpha=2), BINARY[:3]),
    # torch.floor_divide has no derivative (its backward raises): values only here; the zero
    # gradient is checked through div(rounding_mode='floor') above.
    _int_spec("floor_divide", nl.floor_divide, torch.floor_divide, BINARY, make=_quotients),
    _int_spec("floor_divide", lambda a, b: a // b, lambda a, b: a // b, BINARY[:3],
              make=_quotients),
    _int_spec("floor_divide", lambda a, b: a // b, lambda a, b: a // b),
    OpSpec("remainder", nl.remainder, torch.remainder, BINARY, make=_quotients),
    OpSpec("remainder", lambda a, b: a % b, lambda a, b: a % b, BINARY[:3], make=_quotients),
    _int_spec("remainder", lambda a, b: a % b, lambda a, b: a % b),
    OpSpec("fmod", nl.fmod, torch.fmod, BINARY, make=_quotients),
    _int_spec("fmod", nl.fmod, torch.fmod),
    OpSpec("copysign", nl.copysign, torch.copysign, BINARY, make=_nonzero),
    _int_spec("copysign", nl.copysign, torch.copysign),
    OpSpec("atan2", nl.atan2, torch.atan2, BINARY, make=_nonzero),
    OpSpec("arctan2", nl.arctan2, torch.arctan2, BINARY[:3], make=_nonzero),
    OpSpec("hypot", nl.hypot, torch.hypot, BINARY, make=_nonzero),
    OpSpec("xlogy", nl.xlogy, torch.xlogy, BINARY, make=_positive_y),
    OpSpec("xlogy", lambda a, b: nl.xlogy(a * 0.0, b), lambda a, b: torch.xlogy(a * 0.0, b),
           [((3, 4), (3, 4))], make=_positive_y),
    OpSpec("fmax", nl.fmax, torch.fmax, BINARY, make=_distinct),
    OpSpec("fmin", nl.fmin, torch.fmin, BINARY, make=_distinct),
    OpSpec("lerp", nl.lerp, torch.lerp, TERNARY),
    OpSpec("lerp", lambda a, b: nl.lerp(a, b, 0.3), lambda a, b: torch.lerp(a, b, 0.3),
           BINARY[:4]),
    OpSpec("addcmul", lambda a, b, c: nl.addcmul(a, b, c, value=0.5),
           lambda a, b, c: torch.addcmul(a, b, c, value=0.5), TERNARY),
    OpSpec("addcdiv", lambda a, b, c: nl.addcdiv(a, b, c, value=-2),
           lambda a, b, c: torch.addcdiv(a, b, c, value=-2), TERNARY, make=_nonzero),
]
for _name, _ours, _ref in [("remainder", nl.remainder, torch.remainder),
                           ("fmod", nl.fmod, torch.fmod)]:
    SPECS += _scalar_cases(_name, _ours, _ref)
SPECS += [_int_spec("floor_divide", lambda a: nl.floor_divide(a, 1.5),
                    lambda a: torch.floor_divide(a, 1.5), [((3, 4),)],
                    make=lambda rng, s: [rng.uniform(-4, 4, s[0])]),
          _int_spec("floor_divide", lambda a: 7 // a, lambda a: 7 // a, [((3, 4),)],
                    make=lambda rng, s: [rng.integers(1, 5, s[0])])]

SPECS += [
    OpSpec("rsub", lambda a, b: nl.rsub(a, b, alpha=3), lambda a, b: torch.rsub(a, b, alpha=3),
           BINARY),
    OpSpec("logaddexp", nl.logaddexp, torch.logaddexp, BINARY, low=-30, high=30),
    OpSpec("logaddexp2", nl.logaddexp2, torch.logaddexp2, BINARY, low=-30, high=30),
    OpSpec("float_power", nl.float_power, torch.float_power, BINARY[:4], low=0.5, high=2),
    _int_spec("float_power", nl.float_power, torch.float_power,
              make=lambda rng, s: [rng.integers(-3, 4, s[0]), rng.integers(0, 3, s[1])]),
    _int_spec("heaviside", nl.heaviside, torch.heaviside, BINARY[:5],
              make=lambda rng, s: [rng.choice([-1.5, 0.0, 2.0], s[0]), rng.uniform(0, 1, s[1])]),
    _int_spec("heaviside", nl.heaviside, torch.heaviside, BINARY[:3]),
    _int_spec("gcd", nl.gcd, torch.gcd, BINARY[:5]),
    _int_spec("lcm", nl.lcm, torch.lcm, BINARY[:5]),
]
