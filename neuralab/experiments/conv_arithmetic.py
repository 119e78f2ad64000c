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

from dataclasses import dataclass
from typing import Any

from neuralab.autograd import Tensor
from neuralab.backend import manual_seed, xp
from neuralab.diagnostics.summary import summary
from neuralab.experiments.base import Comparison, Experiment, Verdict, judge
from neuralab.models.registry import create, get_entry, list_models
from neuralab.nn import Conv2d, Sequential

# Parameter counts of the reference implementations (torchvision's layouts, 1000 classes;
# GoogLeNet without the auxiliary classifiers and with torchvision's 3x3 "5x5" branch).
PUBLISHED_PARAMS = {"alexnet": 61_100_840, "vgg16": 138_357_544, "googlenet": 6_624_904,
                    "resnet50": 25_557_032}
# Multiply-adds at 224x224 as commonly quoted (conventions differ by a few percent).
PUBLISHED_MACS = {"alexnet": 0.714e9, "vgg16": 15.47e9, "googlenet": 1.50e9, "resnet50": 4.09e9}


@dataclass
class ConvSpec:
    """One layer for the hand arithmetic: a k×k convolution (or pooling when ``pool``)."""

    name: str
    k: int
    s: int = 1
    p: int = 0
    c_out: int = 0
    pool: bool = False
    bias: bool = True


def conv_arithmetic(layers: list[ConvSpec], n: int, c_in: int) -> list[dict[str, Any]]:
    """Walk a chain of layers with the formulas of the module docstring."""
    rows = []
    r, j = 1, 1
    for layer in layers:
        n = (n + 2 * layer.p - layer.k) // layer.s + 1
        r, j = r + (layer.k - 1) * j, j * layer.s
        c_out = c_in if layer.pool else layer.c_out
        params = 0 if layer.pool else (layer.k * layer.k * c_in + int(layer.bias)) * c_out
        macs = 0 if layer.pool else layer.k * layer.k * c_in * c_out * n * n
        rows.append({"layer": layer.name, "output": (c_out, n, n), "receptive_field": r,
                     "jump": j, "params": params, "macs": macs})
        c_in = c_out
    return rows


def factorization(channels: int, size: int) -> list[list[Any]]:
    """VGG's argument: stacks of 3x3 versus one large kernel, same receptive field."""
    table = []
    for depth, big in [(2, 5), (3, 7)]:
        stack = conv_arithmetic([ConvSpec(f"3x3 #{i + 1}", 3, p=1, c_out=channels, bias=False)
                                 for i in range(depth)], size, channels)
        single = conv_arithmetic([ConvSpec(f"{big}x{big}", big, p=big // 2, c_out=channels,
                                           bias=False)], size, channels)
        table.append([f"{depth} × 3x3", stack[-1]["receptive_field"],
                      sum(r["params"] for r in stack), sum(r["macs"] for r in stack), depth])
        table.append([f"1 × {big}x{big}", single[-1]["receptive_field"], single[0]["params"],
                      single[0]["macs"], 1])
    return table


def inception_cost(size: int = 28, c_in: int = 192, ch1: int = 64, red3: int = 96,
                   ch3: int = 128, red5: int = 16, ch5: int = 32, proj: int = 32,
                   k5: int = 5) -> dict[str, dict[str, int]]:
    """Naive versus dimension-reduced Inception (GoogLeNet's inception 3a by default)."""
    area = size * size

    def conv(k: int, cin: int, cout: int) -> tuple[int, int]:
        return k * k * cin * cout, k * k * cin * cout * area  # weights (no bias), MACs

    naive = [conv(1, c_in, ch1), conv(3, c_in, ch3), conv(k5, c_in, ch5)]
    reduced = [conv(1, c_in, ch1), conv(1, c_in, red3), conv(3, red3, ch3), conv(1, c_in, red5),
               conv(k5, red5, ch5), conv(1, c_in, proj)]
    return {
        "naive": {"params": sum(p for p, _ in naive), "macs": sum(m for _, m in naive),
                  "out_channels": ch1 + ch3 + ch5 + c_in},
        "reduced": {"params": sum(p for p, _ in reduced), "macs": sum(m for _, m in reduced),
                    "out_channels": ch1 + ch3 + ch5 + proj},
    }


def block_cost(size: int = 56) -> list[list[Any]]:
    """ResNet's basic block (two 3x3) versus the bottleneck (1x1, 3x3, 1x1), no biases."""
    area = size * size
    rows = []
    for label, convs in [
        ("basic, 64-d", [(3, 64, 64), (3, 64, 64)]),
        ("bottleneck, 256-d", [(1, 256, 64), (3, 64, 64), (1, 64, 256)]),
        ("basic, 256-d", [(3, 256, 256), (3, 256, 256)]),
    ]:
        params = sum(k * k * a * b for k, a, b in convs)
        rows.append([label, params, params * area, 1 + sum(k // 2 * 2 for k, _, _ in convs)])
    return rows


def measured_receptive_field(depth: int, k: int, size: int = 21) -> int | None:
    """The receptive field measured by backpropagation: the input pixels that influence the
    centre output of ``depth`` stacked k×k convolutions."""
    net = Sequential(*[Conv2d(1, 1, k, padding=k // 2, bias=False) for _ in range(depth)])
    for conv in net:
        conv.weight.array[...] = 1.0  # positive weights: no accidental cancellation
    x = Tensor(xp.ones((1, 1, size, size)), requires_grad=True)
    y = net(x)
    mask = xp.zeros(y.shape, dtype=y.dtype)
    mask[0, 0, size // 2, size // 2] = 1
    (y * Tensor(mask)).sum().backward()
    touched = xp.nonzero(x.grad.array[0, 0].any(axis=0))[0]
    return int(touched.max() - touched.min() + 1)


def model_tables(cfg: dict, ctx: Any, layer_rows: dict | None = None
                 ) -> list[list[Any]]:
    """Per-layer tables of the zoo's models via ``summary``; returns the totals.

    The per-layer rows are also stored in ``layer_rows[name]`` when a dict is given."""
    available = set(list_models())
    totals = []
    for wanted in ctx.progress(cfg["models"], desc="models"):
        name = next((n for n in (wanted, wanted.replace("-", ""), wanted.rstrip("5"))
                     if n in available), None)
        if name is None:
            ctx.note(f"{wanted}: not in the model registry yet; skipped.")
            continue
        shape = tuple(get_entry(name).meta.get("input_shape", (3, 224, 224)))
        if cfg["max_input"] and shape[-1] > cfg["max_input"]:
            shape = (shape[0], cfg["max_input"], cfg["max_input"])
        manual_seed(0)
        model = create(name)
        model.eval()
        params = sum(int(p.array.size) for p in model.parameters())
        info = summary(model, shape)
        rows = []
        for row in info.rows:
            size, jump = row.receptive_field.text()[:2] if row.receptive_field else ("-", "-")
            rows.append([row.name, row.type,
                         "x".join(map(str, row.output_shape)) if row.output_shape else "-",
                         row.params, row.macs, size, jump])
        macs = info.total_macs
        if layer_rows is not None:
            layer_rows[name] = rows
        ctx.table(f"layers_{name}", ["layer", "type", "output shape", "params",
                                     "multiply-adds", "receptive field", "jump"], rows,
                  caption=f"{name} at input {shape}: every layer")
        totals.append([name, "x".join(map(str, shape)), params, PUBLISHED_PARAMS.get(name),
                       macs, PUBLISHED_MACS.get(name) if shape[-1] == 224 else None])
        del model
    return totals


def run(cfg: dict, ctx: Any) -> dict:
    results: dict[str, Any] = {}
    # LeNet-5 by hand, as Lecture 11 computes it (32x32 input, C1-S2-C3-S4-C5).
    lenet = conv_arithmetic([ConvSpec("C1 conv 5x5", 5, c_out=6), ConvSpec("S2 pool 2x2", 2, 2,
                             pool=True), ConvSpec("C3 conv 5x5", 5, c_out=16),
                             ConvSpec("S4 pool 2x2", 2, 2, pool=True),
                             ConvSpec("C5 conv 5x5", 5, c_out=120)], 32, 1)
    ctx.table("lenet_by_hand", ["layer", "output (C, H, W)", "receptive field", "jump", "params",
                                "multiply-adds"],
              [[r["layer"], str(r["output"]), r["receptive_field"], r["jump"], r["params"],
                r["macs"]] for r in lenet],
              caption="LeNet-5's feature extractor by the formulas (C5 sees the whole 32x32 "
                      "input: receptive field 32)")
    results["lenet_c5_receptive_field"] = lenet[-1]["receptive_field"]

    fact = factorization(cfg["channels"], cfg["size"])
    for row in fact:
        depth = row[4]
        k = 3 if depth > 1 else int(row[0].split(" × ")[1].split("x")[0])
        row.append(measured_receptive_field(depth, k))
    ctx.table("factorization", ["layers", "receptive field (formula)", "weights",
                                "multiply-adds", "nonlinearities", "receptive field (measured)"],
              fact, caption=f"VGG's factorization, {cfg['channels']} channels in and out, "
                            f"{cfg['size']}x{cfg['size']} maps (measured: the input pixels with a "
                            "non-zero gradient of the centre output)")
    results["two_3x3_over_5x5_params"] = fact[0][2] / fact[1][2]
    results["three_3x3_over_7x7_params"] = fact[2][2] / fact[3][2]
    results["factorized_receptive_fields_equal"] = fact[0][1] == fact[1][1] and \
        fact[2][1] == fact[3][1]
    measured = [r[5] for r in fact]
    results["measured_receptive_fields"] = measured
    results["receptive_fields_measured_match"] = (
        None if any(m is None for m in measured) else measured == [r[1] for r in fact])

    inc = inception_cost()
    ctx.table("inception", ["module", "weights", "multiply-adds", "output channels"],
              [["naive (3a)", inc["naive"]["params"], inc["naive"]["macs"],
                inc["naive"]["out_channels"]],
               ["with 1x1 reductions (3a)", inc["reduced"]["params"], inc["reduced"]["macs"],
                inc["reduced"]["out_channels"]]],
              caption="Inception 3a on a 28x28x192 input: 1x1 reductions before the 3x3 and 5x5 "
                      "convolutions and after the pooling")
    results["inception_naive_macs"] = inc["naive"]["macs"]
    results["inception_reduced_macs"] = inc["reduced"]["macs"]
    results["inception_saving"] = inc["naive"]["macs"] / inc["reduced"]["macs"]

    blocks = block_cost()
    ctx.table("resnet_blocks", ["block", "weights", "multiply-adds at 56x56", "receptive field "
                                "growth"], blocks,
              caption="ResNet's blocks: the bottleneck on 256 channels costs about what the basic "
                      "block costs on 64, and ~17x less than a basic block on 256")
    results["bottleneck_over_basic64_params"] = blocks[1][1] / blocks[0][1]
    results["bottleneck_over_basic256_params"] = blocks[1][1] / blocks[2][1]

    layer_rows: dict[str, list] = {}
    totals = model_tables(cfg, ctx, layer_rows)
    lenet_rows = next((rows for name, rows in layer_rows.items() if name.startswith("lenet")), None)
    if lenet_rows:
        # The summary's first two convolutions against the formulas (C1, C3 above).
        convs = [r for r in lenet_rows if r[1] == "Conv2d"][:2]
        hand = [lenet[0], lenet[2]]
        results["lenet_summary_matches_formulas"] = len(convs) == 2 and all(
            r[4] == h["macs"] and r[3] == h["params"] and str(r[5]) == str(h["receptive_field"])
            for r, h in zip(convs, hand))
    if totals:
        ctx.table("models", ["model", "input", "parameters", "published parameters",
                             "multiply-adds", "published multiply-adds (224x224)"], totals,
                  caption="Totals over the per-layer tables")
        matches = [t[2] == t[3] for t in totals if t[3] is not None]
        results["models_tabulated"] = len(totals)
        results["models_params_match_published"] = all(matches) if matches else None
        for t in totals:
            results[f"{t[0]}_params"] = t[2]
            results[f"{t[0]}_macs"] = t[4]
        if any(t[4] for t in totals):
            _figure_models(ctx, totals)
    else:
        results["models_tabulated"] = 0
    _figure_factorization(ctx, fact, inc, blocks)
    return results


def _figure_factorization(ctx: Any, fact: list, inc: dict, blocks: list) -> None:
    fig, axes = ctx.subplots(1, 3, figsize=(15, 4))
    axes[0].bar([r[0] for r in fact], [r[2] for r in fact],
                color=["#4c72b0", "#dd8452"] * 2)
    axes[0].set_title("weights: 3x3 stacks vs one large kernel")
    axes[1].bar(["naive", "reduced"], [inc["naive"]["macs"] / 1e6, inc["reduced"]["macs"] / 1e6],
                color=["#dd8452", "#4c72b0"])
    axes[1].set_ylabel("million multiply-adds")
    axes[1].set_title("Inception 3a")
    axes[2].bar([r[0] for r in blocks], [r[2] / 1e6 for r in blocks],
                color=["#4c72b0", "#55a868", "#dd8452"])
    axes[2].set_ylabel("million multiply-adds")
    axes[2].set_title("ResNet blocks at 56x56")
    for ax in axes:
        ax.tick_params(axis="x", labelsize=8)
    ctx.figure("design_costs", fig, "The cost arguments of VGG, GoogLeNet and ResNet.")


def _figure_models(ctx: Any, totals: list) -> None:
    fig, ax = ctx.subplots(figsize=(7, 4.5))
    for name, _, params, _, macs, _ in totals:
        if not macs:
            continue
        ax.scatter(max(macs, 1), params, s=60)
        ax.annotate(name, (max(macs, 1), params), textcoords="offset points", xytext=(5, 5))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("multiply-adds per image")
    ax.set_ylabel("parameters")
    ax.set_title("the model zoo: computation versus size")
    ctx.figure("models", fig, "Parameters against multiply-adds for the models tabulated.")


def verdict(results: dict, cfg: dict) -> Verdict:
    """Stacked 3x3 convs: the receptive field of the large kernel (by formula and by backprop)
    with fewer weights; 1x1 reductions make Inception 3a over 2x cheaper; a bottleneck on 256
    channels costs within 20% of a basic block on 64; the zoo's counts match the published."""
    def agrees(key: str) -> int:  # None: not checked in this run, which is no disagreement
        return int(results.get(key) is not False)

    return judge([
        Comparison("two 3x3 convs' weights / one 5x5's", results["two_3x3_over_5x5_params"],
                   "<", "1", 1.0, bound=True, fmt=".0%"),
        Comparison("three 3x3 convs' weights / one 7x7's", results["three_3x3_over_7x7_params"],
                   "<", "1", 1.0, bound=True, fmt=".0%"),
        Comparison("stacks whose receptive field equals the large kernel's (by formula)",
                   int(bool(results["factorized_receptive_fields_equal"])), "==", "both", 1,
                   bound=True, fmt="d"),
        Comparison("receptive fields confirmed by backprop", agrees(
            "receptive_fields_measured_match"), "==", "yes", 1, bound=True, fmt="d"),
        Comparison("Inception 3a: naive cost / reduced cost", results["inception_saving"], ">",
                   "2x", 2.0, bound=True, fmt=".1f"),
        Comparison("bottleneck(256) / basic block(64) parameters",
                   results["bottleneck_over_basic64_params"], ">", "0.8", 0.8, bound=True,
                   fmt=".2f"),
        Comparison("bottleneck(256) / basic block(64) parameters",
                   results["bottleneck_over_basic64_params"], "<", "1.2", 1.2, bound=True,
                   fmt=".2f"),
        Comparison(f"zoo parameter counts match the published ({results['models_tabulated']} "
                   "models)", agrees("models_params_match_published"), "==", "yes", 1,
                   bound=True, fmt="d"),
        Comparison("LeNet summary matches the formulas",
                   agrees("lenet_summary_matches_formulas"), "==", "yes", 1, bound=True,
                   fmt="d")])


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
