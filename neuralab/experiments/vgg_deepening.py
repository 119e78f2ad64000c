"""VGG session: training deep VGG nets by deepening a trained shallow one, and scale jittering.

Simonyan & Zisserman (2015, Sec. 3.1) could not train their deeper nets (no batch norm) well from
a random start, so they trained the shallow configuration A (VGG-11) first and initialised the
deeper nets' corresponding layers from it (``models.vgg.warm_start``), the new ones at random.
Their second device, *scale jittering* (``data.transforms.ScaleJitter``), rescales each training
image to a random shorter side S in [S_min, S_max] before a fixed-size crop: VGG-16's top-1 error
fell by 1.4-1.8 points (Tables 3 and 4). Part 1 trains VGG-16 from VGG-11 and from random weights
on the same batches. Part 2 trains the shallow net with batch norm (so that short runs train
reliably) at a fixed S, the range's middle, and with S jittered, tested on multi-crops at Q in
{S_min, S, S_max} (Sec. 3.2); the gain hides in one short run's spread, so ``jitter_seeds``
paired runs are judged by their mean difference (``lab.paired_seeds``).

Pilots and the full mode's run: docs/experiments/vgg-deepening.md.
"""

from __future__ import annotations

from typing import Any

from neuralab.backend import manual_seed
from neuralab.data.arrays import balanced_subset
from neuralab.data.transforms import Compose, RandomHorizontalFlip, Resize, ScaleJitter
from neuralab.experiments.toolkit import cifar_at_size, prepare_cifar, run_summary, train_classifier
from neuralab.lab import Comparison, Experiment, Verdict, judge, paired_rows, paired_seeds
from neuralab.models import create
from neuralab.models.vgg import warm_start
from neuralab.plotting import plot_smoothed
from neuralab.train.metrics import multiscale_evaluate

DEPTHS = {"A": 11, "B": 13, "D": 16, "E": 19}


def run(cfg: dict, ctx: Any) -> dict:
    if cfg["jitter_seeds"] and not cfg["crop"] <= cfg["s_min"] <= cfg["s_fixed"] <= cfg["s_max"]:
        raise ValueError(f"part 2 needs crop <= s_min <= s_fixed <= s_max (the "
                         f"rescaled image must hold the crop), got crop={cfg['crop']}, "
                         f"s_min={cfg['s_min']}, s_fixed={cfg['s_fixed']}, s_max={cfg['s_max']}")
    data, size, _ = prepare_cifar(cfg, ctx)  # the augmentation here is part 2's scale jitter
    shallow_name = f"VGG-{DEPTHS[cfg['shallow_config']]}"
    deep_name = f"VGG-{DEPTHS[cfg['deep_config']]}"

    def build(config: str, seed: int, image_size: int = size, batch_norm: bool = False) -> Any:
        manual_seed(seed)
        return create("vgg_small", width=cfg["width"], image_size=image_size, depth=config,
                      hidden=cfg["hidden"], init=cfg["init"], dropout=cfg["dropout"],
                      batch_norm=batch_norm)

    # ---- part 1: deepening a trained shallow net, against the same deep net from random weights
    shallow = build(cfg["shallow_config"], ctx.seed)
    runs = {"shallow": train_classifier(shallow, data, cfg, ctx, shallow_name,
                                        epochs=cfg["shallow_epochs"], order_seed=ctx.seed)}
    deep = {"warm": build(cfg["deep_config"], ctx.seed + 1),
            "random": build(cfg["deep_config"], ctx.seed + 1)}
    copied = warm_start(deep["warm"], shallow)
    for key, model in deep.items():
        runs[key] = train_classifier(model, data, cfg, ctx, f"{deep_name} {key}",
                                     epochs=cfg["deep_epochs"], order_seed=ctx.seed + 1)
    results: dict[str, Any] = {key: run_summary(out) for key, out in runs.items()}
    labels = {"shallow": f"{shallow_name} (config {cfg['shallow_config']})",
              "warm": f"{deep_name} from {shallow_name}", "random": f"{deep_name} random init"}
    ctx.table("deepening", ["network", "steps", "training loss", "top-1 test error (%)"],
              [[labels[key], r["steps"], r["train_loss"], 100 * r["test_err1"]]
               for key, r in results.items()],
              caption="Training loss over the last 20% of the steps. Copied into the deeper "
                      f"net: {', '.join(copied)}.")
    results.update(copied_layers=copied, test_images=len(data["test"][0]))

    # ---- part 2: scale jittering against a fixed training scale, paired runs over seeds
    crop, s_fixed, s_min, s_max = (int(cfg[key]) for key in ("crop", "s_fixed", "s_min", "s_max"))
    ranges = {"fixed": (s_fixed, s_fixed), "jitter": (s_min, s_max)}
    # The paper's test sizes, {S_min, S, S_max} jittered and {S - d, S, S + d} fixed: the same.
    scales = sorted({s_min, s_fixed, s_max})
    seeds = [ctx.seed + 2 + 1000 * k for k in range(cfg["jitter_seeds"])]
    pairs = []  # (fixed, jitter) test top-1 errors of each seed
    # Fewer images, longer (augmentation fights overfitting), resampled from CIFAR's 32x32 ones.
    subset = (balanced_subset(data["train"][1], cfg["jitter_train_images"], ctx.seed + 2)
              if cfg["jitter_train_images"] else None)  # 0: all of part 1's images
    part2 = cifar_at_size(data, cfg["jitter_image_size"], subset) if seeds else data
    # What training logs at its end: the whole test images at the crop's size.
    whole = {**part2, "test": (Resize((crop, crop))(part2["test"][0]), part2["test"][1])}
    for seed in seeds:
        errors = {}
        for key, (low, high) in ranges.items():
            # Both scales from the same weights on the same batches: only the data differs.
            model = build(cfg["shallow_config"], seed, crop, cfg["jitter_batch_norm"])
            augment = Compose([ScaleJitter(low, high, crop), RandomHorizontalFlip()])
            out = train_classifier(model, whole, cfg, ctx, f"scale {key} seed {seed}",
                                   epochs=cfg["jitter_epochs"], order_seed=seed, augment=augment)
            test = multiscale_evaluate(model, *part2["test"], scales, crop=crop,
                                       grid=cfg["test_grid"], flip=True)
            errors[key] = test["err1"]
            if seed == seeds[0]:  # the first seed's runs are drawn
                runs[key] = out
                results[key] = {"test_err1": test["err1"], "per_scale_err1": test["per_scale"]}
        pairs.append((errors["fixed"], errors["jitter"]))
    if pairs:
        results["jitter_pairs"] = pairs
        results["jitter_summary"] = paired_seeds(pairs, results["test_images"])  # a: fixed
        rows, spread = paired_rows(seeds, pairs, results["jitter_summary"])
        ctx.table("scale_jittering_seeds", [
            "seed", f"fixed S = {s_fixed}: top-1 error (%)",
            f"S in [{s_min}, {s_max}]: top-1 error (%)", "difference (points)"], rows,
            caption="Each seed trains both scales from the same weights on the same batches; "
                    f"tested at Q in {scales}. {spread}")

    fig, axes = ctx.subplots(1, 2, figsize=(12, 4.2))
    window = max(1, len(runs["warm"]["losses"]) // 15)
    start = len(runs["shallow"]["losses"])
    curves = {"shallow": (axes[0], 0, "#7f7f7f", f"{shallow_name} (trained first)"),
              "warm": (axes[0], start, "#d62728", labels["warm"]),
              "random": (axes[0], start, "#1f77b4", labels["random"]),
              "fixed": (axes[1], 0, "#1f77b4", "fixed scale"),
              "jitter": (axes[1], 0, "#d62728", "scale jittering")}
    for key, out in runs.items():
        ax, x0, colour, label = curves[key]
        plot_smoothed(ax, out["losses"], window, x0=x0, color=colour, label=label)
    axes[0].axvline(start, ls=":", c="gray")
    axes[0].set(xlabel="step", ylabel=f"training loss (moving average of {window})",
                title="deepening a trained network")
    axes[1].set(xlabel="step", ylabel="training loss", title="fixed versus jittered scale")
    ctx.figure("training_curves", fig, "Left: the deeper net after the shallow one (dotted "
               "line), from its weights or from random ones. Right: fixed and jittered scales.")
    return results


def verdict(results: dict, cfg: dict) -> Verdict:
    """The warm-started deep net's final training loss below the random one's; with scale
    jittering (when part 2 ran) a mean test error at most a fixed scale's, beyond the noise."""
    checks = [Comparison("training loss of the deep net from the shallow one",
                         results["warm"]["train_loss"], "<", "from random weights",
                         results["random"]["train_loss"])]
    if "jitter_pairs" in results:
        seeds, k = results["jitter_summary"], len(results["jitter_pairs"])
        checks.append(Comparison(f"mean test top-1 error with scale jittering over {k} "
                                 f"seed{'s' * (k > 1)}", seeds["mean_b"], "<=",
                                 "with a fixed scale", seeds["mean_a"], fmt=".1%",
                                 noise=seeds["noise"]))
    untested = "" if "jitter_pairs" in results else "scale jittering (jitter_seeds=0)"
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
    defaults={"data_root": "", "train_images": 0, "test_images": 0, "image_size": 16,
              "width": 0.5, "hidden": 256, "dropout": 0.5, "init": "he", "shallow_config": "A",
              "deep_config": "D", "shallow_epochs": 10, "deep_epochs": 5, "batch_size": 128,
              "lr": 0.02, "momentum": 0.9, "weight_decay": 5e-4, "eval_every": 0, "crop": 16,
              "s_fixed": 18, "s_min": 16, "s_max": 20, "jitter_image_size": 32, "test_grid": 2,
              "jitter_epochs": 20, "jitter_seeds": 3, "jitter_train_images": 10000,
              "jitter_batch_norm": True, "threads": 1, "scale": "laptop"},
    quick={"train_images": 2000, "test_images": 500, "image_size": 16, "width": 0.25,
           "hidden": 128, "dropout": 0.0, "shallow_epochs": 4, "deep_epochs": 4, "batch_size": 50,
           "crop": 12, "s_fixed": 14, "s_min": 12, "s_max": 16, "jitter_image_size": 16,
           "test_grid": 1, "jitter_epochs": 3, "jitter_seeds": 1, "jitter_train_images": 0,
           "threads": 1},
    runtime="50 min",
    scales={"laptop": {}, "paper": {"image_size": 32, "crop": 24, "s_fixed": 28, "s_min": 24,
                                    "s_max": 32, "jitter_epochs": 10, "jitter_seeds": 1,
                                    "jitter_train_images": 0, "threads": 0}},
    setup="CIFAR-10 ({train_images} training images, 0 = all) at {image_size}x{image_size}; "
          "VGG configurations {shallow_config} and {deep_config} without batch norm, widths "
          "x{width}, classifier {hidden}-{hidden} (dropout {dropout}), {init} initialisation; "
          "SGD (Nesterov momentum {momentum}, lr {lr}, cosine decay, weight decay "
          "{weight_decay}, batch {batch_size}). Part 1: {shallow_config} trains {shallow_epochs} "
          "epochs, then {deep_config} {deep_epochs} epochs from it and from random weights. "
          "Part 2: {shallow_config} (batch norm: {jitter_batch_norm}) trains {jitter_epochs} "
          "epochs on {jitter_train_images} images (0 = all) at {jitter_image_size}x"
          "{jitter_image_size}, {crop}x{crop} crops of the images rescaled to S = {s_fixed} or "
          "S in [{s_min}, {s_max}], tested at Q in {{S_min, S, S_max}} ({test_grid}x{test_grid} "
          "crops and mirrors); {jitter_seeds} seeds, each training both from the same weights.",
)
