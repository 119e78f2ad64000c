"""The fast pooling kernels: the input's memory layout kept, max pooling's switches recorded.

The reference ``MaxPool2d`` and ``AvgPool2d`` in ``neuralab.ops.pool`` gather the kh·kw window
taps and take their maximum or mean (the lecture's version). These kernels compute the same with
one pass per kernel offset into arrays laid out like the input (batch-last or channels-last, as
the fast convolutions return), so that slices and elementwise passes walk memory in order and the
next op receives the layout it produced; max pooling records the winning offset of each window
(the "switch") when windows are disjoint, so that backward is one comparison per offset.
Chosen by ``nl.set_kernels("fast")`` (the default) and tested against the reference.
"""

from __future__ import annotations

from typing import Any

from neuralab.backend import xp
from neuralab.kernels.layout import axis_order
from neuralab.parallel import over_rows

__all__ = ["max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward",
           "avg_pool2d_backward"]

_BATCH_LAST = (1, 2, 3, 0)  # axis order of (C, H, W, N) memory holding an (N, C, H, W) array

def _like_layout(shape: tuple[int, ...], like: Any, fill: float | None = None,
                 dtype: Any = None) -> Any:
    """A new (N, C, H, W) array stored batch-last or channels-last like ``like``, else C-order.

    Keeping the layout of the input (batch-last (C, H, W, N) or channels-last (N, H, W, C)
    memory, as the convolutions return) means slices and elementwise passes walk memory in
    order, and the next op receives the layout it produced.
    """
    dtype = like.dtype if dtype is None else dtype
    if like.ndim == 4 and like.shape[0] > 1 and axis_order(like) == _BATCH_LAST:
        N, C, H, W = shape
        out = xp.empty((C, H, W, N), dtype=dtype).transpose(3, 0, 1, 2)
    elif like.ndim == 4 and like.strides[1] == like.itemsize and like.shape[1] > 1:
        N, C, H, W = shape
        out = xp.empty((N, H, W, C), dtype=dtype).transpose(0, 3, 1, 2)
    else:
        out = xp.empty(shape, dtype=dtype)
    if fill is not None:
        out.fill(fill)
    return out


def _copy_in_layout(a: Any, like: Any) -> Any:
    """A copy of ``a`` laid out in memory like ``like`` (same number of dimensions)."""
    out = _like_layout(a.shape, like)
    out[...] = a
    return out


def _outer_axis(a: Any) -> int:
    """The (N, C, H, W) axis outermost in a's memory among N and C: C for batch-last."""
    return 1 if a.ndim == 4 and axis_order(a) == _BATCH_LAST else 0


def _windows(kernel, stride, dilation, out_hw):
    """(i, j, slice of rows, slice of columns) for every kernel offset, in row-major order."""
    for i in range(kernel[0]):
        r0 = i * dilation[0]
        rows = slice(r0, r0 + (out_hw[0] - 1) * stride[0] + 1, stride[0])
        for j in range(kernel[1]):
            c0 = j * dilation[1]
            yield i, j, rows, slice(c0, c0 + (out_hw[1] - 1) * stride[1] + 1, stride[1])


def _padded(x: Any, padding, needed_hw, fill: float) -> Any:
    """x placed at (p, p) in a frame of ``needed_hw`` filled with ``fill`` (x itself if none)."""
    N, C, H, W = x.shape
    (ph, pw), (Hn, Wn) = padding, needed_hw
    if ph == pw == 0 and Hn <= H and Wn <= W:
        return x
    frame = _like_layout((N, C, max(Hn, H + ph), max(Wn, W + pw)), x, fill)
    frame[:, :, ph:ph + H, pw:pw + W] = x
    return frame


def max_pool2d_forward(ctx: Any, x: Any, kernel, stride, padding, dilation, out_hw,
                       with_indices: bool) -> Any:
    """Max pooling in the input's layout, the winning offsets recorded for backward."""
    N, C, H, W = x.shape
    OH, OW = out_hw
    needed = ((OH - 1) * stride[0] + dilation[0] * (kernel[0] - 1) + 1,
              (OW - 1) * stride[1] + dilation[1] * (kernel[1] - 1) + 1)
    x_pad = _padded(x, padding, needed, -xp.inf)
    taps = kernel[0] * kernel[1]
    best = _like_layout((N, C, OH, OW), x)
    # The winning offset of each window (the switch), so that backward is one comparison
    # per offset: cheaper than finding the maxima again (measured 2x on LeNet-5; 1.7x on
    # GoogLeNet's overlapping 3x3 windows in one thread, 3.2x in two: BENCHMARKS.md).
    winner = _like_layout((N, C, OH, OW), x, dtype=xp.uint8 if taps <= 255 else xp.int32)
    code = winner.dtype.type
    windows = list(_windows(kernel, stride, dilation, out_hw))

    def pool_part(part: Any) -> None:  # an index of the samples or channels (... for all)
        source, top, switch = x_pad[part], best[part], winner[part]
        for offset, (_, _, rows, cols) in enumerate(windows):
            window = source[:, :, rows, cols]
            if offset == 0:
                top[...] = window
                switch.fill(0)
                continue
            # Strictly greater: on ties the first offset in row-major order keeps the
            # window, as in PyTorch. The offsets grow, so "set to offset where greater" is
            # a maximum (no masked copy, which is 3x slower).
            xp.maximum(switch, (window > top) * code(offset), out=switch)
            xp.maximum(top, window, out=top)

    over_rows(best, pool_part, axis=_outer_axis(best))
    ctx.x_pad, ctx.x_shape, ctx.winner = x_pad, x.shape, winner
    ctx.params = kernel, stride, padding, dilation, out_hw
    if not with_indices:
        return best
    # Flat index h·W + w into each input plane, as torch's return_indices: the window's
    # corner plus the winning offset.
    oh = xp.arange(OH).reshape(OH, 1) * stride[0] - padding[0]
    ow = xp.arange(OW).reshape(1, OW) * stride[1] - padding[1]
    flat = xp.zeros(best.shape, dtype=xp.int64) + (oh * W + ow)
    for i, j, _, mine in _winners(winner, kernel, stride, dilation, out_hw):
        flat += (i * dilation[0] * W + j * dilation[1]) * mine
    return best, flat


def max_pool2d_backward(ctx: Any, dout: Any) -> Any:
    """x̄ of :func:`max_pool2d_forward`: z̄ routed to each window's winner."""
    kernel, stride, padding, dilation, out_hw = ctx.params
    N, C, H, W = ctx.x_shape
    x_pad = ctx.x_pad
    disjoint = all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))
    # Disjoint windows that tile the whole (padded) input write every unit exactly once
    # below, so the gradient needs no zero fill first.
    tiled = disjoint and stride == kernel and dilation == (1, 1) and \
        x_pad.shape[2:] == (out_hw[0] * kernel[0], out_hw[1] * kernel[1])
    if axis_order(x_pad) == _BATCH_LAST and axis_order(dout) != _BATCH_LAST:
        # z̄ in another layout than the batch-last input (from a flatten after the last
        # pool, say): one copy into the masks' layout beats mixing layouts in every product
        # below (measured 3x).
        dout = _copy_in_layout(dout, x_pad)
    dx_pad = _like_layout(x_pad.shape, dout, None if tiled else 0.0)
    share = None if disjoint else xp.empty_like(dout)  # scratch for overlapping windows
    windows = list(_windows(kernel, stride, dilation, out_hw))

    def route_part(part: Any) -> None:  # an index of the samples or channels (... for all)
        grad, switch, into = dout[part], ctx.winner[part], dx_pad[part]
        scratch = None if share is None else share[part]
        for offset, (_, _, rows, cols) in enumerate(windows):
            if disjoint:  # windows do not overlap: each input unit is written at most once
                xp.multiply(grad, switch == offset, out=into[:, :, rows, cols])
            else:
                xp.multiply(grad, switch == offset, out=scratch)
                into[:, :, rows, cols] += scratch

    over_rows(dout, route_part, axis=_outer_axis(dout))
    ph, pw = padding
    return dx_pad[:, :, ph:ph + H, pw:pw + W]


def _winners(winner, kernel, stride, dilation, out_hw):
    """For each kernel offset, the mask of windows whose maximum sits at that offset.

    ``winner``: the winning offset of each window, recorded by forward (on ties the first in
    row-major order, as in PyTorch, so each window is claimed exactly once). Yields
    (i, j, slices, mask).
    """
    for offset, (i, j, rows, cols) in enumerate(_windows(kernel, stride, dilation, out_hw)):
        yield i, j, (rows, cols), winner == offset


def avg_pool2d_forward(ctx: Any, x: Any, kernel, stride, padding, out_hw, divisor) -> Any:
    """Average pooling in the input's layout."""
    N, C, H, W = x.shape
    OH, OW = out_hw
    needed = ((OH - 1) * stride[0] + kernel[0], (OW - 1) * stride[1] + kernel[1])
    x_pad = _padded(x, padding, needed, 0.0)
    total = None
    for _, _, rows, cols in _windows(kernel, stride, (1, 1), out_hw):
        if total is None:
            total = _like_layout((N, C, OH, OW), x)
            total[...] = x_pad[:, :, rows, cols]
        else:
            total += x_pad[:, :, rows, cols]
    divisor = divisor.astype(x.dtype)
    ctx.divisor, ctx.x_pad_shape, ctx.x_shape = divisor, x_pad.shape, x.shape
    ctx.params = kernel, stride, padding, out_hw
    total /= divisor
    return total

def avg_pool2d_backward(ctx: Any, dout: Any) -> Any:
    """x̄ of :func:`avg_pool2d_forward`, in z̄'s layout."""
    kernel, stride, padding, out_hw = ctx.params
    N, C, H, W = ctx.x_shape
    share = dout / ctx.divisor
    dx_pad = _like_layout(ctx.x_pad_shape, dout, 0.0)
    for _, _, rows, cols in _windows(kernel, stride, (1, 1), out_hw):
        dx_pad[:, :, rows, cols] += share
    ph, pw = padding
    return dx_pad[:, :, ph:ph + H, pw:pw + W]
