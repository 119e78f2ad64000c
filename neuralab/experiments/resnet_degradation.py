"""ResNet session: the degradation problem, and how residual connections remove it.

He et al. (2016, Fig. 1 and 6) trained "plain" CIFAR-10 networks (3x3 conv + batch norm + ReLU,
6n + 2 layers): the deeper ones had a *higher training error* throughout. Not overfitting (the
training error is worse), nor vanishing gradients (batch norm keeps the signals well scaled): a
deeper net could copy the shallower one and make its extra layers the identity, but the optimiser
does not find that solution. Their residual twins (``resnetN``: ``plainN``'s layers plus option-A
identity shortcuts) compute y = relu(F(x) + x): an extra block only has to learn F ≈ 0, and the
gradient reaches early layers through the "+", x̄ = ȳ·(I + ∂F/∂x). Deeper is no longer worse.

The learning rate warms up over 10% of the steps, as He et al. warmed up ResNet-110: with 20
steps of warm-up ResNet-56's loss spiked to 4.5 and then stayed at chance for 150 steps
(pilot 1). He et al. trained 64k
steps on 32x32 images, about 58 hours here (``scale=paper``). The full mode fits the claim into
an hour on two cores: 16x16 images (a quarter of the arithmetic), all 50,000 of them, 8 epochs
(3,128 steps per network). Pilots, all four networks from one seed on the same batches
(training loss over the last 10% of the steps):

    run                              steps  plain-20  plain-56  ResNet-20  ResNet-56   time
    16x16, 1 epoch, 5% warm-up         391     1.58      2.08      1.40       1.93      6 min
    16x16, 8 epochs, 10% warm-up     3,128     0.89      1.62      0.74       0.75      54 min
    (the full mode: plain-56 degrades by 0.73; ResNet-56 level with ResNet-20, 0.011 above)

The quick mode compares 8 and 32 layers on 1,000 images, where both halves show within 80 steps.
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
    shallow, deep = (int(d) for d in cfg["depths"])
    if not shallow < deep:
        raise ValueError(f"resnet-degradation: depths must be (shallow, deep) with shallow < "
                         f"deep, got {cfg['depths']}")
    data, _, augment = prepare_cifar(cfg, ctx)
    results: dict[str, Any] = {"depths": [shallow, deep]}
    # The zoo's plainN and resnetN, labelled plain-N and ResNet-N.
    labels = {f"{kind.lower()}{n}": f"{kind}-{n}" for kind in ("plain", "ResNet")
              for n in (shallow, deep)}
    runs, responses = {}, {}
    probe = data["test"][0][:cfg["response_images"]]
    for key in labels:
        manual_seed(ctx.seed)  # same initial weights and mini-batches for the four networks
        model = create(key)
        runs[key] = train_classifier(model, data, cfg, ctx, key, augment=augment,
                                     order_seed=ctx.seed)
        results[key] = run_summary(runs[key], cfg["tail_fraction"])
        responses[key] = response_stds(model, probe)  # each 3x3 layer, after batch norm
        results[key]["response_std_mean"] = sum(responses[key]) / len(responses[key])
    results["response_stds"] = responses
    ctx.table("degradation", ["network", "parameters", "steps", "training loss (last "
                              f"{cfg['tail_fraction']:.0%} of steps)", "training error (%)",
                              "test error (%)", "time (s)"],
              [[labels[key], r["params"], r["steps"], round(r["train_loss"], 4),
                round(100 * r["train_error"], 2), round(100 * r["test_err1"], 2),
                round(r["seconds"], 1)] for key, r in results.items() if key in runs],
              caption="Training loss and error averaged over the mini-batches of the last part "
                      "of training (train mode, as He et al. plot them).")
    for kind in ("plain", "resnet"):
        results[f"{kind}_gap"] = (results[f"{kind}{deep}"]["train_loss"]
                                  - results[f"{kind}{shallow}"]["train_loss"])
    ctx.note(f"Going from {shallow} to {deep} layers changes the final training loss by "
             f"{results['plain_gap']:+.3f} without shortcuts and by {results['resnet_gap']:+.3f} "
             "with them.")

    fig, axes = ctx.subplots(1, 3, figsize=(16, 4.2))
    for key, out in runs.items():
        deeper, residual = key.endswith(str(deep)), key.startswith("resnet")
        ls = "-" if deeper else "--"
        window = plot_smoothed(axes[int(residual)], [100 * e for e in out["errors"]], ls=ls,
                               label=labels[key], color="#d62728" if deeper else "#1f77b4")
        plot_smoothed(axes[2], out["losses"], ls=ls, label=labels[key],
                      color="#2ca02c" if residual else "#7f7f7f")
    for ax, title in zip(axes, ("plain networks", "residual networks")):
        ax.set(xlabel="step", ylabel=f"training error (%, moving average of {window})",
               title=title)
    axes[2].set(xlabel="step", ylabel="training loss", title="all four")
    ctx.figure("training_curves", fig, "Training error of the plain (left) and residual "
               "(middle) networks, dashed shallow, solid deep (compare He et al., 2016, Fig. 6); "
               "right: the training losses.")

    fig, axes = ctx.subplots(2, 1, figsize=(9, 7))
    for key, stds in responses.items():
        style = {"ls": "-" if key.endswith(str(deep)) else "--", "label": labels[key],
                 "color": "#2ca02c" if key.startswith("resnet") else "#7f7f7f"}
        axes[0].plot(range(1, len(stds) + 1), stds, **style)
        axes[1].plot(range(1, len(stds) + 1), sorted(stds, reverse=True), **style)
    axes[0].set(xlabel="layer index (original order)", ylabel="std of the responses")
    axes[1].set(xlabel="layer index (sorted by magnitude)", ylabel="std of the responses")
    axes[0].legend()
    fig.tight_layout()
    ctx.figure("layer_responses", fig, "Standard deviation of each 3x3 layer's responses (after "
               f"batch norm, before the addition and ReLU) on {len(probe)} test images, in the "
               "layers' order (top) and sorted (bottom); compare He et al., 2016, Fig. 7.")
    smaller = {n: sum(r < p for r, p in zip(responses[f"resnet{n}"], responses[f"plain{n}"]))
               for n in (shallow, deep)}  # layer by layer, against the plain twin
    results["residual_smaller_layers"] = smaller
    ctx.note("Mean response std of the 3x3 layers: " + ", ".join(
        f"{labels[key]} {results[key]['response_std_mean']:.3f}" for key in labels) +
        ". He et al. found the residual layers' responses generally smaller than the plain ones' "
        "(a residual block learns a correction to the identity); here the residual layer's "
        "response is the smaller one in " + " and ".join(
            f"{k} of {len(responses[f'resnet{n}'])} layers at depth {n}"
            for n, k in smaller.items()) + ".")
    return results


def verdict(results: dict, cfg: dict) -> Verdict:
    """The deeper plain net ends at a higher training loss than the shallower one; the deeper
    residual net within ``residual_tolerance`` of its shallower twin, and closer than the plain
    pair."""
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
              "weight_decay": 1e-4, "warmup": 0.1, "augment": True, "eval_every": 0,
              "tail_fraction": 0.1, "residual_tolerance": 0.05, "response_images": 1000,
              "threads": 0, "scale": "laptop"},
    quick={"depths": [8, 32], "train_images": 1000, "test_images": 500, "image_size": 16,
           "epochs": 4, "batch_size": 50, "lr": 0.05, "warmup": 0.1, "augment": False,
           "eval_every": 0, "tail_fraction": 0.25, "residual_tolerance": 0.2,
           "response_images": 200, "threads": 1},
    runtime="55 min",
    # He et al.: 64k steps of batch 128 on 32x32, about 58 h here (a cosine decay, not their
    # steps at 32k and 48k).
    scales={"laptop": {},
            "paper": {"image_size": 32, "epochs": 164, "warmup": 0.0, "eval_every": 10}},
    setup="CIFAR-10 ({train_images} training images, 0 = all 50,000) at "
          "{image_size}x{image_size}, random crops and flips: {augment}. plain-N and ResNet-N "
          "(option A shortcuts) for N in {depths}, all from the same seed, trained on the same "
          "mini-batches for {epochs} epochs with SGD (Nesterov momentum {momentum}, lr {lr} after "
          "a linear warm-up over {warmup} of the steps, then cosine decay, weight decay "
          "{weight_decay}, batch {batch_size}).",
)
