"""The fast convolution kernel: memory layouts, cache blocking, the shifted path, threads.

The reference ``Conv2d`` in ``neuralab.ops.conv`` is the lecture's version (im2col of the
padded input, Z = X_col W_mat, W̄_mat = X_colᵀ Z̄, x̄ = col2im(Z̄ W_matᵀ)); this module computes
the same products faster, chosen by ``nl.set_kernels("fast")`` (the default) and tested against
the reference (tests/ops/test_conv_paths.py).

Memory layout matters for speed. The rows of X_col are laid out channels-last (NHWC), so that a
row is a few contiguous runs of kw·C numbers, and the product is done in blocks of a few images
so that each block of X_col stays in the processor cache between being written and being read
(the whole X_col of a ResNet layer is about 75 MB, and a round trip through main memory costs
more than the arithmetic). The output is returned as an NCHW view of channels-last memory; the
next convolution reads it back without a copy. A layer with very few input channels (LeNet-5's
layers, the first layer on grey images) uses a batch-last layout instead, (C, H, W, N) memory
and Z (O, OH·OW·N) = W (O, C·kh·kw) @ X_colᵀ, whose copies run along whole image rows of the
batch rather than along the few channels (see _prefers_batch_last).

Each block of images is zero-padded into a small scratch array, so the batch is never copied
whole. Stride-1 layers with 16 channels (ResNet's first stage) skip im2col altogether: in a
block of padded images seen as rows of C numbers, kernel tap (i, j) reads the same rows shifted
by i·d·Wp + j·d, so Z = Σ_(i,j) X[r + shift_ij] @ W_ij, kh·kw products of strided views of the
block (see _conv_shifted). x̄ of a stride-1 layer is the transposed convolution (z̄ padded,
correlated with the flipped kernel; measured faster than col2im's strided slice-adds even where
it multiplies more numbers); other strides use col2im. The blocks are independent and are shared
between threads (neuralab.parallel); in the batch-last layout the output rows of X_colᵀ, the
column chunks of its products and the channels of x̄ are.

Every tuning constant is a field of :class:`ConvOptions`; change them with :func:`set_options`
or, for a block, :func:`options`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import Any

from neuralab.backend import xp
from neuralab.parallel import matmul_rows, product_threads, run_chunks

__all__ = ["ConvOptions", "get_options", "set_options", "options", "conv2d_forward",
           "conv2d_backward"]


@dataclass(frozen=True)
class ConvOptions:
    """The tuning options of the fast convolution (measured on a 2-core EPYC).

    Attributes:
        block_bytes: size of one block of X_col: small enough to stay in the cache, large
            enough that the matrix product of a block runs at full speed (1-2 MiB is best when
            the machine is busy, up to 8 MiB when it is not).
        gemm_chunk_bytes: batch-last products go through the BLAS in chunks of X_colᵀ columns
            of about this many bytes (see _matmul_by_columns) ...
        gemm_min_columns: ... and at least this many columns.
        keep_cols_bytes: a batch-last X_colᵀ up to this size is built in one piece and kept
            for the backward pass (LeNet-5's layers at batch 64: 5 MB and 3.8 MB; measured
            0.7 ms a step faster than rebuilding).
        batch_last_below: inputs with C·kw below this use the batch-last layout ...
        batch_last_large_kernel_below: ... and so do kernels of 25 taps or more with fewer
            channels than this (see _prefers_batch_last).
        layout: None chooses the layout by the two options above; "batch_last" or
            "channels_last" forces one (the path tests and timing scripts use this).
        shifted_channels: stride-1 channels-last layers with a number of input channels in
            this inclusive range skip im2col (see _conv_shifted; measured in ResNet-20: 16
            channels gain, 32 lose) ...
        shifted_block_bytes: ... in blocks of images of about this many bytes (192 KiB beat 96
            and 384).
        batch_last_threads: the most threads the batch-last layout's loops and products use
            (None: ``get_num_threads()``). One: with two threads from neuralab's pool LeNet-5's
            layers ran slower than in one (2026-11-30, the process at real-time priority on
            the loaded 2-core machine, medians of 60: at batch 64 the 1->6 layer's forward /
            backward 0.97 / 0.46 ms against 0.51 / 0.32 in one thread, the 6->16 layer's
            1.01 / 1.49 against 0.58 / 1.38; at batch 1024 31.3 / 28.6 against 16.6 / 8.4
            and 23.1 / 46.1 against 13.2 / 27.0; on the quiet machine LeNet-5's two-thread
            epoch was 5-10% slower than its one-thread epoch, BENCHMARKS.md).
    """

    block_bytes: int = 2 << 20
    gemm_chunk_bytes: int = 512 << 10
    gemm_min_columns: int = 2048
    keep_cols_bytes: int = 8 << 20
    batch_last_below: int = 8
    batch_last_large_kernel_below: int = 16
    layout: str | None = None
    shifted_channels: tuple[int, int] = (16, 16)
    shifted_block_bytes: int = 192 << 10
    batch_last_threads: int | None = 1


class _Current:
    options = ConvOptions()


_current = _Current()


def get_options() -> ConvOptions:
    """The options the fast convolution uses now."""
    return _current.options


def set_options(new: ConvOptions | None = None, **changes: Any) -> ConvOptions:
    """Replace the options (a whole ConvOptions, or some fields by name); returns the previous.

    ``set_options()`` with no arguments restores the defaults.
    """
    names = {f.name for f in fields(ConvOptions)}
    unknown = sorted(set(changes) - names)
    if unknown:
        raise TypeError(f"set_options: ConvOptions has no field {', '.join(unknown)}; the "
                        f"fields are {', '.join(sorted(names))}")
    if changes.get("layout", None) not in (None, "batch_last", "channels_last"):
        raise ValueError(f"set_options: layout must be None, 'batch_last' or 'channels_last', "
                         f"got {changes['layout']!r}")
    threads = changes.get("batch_last_threads", None)
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise ValueError(f"set_options: batch_last_threads must be None or a positive int, "
                         f"got {threads!r}")
    previous = _current.options
    base = ConvOptions() if new is None and not changes else (new or previous)
    _current.options = replace(base, **changes)
    return previous


@contextmanager
def options(**changes: Any) -> Iterator[ConvOptions]:
    """``with options(layout="batch_last"): ...`` changes some options for a block."""
    previous = set_options(**changes)
    try:
        yield _current.options
    finally:
        set_options(previous)


def _batch_last_threads() -> int | None:
    """``max_threads`` for the batch-last layout's loops (ConvOptions.batch_last_threads)."""
    return _current.options.batch_last_threads


def conv_output_size(size: int, kernel: int, stride: int, pad_total: int, dilation: int) -> int:
    """out = ⌊(in + 2p − d·(k − 1) − 1) / s⌋ + 1 (2p = both sides)."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1

# ----------------------------------------------------------------------------- array helpers
def _padded_blocks(x: Any, pads: tuple[tuple[int, int], tuple[int, int]], step: int,
                   lo: int, hi: int):
    """Blocks of ``step`` images lo..hi of x (N, H, W, C), zero-padded: (n0, n1, (m, Hp, Wp, C)).

    Each block is padded into one small scratch array whose border stays zero, so the batch is
    never copied whole: the block is in the cache when im2col reads it, and a layer keeps only
    its input, not a padded copy, for the backward pass.
    """
    (pt, pb), (pl, pr) = pads
    _, H, W, C = x.shape
    if pt == pb == pl == pr == 0 and x.flags.c_contiguous:
        for n0 in range(lo, hi, step):  # the output of an earlier conv: read in place
            yield n0, min(hi, n0 + step), x[n0:min(hi, n0 + step)]
        return
    scratch = xp.zeros((min(step, hi - lo), H + pt + pb, W + pl + pr, C), dtype=x.dtype)
    for n0 in range(lo, hi, step):
        n1 = min(hi, n0 + step)
        scratch[:n1 - n0, pt:pt + H, pl:pl + W] = x[n0:n1]
        yield n0, n1, scratch[:n1 - n0]


def _over_blocks(N: int, step: int, work: Callable[[int, int], Any]) -> list[Any]:
    """``work(lo, hi)`` on ranges of whole blocks of ``step`` images, one range per thread.

    The blocks of a layer are independent (each writes its own rows of the output), so they
    are shared out between neuralab's threads (neuralab.parallel); results come back in order.
    """
    blocks = -(-N // step)
    return run_chunks(blocks, lambda b0, b1: work(b0 * step, min(N, b1 * step)))


def _block_images(rows_per_image: int, cols: int, itemsize: int, n: int) -> int:
    """How many images go in one block of X_col (at least 1)."""
    budget = _current.options.block_bytes
    return max(1, min(n, budget // max(1, rows_per_image * cols * itemsize)))


def _im2col(x_pad: Any, kernel: tuple[int, int], out_hw: tuple[int, int],
            stride: tuple[int, int], dilation: tuple[int, int], groups: int, buf: Any) -> Any:
    """Receptive fields of a block of padded images x_pad (m, Hp, Wp, C) as rows of (g, M, K/g).

    Row (n, y, x) of group g holds x_pad[n, y·s + i·d, x·s + j·d, g·C/g + c] for (i, j, c) in
    C order (K = kh·kw·C, M = m·OH·OW). The strided view costs nothing; the one copy into
    ``buf`` is the im2col.
    """
    kh, kw = kernel
    OH, OW = out_hw
    m, _, _, C = x_pad.shape
    Cg = C // groups
    sN, sH, sW, sC = x_pad.strides
    view = xp.lib.stride_tricks.as_strided(
        x_pad,
        shape=(groups, m, OH, OW, kh, kw, Cg),
        strides=(sC * Cg, sN, sH * stride[0], sW * stride[1], sH * dilation[0],
                 sW * dilation[1], sC),
        writeable=False,
    )
    cols = buf[:, :m * OH * OW]  # (g, M, K/g), M = m·OH·OW
    xp.copyto(cols.reshape(groups, m, OH, OW, kh, kw, Cg), view)
    return cols


def _conv_nhwc(x: Any, pads: tuple[tuple[int, int], tuple[int, int]], w_mat: Any,
               kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int],
               bias: Any = None) -> Any:
    """Channels-last convolution: x (N, H, W, C), w_mat (g, kh·kw·C/g, O/g) -> (N, OH, OW, O).

    Done block by block (a few images at a time) so that each block of X_col is multiplied
    while it is still in cache; the product of a block lands directly in its rows of the output.
    """
    N, H, W, C = x.shape
    (pt, pb), (pl, pr) = pads
    groups, Kg, Og = w_mat.shape
    kh, kw = kernel
    if _skips_im2col(C, stride, groups):
        return _conv_shifted(x, pads, w_mat.reshape(kh * kw, C, Og), kernel, dilation, bias)
    OH = conv_output_size(H, kh, stride[0], pt + pb, dilation[0])
    OW = conv_output_size(W, kw, stride[1], pl + pr, dilation[1])
    out = xp.empty((N, OH, OW, groups * Og), dtype=x.dtype)
    out2d = out.reshape(N * OH * OW, groups * Og)  # (M, O)
    step = _block_images(OH * OW, groups * Kg, x.dtype.itemsize, N)

    def work(lo: int, hi: int) -> None:
        buf = xp.empty((groups, step * OH * OW, Kg), dtype=x.dtype)
        for n0, n1, block in _padded_blocks(x, pads, step, lo, hi):  # for the cache
            rows = slice(n0 * OH * OW, n1 * OH * OW)
            cols = _im2col(block, kernel, (OH, OW), stride, dilation, groups, buf)
            if groups == 1:
                xp.matmul(cols[0], w_mat[0], out=out2d[rows])
            else:
                z = xp.matmul(cols, w_mat)  # (g, M, O/g)
                out2d[rows].reshape(-1, groups, Og)[...] = z.transpose(1, 0, 2)
            if bias is not None:
                out2d[rows] += bias

    _over_blocks(N, step, work)
    return out


def _skips_im2col(C: int, stride: tuple[int, int], groups: int) -> bool:
    """Whether a channels-last layer goes through _conv_shifted (measured on ResNet's layers)."""
    low, high = _current.options.shifted_channels
    return stride == (1, 1) and groups == 1 and low <= C <= high


# Without im2col. In a block of padded images (m, Hp, Wp, C), seen as rows of C numbers, the
# receptive field of output (n, y, x) starts at row r = (n·Hp + y)·Wp + x, and kernel offset
# (i, j) adds row r + i·d·Wp + j·d. So Z = Σ_(i,j) X[r + shift_ij] @ W_ij: kh·kw products of
# whole shifted row ranges, which a strided view presents without copying (_tap_rows), done in
# one batched call (fewer hand-overs of the GIL between threads). Rows r that are not outputs
# (x ≥ OW, y ≥ OH: 13% more rows for ResNet's 32x32 stage) are computed and dropped. With few
# channels (16) this beats im2col's copy, which costs more than the product it saves
# (measured: forward 13.0 ms against 15.3, W̄ 10.2 ms against 16.5, on 128 images of
# 16x32x32); with 32 channels it loses.
def _tap_rows(X: Any, kernel: tuple[int, int], dilation: tuple[int, int], Wp: int) -> Any:
    """(kh, kw, rows, C) view of X (m·Hp·Wp rows of C numbers): [i, j] = X[shift_ij:][:rows].

    ``rows`` counts the rows whose every tap stays inside X, which include every output row.
    """
    r, c = X.strides
    last = (kernel[0] - 1) * dilation[0] * Wp + (kernel[1] - 1) * dilation[1]
    return xp.lib.stride_tricks.as_strided(
        X, shape=(kernel[0], kernel[1], X.shape[0] - last, X.shape[1]),
        strides=(dilation[0] * Wp * r, dilation[1] * r, r, c), writeable=False)


def _conv_shifted(x: Any, pads: tuple[tuple[int, int], tuple[int, int]], w_taps: Any,
                  kernel: tuple[int, int], dilation: tuple[int, int], bias: Any = None) -> Any:
    """Stride-1 convolution Σ_(i,j) X[r + shift_ij] @ W_ij: x (N, H, W, C), w_taps (kh·kw, C, O)."""
    N, H, W, C = x.shape
    (pt, pb), (pl, pr) = pads
    Hp, Wp = H + pt + pb, W + pl + pr
    OH = conv_output_size(Hp, kernel[0], 1, 0, dilation[0])
    OW = conv_output_size(Wp, kernel[1], 1, 0, dilation[1])
    O = w_taps.shape[2]
    w4 = w_taps.reshape(kernel + (C, O))
    opts = _current.options
    step = max(1, min(N, opts.shifted_block_bytes // (Hp * Wp * C * x.itemsize)))
    out = xp.empty((N, OH, OW, O), dtype=x.dtype)

    def work(lo: int, hi: int) -> None:
        grid = xp.empty((step * Hp * Wp, O), dtype=x.dtype)  # Z at every padded position
        for n0, n1, block in _padded_blocks(x, pads, step, lo, hi):
            taps = _tap_rows(block.reshape(-1, C), kernel, dilation, Wp)
            xp.sum(xp.matmul(taps, w4), axis=(0, 1), out=grid[:taps.shape[2]])
            out[n0:n1] = grid[:block.shape[0] * Hp * Wp].reshape(-1, Hp, Wp, O)[:, :OH, :OW]
            if bias is not None:
                out[n0:n1] += bias

    _over_blocks(N, step, work)
    return out


def _weight_grad_shifted(x: Any, pads: tuple[tuple[int, int], tuple[int, int]], dz: Any,
                         kernel: tuple[int, int], dilation: tuple[int, int]) -> Any:
    """W̄_mat (1, kh·kw·C, O) of a stride-1 layer: W̄_ij = Σ_r X[r + shift_ij]ᵀ Z̄[r].

    dz (N, OH, OW, O) is laid on the padded grid, zero at the rows that are not outputs.
    """
    N, H, W, C = x.shape
    _, OH, OW, O = dz.shape
    (pt, pb), (pl, pr) = pads
    Hp, Wp = H + pt + pb, W + pl + pr
    opts = _current.options
    step = max(1, min(N, opts.shifted_block_bytes // (Hp * Wp * C * x.itemsize)))

    def work(lo: int, hi: int) -> Any:
        dw = xp.zeros(kernel + (C, O), dtype=x.dtype)
        dz_grid = xp.zeros((min(step, hi - lo), Hp, Wp, O), dtype=dz.dtype)
        for n0, n1, block in _padded_blocks(x, pads, step, lo, hi):
            m = n1 - n0
            dz_grid[:m, :OH, :OW] = dz[n0:n1]
            taps = _tap_rows(block.reshape(-1, C), kernel, dilation, Wp)
            D = dz_grid[:m].reshape(-1, O)[:taps.shape[2]]
            dw += xp.matmul(taps.transpose(0, 1, 3, 2), D)
        return dw

    return sum(_over_blocks(N, step, work)).reshape(1, -1, O)


def _weight_matrix(w: Any, groups: int) -> Any:
    """w (O, C/g, kh, kw) -> W_mat (g, kh·kw·C/g, O/g), rows in the (i, j, c) order of X_col."""
    O, Cg, kh, kw = w.shape
    Og = O // groups
    return xp.ascontiguousarray(
        w.reshape(groups, Og, Cg, kh, kw).transpose(0, 3, 4, 2, 1).reshape(groups, kh * kw * Cg, Og)
    )


def _weight_from_matrix(w_mat: Any, shape: tuple[int, ...]) -> Any:
    """Inverse of :func:`_weight_matrix`: (g, kh·kw·C/g, O/g) -> (O, C/g, kh, kw)."""
    O, Cg, kh, kw = shape
    groups, _, Og = w_mat.shape
    return w_mat.reshape(groups, kh, kw, Cg, Og).transpose(0, 4, 3, 1, 2).reshape(shape)


def _prefers_batch_last(C: int, kernel: tuple[int, int]) -> bool:
    """Whether the batch-last layout (below) is the faster one for C input channels (measured)."""
    if _current.options.layout is not None:  # forced, to compare the two layouts
        return _current.options.layout == "batch_last"
    # Measured on a 2-core EPYC (forward + backward): LeNet-5's 1->6 and 6->16 5x5 layers are
    # 1.5-2x faster batch-last (the channels-last rows are runs of only kw·C numbers and x̄'s
    # transposed convolution has C = 6 output columns); ResNet's 3->16 and 16->16 3x3 layers
    # are 1.3x faster channels-last (transposing their large activations and gradients to
    # batch-last costs more than it saves).
    return C * kernel[1] < _current.options.batch_last_below or (
        kernel[0] * kernel[1] >= 25 and C < _current.options.batch_last_large_kernel_below)


# ----------------------------------------------------------------------------- batch last
# Few channels (LeNet's 1->6 and 6->16 layers) make every layout with channels innermost slow:
# the copies of im2col run over only kw·C numbers and the matrix products have a handful of
# columns. Putting the batch innermost instead, (C, H, W, N), makes one kernel offset (i, j) of
# the whole batch a slab x[:, i:i+OH, j:j+OW, :] whose rows are runs of OW·N contiguous numbers
# (N numbers at stride 2), so im2col and col2im are kh·kw large block copies, and
# Z (O, OH·OW·N) = W (O, C·kh·kw) @ X_colᵀ is one wide matrix product.
def _pad_cwhn(x: Any, pads: tuple[tuple[int, int], tuple[int, int]]) -> Any:
    """x (N, C, H, W), any strides -> zero-padded batch-last array (C, H+pt+pb, W+pl+pr, N)."""
    (pt, pb), (pl, pr) = pads
    x_chwn = x.transpose(1, 2, 3, 0)
    if pt == pb == pl == pr == 0 and x_chwn.flags.c_contiguous:
        return x_chwn  # the output of an earlier batch-last conv (or its relu, pool): no copy
    C, H, W, N = x_chwn.shape
    out = xp.zeros((C, H + pt + pb, W + pl + pr, N), dtype=x.dtype)
    out[:, pt:pt + H, pl:pl + W, :] = x_chwn
    return out


def _offsets(kernel, out_hw, stride, dilation, r0: int = 0, r1: int | None = None):
    """(i, j, row slice, column slice) of every kernel offset, for output rows r0..r1."""
    kh, kw = kernel
    OH, OW = out_hw
    r1 = OH if r1 is None else r1
    for i in range(kh):
        top = r0 * stride[0] + i * dilation[0]
        rows = slice(top, top + (r1 - r0 - 1) * stride[0] + 1, stride[0])
        for j in range(kw):
            left = j * dilation[1]
            yield i, j, rows, slice(left, left + (OW - 1) * stride[1] + 1, stride[1])


def _row_blocks(out_hw: tuple[int, int], rows_k: int, n: int, itemsize: int,
                whole: bool = False):
    """Blocks (r0, r1) of output rows whose X_colᵀ (rows_k, (r1−r0)·OW·N) fits block_bytes.

    With ``whole``, one block when the whole X_colᵀ (or X̄_colᵀ) fits keep_cols_bytes: the
    forward pass then keeps it for W̄, which saves building it again in backward, and x̄ is
    one product and kh·kw slab additions (measured 0.8 ms against 2.8 ms in two blocks for
    LeNet-5's second layer).
    """
    OH, OW = out_hw
    row_bytes = max(1, rows_k * OW * n * itemsize)
    if whole and OH * row_bytes <= _current.options.keep_cols_bytes:
        return [(0, OH)]
    step = max(1, min(OH, _current.options.block_bytes // row_bytes))
    return [(r0, min(OH, r0 + step)) for r0 in range(0, OH, step)]


def _matmul_by_columns(a: Any, b: Any, out: Any = None) -> Any:
    """a (P, K) @ b (K, Q) into out (P, Q), or a (P, M) @ b (M, Q) summed, in cache-sized chunks.

    X_colᵀ of a whole batch (megabytes) passes through the BLAS in chunks of columns that fit
    the cache: with only 6 or 16 output rows the BLAS does not block a product this wide well
    (LeNet-5's first layer: 0.2 ms in chunks against 0.6 ms in one product, measured). With
    ``out`` the chunks are columns of b and out; without, a's columns are the summed axis (W̄).
    """
    rows = a.shape[0] if out is None else b.shape[0]
    width = a.shape[1] if out is None else b.shape[1]
    opts = _current.options
    step = max(opts.gemm_min_columns, opts.gemm_chunk_bytes // max(1, rows * a.itemsize))
    if width <= step:
        return xp.matmul(a, b, out=out)
    starts = range(0, width, step)  # the chunks are shared out between threads

    if out is not None:
        def products(k0: int, k1: int) -> None:
            for c0 in starts[k0:k1]:
                xp.matmul(a, b[:, c0:c0 + step], out=out[:, c0:c0 + step])

        run_chunks(len(starts), products, max_threads=_batch_last_threads())
        return out

    def sums(k0: int, k1: int) -> Any:
        total = a[:, starts[k0]:starts[k0] + step] @ b[starts[k0]:starts[k0] + step]
        for c0 in starts[k0 + 1:k1]:
            total += a[:, c0:c0 + step] @ b[c0:c0 + step]
        return total

    parts = run_chunks(len(starts), sums, max_threads=_batch_last_threads())
    for part in parts[1:]:  # in chunk order
        parts[0] += part
    return parts[0]


def _cols_batch_last(x_pad: Any, r0: int, r1: int, kernel, out_hw, stride, dilation,
                     buf: Any) -> Any:
    """X_colᵀ for output rows r0..r1: (C·kh·kw, (r1−r0)·OW·N), rows in the weight's (c, i, j) order.

    x_pad is (C, Hp, Wp, N); one slab copy per kernel offset (i, j), into ``buf``.
    """
    kh, kw = kernel
    C, _, _, N = x_pad.shape
    OW = out_hw[1]
    cols = buf[:, :(r1 - r0) * OW * N]
    view = cols.reshape(C, kh, kw, r1 - r0, OW, N)

    def copies(lo: int, hi: int) -> None:  # output rows r0+lo..r0+hi, shared between threads
        for i, j, rows, cols_ in _offsets(kernel, out_hw, stride, dilation, r0 + lo, r0 + hi):
            view[:, i, j, lo:hi] = x_pad[:, rows, cols_, :]

    run_chunks(r1 - r0, copies, max_threads=_batch_last_threads())
    return cols


def _conv_batch_last(x_pad: Any, w: Any, kernel, stride, dilation, bias) -> tuple[Any, Any]:
    """Z (O, OH, OW, N) = W (O, C·kh·kw) @ X_colᵀ (+ b), in blocks of output rows.

    Also returns X_colᵀ when it was built in one block (then backward reuses it for W̄), else None.
    """
    C, Hp, Wp, N = x_pad.shape
    O = w.shape[0]
    kh, kw = kernel
    OH = conv_output_size(Hp, kh, stride[0], 0, dilation[0])
    OW = conv_output_size(Wp, kw, stride[1], 0, dilation[1])
    K = C * kh * kw
    w2 = w.reshape(O, K)
    out = xp.empty((O, OH, OW, N), dtype=x_pad.dtype)
    blocks = _row_blocks((OH, OW), K, N, x_pad.dtype.itemsize, whole=True)
    buf = xp.empty((K, (blocks[0][1] - blocks[0][0]) * OW * N), dtype=x_pad.dtype)
    keep = len(blocks) == 1
    if keep:
        _conv_batch_last_whole(x_pad, w2, bias, kernel, (OH, OW), stride, dilation, buf, out)
        return out, buf
    for r0, r1 in blocks:  # blocks of output rows, so that each X_colᵀ block stays in cache
        cols = _cols_batch_last(x_pad, r0, r1, kernel, (OH, OW), stride, dilation, buf)
        out[:, r0:r1] = (w2 @ cols).reshape(O, r1 - r0, OW, N)
    if bias is not None:
        out += bias.reshape(O, 1, 1, 1)
    return out, None


def _conv_batch_last_whole(x_pad: Any, w2: Any, bias: Any, kernel, out_hw, stride, dilation,
                           buf: Any, out: Any) -> None:
    """Z = W X_colᵀ (+ b) with X_colᵀ built whole into ``buf`` (kept for W̄), one hand-off.

    Each thread takes a range of output rows: it writes their columns of X_colᵀ, then multiplies
    them (in cache-sized column chunks) and adds the bias to them, so the columns are multiplied
    by the core that wrote them, and a layer costs one hand-off to the pool instead of two.
    """
    C, _, _, N = x_pad.shape
    kh, kw = kernel
    OH, OW = out_hw
    O = w2.shape[0]
    cols = buf[:, :OH * OW * N]
    view = cols.reshape(C, kh, kw, OH, OW, N)
    out2 = out.reshape(O, -1)  # (O, OH·OW·N)

    def rows(lo: int, hi: int) -> None:
        for i, j, rows_, cols_ in _offsets(kernel, out_hw, stride, dilation, lo, hi):
            view[:, i, j, lo:hi] = x_pad[:, rows_, cols_, :]
        c0, c1 = lo * OW * N, hi * OW * N
        # (inside the pool's loop the chunks of _matmul_by_columns run in this thread)
        _matmul_by_columns(w2, cols[:, c0:c1], out2[:, c0:c1])
        if bias is not None:
            out2[:, c0:c1] += bias.reshape(O, 1)

    run_chunks(OH, rows, max_threads=_batch_last_threads())


def _weight_grad_batch_last(x_pad: Any, dz: Any, cols: Any, kernel, stride, dilation) -> Any:
    """W̄ (O, C, kh, kw) = Σ_blocks Z̄ (O, M) @ X_col (M, C·kh·kw); dz is (O, OH, OW, N).

    ``cols``: the forward's X_colᵀ when it was kept (one block), else None (rebuilt here).
    """
    C, _, _, N = x_pad.shape
    O, OH, OW, _ = dz.shape
    kh, kw = kernel
    K = C * kh * kw
    # W̄ᵀ (K, O) = X_colᵀ @ Z̄ᵀ: the long sum over M runs along rows of both operands, which
    # the BLAS does twice as fast as Z̄ @ X_col on these shapes (measured).
    if cols is not None:
        dw_t = _matmul_by_columns(cols, dz.reshape(O, -1).T)
    else:
        dw_t = xp.zeros((K, O), dtype=x_pad.dtype)
        blocks = _row_blocks((OH, OW), K, N, x_pad.dtype.itemsize)
        buf = xp.empty((K, (blocks[0][1] - blocks[0][0]) * OW * N), dtype=x_pad.dtype)
        for r0, r1 in blocks:
            cols = _cols_batch_last(x_pad, r0, r1, kernel, (OH, OW), stride, dilation, buf)
            dw_t += _matmul_by_columns(cols, dz[:, r0:r1].reshape(O, -1).T)
    return dw_t.T.reshape(O, C, kh, kw)


def _input_grad_batch_last(dz: Any, w: Any, in_hw: tuple[int, int], padding: Any,
                           stride: tuple[int, int], dilation: tuple[int, int]) -> Any:
    """x̄ = col2im(W_matᵀ @ Z̄) in the batch-last layout, in blocks of output rows (groups = 1).

    dz is (O, OH, OW, N). X̄_colᵀ (C·kh·kw, rows·OW·N) has one row block per (c, i, j), added
    onto the padded gradient (C, Hp, Wp, N) at the offset (i·d, j·d) with step s. Returns x̄ as
    an (N, C, H, W) view of batch-last memory.
    """
    O, OH, OW, N = dz.shape
    _, C, kh, kw = w.shape
    H, W = in_hw
    (pt, pb), (pl, pr) = padding
    K = C * kh * kw
    w2t = w.reshape(O, K).T  # (K, O)
    dx_pad = xp.zeros((C, H + pt + pb, W + pl + pr, N), dtype=dz.dtype)
    blocks = _row_blocks((OH, OW), K, N, dz.dtype.itemsize, whole=True)
    if len(blocks) == 1:
        dz2 = dz.reshape(O, -1)  # (O, OH·OW·N)

        def channels(c0: int, c1: int) -> None:
            """Channels c0..c1 of x̄: their rows of X̄_colᵀ = W_matᵀ Z̄, then their slab adds
            (one hand-off to the pool, and each thread adds the rows it computed)."""
            dcols = (w2t[c0 * kh * kw:c1 * kh * kw] @ dz2).reshape(c1 - c0, kh, kw, OH, OW, N)
            for i, j, rows, cols in _offsets((kh, kw), (OH, OW), stride, dilation):
                dx_pad[c0:c1, rows, cols, :] += dcols[:, i, j]

        threads = min(product_threads(2 * K * O * OH * OW * N), _batch_last_threads() or C)
        run_chunks(C, channels, max_threads=threads)
        return dx_pad[:, pt:pt + H, pl:pl + W, :].transpose(3, 0, 1, 2)
    for r0, r1 in blocks:
        dcols = matmul_rows(w2t, dz[:, r0:r1].reshape(O, -1), max_threads=_batch_last_threads())
        dcols = dcols.reshape(C, kh, kw, r1 - r0, OW, N)

        def adds(c0: int, c1: int, r0: int = r0, r1: int = r1, dcols: Any = dcols) -> None:
            """Channels c0..c1 of x̄ (the channels are shared between threads)."""
            for i, j, rows, cols in _offsets((kh, kw), (OH, OW), stride, dilation, r0, r1):
                dx_pad[c0:c1, rows, cols, :] += dcols[c0:c1, i, j]

        run_chunks(C, adds, max_threads=_batch_last_threads())
    return dx_pad[:, pt:pt + H, pl:pl + W, :].transpose(3, 0, 1, 2)


def _col2im_add(dx_pad: Any, dcols: Any, kernel: tuple[int, int], out_hw: tuple[int, int],
                stride: tuple[int, int], dilation: tuple[int, int]) -> None:
    """Scatter-add rows of dcols (g, M, kh·kw·C/g) back onto dx_pad (m, Hp, Wp, C), in place.

    One strided slice-add per kernel offset (i, j), vectorized over images, positions and
    channels: a pixel that sits in several receptive fields collects all their gradients.
    """
    kh, kw = kernel
    OH, OW = out_hw
    m, _, _, C = dx_pad.shape
    groups = dcols.shape[0]
    Cg = C // groups
    d = dcols.reshape(groups, m, OH, OW, kh, kw, Cg)
    for i in range(kh):
        r0 = i * dilation[0]
        rows = slice(r0, r0 + (OH - 1) * stride[0] + 1, stride[0])
        for j in range(kw):
            c0 = j * dilation[1]
            cols = slice(c0, c0 + (OW - 1) * stride[1] + 1, stride[1])
            target = dx_pad[:, rows, cols, :].reshape(m, OH, OW, groups, Cg)
            target += d[:, :, :, :, i, j, :].transpose(1, 2, 3, 0, 4)


def _transposed_conv_stride1(d_nhwc: Any, w_mat: Any, kernel: tuple[int, int],
                             in_hw: tuple[int, int], padding: Any,
                             dilation: tuple[int, int]) -> Any:
    """x̄ for a stride-1 convolution: z̄ correlated with the flipped, transposed kernel.

    x̄[y] = Σ_i z̄[y + p − i·d] w[i] = Σ_i' z̄_pad[y + i'·d] w[k − 1 − i'], where z̄_pad is z̄
    shifted down by d·(k − 1) − p (zeros outside; a negative shift crops). Returns x̄ as an
    NCHW view of channels-last memory.
    """
    kh, kw = kernel
    (pt, pb), (pl, pr) = padding
    N, OH, OW, O = d_nhwc.shape
    groups, Kg, Og = w_mat.shape
    Cg = Kg // (kh * kw)
    # z̄ framed by d·(k − 1) − p zeros on each side (a negative amount crops instead).
    frame = [(dilation[0] * (kh - 1) - pt, dilation[0] * (kh - 1) - pb),
             (dilation[1] * (kw - 1) - pl, dilation[1] * (kw - 1) - pr)]
    crop = tuple(slice(max(0, -a), n - max(0, -b)) for (a, b), n in zip(frame, (OH, OW)))
    d_nhwc = d_nhwc[:, crop[0], crop[1], :]
    frame = tuple((max(0, a), max(0, b)) for a, b in frame)
    # The transposed kernel: input channels O (per group), output channels C, flipped in space.
    # w_mat rows are (i, j, c), columns o  ->  w_t rows (i', j', o), columns c.
    w_t = w_mat.reshape(groups, kh, kw, Cg, Og)[:, ::-1, ::-1].transpose(0, 1, 2, 4, 3)
    w_t = xp.ascontiguousarray(w_t).reshape(groups, kh * kw * Og, Cg)
    dx = _conv_nhwc(d_nhwc, frame, w_t, kernel, (1, 1), dilation)  # (N, H, W, C)
    assert dx.shape[1:3] == tuple(in_hw), (dx.shape, in_hw)
    return dx.transpose(0, 3, 1, 2)


# ----------------------------------------------------------------------------- the op
def conv2d_forward(ctx: Any, x: Any, w: Any, bias: Any, stride: tuple[int, int],
                   padding: tuple[tuple[int, int], tuple[int, int]], dilation: tuple[int, int],
                   groups: int) -> Any:
    """z = conv2d(x, w) + b, (N, C, H, W) -> (N, O, OH, OW), saving what backward needs on ctx."""
    kernel = w.shape[2:]
    ctx.w, ctx.w_shape, ctx.x_shape = w, w.shape, x.shape
    ctx.params = stride, padding, dilation, groups
    ctx.batch_last = groups == 1 and _prefers_batch_last(x.shape[1], kernel)
    if ctx.batch_last:
        x_pad = _pad_cwhn(x, padding)  # (C, Hp, Wp, N)
        z, cols = _conv_batch_last(x_pad, w, kernel, stride, dilation, bias)
        # X_colᵀ is kept for W̄ only when it is small (one cache block); else rebuilt.
        ctx.x_pad, ctx.cols = x_pad, cols
        return z.transpose(3, 0, 1, 2)  # (N, O, OH, OW) view of (O, OH, OW, N) memory
    x_nhwc = x.transpose(0, 2, 3, 1)  # (N, H, W, C) view; no copy
    w_mat = _weight_matrix(w, groups)  # (g, K/g, O/g)
    z = _conv_nhwc(x_nhwc, padding, w_mat, kernel, stride, dilation, bias)
    ctx.x_nhwc, ctx.w_mat = x_nhwc, w_mat
    return z.transpose(0, 3, 1, 2)  # (N, O, OH, OW) view of channels-last memory


def conv2d_backward(ctx: Any, dout: Any) -> tuple:
    """(x̄, W̄[, b̄]) of :func:`conv2d_forward` (None where ctx.needs_input_grad says no)."""
    stride, padding, dilation, groups = ctx.params
    O, Cg, kh, kw = ctx.w_shape
    N, C, H, W = ctx.x_shape
    needs_x, needs_w = ctx.needs_input_grad[:2]
    has_b = len(ctx.needs_input_grad) > 2
    _, _, OH, OW = dout.shape
    dw = dx = None
    db = dout.sum(axis=(0, 2, 3)) if has_b and ctx.needs_input_grad[2] else None
    if ctx.batch_last:
        dz = dout.transpose(1, 2, 3, 0)  # (O, OH, OW, N)
        if not dz.flags.c_contiguous:
            dz = xp.ascontiguousarray(dz)
        if needs_w:
            dw = _weight_grad_batch_last(ctx.x_pad, dz, ctx.cols, (kh, kw), stride,
                                         dilation)
        if needs_x:
            dx = _input_grad_batch_last(dz, ctx.w, (H, W), padding, stride, dilation)
        return (dx, dw, db) if has_b else (dx, dw)
    x_nhwc, w_mat = ctx.x_nhwc, ctx.w_mat
    Og = O // groups
    d2 = xp.ascontiguousarray(dout.transpose(0, 2, 3, 1)).reshape(N * OH * OW, O)  # (M, O)
    # x̄ by the transposed convolution when the stride is 1 (measured faster than col2im's
    # strided slice-adds even where it multiplies more numbers), else by col2im.
    use_col2im = needs_x and stride != (1, 1)
    if needs_w and not use_col2im and _skips_im2col(C, stride, groups):
        dw_mat = _weight_grad_shifted(x_nhwc, padding, d2.reshape(N, OH, OW, O), (kh, kw),
                                      dilation)
        dw = _weight_from_matrix(dw_mat, ctx.w_shape)
        needs_w = False
    if needs_w or use_col2im:
        Kg = w_mat.shape[1]
        step = _block_images(OH * OW, Kg * groups, w_mat.dtype.itemsize, N)
        (pt, pb), (pl, pr) = padding
        if use_col2im:
            dx_nhwc = xp.empty((N, H, W, C), dtype=w_mat.dtype)

        def work(lo: int, hi: int) -> Any:
            """W̄_mat summed over images lo..hi (or None), and their rows of x̄ written."""
            dw_part = xp.zeros_like(w_mat) if needs_w else None
            if needs_w:
                buf = xp.empty((groups, step * OH * OW, Kg), dtype=w_mat.dtype)
                blocks = _padded_blocks(x_nhwc, padding, step, lo, hi)
            else:
                blocks = ((n0, min(hi, n0 + step), None) for n0 in range(lo, hi, step))
            if use_col2im:
                dx_block = xp.empty((min(step, hi - lo), H + pt + pb, W + pl + pr, C),
                                    dtype=w_mat.dtype)
            for n0, n1, x_block in blocks:  # blocks of images, for the cache
                dz = d2[n0 * OH * OW:n1 * OH * OW].reshape(-1, groups, Og).transpose(1, 0, 2)
                if needs_w:  # W̄_mat += X_colᵀ @ Z̄ (X_col recomputed: cheaper than keeping it)
                    cols = _im2col(x_block, (kh, kw), (OH, OW), stride, dilation, groups, buf)
                    if groups == 1:
                        dw_part[0] += cols[0].T @ dz[0]
                    else:
                        dw_part += xp.matmul(cols.transpose(0, 2, 1), dz)
                if use_col2im:  # x̄ = col2im(Z̄ @ W_matᵀ), a block of padded images at a time
                    dcols = xp.matmul(dz, w_mat.transpose(0, 2, 1))  # (g, M, K/g)
                    target = dx_block[:n1 - n0]
                    target[...] = 0
                    _col2im_add(target, dcols, (kh, kw), (OH, OW), stride, dilation)
                    dx_nhwc[n0:n1] = target[:, pt:pt + H, pl:pl + W]
            return dw_part

        parts = _over_blocks(N, step, work)
        if needs_w:
            dw = _weight_from_matrix(sum(parts), ctx.w_shape)
        if use_col2im:
            dx = dx_nhwc.transpose(0, 3, 1, 2)
    if needs_x and not use_col2im:
        dx = _transposed_conv_stride1(d2.reshape(N, OH, OW, O), w_mat, (kh, kw), (H, W),
                                      padding, dilation)
    return (dx, dw, db) if has_b else (dx, dw)
