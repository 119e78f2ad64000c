"""Lecture 15: in a deep network the gradient is a product of one Jacobian per layer, so it
vanishes or explodes unless the activation function and the initial weights keep its scale.

Each factor W_lᵀ diag(φ'(z_l)) multiplies it by about σ_w √fan · E[φ']: 0.03 for a sigmoid
(φ' ≤ 1/4) with N(0, 0.01²) weights on 128 units, 10⁻²⁹ over twenty layers. Glorot & Bengio's
Var(w) = 2 / (fan_in + fan_out) keeps tanh's scale; a ReLU needs He et al.'s 2 / fan_in.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd import Tensor
from neuralab.backend import manual_seed
from neuralab.data import DataLoader
from neuralab.data.arrays import dataset_arrays
from neuralab.diagnostics.recorder import Recorder
from neuralab.experiments.toolkit import load_mnist, mnist_source, train_steps
from neuralab.lab import NOT_SHOWN, Comparison, Experiment, Verdict, judge
from neuralab.nn import Flatten, Linear, ReLU, Sequential, Sigmoid, Tanh
from neuralab.nn import init as nninit
from neuralab.optim import SGD
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
        raise ValueError(f"deep-mlp-gradients: need depth ≥ 2, width ≥ 1; got {depth}, {width}")
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
    rec = Recorder(model, steps={0, FINAL}, vanish_ratio=cfg["vanish_ratio"])
    rec.probe(*data["probe"], 0)  # the hooks stay idle while training
    loader = DataLoader(data["train"], batch_size=cfg["batch_size"], shuffle=True, seed=ctx.seed)
    label = {"activation": activation, "init": init}
    losses = LossRecorder(lambda step, loss: ctx.log("train", step=step, **label, loss=loss),
                          every=max(1, cfg["steps"] // 100))
    trainer = Trainer(model, SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"]),
                      progress=ctx.show_progress, log=None, topk=(1,), callbacks=[losses])
    train_steps(trainer, loader, cfg["steps"])  # a diverged run stops early and is measured
    rec.probe(*data["probe"], FINAL)
    rec.detach()
    weights = [name for name, p in model.named_parameters() if p.ndim >= 2]
    run = {"ratio_init": float(rec.weight_gradient_ratio(0)),  # depth ≥ 2: never None
           "vanishing_flag": any(flag["kind"] == "vanishing" for flag in rec.diagnose(0)),
           "test_accuracy": evaluate(model, *data["test"], batch_size=1000, topk=(1,))["acc1"]}
    for when, step in (("init", 0), ("trained", FINAL)):
        run[when] = norms = [rec.gradient_norms(step).get(name, 0.0) for name in weights]
        for layer, (name, norm) in enumerate(zip(weights, norms), start=1):
            ctx.log("grad_norms", **label, when=when, layer=layer, param=name, norm=norm)
    return run


def run(cfg: dict, ctx: Any) -> dict:
    train, test, is_subset = load_mnist(cfg, "deep-mlp-gradients")
    data = {"train": train, "test": dataset_arrays(test, slice(cfg["eval_examples"])),
            "probe": tuple(map(Tensor, dataset_arrays(train, slice(cfg["probe_examples"]))))}
    runs = {(activation, init): run_one(cfg, activation, init, data, ctx)
            for activation in cfg["activations"] for init in cfg["inits"]}
    figures(ctx, cfg, runs)
    ctx.note(mnist_source(is_subset))
    return {"data_is_subset": is_subset, **{
        f"{activation}_{init}_{key}": r[key] for (activation, init), r in runs.items()
        for key in ("ratio_init", "test_accuracy", "vanishing_flag")}}


def figures(ctx: Any, cfg: dict, runs: dict) -> None:
    tiny = 1e-45  # float32's smallest subnormal: an exactly-zero gradient is drawn at the floor
    columns = len(cfg["activations"])
    fig, axes = ctx.subplots(1, columns, figsize=(4.6 * columns, 3.9), squeeze=False)
    for ax, activation in zip(axes[0], cfg["activations"]):
        for init in cfg["inits"]:
            for when, style, alpha, label in (("init", "-o", 1.0, f"{INIT_LABELS[init]}, init"),
                                              ("trained", "--", 0.7, "  after training")):
                norms = runs[(activation, init)][when]
                ax.plot(range(1, len(norms) + 1), [max(v, tiny) for v in norms], style, ms=3,
                        color=COLOURS[init], alpha=alpha, label=label)
        ax.set(yscale="log", xlabel="layer l (1 = input side)", ylabel="‖∂L/∂W_l‖",
               title=activation)
        ax.legend(fontsize=7)
    fig.tight_layout()
    ctx.figure("gradient_norms", fig, "Gradient norm of every layer's weights at initialization "
               "(solid) and after training (dashed). A falling line from right to left is a "
               "vanishing gradient: backpropagation multiplies by one Jacobian per layer.")


def verdict(results: dict, cfg: dict) -> Verdict:
    """Sigmoid + N(0, 0.01²): the first layer's gradient below vanish_ratio² of the last's;
    ReLU + He: the ratio within [1e-2, 1e2]; ReLU/He trains (> 50% and 20 points above)."""
    keys = ("sigmoid_small_ratio_init", "relu_he_ratio_init", "relu_he_test_accuracy",
            "sigmoid_small_test_accuracy")
    if any(k not in results for k in keys):
        return Verdict(False, "the run lacks sigmoid with N(0, 0.01²) or ReLU with He", NOT_SHOWN)
    small, he, acc, small_acc = (float(results[k]) for k in keys)
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
    defaults={"activations": list(ACTIVATIONS), "inits": list(INITS), "depth": 20, "width": 256,
              "small_std": 0.01, "steps": 1000, "batch_size": 128, "lr": 0.01, "momentum": 0.9,
              "probe_examples": 512, "eval_examples": 10000, "vanish_ratio": 1e-3,
              "data": "auto", "data_root": "", "download": False, "threads": 1},
    quick={"width": 128, "steps": 200, "batch_size": 64, "probe_examples": 256,
           "eval_examples": 1000, "data": "subset"},
    runtime="5 min",
    setup="A {depth}-layer MLP on MNIST (784 → {width} × {depth}−1 → 10) for each activation "
          "{activations} and each initialization {inits} (small = N(0, {small_std}²), Xavier = "
          "N(0, 2/(fan_in + fan_out)), He = N(0, 2/fan_in); zero biases). Gradient norms on a "
          "fixed batch of {probe_examples} training images at initialization and after {steps} "
          "steps of SGD (lr {lr}, momentum {momentum}, batch {batch_size}). Data: {data}.",
)
