"""The hook-based weight_norm / spectral_norm, batch-norm fusion, get_total_norm and
clip_grads_with_norm_, skip_init, functional_call and the nn.init additions, against PyTorch."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn as nn
from neuralab import func
from neuralab.nn import init, utils
from neuralab.nn.utils import parametrizations, stateless


def t64(values) -> nl.Tensor:
    return nl.tensor(np.asarray(values, dtype=np.float64), dtype=nl.float64)


def twins(ours: nn.Module, theirs: torch.nn.Module):
    """Copy the PyTorch module's state into ours."""
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def run_both(ours, theirs, x: np.ndarray):
    yo = ours(nl.tensor(x, dtype=nl.float64))
    yt = theirs(torch.tensor(x))
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    return yo, yt


def compare_grads(ours, theirs, names):
    for name in names:
        np.testing.assert_allclose(dict(ours.named_parameters())[name].grad.numpy(),
                                   dict(theirs.named_parameters())[name].grad.numpy(),
                                   rtol=1e-9, atol=1e-12, err_msg=name)


# ----------------------------------------------------------------------------- old weight_norm
@pytest.mark.parametrize("dim", [0, 1, None])
def test_old_weight_norm_matches_pytorch(dim):
    ours, theirs = twins(nn.Linear(4, 3, dtype=nl.float64),
                         torch.nn.Linear(4, 3, dtype=torch.float64))
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        utils.weight_norm(ours, dim=dim)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.nn.utils.weight_norm(theirs, dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight_g", "weight_v"]
    np.testing.assert_allclose(ours.weight_g.numpy(), theirs.weight_g.detach().numpy())
    x = np.random.default_rng(0).standard_normal((5, 4))
    yo, yt = run_both(ours, theirs, x)
    yo.pow(2).sum().backward()
    yt.pow(2).sum().backward()
    compare_grads(ours, theirs, ["bias", "weight_g", "weight_v"])
    with pytest.raises(RuntimeError, match="two weight_norm hooks"), \
            pytest.warns(FutureWarning):
        utils.weight_norm(ours, dim=dim)
    utils.remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        utils.remove_weight_norm(ours)


# ----------------------------------------------------------------------------- old spectral_norm
def test_old_spectral_norm_power_iteration_matches_pytorch():
    ours = nn.Conv2d(2, 3, 3, dtype=nl.float64)
    theirs = torch.nn.Conv2d(2, 3, 3, dtype=torch.float64)
    twins(ours, theirs)
    utils.spectral_norm(ours, n_power_iterations=2)
    torch.nn.utils.spectral_norm(theirs, n_power_iterations=2)
    keys = ["bias", "weight_orig", "weight_u", "weight_v"]
    assert list(ours.state_dict()) == list(theirs.state_dict()) == keys
    twins(ours, theirs)  # the same random u, v in both
    x = np.random.default_rng(1).standard_normal((1, 2, 5, 5))
    for _ in range(3):
        ours.zero_grad()
        theirs.zero_grad()
        yo, yt = run_both(ours, theirs, x)
        yo.sum().backward()
        yt.sum().backward()
        compare_grads(ours, theirs, ["bias", "weight_orig"])
        for key in keys[2:]:
            np.testing.assert_allclose(ours.state_dict()[key], theirs.state_dict()[key].numpy(),
                                       rtol=1e-10)
    ours.eval()
    theirs.eval()
    u = ours.weight_u.numpy().copy()
    run_both(ours, theirs, x)
    np.testing.assert_array_equal(ours.weight_u.numpy(), u)  # eval: no power iteration
    utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    assert list(ours.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="n_power_iterations=0"):
        utils.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


# ----------------------------------------------------------------------------- fusion
def test_fuse_conv_bn_matches_pytorch():
    conv = torch.nn.Conv2d(2, 3, 3, dtype=torch.float64)
    bn = torch.nn.BatchNorm2d(3, dtype=torch.float64)
    with torch.no_grad():
        bn.running_mean.copy_(torch.tensor([0.1, -0.2, 0.3]))
        bn.running_var.copy_(torch.tensor([0.5, 2.0, 1.5]))
        bn.weight.copy_(torch.tensor([1.5, -0.5, 2.0]))
        bn.bias.copy_(torch.tensor([0.2, 0.1, -0.3]))
    conv.eval()
    bn.eval()
    oconv, obn = twins(nn.Conv2d(2, 3, 3, dtype=nl.float64), conv)[0], \
        twins(nn.BatchNorm2d(3).double(), bn)[0]
    with pytest.raises(AssertionError, match="Fusion only for eval"):
        utils.fuse_conv_bn_eval(oconv, obn)
    oconv.eval()
    obn.eval()
    fused = utils.fuse_conv_bn_eval(oconv, obn)
    tfused = torch.nn.utils.fuse_conv_bn_eval(conv, bn)
    x = np.random.default_rng(2).standard_normal((2, 2, 5, 5))
    run_both(fused, tfused, x)
    np.testing.assert_allclose(fused(nl.tensor(x, dtype=nl.float64)).detach().numpy(),
                               obn(oconv(nl.tensor(x, dtype=nl.float64))).detach().numpy(),
                               atol=1e-12)
    assert fused is not oconv and isinstance(fused.weight, nn.Parameter)


def test_fuse_conv_bn_weights_transpose_and_no_bias():
    rng = np.random.default_rng(3)
    w, rm, rv = rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(3), rng.random(3) + 0.5
    ours = utils.fuse_conv_bn_weights(t64(w), None, t64(rm), t64(rv), 1e-3,
                                      None, None, transpose=True)
    theirs = torch.nn.utils.fuse_conv_bn_weights(torch.tensor(w), None, torch.tensor(rm),
                                                 torch.tensor(rv), 1e-3, None, None,
                                                 transpose=True)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=1e-12)
        assert o.requires_grad == t.requires_grad


def test_fuse_linear_bn_matches_pytorch():
    lin = torch.nn.Linear(4, 3, dtype=torch.float64).eval()
    bn = torch.nn.BatchNorm1d(3, dtype=torch.float64).eval()
    with torch.no_grad():
        bn.running_mean.copy_(torch.tensor([0.1, -0.2, 0.3]))
        bn.running_var.copy_(torch.tensor([0.5, 2.0, 1.5]))
        bn.weight.copy_(torch.tensor([1.5, -0.5, 2.0]))
    olin = twins(nn.Linear(4, 3, dtype=nl.float64), lin)[0].eval()
    obn = twins(nn.BatchNorm1d(3).double(), bn)[0].eval()
    run_both(utils.fuse_linear_bn_eval(olin, obn), torch.nn.utils.fuse_linear_bn_eval(lin, bn),
             np.random.default_rng(4).standard_normal((5, 4)))
    with pytest.raises(AssertionError, match="out_features == bn.num_features"):
        utils.fuse_linear_bn_eval(olin, nn.BatchNorm1d(4).eval())


# ----------------------------------------------------------------------------- clipping
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_get_total_norm_and_clip_grads_with_norm_match_pytorch(norm_type):
    rng = np.random.default_rng(5)
    grads = [rng.standard_normal(s) * 3 for s in [(3, 2), (4,)]]
    ours = [nn.Parameter(nl.zeros(*g.shape, dtype=nl.float64)) for g in grads]
    theirs = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for po, pt, g in zip(ours, theirs, grads):
        po.grad, pt.grad = t64(g), torch.tensor(g)
    total = utils.get_total_norm([p.grad for p in ours], norm_type)
    ttotal = torch.nn.utils.get_total_norm([p.grad for p in theirs], norm_type)
    assert total.ndim == 0 and total.dtype == nl.float64
    assert total.item() == pytest.approx(ttotal.item(), rel=1e-12)
    utils.clip_grads_with_norm_(ours, 2.0, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 2.0, ttotal)
    for po, pt in zip(ours, theirs):
        np.testing.assert_allclose(po.grad.numpy(), pt.grad.numpy(), rtol=1e-12)
    assert utils.get_total_norm([]).item() == 0.0
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.get_total_norm([t64([np.nan])], error_if_nonfinite=True)


def test_skip_init():
    lin = utils.skip_init(nn.Linear, 5, 2, device="cpu")
    assert isinstance(lin, nn.Linear) and lin.weight.shape == (2, 5)
    with pytest.raises(RuntimeError, match="Expected a Module"):
        utils.skip_init(int, 3)


# ----------------------------------------------------------------------------- functional_call
class Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 3, dtype=nl.float64)
        self.b = nn.Linear(3, 3, dtype=nl.float64)
        self.b.weight = self.a.weight

    def forward(self, x):
        return self.b(self.a(x))


class TTied(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Linear(3, 3, dtype=torch.float64)
        self.b = torch.nn.Linear(3, 3, dtype=torch.float64)
        self.b.weight = self.a.weight

    def forward(self, x):
        return self.b(self.a(x))


def test_functional_call_values_gradients_and_module_unchanged():
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                                 torch.nn.Linear(4, 2)).double()
    ours = twins(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double(), theirs)[0]
    rng = np.random.default_rng(6)
    new = {"0.weight": rng.standard_normal((4, 3)), "2.bias": rng.standard_normal(2)}
    po = {k: nl.tensor(v, dtype=nl.float64, requires_grad=True) for k, v in new.items()}
    pt = {k: torch.tensor(v, requires_grad=True) for k, v in new.items()}
    x = rng.standard_normal((5, 3))
    before = ours.state_dict()
    yo = func.functional_call(ours, po, nl.tensor(x, dtype=nl.float64))
    yt = torch.func.functional_call(theirs, pt, torch.tensor(x))
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    yo.pow(2).sum().backward()
    yt.pow(2).sum().backward()
    for k in new:
        np.testing.assert_allclose(po[k].grad.numpy(), pt[k].grad.numpy(), rtol=1e-10)
    assert ours[0].weight.grad is None  # the module's own weight was not used
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    assert isinstance(ours[0].weight, nn.Parameter)
    assert ours[0].weight is ours[0]._parameters["weight"]
    with pytest.warns(FutureWarning, match="torch.func.functional_call"):
        y2 = stateless.functional_call(ours, po, (nl.tensor(x, dtype=nl.float64),))
    np.testing.assert_allclose(y2.detach().numpy(), yo.detach().numpy())


def test_functional_call_buffers_kwargs_and_dict_sequences():
    bn = nn.BatchNorm1d(2).double().eval()
    tbn = torch.nn.BatchNorm1d(2, dtype=torch.float64).eval()
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    stats = ({"running_mean": np.array([1.0, -1.0])}, {"running_var": np.array([4.0, 0.25])})
    yo = func.functional_call(bn, [{k: t64(v) for k, v in d.items()} for d in stats],
                              (t64(x),))
    yt = torch.func.functional_call(tbn, [{k: torch.tensor(v) for k, v in d.items()}
                                          for d in stats], (torch.tensor(x),))
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    np.testing.assert_array_equal(bn.running_mean.numpy(), [0.0, 0.0])
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        func.functional_call(bn, [{"running_mean": nl.zeros(2)}, {"running_mean": nl.zeros(2)}],
                             (t64(x),))
    with pytest.raises(ValueError, match="to be a dict, or a list/tuple of dicts"):
        func.functional_call(bn, 3, (t64(x),))


def test_functional_call_tie_weights_and_strict():
    ours, theirs = Tied(), TTied()
    twins(ours, theirs)
    w = np.random.default_rng(7).standard_normal((3, 3))
    x = np.ones((2, 3))
    for tie in (True, False):
        yo = func.functional_call(ours, {"a.weight": t64(w)}, (t64(x),),
                                  tie_weights=tie)
        yt = torch.func.functional_call(theirs, {"a.weight": torch.tensor(w)}, (torch.tensor(x),),
                                        tie_weights=tie)
        np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"multiple values for keys \['a.weight', 'b.weight'\]"):
        func.functional_call(ours, {"a.weight": t64(w), "b.weight": t64(w)},
                             (t64(x),))
    with pytest.raises(RuntimeError, match=r"Unexpected key\(s\): 'c'.*\n.*Missing key\(s\)"):
        func.functional_call(ours, {"c": t64(w)}, (t64(x),), strict=True)


def test_functional_call_on_a_parametrized_module():
    lin = nn.Linear(3, 3, dtype=nl.float64)
    parametrizations.orthogonal(lin)
    w = np.random.default_rng(8).standard_normal((3, 3))
    y = func.functional_call(lin, {"weight": t64(w)}, (nl.eye(3, dtype=nl.float64),))
    # the parametrization is bypassed: the weight is w itself
    np.testing.assert_allclose(y.detach().numpy(), w.T + lin.bias.detach().numpy())
    w_orth = lin.weight.numpy()
    np.testing.assert_allclose(w_orth @ w_orth.T, np.eye(3), atol=1e-12)  # restored


# ----------------------------------------------------------------------------- init
@pytest.mark.parametrize("shape,groups", [((4, 2, 3), 2), ((3, 5, 3, 4), 1), ((6, 2, 3, 3, 3), 3)])
def test_dirac_matches_pytorch(shape, groups):
    ours = nn.Parameter(nl.randn(*shape))
    theirs = torch.empty(shape)
    init.dirac_(ours, groups)
    torch.nn.init.dirac_(theirs, groups)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(ValueError, match="divisible by groups"):
        init.dirac_(ours, 5)
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        init.dirac_(nl.zeros(3, 3))


def test_sparse_zeros_a_fraction_of_each_column():
    w = nl.zeros(10, 6)
    init.sparse_(w, 0.25, std=2.0, generator=np.random.default_rng(0))
    zeros = (w.numpy() == 0).sum(axis=0)
    np.testing.assert_array_equal(zeros, [3] * 6)  # ceil(0.25 · 10)
    assert w.numpy().std() > 1.0
    with pytest.raises(ValueError, match="2 dimensions"):
        init.sparse_(nl.zeros(3), 0.1)


@pytest.mark.parametrize("name,args", [
    ("uniform", (-1.0, 1.0)), ("normal", (0.0, 2.0)), ("constant", (0.5,)), ("eye", ()),
    ("xavier_uniform", ()), ("xavier_normal", ()), ("kaiming_uniform", ()),
    ("kaiming_normal", ()), ("orthogonal", ()), ("sparse", (0.5,)),
])
def test_deprecated_init_aliases_warn_and_call_the_new_function(name, args):
    nl.manual_seed(0)
    expected = getattr(init, name + "_")(nl.zeros(4, 4), *args).numpy()
    nl.manual_seed(0)
    with pytest.warns(FutureWarning, match=f"`nn.init.{name}` is now deprecated in favor of "
                                           f"`nn.init.{name}_`"):
        got = getattr(init, name)(nl.zeros(4, 4), *args)
    np.testing.assert_array_equal(got.numpy(), expected)
