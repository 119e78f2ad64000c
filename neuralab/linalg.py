"""``neuralab.linalg``: PyTorch's ``torch.linalg`` names. The ops themselves live in
``neuralab.ops``; this module only names them as ``torch.linalg`` does."""

from neuralab.autograd.tensor import Tensor
from neuralab.ops.decomp import (
    cholesky_ex,
    cond,
    diagonal,
    eigh,
    eigvalsh,
    inv_ex,
    lstsq,
    matrix_exp,
    matrix_rank,
    multi_dot,
    pinv,
    slogdet,
    solve_ex,
    solve_triangular,
    svdvals,
    vecdot,
)
from neuralab.ops.decomp import linalg_cholesky as cholesky
from neuralab.ops.decomp import linalg_qr as qr
from neuralab.ops.decomp import linalg_svd as svd
from neuralab.ops.linalg import cross as _cross
from neuralab.ops.linalg import det, matmul, matrix_power, solve
from neuralab.ops.linalg import inverse as inv
from neuralab.ops.reduce import linalg_norm as norm
from neuralab.ops.reduce import matrix_norm, vector_norm

__all__ = ["norm", "vector_norm", "matrix_norm", "det", "inv", "solve", "matmul", "cross"]
__all__ += [  # decompositions and what is built on them (neuralab.ops.decomp)
    "svd", "svdvals", "qr", "eigh", "eigvalsh", "cholesky", "cholesky_ex", "lstsq", "pinv",
    "slogdet", "matrix_rank", "multi_dot", "solve_triangular", "matrix_exp", "vecdot", "cond",
    "matrix_power", "diagonal", "inv_ex", "solve_ex",
]


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:  # noqa: A002
    """``torch.linalg.cross``: the cross product along ``dim``, by default the last one."""
    return _cross(input, other, dim)
