"""Convolution by im2col and one matrix multiplication (Lectures 11-12, Convolutional networks).

A convolution layer computes, for every output position (n, y, x) and output channel o,

    z[n, o, y, x] = b[o] + Σ_{c, i, j} w[o, c, i, j] · x[n, c, y·s + i·d − p, x·s + j·d − p]

(cross-correlation, as in every deep-learning library). Written out for all positions at once
this is a single matrix product: gather each receptive field of the zero-padded input into a
row of a "column" matrix (im2col), and multiply by the weights reshaped into a matrix:

    Z (N·OH·OW, O) = X_col (N·OH·OW, C·kh·kw) @ W_mat (C·kh·kw, O) + b

Backpropagation is again matrix products: W̄_mat = X_colᵀ @ Z̄ and X̄_col = Z̄ @ W_matᵀ, with
X̄_col scattered back onto the input (col2im: the copies of one pixel in several receptive fields
receive gradients that add up).

The transposed convolution (``conv_transpose2d``, the "deconvolution" of decoders and
segmentation networks) is this x̄ computation used as a forward pass: its output is
col2im(Y_col @ W_matᵀ), and its backward is the convolution's forward (for the input) and the
convolution's weight gradient with the roles of input and output exchanged.

This file is the lecture's version (the reference kernel set, ``nl.set_kernels("reference")``);
``neuralab.kernels.conv`` computes the same products with memory layouts, cache blocking and
threads (the default, ``"fast"``), and is tested against this code.
"""

from __future__ import annotations

from typing import Any

from neuralab import kernels
from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.kernels import conv as fast_conv
from neuralab.kernels.conv import conv_output_size  # the lecture's output-size arithmetic
from neuralab.ops._checks import require_float

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]


class ConvInputError(ValueError, RuntimeError):
    """An input of the wrong rank for a convolution. PyTorch raises RuntimeError, neuralab's
    checks ValueError: this error is both, so that either ``except`` clause catches it."""


def _add_batch(op: str, input: Tensor, spatial: int) -> tuple[Tensor, bool]:  # noqa: A002
    """``input`` with a batch dimension, and whether it had one.

    As PyTorch, a convolution with ``spatial`` spatial dimensions takes a batch (N, C, *) of
    ``spatial + 2`` dimensions or one example (C, *) of ``spatial + 1``; the example is run as a
    batch of one (the kernels only know batches) and the batch dimension removed again.
    """
    if input.ndim == spatial + 2:
        return input, True
    if input.ndim == spatial + 1:
        return input.unsqueeze(0), False
    hint = ""
    if spatial == 2 and input.ndim == 2:
        hint = ("; a single-channel image (H, W) needs its channel dimension: "
                "x.unsqueeze(0) for (1, H, W)")
    raise ConvInputError(f"Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) input "
                         f"to {op}, but got input of size: {list(input.shape)}{hint}")


def as_pair(op: str, name: str, value: Any, minimum: int) -> tuple[int, int]:
    """An (h, w) pair from an int or a 2-sequence, each at least ``minimum``."""
    if isinstance(value, (int, xp.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, (int, xp.integer)) and not isinstance(v, bool) for v in value):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return pair


def conv_padding(op: str, padding: Any, kernel: tuple[int, int], stride: tuple[int, int],
                  dilation: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    """((top, bottom), (left, right)) from an int, a pair, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{op}: padding='same' needs stride=1, got stride={stride}; "
                                 "give the padding as a number instead")
            # Total padding d·(k − 1) keeps the size; an odd total puts the extra row last,
            # as PyTorch does.
            pads = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                pads.append((total // 2, total - total // 2))
            return pads[0], pads[1]
        raise ValueError(f"{op}: padding must be an int, a pair, 'same' or 'valid', "
                         f"got {padding!r}")
    ph, pw = as_pair(op, "padding", padding, 0)
    return (ph, ph), (pw, pw)


# ----------------------------------------------------------------------------- the lecture's code
def _windows(kernel: tuple[int, int], out_hw: tuple[int, int], stride: tuple[int, int],
             dilation: tuple[int, int]):
    """(i, j, rows, cols) for each kernel tap: the slices of the padded input it reads."""
    (kh, kw), (OH, OW) = kernel, out_hw
    for i in range(kh):
        for j in range(kw):
            r, c = i * dilation[0], j * dilation[1]
            yield i, j, slice(r, r + (OH - 1) * stride[0] + 1, stride[0]), \
                slice(c, c + (OW - 1) * stride[1] + 1, stride[1])


def im2col(x_pad: Any, kernel: tuple[int, int], out_hw: tuple[int, int],
           stride: tuple[int, int], dilation: tuple[int, int]) -> Any:
    """X_col (N·OH·OW, C·kh·kw): row (n, y, x) is the receptive field of output (n, y, x).

    x_pad is the zero-padded input (N, C, Hp, Wp); the columns run over (c, i, j), the order
    of the weight's (C, kh, kw) axes. One strided slice per kernel tap (i, j).
    """
    N, C = x_pad.shape[:2]
    cols = xp.empty((N, C, *kernel, *out_hw), dtype=x_pad.dtype)  # (N, C, kh, kw, OH, OW)
    for i, j, rows, columns in _windows(kernel, out_hw, stride, dilation):
        cols[:, :, i, j] = x_pad[:, :, rows, columns]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_hw[0] * out_hw[1], -1)


def col2im(cols: Any, pad_shape: tuple[int, ...], kernel: tuple[int, int],
           out_hw: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int]) -> Any:
    """The adjoint of im2col: add each row of cols back onto its receptive field.

    A pixel that lies in several receptive fields receives the sum of their entries.
    Returns an array of ``pad_shape`` (N, C, Hp, Wp).
    """
    N, C = pad_shape[:2]
    d = cols.reshape(N, *out_hw, C, *kernel)  # (N, OH, OW, C, kh, kw)
    out = xp.zeros(pad_shape, dtype=cols.dtype)
    for i, j, rows, columns in _windows(kernel, out_hw, stride, dilation):
        out[:, :, rows, columns] += d[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return out


def _pad(x: Any, padding: tuple[tuple[int, int], tuple[int, int]]) -> Any:
    """x (N, C, H, W) with zeros around its images: (N, C, H + pt + pb, W + pl + pr)."""
    return xp.pad(x, ((0, 0), (0, 0)) + tuple(padding))


def _crop(x_pad: Any, padding: tuple[tuple[int, int], tuple[int, int]]) -> Any:
    """The inverse of _pad: the images without their padding."""
    (pt, pb), (pl, pr) = padding
    return x_pad[:, :, pt:x_pad.shape[2] - pb, pl:x_pad.shape[3] - pr]


def _groups(C: int, O: int, kernel: tuple[int, int], groups: int):
    """For each group: its columns of X_col (C/g channels × kh·kw taps) and its O/g outputs."""
    K, Og = C // groups * kernel[0] * kernel[1], O // groups
    return [(slice(g * K, (g + 1) * K), slice(g * Og, (g + 1) * Og)) for g in range(groups)]


def conv_forward(x_col: Any, w: Any, groups: int) -> Any:
    """Z = X_col @ W_mat per group (W_mat = w as a (C/g·kh·kw, O) matrix)."""
    O = w.shape[0]
    w_mat = w.reshape(O, -1).T  # (C/g·kh·kw, O)
    z = xp.empty((x_col.shape[0], O), dtype=x_col.dtype)  # (N·OH·OW, O)
    for k, o in _groups(x_col.shape[1] // (w.shape[2] * w.shape[3]), O, w.shape[2:], groups):
        z[:, o] = x_col[:, k] @ w_mat[:, o]
    return z


def conv_input_grad(dz: Any, w: Any, groups: int) -> Any:
    """X̄_col = Z̄ @ W_matᵀ per group (then col2im gives x̄)."""
    O, Cg, kh, kw = w.shape
    w_mat = w.reshape(O, -1).T
    dx_col = xp.empty((dz.shape[0], groups * Cg * kh * kw), dtype=dz.dtype)
    for k, o in _groups(groups * Cg, O, (kh, kw), groups):
        dx_col[:, k] = dz[:, o] @ w_mat[:, o].T
    return dx_col


def conv_weight_grad(x_col: Any, dz: Any, w_shape: tuple[int, ...], groups: int) -> Any:
    """W̄_mat = X_colᵀ @ Z̄ per group, as a weight (O, C/g, kh, kw)."""
    O = w_shape[0]
    dw_mat = xp.empty((x_col.shape[1] // groups, O), dtype=dz.dtype)
    for k, o in _groups(x_col.shape[1] // (w_shape[2] * w_shape[3]), O, w_shape[2:], groups):
        dw_mat[:, o] = x_col[:, k].T @ dz[:, o]
    return dw_mat.T.reshape(w_shape)


def _as_rows(z: Any) -> Any:
    """(N, O, OH, OW) -> (N·OH·OW, O): the rows of Z."""
    return z.transpose(0, 2, 3, 1).reshape(-1, z.shape[1])


def _as_images(z: Any, N: int, out_hw: tuple[int, int]) -> Any:
    """(N·OH·OW, O) -> (N, O, OH, OW)."""
    return z.reshape(N, *out_hw, z.shape[1]).transpose(0, 3, 1, 2)


# ----------------------------------------------------------------------------- the ops
class Conv2d(Function):
    """z = conv2d(x, w) + b (cross-correlation), by im2col and one matrix product.

    Shapes: x (N, C, H, W), w (O, C/g, kh, kw), b (O,) -> z (N, O, OH, OW) with
    OH = ⌊(H + pt + pb − d·(kh − 1) − 1)/s⌋ + 1 (likewise OW).

    With X_col the receptive fields as rows and W_mat the weights as a matrix (per group):
        Z = X_col @ W_mat + b
        W̄_mat = X_colᵀ @ Z̄,     b̄ = Σ_{n,y,x} z̄,
        x̄ = col2im(Z̄ @ W_matᵀ)  (stride 1: the convolution of z̄, padded by d·(k − 1) − p,
                                 with the kernel flipped in space and in/out channels swapped).
    """

    @staticmethod
    def check(x: Tensor, w: Tensor, *b: Tensor, stride, padding, dilation, groups) -> None:
        op = "conv2d"
        require_float(op, "input", x)
        require_float(op, "weight", w)
        if x.ndim != 4:
            hint = ("; add a batch dimension with x.unsqueeze(0)" if x.ndim == 3 else
                    "; an image batch is (N, C, H, W)")
            raise ValueError(f"conv2d: input must be 4-D (N, C, H, W), got shape {x.shape}{hint}")
        if w.ndim != 4:
            raise ValueError(f"conv2d: weight must be 4-D (out_channels, in_channels/groups, kh, "
                             f"kw), got shape {w.shape}")
        if x.dtype != w.dtype:
            raise TypeError(f"conv2d: input is {x.dtype} but the weight is {w.dtype}; convert one "
                            "with .float() or .double()")
        O, Cg = w.shape[:2]
        C = x.shape[1]
        if isinstance(groups, bool) or not isinstance(groups, (int, xp.integer)) or groups < 1:
            raise ValueError(f"conv2d: groups must be a positive int, got {groups!r}")
        if O % groups:
            raise ValueError(f"conv2d: groups={groups} must divide the {O} output channels of "
                             f"the weight (shape {w.shape})")
        if C != Cg * groups:
            if groups == 1:
                hint = ("; did you build the model for MNIST and feed it CIFAR images?"
                        if (C, Cg) == (3, 1) else
                        "; did you build the model for CIFAR and feed it MNIST images?"
                        if (C, Cg) == (1, 3) else "")
                raise ValueError(f"conv2d: input has {C} channels but the weight expects {Cg} "
                                 f"(weight shape {w.shape}){hint}")
            raise ValueError(f"conv2d: input has {C} channels but the weight expects "
                             f"groups·in_channels/groups = {groups}·{Cg} = {groups * Cg} "
                             f"(weight shape {w.shape}, groups={groups})")
        if b:
            if b[0].shape != (O,):
                raise ValueError(f"conv2d: bias must have shape ({O},) (one per output channel), "
                                 f"got {b[0].shape}")
            if b[0].dtype != w.dtype:
                raise TypeError(f"conv2d: bias is {b[0].dtype} but the weight is {w.dtype}")
        kh, kw = w.shape[2:]
        (pt, pb), (pl, pr) = padding
        Hp, Wp = x.shape[2] + pt + pb, x.shape[3] + pl + pr
        for name, size, k, d in (("height", Hp, kh, dilation[0]), ("width", Wp, kw, dilation[1])):
            if d * (k - 1) + 1 > size:
                raise ValueError(
                    f"conv2d: the kernel ({kh}x{kw}, dilation {dilation}) spans "
                    f"{d * (k - 1) + 1} pixels but the padded input {name} is only {size} "
                    f"(input shape {x.shape}, padding {padding}); the image is too small for "
                    "this layer: use a larger input, more padding or a smaller kernel")


    @staticmethod
    def forward(ctx, x, w, *b, stride, padding, dilation, groups):
        ctx.learner = kernels.learner("conv2d")  # a learner's code (neuralab exercise train)
        if ctx.learner is not None:
            return ctx.learner.conv2d_forward(ctx, x, w, b[0] if b else None, stride, padding,
                                              dilation, groups)
        ctx.fast = kernels.fast()
        if ctx.fast:
            return fast_conv.conv2d_forward(ctx, x, w, b[0] if b else None, stride, padding,
                                            dilation, groups)
        x_pad = _pad(x, padding)  # (N, C, Hp, Wp)
        out_hw = tuple(conv_output_size(n, k, s, 0, d) for n, k, s, d in
                       zip(x_pad.shape[2:], w.shape[2:], stride, dilation))
        x_col = im2col(x_pad, w.shape[2:], out_hw, stride, dilation)  # (N·OH·OW, C·kh·kw)
        z = conv_forward(x_col, w, groups)  # Z = X_col W_mat
        if b:
            z += b[0]
        ctx.x_col, ctx.w, ctx.pad_shape, ctx.params = x_col, w, x_pad.shape, (
            stride, padding, dilation, groups)
        return _as_images(z, x.shape[0], out_hw)

    @staticmethod
    def backward(ctx, dout):
        if ctx.learner is not None:
            return ctx.learner.conv2d_backward(ctx, dout)
        if ctx.fast:
            return fast_conv.conv2d_backward(ctx, dout)
        stride, padding, dilation, groups = ctx.params
        w = ctx.w
        dz = _as_rows(dout)  # Z̄ (N·OH·OW, O)
        dw = conv_weight_grad(ctx.x_col, dz, w.shape, groups)  # W̄_mat = X_colᵀ Z̄
        dx_col = conv_input_grad(dz, w, groups)  # X̄_col = Z̄ W_matᵀ
        dx = _crop(col2im(dx_col, ctx.pad_shape, w.shape[2:], dout.shape[2:], stride,
                          dilation), padding)
        db = (dz.sum(axis=0),) if len(ctx.needs_input_grad) > 2 else ()
        return (dx, dw, *db)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) of a batch of images, as ``torch...conv2d``.

    Lecture 11: each output unit looks at a small window of the input (its receptive field) and
    all units of one output channel share the same weights, so a convolution layer has far fewer
    parameters than a fully connected one and detects a feature wherever it appears.

    Args:
        input: (N, C, H, W), or one image (C, H, W) (the output is then (O, OH, OW)).
        weight: (O, C/groups, kh, kw).
        bias: (O,) or None.
        stride: s, an int or (sh, sw).
        padding: zeros added on each side: an int, (ph, pw), 'valid' (0) or 'same' (output the
            size of the input; stride 1 only).
        dilation: spacing d between kernel taps (an int or a pair).
        groups: split the channels into groups convolved separately (C and O divisible by it).

    Returns:
        (N, O, OH, OW) with OH = ⌊(H + 2p − d·(kh − 1) − 1)/s⌋ + 1.
    """
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError("conv2d: input and weight must be Tensors, got "
                        f"{type(input).__name__} and {type(weight).__name__}")
    if weight.ndim != 4:
        raise ValueError(f"conv2d: weight must be 4-D (out_channels, in_channels/groups, kh, kw), "
                         f"got shape {weight.shape}")
    stride_ = as_pair("conv2d", "stride", stride, 1)
    dilation_ = as_pair("conv2d", "dilation", dilation, 1)
    padding_ = conv_padding("conv2d", padding, weight.shape[2:], stride_, dilation_)
    input, batched = _add_batch("conv2d", input, 2)
    inputs = (input, weight) if bias is None else (input, weight, bias)
    out = Conv2d.apply(*inputs, stride=stride_, padding=padding_, dilation=dilation_,
                       groups=groups)
    return out if batched else out.squeeze(0)


# ----------------------------------------------------------------------------- transposed
class ConvTranspose2d(Function):
    """z = conv_transpose2d(y, w) + b: the x̄ computation of a convolution, run forward.

    Read w (C_in, C_out/g, kh, kw) as the weight of a convolution from C_out channels to C_in.
    That convolution maps an image of z's size to one of y's size; its transpose maps y back:

        Z_col = Y @ W_matᵀ   (Y: the rows of y, (N·H·W, C_in)),   z = col2im(Z_col) + b,

    cropped by the padding: the convolution's x̄ = col2im(Z̄ W_matᵀ) with y in the place of Z̄.
    The backward pass is the convolution's own forward and weight gradient, with z̄ as its input:

        ȳ = conv2d(z̄, w):  Ȳ = im2col(z̄) @ W_mat,     W̄_mat = im2col(z̄)ᵀ @ Y,     b̄ = Σ z̄.

    Shapes: y (N, C_in, H, W) -> z (N, C_out, OH, OW), OH = (H − 1)·s − pt − pb + d·(kh − 1)
    + output_padding + 1. Both kernel sets compute it with the lecture's im2col and col2im.
    """

    @staticmethod
    def check(y, w, *b, stride, padding, output_padding, dilation, groups):
        op = "conv_transpose2d"
        require_float(op, "input", y)
        require_float(op, "weight", w)
        if y.ndim != 4 or w.ndim != 4:
            raise ValueError(f"{op}: input must be 4-D (N, C_in, H, W) and weight 4-D (C_in, "
                             f"C_out/groups, kh, kw), got shapes {y.shape} and {w.shape}")
        if y.dtype != w.dtype:
            raise TypeError(f"{op}: input is {y.dtype} but the weight is {w.dtype}")
        if isinstance(groups, bool) or not isinstance(groups, (int, xp.integer)) or groups < 1 \
                or w.shape[0] % groups:
            raise ValueError(f"{op}: groups must be a positive int dividing the weight's "
                             f"{w.shape[0]} input channels, got {groups!r}")
        if y.shape[1] != w.shape[0]:
            raise ValueError(f"{op}: input has {y.shape[1]} channels but the weight {w.shape} "
                             f"expects {w.shape[0]} (a transposed convolution's weight is "
                             "(in_channels, out_channels/groups, kh, kw))")
        if b and b[0].shape != (w.shape[1] * groups,):
            raise ValueError(f"{op}: bias must have shape ({w.shape[1] * groups},), got "
                             f"{b[0].shape}")
        for op_, s, d in zip(output_padding, stride, dilation):
            if op_ >= max(s, d):
                raise ValueError(f"{op}: output_padding {output_padding} must be smaller than "
                                 f"the stride {stride} or the dilation {dilation}")
        out = _transposed_size(y.shape[2:], w.shape[2:], stride, padding, output_padding,
                               dilation)
        if min(out) < 1:
            raise ValueError(f"{op}: the output would be {out[0]}x{out[1]} (input {y.shape}, "
                             f"padding {padding}); use less padding")

    @staticmethod
    def forward(ctx, y, w, *b, stride, padding, output_padding, dilation, groups):
        N, _, H, W = y.shape
        (pt, pb), (pl, pr) = padding
        out = _transposed_size((H, W), w.shape[2:], stride, padding, output_padding, dilation)
        pad_shape = (N, w.shape[1] * groups, out[0] + pt + pb, out[1] + pl + pr)
        y_rows = _as_rows(y)  # Y (N·H·W, C_in)
        z_col = conv_input_grad(y_rows, w, groups)  # Z_col = Y W_matᵀ
        z = _crop(col2im(z_col, pad_shape, w.shape[2:], (H, W), stride, dilation), padding)
        ctx.y_rows, ctx.w, ctx.params = y_rows, w, (stride, padding, dilation, groups, (H, W))
        return z + b[0].reshape(1, -1, 1, 1) if b else z

    @staticmethod
    def backward(ctx, dz):
        stride, padding, dilation, groups, in_hw = ctx.params
        w = ctx.w
        dz_col = im2col(_pad(dz, padding), w.shape[2:], in_hw, stride, dilation)
        dy = _as_images(conv_forward(dz_col, w, groups), dz.shape[0], in_hw)  # conv2d(z̄, w)
        dw = conv_weight_grad(dz_col, ctx.y_rows, w.shape, groups)  # W̄_mat = im2col(z̄)ᵀ Y
        db = (dz.sum(axis=(0, 2, 3)),) if len(ctx.needs_input_grad) > 2 else ()
        return (dy, dw, *db)


def _transposed_size(in_hw, kernel, stride, padding, output_padding, dilation):
    """(OH, OW) of a transposed convolution: (H − 1)·s − pt − pb + d·(k − 1) + op + 1."""
    return tuple((n - 1) * s - p0 - p1 + d * (k - 1) + op + 1 for n, k, s, (p0, p1), op, d
                 in zip(in_hw, kernel, stride, padding, output_padding, dilation))


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """Transposed 2-D convolution, as ``torch.nn.functional.conv_transpose2d``.

    The "deconvolution" of decoders and segmentation networks: each input pixel scatters a
    copy of the kernel, scaled by its value, into the (larger) output; where copies overlap they
    add up. It is exactly the backward pass of conv2d with respect to its input (Lecture 11), so
    it undoes a convolution's change of size (not its values).

    Args:
        input: (N, C_in, H, W), or one image (C_in, H, W).
        weight: (C_in, C_out/groups, kh, kw) (note: input channels first).
        bias: (C_out,) or None.
        stride, padding, dilation: those of the convolution being transposed (ints or pairs);
            the padding is removed from the output's borders.
        output_padding: extra rows/columns at the bottom/right (smaller than the stride or
            the dilation), to pick among the sizes a strided convolution maps to one size.
        groups: channel groups, as in conv2d.

    Returns:
        (N, C_out, OH, OW), OH = (H − 1)·s − 2p + d·(kh − 1) + output_padding + 1.
    """
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError("conv_transpose2d: input and weight must be Tensors, got "
                        f"{type(input).__name__} and {type(weight).__name__}")
    op = "conv_transpose2d"
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a pair (PyTorch has no 'same' or "
                         f"'valid' here), got {padding!r}")
    ph, pw = as_pair(op, "padding", padding, 0)
    input, batched = _add_batch(op, input, 2)
    inputs = (input, weight) if bias is None else (input, weight, bias)
    out = ConvTranspose2d.apply(
        *inputs, stride=as_pair(op, "stride", stride, 1), padding=((ph, ph), (pw, pw)),
        output_padding=as_pair(op, "output_padding", output_padding, 0),
        dilation=as_pair(op, "dilation", dilation, 1), groups=groups)
    return out if batched else out.squeeze(0)


# ----------------------------------------------------------------------------- 1-d
def _as_single(op: str, name: str, value: Any) -> Any:
    """An int from an int or a 1-sequence (strings such as 'same' pass through)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise TypeError(f"{op}: {name} must be an int or a 1-tuple, got {value!r}")
        return value[0]
    return value


def _check_1d(op: str, input: Tensor, weight: Tensor) -> None:
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: input and weight must be Tensors, got "
                        f"{type(input).__name__} and {type(weight).__name__}")
    _add_batch(op, input, 1)  # (N, C, L) or one sequence (C, L)
    if weight.ndim != 3:
        raise ValueError(f"{op}: weight must be 3-D, got shape {weight.shape} (input "
                         f"{input.shape})")


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D convolution of sequences, as ``torch.nn.functional.conv1d``: conv2d on 1-pixel rows.

    Args:
        input: (N, C, L), or one sequence (C, L).  weight: (O, C/groups, k).  bias: (O,) or None.
        stride, padding ('same', 'valid' or an int), dilation: ints (or 1-tuples).
        groups: as in conv2d.

    Returns:
        (N, O, OL), OL = ⌊(L + 2p − d·(k − 1) − 1)/s⌋ + 1.
    """
    _check_1d("conv1d", input, weight)
    stride, padding, dilation = (_as_single("conv1d", n, v) for n, v in
                                 (("stride", stride), ("padding", padding),
                                  ("dilation", dilation)))
    pad = padding if isinstance(padding, str) else (0, padding)
    out = conv2d(input.unsqueeze(-2), weight.unsqueeze(2), bias, (1, stride), pad,
                 (1, dilation), groups)  # (N, O, 1, OL) or (O, 1, OL)
    return out.squeeze(-2)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """Transposed 1-D convolution, as ``torch.nn.functional.conv_transpose1d``.

    conv_transpose2d on 1-pixel rows; input (N, C_in, L) or (C_in, L), weight
    (C_in, C_out/groups, k).
    """
    _check_1d("conv_transpose1d", input, weight)
    stride, padding, output_padding, dilation = (
        _as_single("conv_transpose1d", n, v) for n, v in
        (("stride", stride), ("padding", padding), ("output_padding", output_padding),
         ("dilation", dilation)))
    out = conv_transpose2d(input.unsqueeze(-2), weight.unsqueeze(2), bias, (1, stride),
                           (0, padding), (0, output_padding), groups, (1, dilation))
    return out.squeeze(-2)
