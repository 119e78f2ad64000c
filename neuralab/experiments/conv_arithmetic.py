"""Lecture 11 (and the VGG, GoogLeNet and ResNet sessions): the arithmetic of convolutional nets.

The formulas of ``diagnostics.arithmetic`` (output size, receptive field, parameters, multiply-adds)
carry three design arguments: stacked 3×3 convolutions see what one 5×5 or 7×7 sees with fewer
weights (VGG); 1×1 "reduction" convolutions make an Inception module several times cheaper
(GoogLeNet), and a bottleneck block on a 4× wider input as cheap as a basic block (ResNet).
"""

from __future__ import annotations

from typing import Any

from neuralab.backend import manual_seed
from neuralab.diagnostics.arithmetic import conv_arithmetic, gradient_receptive_field
from neuralab.diagnostics.summary import summary
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.models.registry import create, get_entry
from neuralab.nn import Conv2d, Sequential

# torchvision's parameter counts (1000 classes; GoogLeNet without the auxiliary classifiers).
PUBLISHED_PARAMS = {"alexnet": 61_100_840, "vgg16": 138_357_544, "googlenet": 6_624_904,
                    "resnet50": 25_557_032}
# LeNet-5's feature extractor: (name, k, stride, padding, C_out), C_out None for pooling.
LENET = [("C1 conv 5x5", 5, 1, 0, 6), ("S2 pool 2x2", 2, 2, 0, None), ("C3 conv 5x5", 5, 1, 0, 16),
         ("S4 pool 2x2", 2, 2, 0, None), ("C5 conv 5x5", 5, 1, 0, 120)]
# Convolutions (k, C_in, C_out): inception 3a, naive and with 1x1 reductions; ResNet's blocks.
INCEPTION_3A = {"naive": [(1, 192, 64), (3, 192, 128), (5, 192, 32)],
                "reduced": [(1, 192, 64), (1, 192, 96), (3, 96, 128), (1, 192, 16), (5, 16, 32),
                            (1, 192, 32)]}
RESNET_BLOCKS = {"basic, 64-d": [(3, 64, 64)] * 2,
                 "bottleneck, 256-d": [(1, 256, 64), (3, 64, 64), (1, 64, 256)],
                 "basic, 256-d": [(3, 256, 256)] * 2}


def cost(convs: list[tuple[int, int, int]], size: int) -> list[int]:
    """[weights, multiply-adds] of convolutions (k, C_in, C_out) on size×size maps, no biases."""
    weights = sum(k * k * c_in * c_out for k, c_in, c_out in convs)
    return [weights, weights * size * size]


def factorization(c: int, size: int) -> list[list[Any]]:
    """VGG's argument: [layers, receptive field, weights, multiply-adds, measured field]."""
    table = []
    for n, k in ((2, 3), (1, 5), (3, 3), (1, 7)):
        net = Sequential(*[Conv2d(1, 1, k, padding=k // 2, bias=False) for _ in range(n)])
        for conv in net:
            conv.weight.array[...] = 1.0  # positive weights: no accidental cancellation
        formula = conv_arithmetic([("conv", k, 1, k // 2, c)] * n, size, c)[-1]
        table.append([f"{n} × {k}x{k}", formula["receptive_field"], *cost([(k, c, c)] * n, size),
                      gradient_receptive_field(net, (1, 21, 21))[1]])
    return table


def run(cfg: dict, ctx: Any) -> dict:
    lenet = conv_arithmetic(LENET, 32, 1)
    fact = factorization(cfg["channels"], cfg["size"])
    ctx.table("factorization", ["layers", "receptive field (formula)", "weights",
                                "multiply-adds", "receptive field (measured)"], fact,
              caption=f"VGG's factorization, {cfg['channels']} channels (measured: by backprop)")
    (_, naive), (_, reduced) = (cost(convs, 28) for convs in INCEPTION_3A.values())
    blocks = {label: cost(convs, 56) for label, convs in RESNET_BLOCKS.items()}
    results: dict[str, Any] = {
        "lenet_c5_receptive_field": lenet[-1]["receptive_field"],
        "two_3x3_over_5x5_params": fact[0][2] / fact[1][2],
        "three_3x3_over_7x7_params": fact[2][2] / fact[3][2],
        "factorized_receptive_fields_equal": fact[0][1] == fact[1][1] and fact[2][1] == fact[3][1],
        "receptive_fields_measured_match": all(r[4] == r[1] for r in fact),
        "inception_naive_macs": naive, "inception_reduced_macs": reduced,
        "inception_saving": naive / reduced,
        "bottleneck_over_basic64_params": blocks["bottleneck, 256-d"][0] / blocks["basic, 64-d"][0]}

    totals = []
    for name in ctx.progress(cfg["models"], desc="models"):
        shape = tuple(get_entry(name).meta.get("input_shape", (3, 224, 224)))
        if cfg["max_input"] and shape[-1] > cfg["max_input"]:
            shape = (shape[0], cfg["max_input"], cfg["max_input"])
        manual_seed(0)
        info = summary(create(name).eval(), shape)
        totals.append([name, "x".join(map(str, shape)), info.total_params,
                       PUBLISHED_PARAMS.get(name), info.total_macs])
        results[f"{name}_params"], results[f"{name}_macs"] = info.total_params, info.total_macs
        if name == "lenet5":  # the summary's C1 and C3 against the formulas above
            found = [(row.params, row.macs, row.receptive_field.text()[0]) for row in info.rows
                     if row.type == "Conv2d"]
            formulas = [(row["params"], row["macs"], str(row["receptive_field"]))
                        for row in (lenet[0], lenet[2])]
            results["lenet_summary_matches_formulas"] = found[:2] == formulas
    ctx.table("models", ["model", "input", "parameters", "published parameters", "multiply-adds"],
              totals, caption="Through `summary` (every layer: `neuralab summary MODEL`)")
    published = [t[2] == t[3] for t in totals if t[3] is not None]
    results["models_tabulated"] = len(totals)
    results["models_params_match_published"] = all(published) if published else None

    fig, axes = ctx.subplots(1, 3, figsize=(15, 4))
    axes[0].bar([r[0] for r in fact], [r[2] for r in fact], color=["#4c72b0", "#dd8452"] * 2)
    axes[0].set(ylabel="weights", title="weights: 3x3 stacks vs one large kernel")
    axes[1].bar(["naive", "reduced"], [naive / 1e6, reduced / 1e6], color=["#dd8452", "#4c72b0"])
    axes[1].set(ylabel="million multiply-adds", title="Inception 3a (28x28x192 input)")
    axes[2].bar(list(blocks), [macs / 1e6 for _, macs in blocks.values()],
                color=["#4c72b0", "#55a868", "#dd8452"])
    axes[2].set(ylabel="million multiply-adds", title="ResNet blocks at 56x56")
    ctx.figure("design_costs", fig, "The cost arguments of VGG, GoogLeNet and ResNet.")
    return results


def verdict(results: dict, cfg: dict) -> Verdict:
    """Stacked 3x3 convs: the large kernel's receptive field, fewer weights; Inception 3a's
    reductions over 2x cheaper; bottleneck(256) within 20% of basic(64); zoo counts as published."""
    def holds(what: str, value: Any, expected: str = "yes") -> Comparison:
        return Comparison(what, int(bool(value)), "==", expected, 1, bound=True, fmt="d")

    # The zoo's checks pass when the run tabulated none of the models concerned (None or absent).
    return judge([
        Comparison("two 3x3 convs' weights / one 5x5's", results["two_3x3_over_5x5_params"],
                   "<", "1", 1.0, bound=True, fmt=".0%"),
        Comparison("three 3x3 convs' weights / one 7x7's", results["three_3x3_over_7x7_params"],
                   "<", "1", 1.0, bound=True, fmt=".0%"),
        holds("stacks whose receptive field equals the large kernel's (by formula)",
              results["factorized_receptive_fields_equal"], "both"),
        holds("receptive fields confirmed by backprop", results["receptive_fields_measured_match"]),
        Comparison("Inception 3a: naive cost / reduced cost", results["inception_saving"], ">",
                   "2x", 2.0, bound=True, fmt=".1f"),
        *(Comparison("bottleneck(256) / basic block(64) parameters",
                     results["bottleneck_over_basic64_params"], op, str(bound), bound,
                     bound=True, fmt=".2f") for op, bound in ((">", 0.8), ("<", 1.2))),
        holds(f"zoo parameter counts match the published ({results['models_tabulated']} models)",
              results.get("models_params_match_published") is not False),
        holds("LeNet summary matches the formulas",
              results.get("lenet_summary_matches_formulas") is not False)])


EXPERIMENT = Experiment(
    name="conv-arithmetic",
    lecture="L11",
    title="Convolution arithmetic: sizes, receptive fields, parameters and cost",
    claim="Stacked 3x3 convolutions reach the receptive field of a large kernel with fewer "
          "parameters, and 1x1 convolutions make Inception modules and ResNet bottlenecks cheap.",
    run=run,
    verdict=verdict,
    defaults={"channels": 64, "size": 56,
              "models": ["lenet5", "alexnet", "vgg16", "googlenet", "resnet50"], "max_input": 0},
    quick={"max_input": 64},
    runtime="2 min",
    setup="The formulas of Lecture 11 on LeNet-5, on 3x3 stacks versus 5x5/7x7 kernels ({channels} "
          "channels, {size}x{size} maps), on inception 3a and on ResNet's blocks; `summary` of "
          "{models} (inputs capped at {max_input} pixels unless 0: parameters do not change).",
)
