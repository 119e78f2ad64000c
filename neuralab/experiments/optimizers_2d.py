"""Lecture 7: how the optimizers move on two-dimensional surfaces. On the ill-conditioned
quadratic ½(x² + κy²) gradient descent needs a step below 2/κ to stay stable in the steep
direction, so it crawls along the shallow one, where momentum builds a velocity and cancels the
oscillation across the valley. Near the ridge of the saddle ½x² − ½y² + ¼y⁴ the gradient is tiny
and gradient descent lingers; Adam divides by the gradient's running scale and escapes."""

from __future__ import annotations

from typing import Any

from neuralab.backend import xp
from neuralab.experiments.toolkit import log_curve
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.optim import SGD, Adagrad, Adam, RMSprop
from neuralab.train.trajectory import trajectory


def optimizers(lr: float, alr: float, mu: float) -> dict:
    """GD, momentum and Nesterov at ``lr``; the adaptive ones at ``alr`` (AdaGrad at 10×)."""
    return {"GD": lambda p: SGD(p, lr=lr), "momentum": lambda p: SGD(p, lr=lr, momentum=mu),
            "Nesterov": lambda p: SGD(p, lr=lr, momentum=mu, nesterov=True),
            "AdaGrad": lambda p: Adagrad(p, lr=10 * alr),  # its step shrinks as 1/√(Σg²)
            "RMSprop": lambda p: RMSprop(p, lr=alr), "Adam": lambda p: Adam(p, lr=alr)}


def surfaces(cfg: dict) -> dict[str, tuple]:
    """(title, f(x, y) for Tensors and arrays alike, start, plot range) of each surface."""
    return {"quadratic": (f"ill-conditioned quadratic (κ = {cfg['kappa']:g})",
                          lambda x, y: 0.5 * (x * x + cfg["kappa"] * (y * y)), (-4.0, 1.0),
                          ((-4.5, 1.5), (-1.5, 1.5))),
            "rosenbrock": ("Rosenbrock", lambda x, y: (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2,
                           (-1.5, 2.0), ((-2.0, 2.0), (-1.0, 3.0))),
            "saddle": ("saddle ½x² − ½y² + ¼y⁴",
                       lambda x, y: 0.5 * (x * x) - 0.5 * (y * y) + 0.25 * ((y * y) * (y * y)),
                       (1.5, cfg["saddle_y0"]), ((-1.7, 1.7), (-1.5, 1.5)))}


def run(cfg: dict, ctx: Any) -> dict:
    results = {}
    fig, axes = ctx.subplots(1, 3, figsize=(16, 5))
    for ax, (key, (title, f, start, (xr, yr))) in zip(axes, surfaces(cfg).items()):
        gx, gy = xp.meshgrid(xp.linspace(*xr, 300), xp.linspace(*yr, 300))
        z = f(gx, gy)
        ax.contour(gx, gy, xp.log10(z + 1e-3) if key == "rosenbrock" else z, levels=30,
                   cmap="Greys", linewidths=0.6)
        rates = (cfg[f"{key}_lr"], cfg[f"{key}_adaptive_lr"], cfg["momentum"])
        for name, optimizer in optimizers(*rates).items():  # one colour per optimizer
            points, losses = trajectory(f, start, optimizer, cfg[f"{key}_steps"])
            log_curve(ctx, key, losses, points=100, optimizer=name)
            results[f"{key}_{name}_final_loss"] = losses[-1]
            ax.plot(points[:, 0], points[:, 1], "-", lw=1.3, label=name, alpha=0.9)
        ax.plot(*start, "k*", ms=12)
        ax.set(xlim=xr, ylim=yr, title=title)
    axes[0].legend(fontsize=8, loc="upper right")
    ctx.figure("trajectories", fig, "Trajectories from the same start (black star) on contour "
               "plots (Rosenbrock's contours are of log₁₀ f).")
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
    defaults={"kappa": 50.0, "momentum": 0.9, "saddle_y0": 1e-5,
              "quadratic_steps": 100, "quadratic_lr": 0.025, "quadratic_adaptive_lr": 0.1,
              "rosenbrock_steps": 3000, "rosenbrock_lr": 0.001, "rosenbrock_adaptive_lr": 0.02,
              "saddle_steps": 100, "saddle_lr": 0.05, "saddle_adaptive_lr": 0.05},
    quick={"rosenbrock_steps": 300},
    runtime="20 s",
    setup="Six optimizers of neuralab.optim (momentum and Nesterov: μ = {momentum}; AdaGrad at 10× "
          "the adaptive rate), float64, from the same start for the same steps on each surface.",
)
