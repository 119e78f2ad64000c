"""Matrix decompositions and the linear algebra built on them (``torch.linalg``'s svd, qr, eigh,
cholesky, pinv, lstsq, slogdet, solve_triangular, matrix_exp, ... and their ``torch.*`` twins).

Every backward pass is the differential of the factorisation solved for the factors (real
matrices; Ω = QᵀdQ is antisymmetric for an orthogonal Q). The names in ``__all__`` are PyTorch's
top-level ones (``torch.svd``, ``torch.qr``, ...); the ``linalg_*`` functions are re-exported by
``neuralab.linalg`` under ``torch.linalg``'s names.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from neuralab.autograd import grad_mode
from neuralab.autograd.function import Function, unbroadcast
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops.linalg import MatMul, _square, _t, inverse, solve
from neuralab.ops.rearrange import diagonal as _diagonal
from neuralab.ops.reduce import matrix_norm
from neuralab.ops.reduce import sum as _sum

__all__ = [
    "svd", "qr", "pinverse", "slogdet", "logdet", "cholesky", "cholesky_solve",
    "cholesky_inverse", "matrix_exp",
]
TENSOR_METHODS = {name: name for name in __all__}
REFLECTED: dict[str, str] = {}


# --------------------------------------------------------------------------- result types
class SVDResult(NamedTuple):
    """``torch.return_types.linalg_svd``: A = U diag(S) Vh."""
    U: Tensor
    S: Tensor
    Vh: Tensor


class SVDVResult(NamedTuple):
    """``torch.return_types.svd`` (``torch.svd``): A = U diag(S) Vᵀ, V not transposed."""
    U: Tensor
    S: Tensor
    V: Tensor


class QRResult(NamedTuple):
    """``torch.return_types.linalg_qr``."""
    Q: Tensor
    R: Tensor


class EighResult(NamedTuple):
    """``torch.return_types.linalg_eigh``: ascending eigenvalues, eigenvectors as columns."""
    eigenvalues: Tensor
    eigenvectors: Tensor


class SlogdetResult(NamedTuple):
    """``torch.return_types.linalg_slogdet``: det(A) = sign · exp(logabsdet)."""
    sign: Tensor
    logabsdet: Tensor


class LstsqResult(NamedTuple):
    """``torch.return_types.linalg_lstsq`` (with the CPU default driver 'gelsy': residuals and
    singular_values are empty, rank is computed)."""
    solution: Tensor
    residuals: Tensor
    rank: Tensor
    singular_values: Tensor


class InvExResult(NamedTuple):
    """``torch.return_types.linalg_inv_ex``."""
    inverse: Tensor
    info: Tensor


class SolveExResult(NamedTuple):
    """``torch.return_types.linalg_solve_ex``."""
    result: Tensor
    info: Tensor


class CholeskyExResult(NamedTuple):
    """``torch.return_types.linalg_cholesky_ex``."""
    L: Tensor
    info: Tensor


# --------------------------------------------------------------------------- helpers
def _const(array: Any) -> Tensor:
    return Tensor._from_op(xp.asarray(array), None, 0)


def _mT(x: Any) -> Any:  # noqa: N802
    return xp.swapaxes(x, -1, -2)


def _sym(x: Any) -> Any:
    return (x + _mT(x)) / 2


def _diag_embed(v: Any) -> Any:
    return v[..., :, None] * xp.eye(v.shape[-1], dtype=v.dtype)


def _off_diagonal_inverse(d: Any) -> Any:
    """F with F_ij = 1 / d_ij off the diagonal and 0 on it (d: the spectral gaps)."""
    n = d.shape[-1]
    eye = xp.eye(n, dtype=bool)
    with xp.errstate(divide="ignore"):
        return xp.where(eye, 0, 1 / xp.where(eye, 1, d))


def _matrix(op: str, a: Tensor) -> None:
    if a.ndim < 2:
        raise RuntimeError(f"linalg.{op}: The input tensor A must have at least 2 dimensions.")
    if a.dtype.kind != "f":
        raise RuntimeError(f"linalg.{op}: Expected a floating point tensor as input. Got "
                           f"{a.dtype}")


def _default_rtol(a: Any) -> float:
    return float(xp.finfo(a.dtype).eps * max(a.shape[-2], a.shape[-1]))


def _tri_solve(t: Any, b: Any) -> Any:
    """T⁻¹ B for a (batch of) triangular T, whatever the other triangle holds (T is used as
    given: callers pass the masked matrix)."""
    return xp.linalg.solve(t, b)


def _batch_failures(fn: Any, a: Any) -> list[int]:
    """The flat batch indices where ``fn`` (a NumPy factorisation) raises LinAlgError."""
    flat = a.reshape((-1,) + a.shape[-2:])
    bad = []
    for i, m in enumerate(flat):
        try:
            fn(m)
        except xp.linalg.LinAlgError:
            bad.append(i)
    return bad


def _batch_prefix(a: Any, i: int) -> str:
    return f"(Batch element {i}): " if a.ndim > 2 else ""


# --------------------------------------------------------------------------- SVD
class SVD(Function):
    """A = U diag(S) Vᵀ (batched), k = min(m, n) singular values in descending order.

    With P̄ = the gradient in the singular bases, F_ij = 1/(s_j² − s_i²) (0 on the diagonal),
    J = F∘(UᵀŪ), K = F∘(VᵀV̄):

        Ā = U [diag(S̄) + (J + Jᵀ) S + S (K + Kᵀ)] Vᵀ
            + (I − UUᵀ) Ū S⁻¹ Vᵀ + U S⁻¹ V̄ᵀ (I − VVᵀ)

    (from dP = UᵀdA V = Ω_U S + dS − S Ω_V with Ω_U, Ω_V antisymmetric). Only the first k
    columns of U and V enter the gradient (full_matrices=True: the rest are arbitrary, as in
    PyTorch). The singular values must be distinct and nonzero for the vectors' gradient.
    """

    @staticmethod
    def check(a, full_matrices=True, compute_uv=True):
        _matrix("svd", a)

    @staticmethod
    def forward(ctx, a, full_matrices=True, compute_uv=True):
        k = min(a.shape[-2], a.shape[-1])
        if not compute_uv:
            u, s, vh = xp.linalg.svd(a, full_matrices=False)
            ctx.u, ctx.s, ctx.vh, ctx.uv = u, s, vh, False
            return s.astype(a.dtype, copy=False)
        u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
        ctx.u, ctx.s, ctx.vh, ctx.uv = u[..., :, :k], s, vh[..., :k, :], True
        return u, s, vh

    @staticmethod
    def backward(ctx, *douts):
        u, s, vh = ctx.u, ctx.s, ctx.vh
        if not ctx.uv:
            return u @ (douts[0][..., :, None] * vh)
        k = s.shape[-1]
        gu, gs, gvh = douts[0][..., :, :k], douts[1], douts[2][..., :k, :]
        v, gv = _mT(vh), _mT(gvh)
        s2 = s ** 2
        f = _off_diagonal_inverse(s2[..., None, :] - s2[..., :, None])
        utgu, vtgv = _mT(u) @ gu, _mT(v) @ gv
        j, kk = f * utgu, f * vtgv
        inner = (j + _mT(j)) * s[..., None, :] + s[..., :, None] * (kk + _mT(kk))
        inner = inner + _diag_embed(gs)
        ga = u @ inner @ vh
        m, n = u.shape[-2], vh.shape[-1]
        if m > k:
            ga = ga + ((gu - u @ utgu) / s[..., None, :]) @ vh
        if n > k:
            ga = ga + u @ _mT((gv - v @ vtgv) / s[..., None, :])
        return ga


def linalg_svd(A: Tensor, full_matrices: bool = True) -> SVDResult:  # noqa: N803
    """``torch.linalg.svd``: A = U diag(S) Vh with S descending; U (…, m, m) and Vh (…, n, n)
    when ``full_matrices`` (the default), else (…, m, k) and (…, k, n), k = min(m, n)."""
    return SVDResult(*SVD.apply(_t(A), full_matrices=bool(full_matrices)))


def svdvals(A: Tensor) -> Tensor:  # noqa: N803
    """``torch.linalg.svdvals``: the singular values, descending. Ā = U diag(S̄) Vᵀ."""
    return SVD.apply(_t(A), compute_uv=False)


def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> SVDVResult:  # noqa: A002
    """``torch.svd``: (U, S, V) with A = U diag(S) Vᵀ (V, not Vᵀ); ``some=False`` gives the full
    square U and V; ``compute_uv=False`` gives zero-filled U (m, m) and V (n, n)."""
    a = _t(input)
    if not compute_uv:
        _matrix("svd", a)
        s = svdvals(a)
        batch, (m, n) = a.shape[:-2], a.shape[-2:]
        return SVDVResult(_const(xp.zeros(batch + (m, m), a.dtype)), s,
                          _const(xp.zeros(batch + (n, n), a.dtype)))
    u, s, vh = linalg_svd(a, full_matrices=not some)
    return SVDVResult(u, s, vh.mT)


# --------------------------------------------------------------------------- QR
class QR(Function):
    """A = QR (Householder, LAPACK's signs). For m ≥ n (Q m×n, R n×n upper triangular), with
    N = QᵀQ̄ − R̄Rᵀ:

        Ā = [Q (R̄Rᵀ + tril(N − Nᵀ, −1)) + (I − QQᵀ) Q̄] R⁻ᵀ

    (from QᵀdA R⁻¹ = Ω + dR R⁻¹: its strictly lower part is Ω's). For m < n, A = [X | Y] with
    X = QR₁ square and R₂ = QᵀY: Ȳ = Q R̄₂ and X takes the square formula with Q̄ + Y R̄₂ᵀ.
    """

    @staticmethod
    def check(a, mode="reduced"):
        _matrix("qr", a)

    @staticmethod
    def forward(ctx, a, mode="reduced"):
        q, r = xp.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
        ctx.a, ctx.q, ctx.r, ctx.mode = a, q, r, mode
        if mode == "r":
            return xp.empty((0,), a.dtype), r
        return q, r

    @staticmethod
    def backward(ctx, gq, gr):
        a, q, r, mode = ctx.a, ctx.q, ctx.r, ctx.mode
        m, n = a.shape[-2:]
        if mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you "
                               "are going to differentiate through linalg.qr.")
        if mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               "and nrows > ncols.")
        if m >= n:
            return _qr_backward_square(q, r, gq, gr)
        y, gr2 = a[..., :, m:], gr[..., :, m:]
        gx = _qr_backward_square(q, r[..., :, :m], gq + y @ _mT(gr2), gr[..., :, :m])
        return xp.concatenate([gx, q @ gr2], axis=-1)


def _qr_backward_square(q: Any, r: Any, gq: Any, gr: Any) -> Any:
    qtgq = _mT(q) @ gq
    big_n = qtgq - gr @ _mT(r)
    c = gr @ _mT(r) + xp.tril(big_n - _mT(big_n), -1)
    x = q @ c + gq - q @ qtgq
    return _mT(_tri_solve(r, _mT(x)))  # X R⁻ᵀ


def linalg_qr(A: Tensor, mode: str = "reduced") -> QRResult:  # noqa: N803
    """``torch.linalg.qr``: A = QR; mode 'reduced' (Q m×k, R k×n), 'complete' (Q m×m, R m×n)
    or 'r' (an empty Q and the reduced R; not differentiable, as in PyTorch)."""
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    return QRResult(*QR.apply(_t(A), mode=mode))


def qr(input: Tensor, some: bool = True) -> QRResult:  # noqa: A002
    """``torch.qr``: ``some=True`` is mode 'reduced', ``some=False`` mode 'complete'."""
    return linalg_qr(input, mode="reduced" if some else "complete")


# --------------------------------------------------------------------------- eigh
class Eigh(Function):
    """A = V diag(w) Vᵀ for symmetric A (only the ``UPLO`` triangle is read), w ascending.

    With F_ij = 1/(w_j − w_i) off the diagonal (0 on it):
        Ā = sym(V [diag(w̄) + F∘(VᵀV̄)] Vᵀ),
    from VᵀdA V = Ω W − W Ω + dW; symmetrised as PyTorch does, since A is symmetric. The
    eigenvalues must be distinct for the vectors' gradient.
    """

    @staticmethod
    def check(a, uplo="L", vectors=True):
        _square("eigh", a)

    @staticmethod
    def forward(ctx, a, uplo="L", vectors=True):
        w, v = xp.linalg.eigh(a, UPLO=uplo)
        ctx.w, ctx.v, ctx.vectors = w, v, vectors
        return (w, v) if vectors else w

    @staticmethod
    def backward(ctx, *douts):
        w, v = ctx.w, ctx.v
        inner = _diag_embed(douts[0])
        if ctx.vectors:
            f = _off_diagonal_inverse(w[..., None, :] - w[..., :, None])
            inner = inner + f * (_mT(v) @ douts[1])
        return _sym(v @ inner @ _mT(v))


def _uplo(uplo: str) -> str:
    if not isinstance(uplo, str) or uplo.upper() not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {uplo}")
    return uplo.upper()


def eigh(A: Tensor, UPLO: str = "L") -> EighResult:  # noqa: N803
    """``torch.linalg.eigh``: eigenvalues (ascending) and orthonormal eigenvectors (columns) of
    a symmetric matrix, reading the lower (``UPLO='L'``) or upper triangle."""
    return EighResult(*Eigh.apply(_t(A), uplo=_uplo(UPLO)))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:  # noqa: N803
    """``torch.linalg.eigvalsh``: the ascending eigenvalues of a symmetric matrix.
    Ā = V diag(w̄) Vᵀ."""
    return Eigh.apply(_t(A), uplo=_uplo(UPLO), vectors=False)


# --------------------------------------------------------------------------- Cholesky
def _cholesky_info(a: Any) -> Any:
    """LAPACK potrf's info per matrix: the order of the first leading minor that is not
    positive-definite (0 when A is)."""
    flat = a.reshape((-1,) + a.shape[-2:])
    info = xp.zeros(flat.shape[0], xp.int32)
    for i in _batch_failures(xp.linalg.cholesky, flat):
        for order in range(1, flat.shape[-1] + 1):
            try:
                xp.linalg.cholesky(flat[i, :order, :order])
            except xp.linalg.LinAlgError:
                info[i] = order
                break
    return info.reshape(a.shape[:-2])


class Cholesky(Function):
    """A = L Lᵀ for symmetric positive-definite A (only the lower triangle is read).

    dL = L Φ(L⁻¹ dA L⁻ᵀ) with Φ = the lower triangle with its diagonal halved, so
        Ā = sym(L⁻ᵀ Φ(LᵀL̄) L⁻¹).
    ``upper=True`` returns U = Lᵀ (then L̄ = Ūᵀ).
    """

    @staticmethod
    def check(a, upper=False):
        _square("cholesky", a)

    @staticmethod
    def forward(ctx, a, upper=False):
        try:
            low = xp.linalg.cholesky(_mT(a) if upper else a)
        except xp.linalg.LinAlgError:
            info = _cholesky_info(_mT(a) if upper else a)
            i = int(xp.flatnonzero(info)[0])
            raise RuntimeError(
                f"linalg.cholesky: {_batch_prefix(a, i)}The factorization could not be "
                "completed because the input is not positive-definite (the leading minor of "
                f"order {int(info.reshape(-1)[i])} is not positive-definite).") from None
        ctx.low, ctx.upper = low, upper
        return _mT(low) if upper else low

    @staticmethod
    def backward(ctx, dout):
        low = ctx.low
        gl = _mT(dout) if ctx.upper else dout
        phi = xp.tril(_mT(low) @ gl)
        phi = phi - _diag_embed(xp.diagonal(phi, axis1=-2, axis2=-1)) / 2
        linv = xp.linalg.inv(low)
        return _sym(_mT(linv) @ phi @ linv)


def linalg_cholesky(A: Tensor, *, upper: bool = False) -> Tensor:  # noqa: N803
    """``torch.linalg.cholesky``: L with A = L Lᵀ (or U = Lᵀ with ``upper=True``)."""
    return Cholesky.apply(_t(A), upper=bool(upper))


def cholesky(input: Tensor, upper: bool = False) -> Tensor:  # noqa: A002
    """``torch.cholesky``: as :func:`linalg_cholesky`, ``upper`` positional."""
    return linalg_cholesky(input, upper=upper)


def cholesky_ex(A: Tensor, *, upper: bool = False,  # noqa: N803
                check_errors: bool = False) -> CholeskyExResult:
    """``torch.linalg.cholesky_ex``: (L, info) without raising; info (int32, batch shape) is the
    order of the first leading minor that is not positive-definite, 0 where A is. A failed
    matrix's L is unspecified (here: the lower triangle of its input, not a factor)."""
    a = _t(A)
    _square("cholesky", a)
    arr = _mT(a.array) if upper else a.array
    info = _cholesky_info(arr)
    if not info.any():
        return CholeskyExResult(linalg_cholesky(a, upper=upper), _const(info))
    if check_errors:
        linalg_cholesky(a, upper=upper)  # raises with the message
    flat, out = arr.reshape((-1,) + arr.shape[-2:]), xp.tril(arr).reshape((-1,) + arr.shape[-2:])
    for i, bad in enumerate(info.reshape(-1)):
        if not bad:
            out[i] = xp.linalg.cholesky(flat[i])
    out = out.reshape(arr.shape)
    return CholeskyExResult(_const(_mT(out) if upper else out), _const(info))


class CholeskySolve(Function):
    """X = (L Lᵀ)⁻¹ B from the lower factor L (or Uᵀ U from the upper one; the other triangle
    is ignored). With G = (LLᵀ)⁻¹ X̄:  B̄ = G,  L̄ = −(G Xᵀ + X Gᵀ) L (Ū = −U (G Xᵀ + X Gᵀ)),
    the gradient of L as a dense matrix, as PyTorch gives it."""

    @staticmethod
    def check(b, f, upper=False):
        _square("cholesky_solve", f)
        if b.ndim < 2 or b.shape[-2] != f.shape[-1]:
            raise RuntimeError(f"cholesky_solve: Incompatible matrix sizes for B {b.shape} and "
                               f"the factor {f.shape}")

    @staticmethod
    def forward(ctx, b, f, upper=False):
        tri = xp.triu(f) if upper else xp.tril(f)
        a = _mT(tri) @ tri if upper else tri @ _mT(tri)
        x = xp.linalg.solve(a, b)
        ctx.a, ctx.tri, ctx.x, ctx.upper, ctx.shapes = a, tri, x, upper, (b.shape, f.shape)
        return x

    @staticmethod
    def backward(ctx, dout):
        g = xp.linalg.solve(ctx.a, dout)
        common = g @ _mT(ctx.x)
        common = common + _mT(common)
        gf = -(ctx.tri @ common) if ctx.upper else -(common @ ctx.tri)
        sb, sf = ctx.shapes
        return unbroadcast(g, sb), unbroadcast(gf, sf)


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:  # noqa: N803
    """``torch.cholesky_solve``: X with A X = B, given A's Cholesky factor (lower ``L``, or the
    upper one when ``upper=True``); batch dimensions broadcast."""
    return CholeskySolve.apply(_t(B), _t(L), upper=bool(upper))


class CholeskyInverse(Function):
    """Z = (L Lᵀ)⁻¹ (or (UᵀU)⁻¹). dZ = −Z (dL Lᵀ + L dLᵀ) Z, so
    L̄ = −Z (Z̄ + Z̄ᵀ) Z L  (Ū = −U Z (Z̄ + Z̄ᵀ) Z), dense, as PyTorch gives it."""

    @staticmethod
    def check(f, upper=False):
        _square("cholesky_inverse", f)

    @staticmethod
    def forward(ctx, f, upper=False):
        tri = xp.triu(f) if upper else xp.tril(f)
        z = xp.linalg.inv(_mT(tri) @ tri if upper else tri @ _mT(tri))
        ctx.tri, ctx.z, ctx.upper = tri, z, upper
        return z

    @staticmethod
    def backward(ctx, dout):
        z = ctx.z
        common = z @ (dout + _mT(dout)) @ z
        return -(ctx.tri @ common) if ctx.upper else -(common @ ctx.tri)


def cholesky_inverse(input: Tensor, upper: bool = False) -> Tensor:  # noqa: A002
    """``torch.cholesky_inverse``: A⁻¹ from A's Cholesky factor."""
    return CholeskyInverse.apply(_t(input), upper=bool(upper))


# --------------------------------------------------------------------------- determinants
class Slogdet(Function):
    """(sign, log|det A|).  Ā = log|det|̄ · A⁻ᵀ (Jacobi's formula over det); sign is constant."""

    @staticmethod
    def check(a):
        _square("slogdet", a)

    @staticmethod
    def forward(ctx, a):
        sign, logabs = xp.linalg.slogdet(a)
        ctx.a = a
        return xp.asarray(sign, a.dtype), xp.asarray(logabs, a.dtype)

    @staticmethod
    def backward(ctx, gsign, glog):
        return glog[..., None, None] * _mT(xp.linalg.inv(ctx.a))


class Logdet(Function):
    """log det A: nan where det A < 0, −inf where it is 0.  Ā = z̄ · A⁻ᵀ."""

    @staticmethod
    def check(a):
        _square("logdet", a)

    @staticmethod
    def forward(ctx, a):
        sign, logabs = xp.linalg.slogdet(a)
        ctx.a = a
        return xp.asarray(xp.where(sign < 0, xp.nan, logabs), a.dtype)

    @staticmethod
    def backward(ctx, dout):
        return dout[..., None, None] * _mT(xp.linalg.inv(ctx.a))


def slogdet(A: Tensor) -> SlogdetResult:  # noqa: N803
    """``torch.linalg.slogdet`` / ``torch.slogdet``: (sign, log|det A|), stable where det
    over- or underflows."""
    return SlogdetResult(*Slogdet.apply(_t(A)))


def logdet(input: Tensor) -> Tensor:  # noqa: A002
    """``torch.logdet``: log det A (nan for a negative determinant)."""
    return Logdet.apply(_t(input))


# --------------------------------------------------------------------------- pseudo-inverse
def _pinv_tolerance(a: Any, atol: Any, rtol: Any) -> tuple[float, float]:
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else _default_rtol(a)
    return (0.0 if atol is None else float(atol)), float(rtol)


class PInv(Function):
    """X = A⁺ (Moore–Penrose; singular values ≤ max(atol, rtol·σ_max) count as zero).

    dX = −X dA X + X Xᵀ dAᵀ (I − AX) + (I − XA) dAᵀ Xᵀ X (Golub & Pereyra, constant rank), so
        Ā = −Xᵀ X̄ Xᵀ + (I − AX) X̄ᵀ X Xᵀ + Xᵀ X X̄ᵀ (I − XA).
    """

    @staticmethod
    def check(a, atol=0.0, rtol=0.0, hermitian=False):
        if hermitian:
            _square("pinv", a)
        else:
            _matrix("pinv", a)

    @staticmethod
    def forward(ctx, a, atol=0.0, rtol=0.0, hermitian=False):
        if hermitian:
            w, v = xp.linalg.eigh(a)
            mag = xp.abs(w)
            tol = xp.maximum(atol, rtol * mag.max(axis=-1, keepdims=True, initial=0))
            with xp.errstate(divide="ignore"):
                inv_w = xp.where(mag > tol, 1 / w, 0)
            x = (v * inv_w[..., None, :]) @ _mT(v)
        else:
            u, s, vh = xp.linalg.svd(a, full_matrices=False)
            tol = xp.maximum(atol, rtol * s.max(axis=-1, keepdims=True, initial=0))
            with xp.errstate(divide="ignore"):
                inv_s = xp.where(s > tol, 1 / s, 0)
            x = (_mT(vh) * inv_s[..., None, :]) @ _mT(u)
        x = x.astype(a.dtype, copy=False)
        ctx.a, ctx.x = a, x
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.a, ctx.x
        xt, gt = _mT(x), _mT(g)
        left = xp.eye(a.shape[-2], dtype=a.dtype) - a @ x
        right = xp.eye(a.shape[-1], dtype=a.dtype) - x @ a
        return -xt @ g @ xt + left @ gt @ x @ xt + xt @ x @ gt @ right


def pinv(A: Tensor, *, atol: float | None = None, rtol: float | None = None,  # noqa: N803
         hermitian: bool = False) -> Tensor:
    """``torch.linalg.pinv``: the pseudo-inverse; singular values (|eigenvalues| when
    ``hermitian``) ≤ max(atol, rtol·σ_max) are treated as zero. Default rtol: eps·max(m, n)
    (0 when only a positive atol is given)."""
    a = _t(A)
    if a.ndim >= 2 and a.dtype.kind == "f":
        atol, rtol = _pinv_tolerance(a.array, atol, rtol)
    return PInv.apply(a, atol=atol or 0.0, rtol=rtol or 0.0, hermitian=bool(hermitian))


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:  # noqa: A002
    """``torch.pinverse``: :func:`pinv` with ``rtol=rcond``."""
    return pinv(input, rtol=rcond)


def matrix_rank(A: Tensor, tol: float | None = None, hermitian: bool = False, *,  # noqa: N803
                atol: float | None = None, rtol: float | None = None) -> Tensor:
    """``torch.linalg.matrix_rank``: the number of singular values (|eigenvalues| when
    ``hermitian``) > max(atol, rtol·σ_max), as int64; ``tol`` is the older spelling of atol
    (with rtol = 0)."""
    a = _t(A)
    _matrix("matrix_rank", a)
    if tol is not None:
        atol, rtol = tol, 0.0
    atol, rtol = _pinv_tolerance(a.array, atol, rtol)
    arr = a.array
    if hermitian:
        s = xp.abs(xp.linalg.eigvalsh(arr))
    else:
        s = xp.linalg.svd(arr, compute_uv=False)
    tol_v = xp.maximum(atol, rtol * s.max(axis=-1, keepdims=True, initial=0))
    return _const((s > tol_v).sum(axis=-1).astype(xp.int64))


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *,  # noqa: N803
          driver: str | None = None) -> LstsqResult:
    """``torch.linalg.lstsq`` (CPU, driver 'gelsy'): the minimum-norm least-squares solution of
    A X = B, i.e. X = A⁺ B (B a matrix (…, m, k) or a vector (…, m)); singular values below
    rcond·σ_max (default eps·max(m, n)) count as zero. The gradient is the one of A⁺ B, as in
    PyTorch. residuals and singular_values are empty (gelsy computes neither); rank is
    computed."""
    a, b = _t(A), _t(B)
    _matrix("lstsq", a)
    if driver not in (None, "gelsy", "gelsd", "gelss", "gels"):
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of (gels, "
                           f"gelsy, gelsd, gelss), got {driver}")
    if driver not in (None, "gelsy"):
        raise NotImplementedError(f"lstsq: driver={driver!r} is not implemented; use the "
                                  "default (gelsy)")
    vector = b.ndim == a.ndim - 1
    if b.ndim < 1 or not (vector or b.ndim >= a.ndim) or \
            (b.shape[-1] if vector else b.shape[-2]) != a.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size("
                           f"{-1 if vector else -2}), got shapes {a.shape} and {b.shape}")
    rtol = _default_rtol(a.array) if rcond is None or rcond < 0 else float(rcond)
    x = pinv(a, rtol=rtol)
    sol = MatMul.apply(x, b[..., None])[..., 0] if vector else MatMul.apply(x, b)
    rank = matrix_rank(a, rtol=rtol, atol=0.0)
    empty = _const(xp.empty((0,), a.dtype))
    return LstsqResult(sol, empty, rank, _const(xp.empty((0,), a.dtype)))


# --------------------------------------------------------------------------- triangular solve
class SolveTriangular(Function):
    """X = T⁻¹ B (``left``) or B T⁻¹, T the upper or lower triangle of A (unit diagonal when
    ``unitriangular``). Left: B̄ = T⁻ᵀ X̄, T̄ = −B̄ Xᵀ; right: B̄ = X̄ T⁻ᵀ, T̄ = −Xᵀ B̄; Ā is T̄
    on the triangle read (strictly, when unitriangular)."""

    @staticmethod
    def check(a, b, upper=True, left=True, unitriangular=False):
        _square("solve_triangular", a)
        if b.ndim < 2:
            raise RuntimeError(f"linalg.solve_triangular: The input tensor B must have at least "
                               f"2 dimensions, got shape {b.shape}")
        n = a.shape[-1]
        if (b.shape[-2] if left else b.shape[-1]) != n:
            raise RuntimeError(
                f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
                f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {b.shape[-2]}x{b.shape[-1]})")
        try:
            xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise RuntimeError(f"linalg.solve_triangular: batch dimensions {a.shape[:-2]} and "
                               f"{b.shape[:-2]} cannot be broadcast together") from None
        if a.dtype != b.dtype:
            raise RuntimeError(f"linalg.solve_triangular: Expected A and B to have the same "
                               f"dtype, but found A of type {a.dtype} and B of type {b.dtype} "
                               "instead")

    @staticmethod
    def forward(ctx, a, b, upper=True, left=True, unitriangular=False):
        t = xp.triu(a) if upper else xp.tril(a)
        if unitriangular:
            n = a.shape[-1]
            t = xp.where(xp.eye(n, dtype=bool), xp.asarray(1, a.dtype), t)
        x = _tri_solve(t, b) if left else _mT(_tri_solve(_mT(t), _mT(b)))
        ctx.t, ctx.x, ctx.params = t, x, (upper, left, unitriangular)
        ctx.shapes = (a.shape, b.shape)
        return x

    @staticmethod
    def backward(ctx, g):
        t, x, (upper, left, unit) = ctx.t, ctx.x, ctx.params
        if left:
            gb = _tri_solve(_mT(t), g)
            gt = -gb @ _mT(x)
        else:
            gb = _mT(_tri_solve(t, _mT(g)))
            gt = -_mT(x) @ gb
        k = 1 if unit else 0
        ga = xp.triu(gt, k) if upper else xp.tril(gt, -k)
        sa, sb = ctx.shapes
        return unbroadcast(ga, sa), unbroadcast(gb, sb)


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,  # noqa: N803
                     unitriangular: bool = False) -> Tensor:
    """``torch.linalg.solve_triangular``: X with A X = B (``left``) or X A = B, reading only A's
    upper or lower triangle (``upper`` is required), with ones on its diagonal when
    ``unitriangular``."""
    return SolveTriangular.apply(_t(A), _t(B), upper=bool(upper), left=bool(left),
                                 unitriangular=bool(unitriangular))


# --------------------------------------------------------------------------- matrix exponential
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
           40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _expm(a: Any) -> Any:
    """exp(A) by scaling and squaring with the [13/13] Padé approximant (Higham 2005), each
    matrix of a batch scaled by its own power of two."""
    if a.shape[-1] == 0:
        return a.copy()
    b = _PADE13
    norm = xp.abs(a).sum(axis=-2).max(axis=-1)  # the 1-norm of each matrix
    with xp.errstate(divide="ignore"):
        s = xp.maximum(0, xp.ceil(xp.log2(norm / _THETA13))).astype(int)
    s = xp.where(xp.isfinite(norm), s, 0)
    a = a / (2.0 ** s)[..., None, None].astype(a.dtype)
    eye = xp.eye(a.shape[-1], dtype=a.dtype)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2)
             + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 \
        + b[0] * eye
    r = xp.linalg.solve(v - u, v + u)
    for i in range(int(s.max(initial=0))):
        r = xp.where((s > i)[..., None, None], r @ r, r)
    return r.astype(a.dtype, copy=False)


class MatrixExp(Function):
    """Z = exp(A) = Σ Aᵏ/k!.  Ā = L(Aᵀ, Z̄), the Fréchet derivative of exp at Aᵀ in the
    direction Z̄: the top-right block of exp([[Aᵀ, Z̄], [0, Aᵀ]])."""

    @staticmethod
    def check(a):
        _square("matrix_exp", a)

    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return _expm(a)

    @staticmethod
    def backward(ctx, g):
        at = _mT(ctx.a)
        n = at.shape[-1]
        block = xp.zeros(g.shape[:-2] + (2 * n, 2 * n), g.dtype)
        block[..., :n, :n] = at
        block[..., n:, n:] = at
        block[..., :n, n:] = g
        return _expm(block)[..., :n, n:]


def matrix_exp(A: Tensor) -> Tensor:  # noqa: N803
    """``torch.matrix_exp`` / ``torch.linalg.matrix_exp``: the matrix exponential (batched)."""
    return MatrixExp.apply(_t(A))


# --------------------------------------------------------------------------- composites
def multi_dot(tensors: Any) -> Tensor:
    """``torch.linalg.multi_dot``: the product of the matrices in the order that needs the
    fewest multiplications (a chain-order dynamic programme); the first may be a 1-d row vector
    and the last a 1-d column vector. The MatMul Functions carry the gradient."""
    ts = [_t(x) for x in tensors]
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    for i, x in enumerate(ts):
        allowed = (1, 2) if i in (0, len(ts) - 1) else (2,)
        if x.ndim not in allowed:
            which = "first" if i == 0 else "last" if i == len(ts) - 1 else None
            if which:
                raise RuntimeError(f"multi_dot(): the {which} tensor must be 1D or 2D but got "
                                   f"{x.ndim}D")
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {x.ndim}D")
    first_vec, last_vec = ts[0].ndim == 1, ts[-1].ndim == 1
    mats = list(ts)
    if first_vec:
        mats[0] = mats[0][None, :]
    if last_vec:
        mats[-1] = mats[-1][:, None]
    for i in range(len(mats) - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(ts[i].shape)} and {list(ts[i + 1].shape)} cannot be "
                               "multiplied")
        if mats[i].dtype != mats[i + 1].dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor "
                               f"0 is {ts[0].dtype} and tensor {i + 1} {ts[i + 1].dtype}")
    dims = [m.shape[0] for m in mats] + [mats[-1].shape[1]]
    n = len(mats)
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def product(i: int, j: int) -> Tensor:
        if i == j:
            return mats[i]
        return MatMul.apply(product(i, split[i][j]), product(split[i][j] + 1, j))

    out = product(0, n - 1)
    if first_vec:
        out = out[0]
    if last_vec:
        out = out[..., 0]
    return out


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """``torch.linalg.vecdot``: Σ x·y along ``dim`` (the operands broadcast)."""
    a, b = _t(x), _t(y)
    try:
        shape = xp.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(f"linalg.vecdot: shapes {a.shape} and {b.shape} cannot be broadcast "
                           "together") from None
    if not shape or not -len(shape) <= dim < len(shape):
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(len(shape), 1)}, {max(len(shape), 1) - 1}], but got {dim})")
    return _sum(a * b, dim)


def cond(A: Tensor, p: Any = None) -> Tensor:  # noqa: N803
    """``torch.linalg.cond``: κ_p(A). p None or 2: σ_max/σ_min; −2: σ_min/σ_max (any shape);
    'fro', 'nuc', inf, −inf, 1, −1: ‖A‖_p ‖A⁻¹‖_p (square, invertible A)."""
    a = _t(A)
    _matrix("cond", a)
    if p in (None, 2, -2):
        s = svdvals(a)
        big, small = s[..., 0], s[..., -1]
        return big / small if p != -2 else small / big
    if p not in ("fro", "nuc", 1, -1, float("inf"), float("-inf")):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    _square("cond", a)
    return matrix_norm(a, p) * matrix_norm(inverse(a), p)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: N803
    """``torch.linalg.diagonal``: ``torch.diagonal`` with the last two dimensions by default."""
    return _diagonal(A, offset=offset, dim1=dim1, dim2=dim2)


def _info_lu(flat: Any) -> Any:
    """getrf's info per matrix: 1 + the first column whose pivot is exactly zero under
    Gaussian elimination with partial pivoting (0 for an invertible matrix)."""
    info = xp.zeros(flat.shape[0], xp.int32)
    for i in _batch_failures(xp.linalg.inv, flat):
        m = flat[i].astype(xp.float64, copy=True)
        for col in range(m.shape[0]):
            p = col + int(xp.argmax(xp.abs(m[col:, col])))
            if m[p, col] == 0:
                info[i] = col + 1
                break
            m[[col, p]] = m[[p, col]]
            m[col + 1:] -= xp.outer(m[col + 1:, col] / m[col, col], m[col])
        else:
            info[i] = m.shape[0]  # numerically singular: LAPACK's last pivot
    return info


def inv_ex(A: Tensor, *, check_errors: bool = False) -> InvExResult:  # noqa: N803
    """``torch.linalg.inv_ex``: (A⁻¹, info) without raising for a singular matrix: info
    (int32, batch shape) is getrf's (0 when invertible); a singular matrix's inverse is nan
    (unspecified in PyTorch), computed without a gradient."""
    a = _t(A)
    _square("inv_ex", a)
    flat = a.array.reshape((-1,) + a.shape[-2:])
    info = _info_lu(flat)
    if not info.any():
        return InvExResult(inverse(a), _const(info.reshape(a.shape[:-2])))
    if check_errors:
        inverse(a)
    out = xp.full(flat.shape, xp.nan, a.dtype)
    for i, bad in enumerate(info):
        if not bad:
            out[i] = xp.linalg.inv(flat[i])
    return InvExResult(_const(out.reshape(a.shape)), _const(info.reshape(a.shape[:-2])))


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True,  # noqa: N803
             check_errors: bool = False) -> SolveExResult:
    """``torch.linalg.solve_ex``: (X, info) with A X = B, info as in :func:`inv_ex`; a singular
    system's X is nan (without a gradient)."""
    a = _t(A)
    _square("solve_ex", a)
    info = _info_lu(a.array.reshape((-1,) + a.shape[-2:])).reshape(a.shape[:-2])
    if not info.any() or check_errors:
        return SolveExResult(solve(a, B, left=left), _const(info))
    eye = xp.eye(a.shape[-1], dtype=a.dtype)
    with grad_mode.no_grad():  # the singular matrices swapped for I, then their X set to nan
        x = solve(_const(xp.where((info > 0)[..., None, None], eye, a.array)), B, left=left)
    bad = info.reshape(info.shape + (1,) * (x.ndim - info.ndim)) > 0
    return SolveExResult(_const(xp.where(bad, xp.nan, x.array)), _const(info))
