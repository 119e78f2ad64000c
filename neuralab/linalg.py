"""``neuralab.linalg``: PyTorch's ``torch.linalg`` names. The ops themselves live in
``neuralab.ops``; this module only names them as ``torch.linalg`` does."""

from neuralab.autograd.tensor import Tensor
from neuralab.ops.linalg import cross as _cross
from neuralab.ops.linalg import det, matmul, solve
from neuralab.ops.linalg import inverse as inv
from neuralab.ops.reduce import linalg_norm as norm
from neuralab.ops.reduce import matrix_norm, vector_norm

__all__ = ["norm", "vector_norm", "matrix_norm", "det", "inv", "solve", "matmul", "cross"]


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:  # noqa: A002
    """``torch.linalg.cross``: the cross product along ``dim``, by default the last one."""
    return _cross(input, other, dim)
