"""Primitive operations with explicit forward and backward, one module per family.

Every name exported here is a differentiable op (or a comparison without gradient), listed in the
``__all__`` of its family module; the op-specification table in ``tests/ops`` must cover each one.
"""

from neuralab.ops import _methods
from neuralab.ops.conv import *  # noqa: F403
from neuralab.ops.dropout import *  # noqa: F403
from neuralab.ops.elementwise import *  # noqa: F403
from neuralab.ops.indexing import *  # noqa: F403
from neuralab.ops.linalg import *  # noqa: F403
from neuralab.ops.loss import *  # noqa: F403
from neuralab.ops.norm import *  # noqa: F403
from neuralab.ops.pool import *  # noqa: F403
from neuralab.ops.recurrent import *  # noqa: F403
from neuralab.ops.reduce import *  # noqa: F403
from neuralab.ops.shape import *  # noqa: F403

from neuralab.ops import (  # noqa: E402
    conv, dropout, elementwise, indexing, linalg, loss, norm, pool, recurrent, reduce, shape,
)

FAMILIES = (conv, dropout, elementwise, indexing, linalg, loss, norm, pool, recurrent, reduce, shape)
__all__ = [name for family in FAMILIES for name in family.__all__]

_methods.install(__import__("neuralab.ops", fromlist=["*"]))
