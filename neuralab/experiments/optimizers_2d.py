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
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd import Tensor
from neuralab.backend import xp
from neuralab.experiments.base import Comparison, Experiment, Verdict, judge
from neuralab.nn import Parameter
from neuralab.optim import SGD, Adagrad, Adam, RMSprop

OPTIMIZERS = ["GD", "momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"]


def _components(p: Any) -> tuple[Any, Any]:
    """x and y of a 2-vector parameter as differentiable scalars (p · e₁, p · e₂)."""
    e1 = Tensor([1.0, 0.0], dtype=p.dtype)
    e2 = Tensor([0.0, 1.0], dtype=p.dtype)
    return p @ e1, p @ e2


def quadratic(kappa: float):
    def f(p: Any) -> Any:
        x, y = _components(p)
        return 0.5 * (x * x + kappa * (y * y))

    def f_np(x: Any, y: Any) -> Any:
        return 0.5 * (x * x + kappa * y * y)
    return f, f_np


def rosenbrock(p: Any) -> Any:
    x, y = _components(p)
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


def rosenbrock_np(x: Any, y: Any) -> Any:
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def saddle(p: Any) -> Any:
    x, y = _components(p)
    y2 = y * y
    return 0.5 * (x * x) - 0.5 * y2 + 0.25 * (y2 * y2)


def saddle_np(x: Any, y: Any) -> Any:
    return 0.5 * x * x - 0.5 * y * y + 0.25 * y ** 4


def make_optimizer(name: str, params: list, lr: float, adaptive_lr: float, momentum: float) -> Any:
    if name == "GD":
        return SGD(params, lr=lr)
    if name == "momentum":
        return SGD(params, lr=lr, momentum=momentum)
    if name == "Nesterov":
        return SGD(params, lr=lr, momentum=momentum, nesterov=True)
    if name == "AdaGrad":
        return Adagrad(params, lr=adaptive_lr * 10)  # its step shrinks as 1/√(Σg²)
    if name == "RMSprop":
        return RMSprop(params, lr=adaptive_lr)
    if name == "Adam":
        return Adam(params, lr=adaptive_lr)
    raise ValueError(f"optimizers-2d: unknown optimizer {name!r}; choose from {OPTIMIZERS}")


def trajectory(f: Any, start: tuple, name: str, steps: int, lr: float, adaptive_lr: float,
               momentum: float) -> tuple[Any, list[float]]:
    """Run one optimizer on f from ``start``; the visited points and the losses."""
    p = Parameter(xp.array(start, dtype=xp.float64))
    opt = make_optimizer(name, [p], lr, adaptive_lr, momentum)
    points, losses = [p.array.copy()], []
    for _ in range(steps):
        loss = f(p)
        value = float(loss.item())
        losses.append(value)
        if not xp.isfinite(value) or abs(value) > 1e12:
            break  # diverged: stop before the numbers overflow
        opt.zero_grad()
        loss.backward()
        opt.step()
        points.append(p.array.copy())
    with_final = float(f(p).item())
    losses.append(with_final)
    return xp.array(points), losses


def run(cfg: dict, ctx: Any) -> dict:
    quad, quad_np = quadratic(cfg["kappa"])
    problems = [
        ("quadratic", f"ill-conditioned quadratic (κ = {cfg['kappa']:g})", quad, quad_np,
         (-4.0, 1.0), cfg["quadratic_steps"], cfg["quadratic_lr"], cfg["quadratic_adaptive_lr"],
         0.0, ((-4.5, 1.5), (-1.5, 1.5))),
        ("rosenbrock", "Rosenbrock", rosenbrock, rosenbrock_np, (-1.5, 2.0),
         cfg["rosenbrock_steps"], cfg["rosenbrock_lr"], cfg["rosenbrock_adaptive_lr"], 0.0,
         ((-2.0, 2.0), (-1.0, 3.0))),
        ("saddle", "saddle ½x² − ½y² + ¼y⁴", saddle, saddle_np, (1.5, cfg["saddle_y0"]),
         cfg["saddle_steps"], cfg["saddle_lr"], cfg["saddle_adaptive_lr"], -0.25,
         ((-1.7, 1.7), (-1.5, 1.5))),
    ]
    results: dict[str, Any] = {}
    rows = []
    paths: dict[str, dict[str, Any]] = {}
    curves: dict[str, dict[str, list]] = {}
    for key, title, f, _, start, steps, lr, adaptive_lr, _, _ in ctx.progress(
            problems, desc="surfaces"):
        paths[key], curves[key] = {}, {}
        for name in OPTIMIZERS:
            points, losses = trajectory(f, start, name, steps, lr, adaptive_lr, cfg["momentum"])
            paths[key][name], curves[key][name] = points, losses
            for step in range(0, len(losses), max(1, len(losses) // 100)):
                ctx.log(key, step=step, optimizer=name, loss=losses[step])
            final = losses[-1]
            results[f"{key}_{name}_final_loss"] = final
            rows.append([title, name, steps, losses[0], final,
                         float(xp.linalg.norm(points[-1] - points[0]))])
    ctx.table("final_losses", ["surface", "optimizer", "steps", "initial loss", "final loss",
                               "distance travelled (start to end)"], rows,
              caption="Each optimizer from the same start for the same number of steps")
    results["saddle_Adam_final_y"] = float(abs(paths["saddle"]["Adam"][-1][1]))
    results["saddle_GD_final_y"] = float(abs(paths["saddle"]["GD"][-1][1]))
    _figures(ctx, problems, paths, curves)
    return results


def _figures(ctx: Any, problems: list, paths: dict, curves: dict) -> None:
    colours = dict(zip(OPTIMIZERS, ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                    "#8c564b"]))
    fig, axes = ctx.subplots(1, 3, figsize=(16, 5))
    for ax, (key, title, _, f_np, start, _, _, _, _, (xr, yr)) in zip(axes, problems):
        gx, gy = xp.meshgrid(xp.linspace(*xr, 300), xp.linspace(*yr, 300))
        z = f_np(gx, gy)
        if key == "rosenbrock":
            z = xp.log10(z + 1e-3)
        levels = 30
        ax.contour(gx, gy, z, levels=levels, cmap="Greys", linewidths=0.6)
        for name, points in paths[key].items():
            ax.plot(points[:, 0], points[:, 1], "-", lw=1.3, color=colours[name], label=name,
                    alpha=0.9)
        ax.plot(*start, "k*", ms=12)
        ax.set_xlim(*xr)
        ax.set_ylim(*yr)
        ax.set_title(title)
    axes[0].legend(fontsize=8, loc="upper right")
    ctx.figure("trajectories", fig, "Trajectories from the same start (black star) on contour "
               "plots (Rosenbrock's contours are of log₁₀ f).")
    fig, axes = ctx.subplots(1, 3, figsize=(16, 4))
    for ax, (key, title, *_rest) in zip(axes, problems):
        floor = _rest[6]
        for name, losses in curves[key].items():
            values = xp.array(losses) - floor
            ax.plot(xp.maximum(values, 1e-12), color=colours[name], label=name)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("f − f*")
        ax.set_title(title)
    axes[0].legend(fontsize=8)
    ctx.figure("losses", fig, "Loss above the minimum value against the step.")


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
