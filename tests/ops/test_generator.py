"""``generator=`` on every random draw: factories, in-place fills, sampling ops, ``nn.init`` and
the data utilities (samplers, ``random_split``, ``DataLoader``).

PyTorch's semantics, checked for each: the same generator seeded the same way gives the same
draws, different seeds give different ones, the global generator (``manual_seed``) is left as
it was when a generator is passed, a generator seeded with s draws what the global one seeded
with s draws, and anything that is not a generator is a TypeError naming ``generator``.
"""

from __future__ import annotations

import numpy as np
import pytest

import neuralab as nl
from neuralab.data import (
    DataLoader,
    RandomSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
    random_split,
)
from neuralab.nn import init


def _fill(method, *args):
    return lambda g: getattr(nl.zeros(4, 3, dtype=nl.float64), method)(*args, generator=g)


def _init(fn, *args, shape=(5, 4)):
    return lambda g: fn(nl.zeros(*shape, dtype=nl.float64), *args, generator=g)


_P = nl.tensor([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]], dtype=nl.float64)
_X = nl.zeros(3, 4, dtype=nl.float64)
_DATA = list(range(12))

# name -> draw(generator): the draw's values as an array (generator=None: the global generator)
DRAWS = {
    "rand": lambda g: nl.rand(3, 4, generator=g),
    "randn": lambda g: nl.randn(3, 4, dtype=nl.float64, generator=g),
    "randint": lambda g: nl.randint(0, 1000, (3, 4), generator=g),
    "randperm": lambda g: nl.randperm(20, generator=g),
    "rand_like": lambda g: nl.rand_like(_X, generator=g),
    "randn_like": lambda g: nl.randn_like(_X, generator=g),
    "randint_like": lambda g: nl.randint_like(_X, 0, 1000, generator=g),
    "normal_numbers": lambda g: nl.normal(1.0, 2.0, (3, 4), generator=g),
    "normal_tensors": lambda g: nl.normal(_X, nl.ones(3, 4, dtype=nl.float64), generator=g),
    "bernoulli": lambda g: nl.bernoulli(nl.full((3, 4), 0.5, dtype=nl.float64), generator=g),
    "bernoulli_method": lambda g: nl.full((3, 4), 0.5, dtype=nl.float64).bernoulli(generator=g),
    "multinomial": lambda g: nl.multinomial(_P, 3, generator=g),
    "multinomial_replacement": lambda g: nl.multinomial(_P, 6, True, generator=g),
    "poisson": lambda g: nl.poisson(nl.full((3, 4), 4.0, dtype=nl.float64), generator=g),
    "binomial": lambda g: nl.binomial(nl.full((3, 4), 10.0, dtype=nl.float64),
                                      nl.full((3, 4), 0.5, dtype=nl.float64), generator=g),
    "uniform_": _fill("uniform_", -1.0, 2.0),
    "normal_": _fill("normal_", 1.0, 3.0),
    "random_": _fill("random_", 0, 1000),
    "bernoulli_": _fill("bernoulli_", 0.5),
    "exponential_": _fill("exponential_", 2.0),
    "geometric_": _fill("geometric_", 0.3),
    "cauchy_": _fill("cauchy_"),
    "log_normal_": _fill("log_normal_"),
    "init.uniform_": _init(init.uniform_, -1.0, 1.0),
    "init.normal_": _init(init.normal_, 0.0, 2.0),
    "init.trunc_normal_": _init(init.trunc_normal_, 0.0, 1.0, -0.5, 0.5),
    "init.xavier_uniform_": _init(init.xavier_uniform_),
    "init.xavier_normal_": _init(init.xavier_normal_),
    "init.kaiming_uniform_": _init(init.kaiming_uniform_),
    "init.kaiming_normal_": _init(init.kaiming_normal_, 0.0, "fan_out", "relu"),
    "init.orthogonal_": _init(init.orthogonal_),
    "init.spectral_normal_": _init(init.spectral_normal_, shape=(4, 4)),
    "init.sparse_": _init(init.sparse_, 0.5),
    "RandomSampler": lambda g: list(RandomSampler(_DATA, generator=g)),
    "RandomSampler_replacement": lambda g: list(RandomSampler(_DATA, True, 20, generator=g)),
    "SubsetRandomSampler": lambda g: list(SubsetRandomSampler(_DATA, generator=g)),
    "WeightedRandomSampler": lambda g: list(WeightedRandomSampler([1.0] * 12, 8, generator=g)),
    "random_split": lambda g: [list(s.indices) for s in random_split(_DATA, [5, 7],
                                                                     generator=g)],
    "DataLoader": lambda g: [b for epoch in range(2) for b in DataLoader(
        nl.arange(12), batch_size=5, shuffle=True, generator=g)],
}


def _values(out) -> np.ndarray:
    if isinstance(out, nl.Tensor):
        return out.array.copy()
    return np.concatenate([np.asarray(_values(v)).reshape(-1) for v in out]) \
        if isinstance(out, list) and out and isinstance(out[0], (nl.Tensor, list)) \
        else np.asarray(out)


def _draw(name, generator):
    return _values(DRAWS[name](generator))


def _next_global() -> np.ndarray:
    return nl.rand(8, dtype=nl.float64).array


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_same_seed_same_draws_and_different_seeds_differ(name):
    g = nl.Generator().manual_seed(123)
    first, second = _draw(name, g), _draw(name, g)  # the generator moves on between draws
    again = nl.Generator().manual_seed(123)
    np.testing.assert_array_equal(_draw(name, again), first)
    np.testing.assert_array_equal(_draw(name, again), second)
    other = _draw(name, nl.Generator().manual_seed(124))
    assert not np.array_equal(other, first)


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_generator_leaves_the_global_stream_alone(name):
    g = nl.Generator().manual_seed(5)  # made before seeding: Generator() itself draws a seed
    nl.manual_seed(0)
    reference = _next_global()
    nl.manual_seed(0)
    _draw(name, g)
    np.testing.assert_array_equal(_next_global(), reference)
    nl.manual_seed(0)
    _draw(name, None)  # without a generator the draw does consume the global stream
    assert not np.array_equal(_next_global(), reference)


@pytest.mark.parametrize("name", sorted(n for n in DRAWS if n != "DataLoader"))
def test_generator_seeded_like_the_global_draws_the_same(name):
    # As torch: manual_seed(s); f() equals f(generator=Generator().manual_seed(s)). (The
    # DataLoader without a generator shuffles with its own seed, so it has no such twin.)
    g = nl.Generator().manual_seed(42)
    nl.manual_seed(42)
    np.testing.assert_array_equal(_draw(name, g), _draw(name, None))


@pytest.mark.parametrize("name", sorted(DRAWS))
@pytest.mark.parametrize("bad", [42, "seed", np.random.RandomState(0)])
def test_not_a_generator_is_a_type_error(name, bad):
    with pytest.raises(TypeError, match="generator: expected neuralab.Generator"):
        _draw(name, bad)


def test_numpy_generator_is_accepted_like_a_neuralab_one():
    a = nl.randn(5, generator=np.random.default_rng(9)).array
    np.testing.assert_array_equal(a, nl.randn(5, generator=nl.Generator().manual_seed(9)).array)


def test_default_path_draws_are_unchanged():
    # Pinned: without generator= the draws are the global PCG64 stream of manual_seed's seed.
    nl.manual_seed(7)
    expected = np.random.default_rng(7)
    np.testing.assert_array_equal(nl.randn(3, 2).array,
                                  expected.standard_normal((3, 2)).astype(np.float32))
    t = nl.zeros(4, dtype=nl.float64).uniform_(-1.0, 1.0)
    np.testing.assert_array_equal(t.array, expected.uniform(-1.0, 1.0, 4))
    w = init.kaiming_normal_(nl.zeros(3, 2, dtype=nl.float64))
    np.testing.assert_array_equal(w.array, expected.normal(0.0, 1.0, (3, 2)))
