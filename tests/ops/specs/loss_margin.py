"""Specs of the margin and embedding losses. Each ``make`` draws inputs until every margin is
violated or met by at least 0.05, away from the kinks of max(0, ·) (and of the swap's min)."""

import numpy as np
import torch
import torch.nn.functional as TF

import neuralab as nl
from tests.ops.specs import OpSpec

GAP = 0.05


def _draw(rng, shapes, draw, distance):
    """``draw(rng, shapes)`` until ``distance(arrays)`` (to the nearest kink) is at least GAP."""
    for _ in range(1000):
        arrays = draw(rng, shapes)
        if np.all(distance(arrays) >= GAP):
            return arrays
    raise AssertionError("no inputs away from the kinks; use smaller shapes")


def _ranking(margin):
    def draw(rng, shapes):
        x1, x2 = rng.uniform(-2, 2, size=shapes[0]), rng.uniform(-2, 2, size=shapes[1])
        return [x1, x2, rng.choice([-1.0, 1.0], size=shapes[2])]

    return lambda rng, shapes: _draw(rng, shapes, draw,
                                     lambda a: np.abs(-a[2] * (a[0] - a[1]) + margin))


def _hinge(margin):
    def draw(rng, shapes):
        return [rng.uniform(-2, 2, size=shapes[0]), rng.choice([-1.0, 1.0], size=shapes[1])]

    return lambda rng, shapes: _draw(rng, shapes, draw, lambda a: np.abs(margin - a[0]))


def _soft(rng, shapes):
    return [rng.uniform(-3, 3, size=shapes[0]), rng.choice([-1.0, 1.0], size=shapes[1])]


def _multilabel(rng, shapes):
    out = [rng.uniform(-3, 3, size=shapes[0]), rng.integers(0, 2, size=shapes[1]).astype(float)]
    return out + [rng.uniform(0.5, 2, size=s) for s in shapes[2:]]


def _multi_margin(p, margin):
    def draw(rng, shapes):
        c = shapes[0][-1]
        x = rng.uniform(-2, 2, size=shapes[0])
        t = rng.integers(0, c, size=shapes[1]).astype(np.int64)
        return [x, t] + [rng.uniform(0.5, 2, size=s) for s in shapes[2:]]

    def distance(arrays):
        x, t = np.atleast_2d(arrays[0]), arrays[1].reshape(-1)
        z = margin - x[np.arange(len(t)), t][:, None] + x
        z[np.arange(len(t)), t] = 1.0  # the true class is no rival
        return np.abs(z)

    return lambda rng, shapes: _draw(rng, shapes, draw, distance)


def _cosine(margin):
    def draw(rng, shapes):
        a, b = rng.uniform(-2, 2, size=shapes[0]), rng.uniform(-2, 2, size=shapes[1])
        return [a, b, rng.choice([-1.0, 1.0], size=shapes[2])]

    def distance(arrays):
        a, b = np.broadcast_arrays(arrays[0], arrays[1])
        cos = (a * b).sum(-1) / np.sqrt((a * a).sum(-1) * (b * b).sum(-1))
        return np.abs(cos - margin)

    return lambda rng, shapes: _draw(rng, shapes, draw, distance)


def _triplet(margin, p, swap):
    def draw(rng, shapes):
        return [rng.uniform(-2, 2, size=s) for s in shapes]

    def distance(arrays):
        a, pos, neg = (torch.tensor(x) for x in arrays)
        d_pos = TF.pairwise_distance(a, pos, p)
        d_neg = TF.pairwise_distance(a, neg, p)
        d_swap = TF.pairwise_distance(pos, neg, p)
        nearest = torch.minimum(d_neg, d_swap) if swap else d_neg
        gaps = [torch.abs(margin + d_pos - nearest)]
        return torch.stack(gaps + ([torch.abs(d_neg - d_swap)] if swap else [])).numpy()

    return lambda rng, shapes: _draw(rng, shapes, draw, distance)


def _reductions(name, ours, theirs, shapes, **spec):
    """One spec per reduction; 'sum' and 'none' on the last shapes only (a fast table)."""
    return [OpSpec(name, lambda *a, r=r: ours(*a, reduction=r),
                   lambda *a, r=r: theirs(*a, reduction=r), shapes if r == "mean" else shapes[-1:],
                   **spec)
            for r in ("mean", "sum", "none")]


NO_TARGET_GRAD = (0,)  # the labels ±1 (or classes) are constants: PyTorch gives them no gradient

SPECS = [
    *_reductions("margin_ranking_loss", nl.margin_ranking_loss, TF.margin_ranking_loss,
                 [((), (), ()), ((6,), (6,), (6,)), ((3, 4), (1, 4), (3, 1))],
                 make=_ranking(0.0)),
    OpSpec("margin_ranking_loss", lambda a, b, y: nl.margin_ranking_loss(a, b, y, 0.5),
           lambda a, b, y: TF.margin_ranking_loss(a, b, y, 0.5), [((5,), (5,), (5,))],
           make=_ranking(0.5)),
    *_reductions("hinge_embedding_loss", nl.hinge_embedding_loss, TF.hinge_embedding_loss,
                 [((6,), (6,)), ((3, 4), (3, 4)), ((3, 4), (4,))], make=_hinge(1.0),
                 grad_inputs=NO_TARGET_GRAD),
    OpSpec("hinge_embedding_loss", lambda x, y: nl.hinge_embedding_loss(x, y, margin=0.3),
           lambda x, y: TF.hinge_embedding_loss(x, y, margin=0.3), [((3, 4), (3, 4))],
           make=_hinge(0.3), grad_inputs=NO_TARGET_GRAD),
    # PyTorch refuses the target's gradient here; ours (−x σ(−y x)) is checked by gradcheck alone
    *_reductions("soft_margin_loss", nl.soft_margin_loss, TF.soft_margin_loss,
                 [((6,), (6,)), ((3, 4), (3, 4)), ((3, 4), (1, 4))], make=_soft,
                 grad_inputs=NO_TARGET_GRAD),
    OpSpec("soft_margin_loss", nl.soft_margin_loss, None, [((3, 4), (3, 4))], make=_soft,
           grad_inputs=(0, 1), no_ref_reason="PyTorch gives the target of soft_margin_loss no "
           "gradient; gradcheck checks ours"),
    *_reductions("multilabel_soft_margin_loss", nl.multilabel_soft_margin_loss,
                 TF.multilabel_soft_margin_loss, [((5, 3), (5, 3)), ((4,), (4,)),
                                                  ((2, 3, 4), (2, 3, 4))], make=_multilabel),
    *_reductions("multilabel_soft_margin_loss", lambda x, y, w, reduction:
                 nl.multilabel_soft_margin_loss(x, y, w, reduction=reduction),
                 lambda x, y, w, reduction: TF.multilabel_soft_margin_loss(
                     x, y, w, reduction=reduction),
                 [((5, 3), (5, 3), (3,)), ((5, 3), (1, 3), (5, 3))], make=_multilabel),
    *_reductions("multi_margin_loss", nl.multi_margin_loss, TF.multi_margin_loss,
                 [((5, 4), (5,)), ((4,), ()), ((4,), (1,)), ((1, 3), (1,))],
                 make=_multi_margin(1, 1.0)),
    *_reductions("multi_margin_loss", lambda x, t, w, reduction: nl.multi_margin_loss(
        x, t, 2, 0.7, w, reduction=reduction), lambda x, t, w, reduction: TF.multi_margin_loss(
        x, t, 2, 0.7, w, reduction=reduction), [((6, 4), (6,), (4,))],
        make=_multi_margin(2, 0.7), grad_inputs=NO_TARGET_GRAD),
    OpSpec("multi_margin_loss", lambda x, t: nl.multi_margin_loss(x, t, p=2, margin=1.5),
           lambda x, t: TF.multi_margin_loss(x, t, p=2, margin=1.5), [((5, 3), (5,))],
           make=_multi_margin(2, 1.5)),
    *_reductions("cosine_embedding_loss", nl.cosine_embedding_loss, TF.cosine_embedding_loss,
                 [((5, 3), (5, 3), (5,)), ((4,), (4,), ()), ((5, 3), (1, 3), (5,))],
                 make=_cosine(0.0), grad_inputs=(0, 1)),
    OpSpec("cosine_embedding_loss", lambda a, b, y: nl.cosine_embedding_loss(a, b, y, -0.3),
           lambda a, b, y: TF.cosine_embedding_loss(a, b, y, -0.3), [((6, 4), (6, 4), (6,))],
           make=_cosine(-0.3), grad_inputs=(0, 1)),
    *_reductions("triplet_margin_loss", nl.triplet_margin_loss, TF.triplet_margin_loss,
                 [((5, 3), (5, 3), (5, 3)), ((4,), (4,), (4,)), ((5, 3), (1, 3), (5, 3))],
                 make=_triplet(1.0, 2.0, False)),
    OpSpec("triplet_margin_loss",
           lambda a, p, n: nl.triplet_margin_loss(a, p, n, margin=2.0, p=1.5, swap=True),
           lambda a, p, n: TF.triplet_margin_loss(a, p, n, margin=2.0, p=1.5, swap=True),
           [((6, 3), (6, 3), (6, 3))], make=_triplet(2.0, 1.5, True)),
    OpSpec("triplet_margin_loss",
           lambda a, p, n: nl.triplet_margin_loss(a, p, n, 0.5, 1, 1e-3, True, reduction="none"),
           lambda a, p, n: TF.triplet_margin_loss(a, p, n, 0.5, 1, 1e-3, True, reduction="none"),
           [((6, 3), (6, 3), (6, 3))], make=_triplet(0.5, 1.0, True)),
]
