"""Matrix multiplication (Lecture 5: a layer computes z = Wx + b for a whole batch at once)."""

from __future__ import annotations

from neuralab.autograd.function import Function, unbroadcast
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp

__all__ = ["matmul", "linear"]


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
        x2 = x.reshape(-1, x.shape[-1])  # (N, in)
        z = x2 @ w.T  # (N, out)
        if b:
            z += b[0]
        ctx.x2, ctx.w, ctx.x_shape, ctx.has_bias = x2, w, x.shape, bool(b)
        return z.reshape(x.shape[:-1] + (w.shape[0],))

    @staticmethod
    def backward(ctx, dout):
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
