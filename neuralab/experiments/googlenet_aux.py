"""GoogLeNet session: the auxiliary classifiers (Szegedy et al., 2015, Sec. 5).

GoogLeNet is 22 layers deep. To "encourage discrimination in the lower stages, increase the
gradient signal that gets propagated back, and provide additional regularization", two small
classifiers sit on inception4a and inception4d during training, their cross-entropies added to
the main one (``models.googlenet.googlenet_loss``):

    L = CE(main) + 0.3·(CE(aux1) + CE(aux2))

so the lower layers also receive a short-path gradient from a nearby classifier; at test time the
heads are dropped. The paper reports a minor gain (about 0.5% top-1); Inception-v3 later found
they act as regularisers near the end of training rather than speeding up early training. Here a
width-scaled GoogLeNet trains with and without the heads from the same weights on the same
mini-batches, and the main head's loss, the test error and the gradient reaching the lowest
layers are compared. A half-point effect hides in the spread between short runs, so the full
mode trains three such pairs and judges the mean difference against its noise
(``lab.paired_seeds``).

The full mode fits the hour on two cores: 16x16 images, all 50,000 of them, GoogLeNet at width
0.125 (89,690 parameters; 29.4% top-1 error after 8 epochs in architectures-cifar's run), 4
epochs, one thread. The former full mode, one pair at 32x32 and width 0.25 for 10 epochs,
about 9 h, is ``scale=paper``. The full mode's run (42 min, one thread, beside another full
mode; test error on the 10,000 test images):

    seed   without heads   with heads   difference
       0        37.96%        37.79%       -0.17
    1,000       38.82%        37.66%       -1.16
    2,000       37.04%        37.90%       +0.86
    mean        37.94%        37.78%       -0.16 (standard error 0.58 points)

Not shown at this scale: the heads' mean gain, 0.16 points, is a quarter of its standard error
across seeds and of the test set's own noise (±0.7 points for two error rates on 10,000
images); with the heads the lowest layers received 1.24x the gradient norm.
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
from neuralab.train import Callback
from neuralab.train.callbacks import GradientNormRecorder
from neuralab.train.metrics import main_output

LOWER = ("conv1.", "inception3a.")  # the layers whose gradient the heads should strengthen
LABELS = {"no_aux": "without aux heads", "aux": "with aux heads (0.3)"}
COLOURS = {"no_aux": "#1f77b4", "aux": "#d62728"}


class MainHeadLoss(Callback):
    """Every step's cross-entropy of the main classifier alone (training minimises it plus the
    heads'; with the heads the output is a tuple in training)."""

    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_batch_end(self, trainer: Any, step: int, loss: float, output: Any, y: Any) -> None:
        self.losses.append(float(cross_entropy(main_output(output), y).item()))


def run(cfg: dict, ctx: Any) -> dict:
    data, _, augment = prepare_cifar(cfg, ctx)
    results: dict[str, Any] = {"aux_weight": cfg["aux_weight"],
                               "test_images": len(data["test"][0])}
    curves, pairs = {}, []  # pairs: (without, with heads) test top-1 error of each seed
    seeds = [ctx.seed + 1000 * k for k in range(cfg["seeds"])]
    for seed in seeds:
        models = {}
        for key in ("aux", "no_aux"):
            manual_seed(seed)  # the heads are built last: the shared weights agree
            models[key] = create("googlenet_small", width=cfg["width"], aux_logits=key == "aux")
        models["no_aux"].load_state_dict({k: v for k, v in models["aux"].state_dict().items()
                                          if not k.startswith("aux")})  # to be certain
        errors = {}
        for key in ("no_aux", "aux"):
            main, grads = MainHeadLoss(), GradientNormRecorder(LOWER)
            out = train_classifier(models[key], data, cfg, ctx, f"{key} seed {seed}",
                                   augment=augment, order_seed=seed, callbacks=(grads, main),
                                   loss_fn=lambda z, y: googlenet_loss(z, y, cfg["aux_weight"]))
            errors[key] = out["test"]["err1"]
            if seed != seeds[0]:
                continue  # the first seed's runs are the ones tabled and drawn in full
            for step in range(0, len(grads.norms), 10):
                ctx.log("lower_grad_norm", step=step, model=key, norm=grads.norms[step])
            curves[key] = {"main loss": main.losses, "norms": grads.norms}
            results[key] = {**run_summary(out),  # its train_loss: the total, heads included
                            "first_loss": main.losses[0],  # the main head's, as the verdict's
                            "final_main_loss": tail_mean(main.losses), "curve": out["curve"],
                            "lower_grad_norm": sum(grads.norms) / len(grads.norms)}
        pairs.append((errors["no_aux"], errors["aux"]))
    results["seed_pairs"] = pairs
    results["seed_summary"] = paired_seeds(pairs, results["test_images"])  # a: without, b: with
    results["grad_ratio"] = results["aux"]["lower_grad_norm"] / max(
        results["no_aux"]["lower_grad_norm"], 1e-30)
    ctx.table("aux", ["network", "parameters (training)", "main-head training loss",
                      "top-1 test error (%)", "top-5 test error (%)",
                      "mean gradient norm, conv1 + inception3a", "time (s)"],
              [[LABELS[key], r["params"], round(r["final_main_loss"], 4),
                round(100 * r["test_err1"], 2), round(100 * r["test_err5"], 2),
                f"{r['lower_grad_norm']:.3g}", round(r["seconds"], 1)]
               for key, r in ((k, results[k]) for k in curves)],
              caption=f"Auxiliary heads on inception4a and inception4d, loss weight "
                      f"{cfg['aux_weight']}; the heads are dropped at test time, so the test "
                      "networks have the same parameters.")
    ctx.note(f"With the heads the lowest layers received {results['grad_ratio']:.2f}x the "
             "gradient norm of the network without them (mean over training).")
    rows, spread = paired_rows(seeds, pairs, results["seed_summary"])
    ctx.table("seeds", ["seed", "top-1 error without heads (%)", "with heads (%)",
                        "difference (points)"], rows,
              caption="Each seed trains both networks from the same weights on the same batches. "
                      f"{spread} The paper's gain is about 0.5 points.")

    fig, axes = ctx.subplots(1, 3, figsize=(16, 4.2))
    for key, curve in curves.items():
        style = {"color": COLOURS[key], "label": LABELS[key]}
        window = plot_smoothed(axes[0], curve["main loss"], **style)
        plot_smoothed(axes[1], curve["norms"], **style)
        axes[2].plot(*zip(*[(c[0], 100 * c[3]) for c in results[key]["curve"]]), "o-", **style)
    axes[0].set(xlabel="step", ylabel=f"main-head training loss (moving average of {window})")
    axes[1].set(xlabel="step", ylabel="gradient norm of conv1 + inception3a", yscale="log")
    axes[2].set(xlabel="epoch", ylabel="top-1 test error (%)")
    fig.tight_layout()
    ctx.figure("learning_curves", fig, "Learning curves with and without the auxiliary "
               "classifiers: the main head's training loss, the gradient reaching the lowest "
               "layers, and the test error.")
    return results


def verdict(results: dict, cfg: dict) -> Verdict:
    """Both networks trained (main-head loss fell by ``min_drop``, first seed); with the heads
    the mean test error over the seeds is at most the one without (plus ``tolerance``), the
    two apart by more than ``paired_seeds``' noise (else not shown at this scale)."""
    aux, no, seeds = results["aux"], results["no_aux"], results["seed_summary"]
    checks = [Comparison(f"main-head training loss {label}", r["final_main_loss"], "<",
                         "its first loss minus min_drop", r["first_loss"] - cfg["min_drop"],
                         bound=True)
              for label, r in (("without heads", no), ("with heads", aux))]
    k = len(results["seed_pairs"])
    checks.append(Comparison(f"mean top-1 error with heads over {k} seed{'s' * (k > 1)}",
                             seeds["mean_b"], "<=", f"without (+{cfg['tolerance']:.1%})",
                             seeds["mean_a"] + cfg["tolerance"], fmt=".1%",
                             noise=seeds["noise"]))
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
              "momentum": 0.9, "weight_decay": 5e-4, "augment": True, "eval_every": 2,
              "warmup": 0.05, "tolerance": 0.005, "min_drop": 0.1, "seeds": 3, "threads": 1,
              "scale": "laptop"},
    quick={"train_images": 2000, "test_images": 500, "image_size": 16, "width": 0.125,
           "epochs": 2, "batch_size": 50, "augment": False, "eval_every": 1, "warmup": 0.0,
           "seeds": 1, "threads": 1},
    runtime="42 min",
    # The full mode before the laptop scale: one seed at 32x32, width 0.25, 10 epochs, about
    # 9 h on two cores.
    scales={"laptop": {},
            "paper": {"image_size": 32, "width": 0.25, "epochs": 10, "eval_every": 1,
                      "warmup": 0.0, "seeds": 1, "threads": 0}},
    setup="CIFAR-10 ({train_images} training images, 0 = all) at {image_size}x{image_size}; "
          "GoogLeNet with all nine Inception modules at width {width}, trained with and "
          "without two auxiliary heads (loss weight {aux_weight}) from the same initial weights "
          "on the same mini-batches: {epochs} epochs of SGD (Nesterov momentum {momentum}, lr "
          "{lr} after a linear warm-up over {warmup} of the steps, then cosine decay, weight "
          "decay {weight_decay}, batch {batch_size}); {seeds} seeds, each training both "
          "networks.",
)
