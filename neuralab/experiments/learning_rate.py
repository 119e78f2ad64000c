"""Lecture 7: the learning rate decides whether gradient descent crawls, works, oscillates or
diverges.

Stochastic gradient descent on an MNIST multilayer perceptron with four learning rates:

* too small: every step is safe but tiny, so the loss has barely moved after the budget;
* about right: the loss falls quickly and steadily;
* too large: the steps overshoot the valley floor; the loss jumps up and down and ends higher;
* much too large: each step lands where the gradient is larger still, the loss explodes
  (or becomes NaN), and ReLU units may die for good.
"""

from __future__ import annotations

import math
from typing import Any

from neuralab.backend import manual_seed, xp
from neuralab.data import DataLoader
from neuralab.data.arrays import dataset_arrays
from neuralab.diagnostics.recorder import Recorder
from neuralab.experiments.toolkit import load_mnist, mnist_source, train_steps
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.models import create
from neuralab.optim import SGD
from neuralab.train import Trainer
from neuralab.train.callbacks import DivergenceStop, LambdaCallback
from neuralab.train.metrics import evaluate

ROLES = {"small": "too small", "right": "about right", "large": "too large",
         "divergent": "divergent"}
# The table's columns: a run's value and its heading.
COLUMNS = {"lr": "learning rate", "steps": "steps run", "diverged": "diverged",
           "max_loss": "max loss", "final_train_loss": "final train loss (last 10)",
           "eval_loss": "held-out loss", "eval_accuracy": "held-out accuracy",
           "fraction_of_steps_up": "fraction of steps where loss rose",
           "update_ratio": "median ‖Δw‖/‖w‖ (first layer)"}


def train_one(cfg: dict, lr: float, train: Any, held_out: Any, ctx: Any) -> dict:
    """SGD at ``lr`` for ``steps`` steps, or until the loss exceeds ``explode_factor`` times
    its first value (divergence: the point is made)."""
    manual_seed(ctx.seed)  # the same initial weights for every learning rate
    model = create("mlp", hidden=tuple(cfg["hidden"]))
    opt = SGD(model.parameters(), lr=lr)
    recorder = Recorder(model, every=cfg["record_every"])  # ‖Δw‖/‖w‖ per recorded step
    recorder.wrap(opt)
    recorder.set_step(0)
    losses = []

    def record(trainer: Any, step: int, loss: float, output: Any, target: Any) -> None:
        losses.append(loss)
        ctx.log("train", step=step, lr=lr, loss=loss)
        recorder.set_step(step + 1)

    stop = DivergenceStop(factor=cfg["explode_factor"])
    trainer = Trainer(model, opt, progress=ctx.show_progress, log=None, topk=(1,),
                      callbacks=[LambdaCallback(on_batch_end=record), stop])
    loader = DataLoader(train, batch_size=cfg["batch_size"], shuffle=True, seed=ctx.seed)
    if not train_steps(trainer, loader, cfg["steps"]):  # the loss overflowed to inf or nan
        losses.append(math.inf)
    recorder.detach()
    ctx.log_rows([dict(r, lr=lr) for r in recorder.records if r["series"] in ("grads", "updates")])
    first = next(name for name, p in model.named_parameters() if p.ndim >= 2)
    ratios = [r["ratio"] for r in recorder.records
              if r["series"] == "updates" and r["param"] == first and math.isfinite(r["ratio"])]
    held = evaluate(model, *held_out, batch_size=500, topk=(1,))
    return {"lr": lr, "steps": len(losses), "diverged": stop.diverged or math.isinf(losses[-1]),
            "max_loss": max(losses), "final_train_loss": float(xp.mean(losses[-10:])),
            "eval_loss": held["loss"], "eval_accuracy": held["acc1"],
            "fraction_of_steps_up": sum(b > a for a, b in zip(losses, losses[1:]))
            / max(1, len(losses) - 1),
            "update_ratio": float(xp.median(ratios)) if ratios else math.nan, "losses": losses}


def run(cfg: dict, ctx: Any) -> dict:
    if len(cfg["lrs"]) != 4:
        raise ValueError(f"learning-rate: lrs must list four rates (too small, about right, too "
                         f"large, divergent), got {cfg['lrs']}")
    train, test, is_subset = load_mnist(cfg, "learning-rate")
    held_out = dataset_arrays(test, slice(min(cfg["eval_examples"], len(test))))
    runs = {key: train_one(cfg, float(lr), train, held_out, ctx)
            for key, lr in zip(ROLES, cfg["lrs"])}
    ctx.table("learning_rates", ["role", *COLUMNS.values()],
              [[ROLES[key], *(r[k] for k in COLUMNS)] for key, r in runs.items()],
              caption=f"SGD on an MLP {tuple(cfg['hidden'])}, batch {cfg['batch_size']}, "
                      f"{cfg['steps']} steps; held-out loss on {len(held_out[0])} test images")
    fig, ax = ctx.subplots(figsize=(8, 4.5))
    for key, r in runs.items():
        ax.plot(xp.minimum(r["losses"], 1e4), label=f"lr = {r['lr']:g} ({ROLES[key]})"
                + (" — diverged" if r["diverged"] else ""))
    ax.set(yscale="log", xlabel="step", ylabel="training loss (cross-entropy)",
           title="SGD on MNIST with four learning rates")
    ctx.figure("loss_curves", fig, "Training loss per step (clipped at 1e4); a diverged run stops "
               "where the loss explodes.")
    ctx.note(mnist_source(is_subset))
    return {"data_is_subset": is_subset, **{f"{key}_{k}": r[k] for key, r in runs.items() for k
                                            in ("lr", "eval_loss", "eval_accuracy", "diverged",
                                                "max_loss", "update_ratio")}}


def verdict(results: dict, cfg: dict) -> Verdict:
    """The moderate rate's held-out loss below both the too-small and the too-large rate's;
    the much too large rate diverges; the small and moderate ones do not."""
    small, right, large = (float(results[f"{k}_eval_loss"]) for k in ("small", "right", "large"))
    lr = {k: results[f"{k}_lr"] for k in ("small", "right", "large", "divergent")}
    return judge([
        Comparison(f"held-out loss at lr {lr['right']:g}", right, "<",
                   f"at lr {lr['small']:g} (too small)", small),
        Comparison(f"held-out loss at lr {lr['right']:g}", right, "<",
                   f"at lr {lr['large']:g} (too large)", large),
        Comparison(f"runs diverged at lr {lr['divergent']:g} (max loss "
                   f"{float(results['divergent_max_loss']):.3g})",
                   int(bool(results["divergent_diverged"])), "==", "one", 1, bound=True,
                   fmt="d"),
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
              "steps": 1500, "eval_examples": 10000, "explode_factor": 100.0,
              "record_every": 20, "data": "auto",
              "data_root": "", "download": False},
    quick={"hidden": [64], "steps": 80, "eval_examples": 500, "data": "subset"},
    runtime="3 min",
    setup="SGD without momentum on an MLP with hidden layers {hidden} (ReLU, the registry's "
          "`mlp`), batch {batch_size}, {steps} steps, the same initial weights for each of the "
          "learning rates {lrs}. A run counts as diverged when the loss is not finite or exceeds "
          "{explode_factor}× its initial value. The diagnostics recorder measures the "
          "update-to-weight ratio ‖Δw‖/‖w‖ every {record_every} steps. Data: {data}.",
)
