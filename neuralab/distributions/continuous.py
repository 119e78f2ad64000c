"""Univariate continuous families: Normal, Uniform, Exponential, Laplace, Gamma, Beta.

Densities, entropies and reparameterised draws (ε from neuralab's generator):

* Normal(μ, σ):  ln p(x) = −(x − μ)²/(2σ²) − ln σ − ½ ln 2π;  H = ½ + ½ ln 2π + ln σ;
  x = μ + σε, ε ~ N(0, 1);  F(x) = ½ (1 + erf((x − μ)/(σ√2))).
* Uniform(a, b):  ln p(x) = −ln(b − a) on [a, b);  H = ln(b − a);  x = a + (b − a)u.
* Exponential(λ):  ln p(x) = ln λ − λx;  H = 1 − ln λ;  x = ε/λ, ε ~ Exp(1);  F = 1 − e^(−λx).
* Laplace(μ, b):  ln p(x) = −ln 2b − |x − μ|/b;  H = 1 + ln 2b;
  x = μ − b sign(u) ln(1 − |u|), u ~ U(−1, 1).
* Gamma(α, β):  ln p(x) = α ln β + (α − 1) ln x − βx − ln Γ(α);
  H = α − ln β + ln Γ(α) + (1 − α) ψ(α).
* Beta(α, β):  ln p(x) = (α − 1) ln x + (β − 1) ln(1 − x) + ln Γ(α + β) − ln Γ(α) − ln Γ(β);
  H = ln B(α, β) − (α − 1)ψ(α) − (β − 1)ψ(β) + (α + β − 2)ψ(α + β).

Gamma and Beta draws are not reparameterised here (``has_rsample`` is False): the exact
pathwise gradient of a Gamma draw needs ∂F/∂α of the incomplete gamma function, which neuralab
does not have; ``sample`` draws them (NumPy's Marsaglia–Tsang sampler).
"""

from __future__ import annotations

import math
from typing import Any

from neuralab import backend
from neuralab.autograd.grad_mode import no_grad
from neuralab.autograd.tensor import Size, Tensor
from neuralab.backend import xp
from neuralab.distributions import constraints
from neuralab.distributions.distribution import EMPTY_SIZE, Distribution, as_size
from neuralab.distributions.utils import broadcast_all, digamma, standard_draw
from neuralab.factories import zeros_like
from neuralab.ops import (
    clamp,
    erf,
    erfinv,
    exp,
    expm1,
    lgamma,
    log,
    log1p,
    where,
    xlogy,
)

__all__ = ["Beta", "Exponential", "Gamma", "Laplace", "Normal", "Uniform"]

_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))


def _check_value(dist: Distribution, value: Any) -> None:
    if dist._validate_args:
        dist._validate_sample(value)


def _expand_params(dist: Distribution, cls: type, names: tuple[str, ...], batch_shape: Any,
                   _instance: Any) -> Any:
    new = dist._get_checked_instance(cls, _instance)
    batch_shape = as_size(batch_shape, "batch_shape")
    for name in names:
        new.__dict__[name] = getattr(dist, name).expand(*batch_shape)
    Distribution.__init__(new, batch_shape, validate_args=False)
    new._validate_args = dist._validate_args
    return new


def _batch(param: Tensor) -> Size:
    return Size(tuple(param.shape))


class Normal(Distribution):
    """The normal distribution N(loc, scale²)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(_batch(self.loc), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Normal:
        return _expand_params(self, Normal, ("loc", "scale"), batch_shape, _instance)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2)

    def rsample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return self.loc + standard_draw("normal", shape, self.loc.array.dtype) * self.scale

    def log_prob(self, value: Tensor) -> Tensor:
        _check_value(self, value)
        return -((value - self.loc) ** 2) / (2 * self.scale ** 2) - log(self.scale) - _LOG_SQRT_2PI

    def cdf(self, value: Tensor) -> Tensor:
        _check_value(self, value)
        return 0.5 * (1 + erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value: Tensor) -> Tensor:
        return self.loc + self.scale * erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self) -> Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + log(self.scale)


class Uniform(Distribution):
    """The uniform distribution on the half-open interval [low, high)."""

    arg_constraints = {"low": constraints.dependent(is_discrete=False, event_dim=0),
                       "high": constraints.dependent(is_discrete=False, event_dim=0)}
    has_rsample = True

    def __init__(self, low: Any, high: Any, validate_args: bool | None = None):
        self.low, self.high = broadcast_all(low, high)
        super().__init__(_batch(self.low), validate_args=validate_args)
        if self._validate_args and not bool((self.low < self.high).all()):
            raise ValueError("Uniform is not defined when low>= high")

    def expand(self, batch_shape: Any, _instance: Any = None) -> Uniform:
        return _expand_params(self, Uniform, ("low", "high"), batch_shape, _instance)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.interval(self.low, self.high)

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def mode(self) -> Tensor:
        return self.high * math.nan

    @property
    def stddev(self) -> Tensor:
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = standard_draw("uniform", shape, self.low.array.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value: Tensor) -> Tensor:
        _check_value(self, value)
        lb = (self.low <= value).to(self.low.dtype)
        ub = (self.high > value).to(self.low.dtype)
        with xp.errstate(divide="ignore"):
            return log(lb * ub) - log(self.high - self.low)

    def cdf(self, value: Tensor) -> Tensor:
        _check_value(self, value)
        return clamp((value - self.low) / (self.high - self.low), min=0, max=1)

    def icdf(self, value: Tensor) -> Tensor:
        return value * (self.high - self.low) + self.low

    def entropy(self) -> Tensor:
        return log(self.high - self.low)


class Exponential(Distribution):
    """The exponential distribution with density rate · exp(−rate · x) on x ≥ 0."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate: Any, validate_args: bool | None = None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(_batch(self.rate), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Exponential:
        return _expand_params(self, Exponential, ("rate",), batch_shape, _instance)

    @property
    def mean(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def mode(self) -> Tensor:
        return zeros_like(self.rate)

    @property
    def stddev(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def variance(self) -> Tensor:
        return self.rate.pow(-2)

    def rsample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return standard_draw("exponential", shape, self.rate.array.dtype) / self.rate

    def log_prob(self, value: Tensor) -> Tensor:
        _check_value(self, value)
        return log(self.rate) - self.rate * value

    def cdf(self, value: Tensor) -> Tensor:
        _check_value(self, value)
        return 1 - exp(-self.rate * value)

    def icdf(self, value: Tensor) -> Tensor:
        return -log1p(-value) / self.rate

    def entropy(self) -> Tensor:
        return 1.0 - log(self.rate)


class Laplace(Distribution):
    """The Laplace distribution with density exp(−|x − loc|/scale) / (2 scale)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(_batch(self.loc), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Laplace:
        return _expand_params(self, Laplace, ("loc", "scale"), batch_shape, _instance)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return math.sqrt(2) * self.scale

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale.pow(2)

    def rsample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        shape = self._extended_shape(sample_shape)
        dtype = self.loc.array.dtype
        eps = float(xp.finfo(dtype).eps)
        u = Tensor(backend.rng().uniform(eps - 1, 1, tuple(shape)).astype(dtype), dtype=dtype)
        return self.loc - self.scale * u.sign() * log1p(-u.abs())

    def log_prob(self, value: Tensor) -> Tensor:
        _check_value(self, value)
        return -log(2 * self.scale) - (value - self.loc).abs() / self.scale

    def cdf(self, value: Tensor) -> Tensor:
        _check_value(self, value)
        d = value - self.loc
        return 0.5 - 0.5 * d.sign() * expm1(-d.abs() / self.scale)

    def icdf(self, value: Tensor) -> Tensor:
        term = value - 0.5
        return self.loc - self.scale * term.sign() * log1p(-2 * term.abs())

    def entropy(self) -> Tensor:
        return 1 + log(2 * self.scale)


class Gamma(Distribution):
    """The gamma distribution with shape ``concentration`` α and ``rate`` β."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = False

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(_batch(self.concentration), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Gamma:
        return _expand_params(self, Gamma, ("concentration", "rate"), batch_shape, _instance)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return clamp((self.concentration - 1) / self.rate, min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate.pow(2)

    def sample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        dtype = self.rate.array.dtype
        with no_grad():
            draw = backend.rng().standard_gamma(xp.broadcast_to(self.concentration.array, shape))
            tiny = xp.finfo(dtype).tiny
            array = xp.maximum(draw / self.rate.array, tiny).astype(dtype)
        return Tensor(array, dtype=dtype)

    def log_prob(self, value: Tensor) -> Tensor:
        _check_value(self, value)
        a, b = self.concentration, self.rate
        return xlogy(a, b) + xlogy(a - 1, value) - b * value - lgamma(a)

    def entropy(self) -> Tensor:
        a = self.concentration
        return a - log(self.rate) + lgamma(a) + (1.0 - a) * digamma(a)


class Beta(Distribution):
    """The beta distribution on [0, 1] with concentrations α = concentration1 (of x) and
    β = concentration0 (of 1 − x)."""

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = False

    def __init__(self, concentration1: Any, concentration0: Any,
                 validate_args: bool | None = None):
        # Kept out of the instance's __dict__ (so out of the repr, ``Beta()``, as in PyTorch).
        self._concentrations = broadcast_all(concentration1, concentration0)
        super().__init__(_batch(self.concentration1), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Beta:
        new = self._get_checked_instance(Beta, _instance)
        batch_shape = as_size(batch_shape, "batch_shape")
        new._concentrations = tuple(c.expand(*batch_shape) for c in self._concentrations)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def concentration1(self) -> Tensor:
        """α, the concentration of x."""
        return self._concentrations[0]

    @property
    def concentration0(self) -> Tensor:
        """β, the concentration of 1 − x."""
        return self._concentrations[1]

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        # As the two-component Dirichlet: (α − 1)/(α + β − 2) with α − 1, β − 1 clamped at 0;
        # when both concentrations are below 1, the end of the larger one (x = 1 on a tie).
        a, b = self.concentration1, self.concentration0
        am1, bm1 = clamp(a - 1, min=0), clamp(b - 1, min=0)
        with xp.errstate(invalid="ignore", divide="ignore"):
            interior = am1 / (am1 + bm1)
        corner = (a >= b).to(a.dtype)
        return where((a < 1) & (b < 1), corner, interior)

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def sample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        dtype = self.concentration1.array.dtype
        rng = backend.rng()
        x = rng.standard_gamma(xp.broadcast_to(self.concentration1.array, shape))
        y = rng.standard_gamma(xp.broadcast_to(self.concentration0.array, shape))
        with xp.errstate(invalid="ignore"):
            array = xp.clip(x / (x + y), 0, 1).astype(dtype)
        return Tensor(array, dtype=dtype)

    def log_prob(self, value: Tensor) -> Tensor:
        _check_value(self, value)
        a, b = self.concentration1, self.concentration0
        return (xlogy(a - 1, value) + xlogy(b - 1, 1 - value) + lgamma(a + b) - lgamma(a)
                - lgamma(b))

    def entropy(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        total = a + b
        return (lgamma(a) + lgamma(b) - lgamma(total) - (2 - total) * digamma(total)
                - (a - 1) * digamma(a) - (b - 1) * digamma(b))

