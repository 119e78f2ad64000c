"""PyTorch's torch-level settings and utilities that are not ops, and the last Tensor methods.

* dtype facts: ``finfo``/``iinfo``, ``can_cast``, ``typename``;
* settings PyTorch programs call: ``set_printoptions`` (neuralab's tensor repr follows it),
  deterministic algorithms (neuralab is always deterministic: the flag is recorded),
  float32 matmul precision, inter-op threads, ``set_default_tensor_type``;
* ``compile``: no compiler here; a Module comes back wrapped as PyTorch's ``OptimizedModule``
  (state-dict keys prefixed ``_orig_mod.``), a function unchanged;
* factories: ``asarray``, ``scalar_tensor``, ``empty_strided``;
* the torch-level twins of in-place Tensor methods (``torch.abs_(x)`` is ``x.abs_()``),
  ``torch.fill``;
* Tensor methods: random in-place fills (``exponential_``, ``geometric_``, ``cauchy_``,
  ``log_normal_``), ``fill_diagonal_``, ``resize_``/``resize_as_``, the storage and layout flags
  (all False), ``conj``/``real``/``resolve_conj``... of real tensors, ``bfloat16()``.
"""

from __future__ import annotations

import math
import sys
import warnings
from typing import Any

from neuralab import backend, dtypes
from neuralab.autograd import grad_mode
from neuralab.autograd import tensor as _tensor_module
from neuralab.autograd.tensor import Tensor, dtype_of_type_name
from neuralab.backend import xp

__all__ = [
    "finfo", "iinfo", "can_cast", "typename", "set_printoptions",
    "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
    "is_deterministic_algorithms_warn_only_enabled", "set_float32_matmul_precision",
    "get_float32_matmul_precision", "get_num_interop_threads", "set_num_interop_threads",
    "set_default_tensor_type", "compile", "asarray", "scalar_tensor",
    "empty_strided", "fill",
]


# --------------------------------------------------------------------------- dtype facts
def _dtype_arg(op: str, type: Any) -> Any:  # noqa: A002
    if type is None:
        return dtypes.get_default_dtype().dtype
    return xp.dtype(dtypes.as_numpy(type, op))


class finfo:  # noqa: N801  (PyTorch's name)
    """Machine limits of a floating dtype: ``bits``, ``eps``, ``max``, ``min``, ``tiny``
    (= ``smallest_normal``), ``resolution`` and ``dtype`` (its name)."""

    def __init__(self, type: Any = None):  # noqa: A002
        np_dtype = _dtype_arg("finfo", type)
        if np_dtype.kind not in "fc":
            raise TypeError(f"torch.finfo() requires a floating point input type. Use "
                            f"torch.iinfo to handle '{dtypes.of(np_dtype)}'")
        info = xp.finfo(np_dtype)
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)
        self.dtype = str(info.dtype)

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:  # noqa: N801  (PyTorch's name)
    """Limits of an integer dtype: ``bits``, ``max``, ``min`` and ``dtype`` (its name)."""

    def __init__(self, type: Any):  # noqa: A002
        np_dtype = _dtype_arg("iinfo", type)
        if np_dtype.kind not in "iu":
            raise TypeError(f"torch.iinfo() requires an integer input type. Use torch.finfo "
                            f"to handle '{dtypes.of(np_dtype)}'")
        info = xp.iinfo(np_dtype)
        self.bits, self.max, self.min = int(info.bits), int(info.max), int(info.min)
        self.dtype = str(info.dtype)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


def can_cast(from_: Any, to: Any) -> bool:
    """Whether PyTorch's casting rules allow ``from_`` → ``to`` (no category lost: bool →
    integer → floating → complex)."""
    return bool(dtypes.can_cast(from_, to))


def typename(obj: Any) -> str:
    """A string naming the type of ``obj`` (``'torch.FloatTensor'`` style for tensors)."""
    if isinstance(obj, Tensor):
        return obj.type().replace("neuralab.", "torch.", 1)
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    if module in ("", "builtins"):
        return qualname
    return f"{module}.{qualname}"


# --------------------------------------------------------------------------- print options
_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """How tensors print: digits after the point, the element count above which a tensor is
    summarised (``edgeitems`` per edge), the line width, a ``profile`` ("default", "short",
    "full") and ``sci_mode`` (True: scientific notation; False: never; None: automatic)."""
    options = _tensor_module._PRINT_OPTIONS
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, "
                             f"got {profile!r}")
        settings = dict(_PROFILES[profile])
        options.pop("formatter", None)
        options["suppress_small"] = True
    else:
        settings = {}
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            settings[key] = value
    for key, value in settings.items():
        if key == "threshold":
            options["threshold"] = sys.maxsize if value == math.inf else int(value)
        elif key == "linewidth":
            options["max_line_width"] = int(value)
        else:
            options[key] = int(value)
    if sci_mode is not None or profile is not None:
        options.pop("formatter", None)
        options["suppress_small"] = True
    if sci_mode:
        digits = options["precision"]
        options["formatter"] = {"float_kind": lambda v: f"{v:.{digits}e}"}
    elif sci_mode is False:
        options["suppress_small"] = True
        options["floatmode"] = "fixed"
    else:
        options.pop("floatmode", None)


# --------------------------------------------------------------------------- global flags
_flags = {"deterministic": False, "warn_only": False, "matmul_precision": "highest",
          "interop_threads": 1}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Record the flag (neuralab's algorithms are deterministic whatever it says)."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms: mode must be a bool, got {mode!r}")
    _flags["deterministic"], _flags["warn_only"] = mode, bool(warn_only) and mode


def are_deterministic_algorithms_enabled() -> bool:
    """The flag of ``use_deterministic_algorithms``."""
    return _flags["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """Whether ``use_deterministic_algorithms(True, warn_only=True)`` is in force."""
    return _flags["warn_only"]


def set_float32_matmul_precision(precision: str) -> None:
    """"highest", "high" or "medium" (recorded; NumPy's float32 matmul is always full
    precision)."""
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"set_float32_matmul_precision: invalid precision {precision!r}; "
                           "expected 'highest', 'high' or 'medium'")
    _flags["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    """The value given to ``set_float32_matmul_precision`` ("highest" by default)."""
    return _flags["matmul_precision"]


def get_num_interop_threads() -> int:
    """The inter-op thread count (neuralab runs ops one after another: 1 unless set)."""
    return _flags["interop_threads"]


def set_num_interop_threads(nthreads: int) -> None:
    """Record the inter-op thread count (a positive integer)."""
    if isinstance(nthreads, bool) or not isinstance(nthreads, int) or nthreads < 1:
        raise RuntimeError(f"set_num_interop_threads: expected a positive number of threads, "
                           f"got {nthreads!r}")
    _flags["interop_threads"] = nthreads


def set_default_tensor_type(t: Any) -> None:
    """Deprecated in PyTorch: FloatTensor / DoubleTensor (or their names) set the default
    dtype."""
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
                  UserWarning, stacklevel=2)
    name = t if isinstance(t, str) else getattr(t, "__name__", repr(t))
    np_dtype = xp.dtype(dtype_of_type_name(name))
    if np_dtype.kind != "f":
        raise TypeError(f"set_default_tensor_type: only floating-point types are supported as "
                        f"the default type, got {name}")
    dtypes.set_default_dtype(np_dtype)


# --------------------------------------------------------------------------- compile
def _module_class() -> type:
    from neuralab.nn.module import Module

    return Module


def _make_optimized_module() -> type:
    Module = _module_class()  # noqa: N806

    class OptimizedModule(Module):
        """What ``compile(module)`` returns: calls go to ``_orig_mod``, whose parameters appear
        under ``_orig_mod.`` in the state dict (as PyTorch's compiled modules)."""

        def __init__(self, mod: Any, **options: Any):
            super().__init__()
            self._orig_mod = mod
            self._compile_options = options

        def forward(self, *args: Any, **kwargs: Any) -> Any:
            return self._orig_mod(*args, **kwargs)

        def __getattr__(self, name: str) -> Any:
            try:
                return super().__getattr__(name)
            except AttributeError:
                if name.startswith("__") or "_modules" not in self.__dict__:
                    raise
                return getattr(self.__dict__["_modules"]["_orig_mod"], name)

    OptimizedModule.__qualname__ = "OptimizedModule"
    return OptimizedModule


def __getattr__(name: str) -> Any:
    if name == "OptimizedModule":
        cls = _make_optimized_module()
        globals()["OptimizedModule"] = cls
        return cls
    raise AttributeError(f"module 'neuralab.runtime' has no attribute '{name}'")


def compile(model: Any = None, *, fullgraph: bool = False, dynamic: bool | None = None,  # noqa: A001
            backend: Any = "inductor", mode: str | None = None, options: dict | None = None,
            disable: bool = False) -> Any:
    """No compiler in neuralab: a Module is wrapped as PyTorch's ``OptimizedModule`` (its
    ``_orig_mod`` runs each call), a function returned unchanged. Without ``model`` returns a
    decorator, as ``@torch.compile(mode=...)``."""
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    if mode not in (None, "default", "reduce-overhead", "max-autotune",
                    "max-autotune-no-cudagraphs"):
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: default, "
                           "reduce-overhead, max-autotune, max-autotune-no-cudagraphs")
    settings = {"fullgraph": fullgraph, "dynamic": dynamic, "backend": backend, "mode": mode,
                "options": options, "disable": disable}
    if model is None:
        return lambda fn: compile(fn, **settings)
    if isinstance(model, _module_class()):
        return __getattr__("OptimizedModule")(model, **settings)
    if not callable(model):
        raise RuntimeError(f"compile: expected a Module or a callable, got "
                           f"{type(model).__name__}")
    return model


# --------------------------------------------------------------------------- factories
def asarray(obj: Any, *, dtype: Any = None, device: Any = None, copy: bool | None = None,
            requires_grad: bool = False) -> Tensor:
    """``obj`` as a tensor, sharing memory with a tensor or NumPy array when the dtype allows
    (``copy=True`` always copies; ``copy=False`` raises where a copy would be needed)."""
    from neuralab.factories import tensor as make_tensor

    if device is not None and str(device) not in ("cpu", "cpu:0"):
        from neuralab import devices

        devices.check(device, "asarray")
    np_dtype = None if dtype is None else dtypes.as_numpy(dtype, "asarray")
    source = obj.array if isinstance(obj, Tensor) else obj
    if isinstance(source, xp.ndarray) or (isinstance(obj, Tensor)):
        needs_copy = np_dtype is not None and xp.dtype(np_dtype) != source.dtype
        if copy is False and needs_copy:
            raise ValueError(f"asarray: copy=False, but converting {source.dtype} to "
                             f"{xp.dtype(np_dtype)} needs a copy")
        if copy or needs_copy:
            array = xp.array(source, dtype=np_dtype, copy=True)
        else:
            if isinstance(obj, Tensor) and not requires_grad:
                return obj
            array = source
        out = Tensor._from_op(array, None, 0)
    else:
        if copy is False:
            raise ValueError(f"asarray: copy=False, but a {type(obj).__name__} must be copied "
                             "into a tensor")
        out = make_tensor(obj, dtype=dtype)
    return out.requires_grad_(True) if requires_grad else out


def scalar_tensor(s: Any, *, dtype: Any = None, layout: Any = None, device: Any = None,
                  requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A 0-d tensor holding ``s``, of the default floating dtype unless ``dtype`` is given."""
    if isinstance(s, Tensor):
        s = s.item()
    np_dtype = dtypes.get_default_dtype().dtype if dtype is None else dtypes.as_numpy(
        dtype, "scalar_tensor")
    out = Tensor._from_op(xp.asarray(s, dtype=np_dtype), None, 0)
    return out.requires_grad_(True) if requires_grad else out


def empty_strided(size: Any, stride: Any, *, dtype: Any = None, layout: Any = None,
                  device: Any = None, requires_grad: bool = False,
                  pin_memory: bool = False) -> Tensor:
    """An uninitialised tensor of ``size`` (neuralab's memory is always row-major: ``stride``
    is checked for length and sign, then the tensor is contiguous)."""
    from neuralab.factories import empty

    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride):
        raise RuntimeError(f"empty_strided: mismatch in length of strides and shape: size "
                           f"{list(size)}, stride {list(stride)}")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"empty_strided: strides must be non-negative, got {list(stride)}")
    return empty(*size, dtype=dtype, requires_grad=requires_grad)


def fill(input: Tensor, value: Any) -> Tensor:  # noqa: A002
    """A new tensor of ``input``'s shape and dtype filled with ``value``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fill: input must be a Tensor, got {type(input).__name__}")
    return input.clone().fill_(value)


# --------------------------------------------------------------------------- in-place twins
def _twin(name: str) -> Any:
    def inplace(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:  # noqa: A002
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not "
                            f"{type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)

    inplace.__name__ = inplace.__qualname__ = name
    inplace.__doc__ = f"``input.{name}(...)``: the Tensor method, called as a function."
    return inplace


INPLACE_TWINS = (
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_",
    "arctan_", "arctanh_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_",
    "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_", "detach_", "erf_",
    "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "gcd_",
    "index_put_", "lcm_", "ldexp_", "log10_", "log1p_", "log2_", "log_", "logit_",
    "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_", "round_", "rsqrt_",
    "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_",
    "xlogy_", "zero_",
)
for _name in INPLACE_TWINS:
    globals()[_name] = _twin(_name)
__all__ += list(INPLACE_TWINS)


# --------------------------------------------------------------------------- Tensor methods
def _random_fill(op: str, draw: Any) -> Any:
    def method(self: Tensor, *args: Any, generator: Any = None) -> Tensor:
        if not self.is_floating_point():
            raise RuntimeError(f"{op} expects floating point dtypes, got {self.dtype}")
        sample = draw(backend.as_rng(generator), self.shape, *args)

        def fast() -> None:
            self.array[...] = sample

        return self._inplace(op, None, fast=fast)

    method.__name__ = op
    return method


def _check_positive(op: str, name: str, value: float, strict: bool = True) -> None:
    if not (value > 0 if strict else value >= 0):
        raise RuntimeError(f"{op} expects {name} {'>' if strict else '>='} 0.0, but found "
                           f"{name}={value}")


def _exponential(rng: Any, shape: tuple, lambd: float = 1.0) -> Any:
    _check_positive("exponential_", "lambda", lambd, strict=False)
    return rng.exponential(1.0 / lambd, size=shape) if lambd > 0 else xp.full(shape, xp.inf)


def _geometric(rng: Any, shape: tuple, p: float) -> Any:
    if not 0 < p <= 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1], but got p={p}")
    return rng.geometric(p, size=shape)


def _cauchy(rng: Any, shape: tuple, median: float = 0.0, sigma: float = 1.0) -> Any:
    _check_positive("cauchy_", "sigma", sigma)
    return median + sigma * rng.standard_cauchy(size=shape)


def _log_normal(rng: Any, shape: tuple, mean: float = 1.0, std: float = 2.0) -> Any:
    _check_positive("log_normal_", "std", std)
    return rng.lognormal(mean, std, size=shape)


def _fill_diagonal_(self: Tensor, fill_value: Any, wrap: bool = False) -> Tensor:
    """Fill the main diagonal (every dimension's index equal) with ``fill_value``, in place;
    ``wrap`` restarts it every N+1 rows of a tall matrix."""
    if self.ndim < 2:
        raise RuntimeError(f"fill_diagonal_: dimensions must larger than 1, got {self.ndim}")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("fill_diagonal_: all dimensions of input must be of equal length, "
                           f"got {list(self.shape)}")
    mask = xp.zeros(self.shape, dtype=xp.bool_)
    xp.fill_diagonal(mask, True, wrap=wrap)
    number = fill_value.item() if isinstance(fill_value, Tensor) else fill_value

    def fast() -> None:
        self.array[mask] = number

    def compute(old: Tensor) -> Tensor:
        from neuralab import ops

        return ops.masked_fill(old, Tensor(mask), number)

    return self._inplace("fill_diagonal_", compute, fast=fast)


def _resize_(self: Tensor, *sizes: Any, memory_format: Any = None) -> Tensor:
    """Reshape in place to ``sizes``, keeping the first elements in row-major order (new ones
    are uninitialised; here zeros)."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    sizes = tuple(int(s) for s in sizes)
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(sizes)}")
    if self._requires_grad and grad_mode.is_enabled():
        raise RuntimeError("cannot resize variables that require grad")
    if tuple(self.shape) == sizes:
        return self
    flat = self.array.reshape(-1)
    n = math.prod(sizes)
    new = xp.zeros(n, dtype=self.array.dtype)
    keep = min(n, flat.size)
    new[:keep] = flat[:keep]
    self.array = new.reshape(sizes)
    self._base = None
    self._bump_version()
    return self


def _imag(self: Tensor) -> Tensor:
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def _bfloat16(self: Tensor, memory_format: Any = None) -> Tensor:
    raise TypeError("bfloat16(): NumPy has no bfloat16 type, so neuralab has none; its "
                    "floating dtypes are float16 (x.half()), float32 (x.float()) and float64 "
                    "(x.double())")


def _itself(self: Tensor) -> Tensor:
    return self


def _false(self: Tensor) -> bool:
    return False


def install() -> None:
    """Attach the Tensor methods above."""
    Tensor.exponential_ = _random_fill("exponential_", _exponential)
    Tensor.geometric_ = _random_fill("geometric_", _geometric)
    Tensor.cauchy_ = _random_fill("cauchy_", _cauchy)
    Tensor.log_normal_ = _random_fill("log_normal_", _log_normal)
    Tensor.fill_diagonal_ = _fill_diagonal_
    Tensor.resize_ = _resize_
    Tensor.resize_as_ = lambda self, other, memory_format=None: _resize_(self, tuple(other.shape))
    for name in ("is_pinned", "is_shared", "is_conj", "is_neg"):
        setattr(Tensor, name, _false)
    for name in ("is_meta", "is_sparse", "is_quantized", "is_nested", "is_mkldnn"):
        setattr(Tensor, name, property(_false))
    Tensor.conj = Tensor.resolve_conj = Tensor.resolve_neg = _itself
    Tensor.conj_physical = lambda self: self.clone()
    Tensor.real = property(_itself, doc="The real part: a real tensor itself.")
    Tensor.imag = property(_imag, doc="Complex tensors only (raises for real ones).")
    Tensor.bfloat16 = _bfloat16
    from neuralab.ops.extras import renorm

    def renorm_(self: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
        return self._inplace("renorm_", lambda old: renorm(old, p, dim, maxnorm))

    Tensor.renorm_ = renorm_


install()
