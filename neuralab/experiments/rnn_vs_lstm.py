"""Lecture 15: a vanilla RNN cannot learn long-range dependencies; an LSTM can. In the adding
problem (Hochreiter & Schmidhuber, 1997) the target, read at the last step, is the sum of two
marked values, one in each half of the sequence; predicting the mean scores MSE = 1/6.
Backpropagation through time multiplies the gradient by W_hhᵀ diag(1 − h_t²) at every step of a
tanh RNN, so ‖∂L/∂h_t‖ shrinks geometrically away from the loss and the first marked value gets
no signal; the LSTM's cell carries its error back through forget gates alone, c̄_{t−1} = c̄_t ⊙ f_t,
which can stay close to 1 for many steps.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd import Tensor, no_grad
from neuralab.backend import manual_seed, xp
from neuralab.data.datasets.adding import TRIVIAL_MSE, adding_problem
from neuralab.diagnostics.sequence import hidden_gradient_norms
from neuralab.lab import NOT_SHOWN, Comparison, Experiment, Verdict, judge
from neuralab.models import create
from neuralab.nn.functional import mse_loss
from neuralab.optim import Adam
from neuralab.train import Trainer

COLORS = {"rnn": "#c44e52", "lstm": "#4c72b0"}


def train_one(cfg: dict, kind: str, T: int, ctx: Any) -> dict:  # noqa: N803
    """One model trained on the adding problem of length T: its held-out MSE, ‖∂L/∂h_t‖ before
    and after training, and grad_decay = ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ (what reaches the first step)."""
    manual_seed(ctx.seed)
    model = create("sequence_regressor", kind=kind, hidden=cfg["hidden"])
    probe = adding_problem(cfg["grad_examples"], T, xp.random.default_rng(ctx.seed))
    norms = {"init": hidden_gradient_norms(model, *probe)[0]}
    generator = xp.random.default_rng(ctx.seed + T)  # fresh batches, the same for both models
    batches = (tuple(map(Tensor, adding_problem(cfg["batch_size"], T, generator)))
               for _ in range(cfg["steps"]))
    Trainer(model, Adam(model.parameters(), lr=cfg["lr"]), loss_fn=mse_loss, grad_clip=cfg["clip"],
            progress=ctx.show_progress, log=None).fit(batches, epochs=1)
    norms["trained"] = hidden_gradient_norms(model, *probe)[0]
    for when, values in norms.items():
        ctx.log("hidden_grads", model=kind, T=T, when=when, norms=values)
    x, y = adding_problem(cfg["eval_examples"], T, xp.random.default_rng(10_000 + T))
    with no_grad():
        final_mse = float(mse_loss(model(Tensor(x)), Tensor(y)).item())
    return {"norms": norms, "final_mse": final_mse,
            **{f"grad_decay_{when}": v[0] / v[-1] if v[-1] > 0 else xp.nan
               for when, v in norms.items()}}


def run(cfg: dict, ctx: Any) -> dict:
    lengths, kinds = [int(T) for T in cfg["lengths"]], cfg["models"]
    runs = {(kind, T): train_one(cfg, kind, T, ctx) for T in lengths for kind in kinds}
    fig, axes = ctx.subplots(1, len(lengths), figsize=(4.6 * len(lengths), 3.7), squeeze=False)
    for ax, T in zip(axes[0], lengths):
        for kind in kinds:
            for when, style in (("init", ":"), ("trained", "-")):
                ax.plot(range(1, T + 1), [max(v, 1e-45) for v in runs[kind, T]["norms"][when]],
                        style, color=COLORS[kind], label=f"{kind.upper()} {when}")
        ax.set(yscale="log", xlabel="time step t", ylabel="‖∂L/∂h_t‖", title=f"T = {T}")
    ctx.figure("hidden_gradients", fig, "‖∂L/∂h_t‖, the loss read at t = T (0 drawn at 1e-45). "
               "The first marker lies in t ≤ T/2: a gradient fallen by orders of magnitude there "
               "teaches the RNN nothing.")
    return {"lengths": lengths, **{f"{kind}_T{T}_{key}": value for (kind, T), r in runs.items()
                                   for key, value in r.items() if key != "norms"}}


def verdict(results: dict, cfg: dict) -> Verdict:
    """At the longest T the LSTM solves the adding problem (held-out MSE below ``solved_mse``)
    and the tanh RNN stays near the trivial MSE (above ``failed_mse``)."""
    T = max(int(t) for t in results["lengths"])  # noqa: N806
    if f"rnn_T{T}_final_mse" not in results or f"lstm_T{T}_final_mse" not in results:
        return Verdict(False, "the run did not train both the RNN and the LSTM", NOT_SHOWN)
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
    defaults={"lengths": [50, 100, 200], "models": ["rnn", "lstm"], "hidden": 32, "steps": 3000,
              "batch_size": 64, "lr": 0.01, "clip": 1.0, "eval_examples": 1000,
              "grad_examples": 64, "solved_mse": 0.05, "failed_mse": 0.1, "threads": 1},
    quick={"lengths": [50], "steps": 1000, "eval_examples": 500},
    runtime="8 min",
    setup="The adding problem of lengths {lengths}: one-layer {models} of {hidden} units read out "
          "at the last step, {steps} Adam steps on fresh batches of {batch_size} (lr {lr}, norm "
          "clipped at {clip}); ‖∂L/∂h_t‖ on {grad_examples} sequences before and after training.",
)
