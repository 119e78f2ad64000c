"""3-D pooling of volumes: max, average and adaptive pooling over kd×kh×kw windows (Lecture 12).

The 2-d pooling of ``ops/pool.py`` with one more axis. For every kernel tap (i, j, l) one strided
slice x[:, :, i·d₀ :: s₀, j·d₁ :: s₁, l·d₂ :: s₂] of the padded input holds the voxel at that tap of
every window at once; the max or the sum over the kd·kh·kw slices is the output. The backward
passes scatter z̄ back through the same slices. The adaptive forms gather their (unequal) windows
by index arrays instead. Reference code: vectorised over the batch and the voxels, looping only
over kernel taps; there are no fast kernels for the 3-d ops.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import require_float
from neuralab.ops.conv3d import _taps as _conv_taps
from neuralab.ops.conv3d import as_triple
from neuralab.ops.pool import _adaptive_bounds, _averaging_matrix, _avg_divisor, pool_output_size

__all__ = ["max_pool3d", "avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d"]


def _taps(kernel, stride, dilation, out):
    """(flat tap number, slices) for every kernel tap (i, j, l), in row-major order."""
    for k, (_, slices) in enumerate(_conv_taps(kernel, out, stride, dilation)):
        yield k, (slice(None), slice(None), *slices)


def _batched(op: str, x: Any) -> tuple[Tensor, bool]:
    """(N, C, D, H, W) from x; (C, D, H, W) inputs are a batch of one (was_4d True)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim not in (4, 5):
        raise ValueError(f"{op}: input must be (N, C, D, H, W) or (C, D, H, W), got shape "
                         f"{x.shape}")
    return (x.unsqueeze(0), True) if x.ndim == 4 else (x, False)


def _geometry(op: str, x: Tensor, kernel_size, stride, padding, dilation, ceil_mode):
    """Validated (kernel, stride, padding, dilation, out) triples; padding at most k // 2."""
    kernel = as_triple(op, "kernel_size", kernel_size, 1)
    stride_ = kernel if stride is None or stride == () or stride == [] else \
        as_triple(op, "stride", stride, 1)
    padding_ = as_triple(op, "padding", padding, 0)
    dilation_ = as_triple(op, "dilation", dilation, 1)
    if any(p > k // 2 for k, p in zip(kernel, padding_)):
        raise ValueError(f"{op}: padding {padding!r} must be at most half the kernel size "
                         f"{kernel} (here at most {tuple(k // 2 for k in kernel)})")
    out = tuple(pool_output_size(n, k, s, p, d, bool(ceil_mode))
                for n, k, s, p, d in zip(x.shape[2:], kernel, stride_, padding_, dilation_))
    if min(out) < 1:
        raise ValueError(f"{op}: the input {tuple(x.shape[2:])} is too small for kernel {kernel} "
                         f"with padding {padding_} and dilation {dilation_} (output would be "
                         f"{out}); use a larger input or a smaller kernel")
    return kernel, stride_, padding_, dilation_, out


def _padded(x: Any, padding, needed, fill: float) -> Any:
    """x with ``fill`` around it: p before each axis, and after it as much as the windows need
    (ceil mode can ask for more than p)."""
    return xp.pad(x, ((0, 0), (0, 0)) + tuple((p, max(0, m - n - p)) for p, m, n in
                                              zip(padding, needed, x.shape[2:])),
                  constant_values=fill)


def _crop(x_pad: Any, padding, size) -> Any:
    return x_pad[(slice(None), slice(None), *(slice(p, p + n) for p, n in zip(padding, size)))]


def to_winners(dout: Any, flat: Any, x_shape: tuple[int, ...]) -> Any:
    """x̄ (``x_shape``) of a max pooling whose winners are the flat positions ``flat`` in each
    input plane: z̄ added at its winner (overlapping windows may share one, whose gradients add)."""
    N, C = x_shape[:2]
    dx = xp.zeros((N * C, int(xp.prod(x_shape[2:]))), dtype=dout.dtype)
    planes = xp.arange(N * C)[:, None]
    xp.add.at(dx, (planes, flat.reshape(N * C, -1)), dout.reshape(N * C, -1))
    return dx.reshape(x_shape)


# ----------------------------------------------------------------------------- max pooling
class MaxPool3d(Function):
    """z[n, c, t, y, x] = max over the window at (t·s₀ − p₀, y·s₁ − p₁, x·s₂ − p₂) of x[n, c].

    Backward routes z̄ to the voxel that won (the "switch"; ties go to the first tap in row-major
    order, as PyTorch): x̄[argmax] += z̄, zero elsewhere. The second output holds the argmax as a
    flat index t·H·W + y·W + x into each input volume (PyTorch's return_indices).
    """

    @staticmethod
    def check(x, *, kernel, stride, padding, dilation, out):
        require_float("max_pool3d", "input", x)

    @staticmethod
    def forward(ctx, x, *, kernel, stride, padding, dilation, out):
        needed = tuple((o - 1) * s + d * (k - 1) + 1
                       for o, s, d, k in zip(out, stride, dilation, kernel))
        x_pad = _padded(x, padding, needed, -xp.inf)
        windows = xp.stack([x_pad[sl] for _, sl in _taps(kernel, stride, dilation, out)])
        switch = windows.argmax(axis=0)  # (N, C, OD, OH, OW): the first maximum's tap
        z = xp.take_along_axis(windows, switch[None], axis=0)[0]
        ctx.switch, ctx.pad_shape, ctx.size = switch, x_pad.shape, x.shape[2:]
        ctx.params = kernel, stride, padding, dilation, out
        # The winner's position in the (unpadded) input volume, axis by axis, then flattened.
        taps = xp.unravel_index(switch, kernel)
        pos = [xp.arange(o).reshape((-1,) + (1,) * (2 - a)) * s - p + t * d
               for a, (o, s, p, d, t) in enumerate(zip(out, stride, padding, dilation, taps))]
        D, H, W = x.shape[2:]
        return z, ((pos[0] * H + pos[1]) * W + pos[2]).astype(xp.int64)

    @staticmethod
    def backward(ctx, dout, _dindices):
        kernel, stride, padding, dilation, out = ctx.params
        dx_pad = xp.zeros(ctx.pad_shape, dtype=dout.dtype)
        for k, sl in _taps(kernel, stride, dilation, out):
            dx_pad[sl] += dout * (ctx.switch == k)  # z̄ goes to the winner only
        return (_crop(dx_pad, padding, ctx.size),)


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None,  # noqa: A002
               padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling over kd×kh×kw windows, as ``torch.nn.functional.max_pool3d``.

    Args:
        input: (N, C, D, H, W) or (C, D, H, W).
        kernel_size: window size, an int or (kd, kh, kw).
        stride: window step; defaults to the kernel size.
        padding: implicit −∞ padding on each side (at most half the kernel).
        dilation: spacing between window taps.
        ceil_mode: ⌈·⌉ instead of ⌊·⌋ for the output size (a partial window at the end).
        return_indices: also return the argmax positions (flat t·H·W + y·W + x, int64).

    Returns:
        (N, C, OD, OH, OW), OD = ⌊(D + 2p − d·(kd − 1) − 1)/s⌋ + 1; with indices a pair.
    """
    x, was_4d = _batched("max_pool3d", input)
    kernel, stride_, padding_, dilation_, out = _geometry(
        "max_pool3d", x, kernel_size, stride, padding, dilation, ceil_mode)
    z, indices = MaxPool3d.apply(x, kernel=kernel, stride=stride_, padding=padding_,
                                 dilation=dilation_, out=out)
    if was_4d:
        z, indices = z.squeeze(0), indices.squeeze(0)
    return (z, indices) if return_indices else z


# ----------------------------------------------------------------------------- average pooling
class AvgPool3d(Function):
    """z[n, c, t, y, x] = (1/divisor) Σ_{window} x[n, c]  (zero padding).

    x̄: every voxel of a window receives z̄ / divisor (summed over the windows it belongs to).
    """

    @staticmethod
    def check(x, *, kernel, stride, padding, out, divisor):
        require_float("avg_pool3d", "input", x)

    @staticmethod
    def forward(ctx, x, *, kernel, stride, padding, out, divisor):
        needed = tuple((o - 1) * s + k for o, s, k in zip(out, stride, kernel))
        x_pad = _padded(x, padding, needed, 0.0)
        total = xp.zeros(x.shape[:2] + out, dtype=x.dtype)
        for _, sl in _taps(kernel, stride, (1, 1, 1), out):
            total += x_pad[sl]
        ctx.divisor = divisor.astype(x.dtype)
        ctx.pad_shape, ctx.size, ctx.params = x_pad.shape, x.shape[2:], (kernel, stride, padding,
                                                                         out)
        return total / ctx.divisor

    @staticmethod
    def backward(ctx, dout):
        kernel, stride, padding, out = ctx.params
        dx_pad = xp.zeros(ctx.pad_shape, dtype=dout.dtype)
        share = dout / ctx.divisor
        for _, sl in _taps(kernel, stride, (1, 1, 1), out):
            dx_pad[sl] += share
        return (_crop(dx_pad, padding, ctx.size),)


def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None,  # noqa: A002
               padding: Any = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Average pooling over kd×kh×kw windows, as ``torch.nn.functional.avg_pool3d``.

    Args:
        input: (N, C, D, H, W) or (C, D, H, W).
        kernel_size: window size, an int or (kd, kh, kw).
        stride: window step; defaults to the kernel size.
        padding: implicit zero padding on each side (at most half the kernel).
        ceil_mode: ⌈·⌉ for the output size.
        count_include_pad: whether the padding zeros count in the mean (a window never counts
            the part that ceil mode adds beyond the padding).
        divisor_override: divide every window sum by this number instead.

    Returns:
        (N, C, OD, OH, OW).
    """
    op = "avg_pool3d"
    x, was_4d = _batched(op, input)
    kernel, stride_, padding_, _, out = _geometry(op, x, kernel_size, stride, padding, 1,
                                                  ceil_mode)
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, int) \
                or divisor_override == 0:
            raise ValueError(f"{op}: divisor_override must be a non-zero int, got "
                             f"{divisor_override!r}")
        divisor = xp.full(out, float(divisor_override))
    else:
        d, h, w = (_avg_divisor(n, k, s, p, o, count_include_pad).astype(xp.float64)
                   for n, k, s, p, o in zip(x.shape[2:], kernel, stride_, padding_, out))
        divisor = d[:, None, None] * h[:, None] * w  # separable: the product of the lengths
    z = AvgPool3d.apply(x, kernel=kernel, stride=stride_, padding=padding_, out=out,
                        divisor=divisor)
    return z.squeeze(0) if was_4d else z


# ----------------------------------------------------------------------------- adaptive pooling
def _adaptive_size(op: str, x: Tensor, output_size: Any) -> tuple[int, int, int]:
    """The output (OD, OH, OW) from an int or a triple (None keeps that input size)."""
    size = x.shape[2:]
    if isinstance(output_size, (int, xp.integer)) and not isinstance(output_size, bool):
        out = (output_size,) * 3
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 3:
        out = tuple(n if o is None else o for o, n in zip(output_size, size))
    else:
        raise TypeError(f"{op}: output_size must be an int or a tuple of 3 (None keeps that "
                        f"input size), got {output_size!r}")
    if not all(isinstance(o, (int, xp.integer)) and not isinstance(o, bool) and o >= 1
               for o in out):
        raise ValueError(f"{op}: output_size must be positive ints, got {output_size!r}")
    if min(size) < 1:
        raise ValueError(f"{op}: the input has an empty spatial size {tuple(size)}")
    return tuple(int(o) for o in out)


class AdaptiveAvgPool3d(Function):
    """z = x averaged along each axis by A_d, A_h, A_w (A[k, i] = 1/|window k| inside window k).

    The mean over a box is separable: z[n, c] = Σ A_d[t, i] A_h[y, j] A_w[x, l] x[n, c, i, j, l],
    and x̄ is the same contraction with the transposed matrices.
    """

    @staticmethod
    def check(x, *, out):
        require_float("adaptive_avg_pool3d", "input", x)

    @staticmethod
    def forward(ctx, x, *, out):
        ctx.mats = tuple(_averaging_matrix(n, o, x.dtype) for n, o in zip(x.shape[2:], out))
        return xp.einsum("ncijl,ti,yj,xl->nctyx", x, *ctx.mats, optimize=True)

    @staticmethod
    def backward(ctx, dout):
        return (xp.einsum("nctyx,ti,yj,xl->ncijl", dout, *ctx.mats, optimize=True),)


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average pooling to a fixed output size, as ``torch.nn.functional.adaptive_avg_pool3d``.

    Window k along an axis of size n covers [⌊k·n/out⌋, ⌈(k + 1)·n/out⌉).

    Args:
        input: (N, C, D, H, W) or (C, D, H, W).
        output_size: an int or (od, oh, ow); None in the triple keeps that input size.
    """
    op = "adaptive_avg_pool3d"
    x, was_4d = _batched(op, input)
    z = AdaptiveAvgPool3d.apply(x, out=_adaptive_size(op, x, output_size))
    return z.squeeze(0) if was_4d else z


class AdaptiveMaxPool3d(Function):
    """z = max over adaptive window (t, y, x); x̄ routes z̄ to the argmax (first of ties).

    The windows of one axis differ in length by at most one; each is padded to the longest by
    repeating its last index (a repeated voxel never changes a maximum), so all windows are
    gathered into one array (N, C, OD, OH, OW, Ld·Lh·Lw). Overlapping windows may share a
    winner, whose gradient then adds up.
    """

    @staticmethod
    def check(x, *, out):
        require_float("adaptive_max_pool3d", "input", x)

    @staticmethod
    def forward(ctx, x, *, out):
        N, C, D, H, W = x.shape
        index = []  # per axis: (O, L) input positions of each window, padded by repetition
        for n, o in zip((D, H, W), out):
            start, end = _adaptive_bounds(n, o)
            length = int((end - start).max())
            index.append(xp.minimum(start[:, None] + xp.arange(length), end[:, None] - 1))
        i_d, i_h, i_w = index
        win = x[:, :, i_d[:, :, None, None, None, None], i_h[:, :, None, None],
                i_w]  # (N, C, OD, Ld, OH, Lh, OW, Lw)
        lengths = tuple(i.shape[1] for i in index)
        win = win.transpose(0, 1, 2, 4, 6, 3, 5, 7).reshape(N, C, *out, -1)
        arg = win.argmax(axis=-1)  # the first maximum: PyTorch's tie rule
        best = xp.take_along_axis(win, arg[..., None], axis=-1)[..., 0]
        a_d, a_h, a_w = xp.unravel_index(arg, lengths)
        t = i_d[xp.arange(out[0])[:, None, None], a_d]  # the winner's input position per axis
        y = i_h[xp.arange(out[1])[:, None], a_h]
        x_ = i_w[xp.arange(out[2]), a_w]
        flat = ((t * H + y) * W + x_).astype(xp.int64)
        ctx.flat, ctx.x_shape = flat, x.shape
        return best, flat

    @staticmethod
    def backward(ctx, dout, _dindices):
        return (to_winners(dout, ctx.flat, ctx.x_shape),)


def adaptive_max_pool3d(input: Tensor, output_size: Any,  # noqa: A002
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling to a fixed output size, as ``torch.nn.functional.adaptive_max_pool3d``.

    Args:
        input: (N, C, D, H, W) or (C, D, H, W).
        output_size: an int or (od, oh, ow); None keeps that input size.
        return_indices: also return the flat argmax positions t·H·W + y·W + x (int64).
    """
    op = "adaptive_max_pool3d"
    x, was_4d = _batched(op, input)
    z, indices = AdaptiveMaxPool3d.apply(x, out=_adaptive_size(op, x, output_size))
    if was_4d:
        z, indices = z.squeeze(0), indices.squeeze(0)
    return (z, indices) if return_indices else z
