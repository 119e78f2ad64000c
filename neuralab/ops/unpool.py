"""Max pooling's switches and their inverse: the ``*_with_indices`` forms and ``max_unpool``.

Max pooling remembers, for every window, where its maximum was (the "switch" of Lecture 12's
backward pass). ``max_pool2d_with_indices`` and its siblings return those positions, as flat
indices into each input plane, alongside the pooled map. ``max_unpool`` uses them to go back:
it puts each pooled value at its switch position in an otherwise zero map of the input's size
(the "unpooling" of deconvolutional networks and SegNet's decoder):

    z[n, c, idx[n, c, k]] = y[n, c, k],   zero elsewhere;     ȳ[n, c, k] = z̄[n, c, idx[n, c, k]].
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import IndexOutOfRange
from neuralab.ops.conv3d import as_sizes
from neuralab.ops.pool import adaptive_max_pool2d, max_pool2d
from neuralab.ops.pool1d import adaptive_max_pool1d, max_pool1d
from neuralab.ops.pool3d import adaptive_max_pool3d, max_pool3d

__all__ = [
    "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices", "max_unpool1d", "max_unpool2d", "max_unpool3d",
]


# ----------------------------------------------------------------------------- *_with_indices
def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None,  # noqa: A002
                            padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                            return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``max_pool1d`` that always returns (output, indices), as PyTorch's function of this name
    (``return_indices`` is accepted and ignored, as there)."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None,  # noqa: A002
                            padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                            return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``max_pool2d`` that always returns (output, indices); indices are h·W + w per plane."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None,  # noqa: A002
                            padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                            return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``max_pool3d`` that always returns (output, indices); indices are t·H·W + y·W + x."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size: Any,  # noqa: A002
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``adaptive_max_pool1d`` that always returns (output, indices)."""
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size: Any,  # noqa: A002
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``adaptive_max_pool2d`` that always returns (output, indices)."""
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size: Any,  # noqa: A002
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``adaptive_max_pool3d`` that always returns (output, indices)."""
    return adaptive_max_pool3d(input, output_size, True)


# ----------------------------------------------------------------------------- max_unpool
class MaxUnpool(Function):
    """z = zeros of the output size, with z[n, c, idx[n, c, k]] = y[n, c, k] (flat per plane).

    Backward gathers: ȳ[n, c, k] = z̄[n, c, idx[n, c, k]]; the indices get no gradient.
    Shapes: y and idx (N, C, *in) -> z (N, C, *out).
    """

    @staticmethod
    def check(y, indices, *, out, op):
        if y.dtype.kind != "f":
            raise TypeError(f"{op}: input must be a floating-point tensor, got {y.dtype}")
        if indices.dtype != xp.int64:
            raise TypeError(f"{op}: indices must be int64 (as max pooling's return_indices "
                            f"gives them), got {indices.dtype}")
        if indices.shape != y.shape:
            raise ValueError(f"{op}: indices must have the shape of the input {y.shape}, got "
                             f"{indices.shape}")
        plane = int(xp.prod(out))
        flat = indices.array
        if flat.size and (flat.min() < 0 or flat.max() >= plane):
            bad = int(flat.min()) if flat.min() < 0 else int(flat.max())
            raise IndexOutOfRange(f"{op}: found an invalid max index {bad}: the output planes "
                                  f"are {'x'.join(map(str, out))} ({plane} positions); were the "
                                  "indices made by a max pooling with these settings?")

    @staticmethod
    def forward(ctx, y, indices, *, out, op):
        N, C = y.shape[:2]
        planes = xp.arange(N * C)[:, None]
        idx = indices.reshape(N * C, -1)
        z = xp.zeros((N * C, int(xp.prod(out))), dtype=y.dtype)
        z[planes, idx] = y.reshape(N * C, -1)
        ctx.planes, ctx.idx, ctx.y_shape = planes, idx, y.shape
        return z.reshape((N, C) + out)

    @staticmethod
    def backward(ctx, dz):
        dz = dz.reshape(dz.shape[0] * dz.shape[1], -1)
        return dz[ctx.planes, ctx.idx].reshape(ctx.y_shape), None


def _output_size(op: str, in_size, kernel, stride, padding, output_size) -> tuple[int, ...]:
    """The default (n − 1)·s − 2p + k per axis, or ``output_size`` if within a stride of it."""
    default = tuple((n - 1) * s - 2 * p + k for n, k, s, p in zip(in_size, kernel, stride,
                                                                  padding))
    if output_size is None:
        out = default
    else:
        size = list(output_size)
        if len(size) == len(kernel) + 2:
            size = size[2:]
        if len(size) != len(kernel):
            raise ValueError(f"{op}: output_size should be a sequence containing {len(kernel)} "
                             f"or {len(kernel) + 2} elements, but it has a length of "
                             f"{len(size)}")
        for d, (o, m, s) in enumerate(zip(size, default, stride)):
            if not m - s < o < m + s:
                raise ValueError(f"{op}: invalid output_size {tuple(output_size)} (dim {d} must "
                                 f"be between {m - s} and {m + s}, exclusive)")
        out = tuple(int(o) for o in size)
    if min(out) < 1:
        raise ValueError(f"{op}: the output would be {out}; use less padding")
    return out


def _max_unpool(n: int, input: Any, indices: Any, kernel_size: Any, stride: Any,  # noqa: A002
                padding: Any, output_size: Any) -> Tensor:
    op = f"max_unpool{n}d"
    if not isinstance(input, Tensor) or not isinstance(indices, Tensor):
        raise TypeError(f"{op}: input and indices must be Tensors, got {type(input).__name__} "
                        f"and {type(indices).__name__}")
    if input.ndim not in (n + 1, n + 2):
        raise ValueError(f"{op}: input must be {n + 2}-D (N, C, ...) or {n + 1}-D (C, ...), got "
                         f"shape {input.shape}")
    kernel = as_sizes(op, "kernel_size", kernel_size, n, 1)
    stride_ = kernel if stride is None or stride == () or stride == [] else \
        as_sizes(op, "stride", stride, n, 1)
    padding_ = as_sizes(op, "padding", padding, n, 0)
    out = _output_size(op, input.shape[-n:], kernel, stride_, padding_, output_size)
    unbatched = input.ndim == n + 1
    if unbatched:
        input = input.unsqueeze(0)  # noqa: A001
        indices = indices.unsqueeze(0) if indices.ndim == n + 1 else indices
    z = MaxUnpool.apply(input, indices, out=out, op=op)
    return z.squeeze(0) if unbatched else z


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any,  # noqa: A002
                 stride: Any = None, padding: Any = 0, output_size: Any = None) -> Tensor:
    """The inverse of max_pool1d, as ``torch.nn.functional.max_unpool1d``: each value goes to
    its index in a zero sequence of length (L − 1)·s − 2p + k (or ``output_size``).

    Args:
        input: (N, C, L) or (C, L), the pooled values.
        indices: the int64 argmax positions from ``max_pool1d(..., return_indices=True)``.
        kernel_size, stride, padding: those of the max pooling (stride defaults to kernel_size).
        output_size: the size to restore (L_out, or (N, C, L_out)), within a stride of the
            default.
    """
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any,  # noqa: A002
                 stride: Any = None, padding: Any = 0, output_size: Any = None) -> Tensor:
    """The inverse of max_pool2d, as ``torch.nn.functional.max_unpool2d``: each value goes to
    its flat index h·W + w in a zero map of size (H − 1)·s − 2p + k (or ``output_size``).

    Args:
        input: (N, C, H, W) or (C, H, W), the pooled values.
        indices: the int64 argmax positions from ``max_pool2d(..., return_indices=True)``.
        kernel_size, stride, padding: those of the max pooling (ints or pairs).
        output_size: (H_out, W_out) or (N, C, H_out, W_out), within a stride of the default
            (to undo a pooling that dropped a last row or column).
    """
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size: Any,  # noqa: A002
                 stride: Any = None, padding: Any = 0, output_size: Any = None) -> Tensor:
    """The inverse of max_pool3d, as ``torch.nn.functional.max_unpool3d``: each value goes to
    its flat index t·H·W + y·W + x in a zero volume of size (D − 1)·s − 2p + k per axis.

    Args:
        input: (N, C, D, H, W) or (C, D, H, W), the pooled values.
        indices: the int64 argmax positions from ``max_pool3d(..., return_indices=True)``.
        kernel_size, stride, padding: those of the max pooling (ints or triples).
        output_size: (D, H, W) or (N, C, D, H, W), within a stride of the default.
    """
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)
