"""Validation helpers shared by the ops: messages name the op, the argument and what arrived."""

from __future__ import annotations

from typing import Any

from neuralab.backend import xp


def broadcast_shape(op: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The broadcast shape of the operands, or a ValueError that names the op and the shapes."""
    if all(s == shapes[0] for s in shapes):  # the common case, without NumPy's overhead
        return tuple(shapes[0])
    try:
        return xp.broadcast_shapes(*shapes)
    except ValueError:
        listed = " and ".join(str(tuple(s)) for s in shapes)
        raise ValueError(
            f"{op}: shapes {listed} cannot be broadcast together; trailing dimensions must be "
            "equal or 1 (add a dimension with unsqueeze or reshape one operand)"
        ) from None


def require_float(op: str, name: str, tensor: Any) -> None:
    if tensor.dtype.kind != "f":
        raise TypeError(
            f"{op}: {name} must be a floating-point tensor, got {tensor.dtype}; convert it with "
            ".float()"
        )


def normalize_dim(op: str, dim: int, ndim: int) -> int:
    """A dimension index in [0, ndim), accepting negatives as in PyTorch."""
    if isinstance(dim, bool) or not isinstance(dim, (int, xp.integer)):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    bound = max(ndim, 1)
    if not -bound <= dim < bound:
        raise IndexError(
            f"{op}: dim {dim} is out of range for a tensor with {ndim} dimension(s) "
            f"(expected a value in [{-bound}, {bound - 1}])"
        )
    return dim % bound


def normalize_dims(op: str, dim: Any, ndim: int) -> tuple[int, ...] | None:
    """None (all dimensions) or a sorted tuple of distinct non-negative dims."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, xp.integer)) else tuple(dim)
    out = tuple(sorted({normalize_dim(op, d, ndim) for d in dims}))
    if len(out) != len(dims):
        raise ValueError(f"{op}: dim {dim} names a dimension twice")
    return out


class IndexOutOfRange(IndexError, RuntimeError):
    """An index outside its dimension. PyTorch raises IndexError from ``x[i]`` and RuntimeError
    from ``gather``/``scatter``/``index_select``; this error is both, so that either
    ``except`` clause written against PyTorch catches it."""
