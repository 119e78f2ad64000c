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

from neuralab.autograd import Tensor
from neuralab.backend import manual_seed, xp
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


def walk(layers: list[tuple], n: int, c_in: int) -> list[dict[str, Any]]:
    """Walk a chain of layers (name, k, s, p, C_out or None) with the docstring's formulas."""
    rows, r, j = [], 1, 1
    for name, k, s, p, c_out in layers:
        n = (n + 2 * p - k) // s + 1
        r, j = r + (k - 1) * j, j * s
        conv = c_out is not None
        c_out = c_out if conv else c_in
        rows.append({"layer": name, "output": (c_out, n, n), "receptive_field": r, "jump": j,
                     "params": (k * k * c_in + 1) * c_out if conv else 0,
                     "macs": k * k * c_in * c_out * n * n if conv else 0})
        c_in = c_out
    return rows


def measured_receptive_field(depth: int, k: int, size: int = 21) -> int:
    """The receptive field measured by backpropagation: the input pixels that influence the
    centre output of ``depth`` stacked k×k convolutions."""
    net = Sequential(*[Conv2d(1, 1, k, padding=k // 2, bias=False) for _ in range(depth)])
    for conv in net:
        conv.weight.array[...] = 1.0  # positive weights: no accidental cancellation
    x = Tensor(xp.ones((1, 1, size, size)), requires_grad=True)
    y = net(x)
    y[0, 0, size // 2, size // 2].backward()
    touched = xp.nonzero(x.grad.array[0, 0].any(axis=0))[0]
    return int(touched.max() - touched.min() + 1)


def factorization(c: int, size: int) -> list[list[Any]]:
    """VGG's argument: stacks of 3x3 versus one large kernel, c channels in and out, no biases:
    [layers, receptive field (formula), weights, multiply-adds, nonlinearities, (measured)]."""
    table = []
    for depth, big in ((2, 5), (3, 7)):
        for label, k, n in ((f"{depth} × 3x3", 3, depth), (f"1 × {big}x{big}", big, 1)):
            rf = walk([("conv", k, 1, k // 2, c)] * n, size, c)[-1]["receptive_field"]
            weights = n * k * k * c * c
            table.append([label, rf, weights, weights * size * size, n,
                          measured_receptive_field(n, k)])
    return table


def inception_cost(size: int = 28, c_in: int = 192, ch1: int = 64, red3: int = 96,
                   ch3: int = 128, red5: int = 16, ch5: int = 32, proj: int = 32
                   ) -> dict[str, list[int]]:
    """[weights, multiply-adds, output channels] of GoogLeNet's inception 3a, naive and with
    the 1x1 reductions (no biases)."""
    def cost(convs: list[tuple[int, int, int]], out: int) -> list[int]:
        weights = sum(k * k * a * b for k, a, b in convs)
        return [weights, weights * size * size, out]

    return {"naive": cost([(1, c_in, ch1), (3, c_in, ch3), (5, c_in, ch5)],
                          ch1 + ch3 + ch5 + c_in),
            "reduced": cost([(1, c_in, ch1), (1, c_in, red3), (3, red3, ch3), (1, c_in, red5),
                             (5, red5, ch5), (1, c_in, proj)], ch1 + ch3 + ch5 + proj)}


def block_cost(size: int = 56) -> list[list[Any]]:
    """ResNet's basic block (two 3x3) against the bottleneck (1x1, 3x3, 1x1), no biases:
    [block, weights, multiply-adds, receptive field growth]."""
    rows = []
    for label, convs in (("basic, 64-d", [(3, 64, 64), (3, 64, 64)]),
                         ("bottleneck, 256-d", [(1, 256, 64), (3, 64, 64), (1, 64, 256)]),
                         ("basic, 256-d", [(3, 256, 256), (3, 256, 256)])):
        weights = sum(k * k * a * b for k, a, b in convs)
        rows.append([label, weights, weights * size * size, 1 + sum(k - 1 for k, _, _ in convs)])
    return rows


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
    lenet = walk(LENET, 32, 1)
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
    inc = inception_cost()
    ctx.table("inception", ["module", "weights", "multiply-adds", "output channels"],
              [["naive (3a)", *inc["naive"]], ["with 1x1 reductions (3a)", *inc["reduced"]]],
              caption="Inception 3a on a 28x28x192 input: 1x1 reductions before the 3x3 and 5x5 "
                      "convolutions and after the pooling")
    blocks = block_cost()
    ctx.table("resnet_blocks", ["block", "weights", "multiply-adds at 56x56",
                                "receptive field growth"], blocks,
              caption="ResNet's blocks: the bottleneck on 256 channels costs about what the basic "
                      "block costs on 64, and ~17x less than a basic block on 256")
    results: dict[str, Any] = {
        "lenet_c5_receptive_field": lenet[-1]["receptive_field"],
        "two_3x3_over_5x5_params": fact[0][2] / fact[1][2],
        "three_3x3_over_7x7_params": fact[2][2] / fact[3][2],
        "factorized_receptive_fields_equal": fact[0][1] == fact[1][1] and fact[2][1] == fact[3][1],
        "measured_receptive_fields": [r[5] for r in fact],
        "receptive_fields_measured_match": all(r[5] == r[1] for r in fact),
        "inception_naive_macs": inc["naive"][1], "inception_reduced_macs": inc["reduced"][1],
        "inception_saving": inc["naive"][1] / inc["reduced"][1],
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
    axes[1].bar(["naive", "reduced"], [inc["naive"][1] / 1e6, inc["reduced"][1] / 1e6],
                color=["#dd8452", "#4c72b0"])
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
