"""``neuralab exercise train``: the learner's passing code in place of neuralab's op, trained
next to neuralab's own on the same seed and budget.

The layers reach the ops through the kernel seam: ``kernels.use_learner({"conv2d": kernel})``
makes the op's Function call ``kernel.conv2d_forward(ctx, ...)`` and ``conv2d_backward(ctx,
dout)`` (the fast kernel's signatures), and the kernels here translate those calls into the
learner's ``conv2d_forward(x, w, b, stride, padding) -> (out, cache)`` and back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from neuralab import nn
from neuralab.autograd import Tensor, no_grad
from neuralab.backend import manual_seed
from neuralab.data import DataLoader
from neuralab.data.datasets import MNIST
from neuralab.exercises.base import call, learner_function
from neuralab.kernels import use_kernels, use_learner
from neuralab.optim import SGD, Adam
from neuralab.train.loop import Trainer

#: The training budget: the shipped MNIST subset (5,000 training and 1,000 test images).
BATCH_SIZE, LR, MOMENTUM = 64, 0.02, 0.9


class LearnerCode:
    """The learner's functions, called so that an exception names the learner's line."""

    def __init__(self, module: ModuleType, path: Path):
        self.module, self.path = module, path

    def __call__(self, name: str, *args: Any) -> Any:
        fn = learner_function(self.module, self.path, name)
        return call(self.path, fn, args, doing="training")


def mnist_loaders(seed: int, limit: int | None = None) -> tuple[Any, Any]:
    """The shipped subset's loaders; ``limit`` keeps that many training images (and a fifth
    as many test images) for the test suite's short runs."""
    train, test = MNIST(train=True, subset=True), MNIST(train=False, subset=True)
    if limit is not None:
        n_test = max(limit // 5, 10)
        train.data, train.targets = train.data[:limit], train.targets[:limit]
        test.data, test.targets = test.data[:n_test], test.targets[:n_test]
    return (DataLoader(train, batch_size=BATCH_SIZE, shuffle=True, seed=seed),
            DataLoader(test, batch_size=500))


def mnist_run(build: Callable[[], Any], epochs: int, seed: int, kernels: dict | None = None,
              optimizer: Callable[[Any], Any] | None = None,
              limit: int | None = None) -> dict:
    """Train ``build()`` on the MNIST subset; test accuracy, loss and seconds."""
    manual_seed(seed)
    model = build()
    opt = (optimizer or (lambda p: SGD(p, lr=LR, momentum=MOMENTUM)))(model.parameters())
    train_loader, test_loader = mnist_loaders(seed, limit)
    trainer = Trainer(model, opt, progress=False, log=None, topk=(1,))
    start = time.perf_counter()
    # neuralab's run computes every op the lecture's way too (the reference kernel set), so a
    # correct learner's run differs from it by rounding alone.
    with use_learner(kernels) if kernels else use_kernels("reference"):
        result = trainer.fit(train_loader, test_loader=test_loader, epochs=epochs)
    return {"accuracy": result.test["acc1"], "loss": result.test["loss"],
            "seconds": time.perf_counter() - start}


def adding_data(n: int, T: int, seed: int) -> tuple[Any, Any]:  # noqa: N803
    """The adding problem: (value, marker) pairs, target the sum of the two marked values."""
    generator = np.random.default_rng(seed)
    values = generator.random((n, T)).astype(np.float32)
    markers = np.zeros((n, T), dtype=np.float32)
    rows = np.arange(n)
    first, second = generator.integers(0, T // 2, n), generator.integers(T // 2, T, n)
    markers[rows, first] = markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=2)  # (N, T, 2), batch-first
    return x, (values[rows, first] + values[rows, second])[:, None]


class SequenceRegressor(nn.Module):
    """An RNN or LSTM over the sequence, a linear read-out of its last state."""

    def __init__(self, kind: str, hidden: int = 32):
        super().__init__()
        self.rnn = (nn.LSTM if kind == "lstm" else nn.RNN)(2, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: Any) -> Any:
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def adding_run(kind: str, epochs: int, seed: int, kernels: dict | None = None,
               T: int = 10, n: int = 2000) -> dict:  # noqa: N803
    """Train a SequenceRegressor on the adding problem; test mean squared error and seconds."""
    manual_seed(seed)
    model = SequenceRegressor(kind)
    opt = Adam(model.parameters(), lr=0.01)
    x, y = adding_data(n, T, seed)
    x_test, y_test = adding_data(500, T, seed + 1)
    order = np.random.default_rng(seed)
    start = time.perf_counter()
    with use_learner(kernels) if kernels else use_kernels("reference"):
        for _ in range(epochs):
            for batch in np.array_split(order.permutation(n), n // 50):
                loss = nn.functional.mse_loss(model(Tensor(x[batch])), Tensor(y[batch]))
                opt.zero_grad()
                loss.backward()
                opt.step()
        with no_grad():
            mse = nn.functional.mse_loss(model(Tensor(x_test)), Tensor(y_test)).item()
    return {"mse": mse, "seconds": time.perf_counter() - start}


def print_comparison(log: Callable[[str], None], name: str, what: str, mine: dict,
                     theirs: dict) -> None:
    """Two lines: the learner's run and neuralab's (its reference kernels), the same seed and
    budget."""
    log(what)
    rows = ((f"your {name}", mine), ("neuralab's own (reference)", theirs))
    width = max(len(who) for who, _ in rows)
    for who, r in rows:
        if "accuracy" in r:
            log(f"  {who:<{width}}   test accuracy {100 * r['accuracy']:6.2f}%   test loss "
                f"{r['loss']:.4f}   ({r['seconds']:.1f} s)")
        else:
            log(f"  {who:<{width}}   test MSE {r['mse']:.4f}   ({r['seconds']:.1f} s)")


def mnist_mlp(activations: tuple[str, ...] = ("relu",), hidden: int = 128,
              dropout: float = 0.0, batchnorm: bool = False) -> nn.Module:
    """784 → hidden (→ hidden …) → 10, one hidden layer per activation."""
    layers: list[Any] = [nn.Flatten()]
    width = 28 * 28
    for name in activations:
        layers.append(nn.Linear(width, hidden))
        if batchnorm:
            layers.append(nn.BatchNorm1d(hidden))
        layers.append({"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[name]())
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = hidden
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def compare_mnist(log: Callable[[str], None], name: str, what: str,
                  build: Callable[[], Any], epochs: int, seed: int, kernels: dict | None = None,
                  mine_optimizer: Callable | None = None,
                  their_optimizer: Callable | None = None, limit: int | None = None) -> None:
    log(f"training {what} on the shipped MNIST subset, {epochs} epoch(s), seed {seed}: "
        "yours first, then neuralab's ...")
    mine = mnist_run(build, epochs, seed, kernels, mine_optimizer, limit)
    theirs = mnist_run(build, epochs, seed, None, their_optimizer, limit)
    print_comparison(log, name, f"{what}, {epochs} epoch(s), the same seed ({seed}) and "
                     "batches:", mine, theirs)


def compare_adding(log: Callable[[str], None], name: str, kind: str, epochs: int, seed: int,
                   kernels: dict) -> None:
    log(f"training an {kind.upper()} on the adding problem (T = 10, 2,000 sequences), {epochs} "
        f"epoch(s), seed {seed}: yours first, then neuralab's ...")
    mine = adding_run(kind, epochs, seed, kernels)
    theirs = adding_run(kind, epochs, seed, None)
    print_comparison(log, name, f"{kind.upper()} (hidden 32) + linear read-out, Adam lr 0.01; "
                     "always answering 1.0 scores MSE 0.167:", mine, theirs)
