"""ResNet session: the degradation problem, and how residual connections remove it.

Deeper "plain" CIFAR-10 networks reach a *higher training error* (He et al. 2016, Fig. 1 and 6),
though they could make their extra layers the identity: the optimiser does not find that
solution. Residual twins (``resnetN``: ``plainN`` plus identity shortcuts) compute
y = relu(F(x) + x): an extra block need only learn F ≈ 0, and deeper is no longer worse.
Pilots and the full mode's configuration: docs/experiments/resnet-degradation.md.
"""

from __future__ import annotations

from typing import Any

from neuralab.backend import manual_seed
from neuralab.diagnostics.responses import response_stds
from neuralab.experiments.toolkit import prepare_cifar, run_summary, train_classifier
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.models import create
from neuralab.plotting import plot_smoothed


def run(cfg: dict, ctx: Any) -> dict:
    shallow, deep = sorted(int(d) for d in cfg["depths"])
    data, _, augment = prepare_cifar(cfg, ctx)
    probe = data["test"][0][:cfg["response_images"]]
    labels = {f"{kind.lower()}{n}": f"{kind}-{n}" for kind in ("plain", "ResNet")
              for n in (shallow, deep)}
    runs, stds = {}, {}
    results: dict[str, Any] = {"depths": [shallow, deep], "response_stds": stds}
    for key in labels:
        manual_seed(ctx.seed)  # same initial weights and mini-batches for the four networks
        model = create(key)
        runs[key] = train_classifier(model, data, cfg, ctx, key, augment=augment)
        stds[key] = response_stds(model, probe)  # each 3x3 layer, after batch norm
        results[key] = {**run_summary(runs[key], cfg["tail_fraction"]),
                        "response_std_mean": sum(stds[key]) / len(stds[key])}
    for kind in ("plain", "resnet"):
        results[f"{kind}_gap"] = (results[f"{kind}{deep}"]["train_loss"]
                                  - results[f"{kind}{shallow}"]["train_loss"])
    ctx.table("degradation", ["network", "parameters", "training loss", "training error",
                              "test error"],
              [[labels[key], r["params"], r["train_loss"], r["train_error"], r["test_err1"]]
               for key in labels for r in [results[key]]],
              caption=f"Training loss and error: mean over the last {cfg['tail_fraction']:.0%} "
                      "of the steps (train mode); test error at the end.")

    fig, axes = ctx.subplots(1, 3, figsize=(16, 4.2))
    for key, out in runs.items():
        deeper, residual = key.endswith(str(deep)), key.startswith("resnet")
        ls = "-" if deeper else "--"
        window = plot_smoothed(axes[int(residual)], [100 * e for e in out["errors"]], ls=ls,
                               label=labels[key], color="#d62728" if deeper else "#1f77b4")
        plot_smoothed(axes[2], out["losses"], ls=ls, label=labels[key],
                      color="#2ca02c" if residual else "#7f7f7f")
    for ax, title in zip(axes, ("plain networks", "residual networks")):
        ax.set(xlabel="step", ylabel=f"training error (%, moving average of {window})", title=title)
    axes[2].set(xlabel="step", ylabel="training loss", title="all four")
    ctx.figure("training_curves", fig, "Training error of the plain (left) and residual (middle) "
               "networks (He et al., 2016, Fig. 6), and the training losses (right).")

    fig, axes = ctx.subplots(2, 1, figsize=(9, 7), layout="tight")
    for key, values in stds.items():
        style = {"ls": "-" if key.endswith(str(deep)) else "--", "label": labels[key],
                 "color": "#2ca02c" if key.startswith("resnet") else "#7f7f7f"}
        for ax, ordered in zip(axes, (values, sorted(values, reverse=True))):
            ax.plot(range(1, len(values) + 1), ordered, **style)
    for ax, order in zip(axes, ("original order", "sorted by magnitude")):
        ax.set(xlabel=f"layer index ({order})", ylabel="std of the responses")
    ctx.figure("layer_responses", fig, "Std of each 3x3 layer's responses (after batch norm, "
               f"before the addition) on {len(probe)} test images (He et al., 2016, Fig. 7).")
    # A residual layer learns a correction to the identity: it should respond less.
    results["residual_smaller_layers"] = smaller = {n: sum(
        r < p for r, p in zip(stds[f"resnet{n}"], stds[f"plain{n}"])) for n in (shallow, deep)}
    ctx.note("The residual layer's response is the smaller in " + " and ".join(
        f"{k} of {len(stds[f'resnet{n}'])} layers at depth {n}" for n, k in smaller.items()) + ".")
    return results


def verdict(results: dict, cfg: dict) -> Verdict:
    """The deeper plain net ends at a higher training loss; the deeper residual net within
    ``residual_tolerance`` of its shallower twin, and closer than the plain pair."""
    shallow, deep = results["depths"]
    plain = [results[f"plain{d}"]["train_loss"] for d in (shallow, deep)]
    resnet = [results[f"resnet{d}"]["train_loss"] for d in (shallow, deep)]
    tolerance = cfg["residual_tolerance"]
    return judge([
        Comparison(f"plain-{deep} training loss", plain[1], ">", f"plain-{shallow}'s", plain[0]),
        Comparison(f"ResNet-{deep} training loss", resnet[1], "<=",
                   f"ResNet-{shallow}'s + {tolerance}", resnet[0] + tolerance),
        Comparison(f"ResNet-{deep} - ResNet-{shallow} loss gap", resnet[1] - resnet[0], "<",
                   "the plain gap", plain[1] - plain[0])],
        tested=f"{results[f'plain{shallow}']['steps']} steps at "
               f"{cfg['image_size']}x{cfg['image_size']}")


EXPERIMENT = Experiment(
    name="resnet-degradation",
    lecture="ResNet",
    title="The degradation problem: plain versus residual networks of two depths",
    claim="Without shortcuts the deeper network reaches a higher training loss than the "
          "shallower one (degradation); with identity shortcuts the deeper network trains at "
          "least about as well.",
    run=run,
    verdict=verdict,
    defaults={"depths": [20, 56], "data_root": "", "train_images": 0, "test_images": 0,
              "image_size": 16, "epochs": 8, "batch_size": 128, "lr": 0.1, "momentum": 0.9,
              "weight_decay": 1e-4, "warmup": 0.1, "augment": True, "tail_fraction": 0.1,
              "residual_tolerance": 0.05, "response_images": 1000, "threads": 0, "scale": "laptop"},
    quick={"depths": [8, 32], "train_images": 1000, "test_images": 500, "image_size": 16,
           "epochs": 4, "batch_size": 50, "lr": 0.05, "warmup": 0.1, "augment": False,
           "tail_fraction": 0.25, "residual_tolerance": 0.2, "response_images": 200, "threads": 1},
    runtime="55 min",
    scales={"laptop": {}, "paper": {"image_size": 32, "epochs": 164, "warmup": 0.0}},
    setup="CIFAR-10 ({train_images} training images, 0 = all) at {image_size}x{image_size}, crops "
          "and flips: {augment}; plain-N and ResNet-N, N in {depths}, from one seed on the same "
          "batches: {epochs} epochs of SGD (lr {lr}, warm-up {warmup} of the steps, cosine decay).",
)
