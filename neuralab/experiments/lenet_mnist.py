"""Lecture 12: LeNet-5 on MNIST, and its first-layer filters.

A convolution shares each 5×5 filter across the image (a stroke detector useful in one place is
useful everywhere) and pooling tolerates small shifts, so LeNet-5's 61,706 parameters beat an MLP
with several times more trained the same way; its first-layer filters become edge detectors.
"""

from __future__ import annotations

from typing import Any

from neuralab.backend import manual_seed
from neuralab.experiments.toolkit import mnist_arrays, mnist_source, train_classifier
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.models import create
from neuralab.plotting import show_images


def run(cfg: dict, ctx: Any) -> dict:
    data, is_subset = mnist_arrays(cfg, "lenet-mnist")
    models, runs = {}, {}
    for kind in ("lenet5", "mlp") if cfg["mlp_baseline"] else ("lenet5",):
        manual_seed(ctx.seed)  # both see the same mini-batches, SGD + momentum, constant rate
        models[kind] = create("lenet5") if kind == "lenet5" else create(
            "mlp", hidden=tuple(cfg["mlp_hidden"]))
        runs[kind] = train_classifier(models[kind], data, {**cfg, "eval_every": 1}, ctx, kind,
                                      nesterov=False, schedule=False)

    fig, (ax_loss, ax_acc) = ctx.subplots(1, 2, figsize=(11, 4))
    for kind, out in runs.items():
        epochs, train_loss, _, err1, _ = zip(*out["curve"])
        label = f"{kind} ({out['params']:,} parameters)"
        ax_loss.plot(epochs, train_loss, marker="o", label=label)
        ax_acc.plot(epochs, [100 * (1 - e) for e in err1], marker="o", label=label)
    ax_loss.set(xlabel="epoch", ylabel="training loss (epoch mean)", yscale="log")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)")
    ctx.figure("learning_curves", fig, "Training loss and test accuracy per epoch; both models "
               f"see the same mini-batches with the same optimizer. {mnist_source(is_subset)}")

    weight = models["lenet5"].features[0].weight.array  # (6, 1, 5, 5)
    fig, axes = ctx.subplots(1, len(weight), figsize=(1.6 * len(weight), 1.9), squeeze=False)
    show_images(axes[0], weight[:, 0], [f"filter {k}" for k in range(len(weight))],
                symmetric=True, cmap="gray")
    fig.suptitle("LeNet-5 first-layer 5×5 filters (white = positive weight)")
    ctx.figure("filters", fig, "The six 5×5 filters of the first convolution after training; "
               "each is drawn on its own scale, white positive, black negative.")

    return {"data_is_subset": is_subset, "train_examples": len(data["train"][0]),
            **{f"{'lenet' if kind == 'lenet5' else kind}_{key}": value
               for kind, out in runs.items() for key, value in (
                   ("test_accuracy", 1 - out["test"]["err1"]), ("params", out["params"]))}}


def verdict(results: dict, cfg: dict) -> Verdict:
    """LeNet-5's test accuracy above ``target_accuracy`` and above the MLP's (if it ran)."""
    lenet = float(results["lenet_test_accuracy"])
    checks = [Comparison("LeNet-5 test accuracy", lenet, ">", "the target",
                         cfg["target_accuracy"], bound=True, fmt=".2%")]
    if "mlp_test_accuracy" in results:
        checks.append(Comparison(f"LeNet-5's ({results['lenet_params']:,} parameters)", lenet,
                                 ">", f"the MLP's ({results['mlp_params']:,} parameters)",
                                 float(results["mlp_test_accuracy"]), fmt=".2%"))
    return judge(checks, untested="" if "mlp_test_accuracy" in results else
                 "the MLP baseline (mlp_baseline=false)")


EXPERIMENT = Experiment(
    name="lenet-mnist",
    lecture="L12",
    title="LeNet-5 on MNIST: accuracy and first-layer filters",
    claim="LeNet-5's weight-shared convolutions reach a higher MNIST test accuracy than an MLP "
          "with more parameters trained the same way, and its first-layer filters become "
          "stroke and edge detectors.",
    run=run,
    verdict=verdict,
    defaults={"epochs": 6, "batch_size": 64, "lr": 0.02, "momentum": 0.9, "mlp_baseline": True,
              "mlp_hidden": [256], "train_examples": 0, "eval_examples": 10000,
              "target_accuracy": 0.985, "data": "auto", "data_root": "", "download": False},
    quick={"epochs": 5, "target_accuracy": 0.9, "data": "subset"},
    runtime="2 min",
    setup="The registry's `lenet5` (ReLU, max pooling, 61,706 parameters) and, as a baseline, "
          "the registry's `mlp` with hidden layers {mlp_hidden}, each trained for {epochs} "
          "epochs with SGD (lr {lr}, momentum {momentum}, batch {batch_size}) on the same "
          "mini-batches. Data: {data} (train_examples=0 uses all).",
)
