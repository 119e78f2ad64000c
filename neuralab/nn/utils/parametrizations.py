"""``nn.utils.parametrizations``: weight norm, spectral norm and orthogonal weights, built on
``nn.utils.parametrize`` (the weight is recomputed from unconstrained tensors on each access).

* weight normalization (Salimans & Kingma, 2016): w = g · v / ‖v‖, the length g and the
  direction v learned separately, which evens out the curvature of the loss along the weight's
  scale (Lecture 8's conditioning argument);
* spectral normalization (Miyato et al., 2018): W / σ(W), σ the largest singular value, found
  by power iteration, so the layer is 1-Lipschitz;
* orthogonal weights: Q(X) orthogonal for every X (matrix exponential or Cayley transform of a
  skew-symmetric matrix, or a product of Householder reflections), so ‖Qx‖ = ‖x‖ and backprop
  through many layers neither explodes nor vanishes (Lecture 15).
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import rng, xp
from neuralab.nn.module import Module
from neuralab.nn.utils import parametrize
from neuralab.ops.decomp import matrix_exp
from neuralab.ops.linalg import matmul, mv, solve
from neuralab.ops.reduce import sum as sum_
from neuralab.ops.shape import cat, flatten, permute

__all__ = ["weight_norm", "spectral_norm", "orthogonal"]


def _const(array: Any) -> Tensor:
    """An ndarray as a Tensor outside the graph, keeping its dtype."""
    return Tensor._from_op(xp.asarray(array), None, 0)


def norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """The 2-norm of ``v`` over every dimension but ``dim``, kept as size-1 dimensions (PyTorch's
    ``norm_except_dim``); ``dim=-1`` means the norm of the whole tensor (a 0-d tensor)."""
    if dim == -1:
        return sum_(v * v).sqrt()
    dim = dim % v.ndim if v.ndim else 0
    others = tuple(d for d in range(v.ndim) if d != dim)
    return sum_(v * v, dim=others, keepdim=True).sqrt() if others else (v * v).sqrt()


def _weight_norm(v: Tensor, g: Tensor, dim: int) -> Tensor:
    """w = v · g / ‖v‖ (the norm over every dimension but ``dim``)."""
    return v * (g / norm_except_dim(v, dim))


class _WeightNorm(Module):
    def __init__(self, dim: int | None = 0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Weight normalization: ``module.<name>`` = g · v / ‖v‖.

    The magnitude g is ``parametrizations.<name>.original0`` and the direction v
    ``parametrizations.<name>.original1``, as in PyTorch.

    Args:
        module: the module.
        name: the weight's name.
        dim: the dimension kept by the norm (0: one norm per output unit); None for the norm
            of the whole tensor.
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


def _normalize(x: Any, eps: float) -> Any:
    return x / max(float(xp.linalg.norm(x)), eps)


class _SpectralNorm(Module):
    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, "
                             f"{ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight.detach())
            h, w = weight_mat.shape
            dtype = weight.array.dtype
            u = rng().normal(0.0, 1.0, size=h).astype(dtype)
            v = rng().normal(0.0, 1.0, size=w).astype(dtype)
            self.register_buffer("_u", _const(_normalize(u, eps)))
            self.register_buffer("_v", _const(_normalize(v, eps)))
            # Start from reasonable u, v: 15 power iterations.
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = permute(weight, self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return flatten(weight, 1)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        """u ← W v / ‖W v‖, v ← Wᵀ u / ‖Wᵀ u‖, in place in the buffers: u and v approach the
        first left and right singular vectors, and uᵀ W v the largest singular value σ."""
        w = weight_mat.array
        u, v = self._u.array, self._v.array
        for _ in range(n_power_iterations):
            u[...] = _normalize(w @ v, self.eps)
            v[...] = _normalize(w.conj().T @ u, self.eps)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:  # exact: the spectral norm of a vector is its 2-norm
            return weight / _max_eps(sum_(weight * weight).sqrt(), self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u = _const(self._u.array.copy())
        v = _const(self._v.array.copy())
        sigma = sum_(u * mv(weight_mat, v))  # σ = uᵀ W v
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def _max_eps(norm: Tensor, eps: float) -> Tensor:
    """max(norm, eps), differentiable in ``norm`` (F.normalize's denominator)."""
    return norm.clamp(min=eps)


def _is_conv_transpose(module: Module) -> bool:
    return any(c.__name__.startswith("ConvTranspose") for c in type(module).__mro__)


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Spectral normalization: ``module.<name>`` = W / σ(W), σ estimated by power iteration.

    In training mode each access runs ``n_power_iterations`` steps of power iteration, updating
    the buffers ``_u`` and ``_v``; in evaluation mode the stored u, v are used as they are. The
    weight is viewed as a matrix with ``dim`` first and the other dimensions flattened.

    Args:
        module: the module.
        name: the weight's name.
        n_power_iterations: power-iteration steps per access in training.
        eps: the floor of the norms in the normalizations.
        dim: the output dimension (default 0, 1 for ConvTranspose).
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module._get_name()}' has no parameter or buffer with name "
                         f"'{name}'")
    if dim is None:
        dim = 1 if _is_conv_transpose(module) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


# --------------------------------------------------------------------------- orthogonal
_ORTH_MAPS = ("matrix_exp", "cayley", "householder")


def _householder_product(a: Tensor, tau: Tensor) -> Tensor:
    """The first k columns of H₁ H₂ ⋯ H_k, H_i = I − τ_i v_i v_iᵀ with v_i = e_i + the part of
    column i of ``a`` below the diagonal (LAPACK's representation; ``a`` is n × k, n ≥ k)."""
    n, k = a.shape[-2], a.shape[-1]
    dtype = a.array.dtype
    eye = xp.eye(n, k, dtype=dtype)
    q = _const(xp.broadcast_to(eye, a.shape[:-2] + (n, k)).copy())
    rows = xp.arange(n)
    for i in range(k - 1, -1, -1):
        below = _const((rows > i).astype(dtype))
        v = a[..., :, i] * below + _const((rows == i).astype(dtype))  # (..., n)
        vq = matmul(v.unsqueeze(-2), q)  # (..., 1, k)
        q = q - tau[..., i].unsqueeze(-1).unsqueeze(-1) * (v.unsqueeze(-1) * vq)
    return q


def _geqrf(a: Any) -> tuple[Any, Any]:
    """LAPACK's geqrf of a tall (..., n, k) array: R on and above the diagonal, the Householder
    vectors below, and their τ."""
    batch = a.shape[:-2]
    flat = a.reshape((-1,) + a.shape[-2:])
    hs, taus = [], []
    for m in flat:
        h, tau = xp.linalg.qr(m, mode="raw")
        hs.append(h.T)
        taus.append(tau)
    return (xp.stack(hs).reshape(a.shape), xp.stack(taus).reshape(batch + (a.shape[-1],)))


def _make_orthogonal(a: Any) -> Any:
    """The Q of A = QR with diag(R) ≥ 0 (unique), for a tall (..., n, k) array."""
    q, r = xp.linalg.qr(a)
    return q * xp.sign(xp.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def _is_orthogonal(q: Any) -> bool:
    n, k = q.shape[-2], q.shape[-1]
    eps = 10.0 * n * xp.finfo(q.dtype).eps
    return bool(xp.allclose(xp.swapaxes(q, -1, -2).conj() @ q, xp.eye(k), atol=eps))


class _Orthogonal(Module):
    def __init__(self, weight: Tensor, orthogonal_map: str, *, use_trivialization: bool = True):
        super().__init__()
        if weight.is_complex() and orthogonal_map == "householder":
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, x: Tensor) -> Tensor:
        n, k = x.shape[-2], x.shape[-1]
        transposed = n < k
        if transposed:
            x = x.mT
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            x = x.tril()
            if n != k:  # embed in a square matrix
                x = cat([x, _const(xp.zeros(x.shape[:-2] + (n, n - k), dtype=x.array.dtype))],
                        dim=-1)
            a = x - x.mH  # skew-symmetric
            if self.orthogonal_map == "matrix_exp":
                q = matrix_exp(a)
            else:  # the Cayley transform (I − A/2)⁻¹ (I + A/2)
                eye = _const(xp.eye(n, dtype=a.array.dtype))
                q = solve(eye - a * 0.5, eye + a * 0.5)
            if n != k:
                q = q[..., :k]
        else:
            a = x.tril(-1)
            tau = 2.0 / (1.0 + sum_(a * a, dim=-2))
            q = _householder_product(a, tau)
            # The diagonal of X (±1) sets the signs of the columns; not differentiated.
            signs = xp.trunc(xp.diagonal(x.array, axis1=-2, axis2=-1))
            q = q * _const(signs[..., None, :].astype(q.array.dtype))
        if self.__dict__.get("base") is not None:
            q = matmul(self.base, q)
        if transposed:
            q = q.mT
        return q

    def right_inverse(self, q: Tensor) -> Tensor:
        if tuple(q.shape) != tuple(self.shape):
            raise ValueError(f"Expected a matrix or batch of matrices of shape "
                             f"{tuple(self.shape)}. Got a tensor of shape {tuple(q.shape)}.")
        q_init = q
        arr = q.array
        n, k = arr.shape[-2], arr.shape[-1]
        transpose = n < k
        if transpose:
            arr = xp.swapaxes(arr, -1, -2)
            n, k = k, n
        if "base" not in self.__dict__:
            if self.orthogonal_map in ("matrix_exp", "cayley"):
                raise NotImplementedError("It is not possible to assign to the matrix exponential "
                                          "or the Cayley parametrizations when "
                                          "use_trivialization=False.")
            a, tau = _geqrf(arr)
            diag = xp.diagonal(a, axis1=-2, axis2=-1)
            signs = xp.sign(diag) * xp.where(tau == 0.0, -1.0, 1.0)
            idx = xp.arange(k)
            a[..., idx, idx] = signs
            return _const(xp.swapaxes(a, -1, -2).copy() if transpose else a)
        if n == k:
            base = arr.copy() if _is_orthogonal(arr) else _make_orthogonal(arr)
        else:  # complete Q to an n × n orthogonal matrix
            extra = rng().standard_normal(arr.shape[:-2] + (n, n - k)).astype(arr.dtype)
            base = _make_orthogonal(xp.concatenate([arr, extra], axis=-1))
        self.base = _const(base)
        # −I: householder(0) = I, and −I is what every map sends to the identity here.
        neg_id = xp.zeros(q_init.shape, dtype=q_init.array.dtype)
        idx = xp.arange(min(q_init.shape[-2:]))
        neg_id[..., idx, idx] = -1.0
        return _const(neg_id)


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Make ``module.<name>`` an orthogonal matrix (or batch of matrices); a non-square
    (n, k) weight has orthonormal columns (n > k) or rows (n < k).

    Args:
        module: the module.
        name: the weight's name.
        orthogonal_map: 'matrix_exp' (exp of a skew-symmetric matrix; default for square
            weights), 'cayley' ((I − A/2)⁻¹(I + A/2)) or 'householder' (a product of
            reflections; default for non-square weights).
        use_trivialization: keep a fixed orthogonal ``base`` (buffer) and parametrize
            base · Q(X) (dynamic trivialization), so assigning any orthogonal matrix is exact.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module._get_name()}' has no parameter or buffer with name "
                         f"'{name}'")
    if weight.ndim < 2:
        raise ValueError("Expected a matrix or batch of matrices. "
                         f"Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square or weight.is_complex() else "householder"
    if orthogonal_map not in _ORTH_MAPS:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module

