"""Lecture 15: when the recurrent Jacobians expand, gradients explode; clipping them tames it.

Backpropagation through time multiplies the gradient by W_hhᵀ diag(1 − h_t²) once per step. If
the recurrent weights have spectral radius ρ(W_hh) > 1 the product can grow like ρᵀ (the
condition is necessary, not sufficient: saturated tanh units shrink it again). Pascanu, Mikolov
& Bengio (2013) pictured the loss surface of such a network as plateaus cut by steep cliffs: on
a cliff the gradient is enormous, one SGD step of lr·‖g‖ throws the weights far away, and the
loss spikes, sometimes beyond recovery. Their remedy rescales the gradient when its norm exceeds
a threshold, g ← g · threshold / ‖g‖ (``nn.utils.clip_grad_norm_``): the direction is kept and
only the step length is bounded.

The experiment (1) measures at initialization how ‖∂L/∂h_t‖ and ‖∂L/∂W_hh‖ grow with ρ(W_hh), and
(2) trains the same tanh RNN, with ρ(W_hh) set above 1, by plain SGD with and without clipping
(``Trainer``'s ``grad_clip``) on the adding problem, from the same weights and the same batches.
"""

from __future__ import annotations

import math
from typing import Any

from neuralab.autograd import Tensor
from neuralab.backend import manual_seed, xp
from neuralab.data.datasets.adding import TRIVIAL_MSE, adding_problem
from neuralab.diagnostics.sequence import hidden_gradient_norms
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.models import create
from neuralab.nn.functional import mse_loss
from neuralab.nn.utils import clip_grad_norm_
from neuralab.optim import SGD
from neuralab.plotting import colors
from neuralab.train import Callback, Trainer, TrainingDiverged


def set_spectral_radius(model: Any, radius: float, seed: int) -> None:
    """Draw W_hh ~ N(0, 1/H) and rescale it so that its largest |eigenvalue| is ``radius``."""
    w = model.layer.weight_hh_l0.array
    draw = xp.random.default_rng(seed).standard_normal(w.shape) / math.sqrt(w.shape[0])
    w[...] = (draw * (radius / float(xp.abs(xp.linalg.eigvals(draw)).max()))).astype(w.dtype)


def rnn(cfg: dict, radius: float, seed: int) -> Any:
    manual_seed(seed)
    model = create("sequence_regressor", kind="rnn", hidden=cfg["hidden"])
    set_spectral_radius(model, radius, seed)
    return model


class LossAndNorm(Callback):
    """Every step's loss and gradient norm ‖∂L/∂θ‖ before clipping."""

    def __init__(self, ctx: Any, label: str, log_every: int):
        self.ctx, self.label, self.log_every = ctx, label, log_every
        self.losses: list[float] = []
        self.norms: list[float] = []

    def on_after_backward(self, trainer: Trainer, step: int) -> None:
        # clip_grad_norm_ returns the norm before clipping; an infinite threshold clips nothing.
        self.norms.append(float(clip_grad_norm_(trainer.model.parameters(), math.inf).item()))

    def on_batch_end(self, trainer: Trainer, step: int, loss: float, output: Any,
                     target: Any) -> None:
        self.losses.append(loss)
        if step % self.log_every == 0:
            self.ctx.log("train", step=step, seed=self.label[1], run=self.label[0], loss=loss,
                         grad_norm=self.norms[-1])


def train_one(cfg: dict, seed: int, batches: list, clip: float | None, ctx: Any) -> dict:
    """Train one RNN with ρ(W_hh) = cfg['radius'] by SGD; ``clip=None`` means no clipping."""
    model = rnn(cfg, cfg["radius"], seed)
    label = "clipped" if clip is not None else "unclipped"
    record = LossAndNorm(ctx, (label, seed), cfg["log_every"])
    trainer = Trainer(model, SGD(model.parameters(), lr=cfg["lr"]), loss_fn=mse_loss,
                      grad_clip=clip, progress=False, log=None, callbacks=[record])
    try:
        with xp.errstate(all="ignore"):
            trainer.fit(batches, epochs=1)
    except TrainingDiverged:  # the weights became NaN/inf: every later step would be too
        record.losses += [math.inf] * (len(batches) - len(record.losses))
        record.norms += [math.inf] * (len(batches) - len(record.norms))
    losses, norms = record.losses, record.norms
    applied = [min(n, clip) if clip is not None and math.isfinite(n) else n for n in norms]
    tail = losses[-cfg["final_window"]:]
    finite = [n for n in norms if math.isfinite(n)]
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


def _max(values: list[float]) -> float:
    return math.inf if not all(map(math.isfinite, values)) else float(max(values))


def radius_sweep(cfg: dict, seed: int) -> list[dict]:
    """‖∂L/∂h_t‖ over t and ‖∂L/∂W_hh‖ at initialization for several spectral radii."""
    x, y = adding_problem(cfg["grad_examples"], cfg["T"], xp.random.default_rng(seed))
    rows = []
    for radius in cfg["sweep_radii"]:
        model = rnn(cfg, float(radius), seed)
        with xp.errstate(all="ignore"):
            norms, _ = hidden_gradient_norms(model, x, y)
            # hidden_gradient_norms clears the parameter gradients; rerun for ‖∂L/∂W_hh‖.
            mse_loss(model(Tensor(x)), Tensor(y)).backward()
        rows.append({"radius": float(radius), "norms": norms,
                     "growth": norms[0] / norms[-1] if norms[-1] > 0 else math.inf,
                     "w_hh_grad_norm": float(xp.linalg.norm(model.layer.weight_hh_l0.grad.array))})
    return rows


def run(cfg: dict, ctx: Any) -> dict:
    sweep = radius_sweep(cfg, ctx.seed)
    for row in sweep:
        ctx.log("radius_sweep", radius=row["radius"], growth=row["growth"],
                w_hh_grad_norm=row["w_hh_grad_norm"])
    pairs = []
    for seed in ctx.progress(range(ctx.seed, ctx.seed + cfg["seeds"]), desc="seeds"):
        generator = xp.random.default_rng(seed + 1)  # the same batches with and without clipping
        batches = [tuple(map(Tensor, adding_problem(cfg["batch_size"], cfg["T"], generator)))
                   for _ in range(cfg["steps"])]
        pairs.append([train_one(cfg, seed, batches, clip, ctx) for clip in (None, cfg["clip"])])

    ctx.table("runs", ["seed", "run", "max ‖g‖ before clipping", "median ‖g‖",
                       "largest step ‖g‖ applied", "initial loss", "max loss",
                       f"loss spikes (> {cfg['spike_factor']:g}× recent median)",
                       "non-finite steps", f"final loss (last {cfg['final_window']})"],
              [[r["seed"], r["run"], r["max_norm"], r["median_norm"], r["max_applied"],
                r["initial_loss"], r["max_loss"], r["spikes"], r["nonfinite_steps"],
                r["final_loss"]] for pair in pairs for r in pair],
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
    colours = {"unclipped": "#c44e52", "clipped": "#4c72b0"}
    cap = 1e12  # a diverged run is drawn at the top of the axis
    fig, (a1, a2) = ctx.subplots(1, 2, figsize=(12, 4))
    for i, pair in enumerate(pairs):
        for r in pair:
            for ax, values in ((a1, r["losses"]), (a2, r["norms"])):
                ax.plot([min(v, cap) if math.isfinite(v) else cap for v in values],
                        color=colours[r["run"]], lw=0.8, alpha=0.8,
                        label=r["run"] if i == 0 else None)
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
