"""Lecture 5: a single linear unit cannot compute XOR; a network with one hidden layer can.

XOR's four points (0,0)→0, (0,1)→1, (1,0)→1, (1,1)→0 are not linearly separable: a linear
threshold unit ``y = [w·x + b > 0]`` would need b ≤ 0, w₂ + b > 0, w₁ + b > 0 and w₁ + w₂ + b ≤ 0,
but adding the middle two gives w₁ + w₂ + 2b > 0, so w₁ + w₂ + b > −b ≥ 0, a contradiction. At
most three of the four points can be right (75%). A hidden layer maps the inputs into a feature
space where the classes are linearly separable, and the output unit separates them there.
"""

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


def perceptron(x: Any, t: Any, epochs: int) -> tuple[Any, list[float]]:
    """The perceptron rule w ← w + (t − y)·x (Lecture 3) on a linear threshold unit: the
    weights (w₁, w₂, b) and the accuracy after each epoch. Written out rather than run by
    ``Trainer``: the rule is not a gradient step (the threshold has no useful gradient)."""
    xb = xp.concatenate([x, xp.ones((len(x), 1))], axis=1)  # the bias as a constant input
    w, history = xp.zeros(3), []
    for _ in range(epochs):
        for xi, ti in zip(xb, t):
            w = w + (ti - float(xi @ w > 0)) * xi
        history.append(float(((xb @ w > 0) == t).mean()))
    return w, history


def best_linear_accuracy(x: Any, t: Any, samples: int, seed: int) -> float:
    """The best accuracy of ``samples`` random linear threshold units (w, b) ~ N(0, 1)."""
    w = xp.random.default_rng(seed).standard_normal((samples, 3))
    predictions = w @ xp.concatenate([x, xp.ones((len(x), 1))], axis=1).T > 0  # (samples, 4)
    return float((predictions == t.astype(bool)).mean(axis=1).max())


def logistic_cross_entropy(z: Any, t: Any) -> Any:
    """−t log σ(z) − (1 − t) log(1 − σ(z)) = log(1 + e^z) − t·z, averaged over the points."""
    return (softplus(z) - t * z).mean()


def train(model: Any, cfg: dict) -> list[float]:
    """Full-batch Adam through ``Trainer`` (one epoch = one step on the four points); the loss
    of every step."""
    points = [(Tensor(X), Tensor(T.reshape(-1, 1)))]
    result = fit(model, points, optimizer=Adam(model.parameters(), lr=cfg["lr"]),
                 loss_fn=logistic_cross_entropy, epochs=cfg["steps"], progress=False, log=None)
    return [r["loss"] for r in result.history]


def logits(model: Any, points: Any) -> Any:
    with no_grad():
        return model(Tensor(points)).array.reshape(-1)


def accuracy(z: Any) -> float:
    """The fraction of the four points whose logit z has XOR's sign (z > 0 ⇔ predicts 1)."""
    return float(((z > 0) == T).mean())


def run(cfg: dict, ctx: Any) -> dict:
    # 1. A linear threshold unit with the perceptron rule, and the best of many random units.
    w_perc, hist_perc = perceptron(X, T, cfg["perceptron_epochs"])
    best_random = best_linear_accuracy(X, T, cfg["random_linear_units"], ctx.seed)
    # 2. A logistic unit (linear + sigmoid) trained by gradient descent on cross-entropy.
    manual_seed(ctx.seed)
    logistic = Linear(2, 1)
    loss_logistic = train(logistic, cfg)
    # 3. Two-layer MLPs from several seeds.
    mlps, mlp_loss = [], []
    for restart in ctx.progress(range(cfg["restarts"]), desc="MLP restarts"):
        manual_seed(ctx.seed + restart)
        mlps.append(Sequential(Linear(2, cfg["hidden"]), Tanh(), Linear(cfg["hidden"], 1)))
        losses = train(mlps[-1], cfg)
        log_curve(ctx, "mlp_train", losses, restart=restart)
        mlp_loss.append(losses[-1])
    log_curve(ctx, "logistic_train", loss_logistic)
    mlp_acc = [accuracy(logits(m, X)) for m in mlps]
    best = int(xp.argmax(xp.array(mlp_acc) - 1e-6 * xp.array(mlp_loss)))
    results = {"perceptron_accuracy": hist_perc[-1], "best_random_linear_accuracy": best_random,
               "logistic_accuracy": accuracy(logits(logistic, X)),
               "logistic_final_loss": loss_logistic[-1], "mlp_accuracy": mlp_acc[best],
               "mlp_final_loss": mlp_loss[best],
               "mlp_restarts_solved": sum(a == 1.0 for a in mlp_acc)}
    ctx.table("accuracy", ["model", "accuracy on the 4 XOR points", "final loss"], [
        ["linear threshold unit (perceptron rule)", results["perceptron_accuracy"], None],
        [f"best of {cfg['random_linear_units']} random linear units", best_random, None],
        ["logistic unit (gradient descent)", results["logistic_accuracy"], loss_logistic[-1]],
        [f"MLP 2-{cfg['hidden']}-1 tanh (best of {cfg['restarts']})", mlp_acc[best],
         mlp_loss[best]],
    ], caption="No linear unit gets more than 3 of the 4 points; the MLP gets all 4.")
    ctx.note(f"{results['mlp_restarts_solved']} of {cfg['restarts']} MLP restarts reached 100% "
             f"accuracy; a hidden layer of {cfg['hidden']} tanh units, {cfg['steps']} full-batch "
             f"Adam steps (lr {cfg['lr']}).")

    # Figures: the decision regions, the hidden layer's view, the linear models' training.
    fig, axes = ctx.subplots(1, 3, figsize=(13, 4.2))
    for ax, title, decision in zip(axes, ["linear threshold unit (perceptron)", "logistic unit",
                                          "two-layer MLP"],
                                   [lambda p: p @ w_perc[:2] + w_perc[2],
                                    partial(logits, logistic), partial(logits, mlps[best])]):
        plot_decision_regions(ax, decision, (-0.5, 1.5), (-0.5, 1.5))
        draw_points(ax, X, zorder=3)
        ax.set(title=title, xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
    fig.tight_layout()  # the equal aspect leaves no room for the y labels otherwise
    ctx.figure("decision_boundaries", fig, "Decision regions (orange: predicts 1) and boundary; "
               "red circles are XOR = 1, blue squares XOR = 0.")
    with no_grad():  # in the hidden layer's space the classes become linearly separable
        h = mlps[best][:2](Tensor(X)).array  # the first two layers: linear, then tanh
    if h.shape[1] >= 2:
        fig, ax = ctx.subplots(figsize=(4.5, 4.2))
        draw_points(ax, h)
        for hi, xi in zip(h, X):
            ax.annotate(f"({int(xi[0])},{int(xi[1])})", (hi[0], hi[1]), textcoords="offset points",
                        xytext=(6, 6))
        ax.set(xlabel="hidden unit 1", ylabel="hidden unit 2",
               title="inputs in the hidden layer's space")
        ctx.figure("hidden_space", fig, "The four inputs as seen by the first two hidden units.")
    fig, (a1, a2) = ctx.subplots(1, 2, figsize=(10, 3.5))
    a1.plot(range(1, len(hist_perc) + 1), hist_perc)
    a1.axhline(0.75, ls="--", c="gray")
    a1.set(xlabel="epoch", ylabel="accuracy", title="perceptron rule never settles on XOR")
    a2.plot(loss_logistic)
    a2.axhline(float(xp.log(2.0)), ls="--", c="gray", label="log 2")
    a2.set(xlabel="step", ylabel="cross-entropy", title="logistic unit: loss stalls at log 2")
    a2.legend()
    ctx.figure("training", fig, "Training curves of the linear models.")
    return results


def draw_points(ax: Any, xy: Any, **style: Any) -> None:
    """The four XOR points at ``xy``: red circles are XOR = 1, blue squares XOR = 0."""
    for p, ti in zip(xy, T):
        ax.scatter(p[0], p[1], s=160, c="#d62728" if ti else "#1f77b4", marker="o" if ti else "s",
                   edgecolors="k", **style)


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
