"""``neuralab.linalg``: PyTorch's ``torch.linalg`` names for the norms (and the linear algebra
ops as they arrive). The ops themselves live in ``neuralab.ops``; this module only names them."""

from neuralab.ops.reduce import linalg_norm as norm
from neuralab.ops.reduce import matrix_norm, vector_norm

__all__ = ["norm", "vector_norm", "matrix_norm"]
