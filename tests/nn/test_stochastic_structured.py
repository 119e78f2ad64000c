"""nn.RReLU, nn.AlphaDropout, nn.FeatureAlphaDropout, nn.MultiLabelMarginLoss,
nn.TripletMarginWithDistanceLoss and nn.CTCLoss against their PyTorch twins (evaluation mode for
the random layers; their training mode by its statistics)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn.functional as F
from neuralab import nn

DTYPES = [(np.float32, torch.float32, 1e-5), (np.float64, torch.float64, 1e-10)]


def _compare(ours_m, theirs_m, arrays, wanted, dtype, tdtype, tol):
    ours = [nl.tensor(a, dtype=dtype, requires_grad=i in wanted) if a.dtype.kind == "f"
            else nl.tensor(a) for i, a in enumerate(arrays)]
    theirs = [torch.tensor(a, dtype=tdtype, requires_grad=i in wanted) if a.dtype.kind == "f"
              else torch.tensor(a) for i, a in enumerate(arrays)]
    yo, yt = ours_m(*ours), theirs_m(*theirs)
    assert yo.shape == tuple(yt.shape) and yo.dtype == dtype
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
    v = np.random.default_rng(1).standard_normal(yo.shape)
    (yo * nl.tensor(v, dtype=dtype)).sum().backward()
    (yt * torch.tensor(v, dtype=tdtype)).sum().backward()
    for i in wanted:
        np.testing.assert_allclose(ours[i].grad.numpy(), theirs[i].grad.numpy(), rtol=tol,
                                   atol=tol, err_msg=f"gradient of input {i}")


@pytest.mark.parametrize(("dtype", "tdtype", "tol"), DTYPES)
@pytest.mark.parametrize(("name", "args"), [("RReLU", (0.2, 0.45)), ("AlphaDropout", (0.3,)),
                                            ("FeatureAlphaDropout", (0.6,))])
def test_random_layers_in_eval_mode_match_pytorch(name, args, dtype, tdtype, tol):
    ours, theirs = getattr(nn, name)(*args).eval(), getattr(torch.nn, name)(*args).eval()
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).uniform(-3, 3, (2, 3, 4))
    _compare(ours, theirs, [x], (0,), dtype, tdtype, tol)


def test_rrelu_module_trains_with_random_slopes():
    layer = nn.RReLU(0.1, 0.3)
    assert layer.training
    nl.manual_seed(0)
    x = nl.tensor(-np.ones(20000), dtype=nl.float64)
    slopes = -layer(x).numpy()
    assert 0.1 <= slopes.min() and slopes.max() <= 0.3
    np.testing.assert_allclose(slopes.mean(), 0.2, atol=0.003)
    layer.eval()
    np.testing.assert_allclose(-layer(x).numpy(), 0.2)


@pytest.mark.parametrize("name", ["AlphaDropout", "FeatureAlphaDropout"])
def test_alpha_dropout_modules_train_self_normalizing(name):
    layer = getattr(nn, name)(0.2)
    nl.manual_seed(1)
    x = nl.tensor(np.random.default_rng(0).standard_normal((400, 50, 10)), dtype=nl.float64)
    y = layer(x).numpy()
    np.testing.assert_allclose([y.mean(), y.std()], [0, 1], atol=0.02)
    assert not np.allclose(y, x.numpy())
    with pytest.raises(ValueError, match="probability"):
        getattr(nn, name)(-0.1)


def test_rrelu_module_inplace_and_bounds():
    x = nl.tensor([-1.0, 2.0])
    assert nn.RReLU(0.2, 0.4, inplace=True).eval()(x) is x
    np.testing.assert_allclose(x.numpy(), [-0.3, 2.0], rtol=1e-6)
    assert repr(nn.RReLU(inplace=True)) == repr(torch.nn.RReLU(inplace=True))
    with pytest.raises(ValueError, match="lower bound"):
        nn.RReLU(0.5, 0.2)


def _multilabel_targets(rng):
    return np.array([[3, 0, -1, 1, 2], [1, -1, 0, 0, 0], [0, 1, 2, 3, 4], [-1, 2, 2, 2, 2],
                     [4, 4, 2, -1, 0], [2, 1, 3, -1, -1]])


def _cosine(module):
    return lambda a, b: 1 - module.cosine_similarity(a, b, dim=-1)


_LP = np.log(np.random.default_rng(3).dirichlet(np.ones(5), size=(7, 3)))
_TARGETS = np.array([[1, 2, 2, 0], [3, 1, 4, 4], [2, 0, 0, 0]])

LOSSES = [
    ("multilabel", lambda: nn.MultiLabelMarginLoss(), lambda: torch.nn.MultiLabelMarginLoss(),
     lambda r: [r.uniform(-2, 2, (6, 5)), _multilabel_targets(r)], (0,)),
    ("multilabel_none", lambda: nn.MultiLabelMarginLoss(reduction="none"),
     lambda: torch.nn.MultiLabelMarginLoss(reduction="none"),
     lambda r: [r.uniform(-2, 2, (6, 5)), _multilabel_targets(r)], (0,)),
    ("triplet", lambda: nn.TripletMarginWithDistanceLoss(margin=1.5, swap=True),
     lambda: torch.nn.TripletMarginWithDistanceLoss(margin=1.5, swap=True),
     lambda r: [r.uniform(-2, 2, (6, 4)) for _ in range(3)], (0, 1, 2)),
    ("triplet_cosine",
     lambda: nn.TripletMarginWithDistanceLoss(distance_function=_cosine(F), margin=0.4,
                                              reduction="none"),
     lambda: torch.nn.TripletMarginWithDistanceLoss(
         distance_function=_cosine(torch.nn.functional), margin=0.4, reduction="none"),
     lambda r: [r.uniform(-2, 2, (6, 4)) for _ in range(3)], (0, 1, 2)),
    ("ctc", lambda: nn.CTCLoss(), lambda: torch.nn.CTCLoss(),
     lambda r: [_LP, _TARGETS, np.array([7, 6, 5]), np.array([3, 4, 1])], (0,)),
    ("ctc_blank_sum", lambda: nn.CTCLoss(blank=4, reduction="sum", zero_infinity=True),
     lambda: torch.nn.CTCLoss(blank=4, reduction="sum", zero_infinity=True),
     lambda r: [_LP, np.where(_TARGETS == 4, 0, _TARGETS), np.array([7, 2, 5]),
                np.array([3, 4, 1])], (0,)),
]


@pytest.mark.parametrize(("dtype", "tdtype", "tol"), DTYPES)
@pytest.mark.parametrize(("name", "make_ours", "make_theirs", "make", "wanted"), LOSSES,
                         ids=[c[0] for c in LOSSES])
def test_loss_modules_match_pytorch(name, make_ours, make_theirs, make, wanted, dtype, tdtype,
                                    tol):
    ours, theirs = make_ours(), make_theirs()
    assert repr(ours).split("(")[0] == repr(theirs).split("(")[0]
    _compare(ours, theirs, make(np.random.default_rng(0)), wanted, dtype, tdtype, tol)


def test_loss_module_arguments():
    with pytest.raises(ValueError, match="reduction"):
        nn.CTCLoss(reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        nn.TripletMarginWithDistanceLoss(reduction="avg")
    with pytest.raises(TypeError):
        nn.TripletMarginWithDistanceLoss(None)  # keyword-only, as PyTorch
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert nn.MultiLabelMarginLoss(size_average=False).reduction == "sum"
