"""Lecture 12: five landmark architectures on CIFAR-10 for the same training budget.

Each sought more accuracy per parameter and multiply-add: AlexNet made LeNet-5 wider and deeper; VGG
stacked 3x3 convolutions (two see a 5x5 window with 2·9C² < 25C² weights); GoogLeNet put 1x1
"bottleneck" convolutions in Inception modules and pooled globally instead of big dense layers;
ResNet added residual blocks, y = relu(F(x) + x), so depth no longer hurts optimisation. Small
versions of each train on the same batches here. Pilot: docs/experiments/architectures-cifar.md.
"""

from __future__ import annotations

from typing import Any

from neuralab.backend import manual_seed
from neuralab.diagnostics.summary import summary
from neuralab.experiments.toolkit import prepare_cifar, run_summary, train_classifier
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.models import create
from neuralab.models.reduced import scaled
from neuralab.plotting import bar_groups

ARCHITECTURES = {"lenet": ("LeNet-5 (RGB)", 1998), "alexnet": ("AlexNet (small)", 2012),
                 "vgg": ("VGG-11 (small)", 2014), "googlenet": ("GoogLeNet (small)", 2014),
                 "resnet20": ("ResNet-20", 2015)}


def build(name: str, cfg: dict) -> Any:
    """One of ``ARCHITECTURES`` at the configured width and image size."""
    size, width = int(cfg["image_size"]), float(cfg["width"])
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; choose from {', '.join(ARCHITECTURES)}")
    return {"lenet": lambda: create("lenet5_rgb", image_size=size),
            "alexnet": lambda: create("alexnet_small", width=width, image_size=size),
            "vgg": lambda: create("vgg_small", width=width, image_size=size,
                                  batch_norm=cfg["vgg_batch_norm"], hidden=scaled(512, width)),
            "googlenet": lambda: create("googlenet_small",
                                        width=width * cfg["googlenet_width_factor"]),
            "resnet20": lambda: create("resnet20")}[name]()


def run(cfg: dict, ctx: Any) -> dict:
    data, size, augment = prepare_cifar(cfg, ctx)
    names = list(cfg["architectures"])
    results: dict[str, Any] = {"architectures": names}
    for name in names:
        manual_seed(ctx.seed)
        model = build(name, cfg)
        info = summary(model, (3, size, size))
        # AlexNet (no batch norm, 5x5 filters) diverges at 32x32 with the lr the others use.
        out = train_classifier(model, data, cfg, ctx, name, augment=augment, order_seed=ctx.seed,
                               lr=cfg["lr"] * cfg.get(f"{name}_lr_factor", 1.0))
        results[name] = {**run_summary(out), "counted_params": out["params"],
                         "params": info.total_params, "macs": info.total_macs}  # the summary's
    ctx.table("architectures", ["network", "year", "parameters", "MACs per image",
                                "top-1 error (%)", "top-5 error (%)"],
              [[*ARCHITECTURES[n], results[n]["params"], results[n]["macs"],
                *(round(100 * results[n][f"test_err{k}"], 2) for k in (1, 5))] for n in names])

    fig, axes = ctx.subplots(1, 3, figsize=(16, 4.4))
    short = [ARCHITECTURES[n][0].split()[0] for n in names]  # LeNet-5, AlexNet...
    errors = {f"top-{k}": [100 * results[n][f"test_err{k}"] for n in names] for k in (1, 5)}
    bar_groups(axes[0], short, errors)
    axes[0].tick_params(axis="x", labelsize=8)
    axes[0].set(ylabel="test error (%)", title="test error after the same budget")
    for ax, key, what in ((axes[1], "params", "parameters"), (axes[2], "macs", "multiply-adds")):
        for label, n, error in zip(short, names, errors["top-1"]):
            ax.scatter(results[n][key], error, s=60)
            ax.annotate(label, (results[n][key], error), xytext=(5, 4), textcoords="offset points")
        ax.set(xscale="log", xlabel=f"{what} (log scale)", ylabel="top-1 test error (%)")
    ctx.figure("error_vs_cost", fig, "Test errors, and top-1 error against parameters and MACs.")
    return results


def verdict(results: dict, cfg: dict) -> Verdict:
    """Later nets below LeNet's top-1 error; GoogLeNet, ResNet below AlexNet's, VGG's parameters."""
    names = [n for n in results.get("architectures", []) if n in results]
    checks = [Comparison(f"{ARCHITECTURES[n][0]} top-1 error", results[n]["test_err1"], "<",
                         "LeNet's", results["lenet"]["test_err1"], fmt=".1%")
              for n in names if n != "lenet" and "lenet" in names]
    checks += [Comparison(f"{ARCHITECTURES[small][0]} parameters", results[small]["params"], "<",
                          f"{ARCHITECTURES[big][0]}'s", results[big]["params"], fmt=",.0f")
               for small in ("googlenet", "resnet20") for big in ("alexnet", "vgg")
               if small in names and big in names]
    if not checks:
        return Verdict(False, "no two of the claim's networks were run", "not shown at this scale")
    return judge(checks, tested=f"CIFAR-10 at {cfg['image_size']}x{cfg['image_size']}, "
                                f"{cfg['epochs']} epochs")


EXPERIMENT = Experiment(
    name="architectures-cifar",
    lecture="L12",
    title="LeNet, AlexNet, VGG, GoogLeNet and ResNet on CIFAR-10",
    claim="On the same CIFAR-10 budget the later architectures (VGG's 3x3 stacks, GoogLeNet's "
          "Inception modules, ResNet's residual blocks) reach a lower error than LeNet, and "
          "GoogLeNet and ResNet do it with far fewer parameters than AlexNet and VGG.",
    run=run,
    verdict=verdict,
    defaults={"architectures": list(ARCHITECTURES), "data_root": "", "train_images": 0,
              "test_images": 0, "image_size": 16, "width": 0.5, "googlenet_width_factor": 0.25,
              "vgg_batch_norm": True, "epochs": 8, "batch_size": 128, "lr": 0.05, "warmup": 0.05,
              "lenet_lr_factor": 1.0, "alexnet_lr_factor": 0.2, "momentum": 0.9, "threads": 1,
              "weight_decay": 5e-4, "augment": True, "eval_every": 2, "scale": "laptop"},
    quick={"train_images": 2000, "test_images": 1000, "image_size": 16, "width": 0.25,
           "googlenet_width_factor": 0.5, "epochs": 2, "batch_size": 50, "eval_every": 0,
           "augment": False, "alexnet_lr_factor": 1.0, "warmup": 0.0, "threads": 1},
    runtime="37 min",
    scales={"laptop": {}, "paper": {"image_size": 32, "googlenet_width_factor": 0.5, "epochs": 10,
                                    "warmup": 0.0, "eval_every": 1, "threads": 0}},
    setup="CIFAR-10 ({train_images} training, {test_images} test images, 0 = all) at "
          "{image_size}x{image_size} (random crops and flips: {augment}): LeNet-5 on 3 channels; "
          "AlexNet, VGG-11 (batch norm: {vgg_batch_norm}), GoogLeNet (x{googlenet_width_factor} "
          "more) at width {width}; ResNet-20. {epochs} epochs of SGD (Nesterov momentum "
          "{momentum}, lr {lr}, AlexNet's x{alexnet_lr_factor}, warm-up {warmup} of the steps, "
          "cosine decay, weight decay {weight_decay}, batch {batch_size}) on the same batches.",
)
