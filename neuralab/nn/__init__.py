"""``neuralab.nn``: modules with PyTorch's names, parameter names and weight layouts."""

from neuralab.nn import functional, init, utils  # noqa: F401
from neuralab.nn.activation import *  # noqa: F403
from neuralab.nn.adaptive import *  # noqa: F403
from neuralab.nn.attention import *  # noqa: F403
from neuralab.nn.bilinear import *  # noqa: F403
from neuralab.nn.container import *  # noqa: F403
from neuralab.nn.conv import *  # noqa: F403
from neuralab.nn.conv3d import *  # noqa: F403
from neuralab.nn.data_parallel import *  # noqa: F403
from neuralab.nn.dropout import *  # noqa: F403
from neuralab.nn.embedding_bag import *  # noqa: F403
from neuralab.nn.fractional_pool import *  # noqa: F403
from neuralab.nn.group_norm import *  # noqa: F403
from neuralab.nn.layer_norm import *  # noqa: F403
from neuralab.nn.lazy import *  # noqa: F403
from neuralab.nn.legacy import *  # noqa: F403
from neuralab.nn.linear import *  # noqa: F403
from neuralab.nn.loss import *  # noqa: F403
from neuralab.nn.loss_linear import *  # noqa: F403
from neuralab.nn.loss_margin import *  # noqa: F403
from neuralab.nn.loss_regression import *  # noqa: F403
from neuralab.nn.loss_structured import *  # noqa: F403
from neuralab.nn.module import *  # noqa: F403
from neuralab.nn.norm import *  # noqa: F403
from neuralab.nn.padding import *  # noqa: F403
from neuralab.nn.parameter import *  # noqa: F403
from neuralab.nn.pool import *  # noqa: F403
from neuralab.nn.pool3d import *  # noqa: F403
from neuralab.nn.resize import *  # noqa: F403
from neuralab.nn.rnn import *  # noqa: F403
from neuralab.nn.shuffle import *  # noqa: F403
from neuralab.nn.sparse import *  # noqa: F403
from neuralab.nn.stochastic import *  # noqa: F403
from neuralab.nn.transformer import *  # noqa: F403
