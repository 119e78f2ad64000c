"""VGG session: training deep VGG nets by deepening a trained shallow one, and scale jittering.

Simonyan & Zisserman (2015, Sec. 3.1) could not train their deeper configurations (VGG-13/16/19,
without batch norm) well from a random start: "the initialisation of the network weights is
important, since bad initialisation can stall learning due to the instability of gradient in deep
nets". They first trained the shallow configuration A (VGG-11), then initialised the deeper nets'
corresponding layers from it (the first four convolutional and the last three fully connected
layers) and the new intermediate layers randomly. Here the layers that correspond are the convs at
the same position within each stage (between two poolings), whose shapes agree, and the
classifier; the extra convs of each stage start from He et al.'s random initialisation.

The paper's second training device is *scale jittering*: each training image is rescaled so that
its shorter side is a random S in [S_min, S_max] before a fixed-size crop is taken, so the network
sees objects at many sizes (``neuralab.data.transforms.ScaleJitter``). Against a single fixed
training scale S it lowered the test error (Table 3: 25.6% -> 24.8% top-1 for VGG-16 at S = 256
against S in [256, 512]).

Part 1 trains the shallow net, warm-starts a deeper one from it and compares it with the same deeper
net from a random start on the same mini-batches. Part 2 trains the shallow net with fixed-scale
crops and with scale-jittered crops and evaluates both on whole test images at several scales.
Part 2 uses batch norm (``jitter_batch_norm``) so that the short runs train reliably; the
comparison is about the data, not the optimisation.

Runtime: quick mode (2,000 images at 16x16, widths x0.25) about 22 s of one core; full mode
(50,000 images at 32x32, widths x0.5) about 2.5 h (VGG-11 4 ms, VGG-16 7.8 ms per image).
"""

from __future__ import annotations

from typing import Any

from neuralab.backend import manual_seed
from neuralab.data.transforms import Compose, RandomHorizontalFlip, ScaleJitter
from neuralab.experiments.base import Comparison, Experiment, Verdict, judge
from neuralab.experiments.toolkit import (
    prepare_cifar,
    tail_mean,
    train_classifier,
)
from neuralab.models import create
from neuralab.plotting import moving_average
from neuralab.train.metrics import evaluate, multiscale_evaluate

DEPTHS = {"A": 11, "B": 13, "D": 16, "E": 19}


def stages(model: Any) -> list[list[tuple[str, Any]]]:
    """The convolutions of ``model.features`` grouped by stage (split at each max-pool)."""
    groups: list[list[tuple[str, Any]]] = [[]]
    for name, layer in model.features.named_children():
        kind = type(layer).__name__
        if kind == "MaxPool2d":
            groups.append([])
        elif kind == "Conv2d":
            groups[-1].append((f"features.{name}", layer))
    return [g for g in groups if g]


def warm_start(deep: Any, shallow: Any) -> list[str]:
    """Copy into ``deep`` the layers of ``shallow`` that correspond: in every stage the first k
    convolutions (k = the shallow net's count in that stage), and the whole classifier.

    Returns the names of the copied layers.

    Raises:
        ValueError: when the networks do not have the same stages or widths.
    """
    deep_stages, shallow_stages = stages(deep), stages(shallow)
    if len(deep_stages) != len(shallow_stages):
        raise ValueError(f"warm_start: the deep net has {len(deep_stages)} stages and the "
                         f"shallow one {len(shallow_stages)}; build both for the same image size")
    copied = []
    for d_stage, s_stage in zip(deep_stages, shallow_stages):
        if len(s_stage) > len(d_stage):
            raise ValueError("warm_start: the 'deep' net has fewer convolutions in a stage than "
                             "the shallow one; pass the deeper configuration first")
        for (d_name, d_conv), (s_name, s_conv) in zip(d_stage, s_stage):
            if d_conv.weight.shape != s_conv.weight.shape:
                raise ValueError(f"warm_start: {d_name} has weight shape {d_conv.weight.shape} "
                                 f"but {s_name} has {s_conv.weight.shape}; are the widths the "
                                 "same?")
            d_conv.weight.array[...] = s_conv.weight.array
            d_conv.bias.array[...] = s_conv.bias.array
            copied.append(f"{d_name} <- {s_name}")
    for (d_name, d_layer), (_, s_layer) in zip(deep.classifier.named_children(),
                                               shallow.classifier.named_children()):
        if type(d_layer).__name__ == "Linear":
            d_layer.weight.array[...] = s_layer.weight.array
            d_layer.bias.array[...] = s_layer.bias.array
            copied.append(f"classifier.{d_name}")
    return copied


def _crop_training(cfg: dict, jitter: bool) -> Any:
    """Training augmentation: a ``crop`` window of the image rescaled to S (fixed: S = s_min;
    jittered: S uniform in [s_min, s_max]), plus horizontal flips."""
    s_max = cfg["s_max"] if jitter else cfg["s_min"]
    return Compose([ScaleJitter(cfg["s_min"], s_max, cfg["crop"]), RandomHorizontalFlip()])


def run(cfg: dict, ctx: Any) -> dict:
    data, size, _ = prepare_cifar(cfg, ctx)  # augmentation here is the scale-jitter study
    shallow_cfg, deep_cfg = cfg["shallow_config"], cfg["deep_config"]

    def build(config: str, image_size: int, batch_norm: bool = False) -> Any:
        return create("vgg_small", width=cfg["width"], image_size=image_size, depth=config,
                      hidden=cfg["hidden"], init=cfg["init"], dropout=cfg["dropout"],
                      batch_norm=batch_norm)

    results: dict[str, Any] = {}
    runs: dict[str, dict] = {}
    # ---- part 1: deepening
    manual_seed(ctx.seed)
    shallow = build(shallow_cfg, size)
    runs["shallow"] = train_classifier(shallow, data, cfg, ctx, f"VGG-{DEPTHS[shallow_cfg]}",
                                       epochs=cfg["shallow_epochs"], order_seed=ctx.seed)
    manual_seed(ctx.seed + 1)
    warm = build(deep_cfg, size)
    copied = warm_start(warm, shallow)
    manual_seed(ctx.seed + 1)
    cold = build(deep_cfg, size)
    before = {"warm": evaluate(warm, *data["train"]), "random": evaluate(cold, *data["train"])}
    for key, model in (("warm", warm), ("random", cold)):
        runs[key] = train_classifier(model, data, cfg, ctx, f"VGG-{DEPTHS[deep_cfg]} {key}",
                                     epochs=cfg["deep_epochs"], order_seed=ctx.seed + 1)
    rows = []
    for key, label in (("shallow", f"VGG-{DEPTHS[shallow_cfg]} (config {shallow_cfg})"),
                       ("warm", f"VGG-{DEPTHS[deep_cfg]} from VGG-{DEPTHS[shallow_cfg]}"),
                       ("random", f"VGG-{DEPTHS[deep_cfg]} random init")):
        out = runs[key]
        results[key] = {"train_loss": tail_mean(out["losses"]), "first_loss": out["losses"][0],
                        "test_err1": out["test"]["err1"], "test_err5": out["test"]["err5"],
                        "params": out["params"], "steps": out["steps"],
                        "seconds": out["seconds"]}
        if key in before:
            results[key]["initial_train_loss"] = before[key]["loss"]
        rows.append([label, out["params"], out["steps"],
                     round(before[key]["loss"], 4) if key in before else None,
                     round(results[key]["train_loss"], 4), round(100 * out["test"]["err1"], 2),
                     round(100 * out["test"]["err5"], 2)])
    ctx.table("deepening", ["network", "parameters", "steps", "loss before training",
                            "training loss (last 20% of steps)", "top-1 test error (%)",
                            "top-5 test error (%)"], rows,
              caption=f"Copied into the deeper net: {', '.join(copied)}.")
    results["copied_layers"] = copied

    # ---- part 2: scale jittering
    if cfg["jitter_epochs"] > 0:
        jitter_size = int(cfg["crop"])
        for key in ("fixed", "jitter"):
            manual_seed(ctx.seed + 2)
            model = build(shallow_cfg, jitter_size, cfg["jitter_batch_norm"])
            out = train_classifier(model, data, cfg, ctx, f"scale {key}",
                                   epochs=cfg["jitter_epochs"], order_seed=ctx.seed + 2,
                                   augment=_crop_training(cfg, key == "jitter"))
            scales = [int(q) for q in cfg["test_scales"]]
            test = multiscale_evaluate(model, *data["test"], scales)
            runs[key] = out
            results[key] = {"train_loss": tail_mean(out["losses"]), "test_err1": test["err1"],
                            "test_err5": test["err5"],
                            "per_scale_err1": {str(q): e for q, e in test["per_scale"].items()},
                            "seconds": out["seconds"]}
        ctx.table("scale_jittering", ["training scale S", "training loss", "test top-1 error "
                                      "(%)", "test top-5 error (%)"] +
                  [f"top-1 at Q = {q} (%)" for q in cfg["test_scales"]],
                  [[f"fixed S = {cfg['s_min']}" if key == "fixed" else
                    f"S in [{cfg['s_min']}, {cfg['s_max']}]",
                    round(results[key]["train_loss"], 4),
                    round(100 * results[key]["test_err1"], 2),
                    round(100 * results[key]["test_err5"], 2)] +
                   [round(100 * results[key]["per_scale_err1"][str(q)], 2)
                    for q in cfg["test_scales"]] for key in ("fixed", "jitter")],
                  caption=f"VGG-{DEPTHS[shallow_cfg]} trained on {cfg['crop']}x{cfg['crop']} "
                          "crops of the rescaled images; tested on whole images resized to each "
                          f"Q in {list(cfg['test_scales'])}, softmax averaged over the scales.")
    _figures(ctx, runs, cfg)
    return results


def _figures(ctx: Any, runs: dict, cfg: dict) -> None:
    fig, axes = ctx.subplots(1, 2, figsize=(12, 4.2))
    steps = len(runs["warm"]["losses"])
    window = max(1, steps // 15)
    shallow_steps = len(runs["shallow"]["losses"])
    ax = axes[0]
    ax.plot(moving_average(runs["shallow"]["losses"], window), color="#7f7f7f",
            label=f"VGG-{DEPTHS[cfg['shallow_config']]} (trained first)")
    for key, colour in (("warm", "#d62728"), ("random", "#1f77b4")):
        xs = range(shallow_steps, shallow_steps + len(runs[key]["losses"]))
        start = "from the shallow net" if key == "warm" else "random init"
        ax.plot(list(xs), moving_average(runs[key]["losses"], window), color=colour,
                label=f"VGG-{DEPTHS[cfg['deep_config']]} {start}")
    ax.axvline(shallow_steps, ls=":", c="gray")
    ax.set_xlabel("step")
    ax.set_ylabel(f"training loss (moving average of {window})")
    ax.set_title("deepening a trained network")
    ax.legend(fontsize=8)
    ax = axes[1]
    for key, colour in (("fixed", "#1f77b4"), ("jitter", "#d62728")):
        if key in runs:
            ax.plot(moving_average(runs[key]["losses"], window), color=colour,
                    label="fixed scale" if key == "fixed" else "scale jittering")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title("fixed-scale versus scale-jittered training crops")
    ax.legend(fontsize=8)
    ctx.figure("training_curves", fig, "Left: the deeper net starts after the shallow one "
               "(dotted line), warm-started from it or from random weights. Right: training "
               "with fixed-scale and with scale-jittered crops.")


def verdict(results: dict, cfg: dict) -> Verdict:
    """The warm-started deep net's final training loss below the randomly started one's; with
    scale jittering a test error no higher than with a fixed scale (when part 2 ran)."""
    checks = [Comparison("training loss of the deep net from the shallow one",
                         results["warm"]["train_loss"], "<", "from random weights",
                         results["random"]["train_loss"])]
    untested = ""
    if "jitter" in results:
        checks.append(Comparison("test top-1 error with scale jittering",
                                 results["jitter"]["test_err1"], "<=", "with a fixed scale",
                                 results["fixed"]["test_err1"], fmt=".1%"))
    else:
        untested = "scale jittering (jitter_epochs=0)"
    return judge(checks, tested=f"after {results['warm']['steps']} steps", untested=untested)


EXPERIMENT = Experiment(
    name="vgg-deepening",
    lecture="VGG",
    title="Deepening VGG from a trained shallow net; scale jittering",
    claim="A deeper VGG initialised from a trained shallower one trains faster (lower loss after "
          "the same steps) than from random weights, and scale-jittered training lowers the "
          "test error against a fixed training scale.",
    run=run,
    verdict=verdict,
    defaults={"data_root": "", "train_images": 0, "test_images": 0, "image_size": 32,
              "width": 0.5, "hidden": 256, "dropout": 0.5, "init": "he", "shallow_config": "A",
              "deep_config": "D", "shallow_epochs": 10, "deep_epochs": 5, "batch_size": 128,
              "lr": 0.02, "momentum": 0.9, "weight_decay": 5e-4, "eval_every": 0,
              "crop": 24, "s_min": 28, "s_max": 40, "test_scales": [24, 28, 32],
              "jitter_epochs": 10, "jitter_batch_norm": True, "threads": 0},
    quick={"train_images": 2000, "test_images": 500, "image_size": 16, "width": 0.25,
           "hidden": 128, "dropout": 0.0, "shallow_epochs": 4, "deep_epochs": 4, "batch_size": 50,
           "crop": 12, "s_min": 14, "s_max": 20, "test_scales": [12, 14],
           "jitter_epochs": 3, "threads": 1},
    runtime="2.5 h",
    setup="CIFAR-10 ({train_images} training images, 0 = all) at {image_size}x{image_size}. "
          "VGG configurations {shallow_config} (shallow) and {deep_config} (deep) without batch "
          "norm, widths x{width}, classifier {hidden}-{hidden} (dropout {dropout}), {init} "
          "initialisation; SGD "
          "(Nesterov momentum {momentum}, lr {lr} with cosine decay, weight decay "
          "{weight_decay}, batch {batch_size}). Part 1: the shallow net trains {shallow_epochs} "
          "epochs; the deep net trains {deep_epochs} epochs from it and from random weights. "
          "Part 2: the shallow net (batch norm: {jitter_batch_norm}) trains {jitter_epochs} "
          "epochs on {crop}x{crop} crops of images rescaled to S = {s_min} or S in [{s_min}, "
          "{s_max}], tested at Q in {test_scales}.",
)
