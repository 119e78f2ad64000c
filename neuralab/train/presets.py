"""Named training recipes for ``neuralab train --preset NAME`` (Lecture 12's CIFAR ResNets).

A preset is a dict of command-line defaults: options given on the command line still win. Keys
use the CLI's names with underscores (``batch_size``, ``weight_decay``...). Scheduler details the
CLI may not expose yet sit in the same dict (``milestones``, ``max_lr``, ``pct_start``,
``scheduler_step``); ``get_preset`` hands over only what the installed CLI understands and
says which approximation it made otherwise.

``resnet20-cifar10``: the recipe of He et al. (2016, Sec. 4.2): SGD with batch 128, lr 0.1,
momentum 0.9, weight decay 1e-4, lr divided by 10 at 32k and 48k iterations, stopped at 64k, on a
45k/5k train/validation split, augmented with 4-pixel-padded random 32x32 crops and horizontal
flips (the cifar10 data set's training transform). At 45,000 / 128 = 352 iterations per epoch the
milestones are epochs 91 and 136 and the end is epoch 182. Expected test error: 8.75%.

``resnet20-cifar10-onecycle``: a budget recipe for CPUs: 5 epochs on all 50k training images with
the one-cycle policy (Smith & Topin, 2018), peak lr 0.2, Nesterov momentum, weight decay 5e-4.
"""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["PRESETS", "get_preset", "list_presets"]

_ITERS_PER_EPOCH_45K = 45_000 // 128 + 1  # 352 batches of 128 (the last one partial)

PRESETS: dict[str, dict[str, Any]] = {
    "resnet20-cifar10": {
        "model": "resnet20",
        "data": "cifar10",
        "optimizer": "sgd",
        "batch_size": 128,
        "lr": 0.1,
        "momentum": 0.9,
        "weight_decay": 1e-4,
        "val_split": 0.1,
        "epochs": round(64_000 / _ITERS_PER_EPOCH_45K),  # 182 epochs = 64k iterations
        "scheduler": "multistep",
        "milestones": [round(32_000 / _ITERS_PER_EPOCH_45K),  # epochs 91 and 136:
                       round(48_000 / _ITERS_PER_EPOCH_45K)],  # 32k and 48k iterations
        "gamma": 0.1,
        "eval_batch_size": 500,
    },
    "resnet20-cifar10-onecycle": {
        "model": "resnet20",
        "data": "cifar10",
        "optimizer": "sgd",
        "batch_size": 128,
        "lr": 0.2,  # the peak of the cycle
        "max_lr": 0.2,
        "pct_start": 0.25,
        "momentum": 0.9,
        "nesterov": True,
        "weight_decay": 5e-4,
        "val_split": 0.0,
        "epochs": 5,
        "scheduler": "onecycle",
        "scheduler_step": "batch",
        "eval_batch_size": 500,
    },
}

# Extra keys of the scheduler, and what to fall back to when the CLI lacks that scheduler.
_SCHEDULER_KEYS = ("milestones", "max_lr", "pct_start", "scheduler_step")
_FALLBACK = {
    # one decay of 10x at the first milestone (the run stops before a second step_size decay
    # would come at 2 x 91 = 182 epochs, which is where the recipe ends anyway)
    "multistep": lambda p: {"scheduler": "step", "step_size": p["milestones"][0]},
    "onecycle": lambda p: {"scheduler": "cosine"},
}


def list_presets() -> list[str]:
    """The preset names, sorted."""
    return sorted(PRESETS)


def get_preset(name: str) -> dict[str, Any]:
    """The settings of preset ``name`` that the installed ``neuralab train`` understands.

    When the CLI knows the preset's scheduler (and its extra keys), the preset is returned
    whole. Otherwise the scheduler is replaced by the closest one it has (multistep -> step at
    the first milestone, onecycle -> cosine) with a warning, so the CLI never receives a key it
    would pass to the model by mistake.
    """
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; choose one of {', '.join(list_presets())}")
    preset = dict(PRESETS[name])
    try:
        from neuralab.train import command
    except ImportError:  # pragma: no cover - the CLI is part of the package
        return preset
    known = set(getattr(command, "DEFAULTS", {}))
    schedulers = set(getattr(command, "SCHEDULERS", ()))
    kind = preset.get("scheduler")
    if kind in _FALLBACK and kind not in schedulers:
        replacement = _FALLBACK[kind](preset)
        warnings.warn(
            f"preset {name!r}: this neuralab train has no {kind!r} scheduler; using "
            f"{replacement} instead", stacklevel=2)
        preset.update(replacement)
    return {k: v for k, v in preset.items() if k in known or k not in _SCHEDULER_KEYS}
