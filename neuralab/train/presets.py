"""Named training recipes for ``neuralab train --preset NAME`` (Lecture 12's CIFAR ResNets).

A preset is plain data: a dict of command-line defaults (options given on the command line still
win), with the CLI's names in underscores (``batch_size``, ``weight_decay``, ``milestones``,
``max_lr``...). ``neuralab train`` validates a preset's keys like any other settings.

``resnet20-cifar10``: the recipe of He et al. (2016, Sec. 4.2): SGD with batch 128, lr 0.1,
momentum 0.9, weight decay 1e-4, lr divided by 10 at 32k and 48k iterations, stopped at 64k, on a
45k/5k train/validation split, augmented with 4-pixel-padded random 32x32 crops and horizontal
flips (the cifar10 data set's training transform). At 45,000 / 128 = 352 iterations per epoch the
milestones are epochs 91 and 136 and the end is epoch 182. Expected test error: 8.75%.

``resnet20-cifar10-onecycle``: a budget recipe for CPUs: 5 epochs on all 50k training images with
the one-cycle policy (Smith & Topin, 2018), peak lr 0.2, Nesterov momentum, weight decay 5e-4.
"""

from __future__ import annotations

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

def list_presets() -> list[str]:
    """The preset names, sorted."""
    return sorted(PRESETS)


def get_preset(name: str) -> dict[str, Any]:
    """A copy of the settings of preset ``name``."""
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; choose one of {', '.join(list_presets())}")
    return dict(PRESETS[name])
