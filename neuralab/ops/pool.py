"""Pooling: max, average and adaptive average over windows of a feature map (Lectures 11-12).

A pooling layer summarizes each window of kh×kw units of a feature map by one number: the
maximum (max pooling: the feature is present somewhere in the window) or the mean. It has no
parameters; it shrinks the map and makes the detector insensitive to small shifts.

Both are computed with one vectorized pass per kernel offset (i, j): the strided slice
x[:, :, i·d :: s, j·d :: s] holds, for every window at once, the unit at offset (i, j) of that
window. There are only kh·kw offsets, so the loop costs nothing next to the array work, and no
window is ever copied out. Arrays keep the memory layout of their input (a channels-last
convolution output stays channels-last).
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import require_float
from neuralab.ops.conv import _pair

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d"]


def pool_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int,
                     ceil_mode: bool) -> int:
    """out = ⌊(in + 2p − d·(k − 1) − 1)/s⌋ + 1, or with ⌈·⌉ in ceil mode (as PyTorch).

    In ceil mode the last window must still start inside the input or its left padding.
    """
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + padding:
            out -= 1
        return out
    return span // stride + 1


def _axis_order(a: Any) -> list[int]:
    """The axes of ``a`` from the outermost to the innermost in memory (ties keep their order)."""
    return sorted(range(a.ndim), key=lambda axis: (-abs(a.strides[axis]), axis))


_BATCH_LAST = [1, 2, 3, 0]  # axis order of (C, H, W, N) memory holding an (N, C, H, W) array


def _like_layout(shape: tuple[int, ...], like: Any, fill: float | None = None,
                 dtype: Any = None) -> Any:
    """A new (N, C, H, W) array stored batch-last or channels-last like ``like``, else C-order.

    Keeping the layout of the input (batch-last (C, H, W, N) or channels-last (N, H, W, C)
    memory, as the convolutions return) means slices and elementwise passes walk memory in
    order, and the next op receives the layout it produced.
    """
    dtype = like.dtype if dtype is None else dtype
    if like.ndim == 4 and like.shape[0] > 1 and _axis_order(like) == _BATCH_LAST:
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


def _windows(kernel, stride, dilation, out_hw):
    """(i, j, slice of rows, slice of columns) for every kernel offset, in row-major order."""
    for i in range(kernel[0]):
        r0 = i * dilation[0]
        rows = slice(r0, r0 + (out_hw[0] - 1) * stride[0] + 1, stride[0])
        for j in range(kernel[1]):
            c0 = j * dilation[1]
            yield i, j, rows, slice(c0, c0 + (out_hw[1] - 1) * stride[1] + 1, stride[1])


def _pool_geometry(op: str, x: Tensor, kernel_size, stride, padding, dilation, ceil_mode,
                   pad_limit_dilated: bool):
    """Validate and normalize pooling arguments -> (kernel, stride, padding, dilation, out)."""
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: input must be (N, C, H, W) or (C, H, W), got shape {x.shape}")
    kernel = _pair(op, "kernel_size", kernel_size, 1)
    stride_ = kernel if stride is None or stride == [] or stride == () else \
        _pair(op, "stride", stride, 1)
    padding_ = _pair(op, "padding", padding, 0)
    dilation_ = _pair(op, "dilation", dilation, 1)
    for k, p, d in zip(kernel, padding_, dilation_):
        limit = (d * (k - 1) + 1) // 2 if pad_limit_dilated else k // 2
        if p > limit:
            raise ValueError(f"{op}: padding {padding} is more than half the kernel "
                             f"({kernel_size}); padding can be at most {limit} here")
    H, W = x.shape[-2:]
    out = tuple(pool_output_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip((H, W), kernel, stride_, padding_, dilation_))
    if min(out) < 1:
        raise ValueError(f"{op}: the input {H}x{W} is too small for kernel {kernel} with "
                         f"padding {padding_} and dilation {dilation_} (output would be "
                         f"{out[0]}x{out[1]}); use a larger input or a smaller kernel")
    return kernel, stride_, padding_, dilation_, out


def _padded(x: Any, padding, needed_hw, fill: float) -> Any:
    """x placed at (p, p) in a frame of ``needed_hw`` filled with ``fill`` (x itself if none)."""
    N, C, H, W = x.shape
    (ph, pw), (Hn, Wn) = padding, needed_hw
    if ph == pw == 0 and Hn <= H and Wn <= W:
        return x
    frame = _like_layout((N, C, max(Hn, H + ph), max(Wn, W + pw)), x, fill)
    frame[:, :, ph:ph + H, pw:pw + W] = x
    return frame


def _batched(x: Tensor):
    """(C, H, W) inputs are treated as a batch of one; returns (x4, was_3d)."""
    return (x.unsqueeze(0), True) if x.ndim == 3 else (x, False)


# ----------------------------------------------------------------------------- max pooling
class MaxPool2d(Function):
    """z[n, c, y, x] = max over the window at (y·s − p, x·s − p) of x[n, c].

    Backward routes z̄ to the position of the maximum (the "switch"; ties go to the first
    position in row-major order, as PyTorch):  x̄[argmax] += z̄, zero elsewhere.
    With ``with_indices`` a second output holds the argmax as a flat index h·W + w into each
    input plane.
    """

    @staticmethod
    def check(x, *, kernel, stride, padding, dilation, out_hw, with_indices):
        require_float("max_pool2d", "input", x)

    @staticmethod
    def forward(ctx, x, *, kernel, stride, padding, dilation, out_hw, with_indices):
        N, C, H, W = x.shape
        OH, OW = out_hw
        needed = ((OH - 1) * stride[0] + dilation[0] * (kernel[0] - 1) + 1,
                  (OW - 1) * stride[1] + dilation[1] * (kernel[1] - 1) + 1)
        x_pad = _padded(x, padding, needed, -xp.inf)
        disjoint = all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))
        best = winner = None
        for offset, (_, _, rows, cols) in enumerate(_windows(kernel, stride, dilation, out_hw)):
            window = x_pad[:, :, rows, cols]
            if best is None:
                best = _like_layout((N, C, OH, OW), x)
                best[...] = window
                if disjoint:
                    winner = _like_layout((N, C, OH, OW), x, 0, dtype=xp.int16)
            else:
                if disjoint:
                    # Remember which offset holds each window's maximum (the switch), so that
                    # backward is one comparison per offset: cheaper than finding the maxima
                    # again (measured 2x on LeNet-5). Strictly greater: on ties the first
                    # offset in row-major order keeps the window, as in PyTorch. The offsets
                    # grow, so "set to offset where greater" is a maximum (no masked copy).
                    xp.maximum(winner, (window > best) * xp.int16(offset), out=winner)
                xp.maximum(best, window, out=best)
        ctx.x_pad, ctx.x_shape = x_pad, x.shape
        # Backward needs the winning offsets (disjoint windows), or the maxima to find them.
        ctx.winner, ctx.best = winner, (None if disjoint else best)
        ctx.params = kernel, stride, padding, dilation, out_hw
        if not with_indices:
            return best
        # Flat index h·W + w into each input plane, as torch's return_indices: the window's
        # corner plus the winning offset.
        oh = xp.arange(OH).reshape(OH, 1) * stride[0] - padding[0]
        ow = xp.arange(OW).reshape(1, OW) * stride[1] - padding[1]
        flat = xp.zeros(best.shape, dtype=xp.int64) + (oh * W + ow)
        for i, j, _, mine in _winners(x_pad, best, kernel, stride, dilation, out_hw, winner):
            flat += (i * dilation[0] * W + j * dilation[1]) * mine
        return best, flat

    @staticmethod
    def backward(ctx, dout, *_dindices):
        kernel, stride, padding, dilation, out_hw = ctx.params
        N, C, H, W = ctx.x_shape
        x_pad = ctx.x_pad
        disjoint = all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))
        # Disjoint windows that tile the whole (padded) input write every unit exactly once
        # below, so the gradient needs no zero fill first.
        tiled = disjoint and stride == kernel and dilation == (1, 1) and \
            x_pad.shape[2:] == (out_hw[0] * kernel[0], out_hw[1] * kernel[1])
        if _axis_order(x_pad) == _BATCH_LAST and _axis_order(dout) != _BATCH_LAST:
            # z̄ in another layout than the batch-last input (from a flatten after the last
            # pool, say): one copy into the masks' layout beats mixing layouts in every product
            # below (measured 3x).
            dout = _copy_in_layout(dout, x_pad)
        dx_pad = _like_layout(x_pad.shape, dout, None if tiled else 0.0)
        for _, _, (rows, cols), mine in _winners(x_pad, ctx.best, kernel, stride, dilation,
                                                 out_hw, ctx.winner):
            if disjoint:  # windows do not overlap: each input unit is written at most once
                xp.multiply(dout, mine, out=dx_pad[:, :, rows, cols])
            else:
                dx_pad[:, :, rows, cols] += dout * mine
        ph, pw = padding
        return (dx_pad[:, :, ph:ph + H, pw:pw + W],)


def _winners(x_pad, best, kernel, stride, dilation, out_hw, winner=None):
    """For each kernel offset, the mask of windows whose maximum sits at that offset.

    A window's maximum may occur at several offsets (ties); only the first in row-major order
    wins, as in PyTorch, so each window is claimed exactly once. Yields (i, j, slices, mask).
    ``winner`` (disjoint windows): the winning offset of each window, recorded by forward.
    """
    taken = None
    for offset, (i, j, rows, cols) in enumerate(_windows(kernel, stride, dilation, out_hw)):
        if winner is not None:
            yield i, j, (rows, cols), winner == offset
            continue
        mine = x_pad[:, :, rows, cols] == best
        if taken is None:
            taken = mine.copy()
        else:
            mine &= ~taken
            taken |= mine
        yield i, j, (rows, cols), mine


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling over kh×kw windows, as ``torch.nn.functional.max_pool2d``.

    Lecture 12: max pooling keeps the strongest response of a feature detector in each window;
    backpropagation sends the gradient only to the unit that won.

    Args:
        input: (N, C, H, W) or (C, H, W).
        kernel_size: window size, an int or (kh, kw).
        stride: window step; defaults to the kernel size (non-overlapping windows).
        padding: implicit −∞ padding on each side (at most half the effective kernel).
        dilation: spacing between window taps.
        ceil_mode: use ⌈·⌉ instead of ⌊·⌋ for the output size (partial windows at the end).
        return_indices: also return the argmax positions (flat h·W + w per plane, int64).

    Returns:
        (N, C, OH, OW), OH = ⌊(H + 2p − d·(k − 1) − 1)/s⌋ + 1; with indices a pair.
    """
    x4, was_3d = _batched(input)
    kernel, stride_, padding_, dilation_, out_hw = _pool_geometry(
        "max_pool2d", x4, kernel_size, stride, padding, dilation, ceil_mode, True)
    result = MaxPool2d.apply(x4, kernel=kernel, stride=stride_, padding=padding_,
                             dilation=dilation_, out_hw=out_hw, with_indices=bool(return_indices))
    if was_3d:
        result = tuple(r.squeeze(0) for r in result) if return_indices else result.squeeze(0)
    return result


# ----------------------------------------------------------------------------- average pooling
def _avg_divisor(size: int, kernel: int, stride: int, padding: int, out: int,
                 count_include_pad: bool) -> Any:
    """Per output row (or column): how many units its window averages over (PyTorch's rule).

    A window counts the padding when count_include_pad, but never the part that ceil mode
    pushes beyond the padded input.
    """
    start = xp.arange(out) * stride - padding
    end = xp.minimum(start + kernel, size + padding)
    if count_include_pad:
        return end - start
    return xp.minimum(end, size) - xp.maximum(start, 0)


class AvgPool2d(Function):
    """z[n, c, y, x] = (1/|window|) Σ_{window} x[n, c]  (zero padding).

    x̄: every unit of a window receives z̄ / |window| (summed over the windows it belongs to).
    """

    @staticmethod
    def check(x, *, kernel, stride, padding, out_hw, divisor):
        require_float("avg_pool2d", "input", x)

    @staticmethod
    def forward(ctx, x, *, kernel, stride, padding, out_hw, divisor):
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

    @staticmethod
    def backward(ctx, dout):
        kernel, stride, padding, out_hw = ctx.params
        N, C, H, W = ctx.x_shape
        share = dout / ctx.divisor
        dx_pad = _like_layout(ctx.x_pad_shape, dout, 0.0)
        for _, _, rows, cols in _windows(kernel, stride, (1, 1), out_hw):
            dx_pad[:, :, rows, cols] += share
        ph, pw = padding
        return (dx_pad[:, :, ph:ph + H, pw:pw + W],)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Average pooling over kh×kw windows, as ``torch.nn.functional.avg_pool2d``.

    Lecture 12 (LeNet-5 subsamples by averaging).

    Args:
        input: (N, C, H, W) or (C, H, W).
        kernel_size: window size, an int or (kh, kw).
        stride: window step; defaults to the kernel size.
        padding: implicit zero padding on each side (at most half the kernel).
        ceil_mode: use ⌈·⌉ for the output size.
        count_include_pad: whether the zeros of the padding count in the mean.
        divisor_override: divide every window sum by this number instead.

    Returns:
        (N, C, OH, OW).
    """
    x4, was_3d = _batched(input)
    kernel, stride_, padding_, _, out_hw = _pool_geometry(
        "avg_pool2d", x4, kernel_size, stride, padding, 1, ceil_mode, False)
    H, W = x4.shape[-2:]
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, int) \
                or divisor_override == 0:
            raise ValueError(f"avg_pool2d: divisor_override must be a non-zero int, got "
                             f"{divisor_override!r}")
        divisor = xp.full(out_hw, float(divisor_override))
    else:
        rows = _avg_divisor(H, kernel[0], stride_[0], padding_[0], out_hw[0], count_include_pad)
        cols = _avg_divisor(W, kernel[1], stride_[1], padding_[1], out_hw[1], count_include_pad)
        divisor = xp.outer(rows, cols).astype(xp.float64)
    out = AvgPool2d.apply(x4, kernel=kernel, stride=stride_, padding=padding_, out_hw=out_hw,
                          divisor=divisor)
    return out.squeeze(0) if was_3d else out


# ----------------------------------------------------------------------------- adaptive pooling
def _adaptive_output(op: str, x: Tensor, output_size: Any) -> tuple[int, int]:
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: input must be (N, C, H, W) or (C, H, W), got shape {x.shape}")
    H, W = x.shape[-2:]
    if isinstance(output_size, (int, xp.integer)) and not isinstance(output_size, bool):
        size = (int(output_size), int(output_size))
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        size = tuple(n if s is None else s for s, n in zip(output_size, (H, W)))
    else:
        raise TypeError(f"{op}: output_size must be an int or a pair (None keeps that size), "
                        f"got {output_size!r}")
    if not all(isinstance(s, (int, xp.integer)) and s >= 1 for s in size):
        raise ValueError(f"{op}: output_size must be positive, got {output_size!r}")
    if H < 1 or W < 1:
        raise ValueError(f"{op}: the input has an empty spatial size {H}x{W}")
    return int(size[0]), int(size[1])


def _adaptive_bounds(size: int, out: int) -> tuple[Any, Any]:
    """Window k covers [⌊k·in/out⌋, ⌈(k + 1)·in/out⌉) (PyTorch's adaptive windows)."""
    k = xp.arange(out)
    return (k * size) // out, -((-(k + 1) * size) // out)


def _averaging_matrix(size: int, out: int, dtype: Any) -> Any:
    """A (out, size) with A[k, i] = 1/|window k| for i in window k: pooling along one axis."""
    start, end = _adaptive_bounds(size, out)
    i = xp.arange(size)
    inside = (i >= start[:, None]) & (i < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


class AdaptiveAvgPool2d(Function):
    """z = A_h · x · A_wᵀ per plane, with A the per-axis averaging matrices.

    The mean over a rectangle is separable: average the rows, then the columns. The global
    case (1×1) is a plain mean. x̄ = A_hᵀ · z̄ · A_w.
    """

    @staticmethod
    def check(x, *, out_hw):
        require_float("adaptive_avg_pool2d", "input", x)

    @staticmethod
    def forward(ctx, x, *, out_hw):
        N, C, H, W = x.shape
        ctx.x_shape = x.shape
        if out_hw == (1, 1):  # global average pooling: one mean per channel
            ctx.mats = None
            return x.mean(axis=(2, 3), keepdims=True)
        a_h, a_w = _averaging_matrix(H, out_hw[0], x.dtype), _averaging_matrix(W, out_hw[1],
                                                                                x.dtype)
        ctx.mats = a_h, a_w
        return a_h @ (x @ a_w.T)  # (OH, H) @ (N, C, H, OW)

    @staticmethod
    def backward(ctx, dout):
        N, C, H, W = ctx.x_shape
        if ctx.mats is None:
            return (xp.broadcast_to(dout / (H * W), ctx.x_shape),)
        a_h, a_w = ctx.mats
        return ((a_h.T @ dout) @ a_w,)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a fixed output size, as ``torch.nn.functional.adaptive_avg_pool2d``.

    Window k along an axis covers [⌊k·H/out⌋, ⌈(k + 1)·H/out⌉); output_size=1 is the global
    average pooling of ResNet and GoogLeNet (Lecture 12).

    Args:
        input: (N, C, H, W) or (C, H, W).
        output_size: an int or (oh, ow); None in the pair keeps that input size.
    """
    x4, was_3d = _batched(input)
    out_hw = _adaptive_output("adaptive_avg_pool2d", x4, output_size)
    out = AdaptiveAvgPool2d.apply(x4, out_hw=out_hw)
    return out.squeeze(0) if was_3d else out


class AdaptiveMaxPool2d(Function):
    """z = max over adaptive window (y, x); x̄ routes z̄ to the argmax (first of ties).

    Windows of one axis differ in length by at most one; each is padded to the longest by
    repeating its last index (a repeated unit never changes a maximum), so all windows are
    gathered into one array (N, C, OH, Lh, OW, Lw).
    """

    @staticmethod
    def check(x, *, out_hw):
        require_float("adaptive_max_pool2d", "input", x)

    @staticmethod
    def forward(ctx, x, *, out_hw):
        N, C, H, W = x.shape
        (rs, re), (cs, ce) = _adaptive_bounds(H, out_hw[0]), _adaptive_bounds(W, out_hw[1])
        lh, lw = int((re - rs).max()), int((ce - cs).max())
        rows = xp.minimum(rs[:, None] + xp.arange(lh), re[:, None] - 1)  # (OH, Lh)
        cols = xp.minimum(cs[:, None] + xp.arange(lw), ce[:, None] - 1)  # (OW, Lw)
        win = x[:, :, rows[:, :, None, None], cols[None, None, :, :]]  # (N, C, OH, Lh, OW, Lw)
        win = win.transpose(0, 1, 2, 4, 3, 5).reshape(N, C, out_hw[0], out_hw[1], lh * lw)
        arg = win.argmax(axis=-1)  # first maximum: PyTorch's tie rule
        best = xp.take_along_axis(win, arg[..., None], axis=-1)[..., 0]
        r = rows[xp.arange(out_hw[0])[:, None], arg // lw]  # winning row, per output
        c = cols[xp.arange(out_hw[1])[None, :], arg % lw]
        flat = (r * W + c).astype(xp.int64)
        ctx.flat, ctx.x_shape = flat, x.shape
        return best, flat

    @staticmethod
    def backward(ctx, dout, _dindices):
        N, C, H, W = ctx.x_shape
        dx = xp.zeros((N * C, H * W), dtype=dout.dtype)
        planes = xp.arange(N * C)[:, None]
        # Adaptive windows may overlap, so two outputs can share an argmax: accumulate.
        xp.add.at(dx, (planes, ctx.flat.reshape(N * C, -1)), dout.reshape(N * C, -1))
        return (dx.reshape(N, C, H, W),)


def adaptive_max_pool2d(input: Tensor, output_size: Any,
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling to a fixed output size, as ``torch.nn.functional.adaptive_max_pool2d``.

    Args:
        input: (N, C, H, W) or (C, H, W).
        output_size: an int or (oh, ow); None keeps that input size.
        return_indices: also return the flat argmax positions h·W + w (int64).
    """
    x4, was_3d = _batched(input)
    out_hw = _adaptive_output("adaptive_max_pool2d", x4, output_size)
    out, indices = AdaptiveMaxPool2d.apply(x4, out_hw=out_hw)
    if was_3d:
        out, indices = out.squeeze(0), indices.squeeze(0)
    return (out, indices) if return_indices else out

