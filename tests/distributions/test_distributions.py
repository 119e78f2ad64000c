"""neuralab.distributions against torch.distributions in float64: log_prob, entropy, moments,
cdf/icdf and KL values and their gradients with respect to the parameters; draws by their
moments and frequencies (tolerances from the sample size), shapes, seeding, reparameterised
gradients and the validation errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.distributions as TD

import neuralab as nl
import neuralab.distributions as ND

RNG = np.random.default_rng(0)


def _pair(array):
    """The same float64 parameter as a neuralab and a torch leaf."""
    array = np.ascontiguousarray(array, dtype=np.float64)
    return (nl.tensor(array, dtype=nl.float64, requires_grad=True),
            torch.tensor(array, dtype=torch.float64, requires_grad=True))


def _t(array):
    """A neuralab tensor of ``array`` keeping NumPy's dtype (float64 stays float64)."""
    return nl.from_numpy(np.array(array))  # a copy: contiguous


POS = RNG.uniform(0.5, 2.0, (2, 3))
REAL = RNG.normal(size=(2, 3))
POS2 = RNG.uniform(0.5, 2.0, (2, 3))
UNIT = RNG.uniform(0.1, 0.9, (2, 3))
LOGITS = RNG.normal(size=(2, 4))
A = RNG.normal(size=(2, 3, 3))
COV = A @ A.transpose(0, 2, 1) + 3 * np.eye(3)
LOC3 = RNG.normal(size=(2, 3))

# name: (family, parameter arrays (given by keyword), a value in the support)
FAMILIES = {
    "normal": ("Normal", {"loc": REAL, "scale": POS}, REAL + 0.3),
    "uniform": ("Uniform", {"low": REAL - 1, "high": REAL + POS}, REAL - 0.2),
    "exponential": ("Exponential", {"rate": POS}, POS2),
    "laplace": ("Laplace", {"loc": REAL, "scale": POS}, REAL - 0.7),
    "gamma": ("Gamma", {"concentration": POS * 2, "rate": POS2}, POS2),
    "beta": ("Beta", {"concentration1": POS, "concentration0": POS2 * 2}, UNIT),
    "bernoulli_probs": ("Bernoulli", {"probs": UNIT}, (UNIT > 0.5).astype(float)),
    "bernoulli_logits": ("Bernoulli", {"logits": REAL}, (REAL > 0).astype(float)),
    "categorical_probs": ("Categorical", {"probs": np.exp(LOGITS)}, np.array([[0, 3], [2, 1]])),
    "categorical_logits": ("Categorical", {"logits": LOGITS}, np.array([[0, 3], [2, 1]])),
    "onehot_logits": ("OneHotCategorical", {"logits": LOGITS}, np.eye(4)[[1, 3]]),
    "mvn_cov": ("MultivariateNormal", {"loc": LOC3, "covariance_matrix": COV}, LOC3 + 0.5),
    "mvn_prec": ("MultivariateNormal", {"loc": LOC3, "precision_matrix": COV}, LOC3 - 0.5),
    "mvn_tril": ("MultivariateNormal",
                 {"loc": LOC3, "scale_tril": np.linalg.cholesky(COV)}, LOC3[::-1].copy()),
}


def _build(name):
    family, params, value = FAMILIES[name]
    pairs = {k: _pair(v) for k, v in params.items()}
    d_nl = getattr(ND, family)(**{k: p[0] for k, p in pairs.items()})
    d_torch = getattr(TD, family)(**{k: p[1] for k, p in pairs.items()})
    return pairs, d_nl, d_torch, value


def _compare(pairs, ours, theirs, atol=1e-10):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-9,
                               atol=atol)
    weights = RNG.normal(size=tuple(theirs.shape))
    if not theirs.requires_grad:
        return
    assert ours.requires_grad, "PyTorch's result has a gradient and neuralab's has none"
    (ours * _t(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    for ours_p, theirs_p in pairs.values():
        expected = np.zeros(theirs_p.shape) if theirs_p.grad is None else theirs_p.grad.numpy()
        got = np.zeros(ours_p.shape) if ours_p.grad is None else ours_p.grad.numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", sorted(FAMILIES))
@pytest.mark.parametrize("quantity", ["log_prob", "entropy", "mean", "variance", "stddev",
                                      "mode"])
def test_values_and_gradients_match_pytorch(name, quantity):
    pairs, d_nl, d_torch, value = _build(name)
    try:
        theirs = getattr(d_torch, quantity)
        theirs = theirs(torch.tensor(value)) if quantity == "log_prob" else \
            theirs() if quantity == "entropy" else theirs
    except NotImplementedError:
        pytest.skip(f"PyTorch has no {quantity} for {name}")
    ours = getattr(d_nl, quantity)
    ours = ours(_t(value)) if quantity == "log_prob" else \
        ours() if quantity == "entropy" else ours
    assert tuple(ours.shape) == tuple(theirs.shape)
    if theirs.dtype.is_floating_point:
        ours_np, theirs_np = ours.detach().numpy(), theirs.detach().numpy()
        np.testing.assert_array_equal(np.isnan(ours_np), np.isnan(theirs_np))
        if np.isnan(theirs_np).any():
            return
    else:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        return
    _compare(pairs, ours, theirs)


@pytest.mark.parametrize("name", ["normal", "uniform", "exponential", "laplace"])
@pytest.mark.parametrize("method", ["cdf", "icdf"])
def test_cdf_and_icdf_match_pytorch(name, method):
    pairs, d_nl, d_torch, value = _build(name)
    if method == "icdf":
        value = UNIT
    _compare(pairs, getattr(d_nl, method)(_t(value)),
             getattr(d_torch, method)(torch.tensor(value)))


def test_digamma_gradient_matches_pytorch():
    pairs = {"x": _pair([0.05, 0.7, 1.0, 3.3, 12.0, 250.0])}
    ours = ND.utils.digamma(pairs["x"][0])
    theirs = torch.digamma(pairs["x"][1])
    _compare(pairs, ours, theirs)


KL_PAIRS = {
    "normal": ("Normal", {"loc": REAL, "scale": POS}, {"loc": REAL[::-1], "scale": POS2}),
    "bernoulli": ("Bernoulli", {"probs": UNIT}, {"logits": REAL}),
    "categorical": ("Categorical", {"logits": LOGITS}, {"probs": np.exp(-LOGITS)}),
    "onehot": ("OneHotCategorical", {"logits": LOGITS}, {"logits": LOGITS[::-1]}),
    "mvn": ("MultivariateNormal", {"loc": LOC3, "covariance_matrix": COV},
            {"loc": LOC3[::-1], "scale_tril": np.linalg.cholesky(COV[::-1])}),
    "uniform": ("Uniform", {"low": REAL - 1, "high": REAL + POS},
                {"low": REAL - 1.5 - POS2 * (REAL > 0), "high": REAL + POS + 0.5}),
    "exponential": ("Exponential", {"rate": POS}, {"rate": POS2}),
    "laplace": ("Laplace", {"loc": REAL, "scale": POS}, {"loc": REAL * 2, "scale": POS2}),
    "gamma": ("Gamma", {"concentration": POS, "rate": POS2},
              {"concentration": POS2, "rate": POS}),
    "beta": ("Beta", {"concentration1": POS, "concentration0": POS2},
             {"concentration1": POS2, "concentration0": UNIT + 1}),
}


@pytest.mark.parametrize("name", sorted(KL_PAIRS))
@pytest.mark.parametrize("independent", [False, True])
def test_kl_divergence_matches_pytorch(name, independent):
    family, p_params, q_params = KL_PAIRS[name]
    pairs = {f"p_{k}": _pair(v) for k, v in p_params.items()}
    pairs.update({f"q_{k}": _pair(v) for k, v in q_params.items()})

    def build(module, i):
        cls = getattr(module, family)
        p = cls(**{k: pairs[f"p_{k}"][i] for k in p_params})
        q = cls(**{k: pairs[f"q_{k}"][i] for k in q_params})
        if independent:
            p, q = module.Independent(p, 1), module.Independent(q, 1)
        return p, q

    ours = ND.kl_divergence(*build(ND, 0))
    theirs = TD.kl_divergence(*build(TD, 1))
    assert tuple(ours.shape) == tuple(theirs.shape)
    finite = torch.isfinite(theirs).numpy()
    np.testing.assert_array_equal(np.isfinite(ours.detach().numpy()), finite)
    if finite.all():
        _compare(pairs, ours, theirs)


def test_kl_infinite_where_the_support_is_not_covered():
    p, q = ND.Uniform(0.0, 2.0), ND.Uniform(0.5, 3.0)
    assert ND.kl_divergence(p, q).item() == math.inf
    assert ND.kl_divergence(q, ND.Uniform(0.0, 3.0)).item() == pytest.approx(math.log(3 / 2.5))
    b = ND.kl_divergence(ND.Bernoulli(probs=nl.tensor([0.5, 0.0])),
                         ND.Bernoulli(probs=nl.tensor([0.0, 0.3])))
    assert b[0].item() == math.inf and b[1].item() == pytest.approx(-math.log(0.7), rel=1e-6)


def test_register_kl_and_missing_pair():
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p "
                                                  "type Normal and q type Laplace"):
        ND.kl_divergence(ND.Normal(0.0, 1.0), ND.Laplace(0.0, 1.0))

    class MyNormal(ND.Normal):
        pass

    # A subclass uses its parent's entry until a more specific one is registered.
    assert ND.kl_divergence(MyNormal(0.0, 1.0), ND.Normal(0.0, 1.0)).item() == 0.0

    @ND.register_kl(MyNormal, ND.Normal)
    def _special(p, q):
        return nl.tensor(42.0)

    assert ND.kl_divergence(MyNormal(0.0, 1.0), ND.Normal(0.0, 1.0)).item() == 42.0
    with pytest.raises(TypeError, match="Expected type_p to be a Distribution subclass"):
        ND.register_kl(int, ND.Normal)


def test_mvn_kl_rejects_different_event_shapes():
    p = ND.MultivariateNormal(nl.zeros(2), nl.eye(2))
    q = ND.MultivariateNormal(nl.zeros(3), nl.eye(3))
    with pytest.raises(ValueError, match="different event shapes"):
        ND.kl_divergence(p, q)


# --------------------------------------------------------------------------- sampling


def _tolerance(std, n):
    """Five standard errors of a mean of n draws."""
    return 5 * std / math.sqrt(n)


@pytest.mark.parametrize("dist, mean, var", [
    (lambda: ND.Normal(nl.tensor([1.0, -2.0]), nl.tensor([0.5, 2.0])), [1.0, -2.0], [0.25, 4.0]),
    (lambda: ND.Uniform(nl.tensor([0.0, -1.0]), nl.tensor([1.0, 3.0])), [0.5, 1.0],
     [1 / 12, 16 / 12]),
    (lambda: ND.Exponential(nl.tensor([0.5, 4.0])), [2.0, 0.25], [4.0, 1 / 16]),
    (lambda: ND.Laplace(nl.tensor([0.0, 3.0]), nl.tensor([1.0, 0.5])), [0.0, 3.0], [2.0, 0.5]),
    (lambda: ND.Gamma(nl.tensor([0.5, 3.0]), nl.tensor([1.0, 2.0])), [0.5, 1.5], [0.5, 0.75]),
    (lambda: ND.Beta(nl.tensor([0.5, 2.0]), nl.tensor([0.5, 5.0])), [0.5, 2 / 7],
     [0.125, 10 / (49 * 8)]),
    (lambda: ND.Bernoulli(probs=nl.tensor([0.1, 0.7])), [0.1, 0.7], [0.09, 0.21]),
])
def test_draws_have_the_distributions_moments(dist, mean, var):
    n = 20000
    d = dist()
    x = d.sample((n,)).numpy().astype(np.float64)
    assert x.shape == (n, 2)
    assert np.all(d.support.check(_t(x)).numpy())
    std = np.sqrt(var)
    np.testing.assert_allclose(x.mean(0), mean, atol=_tolerance(std, n).max())
    # the variance of the sample variance is about (m4 − σ⁴)/n ≤ 9σ⁴/n for these families
    np.testing.assert_allclose(x.var(0), var, atol=5 * 3 * np.max(var) / math.sqrt(n))


def test_categorical_frequencies():
    n = 20000
    probs = np.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]])
    for d in (ND.Categorical(probs=_t(probs)),
              ND.Categorical(logits=_t(np.log(probs + 1e-300)))):
        x = d.sample((n,)).numpy()
        assert x.shape == (n, 2) and x.dtype == np.int64
        for row in range(2):
            freq = np.bincount(x[:, row], minlength=3) / n
            np.testing.assert_allclose(freq, probs[row], atol=5 * 0.5 / math.sqrt(n))
        assert (x[:, 1] != 2).all()
    onehot = ND.OneHotCategorical(probs=_t(probs)).sample((n,)).numpy()
    assert onehot.shape == (n, 2, 3) and (onehot.sum(-1) == 1).all()
    np.testing.assert_allclose(onehot.mean(0), probs, atol=5 * 0.5 / math.sqrt(n))


def test_mvn_draws_have_the_covariance():
    n = 20000
    cov = COV[0]
    d = ND.MultivariateNormal(_t(LOC3[0]), covariance_matrix=_t(cov))
    x = d.sample((n,)).numpy()
    np.testing.assert_allclose(x.mean(0), LOC3[0], atol=_tolerance(np.sqrt(cov.diagonal()).max(),
                                                                    n))
    np.testing.assert_allclose(np.cov(x.T), cov, atol=5 * 2 * cov.max() / math.sqrt(n))


@pytest.mark.parametrize("name", sorted(FAMILIES))
@pytest.mark.parametrize("sample_shape", [(), (5,), (4, 1)])
def test_sample_shapes_and_seeding(name, sample_shape):
    _, d_nl, d_torch, _ = _build(name)
    nl.manual_seed(3)
    x = d_nl.sample(sample_shape)
    assert tuple(x.shape) == tuple(d_torch.sample(sample_shape).shape)
    assert not x.requires_grad
    nl.manual_seed(3)
    np.testing.assert_array_equal(d_nl.sample(sample_shape).numpy(), x.numpy())
    assert tuple(d_nl.batch_shape) == tuple(d_torch.batch_shape)
    assert tuple(d_nl.event_shape) == tuple(d_torch.event_shape)
    assert d_nl.has_rsample == (d_torch.has_rsample and name not in ("gamma", "beta"))


@pytest.mark.parametrize("make, grads", [
    (lambda p: ND.Normal(p[0], p[1]), lambda x, p: (1.0, x.mean())),
    (lambda p: ND.Laplace(p[0], p[1]), lambda x, p: (1.0, None)),
    (lambda p: ND.Uniform(p[0], p[0] + p[1]), lambda x, p: (1.0, 0.5)),
])
def test_rsample_gradients(make, grads):
    n = 20000
    p = [nl.tensor(0.7, dtype=nl.float64, requires_grad=True),
         nl.tensor(1.5, dtype=nl.float64, requires_grad=True)]
    x = make(p).rsample((n,))
    x.mean().backward()
    expected_loc, expected_scale = grads(x, p)
    assert p[0].grad.item() == pytest.approx(expected_loc, abs=1e-12)
    if expected_scale is not None:
        # d mean(loc + scale ε)/d scale = mean(ε); for Uniform (ε ~ U[0,1)) about ½
        tol = 5 / math.sqrt(12 * n) if expected_scale == 0.5 else 1e-12
        expected = ((x.detach() - p[0].detach()).mean() / p[1].detach()).item() \
            if not isinstance(expected_scale, float) else expected_scale
        assert p[1].grad.item() == pytest.approx(expected, abs=tol)


def test_rsample_exponential_and_mvn_gradients():
    rate = nl.tensor(2.0, dtype=nl.float64, requires_grad=True)
    x = ND.Exponential(rate).rsample((1000,))
    x.sum().backward()  # x = ε/λ: dx/dλ = −x/λ
    assert rate.grad.item() == pytest.approx(-(x.detach().sum() / 2.0).item(), rel=1e-12)
    loc = nl.tensor([1.0, 2.0], dtype=nl.float64, requires_grad=True)
    tril = nl.tensor([[1.0, 0.0], [0.5, 2.0]], dtype=nl.float64, requires_grad=True)
    y = ND.MultivariateNormal(loc, scale_tril=tril).rsample((7,))
    y.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [7.0, 7.0])
    eps = np.linalg.solve(tril.detach().numpy(), (y.detach().numpy() - [1.0, 2.0]).T)
    # d Σ(L ε)/dL_ij = Σ_s ε_sj for every entry (upper ones too, as in PyTorch: L is a leaf)
    np.testing.assert_allclose(tril.grad.numpy(), np.outer([1, 1], eps.sum(1)), atol=1e-10)


def test_gamma_and_beta_have_no_rsample():
    for d in (ND.Gamma(2.0, 1.0), ND.Beta(2.0, 1.0)):
        with pytest.raises(NotImplementedError, match="does not implement rsample"):
            d.rsample()


def test_enumerate_support_matches_pytorch():
    for name in ("bernoulli_probs", "categorical_logits", "onehot_logits"):
        _, d_nl, d_torch, _ = _build(name)
        for expand in (True, False):
            np.testing.assert_array_equal(d_nl.enumerate_support(expand).numpy(),
                                          d_torch.enumerate_support(expand).numpy())


def test_expand_matches_pytorch():
    for name in sorted(FAMILIES):
        _, d_nl, d_torch, value = _build(name)
        batch = (5,) + tuple(d_torch.batch_shape)
        e_nl, e_torch = d_nl.expand(batch), d_torch.expand(torch.Size(batch))
        assert tuple(e_nl.batch_shape) == tuple(e_torch.batch_shape)
        assert tuple(e_nl.event_shape) == tuple(e_torch.event_shape)
        value = e_torch.sample().numpy()
        np.testing.assert_allclose(e_nl.log_prob(_t(value)).detach().numpy(),
                                   e_torch.log_prob(torch.tensor(value)).detach().numpy(),
                                   rtol=1e-9)
        assert tuple(e_nl.sample((2,)).shape) == tuple(e_torch.sample((2,)).shape)


def test_independent_shapes_and_log_prob():
    loc, scale = _pair(REAL), _pair(POS)
    ours = ND.Independent(ND.Normal(loc[0], scale[0]), 1)
    theirs = TD.Independent(TD.Normal(loc[1], scale[1]), 1)
    assert tuple(ours.batch_shape) == (2,) and tuple(ours.event_shape) == (3,)
    assert repr(ours).startswith("Independent(Normal(loc: ")
    _compare({"loc": loc, "scale": scale}, ours.log_prob(_t(REAL)),
             theirs.log_prob(torch.tensor(REAL)))
    assert ours.has_rsample and tuple(ours.rsample((3,)).shape) == (3, 2, 3)
    with pytest.raises(ValueError, match=r"Expected reinterpreted_batch_ndims <= "
                                         r"len\(base_distribution.batch_shape\), actual 3 vs 2"):
        ND.Independent(ND.Normal(loc[0], scale[0]), 3)
    with pytest.raises(NotImplementedError, match="cartesian product"):
        ND.Independent(ND.Bernoulli(probs=_t(UNIT)), 1).enumerate_support()


def test_mvn_parameterisations_agree():
    L = np.linalg.cholesky(COV)  # noqa: N806
    loc = _t(LOC3)
    dists = [ND.MultivariateNormal(loc, covariance_matrix=_t(COV)),
             ND.MultivariateNormal(loc, precision_matrix=_t(np.linalg.inv(COV))),
             ND.MultivariateNormal(loc, scale_tril=_t(L))]
    for d in dists:
        np.testing.assert_allclose(d.covariance_matrix.numpy(), COV, rtol=1e-10)
        np.testing.assert_allclose(d.precision_matrix.numpy(), np.linalg.inv(COV), rtol=1e-9)
        np.testing.assert_allclose(d.scale_tril.numpy(), L, rtol=1e-10)
    # one matrix broadcast against a batch of means
    d = ND.MultivariateNormal(nl.zeros(4, 3, dtype=nl.float64), _t(COV[0]))
    assert tuple(d.batch_shape) == (4,) and tuple(d.log_prob(nl.zeros(5, 1, 3)).shape) == (5, 4)


# --------------------------------------------------------------------------- validation


def _torch_message(make, *args):
    with pytest.raises(ValueError) as info:
        make(*args)
    return str(info.value)


def _first_line(message):
    """PyTorch's message up to the printed values (its tensors print as torch.Size/tensor)."""
    return message.split("\n")[0].replace("torch.", "neuralab.")


@pytest.mark.parametrize("family, kwargs", [
    ("Normal", {"loc": [0.0, 1.0], "scale": [1.0, -1.0]}),
    ("Exponential", {"rate": [0.0]}),
    ("Bernoulli", {"probs": [0.5, 1.5]}),
    ("Categorical", {"probs": [[0.5, -0.1]]}),
    ("Gamma", {"concentration": [1.0], "rate": [-2.0]}),
    ("Laplace", {"loc": [float("nan")], "scale": [1.0]}),
])
def test_invalid_parameters_raise_pytorchs_message(family, kwargs):
    ours = _torch_message(lambda: getattr(ND, family)(
        **{k: nl.tensor(v, dtype=nl.float64) for k, v in kwargs.items()}))
    theirs = _torch_message(lambda: getattr(TD, family)(
        **{k: torch.tensor(v, dtype=torch.float64) for k, v in kwargs.items()}))
    assert _first_line(ours) == _first_line(theirs)
    assert "but found invalid values:" in ours


def test_invalid_beta_names_the_concentration():
    # PyTorch reports its internal Dirichlet here; neuralab names the argument that was wrong.
    with pytest.raises(ValueError, match=r"Expected parameter concentration1 \(Tensor of shape "
                                         r"\(1,\)\) of distribution Beta\(\) to satisfy the "
                                         r"constraint GreaterThan\(lower_bound=0.0\)"):
        ND.Beta(nl.tensor([0.0]), nl.tensor([1.0]))


def test_invalid_samples_and_shapes_raise_pytorchs_message():
    cases = [
        ("Normal", {"loc": [0.0, 1.0], "scale": [1.0, 2.0]}, [[0.0, 1.0, 2.0]]),
        ("Exponential", {"rate": [1.0, 2.0]}, [1.0, -1.0]),
        ("Bernoulli", {"probs": [0.2, 0.3]}, [0.0, 0.5]),
        ("Categorical", {"probs": [0.2, 0.8]}, [2.0]),
        ("Beta", {"concentration1": [1.0], "concentration0": [1.0]}, [1.5]),
        ("MultivariateNormal", {"loc": [0.0, 0.0], "scale_tril": [[1.0, 0.0], [0.0, 1.0]]},
         [1.0, 2.0, 3.0]),
    ]
    for family, kwargs, value in cases:
        d_nl = getattr(ND, family)(**{k: nl.tensor(v, dtype=nl.float64)
                                      for k, v in kwargs.items()})
        d_torch = getattr(TD, family)(**{k: torch.tensor(v, dtype=torch.float64)
                                         for k, v in kwargs.items()})
        ours = _torch_message(d_nl.log_prob, nl.tensor(value, dtype=nl.float64))
        theirs = _torch_message(d_torch.log_prob, torch.tensor(value, dtype=torch.float64))
        assert _first_line(ours) == _first_line(theirs), family
    with pytest.raises(ValueError, match="The value argument to log_prob must be a Tensor"):
        ND.Normal(0.0, 1.0).log_prob(0.5)
    # validate_args=False skips the checks
    assert ND.Exponential(nl.tensor([1.0]), validate_args=False).log_prob(
        nl.tensor([-1.0])).item() == pytest.approx(1.0)


def test_constructor_errors():
    with pytest.raises(ValueError, match="Uniform is not defined when low>= high"):
        ND.Uniform(1.0, 1.0)
    for cls in (ND.Bernoulli, ND.Categorical, ND.OneHotCategorical):
        with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, "
                                             "but not both."):
            cls()
        with pytest.raises(ValueError, match="but not both"):
            cls(probs=nl.tensor([0.5, 0.5]), logits=nl.tensor([0.0, 0.0]))
    with pytest.raises(ValueError, match="`probs` parameter must be at least one-dimensional."):
        ND.Categorical(probs=nl.tensor(0.5))
    with pytest.raises(ValueError, match="`logits` parameter must be at least one-dimensional."):
        ND.Categorical(logits=nl.tensor(0.5))
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix or precision_matrix "
                                         "or scale_tril may be specified."):
        ND.MultivariateNormal(nl.zeros(2))
    with pytest.raises(ValueError, match="loc must be at least one-dimensional."):
        ND.MultivariateNormal(nl.tensor(0.0), nl.eye(2))
    with pytest.raises(ValueError, match="covariance_matrix must be at least two-dimensional"):
        ND.MultivariateNormal(nl.zeros(2), nl.ones(2))
    with pytest.raises(ValueError, match="scale_tril matrix must be at least two-dimensional"):
        ND.MultivariateNormal(nl.zeros(2), scale_tril=nl.ones(2))
    with pytest.raises(ValueError, match="must be 2x2 to match loc"):
        ND.MultivariateNormal(nl.zeros(2), nl.eye(3))
    not_pd = nl.tensor([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="covariance_matrix .* to satisfy the constraint "
                                         "PositiveDefinite"):
        ND.MultivariateNormal(nl.zeros(2), not_pd)
    with pytest.raises(ValueError, match="scale_tril .* LowerCholesky"):
        ND.MultivariateNormal(nl.zeros(2), scale_tril=nl.tensor([[1.0, 1.0], [0.0, 1.0]]))
    with pytest.raises(TypeError, match="sample_shape must be a tuple"):
        ND.Normal(0.0, 1.0).sample(2.5)


def test_default_validation_switch_and_constraints():
    ND.Distribution.set_default_validate_args(False)
    try:
        ND.Normal(0.0, -1.0)  # not checked
    finally:
        ND.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        ND.Normal(0.0, -1.0)
    c = ND.constraints
    for ours, theirs in [(c.real, TD.constraints.real), (c.positive, TD.constraints.positive),
                         (c.unit_interval, TD.constraints.unit_interval),
                         (c.simplex, TD.constraints.simplex),
                         (c.real_vector, TD.constraints.real_vector),
                         (c.integer_interval(0, 3), TD.constraints.integer_interval(0, 3)),
                         (c.nonnegative, TD.constraints.nonnegative)]:
        assert repr(ours) == repr(theirs)
    assert ND.Normal(0.0, 1.0).support is c.real
    assert repr(ND.Categorical(logits=nl.zeros(3)).support) == "IntegerInterval(lower_bound=0, " \
                                                               "upper_bound=2)"
    x = nl.tensor([[0.2, 0.8], [0.5, 0.6]])
    np.testing.assert_array_equal(c.simplex.check(x).numpy(), [True, False])


def test_repr_and_perplexity():
    d = ND.Normal(nl.zeros(3), nl.ones(3))
    assert repr(d) == "Normal(loc: neuralab.Size([3]), scale: neuralab.Size([3]))"
    assert repr(ND.Normal(0.0, 1.0)) == repr(TD.Normal(0.0, 1.0)) == "Normal(loc: 0.0, scale: 1.0)"
    assert repr(ND.Bernoulli(logits=0.3)) == repr(TD.Bernoulli(logits=0.3))
    np.testing.assert_allclose(d.perplexity().numpy(), np.exp(0.5 + 0.5 * np.log(2 * np.pi)),
                               rtol=1e-6)
