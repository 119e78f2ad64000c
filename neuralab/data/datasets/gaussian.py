"""Two Gaussian classes with a known Bayes error: a data set whose best possible error is known.

Lecture 9 separates the error no classifier can avoid (the Bayes error, set by how much the
classes overlap) from the error a model adds by underfitting or overfitting. On real data the
Bayes error is unknown; here it is a formula. Two classes with equal priors,
x | y=k ~ N(μ_k, Σ) in d dimensions with a shared covariance Σ, have a linear Bayes-optimal rule

    ŷ = 1  ⇔  wᵀx + b > 0,   w = Σ⁻¹(μ₁ − μ₀),   b = −wᵀ(μ₀ + μ₁)/2,

and its error is

    Bayes error = Φ(−Δ/2),   Δ² = (μ₁ − μ₀)ᵀ Σ⁻¹ (μ₁ − μ₀)

(Δ is the Mahalanobis distance between the means, Φ the standard normal CDF). No classifier,
however large, has an expected test error below it; a measured test error dips below only by
sampling noise, about one standard error √(p(1 − p)/n_test).
"""

from __future__ import annotations

import math
from typing import Any

from neuralab.backend import xp

__all__ = ["TwoGaussians", "normal_cdf"]


def normal_cdf(z: float) -> float:
    """Φ(z), the standard normal cumulative distribution function."""
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


class TwoGaussians:
    """Two equal-prior, equal-covariance Gaussian classes at a chosen Mahalanobis distance Δ.

    Σ = Q diag(λ) Qᵀ with a random rotation Q and eigenvalues λ spread evenly over [0.5, 2]; the
    mean difference μ₁ − μ₀ points in a random direction, scaled so that Δ comes out exactly, and
    the means sit symmetrically about the origin.

    Args:
        dim: d, the number of input features.
        delta: Δ, the Mahalanobis distance between the class means (larger: less overlap).
        seed: seeds Σ and the direction of the means.

    Attributes:
        mu: (2, d) the class means; cov: (d, d) Σ; delta: Δ as realised.
        bayes_error: Φ(−Δ/2).
        w, b: the Bayes-optimal linear rule.

    Example:
        >>> task = TwoGaussians(dim=10, delta=2.0, seed=0)
        >>> x, y = task.sample(1000, numpy.random.default_rng(0))
        >>> (task.bayes_predict(x) != y).mean()  # close to task.bayes_error = Φ(−1) ≈ 15.9%
    """

    def __init__(self, dim: int, delta: float, seed: int):
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise ValueError(f"TwoGaussians: dim must be a positive integer, got {dim!r}")
        if not delta > 0:
            raise ValueError(f"TwoGaussians: delta (the Mahalanobis distance) must be positive, "
                             f"got {delta!r}")
        g = xp.random.default_rng(seed)
        q, _ = xp.linalg.qr(g.standard_normal((dim, dim)))
        eig = xp.linspace(0.5, 2.0, dim)
        self.cov = (q * eig) @ q.T
        self.chol = xp.linalg.cholesky(self.cov)
        direction = g.standard_normal(dim)
        maha = math.sqrt(float(direction @ xp.linalg.solve(self.cov, direction)))
        diff = direction * (delta / maha)  # μ₁ − μ₀
        self.mu = xp.stack([-diff / 2, diff / 2])  # (2, d)
        self.dim = dim
        self.delta = math.sqrt(float(diff @ xp.linalg.solve(self.cov, diff)))
        self.bayes_error = normal_cdf(-self.delta / 2)
        self.w = xp.linalg.solve(self.cov, diff)
        self.b = -float(self.w @ self.mu.sum(0)) / 2

    def sample(self, n: int, generator: Any) -> tuple[Any, Any]:
        """``n`` labelled points drawn with the NumPy ``generator``: x float32 (n, d), y int64
        (n,) (each label a fair coin, then x = μ_y + L ε with Σ = L Lᵀ, ε ~ N(0, I))."""
        y = generator.integers(0, 2, n)
        x = self.mu[y] + generator.standard_normal((n, self.dim)) @ self.chol.T
        return x.astype(xp.float32), y.astype(xp.int64)

    def bayes_predict(self, x: Any) -> Any:
        """The Bayes-optimal labels of x (n, d): 1 where wᵀx + b > 0."""
        return (x @ self.w + self.b > 0).astype(xp.int64)
