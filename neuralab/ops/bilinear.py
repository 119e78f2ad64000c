"""The bilinear form y = x₁ᵀ A x₂ + b, as ``torch.nn.functional.bilinear``.

Each output unit o has its own matrix A_o (in1 × in2): y_o = Σ_ij x₁_i A_oij x₂_j + b_o, a
multiplicative interaction of two inputs (the factored three-way interactions of the lectures'
gated models). Gradients, from the same sum:

    x̄₁_i = Σ_o ȳ_o Σ_j A_oij x₂_j,   x̄₂_j = Σ_o ȳ_o Σ_i x₁_i A_oij,
    Ā_oij = Σ_batch ȳ_o x₁_i x₂_j,    b̄_o = Σ_batch ȳ_o.
"""

from __future__ import annotations

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp

__all__ = ["bilinear"]


class Bilinear(Function):
    """y[..., o] = Σ_ij x1[..., i] W[o, i, j] x2[..., j] (+ b[o]); see the module docstring."""

    @staticmethod
    def check(x1, x2, w, *b, has_bias):
        for name, t in (("input1", x1), ("input2", x2), ("weight", w)) + \
                ((("bias", b[0]),) if has_bias else ()):
            if t.dtype.kind != "f":
                raise TypeError(f"bilinear: {name} must be a floating-point tensor, got "
                                f"{t.dtype}; convert it with .float()")
            if t.dtype != x1.dtype:
                raise TypeError(f"bilinear: {name} is {t.dtype} but input1 is {x1.dtype}; all "
                                "operands must share one dtype")
        if x1.ndim == 0 or x1.ndim != x2.ndim:
            raise ValueError(f"bilinear: input1 and input2 must have the same number of "
                             f"dimensions (at least 1), got shapes {x1.shape} and {x2.shape}")
        if x1.shape[:-1] != x2.shape[:-1]:
            raise ValueError(f"bilinear: the batch dimensions of input1 {x1.shape} and input2 "
                             f"{x2.shape} do not match")
        if w.ndim != 3:
            raise ValueError(f"bilinear: weight must have shape (out_features, in1_features, "
                             f"in2_features), got {w.shape}")
        if x1.shape[-1] != w.shape[1] or x2.shape[-1] != w.shape[2]:
            raise ValueError(f"bilinear: input1 has {x1.shape[-1]} and input2 {x2.shape[-1]} "
                             f"features but weight {w.shape} expects {w.shape[1]} and "
                             f"{w.shape[2]}")
        if has_bias and b[0].shape != (w.shape[0],):
            raise ValueError(f"bilinear: bias must have shape ({w.shape[0]},), got "
                             f"{b[0].shape}")

    @staticmethod
    def forward(ctx, x1, x2, w, *b, has_bias):
        ctx.x1, ctx.x2, ctx.w, ctx.has_bias = x1, x2, w, has_bias
        # x1 (…, i) · W (o, i, j) -> (…, o, j), then contracted with x2 (…, j)
        t = xp.tensordot(x1, w, axes=([-1], [1]))
        y = xp.einsum("...oj,...j->...o", t, x2)
        if has_bias:
            y = y + b[0]
        return y.astype(x1.dtype, copy=False)

    @staticmethod
    def backward(ctx, dout):
        x1, x2, w = ctx.x1, ctx.x2, ctx.w
        dx1 = xp.einsum("...o,oij,...j->...i", dout, w, x2, optimize=True)
        dx2 = xp.einsum("...o,oij,...i->...j", dout, w, x1, optimize=True)
        g = dout.reshape(-1, dout.shape[-1])
        dw = xp.einsum("no,ni,nj->oij", g, x1.reshape(-1, x1.shape[-1]),
                       x2.reshape(-1, x2.shape[-1]), optimize=True)
        grads = (dx1, dx2, dw)
        return grads + ((g.sum(axis=0),) if ctx.has_bias else ())


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor,
             bias: Tensor | None = None) -> Tensor:
    """y = x₁ᵀ A x₂ + b for every output unit, as ``torch.nn.functional.bilinear``.

    Args:
        input1: (*, in1_features).
        input2: (*, in2_features), the same leading dimensions as ``input1``.
        weight: (out_features, in1_features, in2_features).
        bias: (out_features,) or None.

    Returns:
        (*, out_features).
    """
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"bilinear: {name} must be a Tensor, got {type(t).__name__}")
    extra = () if bias is None else (bias,)
    return Bilinear.apply(input1, input2, weight, *extra, has_bias=bias is not None)
