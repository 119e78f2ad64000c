"""Lecture 11 (and the VGG, GoogLeNet and ResNet sessions): the arithmetic of convolutional nets.

For a convolution with kernel k, stride s, padding p on an n×n input with C_in channels and
C_out filters:

    output size      n' = ⌊(n + 2p − k) / s⌋ + 1
    receptive field  r' = r + (k − 1)·j        (r: receptive field of the input, j: its jump)
    jump             j' = j·s                  (distance in input pixels between adjacent units)
    parameters       (k²·C_in + 1)·C_out
    multiply-adds    k²·C_in·C_out·n'²

It tabulates these for every layer of LeNet, AlexNet, VGG-16, GoogLeNet and ResNet-50 (through
``neuralab.diagnostics.summary`` and the model registry), and checks three design arguments:

* VGG: two stacked 3×3 convolutions see a 5×5 window, three see 7×7, with 2·9 = 18 and 3·9 = 27
  weights per channel pair instead of 25 and 49 (and one more nonlinearity each);
* GoogLeNet: 1×1 "reduction" convolutions before the 3×3 and 5×5 branches cut an Inception
  module's cost several-fold;
* ResNet: a bottleneck block (1×1 down, 3×3, 1×1 up) on a 4× wider input costs about what a
  basic block (two 3×3) costs on the narrow one.
"""

from __future__ import annotations

from typing import Any

from neuralab.backend import manual_seed
from neuralab.diagnostics.arithmetic import conv_arithmetic, gradient_receptive_field
from neuralab.diagnostics.summary import summary
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.models.registry import create, get_entry
from neuralab.nn import Conv2d, Sequential

# Parameter counts of the reference implementations (torchvision's layouts, 1000 classes;
# GoogLeNet without the auxiliary classifiers and with torchvision's 3x3 "5x5" branch).
PUBLISHED_PARAMS = {"alexnet": 61_100_840, "vgg16": 138_357_544, "googlenet": 6_624_904,
                    "resnet50": 25_557_032}
# Multiply-adds at 224x224 as commonly quoted (conventions differ by a few percent).
PUBLISHED_MACS = {"alexnet": 0.714e9, "vgg16": 15.47e9, "googlenet": 1.50e9, "resnet50": 4.09e9}
# LeNet-5's feature extractor as Lecture 11 computes it: (name, k, stride, padding, C_out), and
# C_out None for a pooling layer.
LENET = [("C1 conv 5x5", 5, 1, 0, 6), ("S2 pool 2x2", 2, 2, 0, None),
         ("C3 conv 5x5", 5, 1, 0, 16), ("S4 pool 2x2", 2, 2, 0, None),
         ("C5 conv 5x5", 5, 1, 0, 120)]
# GoogLeNet's inception 3a on a 28x28x192 input, convolutions (k, C_in, C_out) and output
# channels: naive, and with 1x1 reductions before the 3x3 and 5x5 and after the pooling.
INCEPTION_3A = {
    "naive (3a)": ([(1, 192, 64), (3, 192, 128), (5, 192, 32)], 64 + 128 + 32 + 192),
    "with 1x1 reductions (3a)": ([(1, 192, 64), (1, 192, 96), (3, 96, 128), (1, 192, 16),
                                  (5, 16, 32), (1, 192, 32)], 64 + 128 + 32 + 32)}
# ResNet's basic block (two 3x3) and bottleneck (1x1 down, 3x3, 1x1 up).
RESNET_BLOCKS = {"basic, 64-d": [(3, 64, 64)] * 2,
                 "bottleneck, 256-d": [(1, 256, 64), (3, 64, 64), (1, 64, 256)],
                 "basic, 256-d": [(3, 256, 256)] * 2}


def cost(convs: list[tuple[int, int, int]], size: int) -> list[int]:
    """[weights, multiply-adds] of convolutions (k, C_in, C_out) on size×size maps, no biases."""
    weights = sum(k * k * c_in * c_out for k, c_in, c_out in convs)
    return [weights, weights * size * size]


def factorization(c: int, size: int) -> list[list[Any]]:
    """VGG's argument: stacks of 3x3 versus one large kernel, c channels in and out, no biases:
    [layers, receptive field (formula), weights, multiply-adds, nonlinearities, (measured)]."""
    table = []
    for n, k in ((2, 3), (1, 5), (3, 3), (1, 7)):
        net = Sequential(*[Conv2d(1, 1, k, padding=k // 2, bias=False) for _ in range(n)])
        for conv in net:
            conv.weight.array[...] = 1.0  # positive weights: no accidental cancellation
        formula = conv_arithmetic([("conv", k, 1, k // 2, c)] * n, size, c)[-1]
        table.append([f"{n} × {k}x{k}", formula["receptive_field"], *cost([(k, c, c)] * n, size),
                      n, gradient_receptive_field(net, (1, 21, 21))[1]])
    return table


def model_table(name: str, cfg: dict, ctx: Any) -> tuple[list, list]:
    """A model of the zoo through ``summary``: its per-layer rows (as a report table) and its
    totals [name, input, parameters, published, multiply-adds, published at 224x224]."""
    shape = tuple(get_entry(name).meta.get("input_shape", (3, 224, 224)))
    if cfg["max_input"] and shape[-1] > cfg["max_input"]:
        shape = (shape[0], cfg["max_input"], cfg["max_input"])
    manual_seed(0)
    info = summary(create(name).eval(), shape)
    rows = [[row.name, row.type, "x".join(map(str, row.output_shape or ())) or "-", row.params,
             row.macs, *(row.receptive_field.text()[:2] if row.receptive_field else ("-", "-"))]
            for row in info.rows]
    ctx.table(f"layers_{name}", ["layer", "type", "output shape", "params", "multiply-adds",
                                 "receptive field", "jump"], rows,
              caption=f"{name} at input {shape}: every layer")
    return rows, [name, "x".join(map(str, shape)), info.total_params, PUBLISHED_PARAMS.get(name),
                  info.total_macs, PUBLISHED_MACS.get(name) if shape[-1] == 224 else None]


def run(cfg: dict, ctx: Any) -> dict:
    lenet = conv_arithmetic(LENET, 32, 1)
    ctx.table("lenet_by_hand", ["layer", "output (C, H, W)", "receptive field", "jump", "params",
                                "multiply-adds"],
              [[r["layer"], str(r["output"]), *list(r.values())[2:]] for r in lenet],
              caption="LeNet-5's feature extractor by the formulas (C5 sees the whole 32x32 "
                      "input: receptive field 32)")
    fact = factorization(cfg["channels"], cfg["size"])
    ctx.table("factorization", ["layers", "receptive field (formula)", "weights",
                                "multiply-adds", "nonlinearities", "receptive field (measured)"],
              fact, caption=f"VGG's factorization, {cfg['channels']} channels in and out, "
                            f"{cfg['size']}x{cfg['size']} maps (measured: the input pixels with a "
                            "non-zero gradient of the centre output)")
    inc = {label: [*cost(convs, 28), out] for label, (convs, out) in INCEPTION_3A.items()}
    ctx.table("inception", ["module", "weights", "multiply-adds", "output channels"],
              [[label, *row] for label, row in inc.items()],
              caption="Inception 3a on a 28x28x192 input: 1x1 reductions before the 3x3 and 5x5 "
                      "convolutions and after the pooling")
    blocks = [[label, *cost(convs, 56), 1 + sum(k - 1 for k, _, _ in convs)]
              for label, convs in RESNET_BLOCKS.items()]
    ctx.table("resnet_blocks", ["block", "weights", "multiply-adds at 56x56",
                                "receptive field growth"], blocks,
              caption="ResNet's blocks: the bottleneck on 256 channels costs about what the basic "
                      "block costs on 64, and ~17x less than a basic block on 256")
    naive, reduced = (row[1] for row in inc.values())
    results: dict[str, Any] = {
        "lenet_c5_receptive_field": lenet[-1]["receptive_field"],
        "two_3x3_over_5x5_params": fact[0][2] / fact[1][2],
        "three_3x3_over_7x7_params": fact[2][2] / fact[3][2],
        "factorized_receptive_fields_equal": fact[0][1] == fact[1][1] and fact[2][1] == fact[3][1],
        "measured_receptive_fields": [r[5] for r in fact],
        "receptive_fields_measured_match": all(r[5] == r[1] for r in fact),
        "inception_naive_macs": naive, "inception_reduced_macs": reduced,
        "inception_saving": naive / reduced,
        "bottleneck_over_basic64_params": blocks[1][1] / blocks[0][1],
        "bottleneck_over_basic256_params": blocks[1][1] / blocks[2][1]}

    totals = []
    for name in ctx.progress(cfg["models"], desc="models"):
        rows, total = model_table(name, cfg, ctx)
        totals.append(total)
        results[f"{name}_params"], results[f"{name}_macs"] = total[2], total[4]
        if name == "lenet5":  # the summary's C1 and C3 against the formulas above
            convs = [r for r in rows if r[1] == "Conv2d"][:2]
            results["lenet_summary_matches_formulas"] = all(
                (r[3], r[4], str(r[5])) == (h["params"], h["macs"], str(h["receptive_field"]))
                for r, h in zip(convs, (lenet[0], lenet[2])))
    ctx.table("models", ["model", "input", "parameters", "published parameters",
                         "multiply-adds", "published multiply-adds (224x224)"], totals,
              caption="Totals over the per-layer tables")
    published = [t[2] == t[3] for t in totals if t[3] is not None]
    results["models_tabulated"] = len(totals)
    results["models_params_match_published"] = all(published) if published else None

    fig, ax = ctx.subplots(figsize=(7, 4.5))
    for name, _, params, _, macs, _ in totals:
        ax.scatter(max(macs, 1), params, s=60)
        ax.annotate(name, (max(macs, 1), params), textcoords="offset points", xytext=(5, 5))
    ax.set(xscale="log", yscale="log", xlabel="multiply-adds per image", ylabel="parameters",
           title="the model zoo: computation versus size")
    ctx.figure("models", fig, "Parameters against multiply-adds for the models tabulated.")
    fig, axes = ctx.subplots(1, 3, figsize=(15, 4))
    axes[0].bar([r[0] for r in fact], [r[2] for r in fact], color=["#4c72b0", "#dd8452"] * 2)
    axes[0].set(ylabel="weights", title="weights: 3x3 stacks vs one large kernel")
    axes[1].bar(["naive", "reduced"], [naive / 1e6, reduced / 1e6], color=["#dd8452", "#4c72b0"])
    axes[1].set(ylabel="million multiply-adds", title="Inception 3a")
    axes[2].bar([r[0] for r in blocks], [r[2] / 1e6 for r in blocks],
                color=["#4c72b0", "#55a868", "#dd8452"])
    axes[2].set(ylabel="million multiply-adds", title="ResNet blocks at 56x56")
    for ax in axes:
        ax.tick_params(axis="x", labelsize=8)
    ctx.figure("design_costs", fig, "The cost arguments of VGG, GoogLeNet and ResNet.")
    return results


def verdict(results: dict, cfg: dict) -> Verdict:
    """Stacked 3x3 convs: the receptive field of the large kernel (by formula and by backprop)
    with fewer weights; 1x1 reductions make Inception 3a over 2x cheaper; a bottleneck on 256
    channels costs within 20% of a basic block on 64; the zoo's counts match the published."""
    checks = [
        Comparison("two 3x3 convs' weights / one 5x5's", results["two_3x3_over_5x5_params"],
                   "<", "1", 1.0, bound=True, fmt=".0%"),
        Comparison("three 3x3 convs' weights / one 7x7's", results["three_3x3_over_7x7_params"],
                   "<", "1", 1.0, bound=True, fmt=".0%"),
        Comparison("stacks whose receptive field equals the large kernel's (by formula)",
                   int(bool(results["factorized_receptive_fields_equal"])), "==", "both", 1,
                   bound=True, fmt="d"),
        Comparison("receptive fields confirmed by backprop",
                   int(bool(results["receptive_fields_measured_match"])), "==", "yes", 1,
                   bound=True, fmt="d"),
        Comparison("Inception 3a: naive cost / reduced cost", results["inception_saving"], ">",
                   "2x", 2.0, bound=True, fmt=".1f"),
        *(Comparison("bottleneck(256) / basic block(64) parameters",
                     results["bottleneck_over_basic64_params"], op, str(bound), bound,
                     bound=True, fmt=".2f") for op, bound in ((">", 0.8), ("<", 1.2)))]
    # Checked only when the run tabulated the models concerned (None or absent: not checked).
    for key, what in (("models_params_match_published", "zoo parameter counts match the "
                       f"published ({results['models_tabulated']} models)"),
                      ("lenet_summary_matches_formulas", "LeNet summary matches the formulas")):
        checks.append(Comparison(what, int(results.get(key) is not False), "==", "yes", 1,
                                 bound=True, fmt="d"))
    return judge(checks)


EXPERIMENT = Experiment(
    name="conv-arithmetic",
    lecture="L11",
    title="Convolution arithmetic: sizes, receptive fields, parameters and cost",
    claim="Stacked 3x3 convolutions reach the receptive field of a large kernel with fewer "
          "parameters, and 1x1 convolutions make Inception modules and ResNet bottlenecks cheap.",
    run=run,
    verdict=verdict,
    defaults={"channels": 64, "size": 56, "models": ["lenet5", "alexnet", "vgg16", "googlenet",
                                                     "resnet50"],
              "max_input": 0},
    quick={"max_input": 64},
    runtime="2 min",
    setup="The formulas of Lecture 11 on LeNet-5's feature extractor, on 3x3 stacks versus single "
          "5x5/7x7 kernels ({channels} channels, {size}x{size} maps), on GoogLeNet's inception 3a "
          "and on ResNet's blocks; then `summary` of each registry model in {models} (inputs "
          "capped at {max_input} pixels when that is not 0, to keep the quick mode fast; "
          "parameter counts do not depend on the input size).",
)
