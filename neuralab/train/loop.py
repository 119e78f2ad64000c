"""The training loop (Lectures 4 and 7): mini-batch SGD, validation, early stopping, checkpoints.

One epoch of training is, for every mini-batch (x, y):

    z = model(x)            forward pass: the logits
    L = loss_fn(z, y)       e.g. the cross-entropy of softmax(z)
    backward(L)             backpropagation leaves ∂L/∂θ in every parameter's .grad
    optimizer.step()        θ ← θ − α · (update rule of the optimizer)

followed by an evaluation on held-out data in ``eval`` mode without recording a graph. The
``Trainer`` adds what makes runs trustworthy: metrics in a run directory, a checkpoint after every
epoch from which ``resume`` continues to the very same weights as an uninterrupted run, early
stopping that restores the best weights, and a clear stop when the loss becomes NaN.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuralab.autograd.grad_mode import no_grad
from neuralab.autograd.tensor import Tensor
from neuralab.backend import manual_seed, rng, xp
from neuralab.nn.functional import cross_entropy
from neuralab.nn.utils import clip_grad_norm_
from neuralab.optim.lr_scheduler import ReduceLROnPlateau
from neuralab.progress import progress
from neuralab.train import checkpoint as ckpt
from neuralab.train.metrics import RunningMean, main_output, topk_correct
from neuralab.train.progress import ProgressBar
from neuralab.train.rundir import MetricsLog, lock_run_dir, write_config

__all__ = ["Callback", "EarlyStopping", "FitResult", "Trainer", "TrainingDiverged", "fit"]

CHECKPOINT = "checkpoint.npz"
BEST = "best.npz"


class TrainingDiverged(RuntimeError):
    """The loss, the weights or the validation loss became NaN or infinite; the last good
    checkpoint is kept."""


def _non_finite(named_arrays: Any) -> list[str]:
    """Names of the floating-point arrays holding a NaN or an infinity."""
    bad = []
    for name, value in named_arrays:
        array = value.array if isinstance(value, Tensor) else value
        if isinstance(array, xp.ndarray) and array.dtype.kind in "fc" \
                and not bool(xp.isfinite(array).all()):
            bad.append(name)
    return bad


def _classifies(z: Any, y: Any) -> bool:
    """Whether (z, y) are a classifier's logits (N, C > 1) and integer class targets (N,): only
    then is an argmax accuracy meaningful (not for (N, 1) logits or regression outputs)."""
    return (z.array.ndim == 2 and z.array.shape[1] > 1 and y.array.ndim == 1
            and y.array.dtype.kind in "iu")


def _optimizer_arrays(optimizer: Any) -> list[tuple[str, Any]]:
    out = []
    for i, entries in enumerate(optimizer.state.values()):
        for key, value in (entries or {}).items():
            if isinstance(value, xp.ndarray):
                out.append((f"optimizer state {i}.{key}", value))
    return out


class Callback:
    """Hooks into ``Trainer``'s loop; subclass it and override the steps you need.

    The order within one mini-batch is: forward, loss, ``loss.backward()``,
    ``on_after_backward`` (the gradients are in every ``.grad``: gradient recorders read them
    here), optional clipping, ``optimizer.step()``, the per-batch scheduler step, then
    ``on_batch_end`` (per-step recording). ``on_epoch_end`` follows each epoch's training (and
    validation) with that epoch's metrics. A callback ends training after the current batch by
    setting ``trainer.should_stop = True`` (a budget counted in steps rather than epochs).
    """

    def on_after_backward(self, trainer: Trainer, step: int) -> None:
        """After backpropagation of global step ``step`` (0-based), before the update."""

    def on_batch_end(self, trainer: Trainer, step: int, loss: float, output: Any,
                     target: Any) -> None:
        """After the update of step ``step``: its loss, the model output and the targets."""

    def on_epoch_end(self, trainer: Trainer, epoch: int, metrics: dict) -> None:
        """After epoch ``epoch`` (1-based); ``metrics`` holds its ``train`` (and ``val``)
        results."""


@dataclass
class EarlyStopping:
    """Stop when ``metric`` has not improved for ``patience`` epochs, then restore the best weights.

    Args:
        patience: epochs without improvement before stopping.
        metric: ``val_loss`` (minimised), ``val_acc1``/``val_acc5`` (maximised), or the
            ``train_`` counterparts when there is no validation set.
        min_delta: smallest change that counts as an improvement.
    """

    patience: int = 5
    metric: str = "val_loss"
    min_delta: float = 0.0

    def __post_init__(self) -> None:
        if self.patience < 1:
            raise ValueError(f"EarlyStopping: patience must be >= 1, got {self.patience}")

    @property
    def mode(self) -> str:
        return "min" if self.metric.endswith(("loss", "err1", "err5")) else "max"

    def improved(self, value: float, best: float | None) -> bool:
        if best is None or math.isnan(best):
            return not math.isnan(value)
        if self.mode == "min":
            return value < best - self.min_delta
        return value > best + self.min_delta


@dataclass
class FitResult:
    """What ``fit`` returns.

    Attributes:
        history: one dict per epoch and phase, as in ``metrics.jsonl``.
        epochs_run: the last completed epoch (1-based).
        best_epoch, best_metric: the best validation result (early stopping), if tracked.
        stopped_early: whether early stopping ended the run.
        test: the test-set metrics after training, if a test loader was given.
        run_dir: the run directory, if any.
    """

    history: list[dict] = field(default_factory=list)
    epochs_run: int = 0
    best_epoch: int | None = None
    best_metric: float | None = None
    stopped_early: bool = False
    test: dict | None = None
    run_dir: Path | None = None

    def last(self, phase: str = "train") -> dict | None:
        """The last record of ``phase`` (train, val or test)."""
        for record in reversed(self.history):
            if record["phase"] == phase:
                return record
        return None


class Trainer:
    """Trains a classifier with an optimizer, reporting and saving as it goes.

    Args:
        model: a ``neuralab.nn.Module`` mapping a batch x to logits (N, C).
        optimizer: a ``neuralab.optim`` optimizer over the model's parameters.
        loss_fn: ``loss_fn(logits, target) -> scalar Tensor``; default ``F.cross_entropy``.
        scheduler: a learning-rate scheduler from ``neuralab.optim.lr_scheduler`` (optional).
        scheduler_step: call ``scheduler.step()`` after every ``'epoch'`` or every ``'batch'``.
            ``ReduceLROnPlateau`` is stepped each epoch with the validation loss.
        run_dir: folder for ``config.json``, ``metrics.jsonl`` and checkpoints (None: nothing
            is written).
        early_stopping: an ``EarlyStopping``, or an int patience on ``val_loss``.
        grad_clip: clip the global gradient norm to this value before each step.
        progress: show a progress bar and per-epoch summary lines.
        topk: the k of the top-k accuracies reported on validation and test sets.
        config: settings recorded in ``config.json``.
        log: where the summary lines go (``print`` by default).
        callbacks: ``Callback`` instances called inside the loop (per-step recording,
            gradient recorders, evaluations at chosen epochs).
    """

    def __init__(self, model: Any, optimizer: Any, loss_fn: Callable | None = None,
                 scheduler: Any = None, scheduler_step: str = "epoch",
                 run_dir: str | os.PathLike | None = None,
                 early_stopping: EarlyStopping | int | None = None,
                 grad_clip: float | None = None, progress: bool = True,
                 topk: tuple[int, ...] = (1, 5), config: dict | None = None,
                 log: Callable[[str], None] | None = print,
                 callbacks: list[Callback] | tuple[Callback, ...] = ()):
        if scheduler_step not in ("epoch", "batch"):
            raise ValueError(f"Trainer: scheduler_step must be 'epoch' or 'batch', got "
                             f"{scheduler_step!r}")
        if grad_clip is not None and not grad_clip > 0:
            raise ValueError(f"Trainer: grad_clip must be positive, got {grad_clip}")
        if isinstance(early_stopping, int) and not isinstance(early_stopping, bool):
            early_stopping = EarlyStopping(patience=early_stopping)
        self.model, self.optimizer = model, optimizer
        # A model whose training outputs are not plain logits (GoogLeNet's auxiliary heads)
        # names its own loss as ``criterion``: a documented convention open to users' models
        # too, so it is looked up on the model rather than tied to a neuralab class.
        self.loss_fn = loss_fn or getattr(model, "criterion", None) or cross_entropy
        self.scheduler, self.scheduler_step = scheduler, scheduler_step
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.early_stopping = early_stopping
        self.grad_clip = grad_clip
        self.progress = progress
        self.topk = tuple(topk)
        self.config = dict(config or {})
        self.log = log or (lambda line: None)
        for callback in callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"Trainer: callbacks must be neuralab.train.Callback instances, "
                                f"got {type(callback).__name__}")
        self.callbacks = list(callbacks)
        self.global_step = 0  # mini-batches trained so far, over all epochs
        self.should_stop = False  # a callback sets it to end training after the current batch
        # Progress of the run: what a checkpoint must restore for an exact resume.
        self.epoch = 0
        self.best_metric: float | None = None
        self.best_epoch: int | None = None
        self.bad_epochs = 0
        self._best_state: dict | None = None

    # ------------------------------------------------------------------ one epoch
    def train_epoch(self, loader: Any, epoch: int, epochs: int | None = None) -> dict:
        """Run one epoch of training on ``loader``; return its mean loss, top-1 accuracy, speed."""
        self.model.train()
        if hasattr(loader, "set_epoch"):  # any iterable of batches will do (a list, a generator)
            loader.set_epoch(epoch - 1)  # loaders count epochs from 0
        loss_mean, correct, seen = RunningMean(), 0, 0  # correct: None once not classifying
        desc = f"epoch {epoch}" + (f"/{epochs}" if epochs else "")
        bar = ProgressBar(loader, total=_len(loader), desc=desc, enabled=self.progress)
        step_scheduler = self.scheduler is not None and self.scheduler_step == "batch"
        start = time.perf_counter()
        try:
            for batch, (x, y) in enumerate(bar, start=1):
                z = self.model(x)
                loss = self.loss_fn(z, y)
                value = float(loss.array)
                if not math.isfinite(value):
                    raise TrainingDiverged(self._diverged_message(
                        f"loss became {value} at epoch {epoch}, batch {batch}"))
                self.optimizer.zero_grad()
                loss.backward()
                for callback in self.callbacks:
                    callback.on_after_backward(self, self.global_step)
                if self.grad_clip is not None:
                    clip_grad_norm_(self.model.parameters(), self.grad_clip)
                self.optimizer.step()
                if step_scheduler:
                    self.scheduler.step()
                for callback in self.callbacks:
                    callback.on_batch_end(self, self.global_step, value, z, y)
                self.global_step += 1
                if self.should_stop:
                    break
                n = len(y.array)
                loss_mean.update(value, n)
                z = main_output(z)  # (logits, *auxiliary outputs): score the logits
                if correct is not None and _classifies(z, y):
                    correct += int((z.array.argmax(axis=1) == y.array).sum())
                else:  # not a classifier's (N, C) logits: report the loss only
                    correct = None
                seen += n
                shown = {"acc": correct / seen} if correct is not None else {}
                bar.update(loss=loss_mean.mean, **shown,
                           samples_per_s=seen / (time.perf_counter() - start))
        finally:
            bar.close()
        elapsed = time.perf_counter() - start
        out = {"loss": loss_mean.mean}
        if correct is not None:
            acc = correct / max(seen, 1)
            out.update(acc1=acc, err1=1 - acc)
        out.update(samples=seen, time=elapsed,
                   samples_per_s=seen / elapsed if elapsed > 0 else float("nan"), lr=self._lr())
        return out

    def evaluate(self, loader: Any) -> dict:
        """Mean loss and top-k accuracy/error on ``loader``, in eval mode without a graph."""
        was_training = self.model.training
        self.model.eval()
        loss_mean, seen = RunningMean(), 0
        correct = [0] * len(self.topk)
        start = time.perf_counter()
        try:
            with no_grad():
                for x, y in progress(loader, total=_len(loader), desc="evaluating",
                                     unit="batch", enabled=self.progress):
                    z = self.model(x)
                    n = len(y.array)
                    loss_mean.update(float(self.loss_fn(z, y).array), n)
                    if correct is not None and _classifies(z, y):
                        correct = [a + b for a, b in
                                   zip(correct, topk_correct(z.array, y.array, self.topk))]
                    else:  # not a classifier's (N, C) logits: report the loss only
                        correct = None
                    seen += n
        finally:
            self.model.train(was_training)
        out = {"loss": loss_mean.mean, "samples": seen, "time": time.perf_counter() - start}
        for k, c in zip(self.topk, correct or []):
            out[f"acc{k}"] = c / max(seen, 1)
            out[f"err{k}"] = 1 - c / max(seen, 1)
        return out

    # ------------------------------------------------------------------ the run
    def fit(self, train_loader: Any, val_loader: Any = None, test_loader: Any = None,
            epochs: int = 10, resume: bool = False,
            on_resume: Callable[[Trainer], None] | None = None) -> FitResult:
        """Train for ``epochs`` epochs (counting those of a resumed run), then test.

        Args:
            train_loader: batches for training (a ``DataLoader``; its ``set_epoch`` fixes the
                shuffling order of each epoch so that resuming is exact).
            val_loader: batches evaluated after each epoch (early stopping, ReduceLROnPlateau).
            test_loader: batches evaluated once at the end, with the best weights.
            epochs: total number of epochs.
            resume: continue from ``run_dir/checkpoint.npz``.
            on_resume: called with the Trainer once the checkpoint is restored, before training
                continues (``neuralab train --resume`` applies changed hyperparameters there).

        While it runs, the run directory is locked (``run_dir/.lock``): a second process
        training the same run directory gets ``RunDirLocked``.

        Raises:
            TrainingDiverged: the loss, the weights or the validation loss became NaN/inf (the
                last checkpoint stays as it was).
            RunDirLocked: another process is training in ``run_dir``.
            CheckpointError: resuming from a checkpoint that is unreadable or does not fit.
        """
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
        if self.run_dir is None:
            return self._fit(train_loader, val_loader, test_loader, epochs, resume, on_resume)
        with lock_run_dir(self.run_dir):
            return self._fit(train_loader, val_loader, test_loader, epochs, resume, on_resume)

    def _fit(self, train_loader: Any, val_loader: Any, test_loader: Any, epochs: int,
             resume: bool, on_resume: Callable[[Trainer], None] | None) -> FitResult:
        result = FitResult(run_dir=self.run_dir)
        metrics_log = None
        if self.run_dir is not None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            metrics_log = MetricsLog(self.run_dir / "metrics.jsonl")
        if resume:
            if self.run_dir is None or not (self.run_dir / CHECKPOINT).exists():
                where = self.run_dir / CHECKPOINT if self.run_dir else "(no run_dir given)"
                raise FileNotFoundError(f"fit: cannot resume, no checkpoint at {where}")
            result.history = [r for r in self.load_checkpoint(self.run_dir / CHECKPOINT,
                                                              train_loader)
                              if r.get("phase") != "test"]
            if on_resume is not None:
                on_resume(self)
            metrics_log.truncate_after(self.epoch)
            self.log(f"resuming from {self.run_dir / CHECKPOINT} after epoch {self.epoch}")
        elif self.run_dir is not None:
            config = {**self.config, "epochs": epochs}
            write_config(self.run_dir, config)
            if metrics_log.path.exists():
                metrics_log.path.unlink()

        def record(phase: str, epoch: int, metrics: dict) -> None:
            entry = {"epoch": epoch, "phase": phase, **metrics}
            result.history.append(entry)
            if metrics_log is not None:
                metrics_log.write(entry)

        stop = self.early_stopping
        self.should_stop = False
        while self.epoch < epochs and not self.should_stop:
            epoch = self.epoch + 1
            train = self.train_epoch(train_loader, epoch, epochs)
            # The loss is checked before each step, but the last steps of an epoch can still
            # blow the weights up: never let such weights replace the last good checkpoint.
            self._check_finite(epoch)
            val = self.evaluate(val_loader) if val_loader is not None else None
            if val is not None and not math.isfinite(val["loss"]):
                raise TrainingDiverged(self._diverged_message(
                    f"the validation loss became {val['loss']} after epoch {epoch}"))
            record("train", epoch, train)
            line = f"epoch {epoch}/{epochs}  train loss {train['loss']:.4f}  "
            if "acc1" in train:
                line += f"acc {100 * train['acc1']:.2f}%  "
            line += f"{train['samples_per_s']:.0f} samples/s"
            if val is not None:
                record("val", epoch, val)
                line += f"  | val loss {val['loss']:.4f}"
                if "acc1" in val:
                    line += f"  acc {100 * val['acc1']:.2f}%"
            self.log(line + f"  ({train['time']:.1f}s)")
            for callback in self.callbacks:
                callback.on_epoch_end(self, epoch, {"train": train, "val": val})
            if self.scheduler is not None and self.scheduler_step == "epoch":
                if isinstance(self.scheduler, ReduceLROnPlateau):
                    self.scheduler.step(val["loss"] if val is not None else train["loss"])
                else:
                    self.scheduler.step()
            self.epoch = epoch
            stopping = False
            if stop is not None:
                source = {"train": train, "val": val or {}}
                phase, _, name = stop.metric.partition("_")
                value = source.get(phase, {}).get(name)
                if value is None:
                    raise ValueError(f"fit: early stopping metric {stop.metric!r} is not "
                                     f"available; use val_loss, val_acc1 (needs a val_loader) "
                                     f"or train_loss")
                if stop.improved(value, self.best_metric):
                    self.best_metric, self.best_epoch, self.bad_epochs = value, epoch, 0
                    self._best_state = self.model.state_dict()
                    if self.run_dir is not None:
                        ckpt.save_state_dict(self.run_dir / BEST, self._best_state)
                else:
                    self.bad_epochs += 1
                    stopping = self.bad_epochs >= stop.patience
            if self.run_dir is not None:
                self.save_checkpoint(self.run_dir / CHECKPOINT, train_loader, result.history)
            if stopping:
                self.log(f"early stopping: {stop.metric} has not improved for {stop.patience} "
                         f"epochs; restoring the weights of epoch {self.best_epoch} "
                         f"({stop.metric} {self.best_metric:.4f})")
                result.stopped_early = True
                break
        if stop is not None and self._best_state is not None:
            self.model.load_state_dict(self._best_state)
        result.epochs_run = self.epoch
        result.best_epoch, result.best_metric = self.best_epoch, self.best_metric
        if test_loader is not None:
            test = self.evaluate(test_loader)
            record("test", self.epoch, test)
            result.test = test
            self.log(f"test  loss {test['loss']:.4f}  " + "  ".join(
                f"top-{k} acc {100 * test[f'acc{k}']:.2f}%" for k in self.topk
                if f"acc{k}" in test))
        return result

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self, train_loader: Any = None) -> dict:
        """Everything an exact resume needs (see ``save_checkpoint``)."""
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            # The classes, so that a resume with another optimizer or schedule is refused
            # instead of mixing two algorithms' states.
            "optimizer_class": type(self.optimizer).__name__,
            "scheduler_class": (type(self.scheduler).__name__ if self.scheduler is not None
                                else None),
            "rng": rng().bit_generator.state,
            "epoch": self.epoch,
            "best_metric": self.best_metric,
            "best_epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            # Any iterable of batches may train; a DataLoader also resumes its order.
            "loader": train_loader.state_dict() if hasattr(train_loader, "state_dict") else None,
        }
        return state

    def save_checkpoint(self, path: str | os.PathLike, train_loader: Any = None,
                        history: list | None = None) -> None:
        """Write model, optimizer, scheduler, RNG and loader state, epoch and best metric to
        ``path`` atomically (npz, no pickle)."""
        state = self.state_dict(train_loader)
        state["history"] = history or []
        ckpt.save(path, state)

    def load_checkpoint(self, path: str | os.PathLike, train_loader: Any = None) -> list:
        """Restore what ``save_checkpoint`` wrote; returns the saved history."""
        state = ckpt.load(path)
        if not isinstance(state, dict) or not {"model", "optimizer", "epoch"} <= set(state):
            raise ckpt.CheckpointError(f"{path} is not a training checkpoint (no model, "
                                       "optimizer and epoch entries)")
        for key, obj in (("optimizer_class", self.optimizer), ("scheduler_class", self.scheduler)):
            saved = state.get(key, "")  # absent in checkpoints of older versions
            mine = type(obj).__name__ if obj is not None else None
            if saved != "" and saved != mine:
                what = key.partition("_")[0]
                raise ckpt.CheckpointError(
                    f"{path} was written with {what} {saved} but this run uses {mine}; a run "
                    f"resumes with the {what} it was started with (start a new run to change it)")
        try:
            self.model.load_state_dict(state["model"])
        except (KeyError, ValueError, TypeError, RuntimeError) as err:
            raise ckpt.CheckpointError(f"{path} does not fit this model: "
                                       f"{err.args[0] if err.args else err}") from None
        try:
            self.optimizer.load_state_dict(state["optimizer"])
            if self.scheduler is not None and state.get("scheduler") is not None:
                self.scheduler.load_state_dict(state["scheduler"])
            rng().bit_generator.state = state["rng"]
            self.epoch = int(state["epoch"])
            self.best_metric, self.best_epoch = state["best_metric"], state["best_epoch"]
            self.bad_epochs = int(state["bad_epochs"])
        except (KeyError, ValueError, TypeError) as err:
            raise ckpt.CheckpointError(
                f"{path} does not fit this optimizer or scheduler "
                f"({type(self.optimizer).__name__}): {err.args[0] if err.args else err}; a run "
                "resumes with the optimizer and scheduler it was started with") from None
        if train_loader is not None and state.get("loader") and hasattr(train_loader,
                                                                         "load_state_dict"):
            train_loader.load_state_dict(state["loader"])
        best = Path(path).parent / BEST
        if self.early_stopping is not None and best.exists():
            self._best_state = ckpt.load_state_dict(best)
        return list(state.get("history") or [])

    # ------------------------------------------------------------------ helpers
    def _lr(self) -> float | None:
        groups = self.optimizer.param_groups
        return float(groups[0]["lr"]) if groups else None

    def _check_finite(self, epoch: int) -> None:
        """Raise TrainingDiverged when a weight, buffer or optimizer state is NaN/inf."""
        bad = _non_finite(self.model.state_dict().items())
        bad += _non_finite(_optimizer_arrays(self.optimizer))
        if bad:
            names = ", ".join(bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
            raise TrainingDiverged(self._diverged_message(
                f"the weights became NaN or infinite during epoch {epoch} ({names})"))

    def _diverged_message(self, problem: str) -> str:
        if self.run_dir is None:
            kept = ""
        elif self.epoch > 0:
            kept = (f"; the last good checkpoint (epoch {self.epoch}) is kept in "
                    f"{self.run_dir}")
        else:
            kept = f"; no checkpoint was written to {self.run_dir}"
        lr = self._lr()
        lr_text = f" (it is {lr:g})" if lr is not None else ""
        return (f"{problem}; try a lower --lr{lr_text}, gradient clipping (--grad-clip 1.0) "
                f"or checking the input data{kept}")


def _len(loader: Any) -> int | None:
    try:
        return len(loader)
    except TypeError:
        return None


def fit(model: Any, train_loader: Any, val_loader: Any = None, test_loader: Any = None, *,
        optimizer: Any, loss_fn: Callable | None = None, epochs: int = 10,
        scheduler: Any = None, scheduler_step: str = "epoch",
        run_dir: str | os.PathLike | None = None,
        early_stopping: EarlyStopping | int | None = None, resume: bool = False,
        progress: bool = True, grad_clip: float | None = None, seed: int | None = None,
        config: dict | None = None, log: Callable[[str], None] | None = print,
        callbacks: list[Callback] | tuple[Callback, ...] = ()) -> FitResult:
    """Train ``model`` on ``train_loader``: the one-call form of ``Trainer(...).fit(...)``.

    Args:
        seed: when given, ``neuralab.manual_seed(seed)`` before training (dropout masks and
            other random draws); build the model and loaders after seeding too for a fully
            reproducible run.

    See ``Trainer`` for the other arguments.

    Example:
        >>> result = fit(model, train_loader, val_loader, test_loader,
        ...              optimizer=optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
        ...              epochs=10, run_dir="runs/mlp")
        >>> result.test["acc1"]
    """
    if seed is not None and not resume:
        manual_seed(seed)
    trainer = Trainer(model, optimizer, loss_fn=loss_fn, scheduler=scheduler,
                      scheduler_step=scheduler_step, run_dir=run_dir,
                      early_stopping=early_stopping, grad_clip=grad_clip, progress=progress,
                      config=config, log=log, callbacks=callbacks)
    return trainer.fit(train_loader, val_loader, test_loader, epochs=epochs, resume=resume)

