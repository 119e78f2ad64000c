"""Pooling: max, average and adaptive average over windows of a feature map (Lectures 11-12).

A pooling layer summarizes each window of kh×kw units of a feature map by one number: the
maximum (max pooling: the feature is present somewhere in the window) or the mean. It has no
parameters; it shrinks the map and makes the detector insensitive to small shifts.

Both gather the windows with one strided slice per kernel offset (i, j): x[:, :, i·d :: s, j·d :: s]
holds, for every window at once, the unit at offset (i, j) of that window; stacked, the kh·kw
slices are all the windows, and the max or mean over them is the output. This is the lecture's
version (the reference kernel set); ``neuralab.kernels.pool`` computes the same without
stacking, in the memory layout of the input (the default, ``nl.set_kernels("fast")``).
"""

from __future__ import annotations

from typing import Any

from neuralab import kernels
from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.kernels import pool as fast_pool
from neuralab.ops._checks import require_float
from neuralab.ops.conv import as_pair

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
    kernel = as_pair(op, "kernel_size", kernel_size, 1)
    stride_ = kernel if stride is None or stride == [] or stride == () else \
        as_pair(op, "stride", stride, 1)
    padding_ = as_pair(op, "padding", padding, 0)
    dilation_ = as_pair(op, "dilation", dilation, 1)
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
    """x with ``fill`` around it: p on each side, and more at the end if the windows need it."""
    (ph, pw), (Hn, Wn) = padding, needed_hw
    H, W = x.shape[2:]
    return xp.pad(x, ((0, 0), (0, 0), (ph, max(0, Hn - H - ph)), (pw, max(0, Wn - W - pw))),
                  constant_values=fill)


def _stacked_windows(x_pad: Any, kernel, stride, dilation, out_hw) -> Any:
    """All windows at once: (kh·kw, N, C, OH, OW), entry k the unit at offset k of each window."""
    return xp.stack([x_pad[:, :, rows, cols]
                     for _, _, rows, cols in _windows(kernel, stride, dilation, out_hw)])


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
    @staticmethod
    def forward(ctx, x, *, kernel, stride, padding, dilation, out_hw, with_indices):
        ctx.learner = kernels.learner("max_pool2d")  # a learner's code (neuralab exercise train)
        if ctx.learner is not None:
            return ctx.learner.max_pool2d_forward(ctx, x, kernel, stride, padding, dilation,
                                                  out_hw, with_indices)
        ctx.fast = kernels.fast()
        if ctx.fast:
            return fast_pool.max_pool2d_forward(ctx, x, kernel, stride, padding, dilation,
                                                out_hw, with_indices)
        needed = tuple((o - 1) * s + d * (k - 1) + 1
                       for o, s, d, k in zip(out_hw, stride, dilation, kernel))
        x_pad = _padded(x, padding, needed, -xp.inf)
        windows = _stacked_windows(x_pad, kernel, stride, dilation, out_hw)  # (K, N, C, OH, OW)
        switch = windows.argmax(axis=0)  # the first maximum of each window: PyTorch's tie rule
        z = xp.take_along_axis(windows, switch[None], axis=0)[0]
        ctx.switch, ctx.pad_shape, ctx.x_hw = switch, x_pad.shape, x.shape[2:]
        ctx.params = kernel, stride, padding, dilation, out_hw
        if not with_indices:
            return z
        # The flat index h·W + w of each winner in its input plane (torch's return_indices).
        i, j = switch // kernel[1], switch % kernel[1]
        h = xp.arange(out_hw[0]).reshape(-1, 1) * stride[0] - padding[0] + i * dilation[0]
        w = xp.arange(out_hw[1]) * stride[1] - padding[1] + j * dilation[1]
        return z, (h * x.shape[3] + w).astype(xp.int64)

    @staticmethod
    def backward(ctx, dout, *_dindices):
        if ctx.learner is not None:
            return (ctx.learner.max_pool2d_backward(ctx, dout),)
        if ctx.fast:
            return (fast_pool.max_pool2d_backward(ctx, dout),)
        kernel, stride, padding, dilation, out_hw = ctx.params
        dx_pad = xp.zeros(ctx.pad_shape, dtype=dout.dtype)
        for k, (_, _, rows, cols) in enumerate(_windows(kernel, stride, dilation, out_hw)):
            dx_pad[:, :, rows, cols] += dout * (ctx.switch == k)  # z̄ goes to the winner only
        (ph, pw), (H, W) = padding, ctx.x_hw
        return (dx_pad[:, :, ph:ph + H, pw:pw + W],)


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
    @staticmethod
    def forward(ctx, x, *, kernel, stride, padding, out_hw, divisor):
        divisor = divisor.astype(x.dtype)
        ctx.fast = kernels.fast()
        if ctx.fast:
            return fast_pool.avg_pool2d_forward(ctx, x, kernel, stride, padding, out_hw, divisor)
        needed = tuple((o - 1) * s + k for o, s, k in zip(out_hw, stride, kernel))
        x_pad = _padded(x, padding, needed, 0.0)
        windows = _stacked_windows(x_pad, kernel, stride, (1, 1), out_hw)  # (K, N, C, OH, OW)
        ctx.divisor, ctx.pad_shape, ctx.x_hw = divisor, x_pad.shape, x.shape[2:]
        ctx.params = kernel, stride, padding, out_hw
        return windows.sum(axis=0) / divisor

    @staticmethod
    def backward(ctx, dout):
        if ctx.fast:
            return (fast_pool.avg_pool2d_backward(ctx, dout),)
        kernel, stride, padding, out_hw = ctx.params
        dx_pad = xp.zeros(ctx.pad_shape, dtype=dout.dtype)
        for _, _, rows, cols in _windows(kernel, stride, (1, 1), out_hw):
            dx_pad[:, :, rows, cols] += dout / ctx.divisor  # each unit of a window: z̄/|window|
        (ph, pw), (H, W) = padding, ctx.x_hw
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

