"""Lecture 9: generalization — the Bayes error, capacity, data, regularizers and ensembles.

Two Gaussian classes with a shared covariance (``TwoGaussians``) have a known Bayes error Φ(−Δ/2)
(Δ: the Mahalanobis distance of the means) that no classifier beats beyond the test set's noise
√(p(1 − p)/n). As the hidden units grow, the training error keeps falling (the net fits the noise
of the overlap) while the test error stops falling and rises; with more data both converge to the
Bayes error. On MNIST with few training images, L2, L1, dropout, early stopping and random shifts
are set beside an overfitting MLP, and so is an ensemble averaging its members' probabilities:
its cross-entropy is never above their mean (−log is convex), and in practice neither is its error.
"""

from __future__ import annotations

import math
from typing import Any

from neuralab.autograd import Tensor
from neuralab.backend import manual_seed, xp
from neuralab.data.arrays import ArrayLoader, dataset_arrays
from neuralab.data.datasets import TwoGaussians
from neuralab.data.transforms import RandomShift
from neuralab.experiments.toolkit import load_mnist, mnist_source
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.models import create
from neuralab.nn.functional import cross_entropy
from neuralab.nn.utils import l1_penalty
from neuralab.optim import SGD, Adam
from neuralab.train import BestWeights, Trainer, fit
from neuralab.train.metrics import evaluate


def fit_synthetic(x: Any, y: Any, hidden: tuple[int, ...], cfg: dict, seed: int) -> Any:
    """A (d → hidden → 2) ReLU MLP trained by ``synthetic_steps`` full-batch Adam steps."""
    manual_seed(seed)
    model = create("mlp", in_features=x.shape[1], hidden=hidden, num_classes=2)
    fit(model, [(Tensor(x), Tensor(y))] * cfg["synthetic_steps"], epochs=1, progress=False,
        optimizer=Adam(model.parameters(), lr=cfg["synthetic_lr"]), log=None)
    return model


def synthetic_part(cfg: dict, ctx: Any) -> dict:
    task = TwoGaussians(cfg["dim"], cfg["delta"], ctx.seed)
    bayes, n_test = task.bayes_error, cfg["test_examples"]
    se = math.sqrt(bayes * (1 - bayes) / n_test)
    hs, ns = cfg["hidden_sweep"], cfg["size_sweep"]
    # errors[sweep][setting] = [(train error, test error) for each data draw]
    errors: dict = {"capacity": {h: [] for h in hs}, "train_size": {n: [] for n in ns}}
    bayes_rule_errors = []
    bar = ctx.progress(total=cfg["repeats"] * (len(hs) + len(ns)), desc="synthetic")
    for rep in range(cfg["repeats"]):
        g = xp.random.default_rng([ctx.seed, rep])
        x_test, y_test = task.sample(n_test, g)
        bayes_rule_errors.append(float((task.bayes_predict(x_test) != y_test).mean()))
        train = task.sample(cfg["train_examples"], g)
        jobs = [("capacity", h, train, (h,) if h else ()) for h in hs]
        jobs += [("train_size", n, task.sample(n, g), (cfg["size_hidden"],)) for n in ns]
        for sweep, key, (x, y), hidden in jobs:
            model = fit_synthetic(x, y, hidden, cfg, ctx.seed + rep)
            train_error = evaluate(model, x, y, batch_size=len(x), topk=(1,))["err1"]
            test_error = evaluate(model, x_test, y_test, batch_size=n_test, topk=(1,))["err1"]
            errors[sweep][key].append((train_error, test_error))
            ctx.log(sweep, step=key, repeat=rep, train_error=train_error, test_error=test_error)
            bar.update(1)
    bar.close()
    # Mean over the data draws: (train errors, test errors) along each sweep.
    (cap_train, cap_test), (size_train, size_test) = (
        [[float(xp.mean([e[i] for e in runs])) for runs in errors[sweep].values()]
         for i in (0, 1)] for sweep in ("capacity", "train_size"))

    fig, (ax1, ax2) = ctx.subplots(1, 2, figsize=(12, 4.3))
    for ax, xs, train, test in ((ax1, range(len(hs)), cap_train, cap_test),
                                (ax2, ns, size_train, size_test)):
        ax.plot(xs, [100 * e for e in train], "o-", label="training error")
        ax.plot(xs, [100 * e for e in test], "o-", label="test error")
        ax.axhline(100 * bayes, color="k", ls="--", label=f"Bayes error {bayes:.2%}")
        ax.set_ylabel("error (%)")
    ax1.set_xticks(range(len(hs)), ["linear" if h == 0 else str(h) for h in hs])
    ax1.set(xlabel="hidden units",
            title=f"Capacity sweep, {cfg['train_examples']} training points, d={cfg['dim']}")
    ax2.set(xscale="log", xlabel="training examples",
            title=f"Training-set size sweep, {cfg['size_hidden']} hidden units")
    ctx.figure("synthetic", fig, f"Two Gaussians with equal covariance, Mahalanobis distance "
               f"Δ = {task.delta:.2f}, Bayes error Φ(−Δ/2) = {bayes:.2%}; test error on {n_test} "
               f"fresh points (standard error {se:.2%}), mean of {cfg['repeats']} data draws.")
    best = min(test for sweep in errors.values() for runs in sweep.values() for _, test in runs)
    return {"bayes_error": bayes, "test_standard_error": se, "min_synthetic_test_error": best,
            "bayes_rule_test_error": float(xp.mean(bayes_rule_errors)),
            "capacity_train_error": cap_train, "capacity_test_error": cap_test,
            "size_train_error": size_train, "size_test_error": size_test}


def fit_mnist(cfg: dict, data: dict, label: str, seed: int, weight_decay: float = 0.0,
              l1: float = 0.0, dropout: float = 0.0, shift: int = 0) -> dict:
    """The MLP on the small training set; L2 is SGD's weight decay, L1 adds λ Σ|w| to the loss."""
    manual_seed(seed)
    model = create("mlp", hidden=tuple(cfg["mnist_hidden"]), dropout=dropout)
    weights = [p for p in model.parameters() if p.ndim >= 2]
    x, y = data["train"]
    g = xp.random.default_rng(seed)  # the batch order and the shifts
    shifts = RandomShift(shift, fill=float(x.min()), generator=g)  # fill: the background
    best = BestWeights(*data["val"], batch_size=1000)
    Trainer(model, SGD(model.parameters(), lr=cfg["mnist_lr"], momentum=0.9,
                       weight_decay=weight_decay),
            loss_fn=lambda z, t: cross_entropy(z, t) + (l1_penalty(weights, l1) if l1 else 0.0),
            progress=False, log=None, topk=(1,), callbacks=[best]).fit(
        ArrayLoader(x, y, cfg["batch_size"], generator=g, augment=shifts),
        epochs=cfg["mnist_epochs"])
    test = evaluate(model, *data["test"], batch_size=1000, topk=(1,), probs=True)
    return {"label": label, "best": best, "test_error": test["err1"], "test_loss": test["loss"],
            "train_error": evaluate(model, x, y, batch_size=1000, topk=(1,))["err1"],
            "probs": test["probs"],
            "near_zero": float((xp.abs(weights[0].array) < cfg["zero_threshold"]).mean())}


def mnist_part(cfg: dict, ctx: Any) -> dict:
    train, test, is_subset = load_mnist(cfg, "generalization")
    n, n_val = cfg["mnist_train_examples"], cfg["mnist_val_examples"]
    if n + n_val > len(train):
        raise ValueError(f"generalization: mnist_train_examples + mnist_val_examples = "
                         f"{n + n_val} exceeds the {len(train)} training images available")
    data = {"train": dataset_arrays(train, slice(n)),
            "val": dataset_arrays(train, slice(n, n + n_val)),
            "test": dataset_arrays(test, slice(cfg["eval_examples"] or None))}
    bar = ctx.progress(total=len(cfg["l2_sweep"]) + len(cfg["l1_sweep"]) + cfg["ensemble_size"]
                       + 2, desc="mnist")

    def fit_one(label: str, seed: int = ctx.seed, **options: Any) -> dict:
        bar.update(1)
        return fit_mnist(cfg, data, label, seed, **options)

    base = fit_one(f"baseline {tuple(cfg['mnist_hidden'])}")
    l2 = [fit_one(f"L2 λ={lam:g}", weight_decay=lam) for lam in cfg["l2_sweep"]]
    l1 = [fit_one(f"L1 λ={lam:g}", l1=lam) for lam in cfg["l1_sweep"]]
    others = [fit_one(f"dropout p={cfg['dropout']}", dropout=cfg["dropout"]),
              fit_one(f"random shifts ±{cfg['shift']} px", shift=cfg["shift"])]
    # Ensemble: average the predicted probabilities of nets from different initialisations.
    members = [base] + [fit_one("member", seed=ctx.seed + 1000 * k)
                        for k in range(1, cfg["ensemble_size"])]
    bar.close()
    y_test = data["test"][1]
    probs = xp.mean([m["probs"] for m in members], axis=0)
    ensemble_error = float((probs.argmax(1) != y_test).mean())
    # Early stopping: the baseline's weights at the epoch of lowest validation error.
    stopped = create("mlp", hidden=tuple(cfg["mnist_hidden"]))
    stopped.load_state_dict(base["best"].best_state)
    early_error = evaluate(stopped, *data["test"], batch_size=1000, topk=(1,))["err1"]

    rows = [[r["label"], r["train_error"], r["test_error"], r["near_zero"]]
            for r in [base] + l2 + l1 + others]
    rows += [[f"early stopping (epoch {base['best'].best_epoch})", None, early_error, None],
             [f"ensemble of {len(members)}", None, ensemble_error, None]]
    ctx.table("mnist", ["model", "training error", "test error",
                        f"first-layer weights within ±{cfg['zero_threshold']:g}"], rows,
              caption=f"MLP on {n} MNIST training images, SGD momentum 0.9 lr {cfg['mnist_lr']}, "
                      f"{cfg['mnist_epochs']} epochs; test on {len(y_test)} images. "
                      f"{mnist_source(is_subset)}")
    return {"near_zero_fraction_none": base["near_zero"],
            "near_zero_fraction_l2": l2[-1]["near_zero"] if l2 else None,
            "near_zero_fraction_l1": l1[-1]["near_zero"] if l1 else None,
            "early_stop_epoch": base["best"].best_epoch, "ensemble_test_error": ensemble_error,
            "ensemble_test_loss": float(-xp.log(xp.maximum(
                probs[xp.arange(len(y_test)), y_test], 1e-12)).mean()),
            "mean_member_test_error": float(xp.mean([m["test_error"] for m in members])),
            "mean_member_test_loss": float(xp.mean([m["test_loss"] for m in members]))}


def run(cfg: dict, ctx: Any) -> dict:
    return {**synthetic_part(cfg, ctx), **mnist_part(cfg, ctx)}


def verdict(results: dict, cfg: dict) -> Verdict:
    """No synthetic test error below the Bayes error; from the smallest to the largest net the
    training error falls, the test error and gap rise; the ensemble at most its members' mean."""
    train, test = results["capacity_train_error"], results["capacity_test_error"]
    gaps = [te - tr for tr, te in zip(train, test)]
    floor = results["bayes_error"] - cfg["bayes_tolerance_se"] * results["test_standard_error"]
    return judge([
        Comparison("best synthetic test error", results["min_synthetic_test_error"], ">=",
                   f"the Bayes error {results['bayes_error']:.2%} less the tolerance", floor,
                   fmt=".2%"),
        Comparison("largest net's training error", train[-1], "<",
                   "the smallest's - 2 points", train[0] - 0.02, fmt=".1%"),
        Comparison("largest net's test error", test[-1], ">", "the lowest test error",
                   min(test), fmt=".1%"),
        Comparison("largest net's generalization gap", gaps[-1], ">",
                   "the smallest's + 2 points", gaps[0] + 0.02, fmt=".1%"),
        Comparison("MNIST ensemble's test error", results["ensemble_test_error"], "<=",
                   "its members' mean", results["mean_member_test_error"], fmt=".2%"),
        Comparison("MNIST ensemble's test loss", results["ensemble_test_loss"], "<=",
                   "its members' mean", results["mean_member_test_loss"] + 1e-9, fmt=".4f")])


EXPERIMENT = Experiment(
    name="generalization",
    lecture="L9",
    title="Generalization: Bayes error, capacity, data, regularizers, early stopping, ensembles",
    claim="Test error never beats the Bayes error; more capacity keeps lowering the training "
          "error but not the test error; an ensemble is at least as good as its average "
          "member (with L2/L1, dropout, early stopping and augmentation shown alongside).",
    run=run,
    verdict=verdict,
    defaults={"dim": 10, "delta": 2.0, "train_examples": 300, "test_examples": 20000,
              "hidden_sweep": [0, 1, 2, 4, 8, 16, 64, 256],
              "size_sweep": [20, 50, 100, 200, 500, 1000, 2000, 5000], "size_hidden": 4,
              "synthetic_steps": 2000, "synthetic_lr": 0.01, "repeats": 3,
              "bayes_tolerance_se": 3.0,
              "mnist_train_examples": 2000, "mnist_val_examples": 2000, "eval_examples": 10000,
              "mnist_hidden": [256], "mnist_epochs": 40, "mnist_lr": 0.05, "batch_size": 64,
              "l2_sweep": [1e-4, 1e-3, 1e-2], "l1_sweep": [1e-5, 1e-4, 1e-3],
              "zero_threshold": 1e-3, "dropout": 0.5, "shift": 2, "ensemble_size": 5,
              "data": "auto", "data_root": "", "download": False},
    quick={"hidden_sweep": [0, 1, 2, 4, 16, 128], "size_sweep": [25, 100, 400, 1600],
           "synthetic_steps": 1000, "repeats": 1, "test_examples": 10000,
           "mnist_train_examples": 1000, "mnist_val_examples": 1000, "eval_examples": 1000,
           "mnist_hidden": [128], "mnist_epochs": 30, "l2_sweep": [1e-3, 1e-2],
           "l1_sweep": [1e-4, 1e-3], "data": "subset"},
    runtime="2 min",
    setup="Synthetic: two Gaussian classes in {dim} dimensions, a shared random covariance, "
          "Mahalanobis distance Δ = {delta}; {train_examples} training and {test_examples} test "
          "points; one-hidden-layer ReLU MLPs with {hidden_sweep} hidden units (0 = linear), "
          "full-batch Adam (lr {synthetic_lr}, {synthetic_steps} steps), {repeats} data draws; "
          "training sizes {size_sweep} with {size_hidden} hidden units. MNIST: "
          "{mnist_train_examples} training and {mnist_val_examples} validation images, MLP "
          "{mnist_hidden}, SGD momentum 0.9, lr {mnist_lr}, batch {batch_size}, {mnist_epochs} "
          "epochs; L2 {l2_sweep}, L1 {l1_sweep}, dropout {dropout}, shifts of ±{shift} pixels, "
          "an ensemble of {ensemble_size} nets. Data: {data}.",
)
