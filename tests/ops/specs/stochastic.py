"""Specs of the random ops (rrelu, alpha dropout, Gumbel-softmax): the random draws have no
PyTorch twin, so their gradient checks reseed the generator inside ``fn`` (each evaluation draws
the same noise); the deterministic cases (evaluation mode, p = 0, p = 1) are compared with
PyTorch. tests/ops/test_stochastic.py checks the distributions."""

import torch.nn.functional as TF

import neuralab as nl
import neuralab.nn.functional as F
from tests.ops.specs import OpSpec


def _seeded(fn):
    def run(*args):
        nl.manual_seed(11)
        return fn(*args)

    return run


_RANDOM = "the noise is random: neuralab's generator differs from PyTorch's"
_SHAPES = [((3, 4),), ((2, 3, 2, 2),)]

SPECS = [
    OpSpec("rrelu", F.rrelu, TF.rrelu, _SHAPES),  # training=False by default: the mean slope
    OpSpec("rrelu", lambda x: F.rrelu(x, 0.2, 0.6), lambda x: TF.rrelu(x, 0.2, 0.6),
           [((5,),)]),
    OpSpec("rrelu", _seeded(lambda x: F.rrelu(x, 0.1, 0.3, training=True)), None, _SHAPES,
           no_ref_reason=_RANDOM),
    OpSpec("alpha_dropout", F.alpha_dropout, TF.alpha_dropout, _SHAPES),  # training=False
    OpSpec("alpha_dropout", lambda x: F.alpha_dropout(x, 0.0, True),
           lambda x: TF.alpha_dropout(x, 0.0, True), [((3, 4),)]),
    OpSpec("alpha_dropout", lambda x: F.alpha_dropout(x, 1.0, True),
           lambda x: TF.alpha_dropout(x, 1.0, True), [((3, 4),)]),
    OpSpec("alpha_dropout", _seeded(lambda x: F.alpha_dropout(x, 0.3, True)), None, _SHAPES,
           no_ref_reason=_RANDOM),
    OpSpec("feature_alpha_dropout", F.feature_alpha_dropout, TF.feature_alpha_dropout, _SHAPES),
    OpSpec("feature_alpha_dropout", lambda x: F.feature_alpha_dropout(x, 1.0, True),
           lambda x: TF.feature_alpha_dropout(x, 1.0, True), [((2, 3, 2),)]),
    OpSpec("feature_alpha_dropout", _seeded(lambda x: F.feature_alpha_dropout(x, 0.4, True)),
           None, _SHAPES, no_ref_reason=_RANDOM),
    OpSpec("gumbel_softmax", _seeded(F.gumbel_softmax), None, [((3, 4),), ((5,),)],
           no_ref_reason=_RANDOM),
    OpSpec("gumbel_softmax", _seeded(lambda x: F.gumbel_softmax(x, tau=0.5, dim=0)), None,
           [((3, 4),)], no_ref_reason=_RANDOM),
]
