"""Specs of the smooth L1, Huber, KL-divergence, Poisson and Gaussian NLL losses."""

import warnings

import numpy as np
import torch.nn.functional as TF

import neuralab as nl
from tests.ops.specs import OpSpec


def _away(beta):
    """Pairs whose difference keeps at least 0.05 from the kinks ±beta and 0."""

    def make(rng, shapes):
        x = rng.uniform(-2, 2, size=shapes[0])
        d = rng.uniform(0.05, 1.5, size=shapes[1]) * rng.choice([-1.0, 1.0], size=shapes[1])
        d = np.where(np.abs(np.abs(d) - beta) < 0.05, d + 0.1 * np.sign(d), d)
        return [x, x + d] + [rng.uniform(0.5, 2, size=s) for s in shapes[2:]]

    return make


def _probs(log_target=False):
    """Log-probabilities x and probabilities (or log-probabilities) y, both rows of a softmax."""

    def make(rng, shapes):
        def log_softmax(z):
            axis = 1 if z.ndim >= 2 else 0
            return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))

        x = log_softmax(rng.uniform(-2, 2, size=shapes[0]))
        ly = log_softmax(rng.uniform(-2, 2, size=shapes[1]))
        return [x, ly if log_target else np.exp(ly)]

    return make


def _counts(log_input=True):
    """Log-rates (or rates) and counts; the counts avoid the Stirling cut at y = 1."""

    def make(rng, shapes):
        x = rng.uniform(-1, 1, size=shapes[0]) if log_input else rng.uniform(0.2, 3, shapes[0])
        y = rng.uniform(0, 5, size=shapes[1])
        return [x, np.where(np.abs(y - 1) < 0.05, y + 0.1, y)]

    return make


def _gauss(rng, shapes):
    x, y = rng.uniform(-2, 2, size=shapes[0]), rng.uniform(-2, 2, size=shapes[1])
    return [x, y, rng.uniform(0.2, 2, size=shapes[2])]


def _quiet(fn):
    """``fn`` without the UserWarning that kl_div gives for reduction='mean' (PyTorch's too)."""

    def call(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return fn(*args, **kwargs)

    return call


PAIRS = [((), ()), ((5,), (5,)), ((3, 4), (3, 4))]


def _reductions(name, ours, theirs, shapes, **spec):
    """One spec per reduction, the others on the first shapes only to keep the table fast."""
    return [OpSpec(name, lambda *a, r=r: ours(*a, reduction=r),
                   lambda *a, r=r: theirs(*a, reduction=r), shapes if r == "mean" else shapes[-1:],
                   **spec)
            for r in ("mean", "sum", "none")]


SPECS = [
    *_reductions("smooth_l1_loss", nl.smooth_l1_loss, TF.smooth_l1_loss, PAIRS, make=_away(1.0)),
    *_reductions("smooth_l1_loss", lambda x, y, reduction: nl.smooth_l1_loss(
        x, y, reduction=reduction, beta=0.4), lambda x, y, reduction: TF.smooth_l1_loss(
        x, y, reduction=reduction, beta=0.4), PAIRS[1:], make=_away(0.4)),
    OpSpec("smooth_l1_loss", lambda x, y: nl.smooth_l1_loss(x, y, beta=0.0),
           lambda x, y: TF.smooth_l1_loss(x, y, beta=0.0), [((3, 4), (3, 4))], make=_away(0.0)),
    *_reductions("huber_loss", nl.huber_loss, TF.huber_loss, PAIRS, make=_away(1.0)),
    OpSpec("huber_loss", lambda x, y: nl.huber_loss(x, y, delta=0.3),
           lambda x, y: TF.huber_loss(x, y, delta=0.3), [((3, 4), (3, 4))], make=_away(0.3)),
    *_reductions("huber_loss", lambda x, y, w, reduction: nl.huber_loss(
        x, y, reduction, 0.7, w), lambda x, y, w, reduction: TF.huber_loss(
        x, y, reduction, 0.7, w), [((3, 4), (3, 4), (3, 4))], make=_away(0.7)),
    *_reductions("kl_div", _quiet(nl.kl_div), _quiet(TF.kl_div),
                 [((4, 3), (4, 3)), ((2, 3, 2), (2, 3, 2))], make=_probs()),
    OpSpec("kl_div", lambda x, y: nl.kl_div(x, y, reduction="batchmean"),
           lambda x, y: TF.kl_div(x, y, reduction="batchmean"),
           [((4, 3), (4, 3)), ((5,), (5,)), ((4, 3), (1, 3))], make=_probs()),
    *_reductions("kl_div", _quiet(lambda x, y, reduction: nl.kl_div(
        x, y, reduction=reduction, log_target=True)), _quiet(lambda x, y, reduction: TF.kl_div(
        x, y, reduction=reduction, log_target=True)), [((4, 3), (4, 3))], make=_probs(True)),
    *_reductions("poisson_nll_loss", nl.poisson_nll_loss, TF.poisson_nll_loss,
                 [((6,), (6,)), ((3, 4), (3, 4))], make=_counts()),
    *_reductions("poisson_nll_loss", lambda x, y, reduction: nl.poisson_nll_loss(
        x, y, log_input=False, full=True, eps=1e-3, reduction=reduction),
        lambda x, y, reduction: TF.poisson_nll_loss(
        x, y, log_input=False, full=True, eps=1e-3, reduction=reduction),
        [((3, 4), (3, 4))], make=_counts(log_input=False)),
    OpSpec("poisson_nll_loss", lambda x, y: nl.poisson_nll_loss(x, y, full=True),
           lambda x, y: TF.poisson_nll_loss(x, y, full=True), [((3, 4), (3, 4)), ((3, 4), (4,))],
           make=_counts()),
    *_reductions("gaussian_nll_loss", nl.gaussian_nll_loss, TF.gaussian_nll_loss,
                 [((3, 4), (3, 4), (3, 4)), ((3, 4), (3, 4), (3,)), ((3, 4), (3, 4), (3, 1)),
                  ((2, 3, 2), (2, 3, 2), (2, 1, 2)), ((4,), (4,), ())], make=_gauss),
    OpSpec("gaussian_nll_loss", lambda x, y, v: nl.gaussian_nll_loss(x, y, v, full=True, eps=0.5),
           lambda x, y, v: TF.gaussian_nll_loss(x, y, v, full=True, eps=0.5),
           [((3, 4), (3, 4), (3, 4))], make=_gauss,
           # var below eps is clamped, yet its gradient flows straight through the clamp as in
           # PyTorch: finite differences see a constant there, so only PyTorch can check it
           gradcheck=False),
    OpSpec("gaussian_nll_loss", lambda x, y: nl.gaussian_nll_loss(x, y, 0.7, reduction="sum"),
           lambda x, y: TF.gaussian_nll_loss(x, y, 0.7, reduction="sum"), [((3, 4), (1, 4))]),
]
