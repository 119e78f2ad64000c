"""neuralab: the neural networks of CSC321 (Grosse, 2017) from scratch on NumPy.

Every gradient is written out by hand in ``neuralab.ops`` and checked against finite differences
and PyTorch; the public names follow PyTorch (``nn.Linear``, ``F.conv2d``, ``optim.SGD``).
After ``import neuralab as nl``: the tensor and its ops (``nl.tensor``, ``nl.matmul``), and the
higher layers as attributes (``nl.nn.Linear``, ``nl.optim.SGD``, ``nl.data.DataLoader``,
``nl.models.create``, ``nl.train.fit``, ``nl.summary``).
"""

from neuralab import data, interop, linalg, models, nn, optim, train, utils
from neuralab.autograd import (
    Function,
    GradcheckError,
    Tensor,
    enable_grad,
    gradcheck,
    is_grad_enabled,
    no_grad,
)
from neuralab.backend import Generator, manual_seed
from neuralab.backend import xp as _np
from neuralab.diagnostics.summary import summary
from neuralab.factories import (
    arange,
    eye,
    full,
    full_like,
    linspace,
    logspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from neuralab.interop import export_state_dict, load_torch_state_dict, to_torch_state_dict
from neuralab.kernels import get_kernels, set_kernels, use_kernels
from neuralab.ops import *  # noqa: F403
from neuralab.ops import __all__ as _ops_all
from neuralab.ops.reduce import norm
from neuralab.parallel import get_num_threads, set_num_threads
from neuralab.serialization import load, save

float32 = _np.float32
float64 = _np.float64
int64 = _np.int64
bool_ = _np.bool_

__version__ = "0.1.0"

__all__ = [
    "Function", "Generator", "GradcheckError", "Tensor", "arange", "bool_", "data",
    "enable_grad", "export_state_dict", "eye", "float32", "float64", "full", "full_like",
    "get_kernels", "get_num_threads", "gradcheck", "int64", "interop", "is_grad_enabled",
    "linalg", "linspace", "load", "load_torch_state_dict", "logspace", "manual_seed", "models",
    "nn", "no_grad", "norm",
    "ones", "ones_like", "optim", "rand", "rand_like", "randn", "randn_like", "save",
    "set_kernels", "set_num_threads", "summary", "tensor", "to_torch_state_dict", "train",
    "use_kernels", "utils", "zeros", "zeros_like", *_ops_all,
]
