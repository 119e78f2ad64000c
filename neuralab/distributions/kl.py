"""KL(p ‖ q) = E_p[ln p(x) − ln q(x)] in closed form, looked up by the pair of types.

``register_kl(P, Q)`` registers a function for the pair; ``kl_divergence(p, q)`` uses the most
specific registered pair (by the classes' method resolution order), as PyTorch does. The
formulas:

* Normal:  ½ (σ_p²/σ_q² + (μ_p − μ_q)²/σ_q² − 1 − ln(σ_p²/σ_q²));
* Bernoulli:  p ln(p/q) + (1 − p) ln((1 − p)/(1 − q)), from the logits with softplus;
* Categorical:  Σ_k p_k (ln p_k − ln q_k) (+inf where q_k = 0 < p_k);
* MultivariateNormal:  Σ ln L_q,ii − Σ ln L_p,ii + ½ (‖L_q⁻¹ L_p‖²_F + ‖L_q⁻¹(μ_q − μ_p)‖² − d);
* Uniform:  ln((b_q − a_q)/(b_p − a_p)), +inf unless [a_p, b_p] ⊆ [a_q, b_q];
* Exponential:  λ_q/λ_p − 1 − ln(λ_q/λ_p);
* Laplace:  ln(b_q/b_p) + |μ_p − μ_q|/b_q + (b_p/b_q) e^(−|μ_p − μ_q|/b_p) − 1;
* Gamma:  α_q ln(β_p/β_q) + ln Γ(α_q) − ln Γ(α_p) + (α_p − α_q)ψ(α_p) + (β_q − β_p) α_p/β_p;
* Beta:  ln B(α_q, β_q) − ln B(α_p, β_p) + (α_p − α_q)ψ(α_p) + (β_p − β_q)ψ(β_p)
  + (α_q + β_q − α_p − β_p)ψ(α_p + β_p);
* Independent of those: the base KL summed over the reinterpreted dimensions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import total_ordering

from neuralab.autograd.tensor import Tensor
from neuralab.distributions.continuous import Beta, Exponential, Gamma, Laplace, Normal, Uniform
from neuralab.distributions.discrete import Bernoulli, Categorical, OneHotCategorical
from neuralab.distributions.distribution import Distribution
from neuralab.distributions.independent import Independent
from neuralab.distributions.multivariate_normal import (
    MultivariateNormal,
    batch_mahalanobis,
    half_log_det,
)
from neuralab.distributions.utils import digamma, sum_rightmost
from neuralab.linalg import solve_triangular
from neuralab.ops import exp, lgamma, log, softplus, where
from neuralab.ops.queries import broadcast_shapes

__all__ = ["kl_divergence", "register_kl"]

_KL_REGISTRY: dict[tuple[type, type], Callable] = {}
_KL_MEMOIZE: dict[tuple[type, type], Callable] = {}


def register_kl(type_p: type, type_q: type) -> Callable:
    """A decorator registering a KL function for the pair (type_p, type_q)::

        @register_kl(Normal, Normal)
        def kl_normal_normal(p, q): ...
    """
    if not isinstance(type_p, type) or not issubclass(type_p, Distribution):
        raise TypeError(f"Expected type_p to be a Distribution subclass but got {type_p}")
    if not isinstance(type_q, type) or not issubclass(type_q, Distribution):
        raise TypeError(f"Expected type_q to be a Distribution subclass but got {type_q}")

    def decorator(fun: Callable) -> Callable:
        _KL_REGISTRY[type_p, type_q] = fun
        _KL_MEMOIZE.clear()
        return fun

    return decorator


@total_ordering
class _Match:
    def __init__(self, *types: type):
        self.types = types

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Match) and self.types == other.types

    def __le__(self, other: _Match) -> bool:
        for x, y in zip(self.types, other.types):
            if not issubclass(x, y):
                return False
            if x is not y:
                break
        return True


def _dispatch_kl(type_p: type, type_q: type) -> Callable | None:
    matches = [(super_p, super_q) for super_p, super_q in _KL_REGISTRY
               if issubclass(type_p, super_p) and issubclass(type_q, super_q)]
    if not matches:
        return None
    left_p, left_q = min(_Match(*m) for m in matches).types
    right_q, right_p = min(_Match(*reversed(m)) for m in matches).types
    left_fun, right_fun = _KL_REGISTRY[left_p, left_q], _KL_REGISTRY[right_p, right_q]
    if left_fun is not right_fun:
        import warnings

        warnings.warn(f"Ambiguous kl_divergence({type_p.__name__}, {type_q.__name__}). "
                      f"Please register_kl({left_p.__name__}, {right_q.__name__})",
                      RuntimeWarning, stacklevel=3)
    return left_fun


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p ‖ q), batched over the distributions' batch_shape.

    Raises:
        NotImplementedError: no closed form is registered for the pair of types.
    """
    key = (type(p), type(q))
    if key not in _KL_MEMOIZE:
        _KL_MEMOIZE[key] = _dispatch_kl(*key)
    fun = _KL_MEMOIZE[key]
    if fun is None:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type "
                                  f"{p.__class__.__name__} and q type {q.__class__.__name__}")
    return fun(p, q)


_INF = math.inf


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Normal, q: Normal) -> Tensor:
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - log(var_ratio))


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    t1 = where(q.probs == 0, _INF, t1)
    t1 = where(p.probs == 0, 0.0, t1)
    t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    t2 = where(q.probs == 1, _INF, t2)
    t2 = where(p.probs == 1, 0.0, t2)
    return t1 + t2


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> Tensor:
    t = p.probs * (p.logits - q.logits)
    t = where((q.probs == 0).expand_as(t), _INF, t)
    t = where((p.probs == 0).expand_as(t), 0.0, t)
    return t.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p: OneHotCategorical,
                                            q: OneHotCategorical) -> Tensor:
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p: MultivariateNormal, q: MultivariateNormal) -> Tensor:
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with different event "
                         "shapes cannot be computed")
    p_l, q_l = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    half_term1 = half_log_det(q_l) - half_log_det(p_l)
    batch = broadcast_shapes(tuple(q_l.shape[:-2]), tuple(p_l.shape[:-2]))
    n = p.event_shape[0]
    solved = solve_triangular(q_l.expand(*batch, n, n), p_l.expand(*batch, n, n), upper=False)
    term2 = solved.pow(2).sum((-2, -1))
    term3 = batch_mahalanobis(q_l, q.loc - p.loc)
    return half_term1 + 0.5 * (term2 + term3 - n)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p: Uniform, q: Uniform) -> Tensor:
    result = log((q.high - q.low) / (p.high - p.low))
    return where((q.low > p.low) | (q.high < p.high), _INF, result)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p: Exponential, q: Exponential) -> Tensor:
    rate_ratio = q.rate / p.rate
    return -log(rate_ratio) + rate_ratio - 1


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p: Laplace, q: Laplace) -> Tensor:
    scale_ratio = p.scale / q.scale
    loc_abs_diff = (p.loc - q.loc).abs()
    return (-log(scale_ratio) + loc_abs_diff / q.scale
            + scale_ratio * exp(-loc_abs_diff / p.scale) - 1)


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p: Gamma, q: Gamma) -> Tensor:
    t1 = q.concentration * log(p.rate / q.rate)
    t2 = lgamma(q.concentration) - lgamma(p.concentration)
    t3 = (p.concentration - q.concentration) * digamma(p.concentration)
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Beta, Beta)
def _kl_beta_beta(p: Beta, q: Beta) -> Tensor:
    sum_p = p.concentration1 + p.concentration0
    sum_q = q.concentration1 + q.concentration0
    t1 = lgamma(q.concentration1) + lgamma(q.concentration0) + lgamma(sum_p)
    t2 = lgamma(p.concentration1) + lgamma(p.concentration0) + lgamma(sum_q)
    t3 = (p.concentration1 - q.concentration1) * digamma(p.concentration1)
    t4 = (p.concentration0 - q.concentration0) * digamma(p.concentration0)
    t5 = (sum_q - sum_p) * digamma(sum_p)
    return t1 - t2 + t3 + t4 + t5


@register_kl(Independent, Independent)
def _kl_independent_independent(p: Independent, q: Independent) -> Tensor:
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError
    result = kl_divergence(p.base_dist, q.base_dist)
    return sum_rightmost(result, p.reinterpreted_batch_ndims)

