"""Primitive operations with explicit forward and backward, one module per family.

Every name exported here is a differentiable op (or a comparison without gradient), listed in the
``__all__`` of its family module; the op-specification table in ``tests/ops`` must cover each one.
"""

import sys as _sys

from neuralab.ops import _methods
from neuralab.ops.conv import *  # noqa: F403
from neuralab.ops.distance import *  # noqa: F403
from neuralab.ops.dropout import *  # noqa: F403
from neuralab.ops.einsum import *  # noqa: F403
from neuralab.ops.elementwise import *  # noqa: F403
from neuralab.ops.gather_scatter import *  # noqa: F403
from neuralab.ops.indexing import *  # noqa: F403
from neuralab.ops.layer_norm import *  # noqa: F403
from neuralab.ops.linalg import *  # noqa: F403
from neuralab.ops.loss import *  # noqa: F403
from neuralab.ops.norm import *  # noqa: F403
from neuralab.ops.pool import *  # noqa: F403
from neuralab.ops.pool1d import *  # noqa: F403
from neuralab.ops.rearrange import *  # noqa: F403
from neuralab.ops.recurrent import *  # noqa: F403
from neuralab.ops.reduce import *  # noqa: F403
from neuralab.ops.shape import *  # noqa: F403
from neuralab.ops.upsample import *  # noqa: F403

# From sys.modules, not ``from neuralab.ops import dropout``: the star imports above may have bound
# a family's name to one of its functions (ops.dropout is the function ``dropout``).
FAMILIES = tuple(_sys.modules[f"neuralab.ops.{_name}"] for _name in (
    "conv",
    "distance",
    "dropout",
    "einsum",
    "elementwise",
    "gather_scatter",
    "indexing",
    "layer_norm",
    "linalg",
    "loss",
    "norm",
    "pool",
    "pool1d",
    "rearrange",
    "recurrent",
    "reduce",
    "shape",
    "upsample",
))
__all__ = [name for family in FAMILIES for name in family.__all__]

_methods.install(__import__("neuralab.ops", fromlist=["*"]))
