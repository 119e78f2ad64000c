"""``SummaryWriter``: TensorBoard logs with PyTorch's names (``torch.utils.tensorboard``).

The event files are written by tensorboardX, a library made for exactly this (the format is
TensorBoard's protocol buffers; nothing here writes it by hand). This module only turns neuralab
tensors into arrays and keeps PyTorch's signatures, so a training script's logging lines carry
over unchanged:

    from neuralab.utils.tensorboard import SummaryWriter
    writer = SummaryWriter("runs/mlp")              # then: tensorboard --logdir runs
    writer.add_scalar("loss/train", loss.item(), step)
    writer.add_histogram("fc1.weight", model.fc1.weight, step)
    writer.close()

Install the writer with ``pip install "neuralab[tensorboard]"``; view with TensorBoard itself.
"""

from __future__ import annotations

import importlib.util
import os
import socket
from datetime import datetime
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp

__all__ = ["SummaryWriter"]


def _array(value: Any) -> Any:
    """A neuralab Tensor (or anything array-like) as a NumPy array, without a graph."""
    return value.array if isinstance(value, Tensor) else xp.asarray(value)


def _scalar(name: str, value: Any) -> float:
    array = _array(value)
    if array.size != 1:
        raise ValueError(f"SummaryWriter.{name}: a scalar needs one value, got an array of "
                         f"shape {array.shape}")
    return float(array.reshape(()))


def default_log_dir(comment: str = "") -> str:
    """PyTorch's default: ``runs/<Mon><DD>_<HH-MM-SS>_<hostname><comment>``."""
    stamp = datetime.now().strftime("%b%d_%H-%M-%S")
    return os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")


class SummaryWriter:
    """Write scalars, histograms, images, figures, text and hyperparameters for TensorBoard.

    Args:
        log_dir: folder of the event files (default ``runs/<date>_<host><comment>``).
        comment: suffix of the default ``log_dir``.
        purge_step: drop events at and after this step left by a crashed earlier run.
        max_queue: events kept in memory before a write.
        flush_secs: seconds between flushes to disk.
        filename_suffix: suffix of the event file's name.
    """

    def __init__(self, log_dir: str | os.PathLike | None = None, comment: str = "",
                 purge_step: int | None = None, max_queue: int = 10, flush_secs: int = 120,
                 filename_suffix: str = ""):
        if importlib.util.find_spec("tensorboardX") is None:
            raise ImportError('SummaryWriter: TensorBoard logs need tensorboardX; install it '
                              'with pip install "neuralab[tensorboard]"')
        from tensorboardX import SummaryWriter as _EventWriter  # optional dependency

        self.log_dir = os.fspath(log_dir) if log_dir is not None else default_log_dir(comment)
        self._writer = _EventWriter(logdir=self.log_dir, purge_step=purge_step,
                                    max_queue=max_queue, flush_secs=flush_secs,
                                    filename_suffix=filename_suffix)

    def get_logdir(self) -> str:
        """The folder the event files go to."""
        return self.log_dir

    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None,
                   walltime: float | None = None, new_style: bool = False) -> None:
        """One point of the curve ``tag`` (a loss, an accuracy, a learning rate)."""
        self._writer.add_scalar(tag, _scalar("add_scalar", scalar_value), global_step,
                                walltime=walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step: int | None = None,
                    walltime: float | None = None) -> None:
        """Several curves drawn on one chart (``{"train": 0.3, "val": 0.4}``)."""
        values = {k: _scalar("add_scalars", v) for k, v in tag_scalar_dict.items()}
        self._writer.add_scalars(main_tag, values, global_step, walltime=walltime)

    def add_histogram(self, tag: str, values: Any, global_step: int | None = None,
                      bins: str = "tensorflow", walltime: float | None = None,
                      max_bins: int | None = None) -> None:
        """The distribution of ``values`` (weights, gradients, activations) at this step."""
        array = _array(values).astype(xp.float64, copy=False).ravel()
        if array.size == 0:
            raise ValueError(f"SummaryWriter.add_histogram: {tag!r} has no values")
        self._writer.add_histogram(tag, array, global_step, bins=bins, walltime=walltime,
                                   max_bins=max_bins)

    def add_image(self, tag: str, img_tensor: Any, global_step: int | None = None,
                  walltime: float | None = None, dataformats: str = "CHW") -> None:
        """An image: floats in [0, 1] or uint8 in [0, 255], laid out as ``dataformats``."""
        self._writer.add_image(tag, _array(img_tensor), global_step, walltime=walltime,
                               dataformats=dataformats)

    def add_images(self, tag: str, img_tensor: Any, global_step: int | None = None,
                   walltime: float | None = None, dataformats: str = "NCHW") -> None:
        """A batch of images shown as one grid."""
        self._writer.add_images(tag, _array(img_tensor), global_step, walltime=walltime,
                                dataformats=dataformats)

    def add_figure(self, tag: str, figure: Any, global_step: int | None = None,
                   close: bool = True, walltime: float | None = None) -> None:
        """A matplotlib figure, rendered to an image."""
        self._writer.add_figure(tag, figure, global_step, close=close, walltime=walltime)

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """Text (Markdown) shown under TensorBoard's Text tab."""
        self._writer.add_text(tag, text_string, global_step, walltime=walltime)

    def add_hparams(self, hparam_dict: dict, metric_dict: dict, hparam_domain_discrete: Any = None,
                    run_name: str | None = None, global_step: int | None = None) -> None:
        """A run's hyperparameters with its final metrics, for TensorBoard's HParams tab."""
        metrics = {k: _scalar("add_hparams", v) for k, v in metric_dict.items()}
        self._writer.add_hparams(dict(hparam_dict), metrics, name=run_name,
                                 global_step=global_step)

    def flush(self) -> None:
        """Write pending events to disk."""
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the event files."""
        self._writer.close()

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
