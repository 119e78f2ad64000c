"""Specs of batch_norm (training and evaluation, with and without γ/β) and local_response_norm.

The running statistics are made fresh inside each call (batch_norm updates them in place), so
repeated evaluations by the gradient check see the same op; the updates themselves are compared
with PyTorch in tests/nn/test_conv_layers.py.
"""

import numpy as np
import torch
import torch.nn.functional as TF

import neuralab as nl
from tests.ops.specs import OpSpec


def _running(C, lib):
    mean, var = 0.1 * np.arange(C) - 0.2, 1.0 + 0.3 * np.arange(C)
    if lib == "torch":
        return torch.tensor(mean), torch.tensor(var)
    return nl.tensor(mean, dtype=np.float64), nl.tensor(var, dtype=np.float64)


def _bn(training, affine=True, momentum=0.1, eps=1e-5):
    def fn(x, *wb):
        rm, rv = _running(x.shape[1], "nl")
        return nl.batch_norm(x, rm, rv, *wb, training=training, momentum=momentum, eps=eps)

    def ref(x, *wb):
        rm, rv = _running(x.shape[1], "torch")
        return TF.batch_norm(x, rm, rv, *wb, training=training, momentum=momentum, eps=eps)

    return fn, ref


def _bn_spec(training, shapes, affine=True, **kw):
    fn, ref = _bn(training, **kw)
    cases = [(s, (s[1],), (s[1],)) if affine else (s,) for s in shapes]
    return OpSpec("batch_norm", fn, ref, cases, tags=(f"training={training}", f"affine={affine}"))


def _lrn(shapes, size, **kw):
    return OpSpec("local_response_norm",
                  lambda x: nl.local_response_norm(x, size, **kw),
                  lambda x: TF.local_response_norm(x, size, **kw), [(s,) for s in shapes],
                  tags=(f"size={size}", str(kw)))


SPECS = [
    _bn_spec(True, [(5, 3), (4, 3, 5), (3, 2, 4, 3)]),
    _bn_spec(True, [(4, 3, 2, 3)], affine=False, eps=1e-3),
    _bn_spec(False, [(5, 3), (4, 3, 5), (3, 2, 4, 3)]),
    _bn_spec(False, [(2, 3, 2, 2)], affine=False, momentum=0.5),
    OpSpec("batch_norm",
           lambda x, w: nl.batch_norm(x, None, None, w, training=True),
           lambda x, w: TF.batch_norm(x, None, None, w, training=True),
           [((4, 3, 2, 2), (3,))], tags=("weight only, no running stats",)),
    _lrn([(2, 5, 3, 3), (1, 4, 6)], 3),
    _lrn([(2, 6, 2, 3)], 5, alpha=0.5, beta=0.75, k=2.0),
    _lrn([(1, 3, 2, 2, 2), (2, 4, 3)], 2, alpha=0.3, beta=0.6),
    _lrn([(2, 3, 4)], 1, alpha=0.2, beta=1.5, k=0.5),
    _lrn([(1, 3, 2, 2)], 7, alpha=0.4),
]
