"""Specs of the nonlinearities in ops/activation.py (F.hardtanh, F.silu, ...)."""

import numpy as np
import torch
import torch.nn.functional as TF

import neuralab as nl
import neuralab.nn.functional as F
from tests.ops.specs import OpSpec

UNARY = [((),), ((1,),), ((5,),), ((3, 4),), ((2, 3, 4),), ((0,),), ((2, 0, 3),)]


def _away_from(*kinks):
    """Inputs in [−5, 5] at least 0.05 away from the given kinks."""
    def make(rng, shapes):
        out = []
        for s in shapes:
            x = rng.uniform(-5, 5, s)
            for k in kinks:
                x = np.where(np.abs(x - k) < 0.05, k + 0.1, x)
            out.append(np.asarray(x))
        return out
    return make


def _at(*points):
    """Exactly the kinks (and around them): PyTorch's conventions there."""
    return lambda rng, shapes: [np.asarray(rng.choice(np.array(points, dtype=float), shapes[0]))]


SMOOTH = [("silu", TF.silu), ("mish", TF.mish), ("softsign", TF.softsign),
          ("logsigmoid", TF.logsigmoid), ("tanhshrink", TF.tanhshrink)]
SPECS = []
for _name, _ref in SMOOTH:
    SPECS.append(OpSpec(_name, getattr(F, _name), _ref, UNARY, low=-5, high=5))
SPECS += [
    OpSpec("logsigmoid", F.logsigmoid, TF.logsigmoid, [((6,),)], low=-60, high=60),
    OpSpec("hardtanh", F.hardtanh, TF.hardtanh, UNARY, make=_away_from(-1, 1)),
    OpSpec("hardtanh", lambda x: F.hardtanh(x, -2.0, 0.5), lambda x: TF.hardtanh(x, -2.0, 0.5),
           [((3, 4),)], make=_away_from(-2, 0.5)),
    OpSpec("relu6", F.relu6, TF.relu6, UNARY, make=_away_from(0, 6)),
    OpSpec("relu6", lambda x: F.relu6(x * 2), lambda x: TF.relu6(x * 2), [((3, 4),)],
           make=_away_from(0, 3)),
    OpSpec("hardswish", F.hardswish, TF.hardswish, UNARY, make=_away_from(-3, 3)),
    OpSpec("hardsigmoid", F.hardsigmoid, TF.hardsigmoid, UNARY, make=_away_from(-3, 3)),
    OpSpec("selu", F.selu, TF.selu, UNARY, make=_away_from(0)),
    OpSpec("celu", F.celu, TF.celu, UNARY, make=_away_from(0)),
    OpSpec("celu", lambda x: F.celu(x, alpha=0.5), lambda x: TF.celu(x, alpha=0.5), [((3, 4),)],
           make=_away_from(0)),
    OpSpec("softshrink", F.softshrink, TF.softshrink, UNARY, make=_away_from(-0.5, 0.5)),
    OpSpec("softshrink", lambda x: F.softshrink(x, 1.5), lambda x: TF.softshrink(x, 1.5),
           [((3, 4),)], make=_away_from(-1.5, 1.5)),
    OpSpec("hardshrink", F.hardshrink, TF.hardshrink, UNARY, make=_away_from(-0.5, 0.5)),
    OpSpec("hardshrink", lambda x: x.hardshrink(1.0), lambda x: x.hardshrink(1.0), [((3, 4),)],
           make=_away_from(-1, 1)),
    OpSpec("threshold", lambda x: F.threshold(x, 0.3, -2.0), lambda x: TF.threshold(x, 0.3, -2.0),
           UNARY, make=_away_from(0.3)),
    OpSpec("glu", F.glu, TF.glu, [((4,),), ((3, 4),), ((2, 6, 4),)]),
    OpSpec("glu", lambda x: F.glu(x, 1), lambda x: TF.glu(x, 1), [((2, 6, 3),), ((3, 2),)]),
    OpSpec("softmin", lambda x: F.softmin(x, -1), lambda x: TF.softmin(x, -1),
           [((5,),), ((3, 4),), ((2, 3, 4),)]),
    OpSpec("softmin", lambda x: F.softmin(x, 0), lambda x: TF.softmin(x, 0), [((3, 4),)]),
    OpSpec("prelu", F.prelu, TF.prelu, [((2, 3, 4), (3,)), ((2, 3), (1,)), ((4, 3, 2, 2), (3,)),
                                        ((5,), (1,))], make=lambda rng, s: [
        _away_from(0)(rng, s[:1])[0], rng.uniform(0.05, 0.5, s[1])]),
    # the kinks themselves: PyTorch's one-sided conventions
    OpSpec("hardtanh", F.hardtanh, TF.hardtanh, [((20,),)], make=_at(-1, 1, 0.5, -3),
           gradcheck=False),
    OpSpec("relu6", F.relu6, TF.relu6, [((20,),)], make=_at(0, 6, 3, -1, 7), gradcheck=False),
    OpSpec("hardswish", F.hardswish, TF.hardswish, [((20,),)], make=_at(-3, 3, 0, -4, 4),
           gradcheck=False),
    OpSpec("hardsigmoid", F.hardsigmoid, TF.hardsigmoid, [((20,),)], make=_at(-3, 3, 0, 4),
           gradcheck=False),
    OpSpec("selu", F.selu, TF.selu, [((10,),)], make=_at(0, -1, 1), gradcheck=False),
    OpSpec("celu", F.celu, TF.celu, [((10,),)], make=_at(0, -1, 1), gradcheck=False),
    OpSpec("softshrink", F.softshrink, TF.softshrink, [((20,),)], make=_at(-0.5, 0.5, 0, 1),
           gradcheck=False),
    OpSpec("hardshrink", F.hardshrink, TF.hardshrink, [((20,),)], make=_at(-0.5, 0.5, 0, 1),
           gradcheck=False),
    OpSpec("threshold", lambda x: F.threshold(x, 0.5, 9.0), lambda x: TF.threshold(x, 0.5, 9.0),
           [((20,),)], make=_at(0.5, 0, 1), gradcheck=False),
    OpSpec("prelu", lambda x, w: nl.prelu(x, w), lambda x, w: torch.prelu(x, w), [((2, 3), (3,))],
           make=lambda rng, s: [np.array([[0.0, -1.0, 2.0], [0.0, 3.0, -0.5]]),
                                np.array([0.1, 0.2, 0.3])], gradcheck=False),
]
