"""Views and in-place updates inside the graph: what lets ``x[0] = y`` and ``v.mul_(2)`` on a view
be differentiated as PyTorch differentiates them.

A view shares its base's memory: its elements are the base's elements at an offset with strides.
When a view is changed in place while a graph is recorded, the base's new value is "the old base
with the view's elements replaced" (:class:`CopySlices`), and the view becomes a strided view of
the new base again (:class:`AsStrided`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp


def layout_in(base: Any, view: Any, op: str) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
    """(offset, shape, strides) of ``view`` inside ``base``'s row-major memory, in elements."""
    b, v = base.array, view.array
    if not b.flags.c_contiguous:
        raise RuntimeError(f"{op}: an in-place change of a view is only recorded for a base "
                           "tensor in row-major (contiguous) memory; call .contiguous() on the "
                           "base first, or modify a .clone()")
    size = b.itemsize
    offset = v.__array_interface__["data"][0] - b.__array_interface__["data"][0]
    strides = tuple(s // size for s in v.strides)
    if any(s == 0 and n > 1 for s, n in zip(strides, v.shape)):
        raise RuntimeError(f"{op}: unsupported operation: more than one element of the "
                           "written-to tensor refers to a single memory location (an expanded "
                           "view); call .clone() before the in-place operation")
    return offset // size, tuple(v.shape), strides


def strided(a: Any, layout: tuple) -> Any:
    """The view of row-major ``a`` (shaped like the base) that ``layout`` describes."""
    offset, shape, strides = layout
    flat = a.reshape(-1)
    return xp.lib.stride_tricks.as_strided(flat[offset:], shape=shape,
                                           strides=tuple(s * a.itemsize for s in strides))


class CopySlices(Function):
    """y = x with the elements of one view of it replaced by v.

    x̄ = ȳ with the view's elements set to 0 (they were overwritten);  v̄ = ȳ at the view.
    """

    @staticmethod
    def forward(ctx, x, v, layout=None):
        ctx.layout, ctx.shape, ctx.v_dtype = layout, x.shape, v.dtype
        y = xp.array(x, order="C", copy=True)
        strided(y, layout)[...] = v
        return y

    @staticmethod
    def backward(ctx, dout):
        dout = xp.ascontiguousarray(dout)
        dv = strided(dout, ctx.layout).astype(ctx.v_dtype) if ctx.needs_input_grad[1] else None
        dx = None
        if ctx.needs_input_grad[0]:
            dx = dout.copy()
            strided(dx, ctx.layout)[...] = 0
        return dx, dv


class AsStrided(Function):
    """y = the view of x that ``layout`` describes (sharing x's memory).

    x̄ = zeros with ȳ written at the view's elements.
    """

    @staticmethod
    def forward(ctx, x, layout=None):
        ctx.layout, ctx.shape = layout, x.shape
        return strided(x, layout)

    @staticmethod
    def backward(ctx, dout):
        dx = xp.zeros(ctx.shape, dtype=dout.dtype)
        strided(dx, ctx.layout)[...] = dout
        return dx


class Clone(Function):
    """y = a copy of x (new memory).   x̄ = ȳ."""

    @staticmethod
    def forward(ctx, x, contiguous=False):
        return xp.array(x, order="C" if contiguous else "K", copy=True)

    @staticmethod
    def backward(ctx, dout):
        return dout


def rebase_view(view: Tensor, op: str, compute: Callable[..., Tensor], args: tuple) -> None:
    """An in-place op on a view while a graph is recorded: rebase the view and its base.

    The view's new value is recorded on a snapshot of its old value; the base becomes
    CopySlices(old base, new view value) and the view a strided view of the new base, so a
    gradient flows to whatever the base and the in-place operands were computed from.
    """
    base = view._base
    layout = layout_in(base, view, op)
    new_view = view._recorded(op, compute, args)
    new_base = CopySlices.apply(base._snapshot(), new_view, layout=layout)
    xp.copyto(base.array, new_base.array)
    base._bump_version()
    base._take_history(new_base)
    view._take_history(AsStrided.apply(base, layout=layout))


def install() -> None:
    """Give Tensor its in-place-on-a-view path (the autograd package calls this once)."""
    Tensor._rebase_view = rebase_view
