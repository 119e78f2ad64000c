"""Specs of the multi-label margin, triplet-with-distance and CTC losses.

CTC's gradient is PyTorch's, e^{log y} − γ (the gradient for the logits behind a log-softmax,
see neuralab/ops/loss_structured.py), not the partial derivative with respect to log y: the
gradient checks go through a log-softmax, where both agree; the specs on log-probabilities
themselves compare values and gradients with PyTorch only."""

import numpy as np
import torch
import torch.nn.functional as TF

import neuralab as nl
import neuralab.nn.functional as F
from tests.ops.specs import OpSpec


def _multilabel_targets(rng, shapes):
    x = rng.uniform(-1.5, 1.5, shapes[0])
    c = shapes[0][-1]
    rows = []
    for _ in range(int(np.prod(shapes[0][:-1]))):
        k = int(rng.integers(0, c + 1))
        labels = list(rng.choice(c, size=k, replace=False))
        rows.append(labels + [-1] * (c - k) if k < c else labels)
    t = np.array(rows, dtype=np.int64).reshape(shapes[0])
    t.reshape(-1, c)[0, :3] = [1, 1, -1]  # a repeated label counts twice, as PyTorch
    return [x, t]


def _multilabel(reduction, shapes):
    return OpSpec("multilabel_margin_loss",
                  lambda x, t: F.multilabel_margin_loss(x, t, reduction=reduction),
                  lambda x, t: TF.multilabel_margin_loss(x, t, reduction=reduction), shapes,
                  make=_multilabel_targets)


def _cosine_distance_ours(a, b):
    return 1 - F.cosine_similarity(a, b, dim=-1)


def _cosine_distance_theirs(a, b):
    return 1 - TF.cosine_similarity(a, b, dim=-1)


def _triplet(reduction, swap, custom, shapes):
    ours = _cosine_distance_ours if custom else None
    theirs = _cosine_distance_theirs if custom else None
    return OpSpec("triplet_margin_with_distance_loss",
                  lambda a, p, n: F.triplet_margin_with_distance_loss(
                      a, p, n, distance_function=ours, margin=0.7, swap=swap,
                      reduction=reduction),
                  lambda a, p, n: TF.triplet_margin_with_distance_loss(
                      a, p, n, distance_function=theirs, margin=0.7, swap=swap,
                      reduction=reduction), shapes)


# (T, N, C) = (6, 3, 5): padded targets (N, S) and their lengths; the third input is shorter.
_TARGETS = np.array([[1, 2, 2, 0], [3, 1, 4, 4], [2, 0, 0, 0]])
_INPUT_LENGTHS, _TARGET_LENGTHS = [6, 6, 4], [3, 4, 1]
_CONCAT = np.concatenate([_TARGETS[b, :n] for b, n in enumerate(_TARGET_LENGTHS)])


def _ctc(reduction, blank=0, concat=False, logits=True, zero_infinity=False, lengths=None):
    targets = _CONCAT if concat else _TARGETS
    if blank:
        targets = np.where(targets == blank, 0, targets)
    input_lengths = lengths or _INPUT_LENGTHS

    def ours(x):
        lp = F.log_softmax(x, 2) if logits else x
        return F.ctc_loss(lp, nl.tensor(targets), nl.tensor(input_lengths),
                          nl.tensor(_TARGET_LENGTHS), blank, reduction, zero_infinity)

    def theirs(x):
        lp = TF.log_softmax(x, 2) if logits else x
        return TF.ctc_loss(lp, torch.tensor(targets), torch.tensor(input_lengths),
                           torch.tensor(_TARGET_LENGTHS), blank, reduction, zero_infinity)

    def log_probs(rng, shapes):
        a = rng.uniform(-2, 2, shapes[0])
        return [a - np.log(np.exp(a).sum(axis=-1, keepdims=True))]

    return OpSpec("ctc_loss", ours, theirs, [((6, 3, 5),)], make=None if logits else log_probs,
                  gradcheck=logits, atol=1e-8)


SPECS = [
    *[_multilabel(r, [((4, 5),), ((6,),)]) for r in ("mean", "sum", "none")],
    *[_triplet(r, swap, custom, [((4, 3), (4, 3), (4, 3)), ((5,), (5,), (5,))])
      for r in ("mean", "none") for swap in (False, True) for custom in (False, True)],
    _triplet("sum", False, False, [((2, 3, 4), (2, 3, 4), (2, 3, 4))]),
    *[_ctc(r) for r in ("mean", "sum", "none")],
    _ctc("mean", blank=4),
    _ctc("sum", concat=True),
    _ctc("none", logits=False),
    _ctc("mean", blank=2, concat=True, logits=False),
    _ctc("none", zero_infinity=True, lengths=[6, 2, 4]),  # too short for 4 labels: inf -> 0
]
