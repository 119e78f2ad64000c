"""Lecture 15: when the recurrent Jacobians expand, gradients explode; clipping them tames it.

Backpropagation through time multiplies the gradient by W_hhᵀ diag(1 − h_t²) once per step. If
the recurrent weights have spectral radius ρ(W_hh) > 1 the product can grow like ρᵀ (the
condition is necessary, not sufficient: saturated tanh units shrink it again). Pascanu, Mikolov
& Bengio (2013) pictured the loss surface of such a network as plateaus cut by steep cliffs: on
a cliff the gradient is enormous, one SGD step of lr·‖g‖ throws the weights far away, and the
loss spikes, sometimes beyond recovery. Their remedy rescales the gradient when its norm exceeds
a threshold, g ← g · threshold / ‖g‖ (``nn.utils.clip_grad_norm_``): the direction is kept and
only the step length is bounded. The experiment measures how ‖∂L/∂h_t‖ and ‖∂L/∂W_hh‖ grow with
ρ(W_hh) at initialization, then trains one RNN with ρ > 1 on the adding problem by SGD with and
without clipping (``Trainer``'s ``grad_clip``), from the same weights and the same batches.
"""

from __future__ import annotations

import math
from typing import Any

from neuralab.autograd import Tensor
from neuralab.backend import manual_seed, xp
from neuralab.data.datasets.adding import TRIVIAL_MSE, adding_problem
from neuralab.diagnostics.sequence import hidden_gradient_norms
from neuralab.experiments.toolkit import train_steps
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.models import create
from neuralab.nn.functional import mse_loss
from neuralab.nn.init import spectral_normal_
from neuralab.optim import SGD
from neuralab.plotting import colors
from neuralab.train import LossRecorder, Trainer


def rnn(cfg: dict, radius: float, seed: int) -> Any:
    """A tanh RNN, read out linearly; W_hh ~ N(0, 1/H) rescaled to spectral radius ``radius``."""
    manual_seed(seed)
    model = create("sequence_regressor", kind="rnn", hidden=cfg["hidden"])
    spectral_normal_(model.layer.weight_hh_l0, radius, generator=xp.random.default_rng(seed))
    return model


def _max(values: list[float]) -> float:
    return float(max(values)) if all(map(math.isfinite, values)) else math.inf


def train_one(cfg: dict, seed: int, batches: list, clip: float | None, ctx: Any) -> dict:
    """Train one RNN with ρ(W_hh) = cfg['radius'] by SGD; ``clip=None`` means no clipping."""
    label = "unclipped" if clip is None else "clipped"
    model = rnn(cfg, cfg["radius"], seed)
    record = LossRecorder(lambda step, **v: ctx.log("train", step=step, seed=seed, run=label, **v),
                          every=cfg["log_every"], grad_norm=True)  # ‖g‖ before clipping
    trainer = Trainer(model, SGD(model.parameters(), lr=cfg["lr"]), loss_fn=mse_loss,
                      grad_clip=clip, progress=False, log=None, callbacks=[record])
    if not train_steps(trainer, batches, len(batches)):  # NaN/inf: so would every later step be
        for values in (record.losses, record.grad_norms):
            values += [math.inf] * (len(batches) - len(values))
    losses, norms = record.losses, record.grad_norms
    applied = [min(n, clip) if clip is not None and math.isfinite(n) else n for n in norms]
    tail, finite = losses[-cfg["final_window"]:], [n for n in norms if math.isfinite(n)]
    return {"seed": seed, "run": label, "losses": losses, "norms": norms,
            "final_loss": float(xp.mean(tail)) if all(map(math.isfinite, tail)) else math.inf,
            "initial_loss": losses[0], "max_loss": _max(losses), "max_norm": _max(norms),
            "max_applied": _max(applied),
            "median_norm": float(xp.median(finite)) if finite else math.inf,
            "nonfinite_steps": sum(not math.isfinite(v) for v in losses),
            # Steps whose loss exceeds spike_factor times the median of the 20 steps before.
            "spikes": sum(not math.isfinite(losses[i])
                          or losses[i] > cfg["spike_factor"] * xp.median(losses[i - 20:i])
                          for i in range(20, len(losses)))}


def radius_sweep(cfg: dict, ctx: Any) -> list[dict]:
    """‖∂L/∂h_t‖ over t and ‖∂L/∂W_hh‖ at initialization for several spectral radii."""
    x, y = adding_problem(cfg["grad_examples"], cfg["T"], xp.random.default_rng(ctx.seed))
    rows = []
    for radius in map(float, cfg["sweep_radii"]):
        model = rnn(cfg, radius, ctx.seed)
        with xp.errstate(all="ignore"):
            norms, _ = hidden_gradient_norms(model, x, y)
            # hidden_gradient_norms clears the parameter gradients; rerun for ‖∂L/∂W_hh‖.
            mse_loss(model(Tensor(x)), Tensor(y)).backward()
        rows.append({"radius": radius, "norms": norms,
                     "growth": norms[0] / norms[-1] if norms[-1] > 0 else math.inf,
                     "w_hh_grad_norm": float(xp.linalg.norm(model.layer.weight_hh_l0.grad.array))})
        ctx.log("radius_sweep", **{k: v for k, v in rows[-1].items() if k != "norms"})
    return rows


def run(cfg: dict, ctx: Any) -> dict:
    sweep = radius_sweep(cfg, ctx)
    pairs = []
    for seed in ctx.progress(range(ctx.seed, ctx.seed + cfg["seeds"]), desc="seeds"):
        generator = xp.random.default_rng(seed + 1)  # the same batches with and without clipping
        batches = [tuple(map(Tensor, adding_problem(cfg["batch_size"], cfg["T"], generator)))
                   for _ in range(cfg["steps"])]
        pairs.append([train_one(cfg, seed, batches, clip, ctx) for clip in (None, cfg["clip"])])

    columns = {"seed": "seed", "run": "run", "max_norm": "max ‖g‖ before clipping",
               "median_norm": "median ‖g‖", "max_applied": "largest step ‖g‖ applied",
               "initial_loss": "initial loss", "max_loss": "max loss",
               "spikes": f"loss spikes (> {cfg['spike_factor']:g}× recent median)",
               "nonfinite_steps": "non-finite steps",
               "final_loss": f"final loss (last {cfg['final_window']})"}
    ctx.table("runs", list(columns.values()), [[r[k] for k in columns] for p in pairs for r in p],
              caption=f"tanh RNN, {cfg['hidden']} units, ρ(W_hh) = {cfg['radius']}, SGD lr "
                      f"{cfg['lr']}, batch {cfg['batch_size']}, adding problem T = {cfg['T']} "
                      f"(predicting the mean: MSE {TRIVIAL_MSE:.3f}); clipping threshold "
                      f"{cfg['clip']}.")
    ctx.table("radius_sweep", ["ρ(W_hh)", "‖∂L/∂h_1‖ / ‖∂L/∂h_T‖", "‖∂L/∂W_hh‖"],
              [[r["radius"], r["growth"], r["w_hh_grad_norm"]] for r in sweep],
              caption="At initialization, on one batch: below ρ = 1 the gradient shrinks going "
                      "back in time, above it grows.")
    figures(ctx, cfg, pairs, sweep)
    unclipped, clipped = zip(*pairs)
    return {
        "radius": cfg["radius"], "clip": cfg["clip"],
        "unclipped_max_norm": max(r["max_norm"] for r in unclipped),
        "clipped_max_applied_norm": max(r["max_applied"] for r in clipped),
        "unclipped_max_loss": max(r["max_loss"] for r in unclipped),
        "clipped_max_loss": max(r["max_loss"] for r in clipped),
        "unclipped_final_losses": [r["final_loss"] for r in unclipped],
        "clipped_final_losses": [r["final_loss"] for r in clipped],
        "initial_loss": float(xp.mean([r["initial_loss"] for r in unclipped])),
        "clipped_wins": sum(c["final_loss"] < u["final_loss"] for u, c in pairs),
        "sweep_radii": [r["radius"] for r in sweep],
        "sweep_growth": [r["growth"] for r in sweep],
    }


def figures(ctx: Any, cfg: dict, pairs: list, sweep: list) -> None:
    colours, cap = {"unclipped": "#c44e52", "clipped": "#4c72b0"}, 1e12  # diverged: at the top
    fig, (a1, a2) = ctx.subplots(1, 2, figsize=(12, 4))
    for i, r in enumerate(r for pair in pairs for r in pair):
        for ax, values in ((a1, r["losses"]), (a2, r["norms"])):
            ax.plot([min(v, cap) if math.isfinite(v) else cap for v in values], lw=0.8,
                    color=colours[r["run"]], alpha=0.8, label=r["run"] if i < 2 else None)
    a1.axhline(TRIVIAL_MSE, color="gray", ls="--", lw=1, label="predict the mean")
    a2.axhline(cfg["clip"], color="k", ls=":", lw=1, label="clipping threshold")
    a1.set(yscale="log", xlabel="SGD step", ylabel="training loss (MSE)",
           title=f"ρ(W_hh) = {cfg['radius']}: loss spikes without clipping")
    a2.set(yscale="log", xlabel="SGD step", ylabel="‖∂L/∂θ‖ before clipping",
           title="gradient norms")
    ctx.figure("training", fig, f"Training the same RNNs ({cfg['seeds']} seeds) with and without "
               "gradient clipping. Without it, a step taken on a gradient cliff throws the "
               "weights away and the loss jumps by orders of magnitude (values above 1e12 or not "
               "finite are drawn at 1e12).")

    fig, (a1, a2) = ctx.subplots(1, 2, figsize=(12, 4))
    for r, colour in zip(sweep, colors(len(sweep), "plasma")):
        a1.plot(range(1, len(r["norms"]) + 1), [max(v, 1e-45) for v in r["norms"]],
                color=colour, label=f"ρ = {r['radius']:g}")
    a1.set(yscale="log", xlabel="time step t", ylabel="‖∂L/∂h_t‖",
           title="backpropagated gradient at initialization")
    a2.plot([r["radius"] for r in sweep], [r["w_hh_grad_norm"] for r in sweep], "-o")
    a2.axvline(1.0, color="gray", ls="--", lw=1)
    a2.set(yscale="log", xlabel="spectral radius ρ(W_hh)", ylabel="‖∂L/∂W_hh‖",
           title="gradient norm against ρ(W_hh)")
    ctx.figure("radius_sweep", fig, "How the recurrent weights' spectral radius sets the growth "
               "or decay of the gradient through time.")


def verdict(results: dict, cfg: dict) -> Verdict:
    """Without clipping the gradient norm exceeds ``explode_factor`` x the clipped step and the
    loss spikes above ``spike_factor`` x its start; with clipping every final loss is finite
    and lower in most seeds."""
    clipped = [float(v) for v in results["clipped_final_losses"]]
    unclipped = [float(v) for v in results["unclipped_final_losses"]]
    result = judge([
        Comparison("largest unclipped gradient norm", float(results["unclipped_max_norm"]), ">",
                   f"{cfg['explode_factor']:g}x the largest clipped step",
                   cfg["explode_factor"] * float(results["clipped_max_applied_norm"]),
                   fmt=".2e"),
        Comparison("largest unclipped loss", float(results["unclipped_max_loss"]), ">",
                   f"{cfg['spike_factor']:g}x the initial loss",
                   cfg["spike_factor"] * float(results["initial_loss"]), fmt=".3g"),
        Comparison("clipped runs with a non-finite final loss",
                   sum(not math.isfinite(v) for v in clipped), "==", "none", 0, bound=True,
                   fmt="d"),
        Comparison("seeds where clipping ends lower", results["clipped_wins"], ">",
                   "half the seeds", len(clipped) / 2, fmt="g")])
    return Verdict(result.supported, result.reason + f" (median final loss "
                   f"{xp.median(clipped):.3g} clipped against {xp.median(unclipped):.3g})",
                   result.status)


EXPERIMENT = Experiment(
    name="exploding-gradients",
    lecture="L15",
    title="Exploding gradients in an RNN and gradient clipping",
    claim="With recurrent weights of spectral radius above 1 the gradient norm explodes and "
          "plain SGD's loss spikes; clipping the gradient norm (Pascanu et al., 2013) keeps "
          "training stable and ends at a lower loss.",
    run=run,
    verdict=verdict,
    defaults={"T": 50, "hidden": 32, "radius": 2.0, "lr": 0.05, "clip": 1.0, "steps": 1000,
              "batch_size": 32, "seeds": 5, "sweep_radii": [0.5, 0.9, 1.0, 1.2, 1.5, 2.0, 3.0],
              "grad_examples": 64, "final_window": 50, "spike_factor": 10.0,
              "explode_factor": 1000.0, "log_every": 5, "threads": 1},
    quick={"steps": 300, "seeds": 3},
    runtime="1 min",
    setup="A tanh RNN with {hidden} units and a linear read-out on the adding problem of length "
          "{T}; W_hh ~ N(0, 1/H) rescaled to spectral radius {radius}. Plain SGD (lr {lr}, "
          "batch {batch_size}, {steps} steps) from the same weights and batches, once without "
          "and once with `clip_grad_norm_` at {clip}, for {seeds} seeds. A radius sweep "
          "{sweep_radii} measures the gradients at initialization.",
)
