"""Classification metrics: top-k accuracy and error, and running averages over an epoch.

Top-k accuracy counts a prediction as right when the true class is among the k largest logits;
the ImageNet papers of Lecture 12 report top-1 and top-5 error (1 − accuracy).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from neuralab.autograd.grad_mode import no_grad
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.data.transforms import Resize
from neuralab.nn.functional import cross_entropy, softmax

__all__ = ["RunningMean", "accuracy", "bits_per_character", "crop_offsets", "evaluate",
           "main_output", "multiscale_evaluate", "topk_correct", "unigram_bits_per_character"]


def main_output(output: Any) -> Any:
    """The main classifier's logits of a model's output: a model with auxiliary heads
    (GoogLeNet in training) returns a tuple ``(logits, *auxiliary logits)``."""
    return output[0] if isinstance(output, tuple) else output


def _array(value: Any) -> Any:
    return value.array if isinstance(value, Tensor) else xp.asarray(value)


def topk_correct(logits: Any, target: Any, topk: Sequence[int] = (1,)) -> list[int]:
    """How many rows have their target among the k largest logits, for each k in ``topk``.

    Args:
        logits: (N, C) scores.
        target: (N,) integer class labels.
        topk: the values of k; k larger than C counts every row as right.
    """
    z, y = _array(logits), _array(target)
    if z.ndim != 2 or y.ndim != 1 or len(z) != len(y):
        raise ValueError(f"accuracy: expected logits (N, C) and target (N,), got shapes "
                         f"{z.shape} and {y.shape}")
    n, c = z.shape
    kmax = min(max(topk), c)
    if kmax == 1:
        hits = (z.argmax(axis=1) == y)[:, None]
    else:
        # argpartition finds the k largest in O(C) per row; their order does not matter.
        top = xp.argpartition(-z, kmax - 1, axis=1)[:, :kmax]
        # Rank the k candidates so that top[:, :k] holds the k best for every k <= kmax.
        order = xp.argsort(-xp.take_along_axis(z, top, axis=1), axis=1, kind="stable")
        top = xp.take_along_axis(top, order, axis=1)
        hits = top == y[:, None]
    return [int(hits[:, :min(k, c)].any(axis=1).sum()) for k in topk]


def accuracy(logits: Any, target: Any, topk: Sequence[int] = (1, 5)) -> list[float]:
    """Top-k accuracies (fractions in [0, 1]) of ``logits`` (N, C) against ``target`` (N,).

    Example:
        >>> top1, top5 = accuracy(model(x), y, topk=(1, 5))
    """
    n = len(_array(target))
    if n == 0:
        raise ValueError("accuracy: empty batch")
    return [c / n for c in topk_correct(logits, target, topk)]


class RunningMean:
    """Weighted running mean: ``update(value, n)`` adds a batch mean computed over n items."""

    def __init__(self) -> None:
        self.total, self.count = 0.0, 0

    def update(self, value: float, n: int = 1) -> None:
        self.total += float(value) * n
        self.count += n

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else float("nan")


def evaluate(model: Any, x: Any, y: Any, batch_size: int = 250, topk: Sequence[int] = (1, 5),
             probs: bool = False) -> dict:
    """Mean cross-entropy and top-k accuracy and error of a classifier on arrays ``x``, ``y``.

    The model runs in eval mode (dropout off, batch norm's running statistics) without recording
    a graph, ``batch_size`` rows at a time; its previous mode is restored. A model returning a
    tuple (GoogLeNet's auxiliary heads) is scored on its first element.

    Returns:
        ``{"loss", "acc1", "err1", ...}`` for each k in ``topk``, plus ``"probs"`` (the softmax
        outputs, (N, C)) when ``probs``. Outputs that are not finite (a diverged network) give
        a loss of inf, accuracy 0 and error 1.
    """
    was_training = model.training
    model.eval()
    total, hits, parts = 0.0, [0] * len(topk), []
    finite = True
    try:
        with no_grad(), xp.errstate(all="ignore"):
            for begin in range(0, len(x), batch_size):
                xb = xp.ascontiguousarray(x[begin:begin + batch_size], dtype=xp.float32)
                yb = Tensor(xp.asarray(y[begin:begin + batch_size]))
                logits = model(Tensor(xb))
                logits = main_output(logits)
                if not xp.isfinite(logits.array).all():
                    finite = False
                    break
                total += float(cross_entropy(logits, yb, reduction="sum").item())
                hits = [a + b for a, b in zip(hits, topk_correct(logits, yb, topk))]
                if probs:
                    parts.append(softmax(logits, 1).array)
    finally:
        model.train(was_training)
    n = max(1, len(x))
    out: dict = {"loss": total / n if finite else math.inf}
    for k, c in zip(topk, hits):
        out[f"acc{k}"] = c / n if finite else 0.0
        out[f"err{k}"] = 1 - out[f"acc{k}"]
    if probs:
        out["probs"] = xp.concatenate(parts) if finite and parts else None
    return out


def crop_offsets(size: int, crop: int, grid: int) -> list[int]:
    """``grid`` evenly spaced offsets of a ``crop``-pixel window along a ``size``-pixel side,
    first and last flush with the edges (one: the centred window)."""
    if not 0 < crop <= size:
        raise ValueError(f"crop_offsets: need 0 < crop <= size, got crop={crop}, size={size}")
    if grid < 1:
        raise ValueError(f"crop_offsets: grid must be at least 1, got {grid}")
    if grid == 1:
        return [(size - crop) // 2]
    return sorted({round(k * (size - crop) / (grid - 1)) for k in range(grid)})


def multiscale_evaluate(model: Any, x: Any, y: Any, scales: Sequence[int],
                        batch_size: int = 250, crop: int | None = None, grid: int = 1,
                        flip: bool = False) -> dict:
    """VGG's multi-scale test: the softmax averaged over the images resized to each scale.

    Simonyan & Zisserman (2015, Sec. 3.2) resize each test image to several sizes Q and average
    the class posteriors. *Dense* evaluation (``crop=None``) runs the network on the whole
    Q×Q image, which a fully convolutional network (global average pooling) takes at any size.
    *Multi-crop* evaluation (``crop=c``) averages instead over c×c windows of each resized image
    on a ``grid``×``grid`` regular grid (the paper: a 5×5 grid with flips, 50 crops per scale),
    the input size the network was trained on: a network whose last feature map is 1×1 at the
    training crop has no spatial map to average, and on a larger whole image its pooling
    windows no longer line up with those of training.

    Args:
        model: a classifier accepting (N, C, Q, Q) images (``crop=None``) or (N, C, c, c).
        x: square images (N, C, S, S); y: labels (N,).
        scales: the sizes Q (bilinear resizing; Q = S keeps the images); each at least ``crop``.
        crop: the window size of multi-crop evaluation (None: dense, whole images).
        grid: windows per side (1: the centred one).
        flip: also every window mirrored left to right.

    Returns:
        ``err1``/``err5`` of the averaged posteriors, and ``per_scale``: {Q: top-1 error}.
    """
    if not scales:
        raise ValueError("multiscale_evaluate: scales is empty; give at least one image size")
    if crop is not None and min(scales) < crop:
        raise ValueError(f"multiscale_evaluate: every scale must hold the {crop}-pixel crop, got "
                         f"scales {list(scales)}")
    mirrors = (False, True) if flip else (False,)

    def windows(q: int) -> list[tuple[int, int, bool]]:  # (top, left, mirrored) at scale q
        offsets = [0] if crop is None else crop_offsets(q, crop, grid)
        return [(top, left, m) for top in offsets for left in offsets for m in mirrors]

    was_training = model.training
    model.eval()
    probs, single = 0.0, {}
    try:
        with no_grad():
            for q in scales:
                views = windows(q)
                parts = []  # (batch, classes) at scale q, summed over the windows
                for begin in range(0, len(x), batch_size):
                    xb = x[begin:begin + batch_size]
                    if xb.shape[-1] != q:
                        xb = Resize((q, q))(xb)
                    summed = 0.0
                    for top, left, mirror in views:
                        view = xb if crop is None else xb[..., top:top + crop, left:left + crop]
                        view = view[..., ::-1] if mirror else view
                        z = model(Tensor(xp.ascontiguousarray(view, dtype=xp.float32)))
                        summed = summed + softmax(z, 1).array
                    parts.append(summed)
                p = xp.concatenate(parts)
                single[q] = 1 - topk_correct(p, y, (1,))[0] / len(y)
                probs = probs + p
    finally:
        model.train(was_training)
    c1, c5 = topk_correct(probs, y, (1, 5))
    return {"err1": 1 - c1 / len(y), "err5": 1 - c5 / len(y), "per_scale": single}


def bits_per_character(model: Any, loader: Any, max_chars: int = 0) -> float:
    """Held-out cross-entropy of a character-level language model in bits per character.

    bpc = −(1/n) Σ_t log₂ p(x_{t+1} | x_≤t) = (cross-entropy in nats) / ln 2 (Lecture 15): a
    model that knows nothing scores log₂ V for a vocabulary of V characters.

    Args:
        model: ``model(x, state) -> (logits (N, T, V), state)``, e.g. ``models.CharRNN``; the
            state is carried from chunk to chunk, as in truncated BPTT.
        loader: the held-out chunks ``(x, y)`` in stream order, e.g. a ``data.BPTTLoader``.
        max_chars: stop after this many predicted characters (0: the whole loader).
    """
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    try:
        with no_grad():
            for x, y in loader:
                logits, state = model(x, state)
                total += float(cross_entropy(logits.reshape(-1, logits.shape[-1]),  # (N·T, V)
                                             y.reshape(-1), reduction="sum").item())
                count += y.array.size
                if max_chars and count >= max_chars:
                    break
    finally:
        model.train(was_training)
    return total / count / math.log(2.0)


def unigram_bits_per_character(train: Any, held_out: Any, vocab_size: int) -> tuple[float, float]:
    """What a model without context scores: each character predicted by its frequency p(c).

    Returns:
        The entropy H = −Σ_c p(c) log₂ p(c) of the training text's characters (integer codes),
        and the cross-entropy of those frequencies on the held-out text, add-one smoothed
        (p(c) = (count(c) + 1) / (n + V)) so that no held-out character has probability 0.
    """
    counts = xp.bincount(train, minlength=vocab_size).astype(xp.float64)
    p = counts / counts.sum()
    entropy = float(-(p[p > 0] * xp.log2(p[p > 0])).sum())
    smoothed = (counts + 1) / (counts.sum() + vocab_size)
    return entropy, float(-xp.log2(smoothed[held_out]).mean())
