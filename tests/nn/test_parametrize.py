"""nn.utils.parametrize and nn.utils.parametrizations (weight_norm, spectral_norm, orthogonal)
against PyTorch: state-dict keys, values, gradients through the parametrizations, power
iteration with the same u, v copied in."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn as nn
from neuralab.nn.utils import parametrizations as PZ
from neuralab.nn.utils import parametrize as P

TP = torch.nn.utils.parametrize
TPZ = torch.nn.utils.parametrizations


def linear_twins(n_in: int, n_out: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    ours = nn.Linear(n_in, n_out, dtype=nl.float64)
    theirs = torch.nn.Linear(n_in, n_out, dtype=torch.float64)
    w, b = rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out)
    ours.weight.array[...] = w
    ours.bias.array[...] = b
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(w))
        theirs.bias.copy_(torch.tensor(b))
    return ours, theirs


def load_from_torch(ours: nn.Module, theirs: torch.nn.Module) -> None:
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})


def compare_call(ours, theirs, x: np.ndarray, atol: float = 1e-12) -> None:
    """Same output and same gradients of every parameter (by state-dict name)."""
    for m in (ours, theirs):
        m.zero_grad()
    yo = ours(nl.tensor(x, dtype=nl.float64))
    yt = theirs(torch.tensor(x))
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), atol=atol, rtol=1e-10)
    weights = np.random.default_rng(7).standard_normal(yt.shape)
    (yo * nl.tensor(weights, dtype=nl.float64)).sum().backward()
    (yt * torch.tensor(weights)).sum().backward()
    ours_p, theirs_p = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(ours_p) == list(theirs_p)
    for name, p in theirs_p.items():
        np.testing.assert_allclose(ours_p[name].grad.numpy(), p.grad.numpy(), atol=atol,
                                   rtol=1e-9, err_msg=name)


# ----------------------------------------------------------------------------- parametrize
class Symmetric(nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).mT

    def right_inverse(self, a):
        return a.triu()


class TSymmetric(torch.nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).mT

    def right_inverse(self, a):
        return a.triu()


class Scale(nn.Module):
    def forward(self, x):
        return x * 3.0

    def right_inverse(self, a):
        return a / 3.0


class TScale(torch.nn.Module):
    def forward(self, x):
        return x * 3.0

    def right_inverse(self, a):
        return a / 3.0


def test_register_chain_state_dict_values_and_gradients_match_pytorch():
    ours, theirs = linear_twins(4, 4)
    p_weight = ours.weight
    P.register_parametrization(ours, "weight", Symmetric())
    P.register_parametrization(ours, "weight", Scale())
    TP.register_parametrization(theirs, "weight", TSymmetric())
    TP.register_parametrization(theirs, "weight", TScale())
    assert type(ours).__name__ == "ParametrizedLinear" and isinstance(ours, nn.Linear)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == \
        ["bias", "parametrizations.weight.original"]
    assert ours.parametrizations.weight.original is p_weight  # same object: optimizers keep it
    np.testing.assert_allclose(ours.parametrizations.weight.original.numpy(),
                               theirs.parametrizations.weight.original.detach().numpy())
    compare_call(ours, theirs, np.random.default_rng(1).standard_normal((3, 4)))
    w = ours.weight.numpy()
    np.testing.assert_allclose(w, w.T)
    assert P.is_parametrized(ours) and P.is_parametrized(ours, "weight")
    assert not P.is_parametrized(ours, "bias") and not P.is_parametrized(nn.Linear(2, 2))
    assert P.type_before_parametrizations(ours) is nn.Linear


def test_assignment_goes_through_right_inverse():
    ours, theirs = linear_twins(3, 3)
    P.register_parametrization(ours, "weight", Scale())
    TP.register_parametrization(theirs, "weight", TScale())
    value = np.arange(9.0).reshape(3, 3)
    ours.weight = nl.tensor(value, dtype=nl.float64)
    theirs.weight = torch.tensor(value)
    np.testing.assert_allclose(ours.parametrizations.weight.original.numpy(), value / 3)
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy())
    with pytest.raises(KeyError, match="already exists"):
        ours.weight = nn.Parameter(nl.zeros(3, 3))


class SplitSum(nn.Module):
    """right_inverse returns two tensors: original0 + original1."""

    def forward(self, a, b):
        return a + b

    def right_inverse(self, w):
        return w * 0.25, w * 0.75


class TSplitSum(torch.nn.Module):
    def forward(self, a, b):
        return a + b

    def right_inverse(self, w):
        return w * 0.25, w * 0.75


def test_several_originals_and_remove():
    ours, theirs = linear_twins(3, 2)
    P.register_parametrization(ours, "weight", SplitSum())
    TP.register_parametrization(theirs, "weight", TSplitSum())
    assert list(ours.state_dict()) == list(theirs.state_dict()) == \
        ["bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    compare_call(ours, theirs, np.ones((2, 3)))
    with pytest.raises(ValueError, match="sequence of tensors"):
        P.remove_parametrizations(ours, "weight", leave_parametrized=False)
    P.remove_parametrizations(ours, "weight")
    TP.remove_parametrizations(theirs, "weight")
    assert type(ours) is nn.Linear and not hasattr(ours, "parametrizations")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy())
    assert isinstance(ours.weight, nn.Parameter)


@pytest.mark.parametrize("leave", [True, False])
def test_remove_keeps_the_parameter_object(leave):
    ours, theirs = linear_twins(3, 3)
    original = ours.weight
    P.register_parametrization(ours, "weight", Scale())
    TP.register_parametrization(theirs, "weight", TScale())
    P.remove_parametrizations(ours, "weight", leave_parametrized=leave)
    TP.remove_parametrizations(theirs, "weight", leave_parametrized=leave)
    assert ours.weight is original and type(ours) is nn.Linear
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy())
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        P.remove_parametrizations(ours, "weight")


class Counting(nn.Module):
    calls = 0

    def forward(self, x):
        Counting.calls += 1
        return x


def test_cached_computes_once():
    lin = nn.Linear(2, 2)
    P.register_parametrization(lin, "weight", Counting())
    Counting.calls = 0
    lin.weight, lin.weight  # noqa: B018
    assert Counting.calls == 2
    with P.cached():
        a, b = lin.weight, lin.weight
        with P.cached():
            assert lin.weight is a
    assert a is b and Counting.calls == 3
    lin.weight  # noqa: B018
    assert Counting.calls == 4  # the cache is gone after the block


class Shrink(nn.Module):
    def forward(self, x):
        return x[:1]


def test_bad_registrations_raise_clear_errors():
    lin = nn.Linear(2, 3)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer.*'weights'"):
        P.register_parametrization(lin, "weights", Scale())
    with pytest.raises(ValueError, match="may not change the shape"):
        P.register_parametrization(lin, "weight", Shrink())
    assert not P.is_parametrized(lin) and isinstance(lin.weight, nn.Parameter)
    P.register_parametrization(lin, "weight", Shrink(), unsafe=True)
    assert lin.weight.shape == (1, 2)
    with pytest.raises(TypeError, match="must be an nn.Module"):
        P.register_parametrization(nn.Linear(2, 2), "weight", lambda x: x)


# ----------------------------------------------------------------------------- weight_norm
@pytest.mark.parametrize("dim", [0, 1, None, -1])
def test_weight_norm_matches_pytorch(dim):
    ours, theirs = linear_twins(4, 3)
    PZ.weight_norm(ours, dim=dim)
    TPZ.weight_norm(theirs, dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=1e-12)
    compare_call(ours, theirs, np.random.default_rng(2).standard_normal((5, 4)))


def test_weight_norm_on_a_conv_weight():
    ours = nn.Conv2d(2, 3, 3, dtype=nl.float64)
    theirs = torch.nn.Conv2d(2, 3, 3, dtype=torch.float64)
    load_from_torch(ours, theirs)
    PZ.weight_norm(ours)
    TPZ.weight_norm(theirs)
    assert ours.parametrizations.weight.original0.shape == (3, 1, 1, 1)
    compare_call(ours, theirs, np.random.default_rng(3).standard_normal((1, 2, 5, 5)))


# ----------------------------------------------------------------------------- spectral_norm
@pytest.mark.parametrize("n_iter,eps", [(1, 1e-12), (3, 1e-3)])
def test_spectral_norm_power_iteration_matches_pytorch(n_iter, eps):
    ours, theirs = linear_twins(5, 4)
    PZ.spectral_norm(ours, n_power_iterations=n_iter, eps=eps)
    TPZ.spectral_norm(theirs, n_power_iterations=n_iter, eps=eps)
    keys = ["bias", "parametrizations.weight.original", "parametrizations.weight.0._u",
            "parametrizations.weight.0._v"]
    assert list(ours.state_dict()) == list(theirs.state_dict()) == keys
    load_from_torch(ours, theirs)  # the same u, v (drawn at random) in both
    x = np.random.default_rng(4).standard_normal((2, 5))
    for _ in range(3):  # each training-mode access does n_iter steps, in both
        compare_call(ours, theirs, x)
        for key in keys[2:]:
            np.testing.assert_allclose(ours.state_dict()[key], theirs.state_dict()[key].numpy(),
                                       rtol=1e-10, atol=1e-12)
    ours.eval()
    theirs.eval()
    u = ours.state_dict()["parametrizations.weight.0._u"]
    compare_call(ours, theirs, x)
    np.testing.assert_array_equal(ours.state_dict()["parametrizations.weight.0._u"], u)


def test_spectral_norm_initial_15_iterations_and_sigma():
    w = np.random.default_rng(5).standard_normal((6, 4))
    sn = PZ._SpectralNorm(nl.tensor(w, dtype=nl.float64))
    tsn = TPZ._SpectralNorm(torch.tensor(w))
    u0 = np.random.default_rng(6).standard_normal(6)
    v0 = np.random.default_rng(7).standard_normal(4)
    for m in (sn, tsn):
        m._u.data = m._u.data.new_tensor(u0 / np.linalg.norm(u0))
        m._v.data = m._v.data.new_tensor(v0 / np.linalg.norm(v0))
    sn._power_method(nl.tensor(w, dtype=nl.float64), 15)
    tsn._power_method(torch.tensor(w), 15)
    np.testing.assert_allclose(sn._u.numpy(), tsn._u.numpy(), rtol=1e-12)
    np.testing.assert_allclose(sn._v.numpy(), tsn._v.numpy(), rtol=1e-12)
    out = sn(nl.tensor(w, dtype=nl.float64)).numpy()  # W / σ: the largest singular value is ~1
    assert np.linalg.svd(out, compute_uv=False)[0] == pytest.approx(1.0, abs=1e-6)


def test_spectral_norm_conv_transpose_dim_and_vector():
    ours = nn.ConvTranspose2d(3, 2, 3, dtype=nl.float64)
    theirs = torch.nn.ConvTranspose2d(3, 2, 3, dtype=torch.float64)
    load_from_torch(ours, theirs)
    PZ.spectral_norm(ours)
    TPZ.spectral_norm(theirs)
    assert ours.parametrizations.weight[0].dim == 1
    assert ours.state_dict()["parametrizations.weight.0._u"].shape == (2,)
    load_from_torch(ours, theirs)
    compare_call(ours, theirs, np.random.default_rng(8).standard_normal((1, 3, 4, 4)))
    bn, tbn = nn.BatchNorm1d(3, dtype=nl.float64), torch.nn.BatchNorm1d(3, dtype=torch.float64)
    PZ.spectral_norm(bn)  # 1-d: exact normalization, no buffers
    TPZ.spectral_norm(tbn)
    assert list(bn.state_dict()) == list(tbn.state_dict())
    np.testing.assert_allclose(bn.weight.numpy(), tbn.weight.detach().numpy())
    with pytest.raises(ValueError, match="n_power_iterations=0"):
        PZ.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        PZ.spectral_norm(nn.Linear(2, 2), dim=2)


# ----------------------------------------------------------------------------- orthogonal
@pytest.mark.parametrize("orth_map", [None, "matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3)])
def test_orthogonal_matches_pytorch(orth_map, shape):
    ours, theirs = linear_twins(shape[1], shape[0])
    PZ.orthogonal(ours, orthogonal_map=orth_map)
    TPZ.orthogonal(theirs, orthogonal_map=orth_map)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == \
        ["bias", "parametrizations.weight.original", "parametrizations.weight.0.base"]
    sd = ours.state_dict()
    np.testing.assert_array_equal(sd["parametrizations.weight.original"],
                                  theirs.parametrizations.weight.original.detach().numpy())
    if shape[0] == shape[1]:  # no random completion: the base is the weight's Q factor
        np.testing.assert_allclose(sd["parametrizations.weight.0.base"],
                                   theirs.parametrizations.weight[0].base.numpy(), atol=1e-12)
    # registration keeps the weight when it is orthogonal already... and from random originals
    load_from_torch(ours, theirs)
    x = np.random.default_rng(9).standard_normal((2, shape[1]))
    compare_call(ours, theirs, x)
    new = np.random.default_rng(10).standard_normal(shape) * 0.5
    idx = np.arange(min(shape))
    new[idx, idx] = [1, -1, 1][: len(idx)] + [-1] * (len(idx) - 3)  # householder: the signs
    ours.parametrizations.weight.original.array[...] = new
    with torch.no_grad():
        theirs.parametrizations.weight.original.copy_(torch.tensor(new))
    compare_call(ours, theirs, x, atol=1e-11)
    w = ours.weight.numpy()
    small = w @ w.T if shape[0] <= shape[1] else w.T @ w
    np.testing.assert_allclose(small, np.eye(min(shape)), atol=1e-12)


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
def test_orthogonal_householder_without_trivialization(shape):
    ours, theirs = linear_twins(shape[1], shape[0], seed=11)
    PZ.orthogonal(ours, orthogonal_map="householder", use_trivialization=False)
    TPZ.orthogonal(theirs, orthogonal_map="householder", use_trivialization=False)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == \
        ["bias", "parametrizations.weight.original"]
    np.testing.assert_allclose(ours.parametrizations.weight.original.numpy(),
                               theirs.parametrizations.weight.original.detach().numpy(),
                               atol=1e-12)
    compare_call(ours, theirs, np.ones((2, shape[1])), atol=1e-11)


def test_orthogonal_batched_cayley_without_trivialization_and_errors():
    class Batch(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(nl.tensor(
                np.random.default_rng(12).standard_normal((2, 3, 3)), dtype=nl.float64))

        def forward(self, x):
            return self.weight @ x

    class TBatch(torch.nn.Module):
        def __init__(self, w):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.tensor(w))

        def forward(self, x):
            return self.weight @ x

    ours = Batch()
    theirs = TBatch(ours.weight.numpy())
    PZ.orthogonal(ours, orthogonal_map="cayley", use_trivialization=False)
    TPZ.orthogonal(theirs, orthogonal_map="cayley", use_trivialization=False)
    compare_call(ours, theirs, np.random.default_rng(13).standard_normal((2, 3, 2)))
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        ours.weight = nl.eye(3, dtype=nl.float64).expand(2, 3, 3)
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        PZ.orthogonal(nn.Linear(2, 2), orthogonal_map="qr")
    with pytest.raises(ValueError, match="Got a tensor of 1 dimensions"):
        PZ.orthogonal(nn.Linear(2, 2), name="bias")
    with pytest.raises(ValueError, match="no parameter or buffer with name 'w'"):
        PZ.orthogonal(nn.Linear(2, 2), name="w")


def test_orthogonal_assignment_of_an_orthogonal_matrix_is_exact():
    lin = nn.Linear(4, 4, dtype=nl.float64)
    PZ.orthogonal(lin)
    q = np.linalg.qr(np.random.default_rng(14).standard_normal((4, 4)))[0]
    lin.weight = nl.tensor(q, dtype=nl.float64)
    np.testing.assert_allclose(lin.weight.numpy(), q, atol=1e-12)


def test_parametrized_module_trains_and_deepcopies():
    import copy

    lin = nn.Linear(3, 3, dtype=nl.float64)
    PZ.orthogonal(lin)
    opt = nl.optim.SGD(lin.parameters(), lr=0.1)
    x = nl.randn(4, 3, dtype=nl.float64)
    before = lin.weight.numpy().copy()
    lin(x).pow(2).sum().backward()
    opt.step()
    w = lin.weight.numpy()
    assert not np.allclose(w, before)
    np.testing.assert_allclose(w @ w.T, np.eye(3), atol=1e-12)  # still orthogonal
    twin = copy.deepcopy(lin)
    np.testing.assert_allclose(twin.weight.numpy(), w)
    twin.parametrizations.weight.original.array[...] = 0.0
    np.testing.assert_allclose(lin.weight.numpy(), w)
