"""Install the ops as Tensor methods and operators (``x + y``, ``x @ w``, ``x.sum(dim=1)``).

The autograd layer does not import the ops; the ops attach themselves to Tensor here instead,
which keeps the imports one-way. Besides the ops this module installs what is built from them:
dtype and device conversions (``x.to``, ``x.float()``), the in-place methods (``x.add_``,
``x += 1``; ``x[mask] = 0`` is ``ops.indexing.setitem``) and ``x.clone()``.
"""

from __future__ import annotations

from typing import Any

from neuralab import devices, dtypes
from neuralab.autograd import grad_mode
from neuralab.autograd.tensor import Tensor, TensorType, dtype_of_type_name, type_name
from neuralab.autograd.views import Clone
from neuralab.backend import xp
from neuralab.ops._promote import cast
from neuralab.ops.elementwise import clamp


def _swap(fn: Any) -> Any:
    def reflected(self: Tensor, other: Any) -> Tensor:
        return fn(other, self)

    return reflected


def install(ops: Any) -> None:
    """Attach the functions of the ``neuralab.ops`` namespace to Tensor."""
    operators = {
        "__add__": ops.add, "__radd__": _swap(ops.add),
        "__sub__": ops.sub, "__rsub__": _swap(ops.sub),
        "__mul__": ops.mul, "__rmul__": _swap(ops.mul),
        "__truediv__": ops.div, "__rtruediv__": _swap(ops.div),
        "__pow__": ops.pow, "__rpow__": _swap(ops.pow),
        "__matmul__": ops.matmul, "__rmatmul__": _swap(ops.matmul),
        "__neg__": ops.neg,
        "__eq__": ops.eq, "__ne__": ops.ne, "__lt__": ops.lt, "__le__": ops.le,
        "__gt__": ops.gt, "__ge__": ops.ge,
        "__getitem__": ops.getitem, "__setitem__": ops.indexing.setitem,
    }
    for name, fn in operators.items():
        setattr(Tensor, name, fn)
    methods = [
        "add", "sub", "mul", "div", "pow", "matmul", "neg", "exp", "log", "sqrt", "abs", "tanh",
        "sigmoid", "relu", "clamp", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge",
        "sum", "mean", "max", "min", "var", "std", "logsumexp", "softmax", "log_softmax",
        "argmax", "argmin", "reshape", "view", "transpose", "permute", "expand", "squeeze",
        "unsqueeze", "flatten", "split", "chunk", "expand_as", "view_as",
    ]
    methods += [  # indexing, rearranging and linear algebra (ops-index)
        "gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add",
        "index_copy", "index_fill", "masked_fill", "masked_select", "masked_scatter", "take",
        "take_along_dim", "nonzero", "argwhere", "unique", "bincount", "tril", "triu", "roll",
        "flip", "fliplr", "flipud", "rot90", "repeat", "tile", "repeat_interleave", "diag",
        "diagonal", "diag_embed", "trace", "movedim", "moveaxis", "swapaxes", "swapdims",
        "unbind", "unflatten", "broadcast_to", "tensor_split", "hsplit", "vsplit", "narrow",
        "select", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "addmv",
        "addr", "baddbmm", "addbmm", "kron", "cross", "det", "inverse", "index_put", "t",
        "ravel", "adjoint", "diagflat", "put", "index_reduce", "unique_consecutive",
        "matrix_power",
    ]
    for name in ("scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy",
                 "index_fill", "masked_fill", "masked_scatter", "index_put", "tril", "triu", "put",
                 "index_reduce"):
        setattr(Tensor, name + "_", ops.indexing.inplace(getattr(ops, name)))
    for name in methods:
        setattr(Tensor, name, getattr(ops, name))
    Tensor.unfold = ops.rearrange.sliding_windows  # torch's method, not F.unfold
    Tensor.reshape_as = lambda self, other: ops.reshape(self, tuple(other.shape))
    Tensor.mT = property(lambda self: ops.adjoint(self),
                         doc="The last two dimensions swapped (a batch of matrices transposed).")
    Tensor.mH = Tensor.mT  # real tensors: the conjugate transpose is the transpose
    Tensor.H = property(lambda self: ops.t(self), doc="A matrix's (conjugate) transpose.")
    Tensor.T = property(lambda self: ops.permute(self, tuple(reversed(range(self.ndim)))),
                        doc="The tensor with its dimensions reversed (a matrix's transpose).")

    Tensor.clip = ops.clamp
    Tensor.any = lambda self: Tensor._from_op(xp.asarray(self.array.any()), None, 0)
    Tensor.all = lambda self: Tensor._from_op(xp.asarray(self.array.all()), None, 0)
    _install_conversions(ops)
    _install_shape_helpers(ops)
    _install_inplace(ops)


# --------------------------------------------------------------------------- dtype and device
def _parse_to(args: tuple, kwargs: dict) -> tuple[Any, Any, bool]:
    """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)``, keywords."""
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    copy = bool(kwargs.pop("copy", False))
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to: unexpected keyword argument(s) {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, (str, devices.device)) and not _is_dtype_name(arg):
            device = arg
        elif isinstance(arg, bool):
            continue  # PyTorch's positional non_blocking
        elif isinstance(arg, int):
            device = arg  # a CUDA ordinal: devices.check raises the GPU message
        else:
            dtype = arg
    return device, dtype, copy


def _is_dtype_name(arg: Any) -> bool:
    return isinstance(arg, str) and arg.split(".")[-1] in (
        "float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool",
        "float", "double", "half", "long", "int", "short")


def to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """This tensor with another dtype (and/or on a device; only the CPU exists).

    ``x.to(nl.float64)``, ``x.to("cpu")``, ``x.to(device, dtype)``, ``x.to(other)``. Returns
    ``x`` itself when nothing changes (unless ``copy=True``); a floating conversion is
    differentiable.
    """
    device, dtype, copy = _parse_to(args, dict(kwargs))
    devices.check(device, "to")
    out = self
    if dtype is not None:
        out = _cast(self, dtypes.as_numpy(dtype, "to"))
    if copy and out is self:
        out = Clone.apply(self)
    return out


def _cast(x: Tensor, np_dtype: Any) -> Tensor:
    return cast(x, np_dtype)


def _tensor_type(self: Tensor, dtype: Any = None, non_blocking: bool = False,
                 **kwargs: Any) -> Any:
    """With no argument the type name (``'neuralab.FloatTensor'``); else a converted tensor
    (``x.type(nl.float64)``, ``x.type('torch.DoubleTensor')``)."""
    if dtype is None:
        return type_name(self.array.dtype)
    if isinstance(dtype, str) and dtype.endswith("Tensor"):
        return _cast(self, dtype_of_type_name(dtype))
    if isinstance(dtype, TensorType):  # FloatTensor and its family
        return _cast(self, dtype._dtype)
    return _cast(self, dtypes.as_numpy(dtype, "type"))


def _converter(np_dtype: Any, name: str) -> Any:
    def convert(self: Tensor, memory_format: Any = None) -> Tensor:
        return _cast(self, np_dtype)

    convert.__name__ = name
    convert.__doc__ = f"This tensor as {np_dtype.__name__} (itself if it already is)."
    return convert


def _cpu(self: Tensor, memory_format: Any = None) -> Tensor:
    """This tensor (it is already in the CPU's memory)."""
    return self


def _cuda(self: Tensor, device: Any = None, non_blocking: bool = False, **kwargs: Any) -> Tensor:
    """Raises: neuralab has no GPU."""
    raise RuntimeError(devices.NO_GPU.format(kind="cuda"))


def _type_as(self: Tensor, other: Tensor) -> Tensor:
    """This tensor in ``other``'s dtype."""
    return _cast(self, other.array.dtype)


def _install_conversions(ops: Any) -> None:
    Tensor.to = to
    Tensor.type = _tensor_type
    Tensor.type_as = _type_as
    Tensor.cpu = _cpu
    Tensor.cuda = _cuda
    for name, np_dtype in (("float", xp.float32), ("double", xp.float64), ("half", xp.float16),
                           ("long", xp.int64), ("int", xp.int32), ("short", xp.int16),
                           ("char", xp.int8), ("byte", xp.uint8), ("bool", xp.bool_)):
        setattr(Tensor, name, _converter(np_dtype, name))


# --------------------------------------------------------------------------- shape helpers
def _clone(self: Tensor, memory_format: Any = None) -> Tensor:
    """A copy in new memory, differentiable (x̄ = ȳ)."""
    return Clone.apply(self)


def _contiguous(self: Tensor, memory_format: Any = None) -> Tensor:
    """This tensor if its values are in row-major order, else a row-major copy."""
    return self if self.array.flags.c_contiguous else Clone.apply(self, contiguous=True)


def _install_shape_helpers(ops: Any) -> None:
    Tensor.clone = _clone
    Tensor.contiguous = _contiguous


# --------------------------------------------------------------------------- in-place updates
def _array_of(value: Any) -> Any:
    return value.array if isinstance(value, Tensor) else value


def _scaled(other: Any, alpha: Any) -> Any:
    return other if alpha is None or alpha == 1 else other * alpha


def _binary_inplace(name: str, fn: Any, ufunc: Any, float_result: bool = False) -> Any:
    """``x.add_(other, alpha=1)``-style method: ``x = fn(x, alpha · other)`` in place."""

    def method(self: Tensor, other: Any, alpha: Any = None) -> Tensor:
        other = _scaled(other, alpha)
        result = dtypes.result_type_arrays([self, other])
        if float_result and result.kind in "biu":
            result = dtypes.get_default_dtype().dtype
        if not dtypes.can_cast(result, self.array.dtype):
            raise RuntimeError(f"{name}: result type {dtypes.of(result)} can't be cast to the "
                               f"desired output type {self.dtype} (an in-place op keeps the "
                               "tensor's dtype; convert it first, e.g. x = x.float())")

        def fast() -> None:
            try:
                ufunc(self.array, _array_of(other), out=self.array, casting="unsafe")
            except ValueError:
                shape = xp.broadcast_shapes(xp.shape(_array_of(other)), self.shape)
                raise RuntimeError(f"{name}: output with shape {list(self.shape)} doesn't match "
                                   f"the broadcast shape {list(shape)}") from None

        if isinstance(other, Tensor) or isinstance(other, xp.ndarray):
            try:
                shape = xp.broadcast_shapes(xp.shape(_array_of(other)), self.shape)
            except ValueError:
                shape = None
            if shape != tuple(self.shape):
                raise RuntimeError(f"{name}: output with shape {list(self.shape)} doesn't match "
                                   f"the broadcast shape "
                                   f"{list(shape) if shape else list(xp.shape(_array_of(other)))}")
        return self._inplace(name, fn, other, fast=fast)

    method.__name__ = name
    method.__doc__ = f"In place: ``x = {fn.__name__}(x, other)`` (``alpha`` scales ``other``)."
    return method


def _unary_inplace(name: str, fn: Any, **params: Any) -> Any:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return self._inplace(name, lambda old: fn(old, *args, **kwargs, **params))

    method.__name__ = name
    method.__doc__ = f"In place: ``x = {fn.__name__}(x)``."
    return method


def _addcmul_(self: Tensor, t1: Any, t2: Any, value: float = 1) -> Tensor:
    """In place: x += value · t1 · t2."""
    return self._inplace("addcmul_", lambda old, a, b: old + value * a * b, t1, t2)


def _addcdiv_(self: Tensor, t1: Any, t2: Any, value: float = 1) -> Tensor:
    """In place: x += value · t1 / t2."""
    return self._inplace("addcdiv_", lambda old, a, b: old + value * a / b, t1, t2)


def _lerp_(self: Tensor, end: Any, weight: Any) -> Tensor:
    """In place: x += weight · (end − x)."""
    return self._inplace("lerp_", lambda old, e, w: old + w * (e - old), end, weight)


def _clamp_(self: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Clip the values into [min, max], in place."""
    def fast() -> None:
        xp.clip(self.array, min, max, out=self.array)

    return self._inplace("clamp_", lambda old: clamp(old, min=min, max=max), fast=fast)


def _install_inplace(ops: Any) -> None:
    Tensor.add_ = _binary_inplace("add_", ops.add, xp.add)
    Tensor.sub_ = _binary_inplace("sub_", ops.sub, xp.subtract)
    Tensor.mul_ = _binary_inplace("mul_", ops.mul, xp.multiply)
    Tensor.div_ = _binary_inplace("div_", ops.div, xp.true_divide, float_result=True)
    Tensor.pow_ = _binary_inplace("pow_", ops.pow, xp.power)
    Tensor.subtract_, Tensor.multiply_, Tensor.divide_ = Tensor.sub_, Tensor.mul_, Tensor.div_
    Tensor.__iadd__ = lambda self, other: self.add_(other)
    Tensor.__isub__ = lambda self, other: self.sub_(other)
    Tensor.__imul__ = lambda self, other: self.mul_(other)
    Tensor.__itruediv__ = lambda self, other: self.div_(other)
    Tensor.__ipow__ = lambda self, other: self.pow_(other)
    Tensor.clamp_ = _clamp_
    Tensor.clip_ = _clamp_
    Tensor.clamp_min_ = lambda self, min: _clamp_(self, min=min)  # noqa: A006
    Tensor.clamp_max_ = lambda self, max: _clamp_(self, max=max)  # noqa: A006
    Tensor.addcmul_ = _addcmul_
    Tensor.addcdiv_ = _addcdiv_
    Tensor.lerp_ = _lerp_
    for name in ("exp", "log", "neg", "sqrt", "abs", "relu", "sigmoid", "tanh"):
        setattr(Tensor, name + "_", _unary_inplace(name + "_", getattr(ops, name)))
    for name in ELEMENTWISE_TWINS:
        setattr(Tensor, name + "_", _twin_inplace(name + "_", _method(name)))
    for name in SHAPE_TWINS:
        setattr(Tensor, name + "_", _shape_inplace(name + "_", _method(name)))


#: PyTorch's other in-place twins of ops that keep the shape: ``x.op_(*args)`` writes
#: ``op(x, *args)`` into x (in x's dtype: an integer tensor refuses a float result).
ELEMENTWISE_TWINS = (
    "absolute", "acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2",
    "arctanh", "asin", "asinh", "atan", "atan2", "atanh", "bitwise_and", "bitwise_not",
    "bitwise_or", "bitwise_xor", "ceil", "copysign", "cos", "cosh", "cumprod", "cumsum",
    "deg2rad", "eq", "erf", "erfc", "erfinv", "exp2", "expm1", "fix", "float_power", "floor",
    "floor_divide", "fmod", "frac", "gcd", "ge", "gt", "heaviside", "hypot", "lcm", "le", "log10",
    "log1p", "log2", "logical_and", "logical_not", "logical_or", "logical_xor", "logit", "lt",
    "nan_to_num", "ne", "negative", "rad2deg", "reciprocal", "remainder", "round", "rsqrt", "sgn",
    "sign", "sin", "sinc", "sinh", "square", "tan", "trunc", "true_divide", "xlogy",
    "addmm", "addmv", "addr", "addbmm", "baddbmm",
)
#: In-place shape changes: ``x.t_()`` makes x the view ``x.t()`` of the same memory.
SHAPE_TWINS = ("squeeze", "unsqueeze", "t", "transpose", "swapaxes", "swapdims")


def _method(name: str) -> Any:
    """Tensor's method ``name``, looked up when called (some are installed after this module)."""
    return lambda self, *args, **kwargs: getattr(Tensor, name)(self, *args, **kwargs)


def _twin_inplace(name: str, op: Any) -> Any:
    """``x.op_(*args, **kwargs)``: ``x = op(x, *args, **kwargs)`` in place; tensor arguments are
    recorded as operands, so gradients reach them inside a graph as they do with ``add_``."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return self._inplace(name, lambda old, *operands: op(old, *operands, **kwargs), *args)

    method.__name__ = name
    method.__doc__ = f"In place: ``x = x.{name[:-1]}(...)``, written into x's memory."
    return method


def _shape_inplace(name: str, op: Any) -> Any:
    """``x.t_()``-style method: x becomes the view ``op(x, ...)`` of its own memory (the values
    do not move); inside a graph x takes the view's place, as PyTorch rebases it."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        record = grad_mode.is_enabled() and self._requires_grad
        if record:
            self._check_inplace(name)  # a leaf that requires grad refuses, as in PyTorch
        current = Tensor._from_op(self.array, None, 0)  # x's memory and history, before
        current._ctx, current._index = self._ctx, self._index
        current._requires_grad = self._requires_grad
        view = op(current, *args, **kwargs)
        self.array = view.array
        if record:
            self._take_history(view)
        self._bump_version()
        return self

    method.__name__ = name
    method.__doc__ = f"In place: x becomes the view ``x.{name[:-1]}(...)`` of its own memory."
    return method
