"""The loss modules of nn.loss_regression and nn.loss_margin against their PyTorch twins, and the
behaviour of their functions beyond the op table: legacy flags, warnings, integer targets,
error messages."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import neuralab as nl
import neuralab.nn.functional as F
from neuralab import nn

DTYPES = [(np.float32, torch.float32, 1e-5), (np.float64, torch.float64, 1e-10)]


def _real(rng, n=3):
    return [rng.uniform(-2, 2, size=(6, 4)) for _ in range(n)]


def _signs(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape)


# (name, ours, theirs, make(rng) -> arrays, indices of the inputs to differentiate)
MODULES = [
    ("smooth_l1", lambda: nn.SmoothL1Loss(reduction="sum", beta=0.5),
     lambda: torch.nn.SmoothL1Loss(reduction="sum", beta=0.5), lambda r: _real(r, 2), (0, 1)),
    ("huber", lambda: nn.HuberLoss(reduction="none", delta=0.4),
     lambda: torch.nn.HuberLoss(reduction="none", delta=0.4), lambda r: _real(r, 2), (0, 1)),
    ("kl_div", lambda: nn.KLDivLoss(reduction="batchmean", log_target=True),
     lambda: torch.nn.KLDivLoss(reduction="batchmean", log_target=True),
     lambda r: [np.log(r.dirichlet(np.ones(4), size=6)) for _ in range(2)], (0, 1)),
    ("poisson", lambda: nn.PoissonNLLLoss(log_input=False, full=True, eps=1e-4),
     lambda: torch.nn.PoissonNLLLoss(log_input=False, full=True, eps=1e-4),
     lambda r: [r.uniform(0.5, 3, size=(6, 4)), r.uniform(1.2, 6, size=(6, 4))], (0, 1)),
    ("gaussian", lambda: nn.GaussianNLLLoss(full=True, eps=1e-3, reduction="sum"),
     lambda: torch.nn.GaussianNLLLoss(full=True, eps=1e-3, reduction="sum"),
     lambda r: _real(r, 2) + [r.uniform(0.1, 2, size=(6,))], (0, 1, 2)),
    ("ranking", lambda: nn.MarginRankingLoss(margin=0.2),
     lambda: torch.nn.MarginRankingLoss(margin=0.2),
     lambda r: _real(r, 2) + [_signs(r, (6, 4))], (0, 1, 2)),
    ("hinge", lambda: nn.HingeEmbeddingLoss(margin=1.5, reduction="sum"),
     lambda: torch.nn.HingeEmbeddingLoss(margin=1.5, reduction="sum"),
     lambda r: [r.uniform(0, 3, size=(6, 4)), _signs(r, (6, 4))], (0,)),
    ("soft_margin", lambda: nn.SoftMarginLoss(reduction="none"),
     lambda: torch.nn.SoftMarginLoss(reduction="none"),
     lambda r: [r.uniform(-3, 3, size=(6, 4)), _signs(r, (6, 4))], (0,)),
    ("multilabel", lambda: nn.MultiLabelSoftMarginLoss(weight=nl.tensor([1.0, 2.0, 0.5, 1.5])),
     lambda: torch.nn.MultiLabelSoftMarginLoss(weight=torch.tensor([1.0, 2.0, 0.5, 1.5])),
     lambda r: [r.uniform(-3, 3, size=(6, 4)), r.integers(0, 2, (6, 4)).astype(float)], (0, 1)),
    ("multi_margin",
     lambda: nn.MultiMarginLoss(p=2, margin=0.6, weight=nl.tensor([1.0, 2.0, 0.5, 1.5])),
     lambda: torch.nn.MultiMarginLoss(p=2, margin=0.6, weight=torch.tensor([1.0, 2.0, 0.5, 1.5])),
     lambda r: [r.uniform(-2, 2, size=(6, 4)), r.integers(0, 4, 6)], (0,)),
    ("cosine", lambda: nn.CosineEmbeddingLoss(margin=0.1, reduction="none"),
     lambda: torch.nn.CosineEmbeddingLoss(margin=0.1, reduction="none"),
     lambda r: _real(r, 2) + [_signs(r, (6,))], (0, 1)),
    ("triplet", lambda: nn.TripletMarginLoss(margin=2.5, p=3.0, swap=True, reduction="sum"),
     lambda: torch.nn.TripletMarginLoss(margin=2.5, p=3.0, swap=True, reduction="sum"),
     lambda r: _real(r, 3), (0, 1, 2)),
]


@pytest.mark.parametrize(("dtype", "tdtype", "tol"), DTYPES)
@pytest.mark.parametrize(("name", "make_ours", "make_theirs", "make", "wanted"), MODULES,
                         ids=[m[0] for m in MODULES])
def test_loss_modules_match_pytorch(name, make_ours, make_theirs, make, wanted, dtype, tdtype,
                                    tol):
    arrays = make(np.random.default_rng(0))
    ours_m, theirs_m = make_ours().to(dtype), make_theirs().to(tdtype)
    ours = [nl.tensor(a, dtype=dtype, requires_grad=i in wanted) if a.dtype.kind == "f"
            else nl.tensor(a) for i, a in enumerate(arrays)]
    theirs = [torch.tensor(a, dtype=tdtype, requires_grad=i in wanted) if a.dtype.kind == "f"
              else torch.tensor(a) for i, a in enumerate(arrays)]
    lo, lt = ours_m(*ours), theirs_m(*theirs)
    assert lo.dtype == dtype and lo.shape == tuple(lt.shape)
    np.testing.assert_allclose(lo.numpy(), lt.detach().numpy(), rtol=tol, atol=tol)
    projection = np.random.default_rng(1).standard_normal(lo.shape)
    (lo * nl.tensor(projection, dtype=dtype)).sum().backward()
    (lt * torch.tensor(projection, dtype=tdtype)).sum().backward()
    for i in wanted:
        assert ours[i].grad.dtype == dtype
        np.testing.assert_allclose(ours[i].grad.numpy(), theirs[i].grad.numpy(), rtol=tol,
                                   atol=tol, err_msg=f"{name}: gradient of input {i}")


def test_weighted_margin_losses_keep_weight_buffer_like_pytorch():
    w = [1.0, 2.0, 3.0]
    for ours, theirs in [(nn.MultiMarginLoss(weight=nl.tensor(w)),
                          torch.nn.MultiMarginLoss(weight=torch.tensor(w))),
                         (nn.MultiLabelSoftMarginLoss(weight=nl.tensor(w)),
                          torch.nn.MultiLabelSoftMarginLoss(weight=torch.tensor(w))),
                         (nn.TripletMarginLoss(), torch.nn.TripletMarginLoss()),
                         (nn.KLDivLoss(), torch.nn.KLDivLoss())]:
        assert list(ours.state_dict()) == list(theirs.state_dict())
    assert nn.MultiMarginLoss(weight=nl.tensor(w)).double().weight.dtype == np.float64


@pytest.mark.parametrize(("size_average", "reduce"), [(False, None), (None, False), (True, True)])
def test_legacy_size_average_and_reduce_map_to_reduction(size_average, reduce):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    for ours, theirs in [(F.smooth_l1_loss, TF.smooth_l1_loss), (F.soft_margin_loss,
                                                                 TF.soft_margin_loss)]:
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            lo = ours(nl.tensor(x, dtype=np.float64), nl.tensor(y, dtype=np.float64),
                      size_average, reduce)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lt = theirs(torch.tensor(x), torch.tensor(y), size_average, reduce)
        np.testing.assert_allclose(lo.numpy(), lt.numpy(), rtol=1e-12)
    with pytest.warns(UserWarning, match="deprecated"):
        module = nn.MarginRankingLoss(0.5, size_average, reduce)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert module.reduction == torch.nn.MarginRankingLoss(0.5, size_average, reduce).reduction


def test_kl_div_mean_warns_like_pytorch_and_batchmean_divides_by_batch():
    x = F.log_softmax(nl.randn(4, 5), dim=1)
    y = F.softmax(nl.randn(4, 5), dim=1)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        mean = F.kl_div(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batchmean = F.kl_div(x, y, reduction="batchmean")
        total = F.kl_div(x, y, reduction="sum")
    np.testing.assert_allclose(batchmean.item(), total.item() / 4, rtol=1e-6)
    np.testing.assert_allclose(mean.item(), total.item() / 20, rtol=1e-6)
    # a zero target contributes 0 (0 log 0 = 0), not nan
    zero = F.kl_div(nl.tensor([-1.0, -2.0]), nl.tensor([0.0, 1.0]), reduction="none")
    np.testing.assert_allclose(zero.numpy(), [0.0, 2.0])


def test_integer_targets_work_as_in_pytorch():
    rng = np.random.default_rng(0)
    x, x2 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    signs = rng.choice([-1, 1], size=(3, 4))
    cases = [
        (lambda m, a, b, t: m.hinge_embedding_loss(a, t), signs),
        (lambda m, a, b, t: m.soft_margin_loss(a, t), signs),
        (lambda m, a, b, t: m.margin_ranking_loss(a, b, t, 0.3), signs),
        (lambda m, a, b, t: m.cosine_embedding_loss(a, b, t), signs[:, 0]),
        (lambda m, a, b, t: m.multilabel_soft_margin_loss(a, t), (signs > 0).astype(np.int64)),
        (lambda m, a, b, t: m.poisson_nll_loss(a, t, full=True), rng.integers(0, 6, (3, 4))),
    ]
    for fn, t in cases:
        lo = fn(F, nl.tensor(x, dtype=np.float32), nl.tensor(x2, dtype=np.float32), nl.tensor(t))
        lt = fn(TF, torch.tensor(x, dtype=torch.float32), torch.tensor(x2, dtype=torch.float32),
                torch.tensor(t))
        assert lo.dtype == np.float32
        np.testing.assert_allclose(lo.numpy(), lt.numpy(), rtol=1e-5)


def test_hinge_and_cosine_targets_other_than_pm1_follow_pytorch():
    x = np.array([[0.5, 2.0], [-1.0, 0.3]])
    t = np.array([[0.0, 2.0], [1.0, -1.0]])
    lo = F.hinge_embedding_loss(nl.tensor(x), nl.tensor(t), reduction="none")
    lt = TF.hinge_embedding_loss(torch.tensor(x), torch.tensor(t), reduction="none")
    np.testing.assert_allclose(lo.numpy(), lt.numpy())
    lo = F.cosine_embedding_loss(nl.tensor(x), nl.tensor(x[::-1].copy()), nl.tensor([0, 2]),
                                 reduction="none")
    assert np.all(lo.numpy() == 0)


def test_soft_margin_loss_is_finite_for_huge_margins():
    x = nl.tensor([1000.0, -1000.0], requires_grad=True)
    loss = F.soft_margin_loss(x, nl.tensor([-1.0, 1.0]), reduction="none")
    np.testing.assert_allclose(loss.numpy(), [1000.0, 1000.0])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -1.0])


def test_poisson_log_input_false_matches_pytorch_at_zero_rate():
    x = nl.tensor([0.0, 1.0], dtype=np.float64, requires_grad=True)
    y = nl.tensor([2.0, 3.0], dtype=np.float64)
    tx = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
    lo = F.poisson_nll_loss(x, y, log_input=False, reduction="sum")
    lt = TF.poisson_nll_loss(tx, torch.tensor([2.0, 3.0], dtype=torch.float64), log_input=False,
                             reduction="sum")
    lo.backward()
    lt.backward()
    np.testing.assert_allclose(lo.item(), lt.item())
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_gaussian_nll_var_as_float_and_clamp():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    lo = F.gaussian_nll_loss(nl.tensor(x, dtype=np.float64), nl.tensor(y, dtype=np.float64), 0.0)
    lt = TF.gaussian_nll_loss(torch.tensor(x), torch.tensor(y), 0.0)  # var 0 clamps to eps
    # PyTorch's clamp rounds eps = 1e-6 to float32 (9.99999997e-07), hence the 3e-9 difference
    np.testing.assert_allclose(lo.item(), lt.item(), rtol=1e-8)
    assert lo.item() > 1e5  # divided by eps, not by 0


def _x(*shape):
    return nl.randn(*shape)


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: F.smooth_l1_loss(_x(3), _x(3), beta=-1.0), ValueError, "beta must be non-negative"),
    (lambda: F.smooth_l1_loss(_x(3, 1), _x(3)), ValueError, r"\(3, 1\).*\(3,\).*broadcasting"),
    (lambda: F.huber_loss(_x(3), _x(3), delta=0.0), ValueError, "delta must be positive"),
    (lambda: F.huber_loss(_x(3, 4), _x(3, 4), weight=nl.ones(4)), ValueError,
     r"weight must have the input's shape \(3, 4\)"),
    (lambda: F.smooth_l1_loss(_x(3), _x(3), reduction="avg"), ValueError,
     "smooth_l1_loss: reduction must be one of"),
    (lambda: F.kl_div(_x(3), _x(3), reduction="avg"), ValueError, "kl_div: reduction must be"),
    (lambda: F.kl_div(_x(3, 4), _x(5), reduction="sum"), ValueError,
     r"kl_div: shapes \(3, 4\) and \(5,\)"),
    (lambda: F.kl_div(nl.tensor([1, 2]), _x(2), reduction="sum"), TypeError,
     "kl_div: input must be a floating-point"),
    (lambda: F.gaussian_nll_loss(_x(3, 4), _x(3, 4), -nl.ones(3, 4)), ValueError,
     "var has negative entry"),
    (lambda: F.gaussian_nll_loss(_x(3, 4), _x(3, 4), -1.0), ValueError,
     "var has negative entry"),
    (lambda: F.gaussian_nll_loss(_x(3, 4), _x(3, 4), nl.ones(4)), ValueError,
     r"var is of incorrect size: var of shape \(4,\) for input of shape \(3, 4\)"),
    (lambda: F.gaussian_nll_loss(_x(2, 3, 4), _x(2, 3, 4), nl.ones(2, 1, 1)), ValueError,
     "var is of incorrect size"),
    (lambda: F.gaussian_nll_loss(_x(3), _x(3), nl.ones(3), reduction="avg"), ValueError,
     "reduction must be one of"),
    (lambda: F.poisson_nll_loss(_x(3), _x(3), reduction="avg"), ValueError, "reduction"),
    (lambda: F.margin_ranking_loss(_x(3), _x(3), nl.ones(3, 1)), RuntimeError,
     "same number of dimensions.*target"),
    (lambda: F.multi_margin_loss(_x(3, 4), nl.tensor([0, 1, 2]), p=3), ValueError,
     "only p == 1 and p == 2"),
    (lambda: F.multi_margin_loss(_x(3, 4), nl.tensor([0, 4, 2])), IndexError,
     r"target 4 is out of range: the input has 4 classes \(valid targets are 0..3\)"),
    (lambda: F.multi_margin_loss(_x(3, 4), nl.tensor([0, -1, 2])), RuntimeError,
     "target -1 is out of range"),
    (lambda: F.multi_margin_loss(_x(3, 4), nl.tensor([0.0, 1.0, 2.0])), TypeError,
     "class indices.*long"),
    (lambda: F.multi_margin_loss(_x(3, 4), nl.tensor([0, 1])), ValueError,
     r"expected shape \(3,\).*got \(2,\)"),
    (lambda: F.multi_margin_loss(_x(2, 3, 4), nl.tensor([0, 1])), ValueError,
     r"vector \(C,\) or matrix \(N, C\)"),
    (lambda: F.multi_margin_loss(_x(3, 4), nl.tensor([0, 1, 2]), weight=nl.ones(3)), ValueError,
     r"weight must have one entry per class, shape \(4,\)"),
    (lambda: F.multi_margin_loss(_x(3, 4), nl.tensor([0, 1, 2]), weight=nl.ones(1, 4)),
     ValueError, "weight must be one-dimensional"),
    (lambda: F.multilabel_soft_margin_loss(_x(3, 4), _x(3, 5)), ValueError,
     r"shapes \(3, 5\) and \(3, 4\) cannot be broadcast"),
    (lambda: F.multilabel_soft_margin_loss(_x(3, 4), _x(2, 3, 4)), ValueError,
     r"target of shape \(2, 3, 4\) must broadcast to the input's shape \(3, 4\)"),
    (lambda: F.multilabel_soft_margin_loss(_x(), _x()), ValueError, "class dimension"),
    (lambda: F.cosine_embedding_loss(_x(3, 4), _x(3, 4), nl.ones(3, 1)), ValueError,
     "target must be 0-D or 1-D"),
    (lambda: F.cosine_embedding_loss(_x(3, 4), _x(3, 4), nl.tensor(1.0)), ValueError,
     "a 0-D target expects 1-D inputs"),
    (lambda: F.cosine_embedding_loss(_x(3, 4), _x(3, 4), nl.ones(2)), ValueError,
     "target has 2 entries for 3 pairs"),
    (lambda: F.triplet_margin_loss(_x(3, 4), _x(3, 4), _x(3, 4), margin=0.0), ValueError,
     "margin must be greater than 0"),
    (lambda: F.triplet_margin_loss(_x(3, 4), _x(4), _x(3, 4)), RuntimeError,
     r"same number of dimensions.*positive \(4,\)"),
    (lambda: F.triplet_margin_loss(_x(3, 4), _x(3, 4), _x(3, 4), reduction="avg"), ValueError,
     "triplet_margin_loss: reduction must be"),
    (lambda: nn.MultiMarginLoss(p=3), ValueError, "only p == 1 and p == 2"),
    (lambda: nn.TripletMarginLoss(margin=-1.0), ValueError, "margin must be greater than 0"),
    (lambda: nn.KLDivLoss(reduction="avg"), ValueError, "KLDivLoss: reduction must be"),
    (lambda: nn.SoftMarginLoss(reduction="avg"), ValueError, "SoftMarginLoss: reduction must be"),
])
def test_bad_input_names_what_was_wrong(call, error, message):
    with pytest.raises(error, match=message):
        call()
