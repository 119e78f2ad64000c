"""Lecture 12: training a convolutional network on Caltech-101 with scale jittering.

Caltech-101 (Fei-Fei, Fergus & Perona, 2004) has 101 object categories of 31 to 800 images each;
the usual protocol trains on 30 per class. With so few images augmentation matters: VGG's scale
jittering (rescale each image so its shorter side is a random S in [S_min, S_max], then crop)
and flips; testing averages the softmax over whole images at a few scales. The quick mode uses a
synthetic stand-in with the same folder layout. Full-mode result: docs/experiments/caltech101.md.
"""

from __future__ import annotations

import tempfile
from typing import Any

from neuralab.backend import manual_seed, xp
from neuralab.data.datasets.caltech101 import Caltech101
from neuralab.data.datasets.synthetic_caltech import make_synthetic_caltech
from neuralab.data.transforms import Compose, RandomHorizontalFlip, ScaleJitter
from neuralab.experiments.toolkit import tail_mean, train_classifier
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.models import create
from neuralab.plotting import show_images
from neuralab.train.datasets import caltech101_folder
from neuralab.train.metrics import multiscale_evaluate

IMAGENET_NORM = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def run(cfg: dict, ctx: Any) -> dict:
    common = dict(train_per_class=cfg["train_per_class"], size=(cfg["size"], cfg["size"]),
                  seed=ctx.seed, normalize=IMAGENET_NORM, cache=not cfg["synthetic"])
    with tempfile.TemporaryDirectory(prefix="neuralab-caltech-") as scratch:
        if cfg["synthetic"]:
            root = make_synthetic_caltech(scratch, cfg["synthetic_classes"],
                                          cfg["synthetic_per_class"], seed=ctx.seed).parent
        else:
            root = caltech101_folder(cfg["data_root"] or None)
        train = Caltech101(root, train=True, **common)  # decoded in memory
        test = Caltech101(root, train=False, test_per_class=cfg["test_per_class"] or None,
                          **common)
    classes = list(train.classes)
    x_test = test.transform_batch(test.data)  # (N, 3, size, size) float32, normalised
    data = {"train": (train.transform_batch(train.data), train.targets),
            "test": (x_test, test.targets)}
    manual_seed(ctx.seed)
    vgg = {"width": cfg["width"], "image_size": cfg["crop"], "batch_norm": True,
           "hidden": cfg["hidden"], "dropout": cfg["dropout"]}  # a width-scaled VGG-11
    model = create(cfg["model"], num_classes=len(classes),
                   **(vgg if cfg["model"] == "vgg_small" else {}))
    jitter = ScaleJitter(cfg["s_min"], cfg["s_max"], cfg["crop"])  # then a random crop
    out = train_classifier(model, data, cfg, ctx, cfg["model"], order_seed=ctx.seed,
                           augment=Compose([jitter, RandomHorizontalFlip()]))
    final = multiscale_evaluate(model, x_test, test.targets, [int(q) for q in cfg["test_scales"]])

    shown = min(len(classes), 8)
    fig, axes = ctx.subplots(2, shown, figsize=(1.6 * shown, 3.6), squeeze=False)
    for c in range(shown):  # two images of each class, one class a column
        show_images(axes[:, c], train.data[xp.flatnonzero(train.targets == c)[:2]],
                    [classes[c][:12]])
    ctx.figure("examples", fig, "Training images of the first classes (as decoded).")
    return {"classes": len(classes), "chance_err1": 1 - 1 / len(classes),
            "train_images": len(train.targets), "test_images": len(test.targets),
            "test_err1": final["err1"], "test_err5": final["err5"], "synthetic": cfg["synthetic"],
            "first_loss": out["losses"][0], "final_train_loss": tail_mean(out["losses"])}


def verdict(results: dict, cfg: dict) -> Verdict:
    """Top-1 accuracy at least ``min_times_chance`` times chance (1/classes); top-5 accuracy
    above its chance (5/classes)."""
    classes = results["classes"]
    what = "synthetic stand-in" if results["synthetic"] else "Caltech-101"
    times = cfg["min_times_chance"]
    checks = [Comparison("top-1 accuracy", 1 - results["test_err1"], ">=",
                         f"{times:g}x chance (1/{classes})", times / classes, bound=True,
                         fmt=".1%"),
              Comparison("top-5 accuracy", 1 - results["test_err5"], ">",
                         f"chance (5/{classes})", min(1.0, 5 / classes), bound=True, fmt=".1%")]
    return judge(checks, tested=f"the {what}, {classes} classes, {results['train_images']} "
                                f"training and {results['test_images']} test images")


EXPERIMENT = Experiment(
    name="caltech101",
    lecture="L12",
    title="Caltech-101 with scale jittering",
    claim="A convolutional network trained from scratch on 30 images per class with scale "
          "jittering classifies Caltech-101 far better than chance.",
    run=run,
    verdict=verdict,
    defaults={"data_root": "", "synthetic": False, "synthetic_classes": 6,
              "synthetic_per_class": 40, "train_per_class": 30, "test_per_class": 50, "size": 56,
              "s_min": 48, "s_max": 64, "crop": 48, "test_scales": [48, 56], "model": "resnet8",
              "width": 0.5, "hidden": 256, "dropout": 0.5, "epochs": 30, "batch_size": 32,
              "lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4, "min_times_chance": 10.0,
              "threads": 0},
    quick={"synthetic": True, "train_per_class": 25, "test_per_class": 0, "size": 32,
           "s_min": 24, "s_max": 32, "crop": 24, "test_scales": [24, 28], "model": "vgg_small",
           "width": 0.25, "hidden": 64, "dropout": 0.0, "epochs": 15, "batch_size": 25,
           "min_times_chance": 3.0, "threads": 1},
    runtime="8 min",
    setup="{train_per_class} training images per class (test: the rest, at most "
          "{test_per_class} per class; 0 = all) decoded at {size}x{size}; training crops "
          "{crop}x{crop} from images rescaled to S in [{s_min}, {s_max}], with flips; model "
          "{model}, {epochs} epochs of SGD (lr {lr}, cosine decay); test on whole images at Q "
          "in {test_scales}. Synthetic stand-in: {synthetic}.",
)
