"""Load the model of a ``neuralab train`` run back, with its trained weights.

    >>> from neuralab.train import load_model
    >>> model = load_model("runs/mlp-mnist-20260101-120000")   # config.json + checkpoint.npz
    >>> model.eval()

A run directory holds ``config.json`` (the settings: model, its options, the data set) and
``checkpoint.npz`` (the model's ``state_dict`` under ``"model"``, beside the optimizer's state);
``load_model`` builds the model as ``neuralab train`` did and loads the weights. For a model made
in Python, build it the same way and load the weights yourself:
``model.load_state_dict(neuralab.train.checkpoint.load(path)["model"])``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from neuralab.train import checkpoint as ckpt
from neuralab.train.command import _build_model
from neuralab.train.datasets import data_shape

__all__ = ["load_model"]


def load_model(run_dir: str | os.PathLike, checkpoint: str = "checkpoint.npz") -> Any:
    """The model of the ``neuralab train`` run in ``run_dir`` with the weights of ``checkpoint``
    (``"best.npz"`` for the best epoch of an early-stopped run).

    Raises:
        FileNotFoundError: ``run_dir`` lacks config.json or the checkpoint.
        ValueError: config.json was not written by ``neuralab train`` (no model settings).
    """
    run_dir = Path(run_dir)
    config_path, weights = run_dir / "config.json", run_dir / checkpoint
    for path in (config_path, weights):
        if not path.is_file():
            raise FileNotFoundError(f"load_model: {path} does not exist; is {run_dir} a run "
                                    "directory of `neuralab train`?")
    settings = json.loads(config_path.read_text()).get("settings")
    if not isinstance(settings, dict) or "model" not in settings or "data" not in settings:
        raise ValueError(f"load_model: {config_path} has no model and data settings (a run of "
                         "`neuralab train` has); build the model yourself and call "
                         f"model.load_state_dict(neuralab.train.checkpoint.load({str(weights)!r})"
                         "['model'])")
    shape, classes = data_shape(settings["data"], settings.get("data_root"),
                                settings.get("image_size"))
    state = ckpt.load(weights)
    state = state["model"] if isinstance(state, dict) and "model" in state else state
    if classes is None:  # read from the files: the last layer's bias has one entry per class
        classes = int(next(v for k, v in reversed(list(state.items())) if k.endswith("bias"))
                      .shape[0])
    model = _build_model(settings["model"], SimpleNamespace(input_shape=shape,
                                                            num_classes=classes), settings)
    model.load_state_dict(state)
    return model
