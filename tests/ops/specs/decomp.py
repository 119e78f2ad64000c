"""Specs of the matrix decompositions and what is built on them (neuralab.ops.decomp).

Singular and eigen vectors are unique up to sign, so their specs compare sign-free functions of
them (U², Vh² elementwise) over inputs with well-separated spectra; symmetric-input ops (eigh,
cholesky) build their symmetric input inside the spec so that finite differences see the same
function as the analytic gradient. The ``linalg.*`` names are ``neuralab.linalg``'s.
"""

import numpy as np
import torch

import neuralab as nl
from tests.ops.specs import OpSpec


def _spectral(rng, shapes):
    """Matrices Q₁ diag(s) Q₂ᵀ with singular values 1, 2, 3, ... (well separated) shuffled."""
    out = []
    for shape in shapes:
        *batch, m, n = shape
        k = min(m, n)
        q1 = np.linalg.qr(rng.standard_normal((*batch, m, m)))[0]
        q2 = np.linalg.qr(rng.standard_normal((*batch, n, n)))[0]
        s = np.zeros((*batch, m, n))
        idx = np.arange(k)
        s[..., idx, idx] = 1.0 + idx
        out.append(q1 @ s @ np.swapaxes(q2, -1, -2))
    return out


def _well_conditioned(rng, shapes):
    """A first square matrix 2I + small noise, then uniform right-hand sides."""
    a = np.eye(shapes[0][-1]) * 2 + rng.uniform(-0.5, 0.5, shapes[0])
    return [a] + [rng.uniform(-2, 2, s) for s in shapes[1:]]


def _factor_last(rng, shapes):
    """Uniform right-hand sides, then a well-conditioned triangular-ish factor (positive
    diagonal) as the last input."""
    n = shapes[-1][-1]
    f = np.eye(n) * 2 + rng.uniform(-0.5, 0.5, shapes[-1])
    return [rng.uniform(-2, 2, s) for s in shapes[:-1]] + [f]


def _symmetric(rng, shapes):
    """Symmetric matrices Q diag(w) Qᵀ with eigenvalues 1, −2, 3, −4, ... (well separated)."""
    out = []
    for shape in shapes:
        q = np.linalg.qr(rng.standard_normal(shape))[0]
        idx = np.arange(shape[-1])
        w = (1.0 + idx) * (-1.0) ** idx
        out.append((q * w[..., None, :]) @ np.swapaxes(q, -1, -2))
    return out


def _sq(result):
    """(U², S, V²) or (Q-like², …): sign-free functions of the vectors."""
    u, s, v = result
    return u ** 2, s, v ** 2


def _sq_first(result, k):
    """As _sq, but only the first k columns of U and of V (the rest of a full U or V is an
    arbitrary basis of the complement) and of their transposes for Vh."""
    u, s, v = result
    return u[..., :, :k] ** 2, s, v[..., :, :k] ** 2


def _sym(a):
    return (a + a.mT) / 2


def _spd(a):
    return a @ a.mT + a.shape[-1] * (nl.eye(a.shape[-1], dtype=a.dtype) if isinstance(
        a, nl.Tensor) else torch.eye(a.shape[-1], dtype=a.dtype))


def _eigh(lib, uplo):
    def fn(a):
        w, v = lib.linalg.eigh(_sym(a), UPLO=uplo)
        return w, v ** 2
    return fn


SVD_SHAPES = [((4, 3),), ((2, 3, 5),), ((3, 3),), ((1, 1),)]

SPECS = [
    # torch.svd: (U, S, V)
    OpSpec("svd", lambda a: _sq(nl.svd(a)), lambda a: _sq(torch.svd(a)), SVD_SHAPES,
           make=_spectral),
    OpSpec("svd", lambda a: _sq_first(nl.svd(a, some=False), 3),
           lambda a: _sq_first(torch.svd(a, some=False), 3), [((4, 3),), ((2, 3, 5),)],
           make=_spectral),
    OpSpec("svd", lambda a: nl.svd(a, compute_uv=False), lambda a: torch.svd(a, compute_uv=False),
           [((4, 3),), ((2, 3, 5),)], make=_spectral),
    OpSpec("linalg.svd", lambda a: _sq(nl.linalg.svd(a, full_matrices=False)),
           lambda a: _sq(torch.linalg.svd(a, full_matrices=False)), SVD_SHAPES, make=_spectral),
    OpSpec("linalg.svd", lambda a: _sq_first((lambda u, s, vh: (u, s, vh.mT))(
        *nl.linalg.svd(a)), 3), lambda a: _sq_first((lambda u, s, vh: (u, s, vh.mT))(
            *torch.linalg.svd(a)), 3), [((4, 3),), ((2, 3, 5),)], make=_spectral),
    OpSpec("linalg.svdvals", nl.linalg.svdvals, torch.linalg.svdvals,
           [((4, 3),), ((2, 3, 5),)], make=_spectral),
    # QR
    OpSpec("qr", nl.qr, torch.qr, [((4, 3),), ((2, 3, 5),), ((3, 3),)], make=_spectral),
    OpSpec("qr", lambda a: nl.qr(a, some=False), lambda a: torch.qr(a, some=False),
           [((2, 3, 5),), ((3, 3),)], make=_spectral),
    OpSpec("linalg.qr", nl.linalg.qr, torch.linalg.qr, [((4, 3),), ((3, 4),)], make=_spectral),
    OpSpec("linalg.qr", lambda a: nl.linalg.qr(a, mode="complete"),
           lambda a: torch.linalg.qr(a, mode="complete"), [((3, 4),)], make=_spectral),
    OpSpec("linalg.qr", lambda a: nl.linalg.qr(a, mode="r"),
           lambda a: torch.linalg.qr(a, mode="r"), [((4, 3),)], make=_spectral,
           gradcheck=False, grad_inputs=()),
    # eigh
    OpSpec("linalg.eigh", _eigh(nl, "L"), _eigh(torch, "L"), [((3, 3),), ((2, 4, 4),)],
           make=_symmetric),
    OpSpec("linalg.eigh", _eigh(nl, "U"), _eigh(torch, "U"), [((3, 3),)], make=_symmetric),
    OpSpec("linalg.eigvalsh", lambda a: nl.linalg.eigvalsh(_sym(a)),
           lambda a: torch.linalg.eigvalsh(_sym(a)), [((3, 3),), ((2, 4, 4),)], make=_symmetric),
    OpSpec("linalg.eigvalsh", lambda a: nl.linalg.eigvalsh(_sym(a), "U"),
           lambda a: torch.linalg.eigvalsh(_sym(a), "U"), [((3, 3),)], make=_symmetric),
    # Cholesky
    OpSpec("cholesky", lambda a: nl.cholesky(_spd(a)), lambda a: torch.cholesky(_spd(a)),
           [((3, 3),), ((2, 4, 4),)]),
    OpSpec("cholesky", lambda a: nl.cholesky(_spd(a), True),
           lambda a: torch.cholesky(_spd(a), True), [((3, 3),)]),
    OpSpec("linalg.cholesky", lambda a: nl.linalg.cholesky(_spd(a)),
           lambda a: torch.linalg.cholesky(_spd(a)), [((3, 3),), ((2, 2, 2),)]),
    OpSpec("linalg.cholesky", lambda a: nl.linalg.cholesky(_spd(a), upper=True),
           lambda a: torch.linalg.cholesky(_spd(a), upper=True), [((2, 3, 3),)]),
    OpSpec("linalg.cholesky_ex", lambda a: nl.linalg.cholesky_ex(_spd(a)),
           lambda a: torch.linalg.cholesky_ex(_spd(a)), [((3, 3),), ((2, 2, 2),)]),
    # The factor is masked to its triangle in the spec (the op reads only that triangle);
    # tests/ops/test_decomp.py compares the dense gradient PyTorch gives with ours.
    OpSpec("cholesky_solve", lambda b, f: nl.cholesky_solve(b, f.tril()),
           lambda b, f: torch.cholesky_solve(b, f.tril()),
           [((3, 2), (3, 3)), ((2, 3, 1), (3, 3)), ((3, 2), (2, 3, 3))], make=_factor_last),
    OpSpec("cholesky_solve", lambda b, f: nl.cholesky_solve(b, f.triu(), upper=True),
           lambda b, f: torch.cholesky_solve(b, f.triu(), upper=True), [((3, 2), (3, 3))],
           make=_factor_last),
    OpSpec("cholesky_inverse", lambda f: nl.cholesky_inverse(f.tril()),
           lambda f: torch.cholesky_inverse(f.tril()), [((3, 3),), ((2, 2, 2),)],
           make=_factor_last),
    OpSpec("cholesky_inverse", lambda f: nl.cholesky_inverse(f.triu(), True),
           lambda f: torch.cholesky_inverse(f.triu(), True), [((3, 3),)], make=_factor_last),
    # determinants
    OpSpec("slogdet", nl.slogdet, torch.slogdet, [((3, 3),), ((2, 2, 2),)],
           make=_well_conditioned),
    OpSpec("slogdet", lambda a: nl.slogdet(-a), lambda a: torch.slogdet(-a), [((3, 3),)],
           make=_well_conditioned),  # a negative determinant: sign −1
    OpSpec("linalg.slogdet", nl.linalg.slogdet, torch.linalg.slogdet, [((2, 3, 3),)],
           make=_well_conditioned),
    OpSpec("logdet", nl.logdet, torch.logdet, [((3, 3),), ((2, 2, 2),)], make=_well_conditioned),
    # pseudo-inverse, least squares, rank
    OpSpec("pinverse", nl.pinverse, torch.pinverse, [((4, 3),), ((2, 3, 5),), ((3, 3),)],
           make=_spectral),
    OpSpec("linalg.pinv", nl.linalg.pinv, torch.linalg.pinv, [((4, 3),), ((2, 3, 5),)],
           make=_spectral),
    OpSpec("linalg.pinv", lambda a: nl.linalg.pinv(_sym(a), hermitian=True),
           lambda a: torch.linalg.pinv(_sym(a), hermitian=True), [((3, 3),), ((2, 4, 4),)],
           make=_symmetric),
    OpSpec("linalg.lstsq", nl.linalg.lstsq, torch.linalg.lstsq,
           [((4, 3), (4, 2)), ((2, 5, 3), (2, 5, 1)), ((4, 3), (4,)), ((3, 4), (3, 2))],
           make=lambda rng, shapes: _spectral(rng, shapes[:1])
           + [rng.uniform(-2, 2, s) for s in shapes[1:]]),
    OpSpec("linalg.matrix_rank", nl.linalg.matrix_rank, torch.linalg.matrix_rank,
           [((4, 3),), ((2, 3, 5),)], make=_spectral, gradcheck=False, grad_inputs=()),
    # triangular solve
    *[OpSpec("linalg.solve_triangular",
             lambda a, b, up=up, left=left, unit=unit: nl.linalg.solve_triangular(
                 a, b, upper=up, left=left, unitriangular=unit),
             lambda a, b, up=up, left=left, unit=unit: torch.linalg.solve_triangular(
                 a, b, upper=up, left=left, unitriangular=unit),
             [((3, 3), (3, 2) if left else (2, 3)), ((2, 3, 3), (1, 3, 2) if left else (2, 3)),
              ((3, 3), (2, 3, 3))], make=_well_conditioned)
      for up in (True, False) for left in (True, False) for unit in (False, True)],
    # matrix exponential
    OpSpec("matrix_exp", nl.matrix_exp, torch.matrix_exp, [((3, 3),), ((2, 2, 2),), ((1, 1),)]),
    OpSpec("matrix_exp", lambda a: nl.matrix_exp(a * 4), lambda a: torch.matrix_exp(a * 4),
           [((2, 4, 4),)]),  # norms past θ₁₃: scaled and squared, by a different power each
    OpSpec("linalg.matrix_exp", nl.linalg.matrix_exp, torch.linalg.matrix_exp, [((3, 3),)]),
    # composites
    OpSpec("linalg.multi_dot", lambda *ms: nl.linalg.multi_dot(ms),
           lambda *ms: torch.linalg.multi_dot(ms),
           [((2, 3), (3, 4)), ((4,), (4, 6), (6, 2), (2,)), ((5, 1), (1, 6), (6, 2), (2, 3)),
            ((3,), (3, 2)), ((2, 3), (3,))]),
    OpSpec("linalg.vecdot", nl.linalg.vecdot, torch.linalg.vecdot,
           [((3,), (3,)), ((2, 3), (3,)), ((2, 1, 3), (4, 3))]),
    OpSpec("linalg.vecdot", lambda x, y: nl.linalg.vecdot(x, y, dim=0),
           lambda x, y: torch.linalg.vecdot(x, y, dim=0), [((3, 2), (3, 1))]),
    *[OpSpec("linalg.cond", lambda a, p=p: nl.linalg.cond(a, p),
             lambda a, p=p: torch.linalg.cond(a, p), [((3, 3),), ((2, 3, 3),)],
             make=_spectral) for p in (None, 2, -2)],
    OpSpec("linalg.cond", nl.linalg.cond, torch.linalg.cond, [((4, 3),)], make=_spectral),
    # PyTorch's backward of these fails (it modifies inv_ex's output in place): values only.
    *[OpSpec("linalg.cond", lambda a, p=p: nl.linalg.cond(a, p),
             lambda a, p=p: torch.linalg.cond(a, p), [((3, 3),)], make=_spectral,
             gradcheck=False, grad_inputs=())
      for p in ("fro", "nuc", 1, -1, float("inf"), float("-inf"))],
    OpSpec("linalg.matrix_power", lambda a: nl.linalg.matrix_power(a, 3),
           lambda a: torch.linalg.matrix_power(a, 3), [((2, 3, 3),)]),
    OpSpec("linalg.diagonal", nl.linalg.diagonal, torch.linalg.diagonal,
           [((3, 4),), ((2, 3, 3),)]),
    OpSpec("linalg.diagonal", lambda a: nl.linalg.diagonal(a, offset=1, dim1=0, dim2=2),
           lambda a: torch.linalg.diagonal(a, offset=1, dim1=0, dim2=2), [((3, 2, 4),)]),
    OpSpec("linalg.inv_ex", nl.linalg.inv_ex, torch.linalg.inv_ex, [((3, 3),), ((2, 2, 2),)],
           make=_well_conditioned),
    OpSpec("linalg.solve_ex", nl.linalg.solve_ex, torch.linalg.solve_ex,
           [((3, 3), (3, 2)), ((2, 3, 3), (2, 3))], make=_well_conditioned),
]
