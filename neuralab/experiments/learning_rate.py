"""Lecture 7: the learning rate decides whether gradient descent crawls, works, oscillates or
diverges. SGD trains an MNIST MLP from the same initial weights at four rates: too small, each
step is safe but tiny and the loss barely moves; about right, it falls quickly and steadily; too
large, the steps overshoot the valley floor and the loss jumps up and down to end higher; much too
large, each step lands where the gradient is larger still and the loss explodes.
"""

from __future__ import annotations

import math
from typing import Any

from neuralab.backend import manual_seed, xp
from neuralab.data import DataLoader
from neuralab.data.arrays import dataset_arrays
from neuralab.experiments.toolkit import load_mnist, train_steps
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.models import create
from neuralab.optim import SGD
from neuralab.train import DivergenceStop, LossRecorder, Trainer
from neuralab.train.metrics import evaluate

ROLES = dict(small="too small", right="about right", large="too large", divergent="divergent")


def train_one(cfg: dict, lr: float, train: Any, held_out: Any, ctx: Any) -> dict:
    """SGD at ``lr`` for ``steps`` steps, or until it diverges (the point is then made)."""
    manual_seed(ctx.seed)  # the same initial weights for every learning rate
    model = create("mlp", hidden=tuple(cfg["hidden"]))
    curve = LossRecorder(lambda step, loss: ctx.log("train", step=step, lr=lr, loss=loss), every=1)
    stop = DivergenceStop(factor=cfg["explode_factor"])
    trainer = Trainer(model, SGD(model.parameters(), lr=lr), progress=ctx.show_progress,
                      log=None, topk=(1,), callbacks=[curve, stop])
    loader = DataLoader(train, batch_size=cfg["batch_size"], shuffle=True, seed=ctx.seed)
    if not train_steps(trainer, loader, cfg["steps"]):  # the loss overflowed to inf or nan
        curve.losses.append(math.inf)
    held = evaluate(model, *held_out, batch_size=500, topk=(1,))
    return {"lr": lr, "eval_loss": held["loss"], "eval_accuracy": held["acc1"],
            "diverged": stop.diverged or math.isinf(curve.losses[-1]),
            "max_loss": max(curve.losses), "losses": curve.losses}


def run(cfg: dict, ctx: Any) -> dict:
    if len(cfg["lrs"]) != len(ROLES):
        raise ValueError(f"learning-rate: lrs must list {len(ROLES)} rates, got {cfg['lrs']}")
    train, test, is_subset = load_mnist(cfg, "learning-rate")
    held_out = dataset_arrays(test, slice(min(cfg["eval_examples"], len(test))))
    runs = {role: train_one(cfg, float(lr), train, held_out, ctx)
            for role, lr in zip(ROLES, cfg["lrs"])}
    fig, ax = ctx.subplots(figsize=(8, 4.5))
    for role, r in runs.items():
        ax.plot(xp.minimum(r["losses"], 1e4), label=f"lr = {r['lr']:g} ({ROLES[role]})"
                + (" — diverged" if r["diverged"] else ""))
    ax.set(yscale="log", xlabel="step", ylabel="training loss (cross-entropy)",
           title="SGD on MNIST with four learning rates")
    ctx.figure("loss_curves", fig, "Training loss per step (clipped at 1e4); a diverged run stops.")
    return {"data_is_subset": is_subset, **{f"{role}_{key}": value for role, r in runs.items()
                                            for key, value in r.items() if key != "losses"}}


def verdict(results: dict, cfg: dict) -> Verdict:
    """The moderate rate's held-out loss below both the too-small and the too-large rate's;
    the much too large rate diverges; the small and moderate ones do not."""
    loss = {role: float(results[f"{role}_eval_loss"]) for role in ("small", "right", "large")}
    lr = {role: results[f"{role}_lr"] for role in ROLES}
    return judge([
        *(Comparison(f"held-out loss at lr {lr['right']:g}", loss["right"], "<",
                     f"at lr {lr[role]:g} ({ROLES[role]})", loss[role])
          for role in ("small", "large")),
        Comparison(f"runs diverged at lr {lr['divergent']:g} (max loss "
                   f"{float(results['divergent_max_loss']):.3g})",
                   int(bool(results["divergent_diverged"])), "==", "one", 1, bound=True, fmt="d"),
        Comparison("diverged runs among the small and moderate rates",
                   int(bool(results["small_diverged"])) + int(bool(results["right_diverged"])),
                   "==", "none", 0, bound=True, fmt="d")])


EXPERIMENT = Experiment(
    name="learning-rate",
    lecture="L7",
    title="Too small, right, too large, divergent: the learning rate on MNIST",
    claim="With too small a learning rate SGD barely progresses, too large a rate oscillates to a "
          "worse loss, and a much too large one diverges; a moderate rate does best.",
    run=run,
    verdict=verdict,
    defaults={"lrs": [0.003, 0.1, 1.0, 10.0], "hidden": [256, 256], "batch_size": 64,
              "steps": 1500, "eval_examples": 10000, "explode_factor": 100.0, "data": "auto",
              "data_root": "", "download": False},
    quick={"hidden": [64], "steps": 80, "eval_examples": 500, "data": "subset"},
    runtime="3 min",
    setup="SGD without momentum on a ReLU MLP with hidden layers {hidden}, batch {batch_size}, "
          "{steps} steps, the same initial weights at each learning rate {lrs}; a run diverges "
          "when its loss is not finite or exceeds {explode_factor}× the first. Data: {data}.",
)
