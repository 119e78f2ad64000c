"""Specs of group_norm, instance_norm and rms_norm: with and without γ/β, one group, one group
per channel, 2- to 5-d inputs; instance_norm with and without running statistics (made fresh
inside each call, since they are updated in place; the updates themselves are compared with
PyTorch in tests/nn/test_group_norm.py)."""

import numpy as np
import torch
import torch.nn.functional as TF

import neuralab as nl
from tests.ops.specs import OpSpec


def _gn(shapes, groups, weight=True, bias=True, eps=1e-5):
    C = [s[1] for s in shapes]
    cases = [(s,) + (((c,),) if weight else ()) + (((c,),) if bias else ())
             for s, c in zip(shapes, C)]

    def split(wb):
        w = wb[0] if weight else None
        b = wb[-1] if bias else None
        return w, b

    def ref(x, *wb):
        w, b = split(wb)
        if w is None and b is not None:
            # PyTorch 2.13's backward fails with a bias but no weight ("tensor does not have a
            # device"); γ = 1 is the same function.
            w = torch.ones(x.shape[1], dtype=x.dtype)
        return TF.group_norm(x, groups, w, b, eps=eps)

    return OpSpec("group_norm", lambda x, *wb: nl.group_norm(x, groups, *split(wb), eps=eps),
                  ref, cases,
                  tags=(f"num_groups={groups}", f"weight={weight}", f"bias={bias}"))


def _running(C, lib):
    mean, var = 0.1 * np.arange(C) - 0.2, 1.0 + 0.3 * np.arange(C)
    if lib == "torch":
        return torch.tensor(mean), torch.tensor(var)
    return nl.tensor(mean, dtype=np.float64), nl.tensor(var, dtype=np.float64)


def _in(shapes, affine=True, running=False, use_input_stats=True, momentum=0.1, eps=1e-5):
    def call(lib, F, x, wb):
        rm, rv = _running(x.shape[1], lib) if running else (None, None)
        return F.instance_norm(x, rm, rv, *wb, use_input_stats=use_input_stats,
                               momentum=momentum, eps=eps)

    cases = [(s, (s[1],), (s[1],)) if affine else (s,) for s in shapes]
    return OpSpec("instance_norm", lambda x, *wb: call("nl", nl, x, wb),
                  lambda x, *wb: call("torch", TF, x, wb), cases,
                  tags=(f"affine={affine}", f"running={running}",
                        f"use_input_stats={use_input_stats}"))


def _rms(shapes, normalized_shape, weight=True, eps=None):
    D = len(normalized_shape)
    cases = [(s, tuple(s[-D:])) if weight else (s,) for s in shapes]
    return OpSpec("rms_norm", lambda x, *w: nl.rms_norm(x, normalized_shape, *w, eps=eps),
                  lambda x, *w: TF.rms_norm(x, normalized_shape, *w, eps=eps), cases,
                  tags=(f"normalized_shape={normalized_shape}", f"weight={weight}", f"eps={eps}"))


SPECS = [
    _gn([(3, 6, 4), (2, 6, 2, 3)], 3),
    _gn([(2, 4, 3, 2)], 1, eps=1e-3),  # one group: layer norm over (C, H, W)
    _gn([(2, 4, 5)], 4, weight=True, bias=False),  # one group per channel: instance norm
    _gn([(3, 6)], 2, weight=False, bias=True),  # no positions: groups of channels alone
    _gn([(1, 4, 2, 2, 2)], 2, weight=False, bias=False),
    _in([(2, 3, 5), (2, 2, 3, 4)]),
    _in([(3, 2, 2, 2, 2)], affine=False, eps=1e-3),
    _in([(2, 3, 4)], running=True, momentum=0.3),
    _in([(2, 3, 2, 3)], running=True, use_input_stats=False),
    _in([(2, 3, 4)], affine=False, running=True, use_input_stats=False),
    _rms([(4, 6), (2, 3, 6)], (6,)),
    _rms([(2, 3, 4)], (3, 4), eps=1e-3),
    _rms([(5, 7)], (7,), weight=False),
    _rms([(2, 2, 3)], (2, 3), weight=False, eps=0.5),
]
