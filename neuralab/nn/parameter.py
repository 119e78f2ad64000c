"""``neuralab.nn.parameter``: the tensors a Module registers, as ``torch.nn.parameter``.

* :class:`Parameter`: a weight (defined in ``neuralab.nn.module``, re-exported here);
* :class:`Buffer`: a tensor that assigning to a module attribute registers as a buffer
  (``self.mean = nn.Buffer(t, persistent=False)``), as PyTorch 2.5+;
* :class:`UninitializedParameter` / :class:`UninitializedBuffer`: placeholders whose shape is not
  known yet, used by the lazy modules (``nn.LazyLinear``...). They hold no values; their dtype
  can be changed (``module.double()``) and ``materialize(shape)`` turns them into an ordinary
  Parameter / Tensor of that shape, in place (the same object, so references stay valid).
"""

from __future__ import annotations

from typing import Any

from neuralab import devices, dtypes
from neuralab.autograd.tensor import Tensor
from neuralab.backend import default_float_dtype, xp
from neuralab.nn.module import Parameter

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer", "is_lazy"]

_NO_SHAPE = ("Can't access the shape of an uninitialized parameter or buffer. This error usually "
             "happens in `load_state_dict` when trying to load an uninitialized parameter into "
             "an initialized one. Call `forward` to initialize the parameters before accessing "
             "their attributes.")


class _BufferMeta(type):
    """``isinstance(t, Buffer)`` is true of any Tensor made by ``Buffer(...)`` (PyTorch's rule:
    a Buffer is a plain Tensor marked ``_is_buffer``)."""

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """A Tensor that a Module registers as a buffer when assigned to one of its attributes.

    Buffers are module state that training does not update (batch norm's running mean):
    ``state_dict()`` saves them (unless ``persistent=False``) and ``buffers()`` lists them, but
    ``parameters()`` does not.

    Args:
        data: the tensor (its memory is shared; ``None`` is an empty float tensor).
        persistent: whether the module's ``state_dict()`` includes it.

    Returns:
        A plain Tensor (``data`` detached) marked as a buffer.
    """

    def __new__(cls, data: Any = None, *, persistent: bool = True) -> Tensor:  # type: ignore[misc]
        if data is None:
            data = Tensor(xp.empty((0,), dtype=default_float_dtype()))
        elif not isinstance(data, Tensor):
            raise TypeError(f"Buffer: data must be a Tensor, got {type(data).__name__}")
        t = data.detach()
        if data.requires_grad:
            t.requires_grad_(True)
        t.persistent = bool(persistent)
        t._is_buffer = True
        return t


class _UninitializedMixin:
    """What the uninitialized placeholders share: no shape until ``materialize``."""

    _uninitialized = True  # read by Module.state_dict / load_state_dict (duck-typed there)
    cls_to_become: type = Tensor

    def materialize(self, shape: Any, device: Any = None, dtype: Any = None) -> None:
        """Become an ordinary tensor of ``shape`` (uninitialized values, as ``torch.empty``),
        keeping this dtype unless ``dtype`` is given. The object itself changes class."""
        devices.check(device, f"{type(self).__name__}.materialize")
        dtype = self.array.dtype if dtype is None else dtypes.as_numpy(dtype, "materialize")
        shape = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
        self.array = xp.empty(shape, dtype=dtype)
        object.__setattr__(self, "__class__", self.cls_to_become)

    @property
    def shape(self) -> tuple[int, ...]:
        raise RuntimeError(_NO_SHAPE)

    @property
    def ndim(self) -> int:
        raise RuntimeError(_NO_SHAPE)

    def size(self, dim: int | None = None) -> Any:
        raise RuntimeError(_NO_SHAPE)

    def numel(self) -> int:
        raise RuntimeError(_NO_SHAPE)

    def dim(self) -> int:
        raise RuntimeError(_NO_SHAPE)

    def __len__(self) -> int:
        raise RuntimeError(_NO_SHAPE)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def __deepcopy__(self, memo: dict) -> Any:
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, dtype=self.array.dtype)
        return memo[id(self)]


def _empty(name: str, device: Any, dtype: Any) -> Any:
    devices.check(device, name)
    dtype = default_float_dtype() if dtype is None else dtypes.as_numpy(dtype, name)
    return xp.empty((0,), dtype=dtype)


class UninitializedParameter(_UninitializedMixin, Parameter):
    """A Parameter whose shape is not known yet (a lazy module's weight before its first call).

    Args:
        requires_grad: of the parameter it becomes.
        device: accepted for PyTorch compatibility (the CPU).
        dtype: of the parameter it becomes (the default float dtype otherwise).
    """

    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device: Any = None, dtype: Any = None):
        super().__init__(_empty("UninitializedParameter", device, dtype),
                         requires_grad=requires_grad)


class UninitializedBuffer(_UninitializedMixin, Tensor):
    """A buffer whose shape is not known yet (a lazy batch norm's running statistics).

    Args:
        requires_grad: of the tensor it becomes.
        device: accepted for PyTorch compatibility (the CPU).
        dtype: of the tensor it becomes (the default float dtype otherwise).
        persistent: whether the module's ``state_dict()`` includes it.
    """

    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device: Any = None, dtype: Any = None,
                 persistent: bool = True):
        empty = _empty("UninitializedBuffer", device, dtype)
        super().__init__(empty, dtype=empty.dtype, requires_grad=requires_grad)
        self.persistent = bool(persistent)
        self._is_buffer = True


def is_lazy(param: Any) -> bool:
    """Whether ``param`` is an uninitialized parameter or buffer (PyTorch's ``is_lazy``)."""
    return getattr(param, "_uninitialized", False)
