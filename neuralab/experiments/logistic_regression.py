"""Lecture 7 (with Lecture 4's losses): cross-entropy, not squared error, for a sigmoid output.

Logistic regression on a one-dimensional data set, y = σ(z), z = wx + b, with two losses:

* cross-entropy L_CE = −t log y − (1 − t) log(1 − y), whose gradient is simply
  ∂L/∂z = y − t, so ∂L/∂w = mean((y − t) x), ∂L/∂b = mean(y − t); its Hessian
  mean(y(1 − y) [x, 1][x, 1]ᵀ) is positive semi-definite everywhere: the loss is convex in (w, b);
* squared error L_SE = ½(y − t)², with ∂L/∂z = (y − t) y (1 − y): when the prediction is
  confidently wrong (t = 1, z ≪ 0) the factor y(1 − y) ≈ 0 kills the gradient, exactly when the
  model most needs to learn; and its surface over (w, b) is not convex (plateaus, negative
  curvature).
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd import Tensor, relative_error
from neuralab.backend import xp
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.nn import Module, Parameter
from neuralab.ops.elementwise import log, sigmoid
from neuralab.optim import SGD
from neuralab.train import Trainer
from neuralab.train.callbacks import LambdaCallback

# The losses of y = σ(z) against t, as autograd computes them (1e-300 keeps log finite).
LOSSES = {
    "cross-entropy": lambda z, t: (-(t * log(sigmoid(z) + 1e-300)
                                     + (1.0 - t) * log(1.0 - sigmoid(z) + 1e-300))).mean(),
    "squared error": lambda z, t: (0.5 * (sigmoid(z) - t) ** 2).mean(),
}
# Their gradients ∂L/∂z for one example, derived by hand (the module docstring).
DL_DZ = {"cross-entropy": lambda y, t: y - t,
         "squared error": lambda y, t: (y - t) * y * (1 - y)}


def sigmoid_np(z: Any) -> Any:
    return 0.5 * (1.0 + xp.tanh(0.5 * z))  # the tanh form never overflows


def losses_on_grid(x: Any, t: Any, w: Any, b: Any) -> tuple[Any, Any]:
    """Both losses for every (w, b) of a grid (arrays of the same shape)."""
    z = w[..., None] * x + b[..., None]  # (..., N)
    # log σ(z) = −softplus(−z), written stably with logaddexp.
    ce = (t * xp.logaddexp(0.0, -z) + (1 - t) * xp.logaddexp(0.0, z)).mean(axis=-1)
    return ce, (0.5 * (sigmoid_np(z) - t) ** 2).mean(axis=-1)


def smallest_hessian_eigenvalues(x: Any, t: Any, w: Any, b: Any) -> tuple[Any, Any]:
    """The smallest Hessian eigenvalue of each loss at every grid point.

    With g(z) the per-example loss, H = mean(g''(z) [x, 1][x, 1]ᵀ):
    CE: g'' = y(1 − y) ≥ 0;  SE: g'' = y(1 − y)[y(1 − y) + (y − t)(1 − 2y)], which can be < 0.
    """
    y = sigmoid_np(w[..., None] * x + b[..., None])
    s = y * (1 - y)
    out = []
    for g2 in (s, s * (s + (y - t) * (1 - 2 * y))):
        hww, hwb, hbb = (g2 * x * x).mean(-1), (g2 * x).mean(-1), g2.mean(-1)
        # The smaller eigenvalue of [[a, c], [c, d]].
        out.append((hww + hbb) / 2 - xp.sqrt(((hww - hbb) / 2) ** 2 + hwb ** 2))
    return out[0], out[1]


class LogisticUnit(Module):
    """z = wx + b on one input (float64); the loss applies σ."""

    def __init__(self, w: float, b: float):
        super().__init__()
        self.w = Parameter(xp.array(w, dtype=xp.float64))
        self.b = Parameter(xp.array(b, dtype=xp.float64))

    def forward(self, x: Any) -> Any:
        return self.w * x + self.b


def descend(loss: Any, x: Tensor, t: Tensor, cfg: dict) -> list[float]:
    """Full-batch gradient descent from (w0, b0) through ``Trainer``: the training accuracy
    (y > ½ ⇔ z > 0) before each step, and at the end."""
    unit, values = LogisticUnit(cfg["w0"], cfg["b0"]), []

    def accuracy(z: Tensor) -> float:
        return float(((z.array > 0) == (t.array > 0.5)).mean())

    record = LambdaCallback(on_batch_end=lambda trainer, step, value, z, target:
                            values.append(accuracy(z)))
    Trainer(unit, SGD(unit.parameters(), lr=cfg["lr"]), loss_fn=loss, progress=False, log=None,
            callbacks=[record]).fit([(x, t)] * cfg["steps"], epochs=1)
    return values + [accuracy(unit(x))]


def run(cfg: dict, ctx: Any) -> dict:
    n, generator = cfg["examples_per_class"], xp.random.default_rng(ctx.seed)
    t = xp.concatenate([xp.zeros(n), xp.ones(n)])
    x = xp.concatenate([generator.normal(-cfg["separation"], 1.0, n),
                        generator.normal(cfg["separation"], 1.0, n)])
    xs, ts = Tensor(x, dtype=xp.float64), Tensor(t, dtype=xp.float64)
    span = cfg["grid_span"]
    w, b = xp.meshgrid(xp.linspace(-span, span, cfg["grid"]), xp.linspace(-span, span, cfg["grid"]))
    ce, se = losses_on_grid(x, t, w, b)
    h_ce, h_se = smallest_hessian_eigenvalues(x, t, w, b)

    # Convexity along random lines: f(midpoint) ≤ mean of the endpoints for a convex f.
    ends = xp.random.default_rng(ctx.seed + 1).uniform(-span, span, (cfg["lines"], 2, 2))
    mids = ends.mean(axis=1)
    on_ends = losses_on_grid(x, t, ends[..., 0], ends[..., 1])
    on_mids = losses_on_grid(x, t, mids[:, 0], mids[:, 1])
    nonconvex = [float((m > e.mean(axis=1) + 1e-12).mean()) for e, m in zip(on_ends, on_mids)]

    # The derived gradients, ∂L/∂w = mean(∂L/∂z · x) and ∂L/∂b = mean(∂L/∂z), against autograd.
    rows = []
    for wp, bp in [(0.5, -0.2), (2.0, 1.0), (-3.0, 2.5)]:
        y = sigmoid_np(wp * x + bp)
        for name, loss in LOSSES.items():
            dz = DL_DZ[name](y, t)
            hand = (float((dz * x).mean()), float(dz.mean()))
            unit = LogisticUnit(wp, bp)
            loss(unit(xs), ts).backward()
            auto = (float(unit.w.grad.item()), float(unit.b.grad.item()))
            rows.append([f"({wp}, {bp})", name, hand[0], auto[0], hand[1], auto[1],
                         relative_error(hand, auto)])
    ctx.table("gradient_check", ["(w, b)", "loss", "∂L/∂w by hand", "∂L/∂w autograd",
                                 "∂L/∂b by hand", "∂L/∂b autograd", "relative error"], rows,
              caption="The derived gradients against autograd (float64)")

    # Gradient descent from a confidently wrong start.
    accuracy = {name: descend(loss, xs, ts, cfg) for name, loss in LOSSES.items()}
    for name, values in accuracy.items():
        for step, acc in enumerate(values):
            ctx.log("train", step=step, loss=name, accuracy=acc)

    fig, axes = ctx.subplots(1, 3, figsize=(16, 4.6))
    for ax, z, title in [(axes[0], ce, "cross-entropy"), (axes[1], se, "squared error")]:
        fig.colorbar(ax.contourf(w, b, z, levels=30, cmap="viridis"), ax=ax)
        ax.plot(cfg["w0"], cfg["b0"], "r*", ms=12)
        ax.set(xlabel="w", ylabel="b", title=f"{title} loss over (w, b)")
    axes[1].contour(w, b, h_se, levels=[0.0], colors="white", linewidths=1.2)
    axes[2].contourf(w, b, xp.sign(h_se), levels=[-1.5, 0, 1.5], colors=["#d62728", "#cfe2ff"])
    axes[2].set(xlabel="w", ylabel="b", title="sign of squared error's smallest Hessian "
                "eigenvalue\n(red: not convex)")
    ctx.figure("loss_surfaces", fig, "Loss surfaces of logistic regression on the 1-D data "
               "(red star: the confidently wrong start). Cross-entropy is a convex bowl; squared "
               "error has flat plateaus and regions of negative curvature (white line, red area).")
    fig, (a1, a2) = ctx.subplots(1, 2, figsize=(12, 4))
    z = xp.linspace(-10, 10, 400)
    y = sigmoid_np(z)
    a1.plot(z, xp.abs(DL_DZ["cross-entropy"](y, 1)), label="cross-entropy |∂L/∂z| = |y − t|")
    a1.plot(z, xp.abs(DL_DZ["squared error"](y, 1)),
            label="squared error |∂L/∂z| = |(y − t) y (1 − y)|")
    a1.axvspan(-10, -4, color="#fce8e6", label="confidently wrong")
    a1.set(yscale="log", xlabel="z (target t = 1)", ylabel="|∂L/∂z|",
           title="gradient for one example with t = 1")
    a1.legend(fontsize=8)
    for name, values in accuracy.items():
        a2.plot(values, label=name)
    a2.set(xlabel="gradient-descent step", ylabel="training accuracy",
           title=f"training from (w, b) = ({cfg['w0']}, {cfg['b0']})")
    a2.legend()
    ctx.figure("gradients", fig, "Left: squared error's gradient vanishes where the prediction is "
               "confidently wrong. Right: so, from a confidently wrong start, squared error "
               "barely moves while cross-entropy recovers.")

    y_wrong = float(sigmoid_np(cfg["confident_z"]))  # a confidently wrong prediction of t = 1
    return {"ce_min_hessian_eigenvalue": float(h_ce.min()),
            "se_min_hessian_eigenvalue": float(h_se.min()),
            "se_fraction_grid_nonconvex": float((h_se < -1e-12).mean()),
            "ce_fraction_lines_nonconvex": nonconvex[0],
            "se_fraction_lines_nonconvex": nonconvex[1],
            "gradient_max_rel_error": max(row[-1] for row in rows),
            "ce_dL_dz_confidently_wrong": DL_DZ["cross-entropy"](y_wrong, 1.0),
            "se_dL_dz_confidently_wrong": DL_DZ["squared error"](y_wrong, 1.0),
            "ce_final_accuracy": accuracy["cross-entropy"][-1],
            "se_final_accuracy": accuracy["squared error"][-1]}


def verdict(results: dict, cfg: dict) -> Verdict:
    """Cross-entropy convex, squared error not; derived gradients exact; squared error's
    gradient vanishes for a confidently wrong prediction; cross-entropy recovers from there."""
    ce_g = abs(results["ce_dL_dz_confidently_wrong"])
    se_g = abs(results["se_dL_dz_confidently_wrong"])
    return judge([
        Comparison("cross-entropy's smallest Hessian eigenvalue",
                   results["ce_min_hessian_eigenvalue"], ">=", "zero (convex)", -1e-12,
                   bound=True, fmt=".1e"),
        Comparison("cross-entropy: fraction of lines that are non-convex",
                   results["ce_fraction_lines_nonconvex"], "==", "none", 0, bound=True,
                   fmt=".0%"),
        Comparison("squared error: fraction of the grid with a negative eigenvalue",
                   results["se_fraction_grid_nonconvex"], ">", "none", 0, bound=True,
                   fmt=".0%"),
        Comparison("derived vs autograd gradients (max rel. error)",
                   results["gradient_max_rel_error"], "<", "rounding", 1e-8, bound=True,
                   fmt=".0e"),
        Comparison(f"|∂L/∂z| of squared error at z = {cfg['confident_z']:g}, t = 1", se_g, "<",
                   "1e-3 x cross-entropy's", 1e-3 * ce_g, fmt=".2g"),
        Comparison("final accuracy from the wrong start with cross-entropy",
                   results["ce_final_accuracy"], ">", "with squared error",
                   results["se_final_accuracy"], fmt=".0%")])


EXPERIMENT = Experiment(
    name="logistic-regression",
    lecture="L7",
    title="Logistic regression: cross-entropy versus squared error",
    claim="With a sigmoid output, cross-entropy is convex in (w, b) and keeps a large gradient "
          "for confidently wrong predictions, while squared error is non-convex and its gradient "
          "vanishes there.",
    run=run,
    verdict=verdict,
    defaults={"examples_per_class": 50, "separation": 1.0, "grid": 201, "grid_span": 8.0,
              "lines": 2000, "confident_z": -10.0, "w0": -6.0, "b0": 0.0, "lr": 1.0,
              "steps": 300},
    quick={"grid": 101, "lines": 500, "steps": 150},
    runtime="10 s",
    setup="Two Gaussian classes on a line (x ~ N(∓{separation}, 1), {examples_per_class} each); "
          "y = σ(wx + b). Surfaces and Hessians on a {grid}×{grid} grid over [−{grid_span}, "
          "{grid_span}]²; {lines} random line segments for the midpoint convexity test; "
          "training with plain gradient descent (lr {lr}, {steps} steps) from (w, b) = "
          "({w0}, {b0}), which predicts every example confidently wrong.",
)
