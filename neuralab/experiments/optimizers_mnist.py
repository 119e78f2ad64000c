"""Lecture 7: SGD, momentum, Nesterov, AdaGrad, RMSprop and Adam training the same MLP on MNIST.

With the same initial weights and mini-batches, the curves differ only by the update rule.
Momentum's velocity builds up where successive gradients agree (an effective step α/(1 − μ), 10α
at μ = 0.9); AdaGrad, RMSprop and Adam divide each weight's step by a running scale of its
gradients, so their good rates are ~100× smaller. At equal steps momentum and Adam reach a lower
training loss than plain SGD.
"""

from __future__ import annotations

import math
from typing import Any

from neuralab.backend import manual_seed, xp
from neuralab.data.arrays import ArrayLoader
from neuralab.experiments.toolkit import log_curve, mnist_arrays, mnist_source, train_steps
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
    """``cfg['steps']`` mini-batch steps of optimizer ``name``, tested every ``eval_every``."""
    manual_seed(ctx.seed)  # the same initial weights (and batches, below) for every optimizer
    model = create("mlp", hidden=tuple(cfg["hidden"]))
    optimizer, options = OPTIMIZERS[name]

    def test_accuracy() -> float:
        return evaluate(model, *data["test"], batch_size=1000, topk=(1,))["acc1"]

    steps = StepRecorder()
    tests = StepEvaluator(test_accuracy, cfg["eval_every"], last_step=cfg["steps"], at_start=False)
    trainer = Trainer(model, optimizer(model.parameters(), lr=lr, **options), log=None,
                      progress=ctx.show_progress, topk=(1,), callbacks=[steps, tests])
    if not train_steps(trainer, ArrayLoader(*data["train"], cfg["batch_size"], ctx.seed),
                       cfg["steps"]):
        steps.losses.append(math.inf)  # the step whose loss was no longer finite
    log_curve(ctx, "train", steps.losses, optimizer=name)
    ctx.log_rows([{"step": s, "optimizer": name, "accuracy": a} for s, a in tests.history], "test")
    smoothed = moving_average(steps.losses, cfg["smooth"])
    return {"name": name, "lr": lr, "smoothed": smoothed, "evals": tests.history,
            "initial_loss": float(xp.mean(steps.losses[:cfg["smooth"]])),
            "final_loss": smoothed[-1], "diverged": not all(map(math.isfinite, steps.losses)),
            "test_accuracy": tests.history[-1][1] if tests.history else 0.0}


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
    ax_loss.set(yscale="log", xlabel="iteration", ylabel="training loss (moving average)")
    ax_acc.set(xlabel="iteration", ylabel=f"test accuracy (%, {len(data['test'][0])} images)")
    ctx.figure("learning_curves", fig, "Left: mini-batch training loss per iteration (moving "
               f"average of {cfg['smooth']}). Right: test accuracy every {cfg['eval_every']} "
               f"iterations. Same initial weights and batches for all. {mnist_source(is_subset)}")
    keys = ("initial_loss", "final_loss", "test_accuracy", "diverged")
    return {"data_is_subset": is_subset, "steps": cfg["steps"],
            **{f"{r['name']}_{k}": r[k] for r in runs for k in keys}}


def verdict(results: dict, cfg: dict) -> Verdict:
    """Every optimizer at least halves its initial loss without diverging; momentum's and
    Adam's final training losses below plain SGD's."""
    final = {n: results[f"{n}_final_loss"] for n in OPTIMIZERS if f"{n}_final_loss" in results}
    checks = [Comparison(f"{n} final loss", math.inf if results[f"{n}_diverged"] else loss, "<",
                         "half its initial loss", 0.5 * results[f"{n}_initial_loss"], bound=True)
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
    setup="The registry's `mlp` with hidden layers {hidden} (ReLU), batch {batch_size}, {steps} "
          "iterations, the same initial weights and mini-batches for each optimizer; optimizers "
          "{optimizers} with learning rates {lrs} (momentum 0.9; AdaGrad, RMSprop and Adam with "
          "PyTorch's default other settings). Data: {data} (train_examples=0 uses all).",
)
