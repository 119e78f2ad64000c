"""The multivariate normal N(μ, Σ), given by Σ (``covariance_matrix``), its inverse
(``precision_matrix``) or its lower Cholesky factor L (``scale_tril``, Σ = L Lᵀ).

Everything is computed from L:

* x = μ + L ε, ε ~ N(0, I) (a reparameterised draw);
* ln p(x) = −½ (d ln 2π + ‖L⁻¹(x − μ)‖²) − Σ_i ln L_ii (the Mahalanobis term by a triangular
  solve, ½ ln det Σ = Σ_i ln L_ii);
* H = ½ d (1 + ln 2π) + Σ_i ln L_ii;
* given a precision matrix P, L = chol(P⁻¹).
"""

from __future__ import annotations

import math
from typing import Any

from neuralab.autograd.tensor import Size, Tensor
from neuralab.distributions import constraints
from neuralab.distributions.distribution import EMPTY_SIZE, Distribution, as_size
from neuralab.distributions.utils import lazy_property, standard_draw
from neuralab.linalg import cholesky, inv, solve_triangular
from neuralab.ops import cholesky_inverse, log
from neuralab.ops.queries import broadcast_shapes

__all__ = ["MultivariateNormal"]


def batch_mahalanobis(L: Tensor, x: Tensor) -> Tensor:  # noqa: N803
    """‖L⁻¹ x‖² over the last dimension, L broadcast against x's batch dimensions."""
    n = x.shape[-1]
    batch = broadcast_shapes(tuple(L.shape[:-2]), tuple(x.shape[:-1]))
    L = L.expand(*batch, n, n)  # noqa: N806
    x = x.expand(*batch, n)
    return solve_triangular(L, x.unsqueeze(-1), upper=False).squeeze(-1).pow(2).sum(-1)


def half_log_det(L: Tensor) -> Tensor:  # noqa: N803
    """½ ln det(L Lᵀ) = Σ_i ln L_ii."""
    return log(L.diagonal(dim1=-2, dim2=-1)).sum(-1)


class MultivariateNormal(Distribution):
    """The multivariate normal with mean ``loc`` and exactly one of ``covariance_matrix``,
    ``precision_matrix`` or ``scale_tril``."""

    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc: Tensor, covariance_matrix: Tensor | None = None,
                 precision_matrix: Tensor | None = None, scale_tril: Tensor | None = None,
                 validate_args: bool | None = None):
        if not isinstance(loc, Tensor) or loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        if (covariance_matrix is not None) + (scale_tril is not None) + \
                (precision_matrix is not None) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        for name, matrix in (("scale_tril", scale_tril), ("covariance_matrix", covariance_matrix),
                             ("precision_matrix", precision_matrix)):
            if matrix is not None:
                if not isinstance(matrix, Tensor) or matrix.dim() < 2:
                    what = "scale_tril matrix" if name == "scale_tril" else name
                    raise ValueError(f"{what} must be at least two-dimensional, with optional "
                                     "leading batch dimensions")
                given = matrix
        n = loc.shape[-1]
        if given.shape[-2:] != (n, n):
            raise ValueError(f"MultivariateNormal: the matrix must be {n}x{n} to match loc's "
                             f"last dimension {n}, got shape {tuple(given.shape)}")
        batch_shape = Size(broadcast_shapes(tuple(given.shape[:-2]), tuple(loc.shape[:-1])))
        if scale_tril is not None:
            self.scale_tril = scale_tril.expand(*batch_shape, -1, -1)
        elif covariance_matrix is not None:
            self.covariance_matrix = covariance_matrix.expand(*batch_shape, -1, -1)
        else:
            self.precision_matrix = precision_matrix.expand(*batch_shape, -1, -1)
        self.loc = loc.expand(*batch_shape, -1)
        super().__init__(batch_shape, Size(tuple(self.loc.shape[-1:])),
                         validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = cholesky(inv(precision_matrix))

    def expand(self, batch_shape: Any, _instance: Any = None) -> MultivariateNormal:
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = as_size(batch_shape, "batch_shape")
        n = self._event_shape[0]
        new.loc = self.loc.expand(*batch_shape, n)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                new.__dict__[name] = self.__dict__[name].expand(*batch_shape, n, n)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self) -> tuple[int, ...]:
        return tuple(self._batch_shape) + tuple(self._event_shape) * 2

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(*self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril  # noqa: N806
        return (L @ L.transpose(-1, -2)).expand(*self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        return cholesky_inverse(self._unbroadcasted_scale_tril).expand(*self._matrix_shape())

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        shape = tuple(self._batch_shape) + tuple(self._event_shape)
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(*shape)

    def rsample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = standard_draw("normal", shape, self.loc.array.dtype)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        m = batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        d = self._event_shape[0]
        return -0.5 * (d * math.log(2 * math.pi) + m) - half_log_det(self._unbroadcasted_scale_tril)

    def entropy(self) -> Tensor:
        d = self._event_shape[0]
        h = 0.5 * d * (1.0 + math.log(2 * math.pi)) + half_log_det(self._unbroadcasted_scale_tril)
        return h if len(self._batch_shape) == 0 else h.expand(*self._batch_shape)
