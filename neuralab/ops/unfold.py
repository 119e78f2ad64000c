"""``F.unfold`` and ``F.fold``: image patches as columns (im2col) and back (col2im), Lecture 11.

unfold turns every kh×kw window of a (N, C, H, W) batch into a column of length C·kh·kw, so that a
convolution becomes one matrix product with the (out, C·kh·kw) weight matrix. fold is its
adjoint: it adds each column back onto the window it came from (overlapping windows add up).
Because each is the other's transpose, each one's backward pass is the other:
unfold's x̄ = fold(ȳ), fold's x̄ = unfold(ȳ).

Column layout (PyTorch's): row c·kh·kw + i·kw + j holds channel c at kernel offset (i, j); column
l = oh·OW + ow is the window at output position (oh, ow).
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp

__all__ = ["unfold", "fold"]


def _pair(op: str, name: str, value: Any) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise RuntimeError(f"{op}: {name} must be an int or a pair, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _offsets(kernel, dilation, stride, out_hw):
    """(i, j, rows, cols) of every kernel offset: the slices of the padded image it reads."""
    (kh, kw), (dh, dw), (sh, sw), (oh, ow) = kernel, dilation, stride, out_hw
    for i in range(kh):
        for j in range(kw):
            yield i, j, slice(i * dh, i * dh + sh * (oh - 1) + 1, sh), \
                slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)


def _im2col(x, kernel, dilation, padding, stride, out_hw):
    N, C, H, W = x.shape
    (ph, pw) = padding
    x_pad = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = xp.empty((N, C, kernel[0], kernel[1]) + tuple(out_hw), dtype=x.dtype)
    for i, j, rows, cols_ in _offsets(kernel, dilation, stride, out_hw):
        cols[:, :, i, j] = x_pad[:, :, rows, cols_]
    return cols.reshape(N, C * kernel[0] * kernel[1], out_hw[0] * out_hw[1])


def _col2im(cols, size, kernel, dilation, padding, stride, out_hw):
    N = cols.shape[0]
    C = cols.shape[1] // (kernel[0] * kernel[1])
    (H, W), (ph, pw) = size, padding
    blocks = cols.reshape((N, C, kernel[0], kernel[1]) + tuple(out_hw))
    out = xp.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=cols.dtype)
    for i, j, rows, cols_ in _offsets(kernel, dilation, stride, out_hw):
        out[:, :, rows, cols_] += blocks[:, :, i, j]
    return out[:, :, ph:ph + H, pw:pw + W]


def _out_hw(op, size, kernel, dilation, padding, stride):
    out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                for n, k, d, p, s in zip(size, kernel, dilation, padding, stride))
    if any(o <= 0 for o in out):
        raise RuntimeError(f"{op}: the kernel {kernel} (dilation {dilation}) does not fit the "
                           f"input size {tuple(size)} with padding {padding}; computed output "
                           f"size {out} is empty")
    return out


class Unfold(Function):
    """y[n, c·kh·kw + i·kw + j, l] = x_pad[n, c, oh·sh + i·dh, ow·sw + j·dw].

    x̄ = fold(ȳ): each window's column gradient added back onto the window.
    """

    @staticmethod
    def forward(ctx, x, geometry=None):
        kernel, dilation, padding, stride, out_hw = geometry
        ctx.geometry, ctx.size = geometry, x.shape[2:]
        return _im2col(x, kernel, dilation, padding, stride, out_hw)

    @staticmethod
    def backward(ctx, dout):
        kernel, dilation, padding, stride, out_hw = ctx.geometry
        return _col2im(dout, ctx.size, kernel, dilation, padding, stride, out_hw)


class Fold(Function):
    """y = Σ over windows of each column added onto its window (overlaps add).

    x̄ = unfold(ȳ): each column reads back its window's gradient.
    """

    @staticmethod
    def forward(ctx, x, size=None, geometry=None):
        kernel, dilation, padding, stride, out_hw = geometry
        ctx.geometry = geometry
        return _col2im(x, size, kernel, dilation, padding, stride, out_hw)

    @staticmethod
    def backward(ctx, dout):
        kernel, dilation, padding, stride, out_hw = ctx.geometry
        return _im2col(dout, kernel, dilation, padding, stride, out_hw)


def _batched(op: str, x: Tensor, rank: int) -> tuple[Tensor, bool]:
    if x.ndim == rank - 1:
        return x.reshape((1,) + x.shape), True
    if x.ndim != rank:
        raise RuntimeError(f"{op}: expected {rank - 1}D or {rank}D input, got shape {x.shape}")
    return x, False


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0,  # noqa: A002
           stride: Any = 1) -> Tensor:
    """Every kh×kw window of (N, C, H, W) input as a column: (N, C·kh·kw, L) with L the number
    of windows (PyTorch's ``F.unfold``, im2col)."""
    x, single = _batched("unfold", input if isinstance(input, Tensor) else Tensor(input), 4)
    kernel, dil = _pair("unfold", "kernel_size", kernel_size), _pair("unfold", "dilation",
                                                                      dilation)
    pad, step = _pair("unfold", "padding", padding), _pair("unfold", "stride", stride)
    out_hw = _out_hw("unfold", x.shape[2:], kernel, dil, pad, step)
    y = Unfold.apply(x, geometry=(kernel, dil, pad, step, out_hw))
    return y.reshape(y.shape[1:]) if single else y


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1,  # noqa: A002
         padding: Any = 0, stride: Any = 1) -> Tensor:
    """Columns (N, C·kh·kw, L) added back onto their windows of an (N, C, H, W) output with
    (H, W) = ``output_size`` (PyTorch's ``F.fold``, col2im; overlapping windows add up)."""
    x, single = _batched("fold", input if isinstance(input, Tensor) else Tensor(input), 3)
    size = _pair("fold", "output_size", output_size)
    kernel, dil = _pair("fold", "kernel_size", kernel_size), _pair("fold", "dilation", dilation)
    pad, step = _pair("fold", "padding", padding), _pair("fold", "stride", stride)
    out_hw = _out_hw("fold", size, kernel, dil, pad, step)
    k = kernel[0] * kernel[1]
    if x.shape[1] % k:
        raise RuntimeError(f"fold: expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={x.shape[1]} and "
                           f"kernel_size={kernel}")
    if x.shape[2] != out_hw[0] * out_hw[1]:
        raise RuntimeError(f"fold: given output_size={size}, kernel_size={kernel}, "
                           f"dilation={dil}, padding={pad}, stride={step}, expected size of "
                           f"input's dimension 2 to match the calculated number of sliding "
                           f"blocks {out_hw[0]} * {out_hw[1]} = {out_hw[0] * out_hw[1]}, but got "
                           f"input.size(2)={x.shape[2]}.")
    y = Fold.apply(x, size=size, geometry=(kernel, dil, pad, step, out_hw))
    return y.reshape(y.shape[1:]) if single else y
