"""ResNet session: the degradation problem, and how residual connections remove it.

He et al. (2016, Fig. 1 and Fig. 6) trained "plain" CIFAR-10 networks (3x3 conv + batch norm +
ReLU stacks, 6n + 2 layers) of 20, 32, 44 and 56 layers: the deeper plain networks had a *higher
training error* throughout training. This is not overfitting (the training error is worse) and
not vanishing gradients in the usual sense (batch norm keeps the forward and backward signals
well scaled); the deeper plain networks are simply harder to optimise. A deeper network could
copy the shallower one and set its extra layers to the identity, so the solution exists; the
optimiser does not find it.

The residual networks have exactly the same layers plus identity shortcuts, y = relu(F(x) + x),
so an extra block only has to learn F ≈ 0 to be harmless, and the gradient reaches early layers
through the "+": x̄ = ȳ·(I + ∂F/∂x). With them, deeper is no longer worse to train.

Here a shallow and a deep plain network and their residual twins (``neuralab.models``'s
``plainN``/``resnetN``, option A shortcuts, same initialisation scheme) train on the same CIFAR-10
mini-batches, and the training curves are compared.

As He et al. did for ResNet-110, the learning rate warms up over the first steps: without it the
deep residual net's loss spikes at the start of a short run. At the paper's depths a budget of about
a hundred steps is not enough for the residual half of the claim (measured on 2,000-3,000 images:
ResNet-56's loss spikes above 3 in the first steps and is still near 2.1-2.3 after 96-141 steps,
against about 1.55 for ResNet-20), so the quick mode compares 8 and 32 layers on 16x16 images,
where both halves show within 80 steps (seeds 0 and 1).

Runtime: quick mode (plain/ResNet-8 and -32 on 1,000 images at 16x16, 4 epochs) about 32 s of one
core; full mode (20 and 56 layers, 50,000 images at 32x32, 20 epochs) about 17 h (7.7 and 21.8 ms
per image for the 20- and 56-layer nets). He et al. trained 64k iterations (182 epochs).
"""

from __future__ import annotations

from typing import Any

from neuralab.backend import manual_seed
from neuralab.experiments.toolkit import prepare_cifar, tail_mean, train_classifier
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.models import create
from neuralab.plotting import plot_smoothed


def label(kind: str, depth: int) -> str:
    return f"{'ResNet' if kind == 'resnet' else 'plain'}-{depth}"


def run(cfg: dict, ctx: Any) -> dict:
    shallow, deep = (int(d) for d in cfg["depths"])
    if not shallow < deep:
        raise ValueError(f"resnet-degradation: depths must be (shallow, deep) with shallow < "
                         f"deep, got {cfg['depths']}")
    data, size, augment = prepare_cifar(cfg, ctx)
    results: dict[str, Any] = {"depths": [shallow, deep]}
    curves, rows = {}, []
    for kind, depth in ((k, d) for k in ("plain", "resnet") for d in (shallow, deep)):
        key = f"{kind}{depth}"  # plainN / resnetN of the model zoo
        manual_seed(ctx.seed)
        out = train_classifier(create(key), data, cfg, ctx, key, augment=augment,
                               order_seed=ctx.seed)
        curves[key] = out
        results[key] = r = {"train_loss": tail_mean(out["losses"], cfg["tail_fraction"]),
                            "train_error": tail_mean(out["errors"], cfg["tail_fraction"]),
                            "test_err1": out["test"]["err1"], "test_loss": out["test"]["loss"],
                            "params": out["params"], "seconds": out["seconds"],
                            "steps": out["steps"]}
        rows.append([label(kind, depth), r["params"],
                     r["steps"], round(r["train_loss"], 4), round(100 * r["train_error"], 2),
                     round(100 * r["test_err1"], 2), round(r["seconds"], 1)])
    ctx.table("degradation", ["network", "parameters", "steps", "training loss (last "
                              f"{cfg['tail_fraction']:.0%} of steps)", "training error (%)",
                              "test error (%)", "time (s)"], rows,
              caption="Training loss and error averaged over the mini-batches of the last part "
                      "of training (train mode, as He et al. plot them).")
    for kind in ("plain", "resnet"):
        results[f"{kind}_gap"] = (results[f"{kind}{deep}"]["train_loss"]
                                  - results[f"{kind}{shallow}"]["train_loss"])
    ctx.note(f"Going from {shallow} to {deep} layers changes the final training loss by "
             f"{results['plain_gap']:+.3f} without shortcuts and by {results['resnet_gap']:+.3f} "
             "with them.")

    fig, axes = ctx.subplots(1, 3, figsize=(16, 4.2))
    for kind, ax, title in (("plain", axes[0], "plain networks"),
                            ("resnet", axes[1], "residual networks")):
        for depth, ls in ((shallow, "--"), (deep, "-")):
            out = curves[f"{kind}{depth}"]
            window = plot_smoothed(ax, [100 * e for e in out["errors"]], ls=ls,
                                   label=label(kind, depth),
                                   color="#d62728" if depth == deep else "#1f77b4")
            plot_smoothed(axes[2], out["losses"], ls=ls, label=label(kind, depth),
                          color="#2ca02c" if kind == "resnet" else "#7f7f7f")
        ax.set(xlabel="step", ylabel=f"training error (%, moving average of {window})",
               title=title)
    axes[2].set(xlabel="step", ylabel="training loss", title="all four")
    ctx.figure("training_curves", fig, "Training error of the plain (left) and residual "
               "(middle) networks, dashed shallow, solid deep (compare He et al., 2016, Fig. 6); "
               "right: the training losses.")
    return results


def verdict(results: dict, cfg: dict) -> Verdict:
    """The deeper plain net ends at a higher training loss than the shallower one; the deeper
    residual net within ``residual_tolerance`` of its shallower twin, and closer than the plain
    pair."""
    shallow, deep = results["depths"]
    loss = {key: results[key]["train_loss"] for key in
            (f"plain{shallow}", f"plain{deep}", f"resnet{shallow}", f"resnet{deep}")}
    plain_gap = loss[f"plain{deep}"] - loss[f"plain{shallow}"]
    checks = [
        Comparison(f"plain-{deep} training loss", loss[f"plain{deep}"], ">",
                   f"plain-{shallow}'s", loss[f"plain{shallow}"]),
        Comparison(f"ResNet-{deep} training loss", loss[f"resnet{deep}"], "<=",
                   f"ResNet-{shallow}'s + {cfg['residual_tolerance']}",
                   loss[f"resnet{shallow}"] + cfg["residual_tolerance"]),
        Comparison(f"ResNet-{deep} - ResNet-{shallow} loss gap",
                   loss[f"resnet{deep}"] - loss[f"resnet{shallow}"], "<", "the plain gap",
                   plain_gap),
    ]
    return judge(checks, tested=f"{results[f'plain{shallow}']['steps']} steps at "
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
              "image_size": 32, "epochs": 20, "batch_size": 128, "lr": 0.1, "momentum": 0.9,
              "weight_decay": 1e-4, "warmup": 0.05, "augment": True, "eval_every": 5,
              "tail_fraction": 0.1,
              "residual_tolerance": 0.05, "threads": 0},
    quick={"depths": [8, 32], "train_images": 1000, "test_images": 500, "image_size": 16,
           "epochs": 4, "batch_size": 50, "lr": 0.05, "warmup": 0.1, "augment": False,
           "eval_every": 0,
           "tail_fraction": 0.25, "residual_tolerance": 0.2, "threads": 1},
    runtime="17 h",
    setup="CIFAR-10 ({train_images} training images, 0 = all 50,000) at "
          "{image_size}x{image_size}, random crops and flips: {augment}. plain-N and ResNet-N "
          "(option A shortcuts) for N in {depths}, all from the same seed, trained on the same "
          "mini-batches for {epochs} epochs with SGD (Nesterov momentum {momentum}, lr {lr} after "
          "a linear warm-up over {warmup} of the steps, then cosine decay, weight decay "
          "{weight_decay}, batch {batch_size}).",
)
