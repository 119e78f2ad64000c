"""Lecture 15: when the recurrent Jacobians expand, gradients explode; clipping them tames it.

Backpropagation through time multiplies the gradient by W_hhᵀ diag(1 − h_t²) per step, so with
ρ(W_hh) > 1 it can grow like ρᵀ and one SGD step of lr·‖g‖ throws the weights off a cliff of the
loss (Pascanu et al., 2013); clipping (``grad_clip``) rescales g to a threshold, bounding the step.
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
from neuralab.train import LossRecorder, Trainer


def rnn(cfg: dict, radius: float, seed: int) -> Any:
    """A tanh RNN, read out linearly; W_hh ~ N(0, 1/H) rescaled to spectral radius ``radius``."""
    manual_seed(seed)
    model = create("sequence_regressor", kind="rnn", hidden=cfg["hidden"])
    spectral_normal_(model.layer.weight_hh_l0, radius, generator=xp.random.default_rng(seed))
    return model


def finite(reduce: Any, values: list[float]) -> float:  # inf when a value is not finite
    return float(reduce(values)) if all(map(math.isfinite, values)) else math.inf


def train_one(cfg: dict, seed: int, batches: list, clip: float | None, ctx: Any) -> dict:
    """Train one RNN with ρ(W_hh) = cfg['radius'] by SGD; ``clip=None`` means no clipping."""
    label = "unclipped" if clip is None else "clipped"
    record = LossRecorder(lambda step, **v: ctx.log("train", step=step, seed=seed, run=label, **v),
                          every=cfg["log_every"], grad_norm=True)  # ‖g‖ before clipping
    model = rnn(cfg, cfg["radius"], seed)
    trainer = Trainer(model, SGD(model.parameters(), lr=cfg["lr"]), loss_fn=mse_loss,
                      grad_clip=clip, progress=False, log=None, callbacks=[record])
    if not train_steps(trainer, batches, len(batches)):  # NaN/inf: so would every later step be
        for values in (record.losses, record.grad_norms):
            values += [math.inf] * (len(batches) - len(values))
    losses, norms = record.losses, record.grad_norms
    applied = [min(n, clip) if clip is not None and math.isfinite(n) else n for n in norms]
    return {"run": label, "losses": losses, "norms": norms, "initial_loss": losses[0],
            "final_loss": finite(xp.mean, losses[-cfg["final_window"]:]),
            "max_loss": finite(max, losses), "max_norm": finite(max, norms),
            "max_applied": finite(max, applied)}


def run(cfg: dict, ctx: Any) -> dict:
    x, y = adding_problem(cfg["grad_examples"], cfg["T"], xp.random.default_rng(ctx.seed))
    with xp.errstate(all="ignore"):  # ‖∂L/∂h_t‖, t = 1..T, at initialization for each radius
        sweep = {radius: hidden_gradient_norms(rnn(cfg, radius, ctx.seed), x, y)[0]
                 for radius in map(float, cfg["sweep_radii"])}
    pairs = []
    for seed in ctx.progress(range(ctx.seed, ctx.seed + cfg["seeds"]), desc="seeds"):
        generator = xp.random.default_rng(seed + 1)  # the same batches with and without clipping
        batches = [tuple(map(Tensor, adding_problem(cfg["batch_size"], cfg["T"], generator)))
                   for _ in range(cfg["steps"])]
        pairs.append([train_one(cfg, seed, batches, clip, ctx) for clip in (None, cfg["clip"])])
    figures(ctx, cfg, pairs)
    unclipped, clipped = zip(*pairs)
    return {
        "clip": cfg["clip"],
        "unclipped_max_norm": max(r["max_norm"] for r in unclipped),
        "clipped_max_applied_norm": max(r["max_applied"] for r in clipped),
        "unclipped_max_loss": max(r["max_loss"] for r in unclipped),
        "clipped_max_loss": max(r["max_loss"] for r in clipped),
        "unclipped_final_losses": [r["final_loss"] for r in unclipped],
        "clipped_final_losses": [r["final_loss"] for r in clipped],
        "initial_loss": float(xp.mean([r["initial_loss"] for r in unclipped])),
        "clipped_wins": sum(c["final_loss"] < u["final_loss"] for u, c in pairs),
        "sweep_radii": list(sweep),
        "sweep_growth": [h[0] / h[-1] if h[-1] > 0 else math.inf for h in sweep.values()],
    }


def figures(ctx: Any, cfg: dict, pairs: list) -> None:
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
               "clipping: without it, a step on a gradient cliff throws the weights away and the "
               "loss jumps by orders of magnitude (above 1e12 or not finite: drawn at 1e12).")


def verdict(results: dict, cfg: dict) -> Verdict:
    """Unclipped: the gradient norm above ``explode_factor`` x the clipped step, the loss above
    ``spike_factor`` x its start; clipped: every final loss finite and lower in most seeds."""
    clipped = [float(v) for v in results["clipped_final_losses"]]
    return judge([
        Comparison("largest unclipped gradient norm", float(results["unclipped_max_norm"]), ">",
                   f"{cfg['explode_factor']:g}x the largest clipped step",
                   cfg["explode_factor"] * float(results["clipped_max_applied_norm"]), fmt=".2e"),
        Comparison("largest unclipped loss", float(results["unclipped_max_loss"]), ">",
                   f"{cfg['spike_factor']:g}x the initial loss",
                   cfg["spike_factor"] * float(results["initial_loss"]), fmt=".3g"),
        Comparison("clipped runs with a non-finite final loss",
                   sum(not math.isfinite(v) for v in clipped), "==", "none", 0, bound=True,
                   fmt="d"),
        Comparison("seeds where clipping ends lower", results["clipped_wins"], ">",
                   "half the seeds", len(clipped) / 2, fmt="g")])


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
    setup="A tanh RNN ({hidden} units, linear read-out) on the adding problem of length {T}; "
          "W_hh ~ N(0, 1/H) rescaled to spectral radius {radius}. Plain SGD (lr {lr}, batch "
          "{batch_size}, {steps} steps), same weights and batches, without and with "
          "`clip_grad_norm_` at {clip}, {seeds} seeds; gradients at init for radii {sweep_radii}.",
)
