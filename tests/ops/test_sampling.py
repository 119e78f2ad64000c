"""The random draws (ops/sampling.py) and the global generator's state.

No PyTorch twin draws the same numbers, so each draw is checked against its distribution: sample
moments within 6 standard errors (σ/√n) of the theoretical ones (a false alarm about once in
10⁹ runs, and every test is seeded anyway), frequencies of categories likewise; plus shapes,
dtypes, seeding, generators and errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import neuralab as nl

N = 200_000


def _close(sample, mean, var):
    """The sample mean within 6 standard errors of ``mean`` and the sample variance within 6 of
    ``var`` (its standard error √((μ₄ − σ⁴)/n), μ₄ the fourth central moment, from the sample)."""
    a = np.asarray(sample, dtype=np.float64)
    n = a.size
    assert abs(a.mean() - mean) <= 6 * math.sqrt(var / n), (a.mean(), mean)
    fourth = ((a - mean) ** 4).mean()
    assert abs(a.var() - var) <= 6 * math.sqrt(max(fourth - var * var, 0.0) / n) + 1e-12, (
        a.var(), var)


def test_normal_with_tensor_mean_and_std_broadcasts():
    nl.manual_seed(0)
    mean = nl.tensor([[-1.0], [2.0]], dtype=nl.float64)
    std = nl.tensor([0.5, 3.0, 0.0], dtype=nl.float64)
    out = nl.normal(mean.expand(2, 3).contiguous().unsqueeze(0).expand(N // 10, 2, 3),
                    std)
    assert out.shape == (N // 10, 2, 3) and out.dtype == nl.float64
    for i, m in enumerate((-1.0, 2.0)):
        for j, s in enumerate((0.5, 3.0)):
            _close(out[:, i, j].numpy(), m, s * s)
    assert (out[:, :, 2].numpy() == np.array([-1.0, 2.0])).all()  # std 0: the mean itself
    assert torch.normal(torch.zeros(2, 1), torch.ones(3)).shape == nl.normal(
        nl.zeros(2, 1), nl.ones(3)).shape


def test_normal_forms_and_dtypes():
    nl.manual_seed(1)
    assert nl.normal(nl.zeros(3, dtype=nl.float64)).dtype == nl.float64
    _close(nl.normal(nl.full((N,), 3.0), 2.0).numpy(), 3.0, 4.0)
    _close(nl.normal(-2.0, nl.full((N,), 0.5)).numpy(), -2.0, 0.25)
    x = nl.normal(1.0, 2.0, (N,))
    assert x.dtype == nl.float32 and x.shape == (N,)
    _close(x.numpy(), 1.0, 4.0)
    y = nl.normal(0.0, 1.0, size=(2, 3), dtype=nl.float64, requires_grad=True)
    assert y.dtype == nl.float64 and y.requires_grad and y.is_leaf
    assert nl.normal(0, 1, 4).shape == (4,)
    # the result takes mean's dtype, as PyTorch's
    assert nl.normal(nl.zeros(2), nl.ones(2, dtype=nl.float64)).dtype == nl.float32


def test_draws_have_zero_gradient_as_pytorch():
    m = nl.zeros(3, requires_grad=True)
    s = nl.ones(3, requires_grad=True)
    p = nl.full((3,), 0.5, requires_grad=True)
    r = nl.full((3,), 2.0, requires_grad=True)
    (nl.normal(m, s).sum() + nl.bernoulli(p).sum() + nl.poisson(r).sum()).backward()
    for t in (m, s, p, r):
        assert t.grad is not None and not t.grad.numpy().any()


def test_bernoulli_frequencies():
    nl.manual_seed(2)
    probs = nl.tensor([0.0, 0.2, 0.9, 1.0], dtype=nl.float64).expand(N // 4, 4).contiguous()
    out = nl.bernoulli(probs)
    assert out.dtype == nl.float64 and out.shape == probs.shape
    assert set(np.unique(out.numpy())) <= {0.0, 1.0}
    for j, p in enumerate((0.0, 0.2, 0.9, 1.0)):
        _close(out[:, j].numpy(), p, p * (1 - p))
    fixed = nl.bernoulli(nl.zeros(N, dtype=nl.int64), 0.3)
    assert fixed.dtype == nl.int64
    _close(fixed.numpy(), 0.3, 0.21)
    assert nl.ones(5).bernoulli(0.0).tolist() == [0.0] * 5
    assert nl.ones(5).bernoulli().tolist() == [1.0] * 5


def test_poisson_moments():
    nl.manual_seed(3)
    rates = nl.tensor([0.0, 0.5, 4.0, 30.0]).expand(N // 4, 4).contiguous()
    out = nl.poisson(rates)
    assert out.dtype == nl.float32 and out.shape == rates.shape
    for j, lam in enumerate((0.0, 0.5, 4.0, 30.0)):
        _close(out[:, j].numpy(), lam, lam)
    assert (out.numpy() == np.round(out.numpy())).all()


@pytest.mark.parametrize("replacement", [True, False])
def test_multinomial_first_draw_frequencies(replacement):
    nl.manual_seed(4)
    weights = np.array([0.0, 1.0, 3.0, 6.0])
    probs = nl.tensor(np.tile(weights, (N // 10, 1)))
    out = nl.multinomial(probs, 2, replacement=replacement)
    assert out.dtype == nl.int64 and out.shape == (N // 10, 2)
    first = out[:, 0].numpy()
    p = weights / weights.sum()
    for k in range(4):
        _close(first == k, p[k], p[k] * (1 - p[k]))
    if not replacement:
        assert (out[:, 0].numpy() != out[:, 1].numpy()).all()
        # the second draw, given the first was 3 (weight 6): 1 with probability 1/4
        second = out[:, 1].numpy()[first == 3]
        _close(second == 1, 0.25, 0.25 * 0.75)


def test_multinomial_without_replacement_takes_every_category_once():
    nl.manual_seed(5)
    out = nl.multinomial(nl.tensor([[1.0, 0.0, 2.0], [0.0, 0.0, 1.0]]), 3)
    for row in out.tolist():
        assert sorted(row) == [0, 1, 2]
    assert out[:, 0].tolist()[1] == 2  # the only positive weight comes first
    assert nl.multinomial(nl.tensor([0.0, 5.0]), 1).tolist() == [1]
    assert nl.multinomial(nl.ones(0, 3), 2).shape == (0, 2)
    assert nl.multinomial(nl.tensor([0.0, 1.0]), 5, True).tolist() == [1] * 5


def test_seeding_and_generators_reproduce_draws():
    draws = [
        lambda g: nl.normal(nl.zeros(5), nl.ones(5), generator=g),
        lambda g: nl.normal(0.0, 1.0, (5,), generator=g),
        lambda g: nl.bernoulli(nl.full((5,), 0.5), generator=g),
        lambda g: nl.multinomial(nl.ones(2, 6), 3, generator=g),
        lambda g: nl.multinomial(nl.ones(6), 4, True, generator=g),
        lambda g: nl.poisson(nl.full((5,), 3.0), g),
    ]
    for draw in draws:
        nl.manual_seed(7)
        a = draw(None)
        nl.manual_seed(7)
        b = draw(None)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        c = draw(nl.Generator().manual_seed(3))
        nl.manual_seed(8)  # the global generator does not disturb a generator's draws
        d = draw(nl.Generator().manual_seed(3))
        np.testing.assert_array_equal(c.numpy(), d.numpy())


def test_rng_state_roundtrip_and_seeds():
    nl.manual_seed(11)
    assert nl.initial_seed() == 11
    state = nl.get_rng_state()
    assert state.dtype == nl.uint8 and state.ndim == 1
    a = nl.rand(4)
    nl.randn(3)
    nl.set_rng_state(state)
    np.testing.assert_array_equal(nl.rand(4).numpy(), a.numpy())
    assert nl.initial_seed() == 11
    nl.randn(1)  # a half-used 32-bit word is part of the state too
    nl.normal(0.0, 1.0, (1,))
    state = nl.get_rng_state()
    b = nl.bernoulli(nl.full((8,), 0.5))
    nl.set_rng_state(state)
    np.testing.assert_array_equal(nl.bernoulli(nl.full((8,), 0.5)).numpy(), b.numpy())
    s = nl.seed()
    assert isinstance(s, int) and 0 <= s < 2**64 and nl.initial_seed() == s
    x = nl.rand(3)
    nl.manual_seed(s)
    np.testing.assert_array_equal(nl.rand(3).numpy(), x.numpy())


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: nl.normal(0.0, 1.0), TypeError, "size"),
    (lambda: nl.normal(nl.zeros(2), -1.0), ValueError, "std >= 0.0"),
    (lambda: nl.normal(0.0, nl.tensor([-1.0])), ValueError, "all elements of std"),
    (lambda: nl.normal(0.0, -1.0, (2,)), ValueError, "std >= 0.0"),
    (lambda: nl.normal(nl.zeros(2), nl.ones(3)), ValueError, "cannot be broadcast"),
    (lambda: nl.normal(nl.zeros(2, dtype=nl.int64), 1.0), TypeError, "floating-point"),
    (lambda: nl.normal(nl.zeros(2), 1.0, (2,)), TypeError, "only for the form"),
    (lambda: nl.normal(0.0, 1.0, (2,), dtype=nl.int64), TypeError, "floating-point"),
    (lambda: nl.normal(0.0, 1.0, (2,), generator=3), TypeError, "generator"),
    (lambda: nl.bernoulli(nl.tensor([0.5, 2.0])), ValueError, r"in \[0, 1\]"),
    (lambda: nl.bernoulli(nl.tensor([0.5, -1.0])), ValueError, r"in \[0, 1\]"),
    (lambda: nl.bernoulli(nl.tensor([0.5]), 1.3), ValueError, "p=1.3"),
    (lambda: nl.bernoulli(nl.tensor([1, 0])), TypeError, "floating-point"),
    (lambda: nl.bernoulli([0.5]), TypeError, "must be a Tensor"),
    (lambda: nl.multinomial(nl.tensor([0.0, 1, 1]), 4), ValueError, "without replacement"),
    (lambda: nl.multinomial(nl.tensor([0.0, -1, 1]), 1), ValueError, "element < 0"),
    (lambda: nl.multinomial(nl.tensor([0.0, float("nan")]), 1), ValueError, "nan"),
    (lambda: nl.multinomial(nl.tensor([1.0, float("inf")]), 1, True), ValueError, "inf"),
    (lambda: nl.multinomial(nl.tensor([[1.0, 1], [0, 0]]), 1), ValueError, "sum of prob"),
    (lambda: nl.multinomial(nl.tensor([1, 1]), 1), TypeError, "floating-point"),
    (lambda: nl.multinomial(nl.ones(2, 2, 2), 1), ValueError, "1 or 2 dim"),
    (lambda: nl.multinomial(nl.tensor(1.0), 1), ValueError, "1 or 2 dim"),
    (lambda: nl.multinomial(nl.ones(2), 0), ValueError, "n_sample <= 0"),
    (lambda: nl.multinomial(nl.ones(2), 1.0), TypeError, "num_samples must be an int"),
    (lambda: nl.poisson(nl.tensor([1.0, -1.0])), ValueError, "non-negative"),
    (lambda: nl.poisson(nl.tensor([1, 2])), TypeError, "floating-point"),
    (lambda: nl.set_rng_state(nl.zeros(3, dtype=nl.uint8)), ValueError, "bytes"),
    (lambda: nl.set_rng_state(nl.get_rng_state().float()), TypeError, "uint8"),
    (lambda: nl.set_rng_state(5), TypeError, "uint8"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_tensor_methods():
    nl.manual_seed(6)
    p = nl.tensor([[0.2, 0.8], [1.0, 0.0]])
    assert p.bernoulli().shape == (2, 2)
    assert p.multinomial(1).shape == (2, 1) and p.multinomial(1)[1].tolist() == [0]
