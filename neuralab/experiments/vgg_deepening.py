"""VGG session: training deep VGG nets by deepening a trained shallow one, and scale jittering.

Simonyan & Zisserman (2015, Sec. 3.1) could not train their deeper nets (VGG-13/16/19, no batch
norm) well from a random start ("bad initialisation can stall learning due to the instability of
gradient in deep nets"). They trained the shallow configuration A (VGG-11) first and initialised
the deeper nets' corresponding layers from it (``models.vgg.warm_start``: the convolutions at the
same place in each stage, and the classifier), the new layers at random (He et al.).

Their second device is *scale jittering* (``data.transforms.ScaleJitter``): each training image
is rescaled so that its shorter side is a random S in [S_min, S_max] before a fixed-size crop, so
the network sees objects at many sizes. For VGG-16 it lowered the top-1 error from 27.0% (fixed
S = 256) and 26.8% (S = 384) to 25.6% (S in [256, 512], Table 3, one test scale), and from 26.6%
to 24.8% tested at three scales (Table 4). Part 2 compares a fixed S at the middle of the range
with the jittered range on the shallow net with batch norm (``jitter_batch_norm``), so that the
short runs train reliably: the comparison is about the data, not the optimisation. Both nets are
tested as the paper tests a jittered net, at Q in {S_min, S, S_max} (a fixed S = 256 net at
{224, 256, 288}: the same sizes when S is the range's middle), on multi-crops
(``multiscale_evaluate(crop=...)``, the paper's Sec. 3.2). The paper's gain is 1.4-1.8 points,
within the spread of one short run, so part 2 trains ``jitter_seeds`` pairs (each pair from the
same weights on the same batches) and judges the mean difference against its noise
(``lab.paired_seeds``).

The full mode fits the hour on two cores: 16x16 images, all 50,000 of them, widths x0.5, one
thread (so that two full modes can share the machine); part 2 trains 10,000 of the images for
20 epochs, where augmentation has overfitting to fight, on 16x16 crops resampled from CIFAR's
own 32x32 images. The former full mode at 32x32, about 2.5 h with one jitter seed, is
``scale=paper``. Pilots (training loss over the last 20% of the steps, test error on the 10,000
test images):

    part 1 at the full mode's scale (24 min)   epochs   steps   training loss   top-1 error
    VGG-11 (config A)                              10   3,910        0.44          31.8%
    VGG-16 from VGG-11                              5   1,955        0.95          36.9%
    VGG-16 from random weights                      5   1,955        1.46          55.9%

    part 2, one seed unless said, 16x16 crops,          top-1 error     fixed S    jittered S
    20 epochs on 10,000 images
    12x12 crops, S 14 / [14, 20], 6 epochs on 50,000,   whole images,     40.6%      45.4%
      3 seeds                                           Q {12, 14, 16}
    S 18 / [18, 26] from 16x16 images                   whole, {16,18,22} 43.4%      45.2%
    S 18 / [18, 26] from 32x32 images                   whole, {16,18,22} 37.6%      43.1%
      the same nets                                     one centred crop
                                                        at Q = 18 / 22    37.1%      39.9%
    S 18 / [18, 26], 40 epochs on 5,000                 multi-crop, Q      36.8%      39.7%
                                                        {16,18,20} / {18,22,26}
    S 18 / [16, 20]                                     multi-crop, Q      33.6%      33.4%
                                                        {16, 18, 20}
    S 20 / [16, 24]                                     multi-crop, Q      36.6%      37.0%
                                                        {16, 20, 24}

What the pilots showed: (1) upsampling part 1's 16x16 images to S blurs every jittered crop;
resampling from the 32x32 originals lowered the fixed net's error by 6 points. (2) These nets'
last feature map is 1x1 at the training crop, so a whole image larger than the crop is not
averaged over positions as the paper's dense evaluation assumes: the fixed net's error at
Q = 26 was 72% on whole images and 51% on a centred crop. (3) A range whose middle lies above
the fixed S ([18, 26] against 18) compares two training sizes as much as jittering, and lost by
2-6 points; centred on the fixed S the two were within 0.4 points of each other either way.

The full mode's run (50 min, one thread; another full mode and the test suite shared the machine
for its first 27 minutes): part 1 as its pilot, VGG-16 from VGG-11 at a training loss of 0.88
(35.4% test error) against 1.20 (45.6%) from random weights after the same 1,955 steps; part 2
over three seeds, 33.75% with the fixed S = 18 against 34.00% with S in [16, 20] (differences
-0.33, +0.76, +0.32 points; standard error 0.32): no effect at this scale, where the paper's
1.4-point gain would have shown above the noise of ±0.7 points.
"""

from __future__ import annotations

from typing import Any

from neuralab.backend import manual_seed
from neuralab.data.arrays import balanced_subset
from neuralab.data.transforms import Compose, RandomHorizontalFlip, Resize, ScaleJitter
from neuralab.experiments.toolkit import (
    cifar_at_size,
    prepare_cifar,
    run_summary,
    tail_mean,
    train_classifier,
)
from neuralab.lab import Comparison, Experiment, Verdict, judge, paired_rows, paired_seeds
from neuralab.models import create
from neuralab.models.vgg import warm_start
from neuralab.plotting import plot_smoothed
from neuralab.train.metrics import evaluate, multiscale_evaluate

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
    before = {key: evaluate(model, *data["train"])["loss"] for key, model in deep.items()}
    for key, model in deep.items():
        runs[key] = train_classifier(model, data, cfg, ctx, f"{deep_name} {key}",
                                     epochs=cfg["deep_epochs"], order_seed=ctx.seed + 1)
    results: dict[str, Any] = {key: run_summary(out) for key, out in runs.items()}
    for key, loss in before.items():
        results[key]["initial_train_loss"] = loss
    labels = {"shallow": f"{shallow_name} (config {cfg['shallow_config']})",
              "warm": f"{deep_name} from {shallow_name}", "random": f"{deep_name} random init"}
    ctx.table("deepening", ["network", "parameters", "steps", "loss before training",
                            "training loss (last 20% of steps)", "top-1 test error (%)",
                            "top-5 test error (%)"],
              [[labels[key], r["params"], r["steps"], before.get(key), r["train_loss"],
                100 * r["test_err1"], 100 * r["test_err5"]] for key, r in results.items()],
              caption=f"Copied into the deeper net: {', '.join(copied)}.")
    results["copied_layers"] = copied
    results["test_images"] = len(data["test"][0])

    # ---- part 2: scale jittering against a fixed training scale, paired runs over seeds
    crop, s_fixed, s_min, s_max = (int(cfg[key]) for key in ("crop", "s_fixed", "s_min", "s_max"))
    ranges = {"fixed": (s_fixed, s_fixed), "jitter": (s_min, s_max)}
    names = {"fixed": f"fixed S = {s_fixed}", "jitter": f"S in [{s_min}, {s_max}]"}
    # The paper's test sizes: Q in {S_min, (S_min + S_max)/2, S_max} for the jittered net, and
    # {S - d, S, S + d} for a fixed S; with S the range's middle the two are the same.
    scales = sorted({s_min, s_fixed, s_max})
    seeds = [ctx.seed + 2 + 1000 * k for k in range(cfg["jitter_seeds"])]
    pairs = []  # (fixed, jitter) test top-1 errors of each seed
    # Augmentation pays where a net would overfit: part 2 may train on fewer images, longer. Its
    # crops are resampled from CIFAR's own 32x32 images, not from part 1's smaller copies.
    rows = (balanced_subset(data["train"][1], cfg["jitter_train_images"], ctx.seed + 2)
            if cfg["jitter_train_images"] else None)  # 0: all of part 1's images
    part2 = cifar_at_size(data, cfg["jitter_image_size"], rows) if seeds else data
    # What training logs at its end: the whole test images at the crop's size.
    whole = {**part2, "test": (Resize((crop, crop))(part2["test"][0]), part2["test"][1])}
    for seed in seeds:
        errors = {}
        for key, (low, high) in ranges.items():
            # Both scales from the same weights on the same batches: only the data differs.
            model = build(cfg["shallow_config"], seed, crop, cfg["jitter_batch_norm"])
            augment = Compose([ScaleJitter(low, high, crop), RandomHorizontalFlip()])
            out = train_classifier(model, whole, cfg, ctx,
                                   f"scale {key} seed {seed}", epochs=cfg["jitter_epochs"],
                                   order_seed=seed, augment=augment)
            test = multiscale_evaluate(model, *part2["test"], scales, crop=crop,
                                       grid=cfg["test_grid"], flip=True)
            errors[key] = test["err1"]
            if seed == seeds[0]:  # the first seed's run is the one tabled and drawn in full
                runs[key] = out
                results[key] = {"train_loss": tail_mean(out["losses"]),
                                "test_err1": test["err1"], "test_err5": test["err5"],
                                "seconds": out["seconds"], "per_scale_err1": {
                                    str(q): e for q, e in test["per_scale"].items()}}
        pairs.append((errors["fixed"], errors["jitter"]))
    if pairs:
        results["jitter_pairs"] = pairs
        results["jitter_summary"] = paired_seeds(pairs, results["test_images"])  # a: fixed
        ctx.table("scale_jittering", ["training scale S", "training loss", "test top-1 error "
                                      "(%)", "test top-5 error (%)"]
                  + [f"top-1 at Q = {q} (%)" for q in scales],
                  [[names[key], r["train_loss"], 100 * r["test_err1"], 100 * r["test_err5"],
                    *(100 * r["per_scale_err1"][str(q)] for q in scales)]
                   for key, r in ((k, results[k]) for k in names)],
                  caption=f"{shallow_name} trained on {crop}x{crop} crops of the rescaled images "
                          f"(first seed); tested on {crop}x{crop} crops of the images resized to "
                          f"each Q in {scales} ({cfg['test_grid']}x{cfg['test_grid']} grid and "
                          "mirrors), softmax averaged over the crops and the scales.")
        rows, spread = paired_rows(seeds, pairs, results["jitter_summary"])
        ctx.table("scale_jittering_seeds", ["seed", "fixed S: top-1 error (%)",
                                            "jittered S: top-1 error (%)", "difference (points)"],
                  rows, caption="Each seed trains both scales from the same weights on the same "
                                f"batches. {spread}")

    fig, axes = ctx.subplots(1, 2, figsize=(12, 4.2))
    window = max(1, len(runs["warm"]["losses"]) // 15)
    start = len(runs["shallow"]["losses"])
    for key, colour, x0, label, ax in (
            ("shallow", "#7f7f7f", 0, f"{shallow_name} (trained first)", axes[0]),
            ("warm", "#d62728", start, labels["warm"], axes[0]),
            ("random", "#1f77b4", start, labels["random"], axes[0]),
            ("fixed", "#1f77b4", 0, "fixed scale", axes[1]),
            ("jitter", "#d62728", 0, "scale jittering", axes[1])):
        if key in runs:
            plot_smoothed(ax, runs[key]["losses"], window, x0=x0, color=colour, label=label)
    axes[0].axvline(start, ls=":", c="gray")
    axes[0].set(xlabel="step", ylabel=f"training loss (moving average of {window})",
                title="deepening a trained network")
    axes[1].set(xlabel="step", ylabel="training loss",
                title="fixed-scale versus scale-jittered training crops")
    ctx.figure("training_curves", fig, "Left: the deeper net starts after the shallow one "
               "(dotted line), warm-started from it or from random weights. Right: training "
               "with fixed-scale and with scale-jittered crops.")
    return results


def verdict(results: dict, cfg: dict) -> Verdict:
    """The warm-started deep net's final training loss below the randomly started one's; with
    scale jittering a mean test error (over the seeds) no higher than with a fixed scale (when
    part 2 ran), the two apart by more than ``paired_seeds``' noise."""
    checks = [Comparison("training loss of the deep net from the shallow one",
                         results["warm"]["train_loss"], "<", "from random weights",
                         results["random"]["train_loss"])]
    if "jitter_pairs" in results:
        seeds, k = results["jitter_summary"], len(results["jitter_pairs"])
        checks.append(Comparison(f"mean test top-1 error with scale jittering over {k} "
                                 f"seed{'s' * (k > 1)}", seeds["mean_b"], "<=",
                                 "with a fixed scale", seeds["mean_a"], fmt=".1%",
                                 noise=seeds["noise"]))
    return judge(checks, tested=f"after {results['warm']['steps']} steps",
                 untested="" if "jitter_pairs" in results else
                 "scale jittering (jitter_seeds=0)")


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
              "lr": 0.02, "momentum": 0.9, "weight_decay": 5e-4, "eval_every": 0,
              "crop": 16, "s_fixed": 18, "s_min": 16, "s_max": 20, "jitter_image_size": 32,
              "test_grid": 2, "jitter_epochs": 20, "jitter_seeds": 3,
              "jitter_train_images": 10000, "jitter_batch_norm": True, "threads": 1,
              "scale": "laptop"},
    quick={"train_images": 2000, "test_images": 500, "image_size": 16, "width": 0.25,
           "hidden": 128, "dropout": 0.0, "shallow_epochs": 4, "deep_epochs": 4, "batch_size": 50,
           "crop": 12, "s_fixed": 14, "s_min": 12, "s_max": 16, "jitter_image_size": 16,
           "test_grid": 1, "jitter_epochs": 3, "jitter_seeds": 1, "jitter_train_images": 0,
           "threads": 1},
    runtime="50 min",
    # The full mode before the laptop scale: 32x32 images, one jitter seed, about 2.5 h on
    # two cores (three seeds: about 4 h).
    scales={"laptop": {},
            "paper": {"image_size": 32, "crop": 24, "s_fixed": 28, "s_min": 24, "s_max": 32,
                      "jitter_epochs": 10, "jitter_seeds": 1,
                      "jitter_train_images": 0, "threads": 0}},
    setup="CIFAR-10 ({train_images} training images, 0 = all) at {image_size}x{image_size}. "
          "VGG configurations {shallow_config} (shallow) and {deep_config} (deep) without batch "
          "norm, widths x{width}, classifier {hidden}-{hidden} (dropout {dropout}), {init} "
          "initialisation; SGD (Nesterov momentum {momentum}, lr {lr} with cosine decay, weight "
          "decay {weight_decay}, batch {batch_size}). Part 1: the shallow net trains "
          "{shallow_epochs} epochs; the deep net trains {deep_epochs} epochs from it and from "
          "random weights. Part 2: the shallow net (batch norm: {jitter_batch_norm}) trains "
          "{jitter_epochs} epochs on {jitter_train_images} training images (0 = all), "
          "{crop}x{crop} crops of the {jitter_image_size}x{jitter_image_size} images rescaled "
          "to S = {s_fixed} or S in [{s_min}, {s_max}], tested on {crop}x{crop} crops "
          "({test_grid}x{test_grid} grid and mirrors) at Q in {{S_min, S, S_max}}; "
          "{jitter_seeds} seeds, each training both from the same weights.",
)
