"""Specs of the elementwise ops."""

import numpy as np
import torch
import torch.nn.functional as TF

import neuralab as nl
from tests.ops.specs import OpSpec

UNARY = [(), (1,), (5,), (3, 4), (2, 3, 4)]
BINARY = [((), ()), ((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((1,), (2, 3)),
          ((3, 4), ())]


def _away_from_zero(rng, shapes):
    """Inputs with |x| >= 0.1, away from the kinks of relu, abs and friends at 0."""
    out = []
    for shape in shapes:
        x = rng.uniform(0.1, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
        out.append(np.asarray(x))
    return out


def _distinct_pair(rng, shapes):
    """Two operands that never tie (for maximum/minimum)."""
    a = rng.uniform(-2, 2, size=shapes[0])
    b = rng.uniform(-2, 2, size=shapes[1])
    gap = np.abs(a - b) if np.shape(a) == np.shape(b) else np.abs(np.subtract(a, b))
    b = b + 0.2 * (gap.min() < 0.05) if np.ndim(b) == 0 else b
    return [np.asarray(a), np.asarray(b)]


def _where_inputs(rng, shapes):
    cond = rng.random(shapes[0]) > 0.5
    return [np.asarray(cond), rng.uniform(-2, 2, shapes[1]), rng.uniform(-2, 2, shapes[2])]


SPECS = [
    OpSpec("add", nl.add, torch.add, BINARY),
    OpSpec("sub", nl.sub, torch.sub, BINARY),
    OpSpec("mul", nl.mul, torch.mul, BINARY),
    OpSpec("div", nl.div, torch.div, BINARY, low=0.5, high=2.0),
    OpSpec("pow", nl.pow, torch.pow, BINARY, low=0.5, high=2.0),
    OpSpec("neg", nl.neg, torch.neg, [(s,) for s in UNARY]),
    OpSpec("exp", nl.exp, torch.exp, [(s,) for s in UNARY]),
    OpSpec("log", nl.log, torch.log, [(s,) for s in UNARY], low=0.2, high=3.0),
    OpSpec("sqrt", nl.sqrt, torch.sqrt, [(s,) for s in UNARY], low=0.2, high=3.0),
    OpSpec("abs", nl.abs, torch.abs, [(s,) for s in UNARY], make=_away_from_zero),
    OpSpec("tanh", nl.tanh, torch.tanh, [(s,) for s in UNARY]),
    OpSpec("sigmoid", nl.sigmoid, torch.sigmoid, [(s,) for s in UNARY], low=-6, high=6),
    OpSpec("relu", nl.relu, torch.relu, [(s,) for s in UNARY], make=_away_from_zero),
    OpSpec("leaky_relu", lambda x: nl.leaky_relu(x, 0.1), lambda x: TF.leaky_relu(x, 0.1),
           [(s,) for s in UNARY], make=_away_from_zero),
    OpSpec("elu", lambda x: nl.elu(x, 0.7), lambda x: TF.elu(x, 0.7), [(s,) for s in UNARY],
           make=_away_from_zero),
    OpSpec("gelu", nl.gelu, TF.gelu, [(s,) for s in UNARY], low=-4, high=4),
    OpSpec("gelu", lambda x: nl.gelu(x, approximate="tanh"),
           lambda x: TF.gelu(x, approximate="tanh"), [(s,) for s in UNARY], low=-4, high=4),
    OpSpec("softplus", nl.softplus, TF.softplus, [(s,) for s in UNARY], low=-5, high=5),
    OpSpec("softplus", lambda x: nl.softplus(x, beta=2.0, threshold=3.0),
           lambda x: TF.softplus(x, beta=2.0, threshold=3.0), [((4, 5),)], low=-3, high=3),
    OpSpec("clamp", lambda x: nl.clamp(x, -0.55, 0.65), lambda x: torch.clamp(x, -0.55, 0.65),
           [(s,) for s in UNARY]),
    OpSpec("clamp", lambda x: nl.clamp(x, min=0.05), lambda x: torch.clamp(x, min=0.05),
           [((3, 4),)]),
    OpSpec("clip", lambda x: nl.clip(x, -0.5, 0.5), lambda x: torch.clip(x, -0.5, 0.5),
           [((3, 4),), ((0,),)]),
    # tensor bounds, crossing bounds (min > max gives max) and one-sided bounds
    OpSpec("clamp", lambda x, lo, hi: nl.clamp(x, lo, hi), lambda x, lo, hi: torch.clamp(x, lo, hi),
           [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)), ((2, 3), (), ())],
           make=lambda rng, s: [rng.choice([-1.7, -0.9, -0.3, 0.2, 0.6, 1.4], s[0]),
                                rng.choice([-1.0, -0.5, 0.8], s[1]),
                                rng.choice([-0.7, 0.5, 1.0], s[2])]),
    OpSpec("clamp", lambda x, lo: x.clamp(min=lo), lambda x, lo: x.clamp(min=lo),
           [((3, 4), (4,))], make=lambda rng, s: [rng.choice([-1.7, 0.2, 1.4], s[0]),
                                                  rng.choice([-1.0, 0.8], s[1])]),
    OpSpec("clamp", lambda x, hi: nl.clamp(x, max=hi), lambda x, hi: torch.clamp(x, max=hi),
           [((3, 4), (3, 1))], make=lambda rng, s: [rng.choice([-1.7, 0.2, 1.4], s[0]),
                                                    rng.choice([-1.0, 0.8], s[1])]),
    OpSpec("clamp", lambda x: nl.clamp(x, min=1.5), lambda x: torch.clamp(x, min=1.5),
           [((3, 4),)], make=lambda rng, s: [rng.integers(-3, 4, s[0])], gradcheck=False,
           grad_inputs=()),
    OpSpec("pow", lambda a: nl.pow(a, 2.5), lambda a: torch.pow(a, 2.5), [((3, 4),)],
           make=lambda rng, s: [rng.integers(0, 4, s[0])], gradcheck=False, grad_inputs=()),
    OpSpec("pow", lambda a, b: a**b, lambda a, b: a**b, [((3, 4), (3, 4))],
           make=lambda rng, s: [rng.integers(-3, 4, s[0]), rng.integers(0, 4, s[1])],
           gradcheck=False, grad_inputs=()),
    # PyTorch's conventions at a zero base: x**0 has x̄ = 0, 0**y has ȳ = 0 for y ≥ 0
    OpSpec("pow", nl.pow, torch.pow, [((4,), (4,))], gradcheck=False,
           make=lambda rng, s: [np.array([0.0, 0.0, 0.0, 2.0]), np.array([0.0, 1.0, 2.5, 0.0])]),
    OpSpec("pow", lambda b: 0.0**b, lambda b: 0.0**b, [((3,),)], gradcheck=False,
           make=lambda rng, s: [np.array([0.0, 1.0, 2.0])]),
    OpSpec("add", lambda a, b: nl.add(a, b, alpha=-0.5), lambda a, b: torch.add(a, b, alpha=-0.5),
           BINARY),
    OpSpec("add", lambda a, b: a + b, lambda a, b: a + b, [((3, 4), (4,)), ((3,), ())],
           make=lambda rng, s: [rng.uniform(-2, 2, s[0]).astype(np.float32),
                                rng.integers(-3, 3, s[1])], gradcheck=False, atol=1e-6),
    OpSpec("maximum", nl.maximum, torch.maximum, BINARY, make=_distinct_pair),
    OpSpec("minimum", nl.minimum, torch.minimum, BINARY, make=_distinct_pair),
    OpSpec("where", nl.where, torch.where,
           [((3, 4), (3, 4), (3, 4)), ((3, 1), (1, 4), (4,)), ((), (2, 2), ())],
           make=_where_inputs),
    OpSpec("cast", lambda x: nl.cast(x, np.float32).double() * 1.0,
           lambda x: x.float().double() * 1.0, [((3, 4),)], gradcheck=False, atol=1e-6,
           rtol=1e-6),
]

# Comparisons return bool tensors without gradient: compared on values only.
for _name, _ref in [("eq", torch.eq), ("ne", torch.ne), ("lt", torch.lt), ("le", torch.le),
                    ("gt", torch.gt), ("ge", torch.ge)]:
    SPECS.append(OpSpec(_name, getattr(nl, _name), _ref, [((3, 4), (3, 4)), ((3, 4), (4,))],
                        make=lambda rng, shapes: [np.round(rng.uniform(-2, 2, s)) for s in shapes],
                        gradcheck=False, grad_inputs=()))
SPECS += [
    OpSpec("clamp_min", lambda x: nl.clamp_min(x, 0.2), lambda x: torch.clamp_min(x, 0.2),
           [((3, 4),), ((0,),)]),
    OpSpec("clamp_max", lambda x, m: x.clamp_max(m), lambda x, m: x.clamp_max(m),
           [((3, 4), (4,))]),
    OpSpec("where", lambda x, y: x.where(x > 0, y), lambda x, y: x.where(x > 0, y),
           [((3, 4), (4,))], make=lambda rng, s: [rng.uniform(-2, 2, s[0]) + 0.01,
                                                  rng.uniform(-2, 2, s[1])]),
]
