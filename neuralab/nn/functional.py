"""``neuralab.nn.functional`` (imported as ``F``): the user-facing functions with PyTorch's
signatures. The differentiable primitives live in ``neuralab.ops``; this module gathers them with
the compositions built on them (``linear``, ``one_hot``...)."""

from neuralab.nn._functional import *  # noqa: F403
from neuralab.ops.activation import *  # noqa: F403
from neuralab.ops.activation_inplace import *  # noqa: F403
from neuralab.ops.attention import *  # noqa: F403
from neuralab.ops.bilinear import *  # noqa: F403
from neuralab.ops.conv import *  # noqa: F403
from neuralab.ops.conv3d import *  # noqa: F403
from neuralab.ops.distance import *  # noqa: F403
from neuralab.ops.dropout import *  # noqa: F403
from neuralab.ops.elementwise import (  # noqa: F401
    elu,
    gelu,
    leaky_relu,
    relu,
    sigmoid,
    softplus,
    tanh,
)
from neuralab.ops.embedding_bag import *  # noqa: F403
from neuralab.ops.fractional_pool import *  # noqa: F403
from neuralab.ops.grid import *  # noqa: F403
from neuralab.ops.group_norm import *  # noqa: F403
from neuralab.ops.layer_norm import *  # noqa: F403
from neuralab.ops.loss import *  # noqa: F403
from neuralab.ops.loss_linear import *  # noqa: F403
from neuralab.ops.loss_margin import *  # noqa: F403
from neuralab.ops.loss_regression import *  # noqa: F403
from neuralab.ops.loss_structured import *  # noqa: F403
from neuralab.ops.lp_pool import *  # noqa: F403
from neuralab.ops.multihead import *  # noqa: F403
from neuralab.ops.norm import *  # noqa: F403
from neuralab.ops.pdist import *  # noqa: F403
from neuralab.ops.pool import *  # noqa: F403
from neuralab.ops.pool1d import *  # noqa: F403
from neuralab.ops.pool3d import *  # noqa: F403
from neuralab.ops.recurrent import *  # noqa: F403
from neuralab.ops.reduce import *  # noqa: F403
from neuralab.ops.shape import *  # noqa: F403
from neuralab.ops.shuffle import *  # noqa: F403
from neuralab.ops.stochastic import *  # noqa: F403
from neuralab.ops.unfold import *  # noqa: F403
from neuralab.ops.unpool import *  # noqa: F403
from neuralab.ops.upsample import *  # noqa: F403
