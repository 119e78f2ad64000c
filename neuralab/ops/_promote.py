"""PyTorch's type promotion for the operands of an elementwise op.

NumPy and PyTorch disagree on mixed dtypes: NumPy turns int64 + float32 into float64, PyTorch keeps
float32; PyTorch also lets a 0-d tensor or a Python number change the category of the result
(bool < integer < floating) but never its width within a category. The rule, as PyTorch's
``torch.result_type``:

1. the dimensioned tensors promote among themselves (int64 with float32 is float32: the floating
   operand wins and keeps its width);
2. 0-d tensors count only if their category is higher than the result so far;
3. Python numbers count only if their category is higher, and then give the default dtype of that
   category (float32 for a float, int64 for an int).

The helpers below apply this rule and cast the operands (differentiably) before the op runs, so
that every op's forward sees arrays of one dtype.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import default_float_dtype, xp


class Cast(Function):
    """z = x converted to another dtype.   x̄ = z̄ converted back to x's dtype."""

    @staticmethod
    def forward(ctx, x, dtype=None):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, dout):
        return dout.astype(ctx.dtype)


def cast(x: Tensor, dtype: Any) -> Tensor:
    """``x`` as ``dtype`` (differentiable between floating dtypes); ``x`` itself if it matches."""
    dtype = xp.dtype(dtype)
    if x.dtype == dtype:
        return x
    return Cast.apply(x, dtype=dtype)


def _category(dtype: Any) -> int:
    return {"b": 0, "i": 1, "u": 1, "f": 2}.get(xp.dtype(dtype).kind, 3)


def _promote_group(dtypes: list) -> Any:
    """Promote dtypes the PyTorch way: the highest category wins, widths promote within it."""
    top = max(_category(d) for d in dtypes)
    same = [xp.dtype(d) for d in dtypes if _category(d) == top]
    return xp.result_type(*same)


def result_type(*operands: Any) -> Any:
    """The dtype PyTorch gives an elementwise op on these operands (Tensors, arrays, numbers)."""
    dimensioned, zero_dim, numbers = [], [], []
    for v in operands:
        if isinstance(v, Tensor):
            (dimensioned if v.ndim else zero_dim).append(v.dtype)
        elif isinstance(v, bool):
            numbers.append(xp.dtype(xp.bool_))
        elif isinstance(v, int):
            numbers.append(xp.dtype(xp.int64))
        elif isinstance(v, float):
            numbers.append(default_float_dtype())
        else:
            t = Tensor(v)
            (dimensioned if t.ndim else zero_dim).append(t.dtype)
    dtype = _promote_group(dimensioned) if dimensioned else None
    if zero_dim:
        z = _promote_group(zero_dim)
        if dtype is None or _category(z) > _category(dtype):
            dtype = z
    if numbers:
        n = _promote_group(numbers)
        if dtype is None or _category(n) > _category(dtype):
            dtype = n
    return dtype


def as_dtype(value: Any, dtype: Any) -> Tensor:
    """``value`` as a Tensor of ``dtype``: a differentiable cast for Tensors, a constant else."""
    if isinstance(value, Tensor):
        return cast(value, dtype)
    return Tensor(value, dtype=dtype)


def promote(*operands: Any, floating: bool = False) -> list[Tensor]:
    """The operands as Tensors of their common PyTorch dtype.

    ``floating=True`` makes an integer or bool result float32 (as ``torch.div``, ``torch.atan2``).
    """
    if all(isinstance(v, Tensor) for v in operands) and len({v.dtype for v in operands}) == 1 \
            and (not floating or operands[0].dtype.kind == "f"):
        return list(operands)  # the common case: nothing to promote
    if len(operands) == 2:  # the next most common: a floating tensor and a Python number
        a, b = operands
        if isinstance(b, Tensor):
            a, b = b, a
        if isinstance(a, Tensor) and a.array.dtype.kind == "f" and \
                isinstance(b, (int, float)) and not isinstance(b, bool):
            number = Tensor._from_op(xp.asarray(b, dtype=a.array.dtype), None, 0)
            return [a, number] if operands[0] is a else [number, a]
    dtype = result_type(*operands)
    if floating and _category(dtype) < 2:
        dtype = default_float_dtype()
    return [as_dtype(v, dtype) for v in operands]


def floating(x: Any) -> Tensor:
    """A Tensor for a floating-point function: integers and bools become float32 (as PyTorch)."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.dtype.kind != "f":
        return as_dtype(x, default_float_dtype())
    return x
