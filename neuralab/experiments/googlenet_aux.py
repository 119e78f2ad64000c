"""GoogLeNet session: the auxiliary classifiers (Szegedy et al., 2015, Sec. 5).

GoogLeNet is 22 layers deep. To "encourage discrimination in the lower stages, increase the
gradient signal that gets propagated back, and provide additional regularization", two small
classifiers sit on the outputs of inception4a and inception4d during training. Their
cross-entropies are added to the main one with weight 0.3:

    L = CE(main) + 0.3·(CE(aux1) + CE(aux2))

so the lower layers receive, besides the gradient through the whole upper network, a short-path
gradient from a nearby classifier. At test time the heads are discarded. The paper reports the
effect as minor (about 0.5% top-1), and the Inception-v3 paper later found they help as
regularisers near the end of training rather than by speeding up early training.

Here a width-scaled GoogLeNet (all nine Inception modules, ``neuralab.models.googlenet``'s
``Inception`` blocks and ``googlenet_loss``) trains on CIFAR-10 with and without the heads from
the same initial weights on the same mini-batches. Learning curves, test errors, and the norm of
the gradient reaching the lowest layers are compared.

Runtime: quick mode (2,000 images at 16x16, width x0.125, 2 epochs) about 30 s of one core; full
mode (50,000 images at 32x32, width x0.25, 10 epochs) about 9 h (31 ms per image per network).
"""

from __future__ import annotations

import math
from typing import Any

from neuralab.backend import manual_seed, xp
from neuralab.experiments.base import Comparison, Experiment, Verdict, judge
from neuralab.experiments.toolkit import prepare_cifar, tail_mean, train_classifier
from neuralab.models import create
from neuralab.models.googlenet import googlenet_loss
from neuralab.nn.functional import cross_entropy
from neuralab.plotting import moving_average
from neuralab.train import Callback

LOWER = ("conv1.", "inception3a.")  # the layers whose gradient the heads should strengthen


class LowerGradNorm(Callback):
    """After each backward pass: the gradient norm of the lowest layers (``LOWER``)."""

    def __init__(self) -> None:
        self.norms: list[float] = []

    def on_after_backward(self, trainer: Any, step: int) -> None:
        total = sum(float((p.grad.array.astype(xp.float64) ** 2).sum())
                    for name, p in trainer.model.named_parameters()
                    if name.startswith(LOWER) and p.grad is not None)
        self.norms.append(math.sqrt(total))


def run(cfg: dict, ctx: Any) -> dict:
    data, size, augment = prepare_cifar(cfg, ctx)
    manual_seed(ctx.seed)
    with_aux = create("googlenet_small", width=cfg["width"], aux_logits=True)
    manual_seed(ctx.seed)
    without = create("googlenet_small", width=cfg["width"], aux_logits=False)
    # The heads are built last, so the shared weights already agree; copy them to be certain.
    shared = {k: v for k, v in with_aux.state_dict().items() if not k.startswith("aux")}
    without.load_state_dict(shared)

    results: dict[str, Any] = {"aux_weight": cfg["aux_weight"]}
    runs: dict[str, dict] = {}
    rows = []
    for label, model in (("without auxiliary heads", without),
                         ("with auxiliary heads", with_aux)):
        key = "aux" if model is with_aux else "no_aux"
        main_losses: list[float] = []
        recorder = LowerGradNorm()

        def loss_fn(out: Any, y: Any, _main: list = main_losses) -> Any:
            logits = out[0] if isinstance(out, tuple) else out
            _main.append(float(cross_entropy(logits, y).item()))  # the main head alone
            return googlenet_loss(out, y, aux_weight=cfg["aux_weight"])

        out = train_classifier(model, data, cfg, ctx, key, loss_fn=loss_fn, augment=augment,
                               order_seed=ctx.seed, callbacks=(recorder,))
        norms = out["lower_grad_norms"] = recorder.norms
        out["main_losses"] = main_losses
        runs[key] = out
        results[key] = {
            "first_loss": main_losses[0], "final_main_loss": tail_mean(main_losses),
            "final_total_loss": tail_mean(out["losses"]),
            "test_err1": out["test"]["err1"], "test_err5": out["test"]["err5"],
            "test_loss": out["test"]["loss"], "params": out["params"],
            "seconds": out["seconds"], "steps": out["steps"],
            "lower_grad_norm": float(sum(norms) / len(norms)),
            "curve": out["curve"]}
        for step in range(0, len(norms), 10):
            ctx.log("lower_grad_norm", step=step, model=key, norm=norms[step])
        rows.append([label, out["params"], round(results[key]["final_main_loss"], 4),
                     round(100 * out["test"]["err1"], 2), round(100 * out["test"]["err5"], 2),
                     f"{results[key]['lower_grad_norm']:.3g}", round(out["seconds"], 1)])
    results["grad_ratio"] = results["aux"]["lower_grad_norm"] / max(
        results["no_aux"]["lower_grad_norm"], 1e-30)
    ctx.table("aux", ["network", "parameters (training)", "main-head training loss",
                      "top-1 test error (%)", "top-5 test error (%)",
                      "mean gradient norm, conv1 + inception3a", "time (s)"], rows,
              caption=f"Auxiliary heads on inception4a and inception4d, loss weight "
                      f"{cfg['aux_weight']}; the heads are dropped at test time, so the test "
                      "networks have the same parameters.")
    ctx.note(f"With the heads the lowest layers received {results['grad_ratio']:.2f}x the "
             "gradient norm of the network without them (mean over training).")
    _figures(ctx, runs)
    return results


def _figures(ctx: Any, runs: dict) -> None:
    labels = {"no_aux": "without aux heads", "aux": "with aux heads (0.3)"}
    colours = {"no_aux": "#1f77b4", "aux": "#d62728"}
    steps = len(runs["aux"]["main_losses"])
    window = max(1, steps // 15)
    fig, axes = ctx.subplots(1, 3, figsize=(16, 4.2))
    for key, out in runs.items():
        axes[0].plot(moving_average(out["main_losses"], window), color=colours[key],
                     label=labels[key])
        axes[1].plot(moving_average(out["lower_grad_norms"], window), color=colours[key],
                     label=labels[key])
        if out["curve"]:
            epochs = [c[0] for c in out["curve"]]
            axes[2].plot(epochs, [100 * c[3] for c in out["curve"]], "o-", color=colours[key],
                         label=labels[key])
    axes[0].set_xlabel("step")
    axes[0].set_ylabel(f"main-head training loss (moving average of {window})")
    axes[1].set_xlabel("step")
    axes[1].set_ylabel("gradient norm of conv1 + inception3a")
    axes[1].set_yscale("log")
    axes[2].set_xlabel("epoch")
    axes[2].set_ylabel("top-1 test error (%)")
    for ax in axes:
        ax.legend()
    ctx.figure("learning_curves", fig, "Learning curves with and without the auxiliary "
               "classifiers: the main head's training loss, the gradient reaching the lowest "
               "layers, and the test error.")


def verdict(results: dict, cfg: dict) -> Verdict:
    """Both networks trained (main-head loss fell by ``min_drop``); with the heads the test
    error is at most the one without (plus ``tolerance``)."""
    aux, no = results["aux"], results["no_aux"]
    checks = [Comparison(f"main-head training loss {label}", r["final_main_loss"], "<",
                         "its first loss minus min_drop", r["first_loss"] - cfg["min_drop"],
                         bound=True)
              for label, r in (("without heads", no), ("with heads", aux))]
    checks.append(Comparison("top-1 error with heads", aux["test_err1"], "<=",
                             f"without (+{cfg['tolerance']:.1%})",
                             no["test_err1"] + cfg["tolerance"], fmt=".1%"))
    note = (f"; with the heads the lowest layers' gradient norm is {results['grad_ratio']:.2f}x "
            "that without")
    verdict = judge(checks, tested=f"{cfg['epochs']} epochs at {cfg['image_size']}x"
                                   f"{cfg['image_size']}")
    return Verdict(verdict.supported, verdict.reason + note, verdict.status)


EXPERIMENT = Experiment(
    name="googlenet-aux",
    lecture="GoogLeNet",
    title="GoogLeNet's auxiliary classifiers",
    claim="With auxiliary classifiers on intermediate Inception modules (loss weight 0.3) the "
          "network trains at least as well as without them (the paper: a small gain of about "
          "0.5% top-1).",
    run=run,
    verdict=verdict,
    defaults={"data_root": "", "train_images": 0, "test_images": 0, "image_size": 32,
              "width": 0.25, "aux_weight": 0.3, "epochs": 10, "batch_size": 128, "lr": 0.05,
              "momentum": 0.9, "weight_decay": 5e-4, "augment": True, "eval_every": 1,
              "tolerance": 0.005, "min_drop": 0.1, "threads": 0},
    quick={"train_images": 2000, "test_images": 500, "image_size": 16, "width": 0.125,
           "epochs": 2, "batch_size": 50, "augment": False, "eval_every": 1, "threads": 1},
    runtime="9 h",
    setup="CIFAR-10 ({train_images} training images, 0 = all) at {image_size}x{image_size}; "
          "GoogLeNet with all nine Inception modules at width {width}, trained with and "
          "without two auxiliary heads (loss weight {aux_weight}) from the same initial weights "
          "on the same mini-batches: {epochs} epochs of SGD (Nesterov momentum {momentum}, lr "
          "{lr} with cosine decay, weight decay {weight_decay}, batch {batch_size}).",
)
