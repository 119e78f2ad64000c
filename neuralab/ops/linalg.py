"""Matrix multiplication (Lecture 5: a layer computes z = Wx + b for a whole batch at once)."""

from __future__ import annotations

from neuralab.autograd.function import Function, unbroadcast
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp

__all__ = ["matmul"]


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
        if a.ndim == 1:
            d2 = xp.expand_dims(d2, -2)
        if b.ndim == 1:
            d2 = xp.expand_dims(d2, -1)
        da = db = None
        if ctx.needs_input_grad[0]:
            da = unbroadcast(d2 @ xp.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            db = unbroadcast(xp.swapaxes(a2, -1, -2) @ d2, b2.shape).reshape(b.shape)
        return da, db


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with NumPy's rules (batched, broadcasting over batch dimensions)."""
    return MatMul.apply(a, b)
