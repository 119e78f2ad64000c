"""Specs of ``embedding_bag`` against ``torch.nn.functional.embedding_bag``: the three modes on
2-D inputs and on 1-D inputs with offsets (an empty bag included), padding_idx,
per-sample weights, include_last_offset; scale_grad_by_freq against F.embedding's (see the op's
docstring: torch's embedding_bag mis-scales it)."""

import numpy as np
import torch.nn.functional as TF

import neuralab as nl
from tests.ops.specs import OpSpec

OFFSETS = np.array([0, 2, 2, 5])  # bags [0, 2), [] (empty), [2, 5), [5, M)


def _make(with_offsets=False, psw=False, padding=None, last=False):
    def make(rng, shapes):
        idx_shape, w_shape = shapes[:2]
        idx = rng.integers(0, w_shape[0], size=idx_shape).astype(np.int64)
        flat = idx.reshape(-1)
        flat[1] = flat[0]  # a repeated row sums its gradients
        flat[3] = flat[4] if flat[4] != flat[0] else flat[3]
        if padding is not None:
            flat[2] = padding % w_shape[0]
        out = [idx, rng.uniform(-1, 1, size=w_shape)]
        if with_offsets:
            out.append(np.append(OFFSETS, idx.size) if last else OFFSETS.copy())
        if psw:
            out.append(rng.uniform(0.5, 1.5, size=idx_shape))
        return out

    return make


def _both(mode, **kw):
    def fn(i, w, *rest):
        return nl.embedding_bag(i, w, *rest[:1], mode=mode, per_sample_weights=None
                                if len(rest) < 2 else rest[1], **kw)

    def ref(i, w, *rest):
        return TF.embedding_bag(i, w, *rest[:1], mode=mode, per_sample_weights=None
                                if len(rest) < 2 else rest[1], **kw)

    return fn, ref


SPECS = []
for _mode in ("sum", "mean", "max"):
    SPECS += [
        OpSpec("embedding_bag", *_both(_mode), [((3, 4), (6, 3)), ((2, 5), (7, 2))],
               make=_make(), grad_inputs=(1,)),
        OpSpec("embedding_bag", *_both(_mode), [((8,), (6, 3))], make=_make(True),
               grad_inputs=(1,)),
        OpSpec("embedding_bag", *_both(_mode, padding_idx=-2), [((8,), (6, 3))],
               make=_make(True, padding=-2), grad_inputs=(1,), gradcheck=False),
        OpSpec("embedding_bag", *_both(_mode, include_last_offset=True), [((9,), (5, 2))],
               make=_make(True, last=True), grad_inputs=(1,)),
    ]
SPECS += [
    OpSpec("embedding_bag", *_both("sum"), [((8,), (6, 3))], make=_make(True, psw=True),
           grad_inputs=(1, 3)),
    OpSpec("embedding_bag",
           lambda i, w, p: nl.embedding_bag(i, w, mode="sum", per_sample_weights=p),
           lambda i, w, p: TF.embedding_bag(i, w, mode="sum", per_sample_weights=p),
           [((3, 4), (6, 3))], make=_make(psw=True), grad_inputs=(1, 2)),
    OpSpec("embedding_bag", *_both("sum", padding_idx=1), [((8,), (6, 3))],
           make=_make(True, psw=True, padding=1), grad_inputs=(1, 3), gradcheck=False),
    OpSpec("embedding_bag",
           lambda i, w: nl.embedding_bag(i, w, mode="mean", scale_grad_by_freq=True),
           lambda i, w: TF.embedding(i, w, scale_grad_by_freq=True).mean(1),
           [((3, 4), (5, 2))], make=_make(), grad_inputs=(1,),
           gradcheck=False),  # the scaled gradient is not the derivative, by design
    OpSpec("embedding_bag",
           lambda i, w: nl.embedding_bag(i, w, mode="sum", scale_grad_by_freq=True),
           lambda i, w: TF.embedding(i, w, scale_grad_by_freq=True).sum(1),
           [((2, 5), (6, 3))], make=_make(), grad_inputs=(1,), gradcheck=False),
]
