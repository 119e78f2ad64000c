"""Adaptive softmax (Grave et al., 2017), as ``torch.nn.AdaptiveLogSoftmaxWithLoss``.

A softmax over a vocabulary of V words costs O(V) per example even though a few frequent words
carry most of the probability mass. The adaptive softmax sorts the classes by frequency and splits
them at the ``cutoffs``: the head is a softmax over the frequent shortlist [0, c₀) plus one entry
per rarer cluster [cᵢ, cᵢ₊₁); each cluster has its own softmax, on a projection of the input
shrunk by ``div_value``ⁱ⁺¹ (rare words get fewer dimensions). A class in cluster i has

    log p(y | x) = log p_head(cluster i | x) + log p_i(y | x),

and a shortlist class just log p_head(y | x). Training evaluates only the head and the clusters
that hold some target of the batch, on the rows that need them.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.nn.linear import Linear
from neuralab.nn.module import Module, ModuleList, Sequential
from neuralab.ops.gather_scatter import gather, index_add, index_select
from neuralab.ops.reduce import log_softmax
from neuralab.ops.shape import cat

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """The adaptive softmax's log-likelihood of targets, and its full distribution.

    Args:
        in_features: the size of each input row.
        n_classes: the number of classes (sorted most frequent first).
        cutoffs: increasing ints in [1, n_classes − 1] splitting the classes into the shortlist
            and the clusters.
        div_value: cluster i's projection has ⌊in_features / div_valueⁱ⁺¹⌋ features.
        head_bias: the head Linear has a bias.
        dtype: of the parameters.

    Parameters (PyTorch's names): ``head`` Linear(in_features, shortlist + n_clusters),
    ``tail.{i}.0`` Linear(in_features, hsz_i, bias=False), ``tail.{i}.1`` Linear(hsz_i,
    cluster size, bias=False).
    """

    def __init__(self, in_features: int, n_classes: int, cutoffs: Any, div_value: float = 4.0,
                 head_bias: bool = False, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if device is not None and str(device) != "cpu":
            raise ValueError(f"AdaptiveLogSoftmaxWithLoss: neuralab runs on the CPU only, got "
                             f"device={device!r}")
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted "
                             "in an increasing order, where each value is between 1 and "
                             f"n_classes-1 (n_classes={n_classes}), got {cutoffs}")
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = [int(c) for c in cutoffs] + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, dtype=dtype)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hsz, bias=False, dtype=dtype),
                                        Linear(hsz, osz, bias=False, dtype=dtype)))

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input: Tensor, target: Tensor) -> _ASMoutput:  # noqa: A002
        """(output, loss): output[n] = log p(target[n] | input[n]) (N,), loss = −mean(output).

        Args:
            input: (N, in_features), or (in_features,) with a 0-d target.
            target: (N,) or () int class indices in [0, n_classes).
        """
        t = target.array if isinstance(target, Tensor) else xp.asarray(target)
        if t.ndim == 1:
            if input.shape[0] != t.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch "
                                   f"dimension, got input {tuple(input.shape)} and target "
                                   f"{tuple(t.shape)}")
            if input.ndim != 2:
                raise RuntimeError("1D target tensor expects 2D input tensors, but found inputs "
                                   f"with size {tuple(input.shape)}")
        elif t.ndim == 0:
            if input.ndim != 1:
                raise RuntimeError("0D target tensor expects 1D input tensors, but found inputs "
                                   f"with size {tuple(input.shape)}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported, "
                               f"got target of shape {tuple(t.shape)}")
        if t.dtype.kind not in "iu":
            raise TypeError(f"AdaptiveLogSoftmaxWithLoss: target must hold integer class "
                            f"indices (int64), got {t.dtype}")
        batched = t.ndim > 0
        x = input if batched else input.unsqueeze(0)
        t = t.reshape(-1).astype(xp.int64)
        if t.size and (t.min() < 0 or t.max() >= self.n_classes):
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but "
                               f"values in range [{int(t.min())}, {int(t.max())}] were found.")
        # Which head entry each row reads: its own class, or the entry of its cluster.
        head_index = t.copy()
        output = Tensor._from_op(xp.zeros(t.shape, dtype=x.dtype), None, 0)
        for i in range(self.n_clusters):
            low, high = self.cutoffs[i], self.cutoffs[i + 1]
            rows = xp.nonzero((t >= low) & (t < high))[0]
            if rows.size == 0:
                continue
            head_index[rows] = self.shortlist_size + i
            rows_t = Tensor._from_op(rows, None, 0)
            cluster_logprob = log_softmax(self.tail[i](index_select(x, 0, rows_t)), dim=1)
            local = gather(cluster_logprob, 1,
                           Tensor._from_op((t[rows] - low)[:, None], None, 0))
            output = index_add(output, 0, rows_t, local.reshape(-1))
        head_logprob = log_softmax(self.head(x), dim=1)
        output = output + gather(head_logprob, 1,
                                 Tensor._from_op(head_index[:, None], None, 0)).reshape(-1)
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _full_log_prob(self, x: Tensor, head_output: Tensor) -> Tensor:
        head_logprob = log_softmax(head_output, dim=1)
        parts = [head_logprob[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster_logprob = log_softmax(self.tail[i](x), dim=1)
            column = self.shortlist_size + i
            parts.append(cluster_logprob + head_logprob[:, column:column + 1])
        return cat(parts, dim=1)

    def log_prob(self, input: Tensor) -> Tensor:  # noqa: A002
        """log p(c | input) for every class c: (N, n_classes), or (n_classes,) for 1-d input."""
        self._check_features("log_prob", input)
        batched = input.ndim > 1
        x = input if batched else input.unsqueeze(0)
        out = self._full_log_prob(x, self.head(x))
        return out if batched else out.squeeze(0)

    def predict(self, input: Tensor) -> Tensor:  # noqa: A002
        """The most likely class of each row (N,) (int64); the clusters run only for the rows
        whose best head entry is a cluster."""
        self._check_features("predict", input)
        batched = input.ndim > 1
        x = input if batched else input.unsqueeze(0)
        head_output = self.head(x)
        best = head_output.array.argmax(axis=1).astype(xp.int64)
        outside = xp.nonzero(best >= self.shortlist_size)[0]
        if outside.size:
            rows = Tensor._from_op(outside, None, 0)
            full = self._full_log_prob(index_select(x, 0, rows), index_select(head_output, 0,
                                                                              rows))
            best[outside] = full.array.argmax(axis=1)
        out = Tensor._from_op(best, None, 0)
        return out if batched else out.squeeze(0)

    def _check_features(self, op: str, x: Any) -> None:
        if not isinstance(x, Tensor) or x.ndim not in (1, 2) or x.shape[-1] != self.in_features:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"AdaptiveLogSoftmaxWithLoss.{op}: input must be (N, "
                             f"{self.in_features}) or ({self.in_features},), got {shape}")

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, n_classes={self.n_classes}, "
                f"cutoffs={self.cutoffs[:-1]}, div_value={self.div_value}")
