"""Specs of the loss functions: class-index targets come from ``make`` (int64 arrays)."""

import numpy as np
import torch.nn.functional as TF

import neuralab as nl
from tests.ops.specs import OpSpec


def _class_case(ignore=None, weight=False):
    """Scores (N, C, ...) and int64 targets (N, ...); optionally some ignored, and class weights."""

    def make(rng, shapes):
        x_shape, t_shape = shapes[0], shapes[1]
        c = x_shape[1] if len(x_shape) >= 2 else x_shape[0]
        x = rng.uniform(-2, 2, size=x_shape)
        t = rng.integers(0, c, size=t_shape).astype(np.int64)
        if ignore is not None and t.ndim:
            t.reshape(-1)[::3] = ignore  # every third target is ignored
        out = [x, t]
        if weight:
            out.append(rng.uniform(0.5, 2.0, size=(c,)))
        return out

    return make


def _prob_case(weight=False):
    """Scores and probability targets (rows of a softmax) of the same shape."""

    def make(rng, shapes):
        x = rng.uniform(-2, 2, size=shapes[0])
        logits = rng.uniform(-2, 2, size=shapes[0])
        axis = 1 if len(shapes[0]) >= 2 else 0
        y = np.exp(logits) / np.exp(logits).sum(axis=axis, keepdims=True)
        out = [x, y]
        if weight:
            out.append(rng.uniform(0.5, 2.0, size=(shapes[0][axis],)))
        return out

    return make


def _apart(rng, shapes):
    """Pairs with |x − y| ≥ 0.1 (away from the kink of |x − y|)."""
    x = rng.uniform(-2, 2, size=shapes[0])
    y = x + rng.uniform(0.1, 1.0, size=shapes[1]) * rng.choice([-1.0, 1.0], size=shapes[1])
    return [x, y]


def _bce(with_weight=False):
    def make(rng, shapes):
        x = rng.uniform(0.05, 0.95, size=shapes[0])
        y = rng.uniform(0, 1, size=shapes[1])
        return [x, y] + ([rng.uniform(0.5, 2, size=shapes[2])] if with_weight else [])

    return make


def _logits(extra=0):
    def make(rng, shapes):
        out = [rng.uniform(-3, 3, size=shapes[0]), rng.uniform(0, 1, size=shapes[1])]
        return out + [rng.uniform(0.5, 2, size=s) for s in shapes[2:2 + extra]]

    return make


CLASS = [((5, 4), (5,)), ((1, 3), (1,)), ((2, 3, 4), (2, 4)), ((2, 3, 2, 2), (2, 2, 2)),
         ((4,), ())]
W = (0,)  # differentiate the scores only: class weights are constants

SPECS = [
    # cross-entropy with class indices: every reduction, weights, ignore_index, label smoothing
    OpSpec("cross_entropy", nl.cross_entropy, TF.cross_entropy, CLASS, make=_class_case()),
    OpSpec("cross_entropy", lambda x, t: nl.cross_entropy(x, t, reduction="sum"),
           lambda x, t: TF.cross_entropy(x, t, reduction="sum"), CLASS[:3], make=_class_case()),
    OpSpec("cross_entropy", lambda x, t: nl.cross_entropy(x, t, reduction="none"),
           lambda x, t: TF.cross_entropy(x, t, reduction="none"), CLASS, make=_class_case()),
    OpSpec("cross_entropy", lambda x, t, w: nl.cross_entropy(x, t, weight=w),
           lambda x, t, w: TF.cross_entropy(x, t, weight=w), [((6, 4), (6,), (4,)),
                                                              ((2, 3, 4), (2, 4), (3,))],
           make=_class_case(weight=True), grad_inputs=W),
    OpSpec("cross_entropy", lambda x, t: nl.cross_entropy(x, t, ignore_index=-100),
           lambda x, t: TF.cross_entropy(x, t, ignore_index=-100), CLASS[:4],
           make=_class_case(ignore=-100)),
    OpSpec("cross_entropy", lambda x, t, w: nl.cross_entropy(x, t, w, ignore_index=2,
                                                             reduction="none"),
           lambda x, t, w: TF.cross_entropy(x, t, w, ignore_index=2, reduction="none"),
           [((7, 4), (7,), (4,))], make=_class_case(ignore=2, weight=True), grad_inputs=W),
    OpSpec("cross_entropy", lambda x, t: nl.cross_entropy(x, t, label_smoothing=0.1),
           lambda x, t: TF.cross_entropy(x, t, label_smoothing=0.1), CLASS,
           make=_class_case()),
    OpSpec("cross_entropy",
           lambda x, t, w: nl.cross_entropy(x, t, w, ignore_index=1, label_smoothing=0.2),
           lambda x, t, w: TF.cross_entropy(x, t, w, ignore_index=1, label_smoothing=0.2),
           [((8, 5), (8,), (5,)), ((2, 5, 3), (2, 3), (5,))],
           make=_class_case(ignore=1, weight=True), grad_inputs=W),
    OpSpec("cross_entropy",
           lambda x, t, w: nl.cross_entropy(x, t, w, label_smoothing=0.3, reduction="sum"),
           lambda x, t, w: TF.cross_entropy(x, t, w, label_smoothing=0.3, reduction="sum"),
           [((6, 3), (6,), (3,))], make=_class_case(weight=True), grad_inputs=W),
    OpSpec("cross_entropy",
           lambda x, t: nl.cross_entropy(x, t, label_smoothing=0.25, reduction="none"),
           lambda x, t: TF.cross_entropy(x, t, label_smoothing=0.25, reduction="none"),
           [((6, 3), (6,))], make=_class_case(ignore=-100)),
    # cross-entropy with probability targets (the target gets a gradient too)
    OpSpec("cross_entropy", nl.cross_entropy, TF.cross_entropy,
           [((5, 4), (5, 4)), ((2, 3, 4), (2, 3, 4)), ((4,), (4,))], make=_prob_case()),
    OpSpec("cross_entropy",
           lambda x, y, w: nl.cross_entropy(x, y, w, label_smoothing=0.1, reduction="none"),
           lambda x, y, w: TF.cross_entropy(x, y, w, label_smoothing=0.1, reduction="none"),
           [((5, 4), (5, 4), (4,))], make=_prob_case(weight=True), grad_inputs=(0, 1)),
    OpSpec("cross_entropy", lambda x, y: nl.cross_entropy(x, y, reduction="sum"),
           lambda x, y: TF.cross_entropy(x, y, reduction="sum"), [((3, 5), (3, 5))],
           make=_prob_case()),
    # negative log-likelihood
    OpSpec("nll_loss", nl.nll_loss, TF.nll_loss, CLASS, make=_class_case()),
    OpSpec("nll_loss", lambda x, t: nl.nll_loss(x, t, reduction="none"),
           lambda x, t: TF.nll_loss(x, t, reduction="none"), CLASS[:4], make=_class_case()),
    OpSpec("nll_loss", lambda x, t, w: nl.nll_loss(x, t, w, ignore_index=-100),
           lambda x, t, w: TF.nll_loss(x, t, w, ignore_index=-100),
           [((7, 4), (7,), (4,)), ((2, 4, 3), (2, 3), (4,))],
           make=_class_case(ignore=-100, weight=True), grad_inputs=W),
    OpSpec("nll_loss", lambda x, t, w: nl.nll_loss(x, t, w, reduction="sum"),
           lambda x, t, w: TF.nll_loss(x, t, w, reduction="sum"), [((5, 3), (5,), (3,))],
           make=_class_case(weight=True), grad_inputs=W),
    # regression
    OpSpec("mse_loss", nl.mse_loss, TF.mse_loss, [((), ()), ((5,), (5,)), ((3, 4), (3, 4))]),
    OpSpec("mse_loss", lambda x, y: nl.mse_loss(x, y, reduction="none"),
           lambda x, y: TF.mse_loss(x, y, reduction="none"), [((3, 4), (3, 4))]),
    OpSpec("mse_loss", lambda x, y: nl.mse_loss(x, y, reduction="sum"),
           lambda x, y: TF.mse_loss(x, y, reduction="sum"), [((2, 3, 4), (2, 3, 4))]),
    OpSpec("l1_loss", nl.l1_loss, TF.l1_loss, [((5,), (5,)), ((3, 4), (3, 4))], make=_apart),
    OpSpec("l1_loss", lambda x, y: nl.l1_loss(x, y, reduction="none"),
           lambda x, y: TF.l1_loss(x, y, reduction="none"), [((3, 4), (3, 4))], make=_apart),
    OpSpec("l1_loss", lambda x, y: nl.l1_loss(x, y, reduction="sum"),
           lambda x, y: TF.l1_loss(x, y, reduction="sum"), [((2, 3), (2, 3))], make=_apart),
    # binary cross-entropy on probabilities and on logits
    OpSpec("binary_cross_entropy", nl.binary_cross_entropy, TF.binary_cross_entropy,
           [((5,), (5,)), ((3, 4), (3, 4))], make=_bce()),
    OpSpec("binary_cross_entropy", lambda x, y: nl.binary_cross_entropy(x, y, reduction="none"),
           lambda x, y: TF.binary_cross_entropy(x, y, reduction="none"), [((3, 4), (3, 4))],
           make=_bce()),
    OpSpec("binary_cross_entropy",
           lambda x, y, w: nl.binary_cross_entropy(x, y, w, reduction="sum"),
           lambda x, y, w: TF.binary_cross_entropy(x, y, w, reduction="sum"),
           [((3, 4), (3, 4), (4,)), ((3, 4), (3, 4), (3, 4))], make=_bce(True),
           grad_inputs=(0, 1)),
    OpSpec("binary_cross_entropy_with_logits", nl.binary_cross_entropy_with_logits,
           TF.binary_cross_entropy_with_logits, [((5,), (5,)), ((3, 4), (3, 4))], make=_logits()),
    OpSpec("binary_cross_entropy_with_logits",
           lambda x, y: nl.binary_cross_entropy_with_logits(x, y, reduction="none"),
           lambda x, y: TF.binary_cross_entropy_with_logits(x, y, reduction="none"),
           [((3, 4), (3, 4))], make=_logits()),
    OpSpec("binary_cross_entropy_with_logits",
           lambda x, y, w: nl.binary_cross_entropy_with_logits(x, y, w, reduction="sum"),
           lambda x, y, w: TF.binary_cross_entropy_with_logits(x, y, w, reduction="sum"),
           [((3, 4), (3, 4), (3, 1))], make=_logits(1), grad_inputs=(0, 1)),
    OpSpec("binary_cross_entropy_with_logits",
           lambda x, y, q: nl.binary_cross_entropy_with_logits(x, y, pos_weight=q),
           lambda x, y, q: TF.binary_cross_entropy_with_logits(x, y, pos_weight=q),
           [((3, 4), (3, 4), (4,))], make=_logits(1), grad_inputs=(0, 1)),
    OpSpec("binary_cross_entropy_with_logits",
           lambda x, y, w, q: nl.binary_cross_entropy_with_logits(x, y, w, "none", q),
           lambda x, y, w, q: TF.binary_cross_entropy_with_logits(x, y, w, reduction="none",
                                                                  pos_weight=q),
           [((3, 4), (3, 4), (4,), (4,))], make=_logits(2), grad_inputs=(0, 1)),
]

