"""The fast batch-norm kernel: channel views of any memory layout, blocked passes, threads.

The reference ``BatchNorm`` in ``neuralab.ops.norm`` is the lecture's formulas with x̂; this module
computes the same thing faster (``nl.set_kernels("fast")``, the default), as PyTorch does: from x,
μ and 1/σ (x̂ is never stored), reading x twice in the forward pass (the statistics, then y) and
x and ȳ twice in the backward pass (the sums, then x̄), without leaving the input's memory layout.

Batch norm applies per-channel vectors (μ, 1/σ, γ, β) to every pixel. In channels-last memory
(a convolution's output) the channels are innermost, so a plain broadcast runs its inner loop
over only C numbers (16 in ResNet's first stage), several times slower than memory speed.
_ChannelView instead sees the pixels as rows of k pixels × C channels against vectors repeated
k times. Tuning options: :class:`NormOptions`, set with :func:`set_options` or :func:`options`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import Any

from neuralab.backend import xp
from neuralab.kernels.layout import axis_order
from neuralab.parallel import get_num_threads, run_chunks

__all__ = ["NormOptions", "get_options", "set_options", "options", "batch_norm_forward",
           "batch_norm_backward"]


@dataclass(frozen=True)
class NormOptions:
    """The tuning options of the fast batch norm (measured on a 2-core EPYC).

    Attributes:
        row_numbers: channels-last pixels are seen as rows of about this many numbers (k
            pixels × C channels) against per-channel vectors repeated k times.
        block_bytes: a pass that needs a temporary ((x − μ)², ȳ ⊙ (x − μ)) goes through x in
            blocks of about this many bytes, so that the temporary stays in the cache.
        parallel_bytes: inputs from this size on have their blocks shared between threads
            (neuralab.parallel); on smaller ones the hand-offs cost more than a second core
            gives back.
        block_per_thread: shared between threads, each thread's share is one block (one numpy
            call per pass) instead of blocks of ``block_bytes``. Measured 2026-11-30 with two
            threads (the process at real-time priority on the loaded 2-core machine, min of
            40): ResNet-20's 8 MiB batch norm (128x16x32x32) forward 1.19 ms and backward
            1.83 ms in two 4 MiB blocks against 2.16 / 2.67 in 512 KiB blocks and 2.10 / 3.75
            in one thread; the 4 MiB one (128x32x16x16) 0.81 / 0.91 in two blocks against
            1.24 / 1.51 in 512 KiB blocks and 0.93 / 1.28 in one thread. Many short calls from
            two threads wait for the GIL in turn (with 128 KiB blocks: 2.5x slower than one
            thread).
    """

    row_numbers: int = 1024
    block_bytes: int = 512 << 10
    parallel_bytes: int = 4 << 20
    block_per_thread: bool = True


class _Current:
    options = NormOptions()


_current = _Current()


def get_options() -> NormOptions:
    """The options the fast batch norm uses now."""
    return _current.options


def set_options(new: NormOptions | None = None, **changes: Any) -> NormOptions:
    """Replace the options (a whole NormOptions, or some fields by name); returns the previous.

    ``set_options()`` with no arguments restores the defaults.
    """
    names = {f.name for f in fields(NormOptions)}
    unknown = sorted(set(changes) - names)
    if unknown:
        raise TypeError(f"set_options: NormOptions has no field {', '.join(unknown)}; the "
                        f"fields are {', '.join(sorted(names))}")
    previous = _current.options
    base = NormOptions() if new is None and not changes else (new or previous)
    _current.options = replace(base, **changes)
    return previous


@contextmanager
def options(**changes: Any) -> Iterator[NormOptions]:
    """``with options(block_bytes=1): ...`` changes some options for a block."""
    previous = set_options(**changes)
    try:
        yield _current.options
    finally:
        set_options(previous)


class _ChannelView:
    """x (N, C, ...) seen as a 3-D array (P, k·C, Q): axis 1 runs over the channels (k times).

    The view follows x's memory, so it is a view and not a copy whenever the channels are the
    innermost axis of memory (a channels-last convolution's output, or a plain (N, C) batch:
    (pixels/k, k·C, 1), with k a power of two dividing the number of pixels) or the outermost
    (a batch-last convolution's output: (1, C, pixels)). Other layouts are copied to
    (N, C, pixels per image).
    """

    def __init__(self, x: Any):
        C = x.shape[1]
        order = axis_order(x)
        memory = x.transpose(order)  # x's axes in memory order
        if not memory.flags.c_contiguous or order[0] != 1 and order[-1] != 1:
            order = tuple(range(x.ndim))
            memory = xp.ascontiguousarray(x)
        self.order, self.memory_shape = order, memory.shape
        self.k = 1
        if order[-1] == 1 and x.ndim > 1:  # channels innermost
            pixels = memory.size // max(C, 1)
            longest = 1 << max(0, (_current.options.row_numbers // max(C, 1)).bit_length() - 1)
            self.k = math.gcd(pixels, longest)
            self.v = memory.reshape(pixels // self.k, self.k * C, 1)
        elif order[0] == 1:  # channels outermost
            self.v = memory.reshape(1, C, -1)
        else:  # C order (N, C, ...)
            self.v = memory.reshape(x.shape[0], C, -1)
        self.shape = x.shape

    def like(self, a: Any) -> Any:
        """Another array of x's shape (a gradient) in the view (copied if its layout differs)."""
        return xp.ascontiguousarray(a.transpose(self.order)).reshape(self.v.shape)

    def unview(self, a: Any) -> Any:
        """An array in the view back to x's shape (N, C, ...), keeping the view's memory."""
        return a.reshape(self.memory_shape).transpose(xp.argsort(self.order))

    def tile(self, vector: Any) -> Any:
        """A per-channel vector (C,) broadcastable against the view: (1, k·C, 1)."""
        return xp.tile(vector, self.k).reshape(1, -1, 1)

    def total(self, a: Any) -> Any:
        """Σ over everything but the channels of an array in the view (or a block of it): (C,)."""
        P, L, Q = a.shape
        if Q == 1:  # a matrix-vector product with ones: the BLAS sums rows at memory speed
            sums = xp.ones(P, dtype=a.dtype) @ a.reshape(P, L)
        else:
            sums = a.sum(axis=(0, 2))
        return sums.reshape(self.k, -1).sum(axis=0)

    def blocks(self) -> list[slice]:
        """Slices of the view's first axis, each about _current.options.block_bytes."""
        P, L, Q = self.v.shape
        step = max(1, _current.options.block_bytes // max(1, L * Q * self.v.itemsize))
        return [slice(p, p + step) for p in range(0, P, step)] or [slice(0, 0)]

    def over_blocks(self, work: Callable[[list[slice]], Any]) -> list[Any]:
        """``work(blocks)`` on runs of consecutive blocks, one run per thread.

        Shared between threads (from ``parallel_bytes`` on, with ``get_num_threads()`` > 1),
        each thread's run is one block (``NormOptions.block_per_thread``): every numpy call
        of a block takes the GIL back, and two threads making many short calls wait for each
        other's (measured below, at ``NormOptions``). The blocks then follow
        ``get_num_threads()``, not the load, like every chunk of ``run_chunks``.
        """
        opts = _current.options
        if self.v.nbytes < opts.parallel_bytes or get_num_threads() == 1:
            blocks = self.blocks()  # one thread (and a one-thread BLAS)
            return run_chunks(len(blocks), lambda b0, b1: work(blocks[b0:b1]), max_threads=1)
        if opts.block_per_thread:
            return run_chunks(self.v.shape[0], lambda p0, p1: work([slice(p0, p1)]))
        blocks = self.blocks()
        return run_chunks(len(blocks), lambda b0, b1: work(blocks[b0:b1]))

    def mean_and_var(self) -> tuple[Any, Any]:
        """The per-channel mean and biased variance of x, in one pass over memory.

        The sums are taken about a shift K, the mean of the first block, which is close to the
        mean, so that no precision is lost: with S₁ = Σ (x − K) and S₂ = Σ (x − K)² over n
        values, μ = K + S₁/n and var = S₂/n − (S₁/n)².
        """
        C = self.shape[1]
        first = self.v[self.blocks()[0]]
        shift = self.total(first) / first.dtype.type(max(1, first.size // max(C, 1)))
        shift_t = self.tile(shift)

        def work(blocks: list[slice]) -> tuple[Any, Any]:
            scratch = xp.empty_like(self.v[blocks[0]])
            s1 = xp.zeros(C, dtype=self.v.dtype)
            s2 = xp.zeros(C, dtype=self.v.dtype)
            for rows in blocks:
                t = scratch[:self.v[rows].shape[0]]
                xp.subtract(self.v[rows], shift_t, out=t)
                s1 += self.total(t)
                t *= t
                s2 += self.total(t)
            return s1, s2

        parts = self.over_blocks(work)
        n = max(1, self.v.size // max(C, 1))
        offset = sum(p[0] for p in parts) / n  # μ − K
        var = sum(p[1] for p in parts) / n - offset * offset
        return shift + offset, xp.maximum(var, 0)

    def grad_sums(self, mean: Any, d: Any) -> tuple[Any, Any]:
        """Σ ȳ and Σ ȳ ⊙ (x − μ) per channel (ȳ = d, in the view), in one pass over memory."""
        mean_t = self.tile(mean)

        def work(blocks: list[slice]) -> tuple[Any, Any]:
            scratch = xp.empty_like(self.v[blocks[0]])
            sum_d = xp.zeros(self.shape[1], dtype=self.v.dtype)
            sum_dx = xp.zeros(self.shape[1], dtype=self.v.dtype)
            for rows in blocks:
                t = scratch[:self.v[rows].shape[0]]
                sum_d += self.total(d[rows])
                xp.subtract(self.v[rows], mean_t, out=t)
                t *= d[rows]
                sum_dx += self.total(t)
            return sum_d, sum_dx

        parts = self.over_blocks(work)
        return sum(p[0] for p in parts), sum(p[1] for p in parts)

    def affine(self, scale: Any, shift: Any, plus: Any = None, plus_scale: Any = None) -> Any:
        """x·scale + shift per channel, block by block, in the view's layout (two passes over
        a block in cache; batch norm's y with scale = γ/σ, shift = β − μ·γ/σ, as PyTorch's CPU
        kernel computes it).

        With ``plus`` (an array in the view): x·scale + shift + plus·plus_scale (batch norm's
        x̄: four passes where (x − μ)·s + t and a subtraction took five).
        """
        scale_t, shift_t = self.tile(scale), self.tile(shift)
        plus_t = None if plus is None else self.tile(plus_scale)
        out = xp.empty_like(self.v)

        def work(blocks: list[slice]) -> None:
            scratch = xp.empty_like(self.v[blocks[0]]) if plus is not None else None
            for rows in blocks:
                o = out[rows]
                xp.multiply(self.v[rows], scale_t, out=o)
                o += shift_t
                if plus is not None:
                    t = scratch[:o.shape[0]]
                    xp.multiply(plus[rows], plus_t, out=t)
                    o += t

        self.over_blocks(work)
        return out


def batch_norm_forward(ctx: Any, x: Any, w: Any, b: Any, stats: tuple[Any, Any] | None,
                       eps: float) -> tuple[Any, Any, Any]:
    """y = (x − μ)·γ/σ + β in x's layout; returns (y, μ, var).

    ``stats``: the running (μ, var) in evaluation, or None to use (and return) the batch's.
    """
    view = _ChannelView(x)
    mean, var = view.mean_and_var() if stats is None else stats
    inv_std = (1.0 / xp.sqrt(var + eps)).astype(x.dtype)  # 1/σ per channel
    scale = inv_std if w is None else w * inv_std  # γ/σ
    # y = x·γ/σ + (β − μ·γ/σ): per-channel vectors in float64, one multiply and one add per x
    shift = -(mean.astype(xp.float64) * scale) + (0.0 if b is None else b)
    y = view.affine(scale, shift.astype(x.dtype))
    ctx.view, ctx.mean, ctx.inv_std, ctx.w, ctx.training = view, mean, inv_std, w, stats is None
    return view.unview(y), mean, var


def batch_norm_backward(ctx: Any, dy: Any) -> tuple[Any, Any, Any]:
    """(x̄ or None, γ̄, β̄) of :func:`batch_norm_forward`."""
    view, mean, inv_std, w = ctx.view, ctx.mean, ctx.inv_std, ctx.w
    n = view.v.size // max(view.shape[1], 1)
    d = view.like(dy)
    sum_dy, sum_dy_xc = view.grad_sums(mean, d)  # Σ ȳ, Σ ȳ ⊙ (x − μ)
    sum_dy_xhat = sum_dy_xc * inv_std  # Σ ȳ ⊙ x̂
    dx = None
    if ctx.needs_input_grad[0]:
        scale = inv_std if w is None else w * inv_std  # γ/σ
        if ctx.training:
            # x̄ = γ/σ·ȳ − (x − μ)·γ/σ²·Σȳx̂/n − γ/σ·Σȳ/n = x·k + (−μ·k − γ/σ·Σȳ/n) + ȳ·γ/σ
            # with k = −γ/σ²·Σȳx̂/n (per-channel vectors in float64)
            k = -(scale.astype(xp.float64) * inv_std * sum_dy_xhat / n)
            shift = -mean.astype(xp.float64) * k - scale.astype(xp.float64) * sum_dy / n
            dx = view.affine(k.astype(d.dtype), shift.astype(d.dtype), plus=d, plus_scale=scale)
        else:
            dx = d * view.tile(scale)
        dx = view.unview(dx)
    return dx, sum_dy_xhat, sum_dy
