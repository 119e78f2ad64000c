"""Lecture 7 (with Lecture 4's losses): cross-entropy, not squared error, for a sigmoid output.

For y = σ(wx + b), cross-entropy's ∂L/∂z = y − t and its Hessian is positive semi-definite;
squared error's ∂L/∂z = (y − t) y (1 − y) vanishes when most wrong, and its surface isn't convex."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from neuralab.autograd import Tensor, relative_error
from neuralab.backend import xp
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.nn import Module, Parameter
from neuralab.ops.elementwise import log, sigmoid
from neuralab.optim import SGD
from neuralab.train import Trainer

LOSSES = {  # of y = σ(z) against t, as autograd computes them (1e-300 keeps log finite)
    "cross-entropy": lambda z, t: (-(t * log(sigmoid(z) + 1e-300)
                                     + (1.0 - t) * log(1.0 - sigmoid(z) + 1e-300))).mean(),
    "squared error": lambda z, t: (0.5 * (sigmoid(z) - t) ** 2).mean()}
DL_DZ = {"cross-entropy": lambda y, t: y - t,  # their ∂L/∂z for one example, derived by hand
         "squared error": lambda y, t: (y - t) * y * (1 - y)}


def sigmoid_np(z: Any) -> Any:
    return 0.5 * (1.0 + xp.tanh(0.5 * z))  # the tanh form never overflows


def loss_geometry(x: Any, t: Any, w: Any, b: Any) -> tuple[list[Any], list[Any]]:
    """Both losses (CE, SE) at every (w, b) of a grid, and the smallest eigenvalue of each one's
    Hessian mean(g''(z) [x, 1][x, 1]ᵀ), g the per-example loss (SE's g'' can be < 0)."""
    z = w[..., None] * x + b[..., None]  # (..., N)
    y = sigmoid_np(z)
    ce = (t * xp.logaddexp(0.0, -z) + (1 - t) * xp.logaddexp(0.0, z)).mean(-1)  # −log σ(±z)
    s = y * (1 - y)
    eigenvalues = []
    for g2 in (s, s * (s + (y - t) * (1 - 2 * y))):  # g'' of CE and of SE
        hww, hwb, hbb = (g2 * x * x).mean(-1), (g2 * x).mean(-1), g2.mean(-1)
        eigenvalues.append((hww + hbb) / 2 - xp.sqrt(((hww - hbb) / 2) ** 2 + hwb ** 2))
    return [ce, (0.5 * (y - t) ** 2).mean(-1)], eigenvalues


class LogisticUnit(Module):
    """z = wx + b on one input (float64); the loss applies σ."""

    def __init__(self, w: float, b: float):
        super().__init__()
        self.w, self.b = (Parameter(xp.array(v, dtype=xp.float64)) for v in (w, b))

    def forward(self, x: Any) -> Any:
        return self.w * x + self.b


def gradient_errors(x: Tensor, t: Tensor) -> Iterator[float]:
    """Relative errors of the derived ∂L/∂w, ∂L/∂b against autograd's, at three points (w, b)."""
    for w, b in [(0.5, -0.2), (2.0, 1.0), (-3.0, 2.5)]:
        for name, loss in LOSSES.items():
            dz = DL_DZ[name](sigmoid_np(w * x.array + b), t.array)
            unit = LogisticUnit(w, b)
            loss(unit(x), t).backward()
            yield relative_error((float((dz * x.array).mean()), float(dz.mean())),
                                 (unit.w.grad.item(), unit.b.grad.item()))


def descend(loss: Any, x: Tensor, t: Tensor, cfg: dict) -> float:
    """Training accuracy (z > 0 ⇔ predicts 1) after full-batch gradient descent from (w0, b0)."""
    unit = LogisticUnit(cfg["w0"], cfg["b0"])
    Trainer(unit, SGD(unit.parameters(), lr=cfg["lr"]), loss_fn=loss, progress=False,
            log=None).fit([(x, t)] * cfg["steps"], epochs=1)
    return float(((unit(x).array > 0) == (t.array > 0.5)).mean())


def run(cfg: dict, ctx: Any) -> dict:
    n, generator = cfg["examples_per_class"], xp.random.default_rng(ctx.seed)
    t = xp.concatenate([xp.zeros(n), xp.ones(n)])
    x = xp.concatenate([generator.normal(sign * cfg["separation"], 1.0, n) for sign in (-1, 1)])
    # 1. Both loss surfaces and their curvature on a grid over (w, b).
    span = cfg["grid_span"]
    w, b = xp.meshgrid(xp.linspace(-span, span, cfg["grid"]), xp.linspace(-span, span, cfg["grid"]))
    (ce, se), (h_ce, h_se) = loss_geometry(x, t, w, b)
    # 2. Convexity along random segments: f(midpoint) ≤ mean of the endpoints for a convex f.
    ends = xp.random.default_rng(ctx.seed + 1).uniform(-span, span, (cfg["lines"], 2, 2))
    on_ends = loss_geometry(x, t, ends[..., 0], ends[..., 1])[0]  # ends: (segment, end, (w, b))
    on_mids = loss_geometry(x, t, *ends.mean(axis=1).T)[0]
    nonconvex = [float((m > e.mean(axis=1) + 1e-12).mean()) for e, m in zip(on_ends, on_mids)]
    # 3. Derived vs autograd gradients; per loss, ∂L/∂z and gradient descent when confidently wrong.
    xs, ts = Tensor(x, dtype=xp.float64), Tensor(t, dtype=xp.float64)
    y_wrong = float(sigmoid_np(cfg["confident_z"]))  # a confidently wrong prediction of t = 1
    results = {"se_fraction_grid_nonconvex": float((h_se < -1e-12).mean()),
               "gradient_max_rel_error": max(gradient_errors(xs, ts))}
    for key, name, smallest, fraction in zip(("ce", "se"), LOSSES, (h_ce, h_se), nonconvex):
        results |= {f"{key}_min_hessian_eigenvalue": float(smallest.min()),
                    f"{key}_fraction_lines_nonconvex": fraction,
                    f"{key}_dL_dz_confidently_wrong": DL_DZ[name](y_wrong, 1.0),
                    f"{key}_final_accuracy": descend(LOSSES[name], xs, ts, cfg)}
    fig, axes = ctx.subplots(1, 3, figsize=(16, 4.6))
    for ax, z, title in [(axes[0], ce, "cross-entropy"), (axes[1], se, "squared error")]:
        fig.colorbar(ax.contourf(w, b, z, levels=30, cmap="viridis"), ax=ax)
        ax.plot(cfg["w0"], cfg["b0"], "r*", ms=12)
        ax.set(xlabel="w", ylabel="b", title=f"{title} loss over (w, b)")
    axes[1].contour(w, b, h_se, levels=[0.0], colors="white", linewidths=1.2)
    axes[2].contourf(w, b, xp.sign(h_se), levels=[-1.5, 0, 1.5], colors=["#d62728", "#cfe2ff"])
    axes[2].set(xlabel="w", ylabel="b", title="sign of squared error's smallest Hessian "
                "eigenvalue\n(red: not convex)")
    ctx.figure("loss_surfaces", fig, "Red star: the confidently wrong start. Cross-entropy is a "
               "convex bowl; squared error has plateaus and negative curvature (white line, red).")
    return results


def verdict(results: dict, cfg: dict) -> Verdict:
    """CE convex, SE not; derived gradients exact; SE's gradient vanishes; CE recovers."""
    ce_g, se_g = (abs(results[f"{loss}_dL_dz_confidently_wrong"]) for loss in ("ce", "se"))
    return judge([
        Comparison("cross-entropy's smallest Hessian eigenvalue",
                   results["ce_min_hessian_eigenvalue"], ">=", "zero (convex)", -1e-12,
                   bound=True, fmt=".1e"),
        Comparison("cross-entropy: fraction of lines that are non-convex",
                   results["ce_fraction_lines_nonconvex"], "==", "none", 0, bound=True, fmt=".0%"),
        Comparison("squared error: fraction of the grid with a negative eigenvalue",
                   results["se_fraction_grid_nonconvex"], ">", "none", 0, bound=True, fmt=".0%"),
        Comparison("derived vs autograd gradients (max rel. error)",
                   results["gradient_max_rel_error"], "<", "rounding", 1e-8, bound=True, fmt=".0e"),
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
              "lines": 2000, "confident_z": -10.0, "w0": -6.0, "b0": 0.0, "lr": 1.0, "steps": 300},
    quick={"grid": 101, "lines": 500, "steps": 150},
    runtime="10 s",
    setup="Two Gaussian classes on a line (x ~ N(∓{separation}, 1), {examples_per_class} each); "
          "y = σ(wx + b). Surfaces and Hessians on a {grid}×{grid} grid over [−{grid_span}, "
          "{grid_span}]²; {lines} random line segments for the midpoint convexity test; plain "
          "gradient descent (lr {lr}, {steps} steps) from (w, b) = ({w0}, {b0}), which predicts "
          "every example confidently wrong.",
)
