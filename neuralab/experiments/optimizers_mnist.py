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
from neuralab.data.arrays import ArrayLoader
from neuralab.experiments.toolkit import mnist_arrays, mnist_source, train_steps
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.models import create
from neuralab.optim import SGD, Adagrad, Adam, RMSprop
from neuralab.plotting import moving_average
from neuralab.train import StepEvaluator, StepRecorder, Trainer
from neuralab.train.metrics import evaluate

# Display name -> (optimizer class, fixed keyword arguments), in the lecture's order.
OPTIMIZERS = {"SGD": (SGD, {}), "momentum": (SGD, {"momentum": 0.9}),
              "Nesterov": (SGD, {"momentum": 0.9, "nesterov": True}), "AdaGrad": (Adagrad, {}),
              "RMSprop": (RMSprop, {}), "Adam": (Adam, {})}


def train_one(name: str, lr: float, cfg: dict, data: dict, ctx: Any) -> dict:
    """``cfg['steps']`` mini-batch steps of optimizer ``name`` through ``Trainer``, the test
    accuracy every ``eval_every`` steps; the same initial weights and the same mini-batches for
    every optimizer."""
    manual_seed(ctx.seed)
    model = create("mlp", hidden=tuple(cfg["hidden"]))
    optimizer, options = OPTIMIZERS[name]

    def test_accuracy() -> float:  # logged beside the test loss, at the number of steps done
        test = evaluate(model, *data["test"], batch_size=1000, topk=(1,))
        ctx.log("test", step=trainer.global_step + 1, optimizer=name, loss=test["loss"],
                accuracy=test["acc1"])
        return test["acc1"]

    steps = StepRecorder(lambda step, loss, error: ctx.log("train", step=step, optimizer=name,
                                                           loss=loss), every=1)
    tests = StepEvaluator(test_accuracy, cfg["eval_every"], last_step=cfg["steps"],
                          at_start=False)
    trainer = Trainer(model, optimizer(model.parameters(), lr=lr, **options), log=None,
                      progress=ctx.show_progress, topk=(1,), callbacks=[steps, tests])
    if not train_steps(trainer, ArrayLoader(*data["train"], cfg["batch_size"], ctx.seed),
                       cfg["steps"]):
        steps.losses.append(math.inf)  # the step whose loss was no longer finite
    smoothed = moving_average(steps.losses, cfg["smooth"])
    return {"name": name, "lr": lr, "smoothed": smoothed, "evals": tests.history,
            "initial_loss": float(xp.mean(steps.losses[:cfg["smooth"]])),
            "final_loss": smoothed[-1],
            "test_accuracy": tests.history[-1][1] if tests.history else 0.0,
            "diverged": not all(map(math.isfinite, steps.losses))}


def run(cfg: dict, ctx: Any) -> dict:
    names, lrs = list(cfg["optimizers"]), [float(lr) for lr in cfg["lrs"]]
    unknown = [n for n in names if n not in OPTIMIZERS]
    if unknown:
        raise ValueError(f"optimizers-mnist: unknown optimizers {unknown}; choose from "
                         f"{list(OPTIMIZERS)}")
    if len(lrs) != len(names):
        raise ValueError(f"optimizers-mnist: lrs must give one learning rate per optimizer "
                         f"({len(names)}: {names}), got {len(lrs)}: {lrs}")
    data, is_subset = mnist_arrays(cfg, "optimizers-mnist")
    runs = [train_one(name, lr, cfg, data, ctx) for name, lr in zip(names, lrs)]

    fig, (ax_loss, ax_acc) = ctx.subplots(1, 2, figsize=(12, 4.5))
    for r in runs:
        ax_loss.plot(r["smoothed"], label=f"{r['name']} (lr {r['lr']:g})")
        ax_acc.plot(*zip(*[(step, 100 * acc) for step, acc in r["evals"]]), marker="o", ms=3)
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
    ctx.note(f"{mnist_source(is_subset)} Momentum's effective step along a consistent gradient "
             "is lr/(1 − 0.9) = 10 × lr, which is why it outpaces SGD at the same lr; the "
             "adaptive methods divide each step by a running gradient scale, so their good "
             "learning rates are ~100× smaller.")
    return {"data_is_subset": is_subset, "steps": cfg["steps"],
            "train_examples": len(data["train"][0]),
            **{f"{r['name']}_{k}": r[k] for r in runs for k in keys}}


def verdict(results: dict, cfg: dict) -> Verdict:
    """Every optimizer at least halves its initial loss without diverging; momentum's and
    Adam's final training losses below plain SGD's."""
    final = {n: float(results[f"{n}_final_loss"]) for n in OPTIMIZERS
             if f"{n}_final_loss" in results}
    checks = [Comparison(f"{n} final loss", math.inf if results[f"{n}_diverged"] else loss,
                         "<", "half its initial loss",
                         0.5 * float(results[f"{n}_initial_loss"]), bound=True)
              for n, loss in final.items()]
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
