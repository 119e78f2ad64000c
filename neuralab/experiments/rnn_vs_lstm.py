"""Lecture 15: a vanilla RNN cannot learn long-range dependencies; an LSTM can.

The adding problem (Hochreiter & Schmidhuber, 1997): each step is a pair (value, marker), values
uniform on [0, 1]; the target, read at the last step, is the sum of the two marked values, one in
each half of the sequence. Predicting the mean sum, 1, scores MSE = Var(u₁ + u₂) = 2/12 ≈ 0.167;
doing better requires carrying information across up to T steps.

Backpropagation through time multiplies the gradient by one Jacobian per step,

    h̄_{t−1} = W_hhᵀ (h̄_t ⊙ (1 − h_t²))   (tanh RNN),

so ‖∂L/∂h_t‖ shrinks geometrically as t moves away from the loss when the Jacobians are
contractive: the marked values at the start of a long sequence receive no gradient signal. The
LSTM's memory cell carries its error back as c̄_{t−1} = c̄_t ⊙ f_t, a product of forget gates with
no weight matrix and no squashing derivative, which can stay close to 1 for many steps. Both are
trained on several lengths; ``diagnostics.hidden_gradient_norms`` measures ‖∂L/∂h_t‖ for every t.
"""

from __future__ import annotations

import math
from typing import Any

from neuralab.autograd import Tensor, no_grad
from neuralab.backend import manual_seed, xp
from neuralab.data.datasets.adding import TRIVIAL_MSE, adding_problem
from neuralab.diagnostics.sequence import hidden_gradient_norms
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.models import create
from neuralab.nn.functional import mse_loss
from neuralab.optim import Adam
from neuralab.train import LossRecorder, StepEvaluator, Trainer

COLORS = {"rnn": "#c44e52", "lstm": "#4c72b0"}


def held_out_mse(model: Any, x: Any, y: Any) -> float:
    with no_grad():
        return float(mse_loss(model(Tensor(x)), Tensor(y)).item())


def train_one(cfg: dict, kind: str, T: int, ctx: Any, held_out: tuple) -> dict:  # noqa: N803
    """Train one model on the adding problem of length T (Adam, gradient norm clipped); its
    held-out curve and ‖∂L/∂h_t‖ before and after training."""
    manual_seed(ctx.seed)
    model = create("sequence_regressor", kind=kind, hidden=cfg["hidden"])
    probe = adding_problem(cfg["grad_examples"], T, xp.random.default_rng(ctx.seed))
    norms = {"init": hidden_gradient_norms(model, *probe)[0]}
    label = {"model": kind, "T": T}
    losses = LossRecorder(lambda step, **v: ctx.log("train", step=step, **label, **v),
                          every=cfg["log_every"], grad_norm=True)
    curve = StepEvaluator(lambda: held_out_mse(model, *held_out), cfg["eval_every"], cfg["steps"],
                          log=lambda step, mse: ctx.log("eval", step=step, **label, mse=mse))
    generator = xp.random.default_rng(ctx.seed + T)  # fresh batches, the same for both models
    batches = (tuple(map(Tensor, adding_problem(cfg["batch_size"], T, generator)))
               for _ in range(cfg["steps"]))
    Trainer(model, Adam(model.parameters(), lr=cfg["lr"]), loss_fn=mse_loss,
            grad_clip=cfg["clip"], progress=ctx.show_progress, log=None,
            callbacks=[losses, curve]).fit(batches, epochs=1)
    norms["trained"] = hidden_gradient_norms(model, *probe)[0]
    for when, values in norms.items():
        ctx.log("hidden_grads", model=kind, T=T, when=when, norms=values)
    # ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖: how much of the gradient reaches the first step.
    decay = {when: v[0] / v[-1] if v[-1] > 0 else math.nan for when, v in norms.items()}
    return {"curve": curve.history, "norms": norms, "final_mse": curve.history[-1][1],
            "best_mse": min(m for _, m in curve.history), "grad_decay_init": decay["init"],
            "grad_decay_trained": decay["trained"]}


def run(cfg: dict, ctx: Any) -> dict:
    lengths, kinds = [int(T) for T in cfg["lengths"]], cfg["models"]
    runs = {}
    for T in lengths:
        held_out = adding_problem(cfg["eval_examples"], T, xp.random.default_rng(10_000 + T))
        runs.update({(kind, T): train_one(cfg, kind, T, ctx, held_out) for kind in kinds})
    keys = ("final_mse", "best_mse", "grad_decay_init", "grad_decay_trained")
    ctx.table("mse", ["model", "T", "final held-out MSE", "best held-out MSE",
                      "‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ at init", "same after training"],
              [[kind.upper(), T, *(r[k] for k in keys)] for (kind, T), r in runs.items()],
              caption=f"Held-out MSE on {cfg['eval_examples']} sequences after {cfg['steps']} "
                      f"Adam steps (lr {cfg['lr']}, batch {cfg['batch_size']}, hidden "
                      f"{cfg['hidden']}, gradient norm clipped at {cfg['clip']}); predicting the "
                      f"mean scores {TRIVIAL_MSE:.3f}.")

    fig, axes = ctx.subplots(1, len(lengths), figsize=(4.6 * len(lengths), 3.7), squeeze=False)
    for ax, T in zip(axes[0], lengths):
        for kind in kinds:
            ax.plot(*zip(*runs[kind, T]["curve"]), color=COLORS[kind], label=kind.upper())
        ax.axhline(TRIVIAL_MSE, color="gray", ls="--", lw=1, label="predict the mean")
        ax.set(yscale="log", xlabel="training step", ylabel="held-out MSE",
               title=f"adding problem, T = {T}")
    ctx.figure("mse_curves", fig, "Held-out mean squared error during training; the dashed line "
               "is the MSE of always predicting 1.")
    fig, axes = ctx.subplots(1, len(lengths), figsize=(4.6 * len(lengths), 3.7), squeeze=False)
    for ax, T in zip(axes[0], lengths):
        for kind in kinds:
            for when, style in (("init", ":"), ("trained", "-")):
                ax.plot(range(1, T + 1), [max(v, 1e-45) for v in runs[kind, T]["norms"][when]],
                        style, color=COLORS[kind], label=f"{kind.upper()} {when}")
        ax.set(yscale="log", xlabel="time step t", ylabel="‖∂L/∂h_t‖", title=f"T = {T}")
    ctx.figure("hidden_gradients", fig, "The norm of the loss's gradient with respect to each "
               "hidden state, for a batch of sequences (loss read at t = T). The first marker lies "
               "in t ≤ T/2: where the curve has fallen by orders of magnitude, the RNN cannot "
               "learn what happened there. A gradient that underflows float32 to exactly 0 is "
               "drawn at 1e-45.")
    return {"lengths": lengths, "trivial_mse": TRIVIAL_MSE,
            **{f"{kind}_T{T}_{k}": r[k] for (kind, T), r in runs.items() for k in keys}}


def verdict(results: dict, cfg: dict) -> Verdict:
    """At the longest T the LSTM solves the adding problem (held-out MSE below ``solved_mse``)
    and the tanh RNN stays near the trivial MSE (above ``failed_mse``)."""
    T = max(int(t) for t in results["lengths"])  # noqa: N806
    if f"rnn_T{T}_final_mse" not in results or f"lstm_T{T}_final_mse" not in results:
        return Verdict(False, "the run did not train both the RNN and the LSTM",
                       "not shown at this scale")
    rnn, lstm = float(results[f"rnn_T{T}_final_mse"]), float(results[f"lstm_T{T}_final_mse"])
    return judge([
        Comparison("LSTM held-out MSE", lstm, "<", "solved", cfg["solved_mse"], bound=True,
                   fmt=".4f"),
        Comparison("tanh RNN held-out MSE", rnn, ">", "failed", cfg["failed_mse"], bound=True,
                   fmt=".4f"),
        Comparison("LSTM held-out MSE", lstm, "<", "the RNN's", rnn, fmt=".4f")],
        tested=f"T = {T} (predicting the mean: {TRIVIAL_MSE:.3f})")


EXPERIMENT = Experiment(
    name="rnn-vs-lstm",
    lecture="L15",
    title="The adding problem: a vanilla RNN against an LSTM",
    claim="On the adding problem with long sequences a tanh RNN stays at the trivial MSE "
          "(≈ 0.167) because ‖∂L/∂h_t‖ vanishes going back in time, while an LSTM solves it.",
    run=run,
    verdict=verdict,
    defaults={"lengths": [50, 100, 200], "models": ["rnn", "lstm"], "hidden": 32,
              "steps": 3000, "batch_size": 64, "lr": 0.01, "clip": 1.0, "eval_examples": 1000,
              "eval_every": 100, "log_every": 10, "grad_examples": 64, "solved_mse": 0.05,
              "failed_mse": 0.1, "threads": 1},
    quick={"lengths": [50], "steps": 1000, "eval_examples": 500},
    runtime="8 min",
    setup="The adding problem with sequence lengths {lengths}: a one-layer {models} with "
          "{hidden} hidden units and a linear read-out at the last step, trained on fresh "
          "batches of {batch_size} sequences for {steps} Adam steps (lr {lr}, gradient norm "
          "clipped at {clip}). ‖∂L/∂h_t‖ is measured on {grad_examples} sequences at "
          "initialization and after training.",
)
