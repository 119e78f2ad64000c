"""Bags of embeddings, as ``torch.nn.functional.embedding_bag``: the sum, mean or max of the
embedding rows of each bag of indices, without building the (bags × length × D) lookup.

The bag-of-words input layer (Lecture 7's language model averages or sums the word vectors of
a context): bag b holds the indices idx_m of the positions m with seg(m) = b, and

    sum:  y_b = Σ_m w_m W[idx_m]             (w_m the per-sample weights, 1 by default)
    mean: y_b = (1/n_b) Σ_m W[idx_m]          (n_b the bag's size)
    max:  y_bd = max_m W[idx_m, d]

Positions whose index is ``padding_idx`` are left out of their bag (and of n_b); an empty bag
gives zeros. Gradients are scatter-adds into the rows used:

    sum/mean: W̄[idx_m] += (w_m or 1/n_b) ȳ_seg(m),   w̄_m = ȳ_seg(m) · W[idx_m]
    max:      W̄[idx_m*, d] += ȳ_bd for the (first) position m* holding the maximum.

With ``scale_grad_by_freq`` each row's gradient is divided by the number of times its index
occurs in the mini-batch (the documented rule; PyTorch 2.13's embedding_bag divides by a
mis-indexed count, which this does not reproduce).
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.grad_mode import no_grad
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp

__all__ = ["embedding_bag"]

_MODES = ("sum", "mean", "max")


class EmbeddingBag(Function):
    """Per-bag sum, mean or max of rows of W; see the module docstring for the gradients."""

    @staticmethod
    def forward(ctx, w, *psw, idx, seg, keep, bags, mode, scale_freq):
        M, D = idx.shape[0], w.shape[1]
        rows = w[idx]  # (M, D)
        ctx.idx, ctx.seg, ctx.keep, ctx.shape, ctx.mode = idx, seg, keep, w.shape, mode
        ctx.scale_freq, ctx.has_psw = scale_freq, bool(psw)
        if mode == "max":
            vals = xp.where(keep[:, None], rows, -xp.inf)
            out = xp.full((bags, D), -xp.inf, dtype=w.dtype)
            xp.maximum.at(out, seg, vals)
            arg = xp.full((bags, D), M, dtype=xp.int64)
            hit = keep[:, None] & (rows == out[seg])
            xp.minimum.at(arg, seg, xp.where(hit, xp.arange(M)[:, None], M))
            ctx.arg = arg
            return xp.where(arg < M, out, 0).astype(w.dtype, copy=False)
        scale = keep.astype(w.dtype)
        if psw:
            scale = scale * psw[0]
            ctx.rows = rows
        if mode == "mean":
            counts = xp.bincount(seg, weights=keep, minlength=bags)
            scale = scale / xp.maximum(counts, 1)[seg]
        ctx.scale = scale
        out = xp.zeros((bags, D), dtype=w.dtype)
        xp.add.at(out, seg, rows * scale[:, None])
        return out

    @staticmethod
    def backward(ctx, dout):
        V, D = ctx.shape
        idx, seg, keep = ctx.idx, ctx.seg, ctx.keep
        dw = xp.zeros((V, D), dtype=dout.dtype)
        if ctx.mode == "max":
            bag, col = xp.nonzero(ctx.arg < idx.shape[0])
            xp.add.at(dw, (idx[ctx.arg[bag, col]], col), dout[bag, col])
        else:
            g = dout[seg] * ctx.scale[:, None]
            if ctx.scale_freq:
                freq = xp.bincount(idx[keep], minlength=V)
                g = g / xp.maximum(freq, 1)[idx][:, None]
            xp.add.at(dw, idx, g)
        if not ctx.has_psw:
            return dw
        dpsw = xp.where(keep, (dout[seg] * ctx.rows).sum(axis=1), 0).astype(dout.dtype)
        return dw, dpsw


def _int_array(op: str, name: str, t: Any) -> Any:
    a = t.array if isinstance(t, Tensor) else xp.asarray(t)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{op}: {name} must be an integer tensor (int64 or int32), got "
                        f"{a.dtype}; convert with .long()")
    return a.astype(xp.int64, copy=False)


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,  # noqa: A002
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """The sum, mean or max of the embeddings of each bag, as ``F.embedding_bag``.

    Args:
        input: integer indices: (B, N), B bags of N each (``offsets`` None), or (M,) with
            ``offsets``.
        weight: the table (num_embeddings, embedding_dim).
        offsets: (B,) start of every bag in a 1-D ``input`` (offsets[0] = 0); with
            ``include_last_offset``, B + 1 entries (the last bag still runs to the end of
            ``input``, as in PyTorch).
        max_norm: rows used whose ``norm_type``-norm exceeds it are rescaled to it, in place
            in ``weight`` (as ``F.embedding``).
        norm_type: p of that norm.
        scale_grad_by_freq: divide each row's gradient by its index's count in the batch
            (not with mode 'max').
        mode: 'sum', 'mean' or 'max'.
        sparse: must be False (neuralab has no sparse gradients).
        per_sample_weights: weights of the positions, the shape of ``input`` (mode 'sum' only).
        include_last_offset: ``offsets`` has one more entry than there are bags.
        padding_idx: an index left out of every bag (its row gets no gradient).

    Returns:
        (B, embedding_dim).
    """
    op = "embedding_bag"
    if not isinstance(weight, Tensor):
        raise TypeError(f"{op}: weight must be a Tensor, got {type(weight).__name__}")
    if weight.ndim != 2 or weight.dtype.kind != "f":
        raise ValueError(f"{op}: weight must be a floating-point (num_embeddings, "
                         f"embedding_dim) table, got {weight.dtype} of shape {weight.shape}")
    if mode not in _MODES:
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode!r}")
    if sparse:
        raise NotImplementedError(f"{op}: sparse=True is not supported (neuralab has no sparse "
                                  "gradients); use sparse=False, whose dense gradient is equal")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"{op}: per_sample_weights was not None. per_sample_weights "
                                  f"is only supported for mode='sum' (got mode='{mode}')")
    idx = _int_array(op, "input", input)
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != idx.shape:
        raise ValueError(f"{op}: per_sample_weights {tuple(per_sample_weights.shape)} must have "
                         f"the shape of the input {idx.shape}")
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "as a mini-batch of fixed length sequences; got offsets of type "
                             f"{type(offsets).__name__}")
        bags, n = idx.shape
        seg = xp.repeat(xp.arange(bags), n)
        idx = idx.reshape(-1)
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None (a 1-D input needs "
                             "the start of every bag)")
        off = _int_array(op, "offsets", offsets)
        if off.ndim != 1:
            raise ValueError(f"offsets has to be a 1D Tensor, got shape {off.shape}")
        starts = off[:-1] if include_last_offset else off
        if starts.size and starts[0] != 0:
            raise ValueError(f"offsets[0] has to be 0, i.e., the first sequence in the "
                             f"mini-batch has to start from position 0. However, got "
                             f"{int(starts[0])}")
        if off.size and off[-1] > idx.shape[0]:
            raise ValueError(f"offsets[-1] can not be greater than input's length "
                             f"{idx.shape[0]} but got offsets[-1] of {int(off[-1])}")
        if (xp.diff(off) < 0).any():
            raise ValueError(f"{op}: offsets must be non-decreasing, got {off.tolist()}")
        bags = starts.shape[0]
        seg = xp.searchsorted(starts, xp.arange(idx.shape[0]), side="right") - 1
        if bags == 0:
            seg = xp.zeros_like(idx)
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{idx.ndim}")
    V = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= V):
        raise IndexError(f"{op}: indices must lie in [0, {V}) for {V} embeddings, got values in "
                         f"[{idx.min()}, {idx.max()}]")
    keep = xp.ones(idx.shape, dtype=bool) if bags else xp.zeros(idx.shape, dtype=bool)
    if padding_idx is not None:
        if not -V <= padding_idx < V:
            raise ValueError(f"{op}: padding_idx must be within [{-V}, {V}), got {padding_idx}")
        keep &= idx != padding_idx % V
    if max_norm is not None:
        _renorm(weight, idx, float(max_norm), float(norm_type))
    extra = ()
    if per_sample_weights is not None:
        if per_sample_weights.dtype != weight.dtype:
            raise TypeError(f"{op}: per_sample_weights is {per_sample_weights.dtype} but weight "
                            f"is {weight.dtype}; they must share one dtype")
        extra = (per_sample_weights.reshape(-1),)
    return EmbeddingBag.apply(weight, *extra, idx=idx, seg=seg, keep=keep, bags=int(bags),
                              mode=mode, scale_freq=bool(scale_grad_by_freq))


def _renorm(weight: Tensor, idx: Any, max_norm: float, p: float) -> None:
    """Rescale, in place, the rows used whose p-norm exceeds max_norm (PyTorch's
    ``embedding_renorm_``: factor max_norm / (norm + 1e-7))."""
    with no_grad():
        rows = xp.unique(idx)
        w = weight.array[rows]
        norms = (xp.abs(w) ** p).sum(axis=1) ** (1.0 / p)
        big = norms > max_norm
        weight.array[rows[big]] = w[big] * (max_norm / (norms[big] + 1e-7))[:, None]
