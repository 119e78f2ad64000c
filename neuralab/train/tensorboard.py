"""``TensorBoardLogger``: a Trainer callback that logs a run for TensorBoard.

What it writes (``tensorboard --logdir RUN_DIR/tensorboard`` shows it):

* every ``every`` steps: the training loss of the step (``loss/step``), the learning rate
  (``lr``) and the gradient norm of every parameter (``grad_norm/<name>``: Lecture 15's check
  for vanishing and exploding gradients, layer by layer);
* every epoch: training and validation loss and top-1 accuracy on one chart each
  (``loss``, ``accuracy`` with ``train`` and ``val`` curves) and a histogram of every weight
  (``weights/<name>``);
* at the end, ``finish(test_metrics, hparams)`` adds the test results, a figure of the loss and
  accuracy curves (under Images) and the run's settings (TensorBoard's HParams tab).
"""

from __future__ import annotations

import math
import os
from typing import Any

from neuralab.plotting import subplots, tidy_figure
from neuralab.train.loop import Callback, Trainer
from neuralab.utils.tensorboard import SummaryWriter

__all__ = ["TensorBoardLogger"]


class TensorBoardLogger(Callback):
    """Log a Trainer's run to TensorBoard event files in ``log_dir``.

    Args:
        log_dir: the folder of the event files.
        every: log the step loss, the learning rate and the gradient norms every ``every`` steps.
    """

    def __init__(self, log_dir: str | os.PathLike, every: int = 20):
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"TensorBoardLogger: every must be a positive integer, got {every!r}")
        self.writer = SummaryWriter(log_dir)
        self.every = every
        self.epochs: list[tuple[int, dict]] = []

    def on_after_backward(self, trainer: Trainer, step: int) -> None:
        if step % self.every:
            return
        for name, p in trainer.model.named_parameters():
            if p.grad is not None:
                g = p.grad.array
                self.writer.add_scalar(f"grad_norm/{name}", math.sqrt(float((g * g).sum())),
                                       step)

    def on_batch_end(self, trainer: Trainer, step: int, loss: float, output: Any,
                     target: Any) -> None:
        if step % self.every:
            return
        self.writer.add_scalar("loss/step", loss, step)
        self.writer.add_scalar("lr", trainer.optimizer.param_groups[0]["lr"], step)

    def on_epoch_end(self, trainer: Trainer, epoch: int, metrics: dict) -> None:
        self.epochs.append((epoch, metrics))
        for key, tag in (("loss", "loss"), ("acc1", "accuracy")):
            curves = {phase: m[key] for phase, m in metrics.items() if m and key in m}
            if curves:
                self.writer.add_scalars(tag, curves, epoch)
        for name, p in trainer.model.named_parameters():
            self.writer.add_histogram(f"weights/{name}", p.array, epoch)
        self.writer.flush()

    def finish(self, test: dict | None, hparams: dict) -> None:
        """Add the test metrics and the run's settings, then close the files."""
        metrics = {f"test/{k}": v for k, v in (test or {}).items()
                   if k in ("loss", "acc1", "acc5")}
        for key, value in metrics.items():
            self.writer.add_scalar(key, value, 0)
        if self.epochs:
            self.writer.add_figure("curves", self._curves_figure(), len(self.epochs))
        if metrics:
            simple = {k: v for k, v in hparams.items()
                      if isinstance(v, (bool, int, float, str)) and v is not None}
            self.writer.add_hparams(simple, {f"hparam/{k}": v for k, v in metrics.items()})
        self.writer.close()

    def _curves_figure(self) -> Any:
        fig, axes = subplots(1, 2, figsize=(8, 3))
        for ax, key, label in ((axes[0], "loss", "loss"), (axes[1], "acc1", "top-1 accuracy")):
            for phase in ("train", "val"):
                points = [(e, m[phase][key]) for e, m in self.epochs
                          if m.get(phase) and key in m[phase]]
                if points:
                    ax.plot(*zip(*points), marker="o", label=phase)
            ax.set_xlabel("epoch")
            ax.set_ylabel(label)
            ax.legend()
        tidy_figure(fig)
        return fig
