"""Lecture 7: how the optimizers move on two-dimensional surfaces.

Gradient descent, momentum, Nesterov momentum, AdaGrad, RMSprop and Adam (``neuralab.optim``)
start from the same point on three surfaces:

* an ill-conditioned quadratic f = ½(x² + κy²): gradient descent must keep the step below 2/κ to
  stay stable in the steep direction, so it crawls along the shallow one; momentum accumulates a
  velocity along the consistent shallow direction and cancels the oscillation across the valley;
* the Rosenbrock function f = (1 − x)² + 100(y − x²)², a curved narrow valley;
* a saddle f = ½x² − ½y² + ¼y⁴ starting almost exactly on the ridge (y₀ tiny): the gradient
  along y is tiny there, so gradient descent lingers, while Adam divides by the gradient's
  running scale and moves at about its learning rate per step, escaping quickly.

``neuralab.train.trajectory`` makes the point p = (x, y) the one parameter of a module whose
output is f(p), and ``Trainer`` minimises it as it trains any network.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from neuralab.backend import xp
from neuralab.experiments.toolkit import log_curve
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.optim import SGD, Adagrad, Adam, RMSprop
from neuralab.train.trajectory import trajectory

# Each optimizer from (parameters, lr, adaptive lr, momentum).
OPTIMIZERS: dict[str, Callable] = {
    "GD": lambda p, lr, alr, mu: SGD(p, lr=lr),
    "momentum": lambda p, lr, alr, mu: SGD(p, lr=lr, momentum=mu),
    "Nesterov": lambda p, lr, alr, mu: SGD(p, lr=lr, momentum=mu, nesterov=True),
    "AdaGrad": lambda p, lr, alr, mu: Adagrad(p, lr=10 * alr),  # its step shrinks as 1/√(Σg²)
    "RMSprop": lambda p, lr, alr, mu: RMSprop(p, lr=alr),
    "Adam": lambda p, lr, alr, mu: Adam(p, lr=alr),
}


def surfaces(kappa: float, saddle_y0: float) -> dict[str, tuple]:
    """(title, f(x, y) for Tensors and arrays alike, start, minimum value, plot range)."""
    return {
        "quadratic": (f"ill-conditioned quadratic (κ = {kappa:g})",
                      lambda x, y: 0.5 * (x * x + kappa * (y * y)), (-4.0, 1.0), 0.0,
                      ((-4.5, 1.5), (-1.5, 1.5))),
        "rosenbrock": ("Rosenbrock", lambda x, y: (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2,
                       (-1.5, 2.0), 0.0, ((-2.0, 2.0), (-1.0, 3.0))),
        "saddle": ("saddle ½x² − ½y² + ¼y⁴",
                   lambda x, y: 0.5 * (x * x) - 0.5 * (y * y) + 0.25 * ((y * y) * (y * y)),
                   (1.5, saddle_y0), -0.25, ((-1.7, 1.7), (-1.5, 1.5))),
    }


def run(cfg: dict, ctx: Any) -> dict:
    problems = surfaces(cfg["kappa"], cfg["saddle_y0"])
    results, rows, paths = {}, [], {}
    for key, (title, f, start, _, _) in ctx.progress(problems.items(), desc="surfaces"):
        paths[key] = {}
        for name, make in OPTIMIZERS.items():
            optimizer = partial(make, lr=cfg[f"{key}_lr"], alr=cfg[f"{key}_adaptive_lr"],
                                mu=cfg["momentum"])
            points, losses = trajectory(f, start, optimizer, cfg[f"{key}_steps"])
            paths[key][name] = (points, losses)
            log_curve(ctx, key, losses, points=100, optimizer=name)
            results[f"{key}_{name}_final_loss"] = losses[-1]
            rows.append([title, name, cfg[f"{key}_steps"], losses[0], losses[-1],
                         float(xp.linalg.norm(points[-1] - points[0]))])
    ctx.table("final_losses", ["surface", "optimizer", "steps", "initial loss", "final loss",
                               "distance travelled (start to end)"], rows,
              caption="Each optimizer from the same start for the same number of steps")

    fig, axes = ctx.subplots(1, 3, figsize=(16, 5))
    for ax, (key, (title, f, start, _, (xr, yr))) in zip(axes, problems.items()):
        gx, gy = xp.meshgrid(xp.linspace(*xr, 300), xp.linspace(*yr, 300))
        z = f(gx, gy)
        ax.contour(gx, gy, xp.log10(z + 1e-3) if key == "rosenbrock" else z, levels=30,
                   cmap="Greys", linewidths=0.6)
        for name, (points, _) in paths[key].items():  # one colour per optimizer, in order
            ax.plot(points[:, 0], points[:, 1], "-", lw=1.3, label=name, alpha=0.9)
        ax.plot(*start, "k*", ms=12)
        ax.set(xlim=xr, ylim=yr, title=title)
    axes[0].legend(fontsize=8, loc="upper right")
    ctx.figure("trajectories", fig, "Trajectories from the same start (black star) on contour "
               "plots (Rosenbrock's contours are of log₁₀ f).")
    fig, axes = ctx.subplots(1, 3, figsize=(16, 4))
    for ax, (key, (title, _, _, floor, _)) in zip(axes, problems.items()):
        for name, (_, losses) in paths[key].items():
            ax.plot(xp.maximum(xp.array(losses) - floor, 1e-12), label=name)
        ax.set(yscale="log", xlabel="step", ylabel="f − f*", title=title)
    axes[0].legend(fontsize=8)
    ctx.figure("losses", fig, "Loss above the minimum value against the step.")
    return results


def verdict(results: dict, cfg: dict) -> Verdict:
    """Momentum below GD on the quadratic; Adam escapes the saddle (below −0.2, and below GD)."""
    adam, gd_saddle = results["saddle_Adam_final_loss"], results["saddle_GD_final_loss"]
    return judge([
        Comparison(f"quadratic: momentum's loss after {cfg['quadratic_steps']} steps",
                   results["quadratic_momentum_final_loss"], "<", "GD's",
                   results["quadratic_GD_final_loss"], fmt=".2e"),
        Comparison(f"saddle: Adam's loss after {cfg['saddle_steps']} steps", adam, "<",
                   "GD's", gd_saddle, fmt=".3f"),
        Comparison("saddle: Adam's loss", adam, "<", "an escape (the minimum is −0.25)", -0.2,
                   bound=True, fmt=".3f")])


EXPERIMENT = Experiment(
    name="optimizers-2d",
    lecture="L7",
    title="Optimizers on two-dimensional surfaces",
    claim="Momentum beats plain gradient descent on an ill-conditioned quadratic in the same "
          "number of steps, and Adam escapes a saddle point where gradient descent lingers.",
    run=run,
    verdict=verdict,
    defaults={"kappa": 50.0, "momentum": 0.9,
              "quadratic_steps": 100, "quadratic_lr": 0.025, "quadratic_adaptive_lr": 0.1,
              "rosenbrock_steps": 3000, "rosenbrock_lr": 0.001, "rosenbrock_adaptive_lr": 0.02,
              "saddle_steps": 100, "saddle_lr": 0.05, "saddle_adaptive_lr": 0.05,
              "saddle_y0": 1e-5},
    quick={"rosenbrock_steps": 300},
    runtime="20 s",
    setup="Six optimizers from neuralab.optim (GD = SGD; momentum and Nesterov with μ = "
          "{momentum}; AdaGrad with 10× the adaptive learning rate; RMSprop; Adam), float64 "
          "parameters. Quadratic ½(x² + {kappa}y²) from (−4, 1), {quadratic_steps} steps, lr "
          "{quadratic_lr} (adaptive {quadratic_adaptive_lr}); Rosenbrock from (−1.5, 2), "
          "{rosenbrock_steps} steps, lr {rosenbrock_lr} (adaptive {rosenbrock_adaptive_lr}); "
          "saddle from (1.5, {saddle_y0}), {saddle_steps} steps, lr {saddle_lr} (adaptive "
          "{saddle_adaptive_lr}).",
)
