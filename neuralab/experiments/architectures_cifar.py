"""Lecture 12: five landmark architectures on CIFAR-10 for the same training budget.

LeNet-5 (1998), AlexNet (2012), VGG (2014), GoogLeNet (2014) and ResNet (2015) each answered
the question "how do we get more accuracy per parameter and per multiply-add?" differently:

* LeNet: two 5x5 convolution + pooling stages and a small fully connected classifier;
* AlexNet: wider and deeper, ReLU, overlapping max-pooling, dropout in a large classifier;
* VGG: only 3x3 convolutions, stacked (two 3x3 see a 5x5 window with 2·9C² < 25C² weights);
* GoogLeNet: Inception modules, 1x1 "bottleneck" convolutions before the expensive 3x3/5x5 ones,
  global average pooling instead of big fully connected layers;
* ResNet: residual blocks y = relu(F(x) + x), so depth stops hurting optimisation.

The experiment trains one (scaled-down, for a CPU) member of each family on the same CIFAR-10
images with the same optimiser and number of epochs, and tabulates parameters, multiply-adds
(MACs, from ``neuralab.diagnostics.summary``), training time and top-1/top-5 test error.

Runtime: the quick mode (2,000 training images at 16x16, widths x0.25, 2 epochs) takes about 30 s
of one core; the full mode (50,000 images at 32x32, widths x0.5, 10 epochs) about 7 h (measured
forward + backward per image on one core: LeNet 0.3 ms, AlexNet 5.7, VGG 5.1, GoogLeNet 32,
ResNet-20 7.7).

This module also holds the CIFAR-10 helpers (data subsets, a compact training loop with top-1 and
top-5 error, scaled versions of the zoo's networks) that the other architecture experiments
(``googlenet-aux``, ``vgg-deepening``, ``resnet-degradation``) share.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neuralab.backend import xp
from neuralab.experiments.base import Experiment, Verdict

# ============================================================================ CIFAR-10 data


def _cifar_splits(root: str | None) -> Any:
    """The CIFAR-10 train and test sets (no validation split) via ``neuralab.train.datasets``.

    Searched: ``root`` if given, else ``$NEURALAB_DATA`` and the cache folder (as ``neuralab
    train``), and last a ``shared/datasets`` folder beside the checkout (the development layout).
    """
    from neuralab.train.datasets import cifar10

    if root:
        return cifar10(root=root, val_split=0.0, download=False)
    try:
        return cifar10(root=None, val_split=0.0, download=False)
    except (FileNotFoundError, RuntimeError) as err:
        sibling = Path(__file__).resolve().parents[3] / "shared" / "datasets"
        if (sibling / "cifar10-jpg.tar.gz").is_file():
            return cifar10(root=str(sibling), val_split=0.0, download=False)
        raise FileNotFoundError(
            f"CIFAR-10 not found ({err}); set data_root=FOLDER (or $NEURALAB_DATA) to the folder "
            "holding cifar-10-python.tar.gz or cifar10-jpg.tar.gz") from err


def balanced_subset(targets: Any, n: int | None, seed: int, num_classes: int = 10) -> Any:
    """Indices of ``n`` examples, ``n / num_classes`` per class, drawn with ``seed`` (all: None)."""
    if n is None or n <= 0 or n >= len(targets):
        return xp.random.default_rng(seed).permutation(len(targets))
    generator = xp.random.default_rng(seed)
    per_class = n // num_classes
    rows = [generator.permutation(xp.flatnonzero(targets == c))[:per_class]
            for c in range(num_classes)]
    return generator.permutation(xp.concatenate(rows))


def to_float(dataset: Any, rows: Any, image_size: int, chunk: int = 5000) -> Any:
    """uint8 images ``dataset.data[rows]`` -> normalised float32 (N, 3, S, S), S = image_size.

    Smaller sizes are resampled bilinearly (32 -> 16 averages each 2x2 block).
    """
    from neuralab.data.transforms import Resize

    parts = []
    for begin in range(0, len(rows), chunk):
        x = dataset.transform_batch(dataset.data[rows[begin:begin + chunk]])  # (n, 3, 32, 32)
        if x.shape[-1] != image_size:
            x = Resize((image_size, image_size))(x)
        parts.append(xp.ascontiguousarray(x, dtype=xp.float32))
    return xp.concatenate(parts) if parts else xp.zeros((0, 3, image_size, image_size),
                                                        dtype=xp.float32)


def load_cifar(cfg: dict, seed: int) -> dict:
    """CIFAR-10 arrays for an experiment: ``train`` and ``test`` as (x float32 NCHW, y int64).

    Config keys: ``data_root`` ("" searches), ``train_images`` and ``test_images`` (balanced
    subsets; 0 = all), ``image_size`` (32, or smaller for quick runs).
    """
    splits = _cifar_splits(cfg.get("data_root") or None)
    train_rows = balanced_subset(splits.train.targets, cfg["train_images"], seed)
    test_rows = balanced_subset(splits.test.targets, cfg["test_images"], seed + 1)
    size = int(cfg["image_size"])
    return {
        "train": (to_float(splits.train, train_rows, size), splits.train.targets[train_rows]),
        "test": (to_float(splits.test, test_rows, size), splits.test.targets[test_rows]),
        "classes": list(splits.train.classes),
        "description": splits.description,
    }


# ============================================================================ training


def cifar_augmentation(size: int) -> Callable:
    """Random crops of the image padded by size/8 and horizontal flips (He et al., 2016)."""
    from neuralab.data.transforms import Compose, RandomCrop, RandomHorizontalFlip

    return Compose([RandomCrop(size, padding=max(1, size // 8)), RandomHorizontalFlip()])


def evaluate(model: Any, x: Any, y: Any, batch_size: int = 250) -> dict:
    """Mean cross-entropy and top-1 / top-5 error of ``model`` (eval mode, no graph)."""
    from neuralab.autograd import Tensor, no_grad
    from neuralab.nn.functional import cross_entropy
    from neuralab.train.metrics import topk_correct

    was_training = model.training
    model.eval()
    loss, hits1, hits5 = 0.0, 0, 0
    with no_grad():
        for begin in range(0, len(x), batch_size):
            xb, yb = Tensor(x[begin:begin + batch_size]), Tensor(y[begin:begin + batch_size])
            logits = model(xb)
            loss += float(cross_entropy(logits, yb).item()) * len(yb.array)
            c1, c5 = topk_correct(logits, yb, (1, 5))
            hits1, hits5 = hits1 + c1, hits5 + c5
    model.train(was_training)
    n = max(1, len(x))
    return {"loss": loss / n, "err1": 1 - hits1 / n, "err5": 1 - hits5 / n}


def main_logits(out: Any) -> Any:
    """The main classifier's logits from a model output (GoogLeNet returns a tuple)."""
    return out[0] if isinstance(out, tuple) else out


def train_classifier(model: Any, data: dict, cfg: dict, ctx: Any, label: str,
                     loss_fn: Callable | None = None, epochs: float | None = None,
                     lr: float | None = None, augment: Callable | None = None,
                     order_seed: int | None = None,
                     on_step: Callable[[int, Any], None] | None = None) -> dict:
    """Mini-batch SGD with momentum and a cosine learning-rate decay; per-step and per-epoch logs.

    Every model trained with the same ``order_seed`` sees the same mini-batches in the same
    order, so differences come from the architecture (or the initialisation) alone.

    Config keys: ``batch_size``, ``lr``, ``momentum``, ``weight_decay``, ``epochs``,
    ``eval_every`` (epochs between test evaluations; 0: at the end only), ``warmup`` (optional:
    the fraction of the steps over which the lr rises linearly from lr/warmup-steps to lr).

    Returns:
        ``losses``/``errors``: the training loss and top-1 error of every mini-batch (train mode),
        ``curve``: per evaluation (epoch, train loss, test loss, test top-1, test top-5),
        ``test``: the final test metrics, ``seconds``, ``steps``, ``params``.
    """
    from neuralab.autograd import Tensor
    from neuralab.nn.functional import cross_entropy
    from neuralab.optim import SGD

    loss_fn = loss_fn or (lambda out, y: cross_entropy(main_logits(out), y))
    x_train, y_train = data["train"]
    x_test, y_test = data["test"]
    bs = int(cfg["batch_size"])
    epochs = cfg["epochs"] if epochs is None else epochs
    base_lr = cfg["lr"] if lr is None else lr
    per_epoch = math.ceil(len(x_train) / bs)
    total = max(1, int(round(epochs * per_epoch)))
    opt = SGD(model.parameters(), lr=base_lr, momentum=cfg["momentum"],
              weight_decay=cfg["weight_decay"], nesterov=cfg["momentum"] > 0)
    order_rng = xp.random.default_rng(ctx.seed if order_seed is None else order_seed)
    eval_every = cfg.get("eval_every", 0)
    # Networks without batch norm (AlexNet, VGG) can blow up in the first steps at full lr.
    warmup = max(1, int(cfg.get("warmup", 0.0) * total))
    losses: list[float] = []
    errors: list[float] = []
    curve: list[list[float]] = []
    model.train()
    start = time.perf_counter()
    bar = ctx.progress(total=total, desc=label)
    order: Any = []
    running = 0.0
    for step in range(total):
        position = (step % per_epoch) * bs
        if position == 0:
            order = order_rng.permutation(len(x_train))
            running = 0.0
        rows = order[position:position + bs]
        xb = x_train[rows]
        if augment is not None:
            xb = augment(xb)
        for group in opt.param_groups:  # linear warm-up, then cosine decay to 0
            group["lr"] = base_lr * min(1.0, (step + 1) / warmup) * 0.5 * (
                1 + math.cos(math.pi * step / total))
        yb = Tensor(y_train[rows])
        out = model(Tensor(xp.ascontiguousarray(xb, dtype=xp.float32)))
        loss = loss_fn(out, yb)
        opt.zero_grad()
        loss.backward()
        if on_step is not None:
            on_step(step, model)
        opt.step()
        value = float(loss.item())
        if not math.isfinite(value):
            raise FloatingPointError(f"{label}: the training loss became {value} at step {step}; "
                                     f"lower lr (now {base_lr})")
        wrong = float((main_logits(out).array.argmax(axis=1) != yb.array).mean())
        losses.append(value)
        errors.append(wrong)
        running += value
        if step % 10 == 0 or step == total - 1:
            ctx.log("train", step=step, model=label, loss=value, error=wrong)
        bar.update(1)
        end_of_epoch = (step + 1) % per_epoch == 0 or step == total - 1
        epoch = (step + 1) / per_epoch
        if end_of_epoch and ((eval_every and round(epoch) % eval_every == 0)
                             or step == total - 1):
            test = evaluate(model, x_test, y_test)
            steps_in_epoch = step % per_epoch + 1
            curve.append([epoch, running / steps_in_epoch, test["loss"], test["err1"],
                          test["err5"]])
            ctx.log("epoch", step=step + 1, model=label, epoch=epoch,
                    train_loss=running / steps_in_epoch, test_loss=test["loss"],
                    test_err1=test["err1"], test_err5=test["err5"])
    bar.close()
    seconds = time.perf_counter() - start
    test = evaluate(model, x_test, y_test) if not curve else {
        "loss": curve[-1][2], "err1": curve[-1][3], "err5": curve[-1][4]}
    return {"losses": losses, "errors": errors, "curve": curve, "test": test,
            "seconds": seconds, "steps": total,
            "params": sum(int(p.array.size) for p in model.parameters())}


def smooth(values: list[float], window: int) -> list[float]:
    """Trailing moving average (the first points average what exists so far)."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def tail_mean(values: list[float], fraction: float = 0.2) -> float:
    """Mean of the last ``fraction`` of ``values`` (a noise-robust "final" training loss)."""
    k = max(1, int(len(values) * fraction))
    return float(sum(values[-k:]) / k)


# ============================================================================ models


def scaled(channels: int, width: float) -> int:
    """``channels x width`` rounded, at least 4."""
    return max(4, int(round(channels * width)))


def lenet_rgb(num_classes: int = 10, image_size: int = 32) -> Any:
    """LeNet-5 from the zoo with 3 input channels (the 1998 net, 5x5 convs, for colour images)."""
    from neuralab.models import create

    padding = 0 if image_size >= 28 else 2  # 32x32: the original design; 16x16 needs padding
    return create("lenet5", num_classes=num_classes, in_channels=3, image_size=image_size,
                  padding=padding)


def small_alexnet(num_classes: int = 10, width: float = 1.0, image_size: int = 32) -> Any:
    """The zoo's ``alexnet_cifar`` layout (5x5, 5x5, 3x3, 3x3, 3x3 convs; 3x3/2 overlapping
    max-pools; dropout + two hidden FC layers) with every width scaled by ``width``.

    ``width=1`` gives exactly ``create('alexnet_cifar')`` (64-192-384-256-256, FC 1024).
    """
    import neuralab.nn as nn

    c = [scaled(v, width) for v in (64, 192, 384, 256, 256)]
    hidden = scaled(1024, width)
    pooled = 3 if image_size >= 32 else 1
    model = nn.Module()
    model.features = nn.Sequential(
        nn.Conv2d(3, c[0], kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(c[0], c[1], kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(c[1], c[2], kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(c[2], c[3], kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(c[3], c[4], kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2) if image_size >= 32 else nn.Identity(),
    )
    model.avgpool = nn.AdaptiveAvgPool2d((pooled, pooled))
    model.classifier = nn.Sequential(
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(c[4] * pooled * pooled, hidden), nn.ReLU(),
        nn.Dropout(0.5), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))
    chained = _Chain(model, ("features", "avgpool", "classifier"))
    he_init(chained)
    return chained


class _Chain:
    """Turns a module holding ``features/avgpool/classifier`` into one whose forward chains them.

    (A plain ``nn.Module`` has no forward; defined as a factory so the import of ``nn`` stays
    inside functions.)
    """

    def __new__(cls, module: Any, names: tuple[str, ...]) -> Any:
        import neuralab.nn as nn

        class Chained(nn.Module):
            def forward(self, x: Any) -> Any:
                for name in names:
                    x = getattr(self, name)(x)
                return x

        chained = Chained()
        for name in names:
            setattr(chained, name, getattr(module, name))
        return chained


def vgg_config(width: float, image_size: int, depth: str = "A") -> list[Any]:
    """VGG configuration ``depth`` (A = VGG-11, B = 13, D = 16, E = 19) with scaled widths and as
    many 2x2 pools as the image allows (five for 32x32, four for 16x16)."""
    from neuralab.models.vgg import CONFIGS

    pools = min(5, int(math.log2(image_size)))
    out: list[Any] = []
    seen = 0
    for v in CONFIGS[depth]:
        if v == "M":
            seen += 1
            if seen <= pools:
                out.append("M")
        else:
            out.append(scaled(v, width))
    return out


def small_vgg(num_classes: int = 10, width: float = 1.0, image_size: int = 32,
              depth: str = "A", batch_norm: bool = False, hidden: int = 512,
              init: str = "he", dropout: float = 0.5) -> Any:
    """The zoo's ``VGG`` (``vgg11_cifar`` for depth A, width 1) with scaled widths, a
    ``hidden``-unit classifier, and He initialisation (``init='he'``) or the paper's N(0, 0.01²)
    (``init='paper'``): torchvision's N(0, 0.01²) linear layers shrink the signal ~10x per layer
    when the classifier is narrow, which stalls a small network at the chance loss."""
    import neuralab.nn as nn
    from neuralab.models.vgg import VGG

    config = vgg_config(width, image_size, depth)
    model = VGG(config, num_classes=num_classes, batch_norm=batch_norm, cifar=True,
                init_weights=False)
    last = [v for v in config if v != "M"][-1]
    model.classifier = nn.Sequential(
        nn.Linear(last, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, hidden),
        nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, num_classes))
    if init == "paper":
        paper_init(model)
    else:
        he_init(model)
    return model


def he_init(model: Any) -> None:
    """He et al. (2015): w ~ N(0, 2 / fan_in) for every conv and linear layer (variance kept
    through ReLUs), the last linear layer N(0, 1 / fan_in); biases 0; batch norm γ = 1, β = 0."""
    from neuralab.models.initialization import normal_fill

    layers = [m for m in model.modules() if type(m).__name__ in ("Conv2d", "Linear")]
    for i, m in enumerate(layers):
        fan_in = int(xp.prod(m.weight.shape[1:]))
        gain = 1.0 if i == len(layers) - 1 and type(m).__name__ == "Linear" else 2.0
        normal_fill(m.weight, math.sqrt(gain / fan_in))
        if getattr(m, "bias", None) is not None:
            m.bias.array[...] = 0


def paper_init(model: Any) -> None:
    """Simonyan & Zisserman's random initialisation: w ~ N(0, 0.01²), biases 0."""
    from neuralab.models.initialization import normal_fill

    for m in model.modules():
        if type(m).__name__ in ("Conv2d", "Linear"):
            normal_fill(m.weight, 0.01)
            if getattr(m, "bias", None) is not None:
                m.bias.array[...] = 0


def _small_googlenet_class() -> type:
    import neuralab.nn as nn
    from neuralab.models.googlenet import (
        INCEPTION_TABLE,
        BasicConv2d,
        GoogLeNetOutputs,
        Inception,
    )

    class SmallAux(nn.Module):
        """Auxiliary head as in the paper, scaled: avg-pool to 2x2, 1x1 conv, FC, dropout 0.7,
        FC."""

        def __init__(self, in_channels: int, num_classes: int, width: float):
            super().__init__()
            c, hidden = scaled(128, width), scaled(1024, width)
            self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
            self.conv = BasicConv2d(in_channels, c, kernel_size=1)
            self.fc1 = nn.Linear(4 * c, hidden)
            self.relu = nn.ReLU()
            self.dropout = nn.Dropout(p=0.7)
            self.fc2 = nn.Linear(hidden, num_classes)

        def forward(self, x: Any) -> Any:
            x = self.conv(self.avgpool(x))  # (N, c, 2, 2)
            x = self.relu(self.fc1(x.reshape(x.shape[0], -1)))  # (N, 4c) -> (N, hidden)
            return self.fc2(self.dropout(x))

    class SmallGoogLeNet(nn.Module):
        """GoogLeNet for small images with every width scaled: a 3x3 stem, the nine Inception
        modules of the paper (3a-3b, pool, 4a-4e, pool, 5a-5b) built from the zoo's
        ``Inception`` blocks, global average pooling, dropout and one linear layer; optional
        auxiliary heads on 4a and 4d returning ``GoogLeNetOutputs`` in training mode, so
        ``googlenet_loss`` applies unchanged."""

        def __init__(self, num_classes: int = 10, width: float = 0.25, aux_logits: bool = False,
                     dropout: float = 0.2):
            super().__init__()
            self.aux_logits = aux_logits
            channels = scaled(192, width)
            self.conv1 = BasicConv2d(3, channels, kernel_size=3, padding=1)
            widths: dict[str, int] = {}
            for name, spec in INCEPTION_TABLE.items():
                module = Inception(channels, *(scaled(v, width) for v in spec))
                setattr(self, name, module)
                widths[name] = module.out_channels
                channels = module.out_channels
            self.maxpool3 = nn.MaxPool2d(3, stride=2, padding=1)
            self.maxpool4 = nn.MaxPool2d(3, stride=2, padding=1)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.dropout = nn.Dropout(p=dropout)
            self.fc = nn.Linear(channels, num_classes)
            if aux_logits:  # built last, so the main network's initial weights do not change
                self.aux1 = SmallAux(widths["inception4a"], num_classes, width)
                self.aux2 = SmallAux(widths["inception4d"], num_classes, width)

        def forward(self, x: Any) -> Any:
            x = self.conv1(x)
            x = self.maxpool3(self.inception3b(self.inception3a(x)))  # (N, C, S/2, S/2)
            x = self.inception4a(x)
            aux1 = self.aux1(x) if self.aux_logits and self.training else None
            x = self.inception4d(self.inception4c(self.inception4b(x)))
            aux2 = self.aux2(x) if self.aux_logits and self.training else None
            x = self.maxpool4(self.inception4e(x))  # (N, C, S/4, S/4)
            x = self.avgpool(self.inception5b(self.inception5a(x)))  # (N, C, 1, 1)
            x = self.fc(self.dropout(x.reshape(x.shape[0], -1)))
            if aux1 is not None:
                return GoogLeNetOutputs(x, aux2, aux1)
            return x

    return SmallGoogLeNet


def small_googlenet(num_classes: int = 10, width: float = 0.25, aux_logits: bool = False,
                    **options: Any) -> Any:
    """A width-scaled GoogLeNet for 32x32 (or 16x16) images; see ``SmallGoogLeNet``."""
    model = _small_googlenet_class()(num_classes=num_classes, width=width,
                                     aux_logits=aux_logits, **options)
    he_init(model)
    return model


def resnet_cifar(depth: int = 20, num_classes: int = 10, residual: bool = True) -> Any:
    """The zoo's CIFAR ResNet (or plain net) of depth 6n + 2 (16-32-64 filters)."""
    from neuralab.models.resnet import CifarResNet

    return CifarResNet(depth, num_classes=num_classes, residual=residual)


# ============================================================================ the experiment

ARCHITECTURES = ("lenet", "alexnet", "vgg", "googlenet", "resnet20")
LABELS = {"lenet": "LeNet-5 (RGB)", "alexnet": "AlexNet (small)", "vgg": "VGG-11 (small)",
          "googlenet": "GoogLeNet (small)", "resnet20": "ResNet-20"}
YEARS = {"lenet": 1998, "alexnet": 2012, "vgg": 2014, "googlenet": 2014, "resnet20": 2015}


def build(name: str, cfg: dict) -> Any:
    """One of ``ARCHITECTURES`` at the configured width and image size."""
    size, width = int(cfg["image_size"]), float(cfg["width"])
    if name == "lenet":
        return lenet_rgb(image_size=size)
    if name == "alexnet":
        return small_alexnet(width=width, image_size=size)
    if name == "vgg":
        return small_vgg(width=width, image_size=size, batch_norm=cfg["vgg_batch_norm"],
                         hidden=scaled(512, width))
    if name == "googlenet":
        return small_googlenet(width=width * cfg["googlenet_width_factor"])
    if name == "resnet20":
        return resnet_cifar(20)
    raise ValueError(f"architectures-cifar: unknown architecture {name!r}; choose from "
                     f"{', '.join(ARCHITECTURES)}")


def prepare_cifar(cfg: dict, ctx: Any) -> tuple[dict, int, Callable | None]:
    """The shared start of the CIFAR experiments: the data (noted in the report),
    the image size and the training augmentation (None unless ``cfg["augment"]``)."""
    data = load_cifar(cfg, ctx.seed)
    size = int(cfg["image_size"])
    augment = cifar_augmentation(size) if cfg.get("augment") else None
    ctx.note(f"Data: {data['description']}; {len(data['train'][1])} training and "
             f"{len(data['test'][1])} test images at {size}x{size}.")
    return data, size, augment


def run(cfg: dict, ctx: Any) -> dict:
    from neuralab.backend import manual_seed
    from neuralab.diagnostics.summary import summary

    data, size, augment = prepare_cifar(cfg, ctx)
    rows, results, runs = [], {"architectures": list(cfg["architectures"])}, {}
    for name in cfg["architectures"]:
        manual_seed(ctx.seed)
        model = build(name, cfg)
        info = summary(model, (3, size, size))
        # AlexNet (no batch norm, 5x5 filters) diverges at 32x32 with the lr the others use.
        lr = cfg["lr"] * cfg.get(f"{name}_lr_factor", 1.0)
        out = train_classifier(model, data, cfg, ctx, name, lr=lr, augment=augment,
                               order_seed=ctx.seed)
        runs[name] = out
        test = out["test"]
        rows.append([LABELS.get(name, name), YEARS.get(name), info.total_params,
                     info.total_macs, round(out["seconds"], 1), round(100 * test["err1"], 2),
                     round(100 * test["err5"], 2)])
        results[name] = {"params": info.total_params, "macs": info.total_macs,
                         "counted_params": out["params"], "seconds": out["seconds"],
                         "test_err1": test["err1"], "test_err5": test["err5"],
                         "test_loss": test["loss"], "final_train_loss": tail_mean(out["losses"]),
                         "steps": out["steps"]}
    ctx.table("architectures", ["network", "year", "parameters", "MACs per image",
                                "training time (s)", "top-1 error (%)", "top-5 error (%)"], rows,
              caption=f"{cfg['epochs']} epochs of SGD (lr {cfg['lr']}, momentum "
                      f"{cfg['momentum']}, batch {cfg['batch_size']}); MACs and parameters from "
                      "neuralab.diagnostics.summary at the training image size.")
    _figures(ctx, cfg, results, runs)
    results["chance_error"] = 0.9
    return results


def _figures(ctx: Any, cfg: dict, results: dict, runs: dict) -> None:
    names = [n for n in cfg["architectures"] if n in runs]
    labels = [LABELS.get(n, n) for n in names]
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
    fig, axes = ctx.subplots(1, 3, figsize=(16, 4.4))
    ax = axes[0]
    positions = xp.arange(len(names))
    ax.bar(positions - 0.2, [100 * results[n]["test_err1"] for n in names], 0.4, label="top-1")
    ax.bar(positions + 0.2, [100 * results[n]["test_err5"] for n in names], 0.4, label="top-5")
    ax.axhline(90, ls="--", c="gray", lw=1, label="chance (top-1)")
    ax.set_xticks(positions)
    ax.set_xticklabels(labels, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("test error (%)")
    ax.legend(fontsize=8)
    ax.set_title("test error after the same budget")
    for ax, key, title in ((axes[1], "params", "parameters"), (axes[2], "macs",
                                                                "multiply-adds per image")):
        for i, n in enumerate(names):
            ax.scatter(results[n][key], 100 * results[n]["test_err1"], s=60,
                       color=colours[i % len(colours)], label=LABELS.get(n, n))
            ax.annotate(LABELS.get(n, n).split(" ")[0], (results[n][key],
                                                         100 * results[n]["test_err1"]),
                        textcoords="offset points", xytext=(5, 4), fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel(title + " (log scale)")
        ax.set_ylabel("top-1 test error (%)")
        ax.set_title(f"error against {title}")
    ctx.figure("error_vs_cost", fig, "Top-1 and top-5 test errors, and top-1 error against the "
               "number of parameters and of multiply-adds.")
    fig, ax = ctx.subplots(figsize=(7, 4))
    window = max(1, len(next(iter(runs.values()))["losses"]) // 20) if runs else 1
    for i, n in enumerate(names):
        ax.plot(smooth(runs[n]["losses"], window), color=colours[i % len(colours)],
                label=LABELS.get(n, n))
    ax.set_xlabel("step")
    ax.set_ylabel(f"training loss (moving average of {window})")
    ax.legend(fontsize=8)
    ctx.figure("training_loss", fig, "Training cross-entropy of each network on the same "
               "mini-batches.")


def verdict(results: dict, cfg: dict) -> Verdict:
    names = results.get("architectures", [])
    missing = [n for n in names if n not in results]
    if missing:
        return Verdict(False, f"no result for {', '.join(missing)}")
    errors = {n: results[n]["test_err1"] for n in names}
    above_chance = all(e < 0.9 for e in errors.values())
    text = ", ".join(f"{LABELS.get(n, n)} {100 * e:.1f}%" for n, e in errors.items())
    if cfg.get("compare_lenet", True) and "lenet" in errors and len(errors) > 1:
        best_modern = min(e for n, e in errors.items() if n != "lenet")
        ok = above_chance and best_modern < errors["lenet"]
        return Verdict(ok, f"top-1 test errors: {text}; the best later architecture "
                           f"{'beats' if best_modern < errors['lenet'] else 'does not beat'} "
                           "LeNet")
    return Verdict(above_chance, f"top-1 test errors: {text} (chance is 90%); every network "
                                 f"{'learned' if above_chance else 'did not all learn'} within "
                                 "the budget")


EXPERIMENT = Experiment(
    name="architectures-cifar",
    lecture="L12",
    title="LeNet, AlexNet, VGG, GoogLeNet and ResNet on CIFAR-10",
    claim="On the same CIFAR-10 budget the later architectures (VGG's 3x3 stacks, GoogLeNet's "
          "Inception modules, ResNet's residual blocks) reach a lower error than LeNet, and "
          "GoogLeNet and ResNet do it with far fewer parameters than AlexNet and VGG.",
    run=run,
    verdict=verdict,
    defaults={"architectures": list(ARCHITECTURES), "data_root": "", "train_images": 0,
              "test_images": 0, "image_size": 32, "width": 0.5, "googlenet_width_factor": 0.5,
              "vgg_batch_norm": True, "epochs": 10, "batch_size": 128, "lr": 0.05,
              "lenet_lr_factor": 1.0, "alexnet_lr_factor": 0.2, "warmup": 0.0, "momentum": 0.9,
              "weight_decay": 5e-4, "augment": True, "eval_every": 1, "compare_lenet": True,
              "threads": 0},
    quick={"train_images": 2000, "test_images": 1000, "image_size": 16, "width": 0.25,
           "epochs": 2, "batch_size": 50, "eval_every": 0, "augment": False,
           "alexnet_lr_factor": 1.0, "compare_lenet": False, "threads": 1},
    runtime="7 h",
    setup=("CIFAR-10 ({train_images} training images, 0 = all 50,000; {test_images} test "
           "images, 0 = all 10,000) at {image_size}x{image_size}, normalised per channel "
           "(random crops and flips: {augment}). Networks: LeNet-5 with 3 input channels; "
           "AlexNet, VGG-11 (batch norm: {vgg_batch_norm}) and GoogLeNet (all nine Inception "
           "modules) scaled to width {width} (GoogLeNet a further x{googlenet_width_factor}); "
           "ResNet-20. Each trains for {epochs} epochs with SGD (Nesterov momentum {momentum}, "
           "lr {lr} (AlexNet x{alexnet_lr_factor}) with cosine decay, weight decay "
           "{weight_decay}, batch {batch_size}) from seed-fixed weights on the same "
           "mini-batches."),
)
