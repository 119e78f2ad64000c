"""Specs of ``linear_cross_entropy`` (cross_entropy of linear scores) against PyTorch's: batched
and unbatched, with and without the linear bias, K-dimensional weights (C, d₁, d₂, D), class
weights, ignore_index, label smoothing, probability targets, every reduction, and the chunking
``options`` (same values). The input, linear weight and bias are differentiated (and probability
targets); the class weights are constants, as in ``cross_entropy``'s specs."""

import warnings

import numpy as np
import torch
import torch.nn.functional as TF

import neuralab.nn.functional as F
from neuralab.nn import LinearCrossEntropyOptions
from tests.ops.specs import OpSpec

lce, ref = F.linear_cross_entropy, TF.linear_cross_entropy


def _make(kinds, ignore=None):
    """Inputs by kind: 'f' float (uniform), 't' class indices of the weight's C classes (some
    equal to ``ignore``), 'p' class probabilities (rows of the scores' shape summing to 1), 'c'
    positive class weights."""
    def make(rng, shapes):
        classes = shapes[1][0]
        arrays = []
        for kind, shape in zip(kinds, shapes):
            if kind == "f":
                arrays.append(rng.uniform(-1, 1, shape))
            elif kind == "t":
                t = rng.integers(0, classes, size=shape).astype(np.int64)
                if ignore is not None and t.size > 1:
                    t.reshape(-1)[::3] = ignore
                arrays.append(t)
            elif kind == "p":
                e = np.exp(rng.uniform(-2, 2, shape))
                axis = 1 if len(shape) > 1 else 0
                arrays.append(e / e.sum(axis=axis, keepdims=True))
            else:
                arrays.append(rng.uniform(0.5, 2.0, shape))
        return arrays
    return make


def both(**kw):
    """(ours, torch's) with the given keywords, inputs (x, W, target)."""
    return (lambda x, w, t: lce(x, w, t, **kw)), (lambda x, w, t: ref(x, w, t, **kw))


def with_bias(**kw):
    """Inputs (x, W, b, target, class weight)."""
    return ((lambda x, w, b, t, c: lce(x, w, t, linear_bias=b, weight=c, **kw)),
            (lambda x, w, b, t, c: ref(x, w, t, linear_bias=b, weight=c, **kw)))


def _quiet(fn):  # torch warns that the options are ignored (K-dim or smoothing): expected
    def run(*args):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return fn(*args)
    return run


PLAIN = [((6, 3), (4, 3), (6,)), ((3,), (4, 3), ()),  # batched, unbatched
         ((2, 3), (4, 2, 3, 3), (2, 2, 3))]  # K-dimensional: scores (N, C, 2, 3)
BIASED = [((6, 3), (4, 3), (4,), (6,), (4,)),
          ((2, 3), (4, 2, 3), (4, 2), (2, 2), (4,))]
OPTS = LinearCrossEntropyOptions(batch_chunk_size=2, acc_policy="accurate")
TOPTS = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=2, acc_policy="accurate")

SPECS = [
    OpSpec("linear_cross_entropy", *both(), PLAIN, make=_make("fft"), grad_inputs=(0, 1)),
    OpSpec("linear_cross_entropy", *both(reduction="none"), PLAIN, make=_make("fft"),
           grad_inputs=(0, 1)),
    OpSpec("linear_cross_entropy", *both(reduction="sum", ignore_index=1, label_smoothing=0.2),
           PLAIN[:1] + PLAIN[2:], make=_make("fft", ignore=1), grad_inputs=(0, 1)),
    OpSpec("linear_cross_entropy", *with_bias(ignore_index=-3, label_smoothing=0.1), BIASED,
           make=_make("ffftc", ignore=-3), grad_inputs=(0, 1, 2)),
    OpSpec("linear_cross_entropy", *with_bias(reduction="none"), BIASED, make=_make("ffftc"),
           grad_inputs=(0, 1, 2)),
    # probability targets (the scores' shape), differentiated too
    OpSpec("linear_cross_entropy", *both(label_smoothing=0.15),
           [((5, 3), (4, 3), (5, 4)), ((3,), (4, 3), (4,)), ((2, 3), (4, 2, 3), (2, 4, 2))],
           make=_make("ffp")),
    OpSpec("linear_cross_entropy", *both(reduction="sum"), [((5, 3), (4, 3), (5, 4))],
           make=_make("ffp")),
    # PyTorch's chunked path (options) gives the loss of the reference path
    OpSpec("linear_cross_entropy",
           lambda x, w, b, t, c: lce(x, w, t, linear_bias=b, weight=c, options=OPTS),
           lambda x, w, b, t, c: ref(x, w, t, linear_bias=b, weight=c, options=TOPTS),
           BIASED[:1], make=_make("ffftc", ignore=-100), grad_inputs=(0, 1, 2)),
    OpSpec("linear_cross_entropy", _quiet(lambda x, w, t: lce(x, w, t, reduction="none",
                                                              options=OPTS)),
           _quiet(lambda x, w, t: ref(x, w, t, reduction="none", options=TOPTS)),
           PLAIN, make=_make("fft"), grad_inputs=(0, 1)),
]
