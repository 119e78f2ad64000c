"""Specs of dropout: the random masks have no PyTorch twin, so the gradient checks reseed the
generator inside ``fn`` (each evaluation draws the same mask); p = 0 and p = 1 are deterministic
and compared with PyTorch."""

import torch.nn.functional as TF

import neuralab as nl
from tests.ops.specs import OpSpec


def _seeded(fn):
    def run(*args):
        nl.manual_seed(7)
        return fn(*args)

    return run


_RANDOM = "the mask is random: neuralab's generator differs from PyTorch's"

SPECS = [
    OpSpec("dropout", _seeded(lambda x: nl.dropout(x, 0.3)), None, [((5,),), ((3, 4),)],
           no_ref_reason=_RANDOM),
    OpSpec("dropout", lambda x: nl.dropout(x, 0.0), lambda x: TF.dropout(x, 0.0),
           [((3, 4),)]),
    OpSpec("dropout", lambda x: nl.dropout(x, 1.0), lambda x: TF.dropout(x, 1.0),
           [((3, 4),)]),
    OpSpec("dropout", lambda x: nl.dropout(x, 0.5, training=False),
           lambda x: TF.dropout(x, 0.5, training=False), [((3, 4),)]),
    OpSpec("dropout2d", _seeded(lambda x: nl.dropout2d(x, 0.5)), None,
           [((2, 3, 2, 2),), ((3, 2, 2),)], no_ref_reason=_RANDOM),
    OpSpec("dropout2d", lambda x: nl.dropout2d(x, 1.0), lambda x: TF.dropout2d(x, 1.0),
           [((2, 3, 2, 2),)]),
    OpSpec("dropout1d", _seeded(lambda x: nl.dropout1d(x, 0.4)), None,
           [((2, 3, 4),), ((3, 5),)], no_ref_reason=_RANDOM),
    OpSpec("dropout1d", lambda x: nl.dropout1d(x, 1.0), lambda x: TF.dropout1d(x, 1.0),
           [((2, 3, 4),)]),
    OpSpec("dropout1d", lambda x: nl.dropout1d(x, 0.5, training=False),
           lambda x: TF.dropout1d(x, 0.5, training=False), [((3, 4),)]),
    OpSpec("dropout3d", _seeded(lambda x: nl.dropout3d(x, 0.5)), None,
           [((2, 3, 2, 2, 2),), ((3, 2, 1, 2),)], no_ref_reason=_RANDOM),
    OpSpec("dropout3d", lambda x: nl.dropout3d(x, 1.0), lambda x: TF.dropout3d(x, 1.0),
           [((2, 3, 2, 1, 2),)]),
]
