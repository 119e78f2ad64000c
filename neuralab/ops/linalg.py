"""Matrix multiplication (Lecture 5: a layer computes z = Wx + b for a whole batch at once)."""

from __future__ import annotations

from typing import Any

from neuralab import kernels
from neuralab.autograd.function import Function, unbroadcast
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import broadcast_shape, normalize_dim
from neuralab.ops.einsum import einsum
from neuralab.ops.shape import reshape

__all__ = [
    "matmul", "linear", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm",
    "addmv", "addr", "baddbmm", "addbmm", "tensordot", "kron", "cross", "det", "inverse", "solve",
    "matrix_power", "chain_matmul",
]


class MatMul(Function):
    """z = a @ b, batched over leading dimensions that broadcast.

    Shapes: a (..., n, k), b (..., k, m) -> z (..., n, m); 1-d operands are treated as a row
    (a) or a column (b) vector and that dimension is dropped from z, as in NumPy.

    ā = z̄ @ bᵀ,  b̄ = aᵀ @ z̄  (each summed over broadcast batch dimensions).
    """

    @staticmethod
    def check(a: Tensor, b: Tensor) -> None:
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes "
                             f"{a.shape} and {b.shape}; use * for scalars")
        if (a.dtype.kind == "f") != (b.dtype.kind == "f"):
            raise TypeError(f"matmul: operands are {a.dtype} and {b.dtype}; both must be "
                            "floating point (or both integer): convert one with .float()")
        k_a = a.shape[-1]
        k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if k_a != k_b:
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} do not fit: the last dimension of the "
                f"first ({k_a}) must equal the {'second-to-' if b.ndim > 1 else ''}last of the "
                f"second ({k_b})"
            )
        if a.ndim > 2 or b.ndim > 2:
            try:
                xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
            except ValueError:
                raise ValueError(f"matmul: batch dimensions {a.shape[:-2]} and {b.shape[:-2]} "
                                 "cannot be broadcast together") from None

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return a @ b

    @staticmethod
    def backward(ctx, dout):
        a, b = ctx.a, ctx.b
        # Promote 1-d operands to matrices so that one formula covers every case.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        d2 = dout
        if b.ndim == 1:  # first, so that a 0-d z̄ (vector · vector) becomes (1,) then (1, 1)
            d2 = xp.expand_dims(d2, -1)
        if a.ndim == 1:
            d2 = xp.expand_dims(d2, -2)
        da = db = None
        if ctx.needs_input_grad[0]:
            da = unbroadcast(d2 @ xp.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
            da = da.astype(a.dtype, copy=False)  # float32 @ float64 promotes; x̄ keeps x's dtype
        if ctx.needs_input_grad[1]:
            db = unbroadcast(xp.swapaxes(a2, -1, -2) @ d2, b2.shape).reshape(b.shape)
            db = db.astype(b.dtype, copy=False)
        return da, db


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product z = a @ b with NumPy's rules (Lecture 5: a layer's Wx for a whole batch).

    Shapes: (n, k) @ (k, m) -> (n, m); leading batch dimensions broadcast, (..., n, k) @
    (..., k, m) -> (..., n, m); a 1-d ``a`` is a row vector and a 1-d ``b`` a column vector, and
    their dimension is dropped from z. Backward: ā = z̄ bᵀ, b̄ = aᵀ z̄ (summed over broadcast
    batch dimensions).
    """
    return MatMul.apply(a, b)


class Linear(Function):
    """z = x Wᵀ + b, the fully connected layer, fused into one op (Lecture 5).

    Shapes: x (*, in), W (out, in), b (out,) -> z (*, out); the leading dimensions of x are
    flattened into one batch dimension of size N for the products.

    x̄ = z̄ W,   W̄ = z̄ᵀ x,   b̄ = Σₙ z̄ₙ  (sums over the batch, since every example uses W and b).
    """

    @staticmethod
    def check(x: Tensor, w: Tensor, *b: Tensor) -> None:
        if w.ndim != 2:
            raise ValueError(f"linear: weight must be 2-d (out_features, in_features), got shape "
                             f"{w.shape}")
        if x.ndim == 0 or x.shape[-1] != w.shape[1]:
            raise ValueError(
                f"linear: input of shape {x.shape} has {x.shape[-1] if x.ndim else 0} features in "
                f"its last dimension but the weight {w.shape} expects {w.shape[1]}; did you "
                "forget to flatten the input (nn.Flatten() or x.reshape(N, -1))?"
            )
        if b and b[0].shape != (w.shape[0],):
            raise ValueError(f"linear: bias must have shape ({w.shape[0]},) to match weight "
                             f"{w.shape}, got {b[0].shape}")
        for name, t in (("input", x), ("bias", b[0] if b else w)):
            if t.dtype != w.dtype:
                raise TypeError(
                    f"linear: {name} is {t.dtype} but the weight is {w.dtype}; they must match "
                    "(convert the input with .float(), or the model with model.double())"
                )

    @staticmethod
    def forward(ctx, x, w, *b):
        ctx.learner = kernels.learner("linear")  # a learner's code (neuralab exercise train)
        if ctx.learner is not None:
            return ctx.learner.linear_forward(ctx, x, w, b[0] if b else None)
        x2 = x.reshape(-1, x.shape[-1])  # (N, in)
        z = x2 @ w.T  # (N, out)
        if b:
            z += b[0]
        ctx.x2, ctx.w, ctx.x_shape, ctx.has_bias = x2, w, x.shape, bool(b)
        return z.reshape(x.shape[:-1] + (w.shape[0],))

    @staticmethod
    def backward(ctx, dout):
        if ctx.learner is not None:
            return ctx.learner.linear_backward(ctx, dout)
        x2, w = ctx.x2, ctx.w
        d2 = dout.reshape(-1, w.shape[0])  # (N, out)
        needs = ctx.needs_input_grad
        dx = (d2 @ w).reshape(ctx.x_shape) if needs[0] else None
        dw = d2.T @ x2 if needs[1] else None
        if not ctx.has_bias:
            return dx, dw
        db = d2.sum(axis=0) if needs[2] else None
        return dx, dw, db


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """The affine map z = x Wᵀ + b of a fully connected layer (PyTorch's ``F.linear``).

    Args:
        x: input of shape (*, in_features).
        weight: (out_features, in_features), PyTorch's layout.
        bias: (out_features,) or None.

    Returns:
        A tensor of shape (*, out_features).
    """
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)


# --------------------------------------------------------------------------- the matmul family
# PyTorch's strict-rank spellings of the matrix product. Each checks the ranks it promises and
# is the MatMul (or Einsum) Function above, whose backward pass is written out there.


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _same_dtype(op: str, a: Tensor, b: Tensor) -> None:
    if a.dtype != b.dtype:
        raise RuntimeError(f"{op}: expected both operands to have the same dtype, but found "
                           f"{a.dtype} and {b.dtype}")


def mm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    """The product of two matrices (n, k) @ (k, m) -> (n, m); no broadcasting."""
    a, b = _t(input), _t(mat2)
    if a.ndim != 2:
        raise RuntimeError(f"mm: self must be a matrix, got shape {a.shape}")
    if b.ndim != 2:
        raise RuntimeError(f"mm: mat2 must be a matrix, got shape {b.shape}")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} "
                           f"and {b.shape[0]}x{b.shape[1]})")
    _same_dtype("mm", a, b)
    return MatMul.apply(a, b)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    """Batched matrix products (B, n, k) @ (B, k, m) -> (B, n, m); no broadcasting."""
    a, b = _t(input), _t(mat2)
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"bmm: batch1 and batch2 must be 3D tensors, got shapes {a.shape} and "
                           f"{b.shape}")
    if b.shape[:2] != (a.shape[0], a.shape[2]):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")
    _same_dtype("bmm", a, b)
    return MatMul.apply(a, b)


def mv(input: Tensor, vec: Tensor) -> Tensor:  # noqa: A002
    """Matrix times vector: (n, m) @ (m,) -> (n,)."""
    a, v = _t(input), _t(vec)
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {a.ndim}, {v.ndim}")
    if a.shape[1] != v.shape[0]:
        raise RuntimeError(f"size mismatch, got mat ({a.shape[0]}x{a.shape[1]}), vec "
                           f"({v.shape[0]})")
    _same_dtype("mv", a, v)
    return MatMul.apply(a, v)


def dot(input: Tensor, tensor: Tensor) -> Tensor:  # noqa: A002
    """The inner product of two 1-d tensors of equal length (a 0-d tensor)."""
    a, b = _t(input), _t(tensor)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape != b.shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                           f"[{b.shape[0]}] to have the same number of elements, but got "
                           f"{a.shape[0]} and {b.shape[0]} elements respectively")
    _same_dtype("dot", a, b)
    return MatMul.apply(a, b)


def vdot(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """Same as :func:`dot` for real tensors (the first operand's conjugate is itself)."""
    return dot(input, other)


def inner(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """Σ over the last dimensions: (..., k) and (..., k) -> a.shape[:-1] + b.shape[:-1]; for
    0-d operands, the product."""
    a, b = _t(input), _t(other)
    if a.ndim == 0 or b.ndim == 0:
        return einsum("...,...->...", a, b) if a.ndim == b.ndim else \
            einsum("...,->...", a, b) if b.ndim == 0 else einsum(",...->...", a, b)
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got "
                           f"shapes {a.shape} and {b.shape}")
    return tensordot(a, b, dims=([a.ndim - 1], [b.ndim - 1]))


def outer(input: Tensor, vec2: Tensor) -> Tensor:  # noqa: A002
    """The outer product of two vectors: out[i, j] = a[i] · b[j] (Lecture 5's W̄ = z̄ xᵀ for one
    example). ā = z̄ b,  b̄ = z̄ᵀ a (the einsum's backward)."""
    a, b = _t(input), _t(vec2)
    if a.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {a.ndim}-D")
    if b.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument vec2, but got {b.ndim}-D")
    return einsum("i,j->ij", a, b)


def ger(input: Tensor, vec2: Tensor) -> Tensor:  # noqa: A002
    """Alias of :func:`outer`."""
    return outer(input, vec2)


def _scaled_sum(op: str, c: Tensor, p: Tensor, beta: float, alpha: float) -> Tensor:
    """beta·c + alpha·p, with c broadcast to p's shape; beta = 0 ignores c (even nan/inf)."""
    broadcast_shape(op, c.shape, p.shape)
    if tuple(xp.broadcast_shapes(c.shape, p.shape)) != tuple(p.shape):
        raise RuntimeError(f"{op}: input of shape {c.shape} cannot be broadcast to the product's "
                           f"shape {p.shape}")
    out = p if alpha == 1 else p * alpha
    if beta == 0:
        return out
    return out + (c if beta == 1 else c * beta)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1,  # noqa: A002
          alpha: float = 1) -> Tensor:
    """beta·input + alpha·(mat1 @ mat2) (a fully connected layer's b + xWᵀ, Lecture 5)."""
    return _scaled_sum("addmm", _t(input), mm(mat1, mat2), beta, alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: float = 1,  # noqa: A002
          alpha: float = 1) -> Tensor:
    """beta·input + alpha·(mat @ vec)."""
    return _scaled_sum("addmv", _t(input), mv(mat, vec), beta, alpha)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: float = 1,  # noqa: A002
         alpha: float = 1) -> Tensor:
    """beta·input + alpha·outer(vec1, vec2)."""
    return _scaled_sum("addr", _t(input), outer(vec1, vec2), beta, alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1,  # noqa: A002
            alpha: float = 1) -> Tensor:
    """beta·input + alpha·bmm(batch1, batch2)."""
    return _scaled_sum("baddbmm", _t(input), bmm(batch1, batch2), beta, alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1,  # noqa: A002
           alpha: float = 1) -> Tensor:
    """beta·input + alpha·Σ_b batch1[b] @ batch2[b]."""
    bmm(batch1, batch2)  # validates the shapes
    return _scaled_sum("addbmm", _t(input), einsum("bij,bjk->ik", batch1, batch2), beta, alpha)


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Σ over paired dimensions: ``dims=n`` pairs a's last n with b's first n; ``dims=(da, db)``
    pairs the listed dimensions. An einsum (its backward is the gradient)."""
    a, b = _t(a), _t(b)
    if isinstance(dims, (int, xp.integer)) and not isinstance(dims, bool):
        n = int(dims)
        if n < 0 or n > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot expects dims >= 0 and <= {min(a.ndim, b.ndim)}, got "
                               f"{n}")
        da, db = list(range(a.ndim - n, a.ndim)), list(range(n))
    else:
        da, db = dims
        da = [da] if isinstance(da, (int, xp.integer)) else list(da)
        db = [db] if isinstance(db, (int, xp.integer)) else list(db)
        if len(da) != len(db):
            raise RuntimeError(f"both dimension lists should have same length, got {da} and {db}")
        da = [normalize_dim("tensordot", d, a.ndim) for d in da]
        db = [normalize_dim("tensordot", d, b.ndim) for d in db]
    letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    sa = [next(letters) for _ in range(a.ndim)]
    sb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[i]} in dim {i} and second has size {b.shape[j]} in dim "
                               f"{j}")
        sb[j] = sa[i]
    out = [c for i, c in enumerate(sa) if i not in da] + [c for j, c in enumerate(sb)
                                                          if j not in db]
    return einsum("".join(sa) + "," + "".join(sb) + "->" + "".join(out), a, b)


def kron(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """The Kronecker product: out[i·m + k, ...] = a[i, ...] · b[k, ...] (the rank of the
    smaller operand is padded with leading 1s). An einsum followed by a reshape."""
    a, b = _t(input), _t(other)
    n = max(a.ndim, b.ndim)
    a = reshape(a, (1,) * (n - a.ndim) + a.shape)
    b = reshape(b, (1,) * (n - b.ndim) + b.shape)
    la, lb = "abcdefghijklm"[:n], "nopqrstuvwxyz"[:n]
    pairs = "".join(x + y for x, y in zip(la, lb))
    prod = einsum(f"{la},{lb}->{pairs}", a, b)
    return reshape(prod, tuple(p * q for p, q in zip(a.shape, b.shape)))


class Cross(Function):
    """z = a × b along ``axis`` (of size 3), broadcasting the other dimensions.

    ā = b × z̄,  b̄ = z̄ × a  (the cross product's Jacobian is a skew-symmetric matrix).
    """

    @staticmethod
    def forward(ctx, a, b, axis=-1):
        ctx.a, ctx.b, ctx.axis = a, b, axis
        return xp.cross(a, b, axis=axis)

    @staticmethod
    def backward(ctx, dout):
        a, b, axis = ctx.a, ctx.b, ctx.axis
        da = unbroadcast(xp.cross(b, dout, axis=axis), a.shape) if ctx.needs_input_grad[0] \
            else None
        db = unbroadcast(xp.cross(dout, a, axis=axis), b.shape) if ctx.needs_input_grad[1] \
            else None
        return da, db


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:  # noqa: A002
    """The cross product of 3-vectors along ``dim`` (default: the first dimension of size 3, as
    ``torch.cross``; ``torch.linalg.cross`` uses -1)."""
    a, b = _t(input), _t(other)
    if a.ndim != b.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, got "
                           f"{a.ndim} and {b.ndim}")
    shape = broadcast_shape("cross", a.shape, b.shape)
    if dim is None:
        sizes = [i for i, n in enumerate(shape) if n == 3]
        if not sizes:
            raise RuntimeError(f"no dimension of size 3 in input of shape {shape}")
        axis = sizes[0]
    else:
        axis = normalize_dim("cross", dim, len(shape))
    if a.shape[axis] != 3 or b.shape[axis] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {axis} must have length 3. Got "
                           f"{a.shape[axis]} and {b.shape[axis]}")
    return Cross.apply(a, b, axis=axis)


# --------------------------------------------------------------------------- square matrices


def _square(op: str, a: Tensor) -> None:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.{op}: A must be batches of square matrices, but they are "
                           f"{a.shape[-2] if a.ndim > 1 else a.ndim} by "
                           f"{a.shape[-1] if a.ndim else 0} matrices")
    if a.dtype.kind != "f":
        raise RuntimeError(f"linalg.{op}: Expected a floating point tensor as input. Got "
                           f"{a.dtype}")


class Det(Function):
    """z = det(A) (batched).   Ā = z̄ · det(A) · A⁻ᵀ (Jacobi's formula; A invertible)."""

    @staticmethod
    def check(a):
        _square("det", a)

    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        ctx.z = xp.linalg.det(a)
        return xp.asarray(ctx.z, dtype=a.dtype)

    @staticmethod
    def backward(ctx, dout):
        inv_t = xp.swapaxes(xp.linalg.inv(ctx.a), -1, -2)
        return (dout * ctx.z)[..., None, None] * inv_t


class Inverse(Function):
    """Z = A⁻¹ (batched).   Ā = −Zᵀ Z̄ Zᵀ."""

    @staticmethod
    def check(a):
        _square("inv", a)

    @staticmethod
    def forward(ctx, a):
        try:
            ctx.z = xp.linalg.inv(a)
        except xp.linalg.LinAlgError:
            raise RuntimeError("linalg.inv: The diagonal element 1 is zero, the inversion could "
                               "not be completed because the input matrix is singular.") from None
        return ctx.z

    @staticmethod
    def backward(ctx, dout):
        z_t = xp.swapaxes(ctx.z, -1, -2)
        return -(z_t @ dout @ z_t)


class Solve(Function):
    """X = A⁻¹ B (batched; B a matrix or a vector).   B̄ = A⁻ᵀ X̄,  Ā = −B̄ Xᵀ."""

    @staticmethod
    def check(a, b):
        _square("solve", a)

    @staticmethod
    def forward(ctx, a, b):
        vector = b.ndim == a.ndim - 1
        b2 = b[..., None] if vector else b
        try:
            x = xp.linalg.solve(a, b2)
        except xp.linalg.LinAlgError:
            raise RuntimeError("linalg.solve: The solver failed because the input matrix is "
                               "singular.") from None
        ctx.a, ctx.x, ctx.vector, ctx.shapes = a, x, vector, (a.shape, b.shape)
        return x[..., 0] if vector else x

    @staticmethod
    def backward(ctx, dout):
        d2 = dout[..., None] if ctx.vector else dout
        db = xp.linalg.solve(xp.swapaxes(ctx.a, -1, -2), d2)
        da = -db @ xp.swapaxes(ctx.x, -1, -2)
        sa, sb = ctx.shapes
        db = db[..., 0] if ctx.vector else db
        return unbroadcast(da, sa), unbroadcast(db, sb)


def det(input: Tensor) -> Tensor:  # noqa: A002
    """The determinant of a square matrix (or a batch of them)."""
    return Det.apply(input)


def inverse(input: Tensor) -> Tensor:  # noqa: A002
    """The inverse of a square matrix (or a batch); singular input raises RuntimeError."""
    return Inverse.apply(input)


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:  # noqa: N803 (PyTorch's names)
    """X with A X = B (``torch.linalg.solve``); B is a matrix (..., n, k) or a vector (..., n)."""
    if not left:
        raise NotImplementedError("solve: left=False is not implemented; solve Aᵀ Xᵀ = Bᵀ")
    return Solve.apply(A, B)


def matrix_power(input: Tensor, n: int) -> Tensor:  # noqa: A002
    """Aⁿ for a square matrix (or batch) by repeated squaring; A⁰ = I, negative n uses A⁻¹.
    The products' MatMul Functions carry the gradient."""
    a = _t(input)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, got shape "
                           f"{a.shape}")
    n = int(n)
    if n == 0:  # the identity, still in the graph (with a zero gradient) as in PyTorch
        eye = Tensor._from_op(xp.eye(a.shape[-1], dtype=a.dtype), None, 0)
        return a * 0 + eye
    if n < 0:
        a, n = inverse(a), -n
    result, base = None, a
    while n:
        if n & 1:
            result = base if result is None else MatMul.apply(result, base)
        n >>= 1
        if n:
            base = MatMul.apply(base, base)
    return result


def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of the 2-d matrices left to right (``torch.chain_matmul``)."""
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    out = _t(matrices[0])
    for m in matrices[1:]:
        out = mm(out, m)
    return out
