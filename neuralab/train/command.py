"""``neuralab train``: train a model of the zoo on a data set from the command line.

    neuralab train --model mlp --data mnist --epochs 10 --lr 0.05 --momentum 0.9

Settings are resolved in this order: options given on the command line, then the ``--preset``,
then the saved ``config.json`` of a ``--resume``d run, then the defaults below.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

# Built-in defaults; the parser's own defaults are None so that we can tell what was given.
DEFAULTS: dict[str, Any] = {
    "model": "mlp", "data": "mnist", "epochs": 10, "optimizer": "sgd", "lr": 0.05,
    "momentum": 0.9, "weight_decay": 0.0, "nesterov": False, "batch_size": 64,
    "eval_batch_size": 1000, "dropout": None, "scheduler": "cosine", "step_size": None,
    "gamma": 0.1, "milestones": None, "max_lr": None, "pct_start": 0.3, "scheduler_step": None,
    "val_split": 0.1, "early_stopping": None, "grad_clip": None, "seed": 0,
    "out": "runs", "data_root": None, "subset": False, "limit": None, "progress": True,
    "download": True, "threads": None,
}

OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop",
              "adagrad": "Adagrad"}
SCHEDULERS = ("none", "step", "multistep", "cosine", "exponential", "plateau", "onecycle")


def add_commands(subparsers: Any) -> None:
    """Add the ``train`` subcommand."""
    p = subparsers.add_parser(
        "train", help="train a model on a data set",
        description="Train a model of the zoo on a data set, writing config.json, metrics.jsonl "
        "and checkpoints to a run directory. Full MNIST is used when found (--data-root, "
        "$NEURALAB_DATA, ~/.cache/neuralab) or downloaded, else the shipped subset.",
        argument_default=None)
    p.add_argument("--model", help="model name (see `neuralab.models.list_models()`); "
                   f"default {DEFAULTS['model']}")
    p.add_argument("--data", help=f"data set name; default {DEFAULTS['data']}")
    p.add_argument("--preset", help="named set of settings from neuralab.train.presets")
    p.add_argument("--epochs", type=int, help=f"total epochs; default {DEFAULTS['epochs']}")
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS),
                   help=f"default {DEFAULTS['optimizer']}")
    p.add_argument("--lr", type=float, help=f"learning rate; default {DEFAULTS['lr']}")
    p.add_argument("--momentum", type=float, help=f"SGD/RMSprop momentum; default "
                   f"{DEFAULTS['momentum']}")
    p.add_argument("--nesterov", action="store_true", help="Nesterov momentum (SGD)")
    p.add_argument("--weight-decay", type=float, help="L2 penalty coefficient; default 0")
    p.add_argument("--batch-size", type=int, help=f"default {DEFAULTS['batch_size']}")
    p.add_argument("--eval-batch-size", type=int,
                   help=f"batch size for validation/test; default {DEFAULTS['eval_batch_size']}")
    p.add_argument("--dropout", type=float, help="dropout probability of the model's hidden "
                   "layers (models that take a dropout option)")
    p.add_argument("--scheduler", choices=SCHEDULERS,
                   help="learning-rate schedule, stepped once per epoch: cosine (from --lr down "
                   "to 0 over the epochs; the default), step (x gamma every --step-size "
                   "epochs), multistep (x gamma at each of --milestones), exponential, "
                   "plateau (x gamma when the validation loss stalls), onecycle (per batch, "
                   "up to --max-lr and down; Smith & Topin 2018) or none (constant)")
    p.add_argument("--step-size", type=int, help="epochs between decays (step); default "
                   "epochs // 3")
    p.add_argument("--gamma", type=float, help="decay factor (step, exponential, plateau); "
                   "default 0.1")
    p.add_argument("--milestones", type=int, nargs="+", metavar="EPOCH",
                   help="epochs at which multistep multiplies the rate by gamma")
    p.add_argument("--max-lr", type=float, help="peak rate of onecycle; default --lr")
    p.add_argument("--pct-start", type=float, help="fraction of onecycle spent warming up; "
                   "default 0.3")
    p.add_argument("--val-split", type=float, help="fraction of the training set held out for "
                   f"validation; default {DEFAULTS['val_split']}")
    p.add_argument("--early-stopping", type=int, metavar="PATIENCE",
                   help="stop when the validation loss has not improved for PATIENCE epochs "
                   "and restore the best weights")
    p.add_argument("--grad-clip", type=float, metavar="MAX_NORM",
                   help="clip the global gradient norm")
    p.add_argument("--seed", type=int, help=f"random seed; default {DEFAULTS['seed']}")
    p.add_argument("--out", help=f"folder for run directories; default {DEFAULTS['out']}")
    p.add_argument("--run-dir", help="exact run directory to use (default: OUT/MODEL-DATA-TIME)")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue the run in RUN_DIR from its last checkpoint")
    p.add_argument("--data-root", help="folder holding the data files")
    p.add_argument("--subset", action="store_true",
                   help="use the small data subset shipped with neuralab")
    p.add_argument("--limit", type=int, metavar="N",
                   help="use a random subset of at most N examples of each split (quick checks)")
    p.add_argument("--threads", type=int, metavar="N",
                   help="threads for neuralab's convolution and batch-norm loops and for "
                   "NumPy's BLAS (default: all cores); 1 is often faster for small models or "
                   "on a busy machine")
    p.add_argument("--no-download", dest="download", action="store_false", default=None,
                   help="never download data")
    p.add_argument("--no-progress", dest="progress", action="store_false", default=None,
                   help="no progress bar")
    p.set_defaults(handler=run_train)


def _load_preset(name: str) -> dict:
    try:
        presets = importlib.import_module("neuralab.train.presets")
    except ModuleNotFoundError as err:
        if err.name != "neuralab.train.presets":
            raise
        raise SystemExit("neuralab train: no presets are available in this installation") from None
    if hasattr(presets, "get_preset"):
        return dict(presets.get_preset(name))
    table = getattr(presets, "PRESETS", {})
    if name not in table:
        raise SystemExit(f"neuralab train: unknown preset {name!r}; choose one of "
                         f"{', '.join(sorted(table))}")
    return dict(table[name])


def resolve_settings(args: argparse.Namespace) -> dict:
    """Merge command line > preset > resumed config > defaults into one dict."""
    given = {k: v for k, v in vars(args).items() if v is not None and k not in ("handler",
                                                                                 "command")}
    if given.get("nesterov") is False:
        given.pop("nesterov")
    if given.get("subset") is False:
        given.pop("subset")
    settings = dict(DEFAULTS)
    if args.resume:
        config_path = Path(args.resume) / "config.json"
        if not config_path.exists():
            raise SystemExit(f"neuralab train: cannot resume, {config_path} does not exist")
        saved = json.loads(config_path.read_text()).get("settings", {})
        settings.update({k: v for k, v in saved.items() if k in DEFAULTS or k == "preset"})
    preset_name = given.get("preset") or settings.get("preset")
    extra: dict = {}
    if preset_name:
        preset = _load_preset(preset_name)
        for key, value in preset.items():
            key = key.replace("-", "_")
            if key in DEFAULTS:
                settings[key] = value
            else:
                extra[key] = value
    settings.update({k: v for k, v in given.items() if k in DEFAULTS or k == "preset"})
    settings["model_options"] = {**settings.get("model_options", {}),
                                 **extra.pop("model_options", {}), **extra}
    return settings


def _build_model(name: str, splits: Any, settings: dict) -> Any:
    from neuralab.models import create, get_entry

    entry = get_entry(name)
    params = inspect.signature(entry.builder).parameters
    options = dict(settings.get("model_options") or {})
    # Fit the model to the data: input size for MLPs, channels for convnets.
    if "in_features" in params and "in_features" not in options:
        options["in_features"] = math.prod(splits.input_shape)
    if "in_channels" in params and "in_channels" not in options:
        options["in_channels"] = splits.input_shape[0]
    if settings.get("dropout") is not None:
        if "dropout" not in params:
            raise SystemExit(f"neuralab train: model {name!r} takes no dropout option")
        options["dropout"] = settings["dropout"]
    return create(name, num_classes=splits.num_classes, **options)


def _build_optimizer(model: Any, settings: dict) -> Any:
    from neuralab import optim

    name = settings["optimizer"]
    cls = getattr(optim, OPTIMIZERS[name], None)
    if cls is None:
        raise SystemExit(f"neuralab train: optimizer {name!r} is not available yet")
    params = inspect.signature(cls).parameters
    options = {"lr": settings["lr"], "weight_decay": settings["weight_decay"]}
    if "momentum" in params and name in ("sgd", "rmsprop"):
        options["momentum"] = settings["momentum"]
    if "nesterov" in params and settings.get("nesterov"):
        options["nesterov"] = True
    return cls(model.parameters(), **{k: v for k, v in options.items() if k in params})


def _build_scheduler(optimizer: Any, settings: dict, steps_per_epoch: int) -> Any:
    kind = settings["scheduler"]
    if kind in (None, "none"):
        return None
    from neuralab.optim import lr_scheduler as sched

    epochs = settings["epochs"]
    if kind == "step":
        step = settings["step_size"] or max(1, epochs // 3)
        return sched.StepLR(optimizer, step_size=step, gamma=settings["gamma"])
    if kind == "multistep":
        if not settings["milestones"]:
            raise SystemExit("neuralab train: --scheduler multistep needs --milestones")
        return sched.MultiStepLR(optimizer, milestones=[int(m) for m in settings["milestones"]],
                                 gamma=settings["gamma"])
    if kind == "onecycle":
        return sched.OneCycleLR(optimizer, max_lr=settings["max_lr"] or settings["lr"],
                                epochs=max(1, epochs), steps_per_epoch=max(1, steps_per_epoch),
                                pct_start=settings["pct_start"])
    if kind == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=max(1, epochs))
    if kind == "exponential":
        return sched.ExponentialLR(optimizer, gamma=settings["gamma"])
    return sched.ReduceLROnPlateau(optimizer, factor=settings["gamma"])


def _limit(dataset: Any, n: int | None, seed: int) -> Any:
    """A seeded random subset of ``n`` examples: image folders are sorted by class, so the first
    ``n`` examples would often be a single class."""
    from neuralab.backend import xp
    from neuralab.data.dataset import Subset

    if dataset is None or n is None or len(dataset) <= n:
        return dataset
    chosen = xp.random.default_rng(seed).choice(len(dataset), size=n, replace=False)
    return Subset(dataset, xp.sort(chosen))


def run_train(args: argparse.Namespace) -> int:
    """Handler of ``neuralab train``."""
    from neuralab.backend import manual_seed
    from neuralab.data.dataloader import DataLoader
    from neuralab.train import datasets
    from neuralab.train.loop import Trainer, TrainingDiverged
    from neuralab.train.rundir import new_run_dir

    settings = resolve_settings(args)
    if settings["threads"]:
        from neuralab.parallel import set_num_threads

        if not set_num_threads(settings["threads"]):
            print("neuralab train: could not set the number of BLAS threads here (install "
                  "threadpoolctl); neuralab's own loops use the number given", file=sys.stderr)
    manual_seed(settings["seed"])
    if settings["data"] not in datasets.DATASETS:
        print(f"neuralab train: unknown data set {settings['data']!r}; choose one of "
              f"{', '.join(sorted(datasets.DATASETS))}", file=sys.stderr)
        return 2
    splits = datasets.build(settings["data"], root=settings["data_root"],
                            val_split=settings["val_split"], seed=settings["seed"],
                            subset=True if settings["subset"] else None,
                            download=settings["download"])
    if splits.is_subset:
        print(f"training on the shipped subset of {settings['data']} "
              f"({len(splits.train)} training examples): the full data was not found; "
              "see the message above for where to put it", file=sys.stderr)
    train_set, val_set, test_set = (_limit(d, settings["limit"], settings["seed"])
                                    for d in (splits.train, splits.val, splits.test))
    try:
        model = _build_model(settings["model"], splits, settings)
    except KeyError as err:
        print(f"neuralab train: {err.args[0]}", file=sys.stderr)
        return 2
    optimizer = _build_optimizer(model, settings)
    train_loader = DataLoader(train_set, batch_size=settings["batch_size"], shuffle=True,
                              seed=settings["seed"], transform=splits.train_transform)
    scheduler = _build_scheduler(optimizer, settings, len(train_loader))
    scheduler_step = settings["scheduler_step"] or (
        "batch" if settings["scheduler"] == "onecycle" else "epoch")

    def eval_loader(dataset: Any) -> Any:
        return DataLoader(dataset, settings["eval_batch_size"]) if dataset is not None else None

    if args.resume:
        run_dir = Path(args.resume)
        planned = json.loads((run_dir / "config.json").read_text())["settings"].get("epochs")
        if planned != settings["epochs"] and settings["scheduler"] in ("cosine", "onecycle"):
            print(f"neuralab train: note: the {settings['scheduler']} schedule of this run was "
                  f"planned for {planned} epochs; continuing to {settings['epochs']} follows "
                  "the saved schedule beyond its end", file=sys.stderr)
    elif args.run_dir:
        run_dir = Path(args.run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
    else:
        run_dir = new_run_dir(settings["out"], f"{settings['model']}-{settings['data']}")
    n_params = sum(p.data.size for p in model.parameters())
    print(f"model {settings['model']} ({n_params:,} parameters) on {splits.description}: "
          f"{len(train_set)} train / {len(val_set) if val_set is not None else 0} val / "
          f"{len(test_set) if test_set is not None else 0} test; run directory {run_dir}")
    trainer = Trainer(model, optimizer, scheduler=scheduler, scheduler_step=scheduler_step,
                      run_dir=run_dir,
                      early_stopping=settings["early_stopping"], grad_clip=settings["grad_clip"],
                      progress=settings["progress"],
                      config={"settings": settings, "is_subset": splits.is_subset,
                              "data": splits.description, "parameters": n_params,
                              "command": "neuralab " + " ".join(sys.argv[1:])})
    start = time.perf_counter()
    try:
        result = trainer.fit(train_loader, eval_loader(val_set), eval_loader(test_set),
                             epochs=settings["epochs"], resume=bool(args.resume))
    except TrainingDiverged as err:
        print(f"neuralab train: stopped: {err}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - start
    summary = f"done in {elapsed:.1f}s ({result.epochs_run} epochs)"
    if result.test is not None:
        summary += f": test accuracy {100 * result.test['acc1']:.2f}%"
        if splits.is_subset:
            summary += " (on the shipped subset's test images)"
    print(summary + f"; run directory {run_dir}")
    return 0
