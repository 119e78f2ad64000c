"""neuralab: the neural networks of CSC321 (Grosse, 2017) from scratch on NumPy.

Every gradient is written out by hand in ``neuralab.ops`` and checked against finite differences
and PyTorch; the public names follow PyTorch (``nn.Linear``, ``F.conv2d``, ``optim.SGD``).
"""

from neuralab.autograd import (
    Function,
    GradcheckError,
    Tensor,
    enable_grad,
    gradcheck,
    is_grad_enabled,
    no_grad,
)
from neuralab.backend import manual_seed
from neuralab.factories import (
    arange,
    eye,
    full,
    full_like,
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
from neuralab.ops import *  # noqa: F403

import numpy as _np

float32 = _np.float32
float64 = _np.float64
int64 = _np.int64
bool_ = _np.bool_

__version__ = "0.1.0"

# The higher layers, so that ``import neuralab as nl; nl.nn.Linear``, ``nl.optim.SGD``,
# ``nl.data.DataLoader``, ``nl.models.create`` and ``nl.train.fit`` work after one import.
from neuralab import nn, optim, data, models, train  # noqa: E402, F401, I001
from neuralab import interop  # noqa: E402, F401, I001
from neuralab.interop import (  # noqa: E402, F401, I001
    export_state_dict, load_torch_state_dict, to_torch_state_dict,
)

from neuralab.diagnostics.summary import summary  # noqa: E402
