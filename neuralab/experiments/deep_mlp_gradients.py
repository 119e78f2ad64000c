"""Lecture 15: in a deep network the gradient is a product of one Jacobian per layer, so it
vanishes or explodes unless the activation function and the initial weights keep its scale.

Backpropagation through an MLP h_l = φ(z_l), z_l = W_l h_{l−1} + b_l computes

    h̄_{l−1} = W_lᵀ (φ'(z_l) ⊙ h̄_l),        W̄_l = (φ'(z_l) ⊙ h̄_l) h_{l−1}ᵀ,

so the signal reaching the first layer has been multiplied by L − 1 matrices W_lᵀ diag(φ'(z_l)).
Each factor scales its input's norm by about σ_w √fan · E[φ'] : with a sigmoid (φ' ≤ 1/4) and
weights N(0, 0.01²) on 128 units that is 0.01 · 11 · 0.25 ≈ 0.03 per layer, 10⁻²⁹ after twenty
layers: the first layers receive no gradient at all. Glorot & Bengio (2010) chose
Var(w) = 2 / (fan_in + fan_out) so that activations and gradients keep their variance for a
unit-slope activation such as tanh near 0; He et al. (2015) showed that a ReLU, which zeroes half
of its inputs, needs Var(w) = 2 / fan_in. A ``diagnostics.Recorder`` measures ‖W̄_l‖ and the
activations of every layer on a fixed batch, at initialization and after a short training.
"""

from __future__ import annotations

import math
from typing import Any

from neuralab.autograd import Tensor
from neuralab.backend import manual_seed, xp
from neuralab.data import DataLoader
from neuralab.data.arrays import dataset_arrays
from neuralab.diagnostics.recorder import Recorder, plot_layer_histograms
from neuralab.experiments.toolkit import load_mnist, mnist_source, train_steps
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.nn import Flatten, Linear, ReLU, Sequential, Sigmoid, Tanh
from neuralab.nn import init as nninit
from neuralab.optim import SGD
from neuralab.plotting import plot_smoothed
from neuralab.train import LossRecorder, Trainer
from neuralab.train.metrics import evaluate

ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU}
INITS = {"small": lambda w, std: nninit.normal_(w, 0.0, std),  # N(0, std²)
         "xavier": lambda w, std: nninit.xavier_normal_(w),  # normal, gain 1 (Glorot & Bengio)
         "he": lambda w, std: nninit.kaiming_normal_(w, nonlinearity="relu")}  # fan_in, gain √2
INIT_LABELS = {"small": "N(0, 0.01²)", "xavier": "Xavier (Glorot)", "he": "He (Kaiming)"}
COLOURS = {"small": "#c44e52", "xavier": "#4c72b0", "he": "#55a868"}
FINAL = 10**9  # the recorder's step number for the measurement after training


def build_mlp(depth: int, width: int, activation: str, init: str, small_std: float) -> Any:
    """A ``depth``-layer MLP 784 → width → … → width → 10 (``depth`` Linear layers) with the
    activation and the initial weights of ``INITS`` (``small``: N(0, small_std²)), zero biases."""
    for name, value, choices in (("activation", activation, ACTIVATIONS), ("init", init, INITS)):
        if value not in choices:
            raise ValueError(f"deep-mlp-gradients: {name} must be one of {list(choices)}, got "
                             f"{value!r}")
    if depth < 2 or width < 1:
        raise ValueError(f"deep-mlp-gradients: depth must be ≥ 2 and width ≥ 1, got depth={depth}, "
                         f"width={width}")
    sizes = [28 * 28] + [width] * (depth - 1) + [10]
    layers: list[Any] = [Flatten()]
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(Linear(n_in, n_out))
        INITS[init](layers[-1].weight, small_std)
        nninit.zeros_(layers[-1].bias)
        if i < depth - 1:
            layers.append(ACTIVATIONS[activation]())
    return Sequential(*layers)


def run_one(cfg: dict, activation: str, init: str, data: dict, ctx: Any) -> dict:
    """Build, measure at initialization, train, and measure again one (activation, init) pair."""
    manual_seed(ctx.seed)
    model = build_mlp(cfg["depth"], cfg["width"], activation, init, cfg["small_std"])
    rec = Recorder(model, steps={0, FINAL}, vanish_ratio=cfg["vanish_ratio"],
                   histogram_samples=cfg["histogram_samples"])
    probe_loss = rec.probe(*data["probe"], 0)  # the hooks stay idle while training
    loader = DataLoader(data["train"], batch_size=cfg["batch_size"], shuffle=True, seed=ctx.seed)
    label = {"activation": activation, "init": init}
    losses = LossRecorder(lambda step, loss: ctx.log("train", step=step, **label, loss=loss),
                          every=max(1, cfg["steps"] // 100))
    trainer = Trainer(model, SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"]),
                      progress=ctx.show_progress, log=None, topk=(1,), callbacks=[losses])
    if not train_steps(trainer, loader, cfg["steps"]):
        losses.losses.append(math.inf)  # the step whose loss was no longer finite
    rec.probe(*data["probe"], FINAL)
    rec.detach()
    weights = [name for name, p in model.named_parameters() if p.ndim >= 2]
    hidden = [name for name, m in model.named_modules() if isinstance(m, (Sigmoid, Tanh, ReLU))]
    run = {"losses": losses.losses, "probe_loss_init": probe_loss, "flags_init": rec.diagnose(0),
           "final_train_loss": float(xp.mean(losses.losses[-20:])),
           "test_accuracy": evaluate(model, *data["test"], batch_size=1000, topk=(1,))["acc1"]}
    for when, step in (("init", 0), ("trained", FINAL)):
        norms = rec.gradient_norms(step)
        run[f"grad_norms_{when}"] = [norms.get(name, 0.0) for name in weights]
        for layer, name in enumerate(weights, start=1):
            ctx.log("grad_norms", **label, when=when, layer=layer, param=name,
                    norm=norms.get(name, 0.0))
        ratio = rec.weight_gradient_ratio(step)
        run[f"ratio_{when}"] = math.nan if ratio is None else float(ratio)
        run[f"samples_{when}"] = [rec.samples[step][name] for name in hidden]  # for histograms
    return run


def run(cfg: dict, ctx: Any) -> dict:
    train, test, is_subset = load_mnist(cfg, "deep-mlp-gradients")
    n_test = min(cfg["eval_examples"], len(test))
    data = {"train": train, "test": dataset_arrays(test, slice(n_test)),
            "probe": tuple(map(Tensor, dataset_arrays(train, slice(cfg["probe_examples"]))))}
    runs = {(activation, init): run_one(cfg, activation, init, data, ctx)
            for activation in cfg["activations"] for init in cfg["inits"]}

    ctx.table("summary", ["activation", "initialization", "‖W̄_1‖ / ‖W̄_L‖ at init",
                          "‖W̄_1‖ / ‖W̄_L‖ after training", "loss at init",
                          "train loss (last 20 steps)", "test accuracy"],
              [[activation, INIT_LABELS[init], r["ratio_init"], r["ratio_trained"],
                r["probe_loss_init"], r["final_train_loss"], r["test_accuracy"]]
               for (activation, init), r in runs.items()],
              caption=f"A {cfg['depth']}-layer MLP ({cfg['width']} units per hidden layer), "
                      f"SGD lr {cfg['lr']} momentum {cfg['momentum']}, {cfg['steps']} steps of "
                      f"batch {cfg['batch_size']}; test accuracy on {n_test} test images "
                      "(chance: 10%).")
    figures(ctx, cfg, runs)
    results: dict[str, Any] = {"data_is_subset": is_subset}
    for (activation, init), r in runs.items():
        for flag in r["flags_init"]:
            ctx.note(f"**{activation}, {INIT_LABELS[init]}** at initialization: "
                     f"{flag['message']}.")
        results[f"{activation}_{init}_ratio_init"] = r["ratio_init"]
        results[f"{activation}_{init}_test_accuracy"] = r["test_accuracy"]
        results[f"{activation}_{init}_vanishing_flag"] = any(f["kind"] == "vanishing"
                                                             for f in r["flags_init"])
    ctx.note(mnist_source(is_subset))
    return results


def figures(ctx: Any, cfg: dict, runs: dict) -> None:
    activations, inits = cfg["activations"], cfg["inits"]
    tiny = 1e-45  # float32's smallest subnormal: an exactly-zero gradient is drawn at the floor
    fig, axes = ctx.subplots(1, len(activations), figsize=(4.6 * len(activations), 3.9),
                             squeeze=False)
    for ax, activation in zip(axes[0], activations):
        for init in inits:
            r = runs[(activation, init)]
            layers = range(1, len(r["grad_norms_init"]) + 1)
            ax.plot(layers, [max(v, tiny) for v in r["grad_norms_init"]], "-o", ms=3,
                    color=COLOURS[init], label=f"{INIT_LABELS[init]}, init")
            ax.plot(layers, [max(v, tiny) for v in r["grad_norms_trained"]], "--", ms=3,
                    color=COLOURS[init], alpha=0.7, label="  after training")
        ax.set(yscale="log", xlabel="layer l (1 = input side)", ylabel="‖∂L/∂W_l‖",
               title=activation)
        ax.legend(fontsize=7)
    fig.tight_layout()
    ctx.figure("gradient_norms", fig, "Gradient norm of every layer's weights at initialization "
               "(solid) and after training (dashed). A falling line from right to left is a "
               "vanishing gradient: backpropagation multiplies by one Jacobian per layer.")

    for when in ("init", "trained"):
        fig, axes = ctx.subplots(len(activations), len(inits), squeeze=False,
                                 figsize=(3.6 * len(inits), 2.7 * len(activations)))
        for ((activation, init), r), ax in zip(runs.items(), axes.ravel()):
            plot_layer_histograms(ax, r[f"samples_{when}"],
                                  value_range=(0.0, 1.0) if activation == "sigmoid" else None)
            ax.set_title(f"{activation}, {INIT_LABELS[init]}", fontsize=9)
            ax.tick_params(labelsize=7)
            ax.set_yticks([])
        axes[0][0].legend(fontsize=6)
        fig.suptitle("activation histograms " + ("at initialization" if when == "init" else
                                                  "after training"))
        fig.tight_layout()
        ctx.figure(f"activations_{when}", fig, "Distribution of the outputs of hidden layers "
                   "1, L/4, L/2, 3L/4 and L−1 (colour: depth). With small weights sigmoid units "
                   "sit at 0.5 and tanh units at 0; saturated units pile up at the bounds.")

    fig, ax = ctx.subplots(figsize=(8, 4.2))
    for (activation, init), r in runs.items():
        plot_smoothed(ax, r["losses"], max(1, len(r["losses"]) // 50), color=COLOURS[init],
                      label=f"{activation}, {INIT_LABELS[init]}",
                      ls={"sigmoid": ":", "tanh": "--", "relu": "-"}[activation])
    ax.axhline(math.log(10), color="gray", lw=0.8)
    ax.set(xlabel="step", ylabel="training loss (moving average)",
           title=f"training a {cfg['depth']}-layer MLP: only well-scaled networks learn")
    ax.legend(fontsize=7, ncol=3)
    ctx.figure("training", fig, "Training loss; the grey line is log 10, the loss of a uniform "
               "guess.")


def verdict(results: dict, cfg: dict) -> Verdict:
    """Sigmoid + N(0, 0.01²): the first layer's gradient below vanish_ratio² of the last's;
    ReLU + He: the ratio within [1e-2, 1e2]; ReLU/He trains (> 50% and 20 points above)."""
    keys = ("sigmoid_small_ratio_init", "relu_he_ratio_init", "relu_he_test_accuracy",
            "sigmoid_small_test_accuracy")
    if any(k not in results for k in keys):
        return Verdict(False, "the run did not include both sigmoid with N(0, 0.01²) and ReLU "
                              "with He initialization", "not shown at this scale")
    small, he = float(results[keys[0]]), float(results[keys[1]])
    acc, small_acc = float(results[keys[2]]), float(results[keys[3]])
    return judge([
        Comparison("first/last gradient-norm ratio, sigmoid N(0, 0.01²)", small, "<",
                   "vanish_ratio²", cfg["vanish_ratio"] ** 2, bound=True, fmt=".1e"),
        Comparison("first/last gradient-norm ratio, ReLU He", he, ">=", "1e-2", 1e-2,
                   bound=True, fmt=".2f"),
        Comparison("first/last gradient-norm ratio, ReLU He", he, "<=", "1e2", 1e2, bound=True,
                   fmt=".2f"),
        Comparison("ReLU/He test accuracy", acc, ">", "50%", 0.5, bound=True, fmt=".1%"),
        Comparison("ReLU/He test accuracy", acc, ">", "sigmoid/small's + 20 points",
                   small_acc + 0.2, fmt=".1%")])


EXPERIMENT = Experiment(
    name="deep-mlp-gradients",
    lecture="L15",
    title="Vanishing gradients in a 20-layer MLP: activation functions and initialization",
    claim="In a 20-layer sigmoid MLP with small random weights the gradient reaching the first "
          "layer vanishes (≪ 10⁻⁶ of the last layer's) and the network does not learn; ReLU with "
          "He initialization keeps every layer's gradient of the same order and trains.",
    run=run,
    verdict=verdict,
    defaults={"activations": list(ACTIVATIONS), "inits": list(INITS), "depth": 20,
              "width": 256, "small_std": 0.01, "steps": 1000, "batch_size": 128, "lr": 0.01,
              "momentum": 0.9, "probe_examples": 512, "eval_examples": 10000,
              "histogram_samples": 3000, "vanish_ratio": 1e-3, "data": "auto",
              "data_root": "", "download": False, "threads": 1},
    quick={"width": 128, "steps": 200, "batch_size": 64, "probe_examples": 256,
           "eval_examples": 1000, "histogram_samples": 1000, "data": "subset"},
    runtime="5 min",
    setup="A {depth}-layer MLP on MNIST (784 → {width} × {depth}−1 → 10) for each activation "
          "{activations} and each initialization {inits} (small = N(0, {small_std}²), Xavier = "
          "N(0, 2/(fan_in + fan_out)), He = N(0, 2/fan_in); zero biases). Gradient norms and "
          "activation histograms are recorded on a fixed batch of {probe_examples} training "
          "images at initialization and after {steps} steps of SGD (lr {lr}, momentum "
          "{momentum}, batch {batch_size}). Data: {data}.",
)
