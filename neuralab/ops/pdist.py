"""``torch.pdist``/``F.pdist``: the p-norm distance between every pair of rows of one matrix.

d_k = ‖x_i − x_j‖_p for the pairs i < j in row-major order (the strict upper triangle of
``cdist(x, x)``, flattened). With v = x_i − x_j: x̄_i += d̄_k ∂‖v‖/∂v and x̄_j −= d̄_k ∂‖v‖/∂v,
∂‖v‖/∂v being ``ops.distance``'s (0 where the distance is 0, as PyTorch).
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import require_float
from neuralab.ops.distance import _pnorm, _pnorm_grad

__all__ = ["pdist"]


class Pdist(Function):
    """d_k = ‖x_i − x_j‖_p over the pairs i < j.   x̄_i = Σ_k d̄_k g_k, x̄_j = −Σ_k d̄_k g_k with
    g_k = ∂‖v_k‖/∂v_k."""

    @staticmethod
    def forward(ctx, x, p=2.0):
        i, j = xp.triu_indices(x.shape[0], 1)
        v = x[i] - x[j]  # (P, M)
        n = _pnorm(v, p, 1)
        ctx.v, ctx.n, ctx.p, ctx.pairs, ctx.shape = v, n, p, (i, j), x.shape
        return n[:, 0].astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dout):
        dv = dout[:, None] * _pnorm_grad(ctx.v, ctx.n, ctx.p, 1)
        i, j = ctx.pairs
        dx = xp.zeros(ctx.shape, dtype=dout.dtype)
        xp.add.at(dx, i, dv)
        xp.add.at(dx, j, -dv)
        return dx


def pdist(input: Tensor, p: float = 2) -> Tensor:  # noqa: A002  (PyTorch's names)
    """The p-norm distances between the rows of an (N, M) matrix: N(N − 1)/2 values, the pairs
    (0, 1), (0, 2), ..., (1, 2), ... in order (``torch.pdist``).

    Args:
        input: an (N, M) floating tensor.
        p: the norm's degree, ≥ 0 (``float('inf')`` for the largest difference).
    """
    x: Any = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {x.ndim}D (an (N, M) matrix of "
                           "N row vectors; use cdist for batches)")
    require_float("pdist", "input", x)
    if p < 0:
        raise RuntimeError(f"pdist only supports non-negative p values, got {p}")
    return Pdist.apply(x, p=float(p))
