"""``neuralab train``: train a model of the zoo on a data set from the command line.

    neuralab train --model mlp --data mnist --epochs 10 --lr 0.05 --momentum 0.9

Settings are resolved in this order: options given on the command line, then the ``--preset``,
then the defaults below. A ``--resume``d run starts from the settings saved in its
``config.json`` instead (its preset is not applied again), and options given with ``--resume``
follow one rule (``RESUME_RULE``): a change that can be applied to the remaining epochs is
applied and recorded in ``config.json`` (under ``resumes``); one that cannot (the model, the
data, the optimizer, the schedule's kind...) is refused, naming every such option.

Every option is checked before any work starts: a user's mistake is one line on stderr and exit
status 2 (usage) or 1 (missing or damaged files), never a traceback.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import json
import math
import os
import sys
import tempfile
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

from neuralab import optim
from neuralab.backend import manual_seed, xp
from neuralab.data.dataloader import DataLoader
from neuralab.data.dataset import Subset
from neuralab.data.datasets.imagefolder import parse_image_size
from neuralab.data.download import DataError
from neuralab.models import create, get_entry
from neuralab.optim import lr_scheduler
from neuralab.parallel import describe_threads, set_num_threads
from neuralab.train import data_parallel, datasets
from neuralab.train.checkpoint import CheckpointError
from neuralab.train.checkpoint import load as load_checkpoint
from neuralab.train.datasets import DATASETS, INFO, data_summary
from neuralab.train.loop import Trainer, TrainingDiverged
from neuralab.train.presets import PRESETS, get_preset, list_presets
from neuralab.train.rundir import RunDirLocked, lock_run_dir, new_run_dir, write_config
from neuralab.train.tensorboard import TensorBoardLogger

# Built-in defaults; the parser's own defaults are None so that we can tell what was given.
DEFAULTS: dict[str, Any] = {
    "model": "mlp", "data": "mnist", "epochs": 10, "optimizer": "sgd", "lr": 0.05,
    "momentum": 0.9, "weight_decay": 0.0, "nesterov": False, "batch_size": 64,
    "eval_batch_size": 1000, "dropout": None, "scheduler": "cosine", "step_size": None,
    "gamma": 0.1, "milestones": None, "max_lr": None, "pct_start": 0.3, "scheduler_step": None,
    "val_split": None, "early_stopping": None, "grad_clip": None, "seed": 0,
    "out": "runs", "data_root": None, "subset": False, "limit": None, "progress": True,
    "download": True, "threads": None, "image_size": None, "tensorboard": False,
    "workers": 0,
}

OPTIMIZERS = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW,
              "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad, "nadam": optim.NAdam,
              "radam": optim.RAdam, "adamax": optim.Adamax}
SCHEDULERS = ("none", "step", "multistep", "cosine", "exponential", "plateau", "onecycle")

#: Settings that ``--resume`` may change: they are applied to the remaining epochs (the rate is
#: rescaled in the optimizer and the schedule, momentum and weight decay set in the optimizer,
#: the scheduler's step size, gamma and milestones replaced...) and recorded in config.json.
RESUME_APPLIES = ("epochs", "lr", "momentum", "weight_decay", "nesterov", "batch_size",
                  "eval_batch_size", "grad_clip", "early_stopping", "step_size", "gamma",
                  "milestones", "progress", "threads", "download", "data_root", "nproc",
                  "tensorboard", "workers")
#: Settings fixed when a run starts: changing one with ``--resume`` is refused.
RESUME_REFUSES = ("model", "data", "preset", "optimizer", "scheduler", "dropout", "max_lr",
                  "pct_start", "scheduler_step", "val_split", "seed", "out", "subset", "limit",
                  "image_size")
RESUME_RULE = (
    "With --resume the run continues with the settings saved in its config.json. Options given "
    "with --resume that change how the remaining epochs train (--epochs, --lr, --momentum, "
    "--weight-decay, --nesterov, --batch-size, --eval-batch-size, --grad-clip, "
    "--early-stopping, --step-size, --gamma, --milestones) are applied from the next epoch and "
    "recorded in config.json (\"resumes\"); --lr rescales the rest of the schedule. Options "
    "fixed when the run started (--model, --data, --preset, --optimizer, --scheduler, "
    "--dropout, --max-lr, --pct-start, --val-split, --seed, --out, --subset, --limit, "
    "--image-size, and "
    "--lr, --batch-size or --epochs under a one-cycle schedule) are refused with a message: "
    "start a new run to change them. A cosine schedule resumed with more --epochs follows its "
    "saved plan, whose learning rate is 0 past the planned end, unless --replan plans it again "
    "for the new length. --nproc may change: a run resumes on any number of workers; so may "
    "--workers (the batches keep their order; random augmentations are drawn by the new "
    "number of loader processes).")


def _epilog() -> str:
    presets = "\n".join(f"  {name:<27} {p['model']} on {p['data']}, {p['epochs']} epochs, "
                         f"{p['scheduler']} schedule" for name, p in sorted(PRESETS.items()))
    resuming = textwrap.fill("Resuming: " + RESUME_RULE + " An existing run directory is never "
                             "overwritten unless --overwrite is given.", 79)
    return (f"data sets (--data NAME; `neuralab data` shows where each is looked for and what "
            f"was found):\n{data_summary()}\n\npresets (--preset NAME; `neuralab presets` "
            f"shows their settings):\n{presets}\n\n{resuming}")


#: The largest --image-size side accepted (ImageNet-style models use 224).
MAX_IMAGE_SIZE = 4096
#: The most --workers accepted: more processes than that only compete for the cores.
MAX_WORKERS = 64


class UsageError(Exception):
    """A user's mistake on the command line: one line, exit status 2."""


class RunError(Exception):
    """Missing or damaged files, a locked run: one line, exit status 1."""


def add_commands(subparsers: Any) -> None:
    """Add the ``train`` subcommand."""
    p = subparsers.add_parser(
        "train", help="train a model on a data set",
        description="Train a model of the zoo on a data set, writing config.json, metrics.jsonl "
        "and checkpoints to a run directory. Full MNIST is used when found (--data-root, "
        "$NEURALAB_DATA, ~/.cache/neuralab) or downloaded, else the shipped subset.",
        epilog=_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=None)
    p.add_argument("--model", help="model name (see `neuralab.models.list_models()`); "
                   f"default {DEFAULTS['model']}")
    add_data_arguments(p)
    p.add_argument("--preset", help="named set of settings (listed below; `neuralab presets`)")
    p.add_argument("--list-presets", action="store_true", default=None,
                   help="print the presets with their settings and exit")
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
                   "validation; default: the data set's own (0.1; 0 for caltech101, whose "
                   "protocol fixes the split)")
    p.add_argument("--early-stopping", type=int, metavar="PATIENCE",
                   help="stop when the validation loss has not improved for PATIENCE epochs "
                   "and restore the best weights")
    p.add_argument("--grad-clip", type=float, metavar="MAX_NORM",
                   help="clip the global gradient norm")
    p.add_argument("--seed", type=int, help=f"random seed; default {DEFAULTS['seed']}")
    p.add_argument("--out", help=f"folder for run directories; default {DEFAULTS['out']}")
    p.add_argument("--run-dir", help="exact run directory to use (default: OUT/MODEL-DATA-TIME); "
                   "refused if it already holds a run, unless --overwrite")
    p.add_argument("--overwrite", action="store_true", default=None,
                   help="replace the run already in --run-dir (its checkpoints and metrics)")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue the run in RUN_DIR from its last checkpoint (see below for "
                   "the options it may change); with more --epochs a cosine schedule keeps its "
                   "saved plan (learning rate 0 past its end) unless --replan is given")
    p.add_argument("--replan", action="store_true", default=None,
                   help="with --resume and a new --epochs: plan the schedule again for the new "
                   "length (the learning rate continues where a run planned for that length "
                   "would be)")
    p.add_argument("--subset", action="store_true",
                   help="use the small data subset shipped with neuralab (mnist)")
    p.add_argument("--limit", type=int, metavar="N",
                   help="use a random subset of at most N examples of each split (quick checks)")
    p.add_argument("--threads", type=int, metavar="N",
                   help="threads for neuralab's convolution and batch-norm loops and for "
                   "NumPy's BLAS (default: all cores, fewer while other processes use them; "
                   "the header says how many)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="DataLoader worker processes preparing the training batches while the "
                   "model trains (num_workers); default 0: every data set here is batched from "
                   "decoded arrays in memory, which one process augments many times faster than "
                   "a model trains (BENCHMARKS.md: CIFAR-10 with crops and flips about 12,000 "
                   "images/s against ResNet-20's 40-300), so workers would only "
                   "take cores from training; give N for slow custom pipelines. Runs are "
                   f"reproducible for a given N; at most {MAX_WORKERS}")
    p.add_argument("--nproc", type=int, metavar="N",
                   help="train data-parallel on N MPI workers (starts mpiexec -n N; needs "
                   "neuralab[distributed]); --batch-size stays the global batch")
    p.add_argument("--tensorboard", action="store_true", default=None,
                   help="log losses, accuracies, the learning rate, per-layer gradient norms and "
                   "weight histograms to RUN_DIR/tensorboard (tensorboard --logdir RUN_DIR; "
                   "needs neuralab[tensorboard])")
    p.add_argument("--no-download", dest="download", action="store_false", default=None,
                   help="never download data")
    p.add_argument("--no-progress", dest="progress", action="store_false", default=None,
                   help="no progress bar")
    p.set_defaults(handler=run_train)


def add_data_arguments(p: argparse.ArgumentParser, image: bool = True,
                       default: str | None = "mnist") -> None:
    """The data options every command shares: ``--data``, ``--data-root``, ``--image-size``."""
    names = ", ".join(DATASETS)
    p.add_argument("--data", metavar="NAME", help=f"data set: {names}"
                   + (f"; default {default}" if default else ""))
    p.add_argument("--data-root", metavar="DIR",
                   help="folder holding the data set's files (default: $NEURALAB_DATA, then "
                   "~/.cache/neuralab/NAME; `neuralab data` shows where each is looked for)")
    if image:
        p.add_argument("--image-size", metavar="N|HxW",
                       help="size images are decoded at (image data sets; default their own: "
                       "32 for cifar10, 224 for caltech101, the files' for imagefolder)")


def list_presets_text() -> str:
    """Each preset with its settings (``neuralab presets``)."""
    lines = []
    for name, preset in sorted(PRESETS.items()):
        lines.append(name)
        lines.append("    " + ", ".join(f"{k}={v}" for k, v in preset.items()))
    lines.append("\nuse one with `neuralab train --preset NAME`; options given on the command "
                 "line override its settings")
    return "\n".join(lines)


def _suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]}?" if close else ""


def _load_preset(name: str) -> dict:
    if name not in PRESETS:
        raise UsageError(f"unknown preset {name!r}; choose one of {', '.join(list_presets())}")
    return get_preset(name)


def resolve_settings(args: argparse.Namespace) -> dict:
    """Merge command line > preset > resumed config > defaults into one dict."""
    given = given_options(args)
    settings = dict(DEFAULTS)
    if args.resume:
        saved = read_run_config(Path(args.resume)).get("settings", {})
        settings.update({k: v for k, v in saved.items()
                         if k in DEFAULTS or k in ("preset", "model_options")})
    preset_name = given.get("preset") or settings.get("preset")
    extra: dict = {}
    if preset_name and not args.resume:  # a resumed run's settings already hold its preset
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


def given_options(args: argparse.Namespace) -> dict:
    """The options given on the command line (the parser's defaults are None)."""
    given = {k: v for k, v in vars(args).items()
             if v is not None and k not in ("handler", "command", "list_presets", "replan",
                                            "argv", "nproc")}
    for flag in ("nesterov", "subset", "overwrite", "tensorboard"):  # False: not given
        if given.get(flag) is False:
            given.pop(flag)
    return given


def read_run_config(run_dir: Path) -> dict:
    """The ``config.json`` of an existing run, or a RunError saying what is wrong with it."""
    path = run_dir / "config.json"
    if not run_dir.is_dir():
        raise RunError(f"cannot resume: {run_dir} is not a directory")
    if not path.is_file():
        raise RunError(f"cannot resume: {path} does not exist; is {run_dir} a run directory "
                       "written by neuralab train?")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise RunError(f"cannot resume: {path} is damaged ({err}); restore it, or start a new "
                       "run") from None
    if not isinstance(config, dict) or not isinstance(config.get("settings", {}), dict):
        raise RunError(f"cannot resume: {path} holds no settings object")
    return config


def _positive(v: Any) -> bool:
    return math.isfinite(v) and v > 0


def _non_negative(v: Any) -> bool:
    return math.isfinite(v) and v >= 0


# Per setting: (test of a value that is not None, what is expected).
_CHECKS: dict[str, tuple[Any, str]] = {
    "epochs": (lambda v: v >= 1, "a positive number of epochs"),
    "lr": (_positive, "a positive, finite learning rate"),
    "momentum": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "weight_decay": (_non_negative, "a non-negative, finite coefficient"),
    "batch_size": (lambda v: v >= 1, "a positive batch size"),
    "eval_batch_size": (lambda v: v >= 1, "a positive batch size"),
    "dropout": (lambda v: 0 <= v < 1, "a probability in [0, 1)"),
    "step_size": (lambda v: v >= 1, "a positive number of epochs"),
    "gamma": (_positive, "a positive, finite factor"),
    # (a repeated milestone decays once per repetition, as in PyTorch's MultiStepLR)
    "milestones": (lambda v: all(m >= 1 for m in v) and list(v) == sorted(v),
                   "positive epochs in increasing order"),
    "max_lr": (_positive, "a positive, finite learning rate"),
    "pct_start": (lambda v: 0 < v < 1, "a fraction in (0, 1)"),
    "scheduler_step": (lambda v: v in ("epoch", "batch"), "'epoch' or 'batch'"),
    "val_split": (lambda v: 0 <= v < 1, "a fraction in [0, 1)"),
    "early_stopping": (lambda v: v >= 1, "a positive patience in epochs"),
    "grad_clip": (_positive, "a positive, finite norm"),
    "seed": (lambda v: 0 <= v < 2**63, "a non-negative integer"),
    "limit": (lambda v: v >= 1, "a positive number of examples"),
    "threads": (lambda v: 1 <= v <= 1024, "a number of threads from 1 to 1024"),
    "workers": (lambda v: 0 <= v <= MAX_WORKERS,
                f"a number of loader processes from 0 to {MAX_WORKERS}"),
    "optimizer": (lambda v: v in OPTIMIZERS, f"one of {', '.join(sorted(OPTIMIZERS))}"),
    "scheduler": (lambda v: v in SCHEDULERS, f"one of {', '.join(SCHEDULERS)}"),
}


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def validate_settings(settings: dict, given: dict) -> None:
    """Check every setting before any work starts; raise UsageError naming the first bad one."""
    for key, (test, expected) in _CHECKS.items():
        value = settings.get(key)
        if value is None:
            continue
        try:
            ok = bool(test(value))
        except TypeError:
            ok = False
        if not ok:
            raise UsageError(f"{_flag(key)} must be {expected}, got {value!r}")
    if settings.get("tensorboard") and importlib.util.find_spec("tensorboardX") is None:
        raise UsageError('--tensorboard needs tensorboardX: pip install "neuralab[tensorboard]"')
    if settings["early_stopping"] is not None and not settings["val_split"]:
        raise UsageError("--early-stopping needs a validation set: give --val-split > 0 (for "
                         "example --val-split 0.1)")
    if settings["scheduler"] == "multistep" and not settings["milestones"]:
        raise UsageError("--scheduler multistep needs --milestones EPOCH [EPOCH ...]")
    if settings["scheduler"] == "plateau" and not settings["gamma"] < 1:
        raise UsageError(f"--gamma must be < 1 with --scheduler plateau (the rate is multiplied "
                         f"by it when the loss stalls), got {settings['gamma']!r}")
    if settings["optimizer"] not in ("sgd", "rmsprop") and "momentum" in given:
        raise UsageError(f"--momentum applies to sgd and rmsprop, not --optimizer "
                         f"{settings['optimizer']}")
    if settings.get("nesterov") and settings["optimizer"] != "sgd":
        raise UsageError(f"--nesterov applies to sgd, not --optimizer {settings['optimizer']}")
    if settings.get("nesterov") and not settings["momentum"]:
        raise UsageError("--nesterov needs a momentum > 0")
    sched_only = {"step_size": ("step",), "milestones": ("multistep",),
                  "max_lr": ("onecycle",), "pct_start": ("onecycle",),
                  "gamma": ("step", "multistep", "exponential", "plateau")}
    for key, kinds in sched_only.items():
        if key in given and settings["scheduler"] not in kinds:
            raise UsageError(f"{_flag(key)} applies to --scheduler {' or '.join(kinds)}, not "
                             f"{settings['scheduler']}")
    if settings["subset"] and settings["data"] != "mnist":
        raise UsageError(f"--subset: only mnist ships a subset, not {settings['data']!r}")
    if settings.get("image_size") is not None:
        try:
            size = parse_image_size(settings["image_size"])
        except ValueError as err:
            raise UsageError(f"--image-size: {err}") from None
        if max(size) > MAX_IMAGE_SIZE:
            raise UsageError(f"--image-size: {size[0]}x{size[1]} is larger than "
                             f"{MAX_IMAGE_SIZE} pixels a side; the decoded data set would not "
                             "fit in memory")
        if not INFO[settings["data"]].image:
            raise UsageError(f"--image-size: {settings['data']} is not an image data set")
    root = settings.get("data_root")
    if root is not None and "data_root" in given and not Path(root).expanduser().exists():
        missing = datasets.missing_message(settings["data"], root,
                                           f"--data-root {root} does not exist")
        raise UsageError(missing)


def _check_writable(folder: Path, what: str) -> None:
    """Create ``folder`` if needed and make sure a file can be written in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".neuralab-write-test-"):
            pass
    except OSError as err:
        raise RunError(f"{what} {folder} is not writable ({err.strerror or err}); choose "
                       "another folder") from None


RUN_FILES = ("config.json", "checkpoint.npz", "metrics.jsonl", "best.npz")


def _prepare_run_dir(run_dir: Path, overwrite: bool) -> None:
    """Refuse an existing run unless ``overwrite``; then clear its old files."""
    existing = [name for name in RUN_FILES if (run_dir / name).exists()]
    if existing and not overwrite:
        raise UsageError(f"--run-dir {run_dir} already holds a run ({', '.join(existing)}); "
                         f"continue it with --resume {run_dir}, replace it with --overwrite, "
                         "or choose another directory")
    _check_writable(run_dir, "--run-dir")


def check_resume_changes(saved: dict, given: dict, run_dir: Path) -> dict:
    """The settings ``given`` with --resume that differ from the ``saved`` ones, as
    ``{key: (old, new)}``; raise UsageError naming those that cannot be changed."""
    changed = {}
    for key, new in given.items():
        if key in ("resume", "run_dir", "overwrite"):
            continue
        old = saved.get(key, DEFAULTS.get(key))
        if new != old:
            changed[key] = (old, new)
    if given.get("overwrite"):
        raise UsageError("--overwrite and --resume contradict each other: --resume continues "
                         "the run, --overwrite replaces it")
    if "run_dir" in given and Path(given["run_dir"]).resolve() != run_dir.resolve():
        raise UsageError(f"--run-dir {given['run_dir']} with --resume {run_dir}: a resumed run "
                         "stays in its own directory")
    refused = [k for k in changed if k not in RESUME_APPLIES]
    if saved.get("scheduler") == "onecycle":  # planned over every batch of every epoch
        refused += [k for k in ("lr", "batch_size", "epochs") if k in changed]
    if refused:
        listed = ", ".join(f"{_flag(k)} ({changed[k][0]!r} -> {changed[k][1]!r})"
                           for k in refused)
        raise UsageError(f"cannot change {listed} when resuming {run_dir}: they are fixed when "
                         "a run starts; start a new run (--run-dir NEW) to change them")
    return changed


def _apply_resume_changes(changed: dict) -> Any:
    """The ``on_resume`` hook of Trainer.fit: set the changed hyperparameters after the
    checkpoint restored the saved ones."""

    def apply(trainer: Any) -> None:
        groups = trainer.optimizer.param_groups
        if "lr" in changed:
            old, new = changed["lr"]
            scale = new / old
            for group in groups:
                group["lr"] *= scale
                if "initial_lr" in group:
                    group["initial_lr"] *= scale
            sched = trainer.scheduler
            # ReduceLROnPlateau plans nothing ahead: it has no base rates to rescale.
            if sched is not None and not isinstance(sched, lr_scheduler.ReduceLROnPlateau):
                sched.base_lrs = [lr * scale for lr in sched.base_lrs]
        for key in ("momentum", "weight_decay", "nesterov"):
            if key in changed:
                for group in groups:
                    group[key] = changed[key][1]
        sched = trainer.scheduler
        kind = type(sched)
        if "step_size" in changed and kind is lr_scheduler.StepLR:
            sched.step_size = changed["step_size"][1]
        if "gamma" in changed and kind in (lr_scheduler.StepLR, lr_scheduler.MultiStepLR,
                                           lr_scheduler.ExponentialLR):
            sched.gamma = changed["gamma"][1]
        if "gamma" in changed and kind is lr_scheduler.ReduceLROnPlateau:
            sched.factor = changed["gamma"][1]
        if "milestones" in changed and kind is lr_scheduler.MultiStepLR:
            sched.milestones = Counter(int(m) for m in changed["milestones"][1])

    return apply


def _on_resume(changed: dict, replan: bool | None, make_scheduler: Any,
               steps_per_epoch: int) -> Any:
    """The ``on_resume`` hook: the changed settings, then (``--replan``) a schedule planned for
    the new number of epochs in place of the saved one."""
    apply = _apply_resume_changes(changed) if changed else None
    if not replan:
        return apply

    def hook(trainer: Any) -> None:
        if apply is not None:
            apply(trainer)
        if trainer.scheduler is None or isinstance(trainer.scheduler,
                                                   lr_scheduler.ReduceLROnPlateau):
            return  # nothing planned ahead
        # Back to each group's base rate (kept as 'initial_lr' by the optimizer), as at the start
        # of a run; stepping a new scheduler replays the new plan up to the epoch reached.
        for group in trainer.optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        trainer.scheduler = make_scheduler()
        for _ in range(trainer.epoch * steps_per_epoch):
            trainer.scheduler.step()

    return hook


def _record_resume(run_dir: Path, config: dict, settings: dict, changed: dict,
                   after_epoch: int) -> None:
    config = dict(config)
    config["settings"] = {**config.get("settings", {}),
                          **{k: settings[k] for k in changed}}
    if "epochs" in changed:
        config["epochs"] = settings["epochs"]
    config["resumes"] = [*config.get("resumes", []), {
        "after_epoch": after_epoch, "changed": {k: list(v) for k, v in changed.items()},
        "command": "neuralab " + " ".join(sys.argv[1:]),
        "time": time.strftime("%Y-%m-%d %H:%M:%S")}]
    write_config(run_dir, config)


def loading_summary(stats: Any, train: dict | None, elapsed: float) -> str:
    """One line: the training loader's images/s alone beside the training's images/s, and the
    time training spent waiting for batches (of ``elapsed`` seconds)."""
    rate = stats.images_per_second()
    line = f"data loading: {rate:,.0f} images/s per loader process"
    if train is not None and train.get("samples_per_s"):
        line += f" ({rate / train['samples_per_s']:,.1f}x training's " \
                f"{train['samples_per_s']:,.0f} images/s)"
    waited = f"{stats.wait_seconds:.2g}" if stats.wait_seconds < 1 else f"{stats.wait_seconds:.1f}"
    return line + (f"; training waited {waited}s for batches "
                   f"({100 * stats.wait_seconds / max(elapsed, 1e-9):.0f}% of {elapsed:.1f}s)")


def _build_model(name: str, splits: Any, settings: dict) -> Any:
    entry = get_entry(name)
    options = dict(settings.get("model_options") or {})
    # Fit the model to the data: input size for MLPs, channels for convnets.
    if "in_features" in entry.options and "in_features" not in options:
        options["in_features"] = math.prod(splits.input_shape)
    if "in_channels" in entry.options and "in_channels" not in options:
        options["in_channels"] = splits.input_shape[0]
    if settings.get("dropout") is not None:
        if "dropout" not in entry.options:
            raise UsageError(f"--dropout: model {name!r} takes no dropout option")
        options["dropout"] = settings["dropout"]
    return create(name, num_classes=splits.num_classes, **options)


def _build_optimizer(model: Any, settings: dict) -> Any:
    name = settings["optimizer"]
    options = {"lr": settings["lr"], "weight_decay": settings["weight_decay"]}
    # validate_settings has refused --momentum and --nesterov for the optimizers without them.
    if name in ("sgd", "rmsprop"):
        options["momentum"] = settings["momentum"]
    if settings.get("nesterov"):
        options["nesterov"] = True
    return OPTIMIZERS[name](model.parameters(), **options)


def _build_scheduler(optimizer: Any, settings: dict, steps_per_epoch: int) -> Any:
    kind = settings["scheduler"]
    if kind in (None, "none"):
        return None
    epochs = settings["epochs"]
    if kind == "step":
        step = settings["step_size"] or max(1, epochs // 3)
        return lr_scheduler.StepLR(optimizer, step_size=step, gamma=settings["gamma"])
    if kind == "multistep":
        return lr_scheduler.MultiStepLR(optimizer,
                                        milestones=[int(m) for m in settings["milestones"]],
                                        gamma=settings["gamma"])
    if kind == "onecycle":
        return lr_scheduler.OneCycleLR(optimizer, max_lr=settings["max_lr"] or settings["lr"],
                                       epochs=max(1, epochs),
                                       steps_per_epoch=max(1, steps_per_epoch),
                                       pct_start=settings["pct_start"])
    if kind == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, epochs))
    if kind == "exponential":
        return lr_scheduler.ExponentialLR(optimizer, gamma=settings["gamma"])
    return lr_scheduler.ReduceLROnPlateau(optimizer, factor=settings["gamma"])


def _limit(dataset: Any, n: int | None, seed: int) -> Any:
    """A seeded random subset of ``n`` examples: image folders are sorted by class, so the first
    ``n`` examples would often be a single class."""
    if dataset is None or n is None or len(dataset) <= n:
        return dataset
    chosen = xp.random.default_rng(seed).choice(len(dataset), size=n, replace=False)
    return Subset(dataset, xp.sort(chosen))


def run_train(args: argparse.Namespace) -> int:
    """Handler of ``neuralab train``: user errors become one line and exit status 2 or 1."""
    if args.list_presets:
        print(list_presets_text())
        return 0
    try:
        if args.nproc is not None:
            if args.nproc < 1:
                raise UsageError(f"--nproc must be at least 1, got {args.nproc}")
            if args.nproc > 1:
                return data_parallel.launch(args.nproc, data_parallel.without_nproc(args.argv))
        workers = data_parallel.join()  # None unless started by mpiexec
        if workers is not None and not workers.is_main:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (only rank 0 prints)
        return _run_train(args, workers)
    except UsageError as err:
        print(f"neuralab train: {err}", file=sys.stderr)
        return 2
    except (RunError, RunDirLocked, CheckpointError, DataError) as err:
        print(f"neuralab train: {err}", file=sys.stderr)
        return 1
    except MemoryError as err:
        print(f"neuralab train: out of memory: {err or 'an array did not fit'}; try a smaller "
              "--batch-size or model", file=sys.stderr)
        return 1


def _prepare(args: argparse.Namespace) -> tuple[dict, dict, Path, dict | None]:
    """Resolve and check every setting and the run directory before any work starts.

    Returns the settings, the changes made by --resume, the run directory and (on --resume)
    the saved config.
    """
    given = given_options(args)
    settings = resolve_settings(args)
    changed: dict = {}
    config = None
    if args.resume:  # first: what may change at all
        config = read_run_config(Path(args.resume))
        changed = check_resume_changes(config.get("settings", {}), given, Path(args.resume))
    if args.replan and not args.resume:
        raise UsageError("--replan re-plans the schedule of a resumed run; give --resume RUN_DIR")
    if settings["data"] not in datasets.DATASETS:
        raise UsageError(f"unknown data set {settings['data']!r}; choose one of "
                         f"{', '.join(datasets.DATASETS)}"
                         f"{_suggest(settings['data'], datasets.DATASETS)}")
    if settings["val_split"] is None:  # the data set's own split (none for caltech101)
        settings["val_split"] = datasets.INFO[settings["data"]].default_val_split
    try:
        entry = get_entry(settings["model"])
    except KeyError as err:
        raise UsageError(err.args[0]) from None
    if settings.get("dropout") is not None and "dropout" not in entry.options:
        raise UsageError(f"--dropout: model {settings['model']!r} takes no dropout option")
    for option in settings.get("model_options") or {}:
        if option not in entry.options:  # a preset's (or a resumed run's) model option
            raise UsageError(f"model option {option!r}: model {settings['model']!r} takes no "
                             f"such option; its options: {', '.join(entry.options) or '(none)'}")
    validate_settings(settings, given)
    if args.resume:
        run_dir = Path(args.resume)
        checkpoint = run_dir / "checkpoint.npz"
        if not checkpoint.is_file():
            raise RunError(f"cannot resume: {checkpoint} does not exist (the run stopped before "
                           "its first epoch ended); start it again with --run-dir "
                           f"{run_dir} --overwrite")
        state = load_checkpoint(checkpoint)
        done = int(state.get("epoch", 0)) if isinstance(state, dict) else 0
        if settings["epochs"] < done:
            raise UsageError(f"--epochs {settings['epochs']}: the run in {run_dir} has already "
                             f"trained {done} epochs; give --epochs {done} or more")
        root = settings.get("data_root")
        if root is not None and not Path(root).expanduser().exists():
            raise RunError(f"cannot resume: the run's data root {root} no longer exists; pass "
                           "--data-root with the folder that now holds the same data")
        _check_writable(run_dir, "run directory")
        settings["_resumed_epoch"] = done
    elif args.run_dir:
        run_dir = Path(args.run_dir)
        _prepare_run_dir(run_dir, bool(args.overwrite))
    else:
        if args.overwrite:
            raise UsageError("--overwrite needs --run-dir (the run to replace)")
        run_dir = Path(settings["out"])
        _check_writable(run_dir, "--out folder")
    return settings, changed, run_dir, config


def _run_train(args: argparse.Namespace, workers: Any) -> int:
    settings, changed, run_dir, config = _prepare(args)
    if workers is not None:
        workers.barrier()  # every worker has checked the run directory before rank 0 writes it
        if not workers.is_main:  # rank 0 writes the run; the others only read a resumed one
            return _train(args, settings, changed, None, config, workers)
    fresh = not args.resume and not args.run_dir
    if fresh:
        run_dir = new_run_dir(run_dir, f"{settings['model']}-{settings['data']}")
    code = 1
    try:
        with lock_run_dir(run_dir):
            if args.run_dir and not args.resume:  # an --overwrite'n run: its old files go
                for name in RUN_FILES:
                    (run_dir / name).unlink(missing_ok=True)
            code = _train(args, settings, changed, run_dir, config, workers)
            return code
    finally:
        if fresh and code != 0 and run_dir.is_dir() and not any(run_dir.iterdir()):
            run_dir.rmdir()  # a run that failed before writing anything leaves no folder


def _data_signature(splits: Any, sets: tuple) -> dict:
    return {"is_subset": bool(splits.is_subset),
            "sizes": [len(d) if d is not None else 0 for d in sets]}


def _train(args: argparse.Namespace, settings: dict, changed: dict, run_dir: Path | None,
           config: dict | None, workers: Any) -> int:
    resumed_epoch = settings.pop("_resumed_epoch", None)
    if settings["threads"]:
        if not set_num_threads(settings["threads"]):
            print("neuralab train: could not set the number of BLAS threads here (install "
                  "threadpoolctl); neuralab's own loops use the number given", file=sys.stderr)
    manual_seed(settings["seed"])
    subset = True if settings["subset"] else None
    if config is not None and config.get("is_subset") is False:
        subset = False  # a run on the full data never continues on the shipped subset
    try:
        splits = datasets.build(settings["data"], root=settings["data_root"],
                                val_split=settings["val_split"], seed=settings["seed"],
                                subset=subset, download=settings["download"],
                                image_size=settings["image_size"])
    except datasets.DataNotFound as err:  # says where it looked and what it accepts
        raise RunError(f"cannot load the data set {settings['data']!r}: "
                       + str(err).removeprefix(f"{settings['data']}: ")) from None
    except (DataError, FileNotFoundError, ValueError, OSError) as err:
        message = err.args[0] if isinstance(err, FileNotFoundError) and err.args and \
            isinstance(err.args[0], str) and not err.filename else err
        raise RunError(f"cannot load the data set {settings['data']!r}: {message}") from None
    if splits.is_subset:
        if settings["subset"]:
            print(f"training on the shipped subset of {settings['data']} "
                  f"({len(splits.train)} training examples), as asked (--subset)",
                  file=sys.stderr)
        else:
            print(f"training on the shipped subset of {settings['data']} "
                  f"({len(splits.train)} training examples): the full data was not found; "
                  "see the message above for where to put it", file=sys.stderr)
    train_set, val_set, test_set = (_limit(d, settings["limit"], settings["seed"])
                                    for d in (splits.train, splits.val, splits.test))
    signature = _data_signature(splits, (train_set, val_set, test_set))
    if config is not None:
        saved = config.get("data_signature")
        if (saved is not None and saved != signature) or \
                config.get("is_subset", splits.is_subset) != splits.is_subset:
            raise RunError(f"cannot resume {run_dir}: the data found now ({splits.description}, "
                           f"{signature['sizes']} examples) is not the data the run trained on "
                           f"({config.get('data')}, {(saved or {}).get('sizes')}); pass "
                           "--data-root with the folder holding that data")
    if len(train_set) == 0:
        raise RunError(f"the training set of {splits.description} is empty")
    try:
        model = _build_model(settings["model"], splits, settings)
    except (KeyError, TypeError, ValueError) as err:
        raise UsageError(f"cannot build model {settings['model']!r}: "
                         f"{err.args[0] if err.args else err}") from None
    optimizer = _build_optimizer(model, settings)
    if workers is None:
        # Workers start afresh each epoch (not persistent): their seeds come from neuralab's
        # generator, which the checkpoint restores, so a resumed run draws what it would have.
        train_loader = DataLoader(train_set, batch_size=settings["batch_size"], shuffle=True,
                                  seed=settings["seed"], transform=splits.train_transform,
                                  num_workers=settings["workers"])
    else:  # each worker its share of every batch; the gradients averaged after backward
        train_loader = workers.train_loader(train_set, settings["batch_size"], settings["seed"],
                                            splits.train_transform, settings["workers"])
        workers.wrap(model)
    scheduler = _build_scheduler(optimizer, settings, len(train_loader))
    scheduler_step = settings["scheduler_step"] or (
        "batch" if settings["scheduler"] == "onecycle" else "epoch")

    def eval_loader(dataset: Any) -> Any:
        return DataLoader(dataset, settings["eval_batch_size"],
                          num_workers=settings["workers"]) if dataset is not None else None

    if args.resume and run_dir is not None:  # rank 0 of several workers, or the only one
        planned = (config or {}).get("settings", {}).get("epochs")
        if planned != settings["epochs"] and settings["scheduler"] == "cosine":
            if args.replan:
                print(f"neuralab train: note: --replan: the cosine schedule planned for "
                      f"{planned} epochs is planned again for {settings['epochs']}; the "
                      "learning rate continues where such a run would be", file=sys.stderr)
            else:
                print(f"neuralab train: note: the cosine schedule of this run was planned for "
                      f"{planned} epochs; continuing to {settings['epochs']} follows the saved "
                      "schedule past its end, at learning rate 0; add --replan to plan it again "
                      "for the new length", file=sys.stderr)
        if changed:
            _record_resume(run_dir, config or {}, settings, changed, resumed_epoch or 0)
            print("neuralab train: resuming with " + ", ".join(
                f"{_flag(k)} {old!r} -> {new!r}" for k, (old, new) in changed.items())
                + " (recorded in config.json)", file=sys.stderr)
    n_params = sum(p.array.size for p in model.parameters())
    print(f"model {settings['model']} ({n_params:,} parameters) on {splits.description}: "
          f"{len(train_set)} train / {len(val_set) if val_set is not None else 0} val / "
          f"{len(test_set) if test_set is not None else 0} test; run directory {run_dir}")

    print(f"threads: {settings['threads']} (--threads)" if settings["threads"]
          else f"threads: {describe_threads()}")
    print(f"data loading: {settings['workers']} worker processes (--workers)"
          if settings["workers"] else "data loading: in the training process (--workers 0)")
    logger = None
    if settings["tensorboard"] and run_dir is not None:
        logger = TensorBoardLogger(run_dir / "tensorboard")
        print(f"TensorBoard logs in {run_dir / 'tensorboard'} (tensorboard --logdir {run_dir})")
    trainer = Trainer(model, optimizer, scheduler=scheduler, scheduler_step=scheduler_step,
                      run_dir=run_dir, callbacks=[logger] if logger is not None else [],
                      early_stopping=settings["early_stopping"], grad_clip=settings["grad_clip"],
                      progress=settings["progress"] and (workers is None or workers.is_main),
                      config={"settings": settings, "is_subset": splits.is_subset,
                              "data": splits.description, "parameters": n_params,
                              "data_signature": signature,
                              "workers": workers.world if workers is not None else 1,
                              "command": "neuralab " + " ".join(sys.argv[1:])})
    on_resume = _on_resume(changed, args.replan, lambda: _build_scheduler(
        optimizer, settings, len(train_loader)),
        len(train_loader) if scheduler_step == "batch" else 1)
    resume_here = bool(args.resume) and run_dir is not None
    if args.resume and run_dir is None:  # a worker other than rank 0 resumes by reading
        trainer.load_checkpoint(Path(args.resume) / "checkpoint.npz", train_loader)
        if on_resume is not None:
            on_resume(trainer)
    start = time.perf_counter()
    try:
        result = trainer.fit(train_loader, eval_loader(val_set), eval_loader(test_set),
                             epochs=settings["epochs"], resume=resume_here,
                             on_resume=on_resume)
    except TrainingDiverged as err:
        print(f"neuralab train: stopped: {err}", file=sys.stderr)
        return 1
    except DataError as err:  # a damaged file met while training (lazily decoded images)
        if isinstance(err.__cause__, DataError):  # met in a loader worker: its own message
            err = err.__cause__
        print(f"neuralab train: stopped: {err}; the last good checkpoint is kept in "
              f"{run_dir}", file=sys.stderr)
        return 1
    finally:
        if logger is not None:
            logger.writer.flush()
    if logger is not None:
        logger.finish(result.test, settings)
    elapsed = time.perf_counter() - start
    if result.epochs_run and train_loader.stats.examples:
        print(loading_summary(train_loader.stats, result.last("train"), elapsed))
    summary = f"done in {elapsed:.1f}s ({result.epochs_run} epochs)"
    if result.test is not None:
        summary += (f": test accuracy {100 * result.test['acc1']:.2f}%" if "acc1" in result.test
                    else f": test loss {result.test['loss']:.4f}")  # not a classifier's logits
        if splits.is_subset:
            summary += " (on the shipped subset's test images)"
    print(summary + f"; run directory {run_dir}")
    return 0
