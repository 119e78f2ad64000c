"""neuralab: the neural networks of CSC321 (Grosse, 2017) from scratch on NumPy.

Every gradient is written out by hand in ``neuralab.ops`` and checked against finite differences
and PyTorch; the public names follow PyTorch (``nn.Linear``, ``F.conv2d``, ``optim.SGD``).
After ``import neuralab as nl``: the tensor and its ops (``nl.tensor``, ``nl.matmul``), and the
higher layers as attributes (``nl.nn.Linear``, ``nl.optim.SGD``, ``nl.data.DataLoader``,
``nl.models.create``, ``nl.train.fit``, ``nl.summary``).
"""

from neuralab import (
    accelerator,
    autograd,
    backends,
    cuda,
    data,
    distributions,
    func,
    interop,
    linalg,
    models,
    nn,
    optim,
    train,
    utils,
)
from neuralab.autograd import (
    Function,
    GradcheckError,
    Tensor,
    enable_grad,
    gradcheck,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from neuralab.autograd.anomaly import is_anomaly_check_nan_enabled, is_anomaly_enabled
from neuralab.autograd.tensor import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    Size,
)
from neuralab.backend import Generator, manual_seed
from neuralab.devices import device, get_default_device, set_default_device
from neuralab.diagnostics.summary import summary
from neuralab.dtypes import (
    bfloat16,
    complex64,
    complex128,
    double,
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    is_floating_point,
    long,
    promote_types,
    result_type,
    set_default_dtype,
    short,
    uint8,
)
from neuralab.dtypes import bool as bool  # noqa: PLC0414  (PyTorch's names, kept out of __all__)
from neuralab.dtypes import float as float  # noqa: PLC0414
from neuralab.dtypes import int as int  # noqa: PLC0414
from neuralab.factories import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from neuralab.interop import export_state_dict, load_torch_state_dict, to_torch_state_dict
from neuralab.kernels import get_kernels, set_kernels, use_kernels
from neuralab.kernels.allocator import tune_malloc_at_import as _tune_malloc_at_import
from neuralab.ops import *  # noqa: F403
from neuralab.ops import __all__ as _ops_all
from neuralab.ops.queries import (
    broadcast_shapes,
    is_complex,
    is_nonzero,
    is_same_size,
    is_signed,
)
from neuralab.ops.reduce import norm
from neuralab.ops.sampling import get_rng_state, initial_seed, seed, set_rng_state
from neuralab.parallel import get_num_threads, set_num_threads
from neuralab.runtime import *  # noqa: F403  (settings, dtype facts, compile, in-place twins)
from neuralab.runtime import __all__ as _runtime_all
from neuralab.serialization import load, save
from neuralab.windows import *  # noqa: F403
from neuralab.windows import __all__ as _windows_all

# glibc malloc keeps freed arrays for reuse instead of mapping them afresh each training step
# (neuralab.kernels.allocator; NEURALAB_MALLOC=system leaves malloc as it was).
_tune_malloc_at_import()

bool_ = bool


def is_tensor(obj: object) -> bool:
    """Whether ``obj`` is a neuralab Tensor."""
    return isinstance(obj, Tensor)


def numel(x: Tensor) -> int:
    """The number of elements of ``x``."""
    return x.numel()

__version__ = "0.1.0"

__all__ = [
    "accelerator", "arange", "as_tensor", "autograd", "backends", "bfloat16", "bool_",
    "BoolTensor", "ByteTensor", "CharTensor", "complex128", "complex64", "cuda", "data", "device",
    "distributions",
    "func",
    "double", "DoubleTensor", "get_default_device", "set_default_device",
    "dtype", "empty", "empty_like", "enable_grad", "export_state_dict", "eye", "float16",
    "float32", "float64", "FloatTensor", "from_numpy", "full", "full_like", "Function",
    "Generator", "get_default_dtype", "get_kernels", "get_num_threads", "gradcheck",
    "GradcheckError", "half", "HalfTensor", "int16", "int32", "int64", "int8", "interop",
    "IntTensor", "is_floating_point", "is_grad_enabled", "is_tensor", "linalg", "linspace", "load",
    "load_torch_state_dict", "logspace", "long", "LongTensor", "manual_seed", "models", "nn",
    "no_grad", "norm", "numel", "ones", "ones_like", "optim", "promote_types", "rand", "rand_like",
    "randint", "randint_like", "randn", "randn_like", "randperm", "result_type", "save",
    "set_default_dtype", "set_grad_enabled", "set_kernels", "set_num_threads", "short",
    "ShortTensor", "Size", "summary", "Tensor", "tensor", "to_torch_state_dict", "train", "uint8",
    "use_kernels", "utils", "zeros", "zeros_like", *_ops_all,
    "broadcast_shapes", "get_rng_state", "inference_mode", "initial_seed", "is_complex",
    "is_inference_mode_enabled", "is_nonzero", "is_same_size", "is_signed", "seed",
    "set_rng_state", *_runtime_all, *_windows_all, "is_anomaly_enabled",
    "is_anomaly_check_nan_enabled",
]
