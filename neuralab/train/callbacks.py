"""Callbacks for ``Trainer``: the loss of every step, and evaluations at chosen epochs.

``Trainer`` records one line per epoch; the curves of the lectures (the noisy loss of SGD,
Lecture 7; the test error as training goes on, Lecture 9) need more:

    steps = StepRecorder()
    tests = Evaluator(x_test, y_test, last_epoch=10, every=2)
    Trainer(model, opt, callbacks=[steps, tests]).fit(loader, epochs=10)
    steps.losses      # one per mini-batch
    tests.history     # [{"epoch": 2, "train_loss": ..., "loss": ..., "err1": ..., ...}, ...]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from neuralab.train.loop import Callback, Trainer
from neuralab.train.metrics import evaluate

__all__ = ["Evaluator", "StepRecorder"]


def _logits(output: Any) -> Any:
    """The main classifier's logits (a model with auxiliary heads returns a tuple)."""
    return output[0] if isinstance(output, tuple) else output


class StepRecorder(Callback):
    """Records the loss and the top-1 error (in train mode) of every mini-batch.

    Args:
        log: called as ``log(step, loss=..., error=...)`` every ``every`` steps (None: never).
        every: steps between two calls of ``log``.

    Attributes:
        losses, errors: one value per step, in order.
    """

    def __init__(self, log: Callable[..., None] | None = None, every: int = 10):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"StepRecorder: every must be a positive integer, got {every!r}")
        self.log, self.every = log, every
        self.losses: list[float] = []
        self.errors: list[float] = []

    def on_batch_end(self, trainer: Trainer, step: int, loss: float, output: Any,
                     target: Any) -> None:
        wrong = float((_logits(output).array.argmax(axis=1) != target.array).mean())
        self.losses.append(loss)
        self.errors.append(wrong)
        if self.log is not None and step % self.every == 0:
            self.log(step, loss=loss, error=wrong)


class Evaluator(Callback):
    """Evaluates the model on arrays ``x``, ``y`` every ``every`` epochs and at ``last_epoch``.

    Args:
        x, y: the evaluation inputs and labels (a test or validation set held in memory).
        last_epoch: the final epoch of the run, always evaluated.
        every: epochs between evaluations (0: only at ``last_epoch``).
        topk: the k of the top-k errors.
        name: the prefix of the logged values (``test_loss``, ``test_err1``, ...).
        log: called as ``log(step, epoch=..., train_loss=..., test_loss=..., ...)`` after each
            evaluation (None: never).

    Attributes:
        history: one dict per evaluation: ``epoch``, ``train_loss``, and ``evaluate``'s
            ``loss``, ``acc{k}``, ``err{k}``.
    """

    def __init__(self, x: Any, y: Any, last_epoch: int, every: int = 0,
                 topk: Sequence[int] = (1, 5), name: str = "test",
                 log: Callable[..., None] | None = None):
        if isinstance(every, bool) or not isinstance(every, int) or every < 0:
            raise ValueError(f"Evaluator: every must be a non-negative integer, got {every!r}")
        self.x, self.y, self.last_epoch, self.every = x, y, last_epoch, every
        self.topk, self.name, self.log = tuple(topk), name, log
        self.history: list[dict[str, float]] = []

    def on_epoch_end(self, trainer: Trainer, epoch: int, metrics: dict) -> None:
        if not ((self.every and epoch % self.every == 0) or epoch == self.last_epoch):
            return
        result = evaluate(trainer.model, self.x, self.y, topk=self.topk)
        self.history.append({"epoch": epoch, "train_loss": metrics["train"]["loss"], **result})
        if self.log is not None:
            values = {f"{self.name}_{key}": result[key]
                      for key in ("loss", *(f"err{k}" for k in self.topk))}
            self.log(trainer.global_step, epoch=epoch, train_loss=metrics["train"]["loss"],
                     **values)
