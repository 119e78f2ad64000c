"""Lecture 5: a single linear unit cannot compute XOR; a network with one hidden layer can.

XOR's points (0,0)→0, (0,1)→1, (1,0)→1, (1,1)→0 are not linearly separable: a threshold unit
[w·x + b > 0] would need b ≤ 0, w₁ + b > 0, w₂ + b > 0 and w₁ + w₂ + b ≤ 0, but the middle two
sum to w₁ + w₂ + 2b > 0, so w₁ + w₂ + b > −b ≥ 0. At most 3 of the 4 points (75%) can be right.
A hidden layer maps the inputs to features where the classes are linearly separable, and the
output unit separates them there."""

from __future__ import annotations

from functools import partial
from typing import Any

from neuralab.autograd import Tensor, no_grad
from neuralab.backend import manual_seed, xp
from neuralab.experiments.toolkit import log_curve
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.nn import Linear, Sequential, Tanh
from neuralab.ops.elementwise import softplus
from neuralab.optim import Adam
from neuralab.plotting import plot_decision_regions
from neuralab.train import fit

X = xp.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
T = xp.array([0.0, 1.0, 1.0, 0.0])
X_WITH_BIAS = xp.concatenate([X, xp.ones((4, 1))], axis=1)  # the bias as a constant input


def perceptron(epochs: int) -> Any:
    """The weights (w₁, w₂, b) after ``epochs`` epochs of the perceptron rule w ← w + (t − y)·x
    (Lecture 3), written out: it is not a gradient step (the threshold has no useful gradient)."""
    w = xp.zeros(3)
    for _ in range(epochs):
        for xi, ti in zip(X_WITH_BIAS, T):
            w = w + (ti - float(xi @ w > 0)) * xi
    return w


def train(model: Any, cfg: dict, ctx: Any, series: str, **fields: Any) -> float:
    """Full-batch Adam, one step an epoch, on the cross-entropy of σ(z), written stably as
    log(1 + e^z) − t·z; logs the curve and returns the final loss."""
    result = fit(model, [(Tensor(X), Tensor(T.reshape(-1, 1)))], epochs=cfg["steps"],
                 optimizer=Adam(model.parameters(), lr=cfg["lr"]), progress=False, log=None,
                 loss_fn=lambda z, t: (softplus(z) - t * z).mean())
    log_curve(ctx, series, [r["loss"] for r in result.history], **fields)
    return result.history[-1]["loss"]


def logits(model: Any, points: Any) -> Any:
    with no_grad():
        return model(Tensor(points)).array.reshape(-1)


def accuracy(z: Any) -> float:
    """The fraction of the four points whose score z has XOR's sign (z > 0 ⇔ predicts 1)."""
    return float(((z > 0) == T).mean())


def run(cfg: dict, ctx: Any) -> dict:
    # 1. A linear threshold unit trained by the perceptron rule, and many random (w, b) ~ N(0, 1).
    w = perceptron(cfg["perceptron_epochs"])
    random_w = xp.random.default_rng(ctx.seed).standard_normal((cfg["random_linear_units"], 3))
    best_random = float(((random_w @ X_WITH_BIAS.T > 0) == T.astype(bool)).mean(axis=1).max())
    # 2. A logistic unit (linear + sigmoid) trained by gradient descent on cross-entropy.
    manual_seed(ctx.seed)
    logistic = Linear(2, 1)
    train(logistic, cfg, ctx, "logistic_train")
    # 3. Two-layer MLPs from several seeds; the most accurate (then lowest loss) is kept.
    mlps, mlp_loss = [], []
    for restart in ctx.progress(range(cfg["restarts"]), desc="MLP restarts"):
        manual_seed(ctx.seed + restart)
        mlps.append(Sequential(Linear(2, cfg["hidden"]), Tanh(), Linear(cfg["hidden"], 1)))
        mlp_loss.append(train(mlps[-1], cfg, ctx, "mlp_train", restart=restart))
    mlp_acc = [accuracy(logits(m, X)) for m in mlps]
    best = int(xp.argmax(xp.array(mlp_acc) - 1e-6 * xp.array(mlp_loss)))
    units = {"linear threshold unit (perceptron)": lambda points: points @ w[:2] + w[2],
             "logistic unit": partial(logits, logistic),
             "two-layer MLP": partial(logits, mlps[best])}
    fig, axes = ctx.subplots(1, 3, figsize=(13, 4.2))
    for ax, (title, decision) in zip(axes, units.items()):
        plot_decision_regions(ax, decision, (-0.5, 1.5), (-0.5, 1.5))
        ax.scatter(*X[T == 1].T, s=160, c="#d62728", marker="o", edgecolors="k", zorder=3)
        ax.scatter(*X[T == 0].T, s=160, c="#1f77b4", marker="s", edgecolors="k", zorder=3)
        ax.set(title=title, xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
    fig.tight_layout()  # the equal aspect leaves no room for the y labels otherwise
    ctx.figure("decision_boundaries", fig, "Decision regions (orange: predicts 1) and boundary; "
               "red circles are XOR = 1, blue squares XOR = 0.")
    return {"perceptron_accuracy": accuracy(units["linear threshold unit (perceptron)"](X)),
            "best_random_linear_accuracy": best_random,
            "logistic_accuracy": accuracy(logits(logistic, X)), "mlp_accuracy": mlp_acc[best]}


def verdict(results: dict, cfg: dict) -> Verdict:
    """The best linear unit at most 75% (3 of 4 points); the MLP at 100%."""
    linear = max(results["perceptron_accuracy"], results["logistic_accuracy"],
                 results["best_random_linear_accuracy"])
    return judge([Comparison("best linear unit's accuracy", linear, "<=", "the 3-of-4 limit",
                             0.75, bound=True, fmt=".0%"),
                  Comparison("two-layer MLP's accuracy", results["mlp_accuracy"], "==",
                             "all four points", 1.0, bound=True, fmt=".0%"),
                  Comparison("MLP's accuracy", results["mlp_accuracy"], ">",
                             "the best linear unit's", linear, fmt=".0%")])


EXPERIMENT = Experiment(
    name="xor",
    lecture="L5",
    title="XOR: linear units versus a two-layer network",
    claim="A single linear unit cannot represent XOR (at most 75% accuracy); an MLP with one "
          "hidden layer can (100%).",
    run=run,
    verdict=verdict,
    defaults={"hidden": 4, "steps": 2000, "lr": 0.05, "restarts": 10, "perceptron_epochs": 50,
              "random_linear_units": 100000},
    quick={"steps": 600, "restarts": 3, "random_linear_units": 20000},
    runtime="10 s",
    setup="The four XOR points. A linear threshold unit trained by the perceptron rule for "
          "{perceptron_epochs} epochs; {random_linear_units} random linear units; a logistic unit "
          "and a 2-{hidden}-1 tanh MLP trained on the logistic cross-entropy with full-batch "
          "Adam (lr {lr}, {steps} steps), {restarts} MLP seeds.",
)
