"""Specs of the in-place activations (F.relu_, F.elu_...): each runs on a copy of the input (a
leaf that requires grad refuses in-place changes), so the gradient checked is the one that
reaches the tensor the copy was made from, through the in-place op recorded in the graph."""

import torch
import torch.nn.functional as TF

import neuralab as nl
import neuralab.nn.functional as F
from tests.ops.specs import OpSpec

_SHAPES = [((3, 4),), ((5,),), ((2, 3, 2),)]


def _inplace(name, ours, theirs, shapes=_SHAPES, **kw):
    return OpSpec(name, lambda x: ours(x.clone()), lambda x: theirs(x.clone()), shapes, **kw)


SPECS = [
    _inplace("relu_", F.relu_, TF.relu_),
    _inplace("relu_", nl.relu_, torch.relu_, [((4,),)]),
    _inplace("elu_", F.elu_, TF.elu_),
    _inplace("elu_", lambda x: F.elu_(x, 0.6), lambda x: TF.elu_(x, 0.6), [((3, 4),)]),
    _inplace("leaky_relu_", F.leaky_relu_, TF.leaky_relu_),
    _inplace("leaky_relu_", lambda x: F.leaky_relu_(x, 0.2), lambda x: TF.leaky_relu_(x, 0.2),
             [((3, 4),)]),
    _inplace("hardtanh_", F.hardtanh_, TF.hardtanh_),
    _inplace("hardtanh_", lambda x: F.hardtanh_(x, -0.5, 1.5),
             lambda x: TF.hardtanh_(x, -0.5, 1.5), [((3, 4),)]),
    _inplace("selu_", F.selu_, TF.selu_),
    _inplace("selu_", nl.selu_, torch.selu_, [((4,),)]),
    _inplace("celu_", F.celu_, TF.celu_),
    _inplace("celu_", lambda x: nl.celu_(x, 0.7), lambda x: torch.celu_(x, 0.7), [((3, 4),)]),
    _inplace("threshold_", lambda x: F.threshold_(x, 0.3, -2.0),
             lambda x: TF.threshold_(x, 0.3, -2.0)),
    _inplace("rrelu_", F.rrelu_, TF.rrelu_),  # training=False: the mean slope
    _inplace("rrelu_", lambda x: nl.rrelu_(x, 0.1, 0.5), lambda x: torch.rrelu_(x, 0.1, 0.5),
             [((3, 4),)]),
]


def _seeded_rrelu_(x):
    nl.manual_seed(3)
    return F.rrelu_(x.clone(), 0.1, 0.4, training=True)


SPECS.append(OpSpec("rrelu_", _seeded_rrelu_, None, [((3, 4),)],
                    no_ref_reason="the slopes are random: neuralab's generator is not PyTorch's"))
