"""GoogLeNet session: the auxiliary classifiers (Szegedy et al., 2015, Sec. 5).

GoogLeNet trains two small classifiers on inception4a and inception4d, adding 0.3 x their
cross-entropies to the main one's (``models.googlenet.googlenet_loss``) to "increase the gradient
signal that gets propagated back, and provide additional regularization", and drops them at test
time: a gain of about 0.5% top-1. Here a width-scaled GoogLeNet trains with and without them from
the same weights on the same batches, ``seeds`` times, judged by the mean difference (a half-point
effect hides in one run's spread). The full mode's run: docs/experiments/googlenet-aux.md.
"""

from __future__ import annotations

from typing import Any

from neuralab.backend import manual_seed
from neuralab.experiments.toolkit import prepare_cifar, run_summary, tail_mean, train_classifier
from neuralab.lab import Comparison, Experiment, Verdict, judge, paired_rows, paired_seeds
from neuralab.models import create
from neuralab.models.googlenet import googlenet_loss
from neuralab.nn.functional import cross_entropy
from neuralab.plotting import plot_smoothed
from neuralab.train.callbacks import GradientNormRecorder, LambdaCallback
from neuralab.train.metrics import main_output

LOWER = ("conv1.", "inception3a.")  # the layers whose gradient the heads should strengthen
STYLES = {"no_aux": {"color": "#1f77b4", "label": "without aux heads"},
          "aux": {"color": "#d62728", "label": "with aux heads"}}


def main_head_losses(losses: list) -> LambdaCallback:
    """A callback appending each step's cross-entropy of the main classifier alone to ``losses``."""
    return LambdaCallback(on_batch_end=lambda trainer, step, loss, output, y: losses.append(
        float(cross_entropy(main_output(output), y).item())))


def run(cfg: dict, ctx: Any) -> dict:
    data, _, augment = prepare_cifar(cfg, ctx)
    results: dict[str, Any] = {"test_images": len(data["test"][0])}
    curves, pairs = {}, []  # pairs: (without, with heads) test top-1 error of each seed
    seeds = [ctx.seed + 1000 * k for k in range(cfg["seeds"])]
    for seed in seeds:
        models = {}
        for key in ("aux", "no_aux"):
            manual_seed(seed)
            models[key] = create("googlenet_small", width=cfg["width"], aux_logits=key == "aux")
        models["no_aux"].load_state_dict({k: v for k, v in models["aux"].state_dict().items()
                                          if not k.startswith("aux")})  # the same start
        errors = {}
        for key in ("no_aux", "aux"):
            main, grads = [], GradientNormRecorder(LOWER)
            out = train_classifier(models[key], data, cfg, ctx, f"{key} seed {seed}",
                                   augment=augment, order_seed=seed,
                                   callbacks=(grads, main_head_losses(main)),
                                   loss_fn=lambda z, y: googlenet_loss(z, y, cfg["aux_weight"]))
            errors[key] = out["test"]["err1"]
            if seed == seeds[0]:  # the first seed's runs are drawn
                curves[key] = {"main loss": main, "norms": grads.norms}
                results[key] = {**run_summary(out), "first_loss": main[0],  # the main head's
                                "final_main_loss": tail_mean(main), "curve": out["curve"],
                                "lower_grad_norm": sum(grads.norms) / len(grads.norms)}
        pairs.append((errors["no_aux"], errors["aux"]))
    results["seed_pairs"] = pairs
    results["seed_summary"] = paired_seeds(pairs, results["test_images"])  # a: without, b: with
    results["grad_ratio"] = results["aux"]["lower_grad_norm"] / max(
        results["no_aux"]["lower_grad_norm"], 1e-30)
    rows, spread = paired_rows(seeds, pairs, results["seed_summary"])
    ctx.table("seeds", ["seed", "top-1 error without heads (%)", "with heads (%)", "difference"],
              rows, caption=f"A seed's two networks start alike on the same batches. {spread}")

    fig, axes = ctx.subplots(1, 3, figsize=(16, 4.2))
    for key, curve in curves.items():
        window = plot_smoothed(axes[0], curve["main loss"], **STYLES[key])
        plot_smoothed(axes[1], curve["norms"], **STYLES[key])
        epochs, top1 = zip(*[(c[0], 100 * c[3]) for c in results[key]["curve"]])
        axes[2].plot(epochs, top1, "o-", **STYLES[key])
    axes[0].set(xlabel="step", ylabel=f"main-head training loss (moving average of {window})")
    axes[1].set(xlabel="step", ylabel="gradient norm of conv1 + inception3a", yscale="log")
    axes[2].set(xlabel="epoch", ylabel="top-1 test error (%)")
    fig.tight_layout()
    ctx.figure("learning_curves", fig, "Main-head loss, lowest layers' gradient, test error.")
    return results


def verdict(results: dict, cfg: dict) -> Verdict:
    """Both networks trained (main-head loss fell by ``min_drop``, first seed); with the heads a
    mean test error at most that without plus ``tolerance``, beyond ``paired_seeds``' noise."""
    aux, no, seeds = results["aux"], results["no_aux"], results["seed_summary"]
    checks = [Comparison(f"main-head training loss {label}", r["final_main_loss"], "<",
                         "its first loss minus min_drop", r["first_loss"] - cfg["min_drop"],
                         bound=True)
              for label, r in (("without heads", no), ("with heads", aux))]
    k = len(results["seed_pairs"])
    checks.append(Comparison(f"mean top-1 error with heads over {k} seed{'s' * (k > 1)}",
                             seeds["mean_b"], "<=", f"without (+{cfg['tolerance']:.1%})",
                             seeds["mean_a"] + cfg["tolerance"], fmt=".1%", noise=seeds["noise"]))
    verdict = judge(checks, tested=f"{cfg['epochs']} epochs at {cfg['image_size']}x"
                                   f"{cfg['image_size']}")
    return Verdict(verdict.supported, f"{verdict.reason}; with the heads the lowest layers' "
                   f"gradient norm is {results['grad_ratio']:.2f}x that without", verdict.status)


EXPERIMENT = Experiment(
    name="googlenet-aux",
    lecture="GoogLeNet",
    title="GoogLeNet's auxiliary classifiers",
    claim="With auxiliary classifiers on intermediate Inception modules (loss weight 0.3) the "
          "network trains at least as well as without them (the paper: a small gain of about "
          "0.5% top-1).",
    run=run,
    verdict=verdict,
    defaults={"data_root": "", "train_images": 0, "test_images": 0, "image_size": 16,
              "width": 0.125, "aux_weight": 0.3, "epochs": 4, "batch_size": 128, "lr": 0.05,
              "momentum": 0.9, "weight_decay": 5e-4, "augment": True, "eval_every": 2, "seeds": 3,
              "warmup": 0.05, "tolerance": 0.005, "min_drop": 0.1, "threads": 1, "scale": "laptop"},
    quick={"train_images": 2000, "test_images": 500, "image_size": 16, "width": 0.125,
           "epochs": 2, "batch_size": 50, "augment": False, "eval_every": 1, "warmup": 0.0,
           "seeds": 1, "threads": 1},
    runtime="42 min",
    scales={"laptop": {}, "paper": {"image_size": 32, "width": 0.25, "epochs": 10,
                                    "eval_every": 1, "warmup": 0.0, "seeds": 1, "threads": 0}},
    setup="CIFAR-10 ({train_images} training images, 0 = all) at {image_size}x{image_size}; "
          "GoogLeNet at width {width} with and without two aux heads (loss weight {aux_weight}): "
          "{epochs} epochs of SGD (Nesterov, momentum {momentum}, lr {lr}, warm-up {warmup} of the "
          "steps, cosine decay, weight decay {weight_decay}, batch {batch_size}); {seeds} seeds.",
)
