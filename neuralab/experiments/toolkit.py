"""What the experiments share: their data as arrays, one training call over ``Trainer``, curves.

Every experiment module imports from here (and from the library), never from another
experiment. The pieces:

* data: ``load_mnist`` / ``mnist_arrays`` and ``prepare_cifar`` (balanced CIFAR-10 subsets at a
  chosen size, decoded once into float32 arrays), ``cifar_augmentation``;
* training: ``train_classifier`` runs ``neuralab.train.Trainer`` over an ``ArrayLoader`` with
  SGD and a warm-up + cosine schedule, recording every step (``StepRecorder``) and the test
  error at chosen epochs (``TestEvaluator``); ``multiscale_evaluate`` for VGG's test protocol;
* sequences: ``adding_problem`` and ``hidden_gradient_norms`` (Lecture 15);
* curves: ``smooth`` and ``tail_mean``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from neuralab.autograd.grad_mode import no_grad
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.data.datasets import MNIST
from neuralab.data.transforms import Compose, RandomCrop, RandomHorizontalFlip, Resize
from neuralab.nn.functional import cross_entropy, mse_loss, softmax
from neuralab.ops.recurrent import lstm_cell, rnn_tanh_cell
from neuralab.optim import SGD
from neuralab.optim.lr_scheduler import LambdaLR
from neuralab.train.datasets import cifar10
from neuralab.train.loop import Callback, Trainer
from neuralab.train.metrics import evaluate, topk_correct

__all__ = ["TRIVIAL_MSE", "ArrayLoader", "StepRecorder", "TestEvaluator", "adding_problem",
           "cifar_augmentation", "hidden_gradient_norms", "load_mnist", "mnist_arrays",
           "multiscale_evaluate", "prepare_cifar", "smooth", "tail_mean", "train_classifier",
           "warmup_cosine"]


# ============================================================================ data
def load_mnist(cfg: dict, who: str) -> tuple[Any, Any, bool]:
    """The MNIST training and test sets chosen by ``cfg['data']`` and ``cfg['data_root']``.

    ``data``: 'subset' (the shipped 5,000/1,000 images), 'full' (60,000/10,000, an error when
    absent) or 'auto' (full when found, else the subset); ``data_root`` ('' searches
    ``$NEURALAB_DATA``); ``download``. ``who`` names the experiment in errors.

    Returns:
        (train, test, is_subset).
    """
    if cfg["data"] not in ("subset", "full", "auto"):
        raise ValueError(f"{who}: data must be subset, full or auto, got {cfg['data']!r}")
    subset = {"subset": True, "full": False, "auto": None}[cfg["data"]]
    root = cfg["data_root"] or None
    train = MNIST(root=root, train=True, subset=subset, download=cfg["download"])
    test = MNIST(root=root, train=False, subset=subset, download=cfg["download"])
    return train, test, bool(train.is_subset)


def mnist_arrays(dataset: Any, n: int | None = None, offset: int = 0) -> tuple[Any, Any]:
    """``n`` images from ``offset`` on as standardised float32 (N, 1, 28, 28), with labels.

    Converting once up front keeps sweeps that revisit the same small set many times cheap.
    """
    stop = len(dataset.data) if n is None else min(len(dataset.data), offset + int(n))
    x = dataset.transform_batch(dataset.data[offset:stop])
    return x, dataset.targets[offset:stop].astype(xp.int64)


def _cifar_splits(root: str | None) -> Any:
    """CIFAR-10 train and test sets: ``root``, else ``$NEURALAB_DATA`` and the cache folder,
    and last a ``shared/datasets`` folder beside the checkout (the development layout)."""
    if root:
        return cifar10(root=root, val_split=0.0, download=False)
    try:
        return cifar10(root=None, val_split=0.0, download=False)
    except (FileNotFoundError, RuntimeError) as err:
        sibling = Path(__file__).resolve().parents[3] / "shared" / "datasets"
        if (sibling / "cifar10-jpg.tar.gz").is_file():
            return cifar10(root=str(sibling), val_split=0.0, download=False)
        raise FileNotFoundError(
            f"CIFAR-10 not found ({err}); set data_root=FOLDER (or $NEURALAB_DATA) to the folder "
            "holding cifar-10-python.tar.gz or cifar10-jpg.tar.gz") from err


def balanced_subset(targets: Any, n: int | None, seed: int, num_classes: int = 10) -> Any:
    """Indices of ``n`` examples, ``n / num_classes`` per class, drawn with ``seed`` (all: None)."""
    generator = xp.random.default_rng(seed)
    if n is None or n <= 0 or n >= len(targets):
        return generator.permutation(len(targets))
    per_class = n // num_classes
    rows = [generator.permutation(xp.flatnonzero(targets == c))[:per_class]
            for c in range(num_classes)]
    return generator.permutation(xp.concatenate(rows))


def _to_float(dataset: Any, rows: Any, size: int, chunk: int = 5000) -> Any:
    """uint8 images ``dataset.data[rows]`` -> normalised float32 (N, 3, size, size)."""
    parts = []
    for begin in range(0, len(rows), chunk):
        x = dataset.transform_batch(dataset.data[rows[begin:begin + chunk]])  # (n, 3, 32, 32)
        if x.shape[-1] != size:
            x = Resize((size, size))(x)  # 32 -> 16 averages each 2x2 block
        parts.append(xp.ascontiguousarray(x, dtype=xp.float32))
    return xp.concatenate(parts) if parts else xp.zeros((0, 3, size, size), dtype=xp.float32)


def cifar_augmentation(size: int) -> Callable:
    """Random crops of the image padded by size/8 and horizontal flips (He et al., 2016)."""
    return Compose([RandomCrop(size, padding=max(1, size // 8)), RandomHorizontalFlip()])


def prepare_cifar(cfg: dict, ctx: Any) -> tuple[dict, int, Callable | None]:
    """CIFAR-10 for an experiment, noted in its report.

    Config keys: ``data_root`` ("" searches), ``train_images`` and ``test_images`` (balanced
    subsets; 0 = all), ``image_size``, ``augment`` (optional).

    Returns:
        ``({"train": (x, y), "test": (x, y), "classes": [...]}, image size, augmentation or
        None)``, x float32 (N, 3, S, S).
    """
    splits = _cifar_splits(cfg.get("data_root") or None)
    train_rows = balanced_subset(splits.train.targets, cfg["train_images"], ctx.seed)
    test_rows = balanced_subset(splits.test.targets, cfg["test_images"], ctx.seed + 1)
    size = int(cfg["image_size"])
    data = {"train": (_to_float(splits.train, train_rows, size), splits.train.targets[train_rows]),
            "test": (_to_float(splits.test, test_rows, size), splits.test.targets[test_rows]),
            "classes": list(splits.train.classes)}
    ctx.note(f"Data: {splits.description}; {len(train_rows)} training and {len(test_rows)} test "
             f"images at {size}x{size}.")
    return data, size, cifar_augmentation(size) if cfg.get("augment") else None


class ArrayLoader:
    """Mini-batches ``(Tensor x, Tensor y)`` of in-memory arrays in a seeded random order.

    Each pass draws a new permutation from its own generator, so every model trained with the
    same ``seed`` sees the same mini-batches in the same order. ``augment`` (array -> array) is
    applied to each batch of images.
    """

    def __init__(self, x: Any, y: Any, batch_size: int, seed: int,
                 augment: Callable | None = None, generator: Any = None):
        self.x, self.y, self.batch_size, self.augment = x, y, int(batch_size), augment
        # ``generator`` (instead of ``seed``): a NumPy Generator shared with the augmentation.
        self.order_rng = generator if generator is not None else xp.random.default_rng(seed)

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        order = self.order_rng.permutation(len(self.x))
        for begin in range(0, len(order), self.batch_size):
            rows = order[begin:begin + self.batch_size]
            xb = self.x[rows] if self.augment is None else self.augment(self.x[rows])
            yield Tensor(xp.ascontiguousarray(xb, dtype=xp.float32)), Tensor(self.y[rows])


# ============================================================================ training
def warmup_cosine(total: int, warmup: int = 1) -> Callable[[int], float]:
    """The factor of step t: a linear warm-up over ``warmup`` steps, then a cosine decay to 0
    at step ``total``: min(1, (t + 1)/warmup) · ½(1 + cos(π t / total))."""
    return lambda t: min(1.0, (t + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * t / total))


def _main(output: Any) -> Any:
    """The main classifier's logits from a model output (GoogLeNet returns a tuple)."""
    return output[0] if isinstance(output, tuple) else output


class StepRecorder(Callback):
    """Records every mini-batch's loss and top-1 error (train mode); logs every 10th step."""

    def __init__(self, ctx: Any, label: str):
        self.ctx, self.label = ctx, label
        self.losses: list[float] = []
        self.errors: list[float] = []

    def on_batch_end(self, trainer: Trainer, step: int, loss: float, output: Any,
                     target: Any) -> None:
        wrong = float((_main(output).array.argmax(axis=1) != target.array).mean())
        self.losses.append(loss)
        self.errors.append(wrong)
        if step % 10 == 0:
            self.ctx.log("train", step=step, model=self.label, loss=loss, error=wrong)


class TestEvaluator(Callback):
    """Evaluates on the test arrays every ``every`` epochs (0: never) and after the last one.

    ``curve`` holds one row per evaluation: (epoch, train loss, test loss, test top-1 error,
    test top-5 error).
    """

    def __init__(self, ctx: Any, label: str, test: tuple[Any, Any], every: int, epochs: int):
        self.ctx, self.label, self.test, self.every, self.epochs = ctx, label, test, every, epochs
        self.curve: list[list[float]] = []

    def on_epoch_end(self, trainer: Trainer, epoch: int, metrics: dict) -> None:
        if not ((self.every and epoch % self.every == 0) or epoch == self.epochs):
            return
        test = evaluate(trainer.model, *self.test)
        train_loss = metrics["train"]["loss"]
        self.curve.append([epoch, train_loss, test["loss"], test["err1"], test["err5"]])
        self.ctx.log("epoch", step=trainer.global_step, model=self.label, epoch=epoch,
                     train_loss=train_loss, test_loss=test["loss"], test_err1=test["err1"],
                     test_err5=test["err5"])


def train_classifier(model: Any, data: dict, cfg: dict, ctx: Any, label: str,
                     loss_fn: Callable | None = None, epochs: int | None = None,
                     lr: float | None = None, augment: Callable | None = None,
                     order_seed: int | None = None, callbacks: tuple = (),
                     nesterov: bool | None = None, schedule: bool = True) -> dict:
    """Train ``model`` through ``Trainer``: SGD with momentum, a warm-up + cosine schedule.

    Every model trained with the same ``order_seed`` sees the same mini-batches in the same
    order, so differences come from the architecture (or the initialisation) alone.

    Config keys: ``batch_size``, ``lr``, ``momentum``, ``weight_decay`` (optional, 0),
    ``epochs``, ``eval_every`` (epochs between test evaluations; 0: at the end only),
    ``warmup`` (optional: the fraction of the steps over which the lr rises linearly).

    Args:
        nesterov: Nesterov momentum (default: whenever momentum > 0).
        schedule: the warm-up + cosine schedule (False: a constant learning rate).
        callbacks: more ``Callback``s (gradient recorders).

    Returns:
        ``losses``/``errors`` of every mini-batch, ``curve`` (see ``TestEvaluator``), ``test``
        (the final test metrics), ``seconds``, ``steps``, ``params``.
    """
    epochs = int(cfg["epochs"] if epochs is None else epochs)
    if epochs < 1:
        raise ValueError(f"{label}: epochs must be at least 1, got {epochs}")
    momentum = cfg["momentum"]
    opt = SGD(model.parameters(), lr=cfg["lr"] if lr is None else lr, momentum=momentum,
              weight_decay=cfg.get("weight_decay", 0.0),
              nesterov=momentum > 0 if nesterov is None else nesterov)
    loader = ArrayLoader(*data["train"], cfg["batch_size"],
                         ctx.seed if order_seed is None else order_seed, augment)
    total = max(1, epochs * len(loader))
    # Networks without batch norm (AlexNet, VGG) can blow up in the first steps at full lr.
    factor = warmup_cosine(total, max(1, int(cfg.get("warmup", 0.0) * total))) if schedule \
        else (lambda t: 1.0)
    recorder = StepRecorder(ctx, label)
    tester = TestEvaluator(ctx, label, data["test"], cfg.get("eval_every", 0), epochs)
    trainer = Trainer(model, opt, loss_fn=loss_fn or (lambda out, y: cross_entropy(_main(out), y)),
                      scheduler=LambdaLR(opt, factor), scheduler_step="batch",
                      progress=ctx.show_progress, log=None, topk=(1,),
                      callbacks=[*callbacks, recorder, tester])
    start = time.perf_counter()
    trainer.fit(loader, epochs=epochs)
    last = tester.curve[-1]
    return {"losses": recorder.losses, "errors": recorder.errors, "curve": tester.curve,
            "test": {"loss": last[2], "err1": last[3], "err5": last[4]},
            "seconds": time.perf_counter() - start, "steps": trainer.global_step,
            "params": sum(int(p.array.size) for p in model.parameters())}


def multiscale_evaluate(model: Any, x: Any, y: Any, scales: list[int]) -> dict:
    """Top-1/top-5 error of the softmax averaged over whole test images resized to each scale
    (VGG's multi-scale evaluation), and each scale's own top-1 error."""
    was_training = model.training
    model.eval()
    probs, single = 0.0, {}
    with no_grad():
        for q in scales:
            parts = []
            for begin in range(0, len(x), 250):
                xb = x[begin:begin + 250]
                if xb.shape[-1] != q:
                    xb = Resize((q, q))(xb)
                z = model(Tensor(xp.ascontiguousarray(xb, dtype=xp.float32)))
                parts.append(softmax(z, 1).array)
            p = xp.concatenate(parts)
            single[q] = 1 - topk_correct(p, y, (1,))[0] / len(y)
            probs = probs + p
    model.train(was_training)
    c1, c5 = topk_correct(probs, y, (1, 5))
    return {"err1": 1 - c1 / len(y), "err5": 1 - c5 / len(y), "per_scale": single}


# ============================================================================ sequences
TRIVIAL_MSE = 1.0 / 6.0  # Var(u₁ + u₂) for u ~ U(0, 1): the MSE of always predicting 1


def adding_problem(n: int, T: int, generator: Any) -> tuple[Any, Any]:  # noqa: N803
    """``n`` sequences of the adding problem of length ``T`` (Hochreiter & Schmidhuber, 1997).

    Returns:
        x: float32 (T, N, 2), (value, marker) per step, time-major as the recurrent layers want;
        y: float32 (N, 1), the sum of the two marked values (one marker in each half).
    """
    if T < 2:
        raise ValueError(f"adding_problem: T must be at least 2 (one marker per half), got {T}")
    values = generator.random((n, T), dtype=xp.float32)
    markers = xp.zeros((n, T), dtype=xp.float32)
    first = generator.integers(0, T // 2, n)
    second = generator.integers(T // 2, T, n)
    rows = xp.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = xp.stack([values, markers], axis=2).transpose(1, 0, 2)  # (N, T, 2) -> (T, N, 2)
    y = (values[rows, first] + values[rows, second])[:, None]  # (N, 1)
    return xp.ascontiguousarray(x), y


def hidden_gradient_norms(model: Any, x: Any, y: Any) -> tuple[list[float], float]:
    """‖∂L/∂h_t‖ for t = 1..T of a ``SequenceRegressor``, running its weights one cell at a time.

    The sequence op computes the same forward pass in one call and hides h_t; here each step's
    state is a separate node of the graph whose gradient ``retain_grad`` keeps. The parameter
    gradients are cleared afterwards.

    Returns:
        the norms (Frobenius over the batch), and the loss (equal to the sequence op's).
    """
    layer = model.layer
    weights = (layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0)
    N, H = x.shape[1], layer.hidden_size  # noqa: N806
    h = Tensor(xp.zeros((N, H), dtype=xp.float32))
    c = Tensor(xp.zeros((N, H), dtype=xp.float32))
    states = []
    for t in range(x.shape[0]):
        xt = Tensor(x[t])
        if model.kind == "lstm":
            h, c = lstm_cell(xt, (h, c), *weights)
        else:
            h = rnn_tanh_cell(xt, h, *weights)
        h.retain_grad()
        states.append(h)
    loss = mse_loss(model.head(h), Tensor(y))
    loss.backward()
    norms = [float(xp.linalg.norm(s.grad.array)) if s.grad is not None else 0.0 for s in states]
    for p in model.parameters():
        p.grad = None
    return norms, float(loss.item())


# ============================================================================ curves
def smooth(values: list[float], window: int) -> list[float]:
    """Trailing moving average (the first points average what exists so far)."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def tail_mean(values: list[float], fraction: float = 0.2) -> float:
    """Mean of the last ``fraction`` of ``values`` (a noise-robust "final" training loss)."""
    k = max(1, int(len(values) * fraction))
    return float(sum(values[-k:]) / k)
