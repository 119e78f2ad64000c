"""3-D convolution by vol2col and one matrix product (Lectures 11-12, for volumes and videos).

A 3-D convolution slides a kd×kh×kw kernel through a volume (a CT scan, or a video with time as
its depth). For every output position (n, t, y, x) and output channel o

    z[n, o, t, y, x] = b[o] + Σ_{c, i, j, l} w[o, c, i, j, l] · x[n, c, t·s₀ + i·d₀ − p₀,
                                                                  y·s₁ + j·d₁ − p₁,
                                                                  x·s₂ + l·d₂ − p₂].

As in two dimensions (``ops/conv.py``), gather each receptive field of the zero-padded input into a
row of a column matrix (vol2col, one strided slice per kernel tap) and the whole layer is one
matrix product per group:

    Z (N·OD·OH·OW, O) = X_col (N·OD·OH·OW, C·kd·kh·kw) @ W_mat (C·kd·kh·kw, O) + b.

Backpropagation is the lecture's two products, W̄_mat = X_colᵀ Z̄ and X̄_col = Z̄ W_matᵀ, the latter
scattered back onto the volume by col2vol (a voxel in several receptive fields receives the sum).
The transposed convolution runs that x̄ computation forward.

This is a reference implementation: clear and vectorised (Python loops run over kernel taps only),
not tuned; the 2-d ops have fast kernels, these have none.
"""

from __future__ import annotations

import itertools
from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import require_float

__all__ = ["conv3d", "conv_transpose3d"]


def as_sizes(op: str, name: str, value: Any, n: int, minimum: int) -> tuple[int, ...]:
    """An n-tuple of ints from an int or an n-sequence of ints, each at least ``minimum``."""
    def is_int(v: Any) -> bool:
        return isinstance(v, (int, xp.integer)) and not isinstance(v, bool)

    if is_int(value):
        sizes = (int(value),) * n
    elif isinstance(value, (tuple, list)) and len(value) == n and all(is_int(v) for v in value):
        sizes = tuple(int(v) for v in value)
    else:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if min(sizes) < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return sizes


def as_triple(op: str, name: str, value: Any, minimum: int) -> tuple[int, int, int]:
    """A (d, h, w) triple from an int or a 3-sequence of ints, each at least ``minimum``."""
    return as_sizes(op, name, value, 3, minimum)


def conv3d_padding(op: str, padding: Any, kernel: tuple[int, ...], stride: tuple[int, ...],
                   dilation: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """((front, back), (top, bottom), (left, right)) from an int, a triple, 'valid' or 'same'.

    'same' pads d·(k − 1) in total along each axis; an odd total puts the extra one at the end,
    as PyTorch does. It needs stride 1 (a strided layer cannot keep the size).
    """
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * 3
        if padding == "same":
            if stride != (1, 1, 1):
                raise ValueError(f"{op}: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride}); give the padding as a number")
            totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in totals)
        raise ValueError(f"{op}: padding must be an int, a tuple of 3 ints, 'same' or 'valid', "
                         f"got {padding!r}")
    return tuple((p, p) for p in as_triple(op, "padding", padding, 0))


# ----------------------------------------------------------------------------- the lecture's code
def _taps(kernel: tuple[int, ...], out: tuple[int, ...], stride: tuple[int, ...],
          dilation: tuple[int, ...]):
    """(tap, slices) for every kernel tap (i, j, l): the strided slices of the padded input
    holding, for all output positions at once, the voxel that this tap multiplies."""
    for tap in itertools.product(*(range(k) for k in kernel)):
        yield tap, tuple(slice(t * d, t * d + (o - 1) * s + 1, s)
                         for t, o, s, d in zip(tap, out, stride, dilation))


def vol2col(x_pad: Any, kernel: tuple[int, ...], out: tuple[int, ...], stride: tuple[int, ...],
            dilation: tuple[int, ...]) -> Any:
    """X_col (N·OD·OH·OW, C·kd·kh·kw): row (n, t, y, x) is the receptive field of that output.

    x_pad is the zero-padded input (N, C, Dp, Hp, Wp); the columns run over (c, i, j, l), the
    order of the weight's (C, kd, kh, kw) axes.
    """
    N, C = x_pad.shape[:2]
    cols = xp.empty((N, C, *kernel, *out), dtype=x_pad.dtype)  # (N, C, kd, kh, kw, OD, OH, OW)
    for tap, slices in _taps(kernel, out, stride, dilation):
        cols[(slice(None), slice(None), *tap)] = x_pad[(slice(None), slice(None), *slices)]
    return cols.transpose(0, 5, 6, 7, 1, 2, 3, 4).reshape(N * out[0] * out[1] * out[2], -1)


def col2vol(cols: Any, pad_shape: tuple[int, ...], kernel: tuple[int, ...], out: tuple[int, ...],
            stride: tuple[int, ...], dilation: tuple[int, ...]) -> Any:
    """The adjoint of vol2col: add each row of cols back onto its receptive field.

    A voxel that lies in several receptive fields receives the sum of their entries. Returns an
    array of ``pad_shape`` (N, C, Dp, Hp, Wp).
    """
    N, C = pad_shape[:2]
    d = cols.reshape(N, *out, C, *kernel).transpose(0, 4, 5, 6, 7, 1, 2, 3)  # (N, C, k.., out..)
    vol = xp.zeros(pad_shape, dtype=cols.dtype)
    for tap, slices in _taps(kernel, out, stride, dilation):
        vol[(slice(None), slice(None), *slices)] += d[(slice(None), slice(None), *tap)]
    return vol


def _pad(x: Any, padding: tuple[tuple[int, int], ...]) -> Any:
    """x (N, C, D, H, W) with zeros around each volume."""
    return xp.pad(x, ((0, 0), (0, 0)) + tuple(padding))


def _crop(x_pad: Any, padding: tuple[tuple[int, int], ...]) -> Any:
    """The inverse of _pad."""
    return x_pad[(slice(None), slice(None),
                  *(slice(p0, n - p1) for (p0, p1), n in zip(padding, x_pad.shape[2:])))]


def _grouped(w: Any, groups: int) -> Any:
    """W_mat per group: (g, C/g·kd·kh·kw, O/g), from w (O, C/g, kd, kh, kw)."""
    return w.reshape(groups, w.shape[0] // groups, -1).transpose(0, 2, 1)


def conv_forward(x_col: Any, w: Any, groups: int) -> Any:
    """Z = X_col @ W_mat, one product per group (a batched matmul over the groups)."""
    w_mat = _grouped(w, groups)  # (g, K, Og)
    M = x_col.shape[0]
    z = x_col.reshape(M, groups, -1).transpose(1, 0, 2) @ w_mat  # (g, M, Og)
    return z.transpose(1, 0, 2).reshape(M, -1)


def conv_input_grad(dz: Any, w: Any, groups: int) -> Any:
    """X̄_col = Z̄ @ W_matᵀ per group (then col2vol gives x̄)."""
    w_mat = _grouped(w, groups)
    M = dz.shape[0]
    dx_col = dz.reshape(M, groups, -1).transpose(1, 0, 2) @ w_mat.transpose(0, 2, 1)  # (g, M, K)
    return dx_col.transpose(1, 0, 2).reshape(M, -1)


def conv_weight_grad(x_col: Any, dz: Any, w_shape: tuple[int, ...], groups: int) -> Any:
    """W̄_mat = X_colᵀ @ Z̄ per group, as a weight (O, C/g, kd, kh, kw)."""
    M = x_col.shape[0]
    xg = x_col.reshape(M, groups, -1).transpose(1, 2, 0)  # (g, K, M)
    dw_mat = xg @ dz.reshape(M, groups, -1).transpose(1, 0, 2)  # (g, K, Og)
    return dw_mat.transpose(0, 2, 1).reshape(w_shape)


def _as_rows(z: Any) -> Any:
    """(N, O, D, H, W) -> (N·D·H·W, O): the rows of Z."""
    return z.transpose(0, 2, 3, 4, 1).reshape(-1, z.shape[1])


def _as_volumes(z: Any, N: int, out: tuple[int, ...]) -> Any:
    """(N·OD·OH·OW, O) -> (N, O, OD, OH, OW)."""
    return z.reshape(N, *out, z.shape[1]).transpose(0, 4, 1, 2, 3)


def _check_common(op: str, x: Tensor, w: Tensor, b: tuple, groups: Any, in_name: str,
                  w_layout: str) -> None:
    require_float(op, "input", x)
    require_float(op, "weight", w)
    if x.ndim != 5:
        raise ValueError(f"{op}: expected a 4-D (unbatched) or 5-D (batched) input "
                         f"({in_name}), got shape {x.shape}")
    if w.ndim != 5:
        raise ValueError(f"{op}: weight must be 5-D {w_layout}, got shape {w.shape}")
    if x.dtype != w.dtype:
        raise TypeError(f"{op}: input is {x.dtype} but the weight is {w.dtype}; convert one "
                        "with .float() or .double()")
    if isinstance(groups, bool) or not isinstance(groups, (int, xp.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if b and b[0].dtype != w.dtype:
        raise TypeError(f"{op}: bias is {b[0].dtype} but the weight is {w.dtype}")


# ----------------------------------------------------------------------------- the ops
class Conv3d(Function):
    """z = conv3d(x, w) + b (cross-correlation), by vol2col and one matrix product per group.

    Shapes: x (N, C, D, H, W), w (O, C/g, kd, kh, kw), b (O,) -> z (N, O, OD, OH, OW) with
    OD = ⌊(D + p_front + p_back − d·(kd − 1) − 1)/s⌋ + 1 (likewise OH, OW).

    With X_col the receptive fields as rows and W_mat the weights as a matrix (per group):
        Z = X_col @ W_mat + b,
        W̄_mat = X_colᵀ @ Z̄,      b̄ = Σ_{n,t,y,x} z̄,
        x̄ = col2vol(Z̄ @ W_matᵀ).
    """

    @staticmethod
    def check(x, w, *b, stride, padding, dilation, groups):
        op = "conv3d"
        _check_common(op, x, w, b, groups, "N, C, D, H, W",
                      "(out_channels, in_channels/groups, kd, kh, kw)")
        O, Cg = w.shape[:2]
        if O % groups:
            raise ValueError(f"{op}: groups={groups} must divide the {O} output channels of the "
                             f"weight (shape {w.shape})")
        if x.shape[1] != Cg * groups:
            raise ValueError(f"{op}: input has {x.shape[1]} channels but the weight {w.shape} "
                             f"expects groups·in_channels/groups = {groups}·{Cg} = "
                             f"{groups * Cg}")
        if b and b[0].shape != (O,):
            raise ValueError(f"{op}: bias must have shape ({O},) (one per output channel), got "
                             f"{b[0].shape}")
        for axis, n, k, d, (p0, p1) in zip(("depth", "height", "width"), x.shape[2:],
                                          w.shape[2:], dilation, padding):
            if d * (k - 1) + 1 > n + p0 + p1:
                raise ValueError(
                    f"{op}: the kernel {tuple(w.shape[2:])} (dilation {dilation}) spans "
                    f"{d * (k - 1) + 1} voxels along the {axis} but the padded input is only "
                    f"{n + p0 + p1} (input shape {x.shape}); the input is too small for this "
                    "layer: use a larger input, more padding or a smaller kernel")

    @staticmethod
    def forward(ctx, x, w, *b, stride, padding, dilation, groups):
        x_pad = _pad(x, padding)  # (N, C, Dp, Hp, Wp)
        out = tuple((n - d * (k - 1) - 1) // s + 1
                    for n, k, s, d in zip(x_pad.shape[2:], w.shape[2:], stride, dilation))
        x_col = vol2col(x_pad, w.shape[2:], out, stride, dilation)  # (N·OD·OH·OW, C·kd·kh·kw)
        z = conv_forward(x_col, w, groups)  # Z = X_col W_mat
        if b:
            z += b[0]
        ctx.x_col, ctx.w, ctx.pad_shape = x_col, w, x_pad.shape
        ctx.params = stride, padding, dilation, groups
        return _as_volumes(z, x.shape[0], out)

    @staticmethod
    def backward(ctx, dout):
        stride, padding, dilation, groups = ctx.params
        w = ctx.w
        dz = _as_rows(dout)  # Z̄ (N·OD·OH·OW, O)
        dw = conv_weight_grad(ctx.x_col, dz, w.shape, groups)  # W̄_mat = X_colᵀ Z̄
        dx_col = conv_input_grad(dz, w, groups)  # X̄_col = Z̄ W_matᵀ
        dx = _crop(col2vol(dx_col, ctx.pad_shape, w.shape[2:], dout.shape[2:], stride,
                           dilation), padding)
        db = (dz.sum(axis=0),) if len(ctx.needs_input_grad) > 2 else ()
        return (dx, dw, *db)


def _tensors(op: str, input: Any, weight: Any, bias: Any) -> None:  # noqa: A002
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: input and weight must be Tensors, got {type(input).__name__} "
                        f"and {type(weight).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{op}: bias must be a Tensor or None, got {type(bias).__name__}")
    if weight.ndim != 5:
        raise ValueError(f"{op}: weight must be 5-D, got shape {weight.shape}")
    if input.ndim not in (4, 5):
        raise ValueError(f"{op}: expected a 4-D (unbatched) or 5-D (batched) input, got shape "
                         f"{input.shape}")


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """3-D convolution (cross-correlation) of volumes, as ``torch.nn.functional.conv3d``.

    The 2-d layer of Lecture 11 with one more axis: the kernel is shared by every position of the
    volume, so a feature is detected wherever (and whenever, for video) it occurs.

    Args:
        input: (N, C, D, H, W), or (C, D, H, W) unbatched.
        weight: (O, C/groups, kd, kh, kw).
        bias: (O,) or None.
        stride: an int or (sd, sh, sw).
        padding: zeros on each side: an int, a triple, 'valid' (0) or 'same' (stride 1 only).
        dilation: spacing of the kernel taps (int or triple).
        groups: channel groups convolved separately (C and O divisible by it).

    Returns:
        (N, O, OD, OH, OW), OD = ⌊(D + 2p − d·(kd − 1) − 1)/s⌋ + 1 (likewise OH, OW).
    """
    op = "conv3d"
    _tensors(op, input, weight, bias)
    stride_ = as_triple(op, "stride", stride, 1)
    dilation_ = as_triple(op, "dilation", dilation, 1)
    padding_ = conv3d_padding(op, padding, weight.shape[2:], stride_, dilation_)
    x = input.unsqueeze(0) if input.ndim == 4 else input
    inputs = (x, weight) if bias is None else (x, weight, bias)
    out = Conv3d.apply(*inputs, stride=stride_, padding=padding_, dilation=dilation_,
                       groups=groups)
    return out.squeeze(0) if input.ndim == 4 else out


# ----------------------------------------------------------------------------- transposed
def _transposed_size(in_size, kernel, stride, padding, output_padding, dilation):
    """(OD, OH, OW) of a transposed convolution: (n − 1)·s − 2p + d·(k − 1) + op + 1."""
    return tuple((n - 1) * s - p0 - p1 + d * (k - 1) + op + 1 for n, k, s, (p0, p1), op, d
                 in zip(in_size, kernel, stride, padding, output_padding, dilation))


class ConvTranspose3d(Function):
    """z = conv_transpose3d(y, w) + b: a 3-d convolution's x̄ computation, run forward.

    Read w (C_in, C_out/g, kd, kh, kw) as the weight of a convolution from C_out channels to
    C_in. Its transpose maps y back to that convolution's input size:

        Z_col = Y @ W_matᵀ  (Y: the rows of y, (N·D·H·W, C_in)),   z = col2vol(Z_col) + b,

    cropped by the padding. The backward pass is the convolution's forward and weight gradient
    with z̄ as their input:

        ȳ = conv3d(z̄, w):  Ȳ = vol2col(z̄) @ W_mat,     W̄_mat = vol2col(z̄)ᵀ @ Y,     b̄ = Σ z̄.
    """

    @staticmethod
    def check(y, w, *b, stride, padding, output_padding, dilation, groups):
        op = "conv_transpose3d"
        _check_common(op, y, w, b, groups, "N, C_in, D, H, W",
                      "(in_channels, out_channels/groups, kd, kh, kw)")
        if w.shape[0] % groups:
            raise ValueError(f"{op}: groups={groups} must divide the weight's {w.shape[0]} "
                             "input channels")
        if y.shape[1] != w.shape[0]:
            raise ValueError(f"{op}: input has {y.shape[1]} channels but the weight {w.shape} "
                             f"expects {w.shape[0]} (a transposed convolution's weight is "
                             "(in_channels, out_channels/groups, kd, kh, kw))")
        if b and b[0].shape != (w.shape[1] * groups,):
            raise ValueError(f"{op}: bias must have shape ({w.shape[1] * groups},), got "
                             f"{b[0].shape}")
        for p, s, d in zip(output_padding, stride, dilation):
            if p >= max(s, d):
                raise ValueError(f"{op}: output_padding {output_padding} must be smaller than "
                                 f"either the stride {stride} or the dilation {dilation}")
        out = _transposed_size(y.shape[2:], w.shape[2:], stride, padding, output_padding,
                               dilation)
        if min(out) < 1:
            raise ValueError(f"{op}: the output would be {out} (input shape {y.shape}, padding "
                             f"{tuple(p for p, _ in padding)}); use less padding")

    @staticmethod
    def forward(ctx, y, w, *b, stride, padding, output_padding, dilation, groups):
        N, in_size = y.shape[0], y.shape[2:]
        out = _transposed_size(in_size, w.shape[2:], stride, padding, output_padding, dilation)
        pad_shape = (N, w.shape[1] * groups) + tuple(o + p0 + p1
                                                      for o, (p0, p1) in zip(out, padding))
        y_rows = _as_rows(y)  # Y (N·D·H·W, C_in)
        z_col = conv_input_grad(y_rows, w, groups)  # Z_col = Y W_matᵀ
        z = _crop(col2vol(z_col, pad_shape, w.shape[2:], in_size, stride, dilation), padding)
        ctx.y_rows, ctx.w, ctx.params = y_rows, w, (stride, padding, dilation, groups, in_size)
        return z + b[0].reshape(1, -1, 1, 1, 1) if b else z

    @staticmethod
    def backward(ctx, dz):
        stride, padding, dilation, groups, in_size = ctx.params
        w = ctx.w
        dz_col = vol2col(_pad(dz, padding), w.shape[2:], in_size, stride, dilation)
        dy = _as_volumes(conv_forward(dz_col, w, groups), dz.shape[0], in_size)  # conv3d(z̄, w)
        dw = conv_weight_grad(dz_col, ctx.y_rows, w.shape, groups)  # W̄_mat = vol2col(z̄)ᵀ Y
        db = (dz.sum(axis=(0, 2, 3, 4)),) if len(ctx.needs_input_grad) > 2 else ()
        return (dy, dw, *db)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """Transposed 3-D convolution, as ``torch.nn.functional.conv_transpose3d``.

    Each input voxel scatters a copy of the kernel, scaled by its value, into the larger output;
    overlapping copies add up. It is conv3d's backward pass with respect to its input, the
    upsampling layer of volumetric decoders (3-d U-Nets).

    Args:
        input: (N, C_in, D, H, W), or (C_in, D, H, W) unbatched.
        weight: (C_in, C_out/groups, kd, kh, kw) (input channels first).
        bias: (C_out,) or None.
        stride, padding, dilation: those of the convolution being transposed (ints or triples);
            the padding is removed from the output's borders.
        output_padding: extra voxels at the end of each axis (smaller than the stride or the
            dilation), to pick among the sizes a strided convolution maps to one size.
        groups: channel groups, as in conv3d.

    Returns:
        (N, C_out, OD, OH, OW), OD = (D − 1)·s − 2p + d·(kd − 1) + output_padding + 1.
    """
    op = "conv_transpose3d"
    _tensors(op, input, weight, bias)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a tuple of 3 ints (PyTorch has no "
                         f"'same' or 'valid' here), got {padding!r}")
    x = input.unsqueeze(0) if input.ndim == 4 else input
    inputs = (x, weight) if bias is None else (x, weight, bias)
    out = ConvTranspose3d.apply(
        *inputs, stride=as_triple(op, "stride", stride, 1),
        padding=tuple((p, p) for p in as_triple(op, "padding", padding, 0)),
        output_padding=as_triple(op, "output_padding", output_padding, 0),
        dilation=as_triple(op, "dilation", dilation, 1), groups=groups)
    return out.squeeze(0) if input.ndim == 4 else out
