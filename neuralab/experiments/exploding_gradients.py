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
on the adding problem, from the same weights and with the same batches.
"""

from __future__ import annotations

import math
from typing import Any

from neuralab.autograd import Tensor
from neuralab.backend import manual_seed, xp
from neuralab.data.datasets.adding import TRIVIAL_MSE, adding_problem
from neuralab.diagnostics.sequence import hidden_gradient_norms
from neuralab.experiments.base import Comparison, Experiment, Verdict, judge
from neuralab.models import create
from neuralab.nn.functional import mse_loss
from neuralab.nn.utils import clip_grad_norm_
from neuralab.optim import SGD


def set_spectral_radius(model: Any, radius: float, seed: int) -> None:
    """Draw W_hh ~ N(0, 1/H) and rescale it so that its largest |eigenvalue| is ``radius``."""
    w = model.layer.weight_hh_l0.array
    H = w.shape[0]
    draw = xp.random.default_rng(seed).standard_normal((H, H)) / math.sqrt(H)
    rho = float(xp.abs(xp.linalg.eigvals(draw)).max())
    w[...] = (draw * (radius / rho)).astype(w.dtype)


def _raw_norm(params: list[Any]) -> float:
    total = 0.0
    for p in params:
        if p.grad is not None:
            total += float(xp.sum(xp.square(p.grad.array, dtype=xp.float64)))
    return math.sqrt(total)


def train_one(cfg: dict, seed: int, clip: float | None, ctx: Any) -> dict:
    """Train one RNN with ρ(W_hh) = cfg['radius'] by SGD; ``clip=None`` means no clipping."""
    manual_seed(seed)
    model = create("sequence_regressor", kind="rnn", hidden=cfg["hidden"])
    set_spectral_radius(model, cfg["radius"], seed)
    params = list(model.parameters())
    opt = SGD(params, lr=cfg["lr"])
    generator = xp.random.default_rng(seed + 1)  # the same batches with and without clipping
    label = "clipped" if clip is not None else "unclipped"
    losses, norms, applied = [], [], []
    for step in ctx.progress(range(cfg["steps"]), desc=f"{label} seed {seed}"):
        x, y = adding_problem(cfg["batch_size"], cfg["T"], generator)
        with xp.errstate(all="ignore"):  # a diverged run overflows: recorded, not raised
            loss = mse_loss(model(Tensor(x)), Tensor(y))
            opt.zero_grad()
            loss.backward()
            norm = _raw_norm(params)
            if clip is not None:
                clip_grad_norm_(params, clip)
            opt.step()
        losses.append(float(loss.item()))
        norms.append(norm)
        applied.append(min(norm, clip) if clip is not None and math.isfinite(norm) else norm)
        if step % cfg["log_every"] == 0:
            ctx.log("train", step=step, seed=seed, run=label, loss=losses[-1], grad_norm=norm)
    tail = losses[-cfg["final_window"]:]
    final = float(xp.mean(tail)) if all(math.isfinite(v) for v in tail) else math.inf
    finite_norms = [n for n in norms if math.isfinite(n)]
    return {"seed": seed, "run": label, "losses": losses, "norms": norms,
            "final_loss": final, "initial_loss": losses[0], "max_loss": _max(losses),
            "max_norm": _max(norms), "max_applied": _max(applied),
            "median_norm": float(xp.median(finite_norms)) if finite_norms else math.inf,
            "nonfinite_steps": sum(not math.isfinite(v) for v in losses),
            "spikes": _spikes(losses, cfg["spike_factor"])}


def _max(values: list[float]) -> float:
    return math.inf if any(not math.isfinite(v) for v in values) else float(max(values))


def _spikes(losses: list[float], factor: float) -> int:
    """Steps whose loss exceeds ``factor`` times the median of the 20 steps before."""
    count = 0
    for i in range(20, len(losses)):
        before = xp.median(losses[i - 20:i])
        if not math.isfinite(losses[i]) or (math.isfinite(before) and losses[i] > factor * before):
            count += 1
    return count


def radius_sweep(cfg: dict, seed: int) -> list[dict]:
    """‖∂L/∂h_t‖ over t and ‖∂L/∂W_hh‖ at initialization for several spectral radii."""
    x, y = adding_problem(cfg["grad_examples"], cfg["T"], xp.random.default_rng(seed))
    rows = []
    for radius in cfg["sweep_radii"]:
        manual_seed(seed)
        model = create("sequence_regressor", kind="rnn", hidden=cfg["hidden"])
        set_spectral_radius(model, float(radius), seed)
        with xp.errstate(all="ignore"):
            norms, _ = hidden_gradient_norms(model, x, y)
            # hidden_gradient_norms clears the parameter gradients; rerun for ‖∂L/∂W_hh‖.
            mse_loss(model(Tensor(x)), Tensor(y)).backward()
        w_grad = model.layer.weight_hh_l0.grad
        rows.append({"radius": float(radius), "norms": norms,
                     "growth": norms[0] / norms[-1] if norms[-1] > 0 else math.inf,
                     "w_hh_grad_norm": float(xp.linalg.norm(w_grad.array)) if w_grad is not None
                     else 0.0})
    return rows


def run(cfg: dict, ctx: Any) -> dict:
    sweep = radius_sweep(cfg, ctx.seed)
    for row in sweep:
        ctx.log("radius_sweep", radius=row["radius"], growth=row["growth"],
                w_hh_grad_norm=row["w_hh_grad_norm"])
    pairs = []
    for i in range(cfg["seeds"]):
        seed = ctx.seed + i
        pairs.append((train_one(cfg, seed, None, ctx), train_one(cfg, seed, cfg["clip"], ctx)))

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
    _figures(ctx, cfg, pairs, sweep)

    unclipped = [u for u, _ in pairs]
    clipped = [c for _, c in pairs]
    wins = sum(c["final_loss"] < u["final_loss"] for u, c in pairs)
    return {
        "radius": cfg["radius"], "clip": cfg["clip"], "seeds": cfg["seeds"],
        "unclipped_max_norm": max(r["max_norm"] for r in unclipped),
        "clipped_max_norm_before_clipping": max(r["max_norm"] for r in clipped),
        "clipped_max_applied_norm": max(r["max_applied"] for r in clipped),
        "unclipped_max_loss": max(r["max_loss"] for r in unclipped),
        "clipped_max_loss": max(r["max_loss"] for r in clipped),
        "unclipped_spikes": sum(r["spikes"] for r in unclipped),
        "clipped_spikes": sum(r["spikes"] for r in clipped),
        "unclipped_final_losses": [r["final_loss"] for r in unclipped],
        "clipped_final_losses": [r["final_loss"] for r in clipped],
        "initial_loss": float(xp.mean([r["initial_loss"] for r in unclipped])),
        "clipped_wins": wins,
        "sweep_radii": [r["radius"] for r in sweep],
        "sweep_growth": [r["growth"] for r in sweep],
        "sweep_w_hh_grad_norm": [r["w_hh_grad_norm"] for r in sweep],
    }


def _figures(ctx: Any, cfg: dict, pairs: list, sweep: list) -> None:
    colors = {"unclipped": "#c44e52", "clipped": "#4c72b0"}
    cap = 1e12  # a diverged run is drawn at the top of the axis
    fig, (a1, a2) = ctx.subplots(1, 2, figsize=(12, 4))
    for i, pair in enumerate(pairs):
        for r in pair:
            losses = [min(v, cap) if math.isfinite(v) else cap for v in r["losses"]]
            norms = [min(v, cap) if math.isfinite(v) else cap for v in r["norms"]]
            label = r["run"] if i == 0 else None
            a1.plot(losses, color=colors[r["run"]], lw=0.8, alpha=0.8, label=label)
            a2.plot(norms, color=colors[r["run"]], lw=0.8, alpha=0.8, label=label)
    a1.axhline(TRIVIAL_MSE, color="gray", ls="--", lw=1, label="predict the mean")
    a2.axhline(cfg["clip"], color="k", ls=":", lw=1, label="clipping threshold")
    for ax, ylabel in ((a1, "training loss (MSE)"), (a2, "‖∂L/∂θ‖ before clipping")):
        ax.set_yscale("log")
        ax.set_xlabel("SGD step")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)
    a1.set_title(f"ρ(W_hh) = {cfg['radius']}: loss spikes without clipping")
    a2.set_title("gradient norms")
    fig.tight_layout()
    ctx.figure("training", fig, f"Training the same RNNs ({cfg['seeds']} seeds) with and without "
               "gradient clipping. Without it, a step taken on a gradient cliff throws the "
               "weights away and the loss jumps by orders of magnitude (values above 1e12 or not "
               "finite are drawn at 1e12).")

    fig, (a1, a2) = ctx.subplots(1, 2, figsize=(12, 4))
    cmap = _cmap()
    for i, r in enumerate(sweep):
        a1.plot(range(1, len(r["norms"]) + 1), [max(v, 1e-45) for v in r["norms"]],
                color=cmap(i / max(1, len(sweep) - 1)), label=f"ρ = {r['radius']:g}")
    a1.set_yscale("log")
    a1.set_xlabel("time step t")
    a1.set_ylabel("‖∂L/∂h_t‖")
    a1.set_title("backpropagated gradient at initialization")
    a1.legend(fontsize=8)
    a2.plot([r["radius"] for r in sweep], [r["w_hh_grad_norm"] for r in sweep], "-o")
    a2.axvline(1.0, color="gray", ls="--", lw=1)
    a2.set_yscale("log")
    a2.set_xlabel("spectral radius ρ(W_hh)")
    a2.set_ylabel("‖∂L/∂W_hh‖")
    a2.set_title("gradient norm against ρ(W_hh)")
    fig.tight_layout()
    ctx.figure("radius_sweep", fig, "How the recurrent weights' spectral radius sets the growth "
               "or decay of the gradient through time.")


def _cmap() -> Any:
    import matplotlib

    return matplotlib.colormaps["plasma"]


def verdict(results: dict, cfg: dict) -> Verdict:
    """Without clipping the gradient norm exceeds ``explode_factor`` x the clipped step and the
    loss spikes above ``spike_factor`` x its start; with clipping every final loss is finite
    and lower in most seeds."""
    clipped_final = [float(v) for v in results["clipped_final_losses"]]
    unclipped_final = [float(v) for v in results["unclipped_final_losses"]]
    initial = float(results["initial_loss"])
    checks = [
        Comparison("largest unclipped gradient norm", float(results["unclipped_max_norm"]), ">",
                   f"{cfg['explode_factor']:g}x the largest clipped step",
                   cfg["explode_factor"] * float(results["clipped_max_applied_norm"]),
                   fmt=".2e"),
        Comparison("largest unclipped loss", float(results["unclipped_max_loss"]), ">",
                   f"{cfg['spike_factor']:g}x the initial loss", cfg["spike_factor"] * initial,
                   fmt=".3g"),
        Comparison("clipped runs with a non-finite final loss",
                   sum(not math.isfinite(v) for v in clipped_final), "==", "none", 0,
                   bound=True, fmt="d"),
        Comparison("seeds where clipping ends lower", results["clipped_wins"], ">",
                   "half the seeds", len(clipped_final) / 2, fmt="g")]
    verdict = judge(checks)
    return Verdict(verdict.supported, verdict.reason + f" (median final loss "
                   f"{xp.median(clipped_final):.3g} clipped against "
                   f"{xp.median(unclipped_final):.3g})", verdict.status)


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
