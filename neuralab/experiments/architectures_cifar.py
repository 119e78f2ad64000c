"""Lecture 12: five landmark architectures on CIFAR-10 for the same training budget.

Each answered "how do we get more accuracy per parameter and per multiply-add?" differently:

* LeNet-5 (1998): two 5x5 convolution + pooling stages and a small fully connected classifier;
* AlexNet (2012): wider and deeper, ReLU, overlapping max-pooling, dropout in a large classifier;
* VGG (2014): only 3x3 convolutions, stacked (two 3x3 see a 5x5 window with 2·9C² < 25C² weights);
* GoogLeNet (2014): Inception modules, 1x1 "bottleneck" convolutions before the expensive 3x3/5x5
  ones, global average pooling instead of big fully connected layers;
* ResNet (2015): residual blocks y = relu(F(x) + x), so depth stops hurting optimisation.

One member of each family, scaled down for a CPU (``models.reduced``), trains on the same
mini-batches with the same optimiser and epochs; parameters and multiply-adds come from
``diagnostics.summary``.

The full mode fits the hour on two cores: 16x16 images (a quarter of the arithmetic), all
50,000 of them, 8 epochs, GoogLeNet at width 0.125, one thread (so that two full modes can share
the machine). The former full mode, 32x32 for 10 epochs, about 7 h, is ``scale=paper``; its
quick mode (2,000 images, 2 epochs) left AlexNet and VGG behind LeNet, undertrained. Pilot: the
full mode's configuration, one thread, beside another full mode on the 2-core machine (37 min
in all; test error on the 10,000 test images):

    network       parameters   MACs/image   top-1   top-5   train loss   time
    LeNet-5           21,686      172,200   42.6%    4.7%      1.26       22 s
    AlexNet          948,138    9,521,152   38.8%    4.6%      1.22      364 s
    VGG-11         2,443,146    9,792,000   28.6%    2.6%      0.91      431 s
    GoogLeNet         89,690    5,432,320   29.4%    2.2%      0.88      867 s
    ResNet-20        269,722   10,138,240   26.3%    1.6%      0.76      510 s

(every later architecture below LeNet by 3.8 to 16.3 points, where two test errors on 10,000
images differ by chance by about 0.7; GoogLeNet and ResNet-20 with 11x and 3.5x fewer parameters
than AlexNet, 27x and 9x fewer than VGG).
"""

from __future__ import annotations

from typing import Any

from neuralab.backend import manual_seed
from neuralab.diagnostics.summary import summary
from neuralab.experiments.toolkit import prepare_cifar, run_summary, train_classifier
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.models import create
from neuralab.models.reduced import scaled
from neuralab.plotting import bar_groups, plot_smoothed

# name -> (label, year)
ARCHITECTURES = {"lenet": ("LeNet-5 (RGB)", 1998), "alexnet": ("AlexNet (small)", 2012),
                 "vgg": ("VGG-11 (small)", 2014), "googlenet": ("GoogLeNet (small)", 2014),
                 "resnet20": ("ResNet-20", 2015)}


def build(name: str, cfg: dict) -> Any:
    """One of ``ARCHITECTURES`` at the configured width and image size."""
    size, width = int(cfg["image_size"]), float(cfg["width"])
    if name not in ARCHITECTURES:
        raise ValueError(f"architectures-cifar: unknown architecture {name!r}; choose from "
                         f"{', '.join(ARCHITECTURES)}")
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
    results, runs = {"architectures": names, "chance_error": 0.9}, {}
    for name in names:
        manual_seed(ctx.seed)
        model = build(name, cfg)
        info = summary(model, (3, size, size))
        # AlexNet (no batch norm, 5x5 filters) diverges at 32x32 with the lr the others use.
        runs[name] = out = train_classifier(model, data, cfg, ctx, name, augment=augment,
                                            order_seed=ctx.seed,
                                            lr=cfg["lr"] * cfg.get(f"{name}_lr_factor", 1.0))
        results[name] = {**run_summary(out), "counted_params": out["params"],
                         "params": info.total_params, "macs": info.total_macs}  # the summary's
    labels = {n: ARCHITECTURES[n][0] for n in names}
    ctx.table("architectures", ["network", "year", "parameters", "MACs per image",
                                "training time (s)", "top-1 error (%)", "top-5 error (%)"],
              [[*ARCHITECTURES[n], results[n]["params"], results[n]["macs"],
                round(results[n]["seconds"], 1), round(100 * results[n]["test_err1"], 2),
                round(100 * results[n]["test_err5"], 2)] for n in names],
              caption=f"{cfg['epochs']} epochs of SGD (lr {cfg['lr']}, momentum "
                      f"{cfg['momentum']}, batch {cfg['batch_size']}); MACs and parameters from "
                      "neuralab.diagnostics.summary at the training image size.")

    fig, axes = ctx.subplots(1, 3, figsize=(16, 4.4))
    bar_groups(axes[0], list(labels.values()),
               {f"top-{k}": [100 * results[n][f"test_err{k}"] for n in names] for k in (1, 5)})
    axes[0].axhline(90, ls="--", c="gray", lw=1, label="chance (top-1)")
    axes[0].set_xticks(range(len(names)), list(labels.values()), rotation=20, ha="right",
                       fontsize=8)
    axes[0].set(ylabel="test error (%)", title="test error after the same budget")
    for ax, key, what in ((axes[1], "params", "parameters"),
                          (axes[2], "macs", "multiply-adds per image")):
        for n in names:
            point = (results[n][key], 100 * results[n]["test_err1"])
            ax.scatter(*point, s=60)
            ax.annotate(labels[n].split(" ")[0], point, textcoords="offset points",
                        xytext=(5, 4), fontsize=8)
        ax.set(xscale="log", xlabel=f"{what} (log scale)", ylabel="top-1 test error (%)",
               title=f"error against {what}")
    ctx.figure("error_vs_cost", fig, "Top-1 and top-5 test errors, and top-1 error against the "
               "number of parameters and of multiply-adds.")
    fig, ax = ctx.subplots(figsize=(7, 4))
    for n, out in runs.items():
        window = plot_smoothed(ax, out["losses"], len(out["losses"]) // 20, label=labels[n])
    ax.set(xlabel="step", ylabel=f"training loss (moving average of {window})")
    ctx.figure("training_loss", fig, "Training cross-entropy of each network on the same "
               "mini-batches.")
    return results


def verdict(results: dict, cfg: dict) -> Verdict:
    """Each later architecture's top-1 error below LeNet's; GoogLeNet and ResNet with fewer
    parameters than AlexNet and VGG (the networks that were run)."""
    names = [n for n in results.get("architectures", []) if n in results]
    err = {n: results[n]["test_err1"] for n in names}
    params = {n: results[n]["params"] for n in names}
    label = {n: ARCHITECTURES[n][0] for n in names}
    checks = [Comparison(f"{label[n]} top-1 error", err[n], "<", "LeNet's", err["lenet"],
                         fmt=".1%") for n in names if n != "lenet" and "lenet" in err]
    checks += [Comparison(f"{label[small]} parameters", params[small], "<",
                          f"{label[big]}'s", params[big], fmt=",.0f")
               for small in ("googlenet", "resnet20") for big in ("alexnet", "vgg")
               if small in params and big in params]
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
              "vgg_batch_norm": True, "epochs": 8, "batch_size": 128, "lr": 0.05,
              "lenet_lr_factor": 1.0, "alexnet_lr_factor": 0.2, "warmup": 0.05, "momentum": 0.9,
              "weight_decay": 5e-4, "augment": True, "eval_every": 2, "threads": 1,
              "scale": "laptop"},
    quick={"train_images": 2000, "test_images": 1000, "image_size": 16, "width": 0.25,
           "googlenet_width_factor": 0.5, "epochs": 2, "batch_size": 50, "eval_every": 0,
           "augment": False, "alexnet_lr_factor": 1.0, "warmup": 0.0, "threads": 1},
    runtime="37 min",
    # The full mode before the laptop scale: 32x32 images, GoogLeNet at width 0.25, 10 epochs,
    # about 7 h on two cores.
    scales={"laptop": {},
            "paper": {"image_size": 32, "googlenet_width_factor": 0.5, "epochs": 10,
                      "warmup": 0.0, "eval_every": 1, "threads": 0}},
    setup=("CIFAR-10 ({train_images} training images, 0 = all 50,000; {test_images} test "
           "images, 0 = all 10,000) at {image_size}x{image_size}, normalised per channel "
           "(random crops and flips: {augment}). Networks: LeNet-5 with 3 input channels; "
           "AlexNet, VGG-11 (batch norm: {vgg_batch_norm}) and GoogLeNet (all nine Inception "
           "modules) scaled to width {width} (GoogLeNet a further x{googlenet_width_factor}); "
           "ResNet-20. Each trains for {epochs} epochs with SGD (Nesterov momentum {momentum}, "
           "lr {lr} (AlexNet x{alexnet_lr_factor}) after a linear warm-up over {warmup} of the "
           "steps, then cosine decay, weight decay "
           "{weight_decay}, batch {batch_size}) from seed-fixed weights on the same "
           "mini-batches."),
)
