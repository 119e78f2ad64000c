"""Lecture 7: SGD, momentum, Nesterov, AdaGrad, RMSprop and Adam training the same MLP on MNIST.

Every optimizer starts from the same initial weights and sees the same mini-batches in the same
order, so the learning curves differ only by the update rule:

* SGD: w ← w − α ∇L;
* momentum: p ← μp + ∇L, w ← w − αp (the velocity accumulates along directions where successive
  gradients agree, so the effective step there is α/(1 − μ));
* Nesterov: the gradient is taken at the look-ahead point w − αμp;
* AdaGrad: each weight's step is divided by the root of its summed squared gradients;
* RMSprop: the same with an exponential moving average of squared gradients instead of a sum;
* Adam: RMSprop's scaling applied to a momentum-like moving average of gradients, with bias
  correction.

The learning rates are sensible ones per method (the adaptive methods normalise the step so
their good rates are much smaller than SGD's). At equal steps momentum and Adam reach a lower
training loss than plain SGD.
"""

from __future__ import annotations

import math
from typing import Any

from neuralab.backend import manual_seed, xp
from neuralab.data.arrays import ArrayLoader, dataset_arrays
from neuralab.experiments.toolkit import load_mnist
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.models import create
from neuralab.optim import SGD, Adagrad, Adam, RMSprop
from neuralab.plotting import moving_average
from neuralab.train import Callback, Trainer, TrainingDiverged
from neuralab.train.metrics import evaluate

# Display name -> (optimizer class, fixed keyword arguments), in the lecture's order.
OPTIMIZERS = {"SGD": (SGD, {}), "momentum": (SGD, {"momentum": 0.9}),
              "Nesterov": (SGD, {"momentum": 0.9, "nesterov": True}), "AdaGrad": (Adagrad, {}),
              "RMSprop": (RMSprop, {}), "Adam": (Adam, {})}


class LossAndTest(Callback):
    """Every step's training loss; the test loss and accuracy every ``eval_every`` steps and
    at the end of training after ``steps`` steps."""

    def __init__(self, name: str, cfg: dict, test: tuple, ctx: Any):
        self.name, self.cfg, self.test, self.ctx = name, cfg, test, ctx
        self.losses: list[float] = []
        self.evals: list[tuple[int, float]] = []  # (step, test accuracy)

    def on_batch_end(self, trainer: Any, step: int, loss: float, output: Any,
                     target: Any) -> None:
        self.losses.append(loss)
        self.ctx.log("train", step=step, optimizer=self.name, loss=loss)
        trainer.should_stop = step + 1 >= self.cfg["steps"]
        if (step + 1) % self.cfg["eval_every"] == 0 or trainer.should_stop:
            test = evaluate(trainer.model, *self.test, batch_size=1000, topk=(1,))
            self.evals.append((step + 1, test["acc1"]))
            self.ctx.log("test", step=step + 1, optimizer=self.name, loss=test["loss"],
                         accuracy=test["acc1"])


def train_one(name: str, lr: float, cfg: dict, data: dict, ctx: Any) -> dict:
    """``cfg['steps']`` mini-batch steps of optimizer ``name`` through ``Trainer``; the same
    initial weights and the same mini-batches for every optimizer."""
    manual_seed(ctx.seed)
    model = create("mlp", hidden=tuple(cfg["hidden"]))
    loader = ArrayLoader(*data["train"], cfg["batch_size"], ctx.seed)
    record = LossAndTest(name, cfg, data["test"], ctx)
    optimizer, options = OPTIMIZERS[name]
    trainer = Trainer(model, optimizer(model.parameters(), lr=lr, **options),
                      progress=ctx.show_progress, log=None, topk=(1,), callbacks=[record])
    try:
        trainer.fit(loader, epochs=math.ceil(cfg["steps"] / len(loader)))
    except TrainingDiverged:
        record.losses.append(math.inf)  # the step whose loss was no longer finite
    smoothed = moving_average(record.losses, cfg["smooth"])
    return {"name": name, "lr": lr, "smoothed": smoothed, "evals": record.evals,
            "initial_loss": float(xp.mean(record.losses[:cfg["smooth"]])),
            "final_loss": smoothed[-1], "test_accuracy": record.evals[-1][1] if record.evals
            else 0.0, "diverged": not all(map(math.isfinite, record.losses))}


def run(cfg: dict, ctx: Any) -> dict:
    names, lrs = list(cfg["optimizers"]), [float(lr) for lr in cfg["lrs"]]
    unknown = [n for n in names if n not in OPTIMIZERS]
    if unknown:
        raise ValueError(f"optimizers-mnist: unknown optimizers {unknown}; choose from "
                         f"{list(OPTIMIZERS)}")
    if len(lrs) != len(names):
        raise ValueError(f"optimizers-mnist: lrs must give one learning rate per optimizer "
                         f"({len(names)}: {names}), got {len(lrs)}: {lrs}")
    train, test, is_subset = load_mnist(cfg, "optimizers-mnist")
    data = {"train": dataset_arrays(train, slice(cfg["train_examples"] or None)),
            "test": dataset_arrays(test, slice(cfg["eval_examples"] or None))}
    runs = [train_one(name, lr, cfg, data, ctx) for name, lr in zip(names, lrs)]

    fig, (ax_loss, ax_acc) = ctx.subplots(1, 2, figsize=(12, 4.5))
    for r in runs:
        ax_loss.plot(r["smoothed"], label=f"{r['name']} (lr {r['lr']:g})")
        ax_acc.plot(*zip(*[(s, 100 * a) for s, a in r["evals"]]), marker="o", ms=3)
    ax_loss.set(yscale="log", xlabel="iteration", title="Training loss",
                ylabel=f"training loss (moving average of {cfg['smooth']})")
    ax_acc.set(xlabel="iteration", ylabel="test accuracy (%)",
               title=f"Test accuracy ({len(data['test'][0])} images)")
    ax_loss.legend()
    ctx.figure("learning_curves", fig, "Left: mini-batch training loss per iteration (moving "
               f"average). Right: test accuracy every {cfg['eval_every']} iterations. Same "
               "initial weights and batches for all.")
    keys = ("lr", "initial_loss", "final_loss", "test_accuracy", "diverged")
    ctx.table("optimizers", ["optimizer", "lr", "initial loss", "final training loss",
                             "test accuracy", "diverged"],
              [[r["name"], *(r[k] for k in keys)] for r in runs],
              caption=f"MLP {tuple(cfg['hidden'])}, batch {cfg['batch_size']}, {cfg['steps']} "
                      f"iterations; final training loss = moving average of the last "
                      f"{cfg['smooth']} mini-batch losses")
    ctx.note(("The shipped 5,000-image MNIST subset was used." if is_subset else
              "The full MNIST training set was used.")
             + " Momentum's effective step along a consistent gradient is lr/(1 − 0.9) = 10 × "
               "lr, which is why it outpaces SGD at the same lr; the adaptive methods divide "
               "each step by a running gradient scale, so their good learning rates are ~100× "
               "smaller.")
    return {"data_is_subset": is_subset, "steps": cfg["steps"],
            "train_examples": len(data["train"][0]),
            **{f"{r['name']}_{k}": r[k] for r in runs for k in keys}}


def verdict(results: dict, cfg: dict) -> Verdict:
    """Every optimizer at least halves its initial loss without diverging; momentum's and
    Adam's final training losses below plain SGD's."""
    names = [n for n in OPTIMIZERS if f"{n}_final_loss" in results]
    final = {n: float(results[f"{n}_final_loss"]) for n in names}
    checks = [Comparison(f"{n} final loss", final[n] if not results[f"{n}_diverged"]
                         else math.inf, "<", "half its initial loss",
                         0.5 * float(results[f"{n}_initial_loss"]), bound=True)
              for n in names]
    checks += [Comparison(f"{n}'s final loss", final[n], "<", "SGD's", final["SGD"])
               for n in ("momentum", "Adam") if n in final and "SGD" in final]
    untested = "" if {"SGD", "momentum", "Adam"} <= set(final) else \
        "momentum and Adam against SGD (not all three were run)"
    return judge(checks, tested=f"after {results['steps']} iterations", untested=untested)


EXPERIMENT = Experiment(
    name="optimizers-mnist",
    lecture="L7",
    title="SGD, momentum, Nesterov, AdaGrad, RMSprop and Adam on MNIST",
    claim="All six optimizers train an MNIST MLP, and at equal steps momentum and Adam reach a "
          "lower training loss than plain SGD.",
    run=run,
    verdict=verdict,
    defaults={"optimizers": list(OPTIMIZERS), "lrs": [0.05, 0.05, 0.05, 0.01, 0.001, 0.001],
              "hidden": [256, 256], "batch_size": 64, "steps": 2000, "eval_every": 200,
              "smooth": 50, "train_examples": 0, "eval_examples": 10000, "data": "auto",
              "data_root": "", "download": False},
    quick={"hidden": [128], "steps": 200, "eval_every": 50, "smooth": 25,
           "eval_examples": 1000, "data": "subset"},
    runtime="1 min",
    setup="The registry's `mlp` with hidden layers {hidden} (ReLU), batch {batch_size}, "
          "{steps} iterations, the same initial weights and the same mini-batches for each "
          "optimizer; optimizers {optimizers} with learning rates {lrs} (momentum 0.9; "
          "AdaGrad, RMSprop and Adam with PyTorch's default other settings). Data: {data} "
          "(train_examples=0 uses all).",
)
