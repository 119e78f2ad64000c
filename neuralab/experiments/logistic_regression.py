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

from neuralab.autograd import Tensor
from neuralab.backend import xp
from neuralab.experiments.base import Comparison, Experiment, Verdict, judge
from neuralab.nn import Parameter
from neuralab.ops.elementwise import log
from neuralab.ops.elementwise import sigmoid as sigmoid_op
from neuralab.optim import SGD


def sigmoid(z: Any) -> Any:
    return 0.5 * (1.0 + xp.tanh(0.5 * z))  # the tanh form never overflows


def make_data(n: int, separation: float, seed: int) -> tuple[Any, Any]:
    generator = xp.random.default_rng(seed)
    t = xp.concatenate([xp.zeros(n), xp.ones(n)])
    x = xp.concatenate([generator.normal(-separation, 1.0, n),
                        generator.normal(separation, 1.0, n)])
    return x, t


def losses_on_grid(x: Any, t: Any, w: Any, b: Any) -> tuple[Any, Any]:
    """Both losses for every (w, b) of a grid (arrays of the same shape)."""
    z = w[..., None] * x + b[..., None]                   # (..., N)
    y = sigmoid(z)
    # log σ(z) = −softplus(−z), written stably with logaddexp.
    ce = (t * xp.logaddexp(0.0, -z) + (1 - t) * xp.logaddexp(0.0, z)).mean(axis=-1)
    se = (0.5 * (y - t) ** 2).mean(axis=-1)
    return ce, se


def hand_gradients(x: Any, t: Any, w: float, b: float) -> dict[str, tuple[float, float]]:
    """(∂L/∂w, ∂L/∂b) of both losses by the formulas of the module docstring."""
    y = sigmoid(w * x + b)
    ce = (y - t)
    se = (y - t) * y * (1 - y)
    return {"cross-entropy": (float((ce * x).mean()), float(ce.mean())),
            "squared error": (float((se * x).mean()), float(se.mean()))}


def hessians(x: Any, t: Any, w: Any, b: Any) -> tuple[Any, Any]:
    """The smallest Hessian eigenvalue of each loss at every grid point.

    With g(z) the per-example loss, H = mean(g''(z) [x, 1][x, 1]ᵀ):
    CE: g'' = y(1 − y) ≥ 0;  SE: g'' = y(1 − y)[y(1 − y) + (y − t)(1 − 2y)], which can be < 0.
    """
    z = w[..., None] * x + b[..., None]
    y = sigmoid(z)
    s = y * (1 - y)
    out = []
    for g2 in (s, s * (s + (y - t) * (1 - 2 * y))):
        hww, hwb, hbb = (g2 * x * x).mean(-1), (g2 * x).mean(-1), g2.mean(-1)
        # The smaller eigenvalue of [[a, c], [c, d]].
        mean, gap = (hww + hbb) / 2, xp.sqrt(((hww - hbb) / 2) ** 2 + hwb ** 2)
        out.append(mean - gap)
    return out[0], out[1]


def autograd_gradients(x: Any, t: Any, w: float, b: float) -> dict[str, tuple[float, float]]:
    out = {}
    for name in ("cross-entropy", "squared error"):
        wt = Tensor(w, dtype=xp.float64, requires_grad=True)
        bt = Tensor(b, dtype=xp.float64, requires_grad=True)
        xs, ts = Tensor(x, dtype=xp.float64), Tensor(t, dtype=xp.float64)
        y = sigmoid_op(wt * xs + bt)
        if name == "cross-entropy":
            loss = (-(ts * log(y) + (1.0 - ts) * log(1.0 - y))).mean()
        else:
            loss = (0.5 * (y - ts) ** 2).mean()
        loss.backward()
        out[name] = (float(wt.grad.item()), float(bt.grad.item()))
    return out


def train(x: Any, t: Any, loss_name: str, w0: float, b0: float, lr: float, steps: int) -> dict:
    """Gradient descent with neuralab.optim.SGD from (w0, b0); the accuracy and loss history."""
    w = Parameter(xp.array(w0, dtype=xp.float64))
    b = Parameter(xp.array(b0, dtype=xp.float64))
    opt = SGD([w, b], lr=lr)
    xs, ts = Tensor(x, dtype=xp.float64), Tensor(t, dtype=xp.float64)
    accuracy = []
    for _ in range(steps):
        y = sigmoid_op(w * xs + b)
        if loss_name == "cross-entropy":
            loss = (-(ts * log(y + 1e-300) + (1.0 - ts) * log(1.0 - y + 1e-300))).mean()
        else:
            loss = (0.5 * (y - ts) ** 2).mean()
        accuracy.append(float(((y.array > 0.5) == (t > 0.5)).mean()))
        opt.zero_grad()
        loss.backward()
        opt.step()
    y = sigmoid(float(w.array) * x + float(b.array))
    accuracy.append(float(((y > 0.5) == (t > 0.5)).mean()))
    return {"w": float(w.array), "b": float(b.array), "accuracy": accuracy}


def run(cfg: dict, ctx: Any) -> dict:
    x, t = make_data(cfg["examples_per_class"], cfg["separation"], ctx.seed)
    span = cfg["grid_span"]
    grid = xp.linspace(-span, span, cfg["grid"])
    w, b = xp.meshgrid(grid, grid)
    ce, se = losses_on_grid(x, t, w, b)
    h_ce, h_se = hessians(x, t, w, b)
    results: dict[str, Any] = {
        "ce_min_hessian_eigenvalue": float(h_ce.min()),
        "se_min_hessian_eigenvalue": float(h_se.min()),
        "se_fraction_grid_nonconvex": float((h_se < -1e-12).mean()),
        "ce_fraction_grid_nonconvex": float((h_ce < -1e-12).mean()),
    }

    # Convexity along random lines: f(midpoint) ≤ mean of the endpoints for a convex f.
    generator = xp.random.default_rng(ctx.seed + 1)
    ends = generator.uniform(-span, span, (cfg["lines"], 2, 2))
    mids = ends.mean(axis=1)
    violations = {}
    for index, name in enumerate(["cross-entropy", "squared error"]):
        f_ends = losses_on_grid(x, t, ends[..., 0], ends[..., 1])[index]
        f_mid = losses_on_grid(x, t, mids[:, 0], mids[:, 1])[index]
        violations[name] = float((f_mid > f_ends.mean(axis=1) + 1e-12).mean())
    results["ce_fraction_lines_nonconvex"] = violations["cross-entropy"]
    results["se_fraction_lines_nonconvex"] = violations["squared error"]

    # The gradient formulas against autograd at a few points.
    rows, worst = [], 0.0
    for wp, bp in [(0.5, -0.2), (2.0, 1.0), (-3.0, 2.5)]:
        hand, auto = hand_gradients(x, t, wp, bp), autograd_gradients(x, t, wp, bp)
        for name in hand:
            err = max(abs(h - a) / max(abs(h), abs(a), 1e-15)
                      for h, a in zip(hand[name], auto[name]))
            worst = max(worst, err)
            rows.append([f"({wp}, {bp})", name, hand[name][0], auto[name][0], hand[name][1],
                         auto[name][1], err])
    ctx.table("gradient_check", ["(w, b)", "loss", "∂L/∂w by hand", "∂L/∂w autograd",
                                 "∂L/∂b by hand", "∂L/∂b autograd", "relative error"], rows,
              caption="The derived gradients against autograd (float64)")
    results["gradient_max_rel_error"] = worst

    # A confidently wrong prediction: t = 1, z = z_wrong.
    z_wrong = cfg["confident_z"]
    y_wrong = float(sigmoid(xp.array(z_wrong)))
    results["ce_dL_dz_confidently_wrong"] = y_wrong - 1.0
    results["se_dL_dz_confidently_wrong"] = (y_wrong - 1.0) * y_wrong * (1 - y_wrong)

    # Training from a confidently wrong start.
    histories = {name: train(x, t, name, cfg["w0"], cfg["b0"], cfg["lr"], cfg["steps"])
                 for name in ("cross-entropy", "squared error")}
    results["ce_final_accuracy"] = histories["cross-entropy"]["accuracy"][-1]
    results["se_final_accuracy"] = histories["squared error"]["accuracy"][-1]
    for name, h in histories.items():
        for step, acc in enumerate(h["accuracy"]):
            ctx.log("train", step=step, loss=name, accuracy=acc)
    _figures(ctx, x, t, w, b, ce, se, h_se, histories, cfg)
    return results


def _figures(ctx: Any, x: Any, t: Any, w: Any, b: Any, ce: Any, se: Any, h_se: Any,
             histories: dict, cfg: dict) -> None:
    fig, axes = ctx.subplots(1, 3, figsize=(16, 4.6))
    for ax, z, title in [(axes[0], ce, "cross-entropy"), (axes[1], se, "squared error")]:
        cs = ax.contourf(w, b, z, levels=30, cmap="viridis")
        fig.colorbar(cs, ax=ax)
        ax.plot(cfg["w0"], cfg["b0"], "r*", ms=12)
        ax.set_xlabel("w")
        ax.set_ylabel("b")
        ax.set_title(f"{title} loss over (w, b)")
    axes[1].contour(w, b, h_se, levels=[0.0], colors="white", linewidths=1.2)
    cs = axes[2].contourf(w, b, xp.sign(h_se), levels=[-1.5, 0, 1.5], colors=["#d62728", "#cfe2ff"])
    axes[2].set_title("sign of squared error's smallest Hessian eigenvalue\n(red: not convex)")
    axes[2].set_xlabel("w")
    axes[2].set_ylabel("b")
    ctx.figure("loss_surfaces", fig, "Loss surfaces of logistic regression on the 1-D data "
               "(red star: the confidently wrong start). Cross-entropy is a convex bowl; squared "
               "error has flat plateaus and regions of negative curvature (white line, red area).")

    fig, (a1, a2) = ctx.subplots(1, 2, figsize=(12, 4))
    z = xp.linspace(-10, 10, 400)
    y = sigmoid(z)
    a1.plot(z, xp.abs(y - 1), label="cross-entropy |∂L/∂z| = |y − t|")
    a1.plot(z, xp.abs((y - 1) * y * (1 - y)), label="squared error |∂L/∂z| = |(y − t) y (1 − y)|")
    a1.set_yscale("log")
    a1.set_xlabel("z (target t = 1)")
    a1.set_ylabel("|∂L/∂z|")
    a1.set_title("gradient for one example with t = 1")
    a1.axvspan(-10, -4, color="#fce8e6", label="confidently wrong")
    a1.legend(fontsize=8)
    for name, h in histories.items():
        a2.plot(h["accuracy"], label=name)
    a2.set_xlabel("gradient-descent step")
    a2.set_ylabel("training accuracy")
    a2.set_title(f"training from (w, b) = ({cfg['w0']}, {cfg['b0']})")
    a2.legend()
    ctx.figure("gradients", fig, "Left: squared error's gradient vanishes where the prediction is "
               "confidently wrong. Right: so, from a confidently wrong start, squared error "
               "barely moves while cross-entropy recovers.")


def verdict(results: dict, cfg: dict) -> Verdict:
    """Cross-entropy convex, squared error not; derived gradients exact; squared error's
    gradient vanishes for a confidently wrong prediction; cross-entropy recovers from there."""
    ce_g, se_g = abs(results["ce_dL_dz_confidently_wrong"]), abs(
        results["se_dL_dz_confidently_wrong"])
    z = f"at z = {cfg['confident_z']:g}, t = 1"
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
        Comparison(f"|∂L/∂z| of squared error {z}", se_g, "<",
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
