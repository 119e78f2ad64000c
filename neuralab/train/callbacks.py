"""Callbacks for ``Trainer``: the loss of every step, evaluations at chosen epochs or steps, and
the weights of the best epoch on a validation set.

``Trainer`` records one line per epoch; the curves of the lectures (the noisy loss of SGD,
Lecture 7; the test error as training goes on, Lecture 9) need more:

    steps = StepRecorder()
    tests = Evaluator(x_test, y_test, last_epoch=10, every=2)
    Trainer(model, opt, callbacks=[steps, tests]).fit(loader, epochs=10)
    steps.losses      # one per mini-batch
    tests.history     # [{"epoch": 2, "train_loss": ..., "loss": ..., "err1": ..., ...}, ...]

A learning rate too large makes the loss explode (Lecture 7): ``DivergenceStop`` ends such a run
as soon as the point is made. ``LambdaCallback`` turns plain functions into a callback (record
a value per step without writing a class).

Any model (a regression, a language model) gets its loss and gradient norm per step from
``LossRecorder``, a held-out measure every few steps from ``StepEvaluator``, and a budget counted
in steps rather than epochs from ``StepLimit``. ``BestWeights`` keeps the weights of the epoch
with the lowest validation error (early stopping's choice, Lecture 9). ``GradientNormRecorder``
follows the gradient reaching chosen layers (the lowest ones of a deep network, Lecture 15).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from neuralab.backend import xp
from neuralab.nn.utils import clip_grad_norm_
from neuralab.train.loop import Callback, Trainer
from neuralab.train.metrics import evaluate, main_output

__all__ = ["BestWeights", "DivergenceStop", "Evaluator", "GradientNormRecorder",
           "LambdaCallback", "LossRecorder", "StepEvaluator", "StepLimit", "StepRecorder"]


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
        wrong = float((main_output(output).array.argmax(axis=1) != target.array).mean())
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


class LambdaCallback(Callback):
    """A callback made of plain functions, each called as the ``Callback`` method of its name
    (PyTorch Lightning's ``LambdaCallback``).

    Example::

        accuracy = []
        def record(trainer, step, loss, output, target):
            accuracy.append(float(((output.array > 0) == (target.array > 0.5)).mean()))
        Trainer(model, opt, callbacks=[LambdaCallback(on_batch_end=record)]).fit(loader)

    Args:
        on_after_backward: ``f(trainer, step)``, after backpropagation, before the update.
        on_batch_end: ``f(trainer, step, loss, output, target)``, after the update.
        on_epoch_end: ``f(trainer, epoch, metrics)``, after each epoch.
    """

    def __init__(self, on_after_backward: Callable[..., None] | None = None,
                 on_batch_end: Callable[..., None] | None = None,
                 on_epoch_end: Callable[..., None] | None = None):
        for name, function in (("on_after_backward", on_after_backward),
                               ("on_batch_end", on_batch_end), ("on_epoch_end", on_epoch_end)):
            if function is not None and not callable(function):
                raise TypeError(f"LambdaCallback: {name} must be a function, got "
                                f"{type(function).__name__}")
        self.after_backward, self.batch_end, self.epoch_end = (on_after_backward, on_batch_end,
                                                               on_epoch_end)

    def on_after_backward(self, trainer: Trainer, step: int) -> None:
        if self.after_backward is not None:
            self.after_backward(trainer, step)

    def on_batch_end(self, trainer: Trainer, step: int, loss: float, output: Any,
                     target: Any) -> None:
        if self.batch_end is not None:
            self.batch_end(trainer, step, loss, output, target)

    def on_epoch_end(self, trainer: Trainer, epoch: int, metrics: dict) -> None:
        if self.epoch_end is not None:
            self.epoch_end(trainer, epoch, metrics)


class DivergenceStop(Callback):
    """Ends training as soon as a step's loss exceeds ``threshold``, or ``factor`` times the
    first step's loss: the run diverges (Lecture 7: each step of a learning rate far too large
    lands where the gradient is larger still), and stopping before the loss overflows keeps the
    curve finite. A loss that does overflow makes ``Trainer`` raise ``TrainingDiverged``.

    Args:
        factor: the largest ratio of a loss to the first loss (None: no such limit).
        threshold: the largest loss (None: no such limit).

    Attributes:
        diverged: whether the last step's loss crossed a limit (training then stopped).
    """

    def __init__(self, factor: float | None = None, threshold: float | None = None):
        if factor is None and threshold is None:
            raise ValueError("DivergenceStop: give a factor, a threshold or both")
        for name, value in (("factor", factor), ("threshold", threshold)):
            if value is not None and not (isinstance(value, (int, float))
                                          and math.isfinite(value)):
                raise ValueError(f"DivergenceStop: {name} must be a finite number, got {value!r}")
        self.factor, self.threshold = factor, threshold
        self.first_loss: float | None = None
        self.diverged = False

    def on_batch_end(self, trainer: Trainer, step: int, loss: float, output: Any,
                     target: Any) -> None:
        if self.first_loss is None:
            self.first_loss = loss
        self.diverged = ((self.threshold is not None and loss > self.threshold)
                         or (self.factor is not None and loss > self.factor * self.first_loss))
        if self.diverged:
            trainer.should_stop = True


class LossRecorder(Callback):
    """Records the loss of every mini-batch of any model, and optionally the gradient's norm.

    The norm is the global one, ‖∂L/∂θ‖ over all parameters, taken before ``Trainer`` clips it
    (``grad_clip``): the size of the step plain SGD would take is lr·‖∂L/∂θ‖, and a spike in it
    is an exploding gradient (Lecture 15).

    Args:
        log: called as ``log(step, loss=...[, grad_norm=...])`` after every ``every`` steps,
            ``step`` counting the steps done (None: never).
        every: steps between two calls of ``log``.
        grad_norm: also record the gradient norm of every step.

    Attributes:
        losses, grad_norms: one value per step, in order (``grad_norms`` stays empty unless
            asked for).
    """

    def __init__(self, log: Callable[..., None] | None = None, every: int = 10,
                 grad_norm: bool = False):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"LossRecorder: every must be a positive integer, got {every!r}")
        self.log, self.every, self.grad_norm = log, every, grad_norm
        self.losses: list[float] = []
        self.grad_norms: list[float] = []

    def on_after_backward(self, trainer: Trainer, step: int) -> None:
        if self.grad_norm:  # an infinite threshold clips nothing and returns the norm
            self.grad_norms.append(float(clip_grad_norm_(trainer.model.parameters(),
                                                         math.inf).item()))

    def on_batch_end(self, trainer: Trainer, step: int, loss: float, output: Any,
                     target: Any) -> None:
        self.losses.append(loss)
        if self.log is not None and (step + 1) % self.every == 0:
            norm = {"grad_norm": self.grad_norms[-1]} if self.grad_norm else {}
            self.log(step + 1, loss=loss, **norm)


class StepLimit(Callback):
    """Ends training after ``steps`` optimizer steps (``Trainer.fit`` counts epochs).

    Args:
        steps: the number of mini-batches to train on, over all epochs.
    """

    def __init__(self, steps: int):
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"StepLimit: steps must be a positive integer, got {steps!r}")
        self.steps = steps

    def on_batch_end(self, trainer: Trainer, step: int, loss: float, output: Any,
                     target: Any) -> None:
        if step + 1 >= self.steps:
            trainer.should_stop = True


class StepEvaluator(Callback):
    """Calls ``evaluate()`` (a held-out loss, bits per character...) every ``every`` steps.

    Args:
        evaluate: a function of no arguments returning a number (a closure over the model and
            the held-out data; it switches the model to ``eval()`` and back itself if needed).
        every: steps between evaluations.
        last_step: a step always evaluated (the end of training), even off the ``every`` grid.
        at_start: evaluate once now, as step 0 (the untrained model).
        log: called as ``log(step, value)`` after each evaluation (None: never).

    Attributes:
        history: ``(step, value)`` pairs, ``step`` counting the steps done.
    """

    def __init__(self, evaluate: Callable[[], float], every: int, last_step: int | None = None,
                 at_start: bool = True, log: Callable[[int, float], None] | None = None):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"StepEvaluator: every must be a positive integer, got {every!r}")
        self.evaluate, self.every, self.last_step, self.log = evaluate, every, last_step, log
        self.history: list[tuple[int, float]] = []
        if at_start:
            self._record(0)

    def _record(self, step: int) -> None:
        self.history.append((step, float(self.evaluate())))
        if self.log is not None:
            self.log(step, self.history[-1][1])

    def on_batch_end(self, trainer: Trainer, step: int, loss: float, output: Any,
                     target: Any) -> None:
        if (step + 1) % self.every == 0 or step + 1 == self.last_step:
            self._record(step + 1)


class BestWeights(Callback):
    """Evaluates on a validation set after every epoch and keeps a copy of the weights of the
    best epoch: the lowest validation error, ties broken by the lower validation loss.

    Early stopping (Lecture 9) returns the weights of the epoch where the validation error was
    lowest, before the net starts to fit the noise of its training set. Training on to the end
    while keeping those weights gives the same model and also shows the validation curve past
    it. ``model.load_state_dict(best.best_state)`` returns a model to them.

    Args:
        x, y: the validation inputs and labels, held in memory (never the test set: choosing
            the epoch on the test set would make its error an optimistic estimate).
        batch_size: rows evaluated at a time.

    Attributes:
        history: one dict per epoch: ``epoch`` and ``evaluate``'s ``loss``, ``acc1``, ``err1``.
        best_epoch: the chosen epoch (1-based; 0 before the first).
        best_state: the model's ``state_dict()`` at that epoch (None before the first).
    """

    def __init__(self, x: Any, y: Any, batch_size: int = 250):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.history: list[dict[str, float]] = []
        self.best_epoch, self.best_state = 0, None
        self._best = (math.inf, math.inf)  # (validation error, validation loss)

    def on_epoch_end(self, trainer: Trainer, epoch: int, metrics: dict) -> None:
        result = evaluate(trainer.model, self.x, self.y, self.batch_size, topk=(1,))
        self.history.append({"epoch": epoch, **result})
        if (result["err1"], result["loss"]) < self._best:
            self._best, self.best_epoch = (result["err1"], result["loss"]), epoch
            self.best_state = trainer.model.state_dict()


class GradientNormRecorder(Callback):
    """Records, after every backward pass, the norm of the gradient of chosen parameters:

        ‖θ̄‖ = sqrt(Σ_θ Σ_i (∂L/∂θ_i)²)   over the parameters θ whose names start with a prefix

    (summed in float64, before any clipping or optimizer step). With the first layers' names it
    shows how much gradient reaches the bottom of a deep network (Lecture 15); for the norm over
    every parameter, ``LossRecorder(grad_norm=True)`` records it beside the loss.

    Args:
        prefixes: parameter-name prefixes, as ``model.named_parameters()`` names them
            (e.g. ``("conv1.", "layer1.")``); empty: every parameter.

    Attributes:
        norms: one norm per step, in order.
    """

    def __init__(self, prefixes: Sequence[str] = ()):
        if isinstance(prefixes, str):
            raise TypeError(f"GradientNormRecorder: prefixes must be a sequence of names, got "
                            f"the string {prefixes!r}; write ({prefixes!r},)")
        self.prefixes = tuple(prefixes)
        self.norms: list[float] = []

    def on_after_backward(self, trainer: Trainer, step: int) -> None:
        chosen = [p for name, p in trainer.model.named_parameters()
                  if (not self.prefixes or name.startswith(self.prefixes)) and p.grad is not None]
        if not chosen:
            names = [name for name, _ in trainer.model.named_parameters()]
            raise ValueError(f"GradientNormRecorder: no parameter with a gradient has a name "
                             f"starting with {self.prefixes}; the model's parameters are named "
                             f"{', '.join(names[:6])}{', ...' if len(names) > 6 else ''}")
        self.norms.append(math.sqrt(sum(float((p.grad.array.astype(xp.float64) ** 2).sum())
                                        for p in chosen)))
