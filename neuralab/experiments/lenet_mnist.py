"""Lecture 12: LeNet-5 on MNIST, with its first-layer filters and the feature maps of one digit.

A convolutional network shares each 5×5 filter across every position of the image, so with
61,706 parameters LeNet-5 reaches a higher accuracy than a fully connected network with
several times more weights trained on the same images for the same number of steps: the
convolution builds in the prior that a stroke detector useful in one place is useful
everywhere, and the pooling gives some tolerance to small shifts.

The drawings show what the network learned: the six 5×5 filters of the first convolution
(oriented stroke and edge detectors after training), and the six 28×28 maps of the first layer
and sixteen 10×10 maps of the second layer computed from one test digit, the pictures of
LeCun et al. (1998).
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd import Tensor, no_grad
from neuralab.backend import manual_seed, xp
from neuralab.data.arrays import dataset_arrays
from neuralab.experiments.base import Comparison, Experiment, Verdict, judge
from neuralab.experiments.toolkit import load_mnist, train_classifier
from neuralab.models import create
from neuralab.train.metrics import evaluate


def train_model(kind: str, cfg: dict, data: dict, ctx: Any) -> tuple[Any, dict]:
    """Train ``kind`` ('lenet5' or 'mlp') with SGD + momentum at a constant rate, evaluating
    on the test set after every epoch; both kinds see the same mini-batches."""
    manual_seed(ctx.seed)
    model = create("lenet5") if kind == "lenet5" else create("mlp",
                                                             hidden=tuple(cfg["mlp_hidden"]))
    out = train_classifier(model, data, {**cfg, "eval_every": 1}, ctx, kind, nesterov=False,
                           schedule=False)
    curve = [(int(e), train_loss, test_loss, 1 - err1) for e, train_loss, test_loss, err1, _ in
             out["curve"]]
    return model, {"kind": kind, "curve": curve, "test_accuracy": curve[-1][3],
                   "test_loss": curve[-1][2], "params": out["params"], "steps": out["steps"],
                   "seconds": out["seconds"]}


def _draw_filters(ctx: Any, weight: Any) -> None:
    """The first convolution's filters (C_out, 1, 5, 5), each on its own symmetric grey scale."""
    n = weight.shape[0]
    fig, axes = ctx.subplots(1, n, figsize=(1.6 * n, 1.9))
    for k, ax in enumerate(xp.atleast_1d(axes)):
        w = weight[k, 0]
        m = float(xp.abs(w).max()) or 1.0
        ax.imshow(w, cmap="gray", vmin=-m, vmax=m, interpolation="nearest")
        ax.set_title(f"filter {k}", fontsize=8)
        ax.axis("off")
    fig.suptitle("LeNet-5 first-layer 5×5 filters (white = positive weight)")
    ctx.figure("filters", fig, "The six 5×5 filters of the first convolution after training; "
               "each is drawn on its own scale, white positive, black negative.")


def _draw_feature_maps(ctx: Any, model: Any, image: Any, label: int, pred: int) -> dict:
    """The digit, the 6 maps after conv1 + ReLU and the 16 maps after conv2 + ReLU."""
    feats = model.features
    model.eval()
    with no_grad():
        h1 = feats[1](feats[0](Tensor(image[None])))  # (1, 6, 28, 28)
        h2 = feats[4](feats[3](feats[2](h1)))  # (1, 16, 10, 10)
    maps1, maps2 = h1.array[0], h2.array[0]
    fig, axes = ctx.subplots(3, 8, figsize=(12, 5))
    for ax in axes.ravel():
        ax.axis("off")
    axes[0, 0].imshow(image[0], cmap="gray")
    axes[0, 0].set_title(f"input: {label} (pred {pred})", fontsize=8)
    for k in range(min(6, len(maps1))):
        ax = axes[0, k + 2]
        ax.imshow(maps1[k], cmap="viridis")
        ax.set_title(f"conv1 map {k}", fontsize=8)
    for k in range(min(16, len(maps2))):
        ax = axes[1 + k // 8, k % 8]
        ax.imshow(maps2[k], cmap="viridis")
        ax.set_title(f"conv2 map {k}", fontsize=8)
    fig.suptitle("Feature maps of one test digit (after ReLU): 6×28×28, then 16×10×10")
    ctx.figure("feature_maps", fig, "Top row: the input digit and the six 28×28 maps of the "
               "first convolution; rows 2-3: the sixteen 10×10 maps of the second convolution "
               "(each on its own colour scale).")
    return {"conv1_active_fraction": float((maps1 > 0).mean()),
            "conv2_active_fraction": float((maps2 > 0).mean())}


def run(cfg: dict, ctx: Any) -> dict:
    train, test, is_subset = load_mnist(cfg, "lenet-mnist")
    data = {"train": dataset_arrays(train, slice(cfg["train_examples"] or None)),
            "test": dataset_arrays(test, slice(cfg["eval_examples"] or None))}
    lenet, res = train_model("lenet5", cfg, data, ctx)
    runs = [res]
    if cfg["mlp_baseline"]:
        _, base = train_model("mlp", cfg, data, ctx)
        runs.append(base)

    fig, (ax_loss, ax_acc) = ctx.subplots(1, 2, figsize=(11, 4))
    for r in runs:
        epochs, train_loss, _, acc = zip(*r["curve"])
        label = f"{r['kind']} ({r['params']:,} parameters)"
        ax_loss.plot(epochs, train_loss, marker="o", label=label)
        ax_acc.plot(epochs, [100 * a for a in acc], marker="o", label=label)
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("training loss (epoch mean)")
    ax_loss.set_yscale("log")
    ax_loss.legend()
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("test accuracy (%)")
    ax_acc.legend()
    ctx.figure("learning_curves", fig, "Training loss and test accuracy per epoch; both models "
               "see the same mini-batches with the same optimizer settings.")

    _draw_filters(ctx, lenet.features[0].weight.array)
    x_test, y_test = data["test"]
    idx = int(cfg["digit_index"]) % len(x_test)
    probs = evaluate(lenet, x_test[idx:idx + 1], y_test[idx:idx + 1], topk=(1,),
                     probs=True)["probs"]
    pred = int(probs[0].argmax())
    activity = _draw_feature_maps(ctx, lenet, x_test[idx], int(y_test[idx]), pred)

    ctx.table("models", ["model", "parameters", "epochs", "steps", "training time (s)",
                         "final training loss", "test loss", "test accuracy"],
              [[r["kind"], r["params"], len(r["curve"]), r["steps"], r["seconds"],
                r["curve"][-1][1], r["test_loss"], r["test_accuracy"]] for r in runs],
              caption=f"SGD lr {cfg['lr']} momentum {cfg['momentum']}, batch "
                      f"{cfg['batch_size']}, {len(data['train'][0])} training images, "
                      f"{len(x_test)} test images")
    ctx.note(("The shipped 5,000-image MNIST subset was used." if is_subset else
              "The full MNIST training set was used.")
             + f" Feature maps drawn for test image {idx} (label {int(y_test[idx])}, predicted "
               f"{pred}).")
    results: dict[str, Any] = {"data_is_subset": is_subset,
                               "train_examples": len(data["train"][0]),
                               "test_examples": len(x_test),
                               "lenet_test_accuracy": res["test_accuracy"],
                               "lenet_test_loss": res["test_loss"],
                               "lenet_params": res["params"], "lenet_seconds": res["seconds"],
                               "digit_label": int(y_test[idx]), "digit_prediction": pred,
                               **activity}
    if cfg["mlp_baseline"]:
        results.update({"mlp_test_accuracy": base["test_accuracy"],
                        "mlp_test_loss": base["test_loss"], "mlp_params": base["params"],
                        "mlp_seconds": base["seconds"]})
    return results


def verdict(results: dict, cfg: dict) -> Verdict:
    """LeNet-5's test accuracy above ``target_accuracy`` and above the MLP's (if it ran)."""
    lenet = float(results["lenet_test_accuracy"])
    checks = [Comparison("LeNet-5 test accuracy", lenet, ">", "the target",
                         cfg["target_accuracy"], bound=True, fmt=".2%")]
    untested = ""
    if "mlp_test_accuracy" in results:
        checks.append(Comparison(f"LeNet-5's ({results['lenet_params']:,} parameters)", lenet,
                                 ">", f"the MLP's ({results['mlp_params']:,} parameters)",
                                 float(results["mlp_test_accuracy"]), fmt=".2%"))
    else:
        untested = "the MLP baseline (mlp_baseline=false)"
    return judge(checks, untested=untested)


EXPERIMENT = Experiment(
    name="lenet-mnist",
    lecture="L12",
    title="LeNet-5 on MNIST: accuracy, filters and feature maps",
    claim="LeNet-5's weight-shared convolutions reach a higher MNIST test accuracy than an MLP "
          "with more parameters trained the same way, and its first-layer filters become "
          "stroke and edge detectors.",
    run=run,
    verdict=verdict,
    defaults={"epochs": 6, "batch_size": 64, "lr": 0.02, "momentum": 0.9,
              "mlp_baseline": True, "mlp_hidden": [256], "train_examples": 0,
              "eval_examples": 10000, "target_accuracy": 0.985, "digit_index": 0,
              "data": "auto", "data_root": "", "download": False},
    quick={"epochs": 5, "target_accuracy": 0.9, "data": "subset"},
    runtime="2 min",
    setup="The registry's `lenet5` (ReLU, max pooling, 61,706 parameters) and, as a baseline, "
          "the registry's `mlp` with hidden layers {mlp_hidden}, each trained for {epochs} "
          "epochs with SGD (lr {lr}, momentum {momentum}, batch {batch_size}) on the same "
          "mini-batches. Data: {data} (train_examples=0 uses all). The feature maps are those of "
          "test image {digit_index}.",
)
