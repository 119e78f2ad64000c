"""Questions about tensors and shapes, with PyTorch's names: ``broadcast_shapes``,
``is_nonzero``, ``is_same_size``, ``is_signed``, ``is_complex``, and the Tensor attributes of
PyTorch's memory model that have a fixed answer on neuralab's CPU-only NumPy arrays
(``is_cpu``, ``get_device``, ``pin_memory``, ``share_memory_``, ``storage_offset``).

None is an op (no tensor comes out), so none is in ``neuralab.ops.__all__``; the package
exports them by name.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.tensor import Size, Tensor
from neuralab.backend import xp

__all__ = ["broadcast_shapes", "is_nonzero", "is_same_size", "is_signed", "is_complex"]


def _tensor(op: str, value: Any) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(value).__name__}")
    return value


def broadcast_shapes(*shapes: Any) -> Size:
    """The shape that tensors of ``shapes`` broadcast to, without making them: each shape is a
    sequence of ints or one int (``broadcast_shapes((2, 1), (3,))`` is ``Size([2, 3])``)."""
    normal = []
    for i, shape in enumerate(shapes):
        dims = (shape,) if isinstance(shape, (int, xp.integer)) else tuple(shape)
        if any(isinstance(d, bool) or not isinstance(d, (int, xp.integer)) for d in dims):
            raise TypeError(f"broadcast_shapes: shape {i} must be an int or a sequence of ints, "
                            f"got {shape!r}")
        if any(d < 0 for d in dims):
            raise ValueError(f"broadcast_shapes: attempting to broadcast a dimension with "
                             f"negative length: shape {i} is {dims}")
        normal.append(dims)
    try:
        return Size(xp.broadcast_shapes(*normal)) if normal else Size(())
    except ValueError:
        listed = ", ".join(str(s) for s in normal)
        raise ValueError(f"broadcast_shapes: shapes {listed} cannot be broadcast together; "
                         "trailing dimensions must be equal or 1") from None


def is_nonzero(input: Tensor) -> bool:  # noqa: A002
    """Whether the single element of ``input`` is nonzero (an error for 0 or several elements)."""
    x = _tensor("is_nonzero", input)
    if x.numel() != 1:
        raise RuntimeError(f"is_nonzero: the truth value of a tensor with {x.numel()} elements "
                           "is ambiguous; it needs exactly one")
    return bool(x.array.reshape(()) != 0)


def is_same_size(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    """Whether the two tensors have the same shape."""
    return tuple(_tensor("is_same_size", input).shape) == tuple(
        _tensor("is_same_size", other).shape)


def is_signed(input: Tensor) -> bool:  # noqa: A002
    """Whether the dtype can hold negative values (floats and signed integers; not uint8 or
    bool)."""
    return _tensor("is_signed", input).array.dtype.kind in "ifc"


def is_complex(input: Tensor) -> bool:  # noqa: A002
    """Whether the dtype is complex (False for every real tensor)."""
    return _tensor("is_complex", input).array.dtype.kind == "c"


def _root(t: Tensor) -> Tensor:
    while t._base is not None and t._base is not t:
        t = t._base
    return t


def storage_offset(self: Tensor) -> int:
    """Where this tensor's first element lies in its storage, in elements (0 unless it is a view
    into another tensor's memory that starts later, as ``x[1:]``)."""
    base = _root(self)
    if base is self:
        return 0
    low, _ = xp.lib.array_utils.byte_bounds(base.array)
    return (self.data_ptr() - low) // self.array.itemsize


def _get_device(self: Tensor) -> int:
    """The CUDA device index, or -1 for a CPU tensor (every neuralab tensor)."""
    return -1


def _pin_memory(self: Tensor, device: Any = None) -> Tensor:
    """The tensor itself: page-locked memory only matters for copies to a GPU."""
    return self


def _share_memory_(self: Tensor) -> Tensor:
    """The tensor itself. neuralab does not move tensors into shared memory: a worker process
    sees the values the tensor had when it was forked or sent."""
    return self


def install() -> None:
    Tensor.is_cpu = property(lambda self: True, doc="True: every neuralab tensor is on the CPU.")
    Tensor.get_device = _get_device
    Tensor.pin_memory = _pin_memory
    Tensor.share_memory_ = _share_memory_
    Tensor.storage_offset = storage_offset
    Tensor.is_nonzero = is_nonzero
    Tensor.is_same_size = is_same_size
    Tensor.is_signed = is_signed


install()
