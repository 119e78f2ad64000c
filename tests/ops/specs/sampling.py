"""Specs of the random draws (ops/sampling.py): no PyTorch twin gives the same numbers, so these
only register the ops; tests/ops/test_sampling.py checks their distributions, shapes, dtypes,
seeding and errors."""

import neuralab as nl
from tests.ops.specs import OpSpec

_REASON = "random draws: tests/ops/test_sampling.py checks their distributions against theory"


def _spec(name, fn, shapes):
    return OpSpec(name, fn, None, shapes, low=0.1, high=0.9, gradcheck=False, grad_inputs=(),
                  no_ref_reason=_REASON)


SPECS = [
    _spec("normal", nl.normal, [((3, 4), (3, 4))]),
    _spec("bernoulli", nl.bernoulli, [((3, 4),)]),
    _spec("multinomial", lambda p: nl.multinomial(p, 2), [((3, 4),)]),
    _spec("poisson", nl.poisson, [((3, 4),)]),
]
