"""What several experiments share and the library has no reason to hold: their data keys
(``data``, ``data_root``, ``train_images``, ``image_size``...) turned into arrays, and
``train_classifier``, ``Trainer`` with the settings and curves the CIFAR and MNIST experiments use.

The general pieces live in the library: ``data.arrays``, ``optim.lr_scheduler.WarmupCosineLR``,
``train.callbacks``, ``train.metrics``, ``plotting``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neuralab.backend import xp
from neuralab.data.arrays import ArrayLoader, balanced_subset, dataset_arrays
from neuralab.data.datasets import MNIST
from neuralab.nn.functional import cross_entropy
from neuralab.optim import SGD
from neuralab.optim.lr_scheduler import WarmupCosineLR
from neuralab.train.callbacks import Evaluator, StepLimit, StepRecorder
from neuralab.train.datasets import cifar10, cifar_augmentation
from neuralab.train.loop import Trainer, TrainingDiverged
from neuralab.train.metrics import main_output

__all__ = ["cifar_at_size", "load_mnist", "log_curve", "mnist_arrays", "mnist_source",
           "prepare_cifar", "run_summary", "tail_mean", "train_classifier", "train_steps"]


def load_mnist(cfg: dict, who: str) -> tuple[Any, Any, bool]:
    """MNIST's training and test sets for ``cfg['data']`` ('subset': the shipped 5,000/1,000
    images, 'full': 60,000/10,000, 'auto': full when found), ``data_root`` and ``download``.

    Returns:
        (train, test, is_subset).
    """
    if cfg["data"] not in ("subset", "full", "auto"):
        raise ValueError(f"{who}: data must be subset, full or auto, got {cfg['data']!r}")
    subset = {"subset": True, "full": False, "auto": None}[cfg["data"]]
    options = {"root": cfg["data_root"] or None, "subset": subset, "download": cfg["download"]}
    train, test = MNIST(train=True, **options), MNIST(train=False, **options)
    return train, test, bool(train.is_subset)


def mnist_arrays(cfg: dict, who: str) -> tuple[dict, bool]:
    """``load_mnist``'s sets as arrays: the first ``cfg['train_examples']`` training and
    ``cfg['eval_examples']`` test images (0: all).

    Returns:
        (``{"train": (x, y), "test": (x, y)}``, is_subset).
    """
    train, test, is_subset = load_mnist(cfg, who)
    return {"train": dataset_arrays(train, slice(cfg["train_examples"] or None)),
            "test": dataset_arrays(test, slice(cfg["eval_examples"] or None))}, is_subset


def mnist_source(is_subset: bool) -> str:
    """The report's sentence saying which MNIST training set was used."""
    return ("The shipped 5,000-image MNIST subset was used." if is_subset else
            "The full MNIST training set was used.")


def _cifar_splits(root: str | None) -> Any:
    """CIFAR-10 from ``root``, else ``$NEURALAB_DATA`` and the cache, else the development
    layout's ``shared/datasets`` beside the checkout."""
    try:
        return cifar10(root=root, val_split=0.0, download=False)
    except (FileNotFoundError, RuntimeError) as err:
        sibling = Path(__file__).resolve().parents[3] / "shared" / "datasets"
        if not root and (sibling / "cifar10-jpg.tar.gz").is_file():
            return cifar10(root=str(sibling), val_split=0.0, download=False)
        raise FileNotFoundError(
            f"CIFAR-10 not found ({err}); set data_root=FOLDER (or $NEURALAB_DATA) to the folder "
            "holding cifar-10-python.tar.gz or cifar10-jpg.tar.gz") from err


def prepare_cifar(cfg: dict, ctx: Any) -> tuple[dict, int, Callable | None]:
    """Balanced CIFAR-10 subsets as arrays, noted in the report.

    Config keys: ``data_root``, ``train_images`` and ``test_images`` (0: all), ``image_size``,
    ``augment`` (optional: random crops padded by size/8 and flips, He et al. 2016).

    Returns:
        ``({"train": (x, y), "test": (x, y), "classes": [...]}, size, augmentation or None)``;
        the data also keeps where its images came from, for ``cifar_at_size``.
    """
    splits = _cifar_splits(cfg.get("data_root") or None)
    size = int(cfg["image_size"])
    train_rows = balanced_subset(splits.train.targets, cfg["train_images"], ctx.seed)
    test_rows = balanced_subset(splits.test.targets, cfg["test_images"], ctx.seed + 1)
    data = {"train": dataset_arrays(splits.train, train_rows, size),
            "test": dataset_arrays(splits.test, test_rows, size),
            "classes": list(splits.train.classes),
            "source": (splits, train_rows, test_rows)}
    ctx.note(f"Data: {splits.description}; {len(train_rows)} training and {len(test_rows)} test "
             f"images at {size}x{size}.")
    return data, size, cifar_augmentation((size, size)) if cfg.get("augment") else None


def cifar_at_size(data: dict, size: int, train_rows: Any = None) -> dict:
    """``prepare_cifar``'s images again at another size, resampled from CIFAR-10's own 32x32
    images (not from ``data``'s): all of them, or the training images at positions
    ``train_rows`` of ``data['train']``."""
    splits, train, test = data["source"]
    train = train if train_rows is None else train[train_rows]
    return {**data, "train": dataset_arrays(splits.train, train, size),
            "test": dataset_arrays(splits.test, test, size)}


def train_classifier(model: Any, data: dict, cfg: dict, ctx: Any, label: str,
                     loss_fn: Callable | None = None, epochs: int | None = None,
                     lr: float | None = None, augment: Callable | None = None,
                     order_seed: int | None = None, callbacks: tuple = (),
                     nesterov: bool | None = None, schedule: bool = True) -> dict:
    """Train ``model`` on ``data['train']`` through ``Trainer``: SGD, warm-up + cosine schedule.

    Every model trained with the same ``order_seed`` (default: the run's seed) sees the same
    mini-batches in the same order, so differences come from the architecture alone.

    Config keys: ``batch_size``, ``lr``, ``momentum``, ``weight_decay`` (optional), ``epochs``,
    ``eval_every`` (epochs between test evaluations; 0: at the end only), ``warmup`` (optional:
    the fraction of the steps of linear warm-up; networks without batch norm can blow up in
    their first steps at the full rate).

    Args:
        nesterov: Nesterov momentum (default: whenever momentum > 0).
        schedule: the warm-up + cosine schedule (False: a constant learning rate).
        callbacks: more ``Callback``s (gradient recorders).

    Returns:
        ``losses``/``errors`` of every mini-batch, ``curve`` (rows of epoch, train loss, test
        loss, test top-1 and top-5 error), ``test`` (the final test metrics), ``seconds``,
        ``steps``, ``params``.
    """
    epochs = int(cfg["epochs"] if epochs is None else epochs)
    if epochs < 1:
        raise ValueError(f"{label}: epochs must be at least 1, got {epochs}")
    momentum = cfg["momentum"]
    opt = SGD(model.parameters(), lr=cfg["lr"] if lr is None else lr, momentum=momentum,
              weight_decay=cfg.get("weight_decay", 0.0),
              nesterov=momentum > 0 if nesterov is None else nesterov)
    loader = ArrayLoader(*data["train"], int(cfg["batch_size"]),
                         ctx.seed if order_seed is None else order_seed, augment)
    total = max(1, epochs * len(loader))
    scheduler = (WarmupCosineLR(opt, total, max(1, int(cfg.get("warmup", 0.0) * total)))
                 if schedule else None)
    steps = StepRecorder(lambda step, **v: ctx.log("train", step=step, model=label, **v))
    tests = Evaluator(*data["test"], last_epoch=epochs, every=cfg.get("eval_every", 0),
                      log=lambda step, **v: ctx.log("epoch", step=step, model=label, **v))
    trainer = Trainer(model, opt, loss_fn=loss_fn or _main_loss, scheduler=scheduler,
                      scheduler_step="batch", progress=ctx.show_progress, log=None, topk=(1,),
                      callbacks=[*callbacks, steps, tests])
    start = time.perf_counter()
    trainer.fit(loader, epochs=epochs)
    curve = [[r["epoch"], r["train_loss"], r["loss"], r["err1"], r["err5"]] for r in tests.history]
    return {"losses": steps.losses, "errors": steps.errors, "curve": curve,
            "test": {"loss": curve[-1][2], "err1": curve[-1][3], "err5": curve[-1][4]},
            "seconds": time.perf_counter() - start, "steps": trainer.global_step,
            "params": sum(int(p.array.size) for p in model.parameters())}


def _main_loss(output: Any, y: Any) -> Any:
    """Cross-entropy of the main classifier (GoogLeNet's output is a tuple)."""
    return cross_entropy(main_output(output), y)


def tail_mean(values: list[float], fraction: float = 0.2) -> float:
    """Mean of the last ``fraction`` of ``values`` (a noise-robust "final" training loss)."""
    k = max(1, int(len(values) * fraction))
    return float(sum(values[-k:]) / k)


def log_curve(ctx: Any, series: str, losses: list[float], points: int = 50, **fields: Any) -> None:
    """Log ``losses`` (one per step) to ``series`` at about ``points`` evenly spaced steps
    (every step of a short curve), each row with ``fields``."""
    for step in range(0, len(losses), max(1, len(losses) // points)):
        ctx.log(series, step=step, **fields, loss=losses[step])


def train_steps(trainer: Trainer, loader: Any, steps: int) -> bool:
    """Train for ``steps`` mini-batches of ``loader`` (as many epochs as that takes; a
    ``StepLimit`` is added to the trainer's callbacks), overflow warnings silenced.

    Returns:
        True when all the steps were taken, False when the run diverged (``TrainingDiverged``:
        a loss or a weight no longer finite), which the experiments studying divergence record.
    """
    trainer.callbacks.append(StepLimit(steps))
    try:
        with xp.errstate(all="ignore"):
            trainer.fit(loader, epochs=math.ceil(steps / len(loader)))
    except TrainingDiverged:
        return False
    return True


def run_summary(out: dict, tail_fraction: float = 0.2) -> dict:
    """The numbers a ``train_classifier`` run contributes to an experiment's results: the first
    mini-batch's loss, the training loss and error averaged over the last ``tail_fraction`` of
    the steps (train mode), the final test loss and top-1/top-5 errors, the parameters, the steps
    and the seconds."""
    return {"first_loss": out["losses"][0], "train_loss": tail_mean(out["losses"], tail_fraction),
            "train_error": tail_mean(out["errors"], tail_fraction),
            "test_loss": out["test"]["loss"], "test_err1": out["test"]["err1"],
            "test_err5": out["test"]["err5"], "params": out["params"], "steps": out["steps"],
            "seconds": out["seconds"]}
