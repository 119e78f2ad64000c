"""Primitive operations with explicit forward and backward, one module per family.

Every name exported here is a differentiable op (or a comparison without gradient), listed in the
``__all__`` of its family module; the op-specification table in ``tests/ops`` must cover each one.
"""

import sys as _sys

from neuralab.autograd.tensor import Tensor as _Tensor
from neuralab.ops import _methods
from neuralab.ops.activation import *  # noqa: F403
from neuralab.ops.activation_inplace import *  # noqa: F403
from neuralab.ops.arith import *  # noqa: F403
from neuralab.ops.attention import *  # noqa: F403
from neuralab.ops.bilinear import *  # noqa: F403
from neuralab.ops.conv import *  # noqa: F403
from neuralab.ops.conv3d import *  # noqa: F403
from neuralab.ops.decomp import *  # noqa: F403
from neuralab.ops.distance import *  # noqa: F403
from neuralab.ops.dropout import *  # noqa: F403
from neuralab.ops.einsum import *  # noqa: F403
from neuralab.ops.elementwise import *  # noqa: F403
from neuralab.ops.embedding_bag import *  # noqa: F403
from neuralab.ops.extras import *  # noqa: F403
from neuralab.ops.fractional_pool import *  # noqa: F403
from neuralab.ops.gather_scatter import *  # noqa: F403
from neuralab.ops.grid import *  # noqa: F403
from neuralab.ops.group_norm import *  # noqa: F403
from neuralab.ops.indexing import *  # noqa: F403
from neuralab.ops.layer_norm import *  # noqa: F403
from neuralab.ops.linalg import *  # noqa: F403
from neuralab.ops.logic import *  # noqa: F403
from neuralab.ops.loss import *  # noqa: F403
from neuralab.ops.loss_linear import *  # noqa: F403
from neuralab.ops.loss_margin import *  # noqa: F403
from neuralab.ops.loss_regression import *  # noqa: F403
from neuralab.ops.loss_structured import *  # noqa: F403
from neuralab.ops.lp_pool import *  # noqa: F403
from neuralab.ops.math import *  # noqa: F403
from neuralab.ops.multihead import *  # noqa: F403
from neuralab.ops.norm import *  # noqa: F403
from neuralab.ops.numeric import *  # noqa: F403
from neuralab.ops.pdist import *  # noqa: F403
from neuralab.ops.pool import *  # noqa: F403
from neuralab.ops.pool1d import *  # noqa: F403
from neuralab.ops.pool3d import *  # noqa: F403
from neuralab.ops.rearrange import *  # noqa: F403
from neuralab.ops.recurrent import *  # noqa: F403
from neuralab.ops.reduce import *  # noqa: F403
from neuralab.ops.sampling import *  # noqa: F403
from neuralab.ops.scan import *  # noqa: F403
from neuralab.ops.shape import *  # noqa: F403
from neuralab.ops.shuffle import *  # noqa: F403
from neuralab.ops.sort import *  # noqa: F403
from neuralab.ops.stochastic import *  # noqa: F403
from neuralab.ops.unfold import *  # noqa: F403
from neuralab.ops.unpool import *  # noqa: F403
from neuralab.ops.upsample import *  # noqa: F403

# From sys.modules, not ``from neuralab.ops import dropout``: the star imports above may have bound
# a family's name to one of its functions (ops.dropout is the function ``dropout``).
FAMILIES = tuple(_sys.modules[f"neuralab.ops.{_name}"] for _name in (
    "activation",
    "activation_inplace",
    "arith",
    "attention",
    "bilinear",
    "conv",
    "conv3d",
    "decomp",
    "distance",
    "dropout",
    "einsum",
    "elementwise",
    "embedding_bag",
    "extras",
    "fractional_pool",
    "gather_scatter",
    "grid",
    "group_norm",
    "indexing",
    "layer_norm",
    "linalg",
    "logic",
    "loss",
    "loss_linear",
    "loss_margin",
    "loss_regression",
    "loss_structured",
    "lp_pool",
    "math",
    "multihead",
    "norm",
    "numeric",
    "pdist",
    "pool",
    "pool1d",
    "pool3d",
    "rearrange",
    "recurrent",
    "reduce",
    "sampling",
    "scan",
    "shape",
    "shuffle",
    "sort",
    "stochastic",
    "unfold",
    "unpool",
    "upsample",
))
__all__ = [name for family in FAMILIES for name in family.__all__]

_methods.install(__import__("neuralab.ops", fromlist=["*"]))


def _reflected(fn):  # noqa: ANN001, ANN202
    def reflected(self, other):  # noqa: ANN001, ANN202
        return fn(other, self)

    return reflected


# The newer families list their Tensor methods (method name -> function name) beside their ops.
_NEWER = ("activation", "arith", "elementwise", "logic", "math", "reduce", "scan", "sort",
          "decomp", "numeric", "sampling", "extras")
for _family in (_sys.modules[f"neuralab.ops.{_name}"] for _name in _NEWER):
    for _method, _function in _family.TENSOR_METHODS.items():
        setattr(_Tensor, _method, getattr(_family, _function))
    for _method, _function in _family.REFLECTED.items():
        setattr(_Tensor, _method, _reflected(getattr(_family, _function)))
