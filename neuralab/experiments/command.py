"""Subcommands ``list``, ``run``, ``report``, ``curriculum`` (and ``gradcheck``) of ``neuralab``."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import textwrap
from typing import Any

from neuralab.experiments.base import Verdict


def _list(args: argparse.Namespace) -> int:
    from neuralab.experiments import base

    table = base.experiments()
    rows = [(e.name, e.lecture, e.runtime, e.claim) for e in table.values()]
    rows.sort(key=lambda r: (_lecture_order(r[1]), r[0]))
    width = max([len(r[0]) for r in rows] + [10])
    print(f"{'experiment':<{width}}  {'lecture':<9} {'full run':<9} claim")
    for name, lecture, runtime, claim in rows:
        print(f"{name:<{width}}  {lecture:<9} {runtime:<9} {claim}")
    print("\n`neuralab run NAME --quick` runs one in under two minutes; "
          "`neuralab curriculum` shows the course order.")
    return 0


def _lecture_order(key: str) -> tuple[int, str]:
    from neuralab.experiments.curriculum import SESSIONS

    keys = [s.key for s in SESSIONS]
    return (keys.index(key), "") if key in keys else (len(keys), key)


def _curriculum(args: argparse.Namespace) -> int:
    from neuralab.experiments import base
    from neuralab.experiments.curriculum import sessions_with

    for session, items in sessions_with(base.experiments()):
        print(f"{session.key:<10} {session.title}")
        for name, experiment in items:
            if experiment is None:
                print(f"    - {name:<22} [not yet implemented]")
            else:
                claim = textwrap.shorten(experiment.claim, 80)
                print(f"    - {name:<22} {claim}  (full: {experiment.runtime})")
    return 0


def _run(args: argparse.Namespace) -> int:
    from neuralab.experiments import base
    from neuralab.experiments.runner import parse_overrides, run_experiment

    # Options may follow the overrides (`run xor steps=5 --quick`): parse what argparse left.
    late = argparse.ArgumentParser(prog="neuralab run", add_help=False)
    late.add_argument("--quick", action="store_true", default=args.quick)
    late.add_argument("--out", default=args.out)
    late.add_argument("--seed", type=int, default=args.seed)
    late.add_argument("--no-progress", action="store_true", default=args.no_progress)
    late.add_argument("--tensorboard", action="store_true", default=args.tensorboard)
    for flag in DATA_FLAGS:
        late.add_argument(flag, default=getattr(args, DATA_FLAGS[flag]))
    options, rest = late.parse_known_args(args.overrides)
    for key in ("quick", "out", "seed", "no_progress", "tensorboard", *DATA_FLAGS.values()):
        setattr(args, key, getattr(options, key))
    try:
        experiment = base.get(args.name)
        stray = [t for t in rest if t.startswith("-")]
        if stray:
            raise ValueError(_unknown_option(stray[0]))
        rest = _data_overrides(experiment, args, rest)
        overrides = parse_overrides(experiment, rest)
        _check_override_signs(experiment, overrides)
        if args.seed < 0:
            raise ValueError(f"--seed must be a non-negative integer, got {args.seed}")
        if args.out is not None:
            _check_writable(args.out)
        if args.tensorboard and importlib.util.find_spec("tensorboardX") is None:
            raise ValueError('--tensorboard needs tensorboardX: pip install '
                             '"neuralab[tensorboard]"')
    except (KeyError, ValueError) as err:
        message = str(err.args[0] if err.args else err)
        # Messages of the runner start with "run NAME: "; the command names itself once.
        print(f"neuralab {message}" if message.startswith(f"run {args.name}:") else
              f"neuralab run: {message}", file=sys.stderr)
        return 2
    mode = "quick" if args.quick else "full"
    print(f"running {experiment.name} ({experiment.lecture}, {mode} mode): {experiment.claim}")
    try:
        out, saved = run_experiment(args.name, quick=args.quick, out_dir=args.out,
                                    seed=args.seed, overrides=overrides,
                                    progress=False if args.no_progress else None,
                                    tensorboard=args.tensorboard)
    except (ValueError, FileNotFoundError) as err:
        # A bad configuration value (ValueError) or missing data (FileNotFoundError, whose
        # message says where to put it) is the user's to fix: a message, not a traceback.
        if os.environ.get("NEURALAB_DEBUG"):
            raise
        print(f"neuralab run {args.name}: {err} (set NEURALAB_DEBUG=1 for the traceback)",
              file=sys.stderr)
        return 2
    verdict = Verdict.from_dict(saved["verdict"])
    print(f"{verdict.word}: {verdict.reason}")
    print(f"report: {out / 'report.html'} (and report.md) in {saved['elapsed_s']} s")
    return 0


#: The data options every command shares, as flags of `run`, and the configuration key of each.
DATA_FLAGS = {"--data": "data", "--data-root": "data_root", "--image-size": "image_size"}
RUN_FLAGS = ["--quick", "--out", "--seed", "--no-progress", *DATA_FLAGS]


def _unknown_option(token: str) -> str:
    import difflib

    flag = token.split("=", 1)[0]
    close = difflib.get_close_matches(flag, RUN_FLAGS, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]}?" if close else ""
    return (f"unknown option {flag!r}{hint} (options: --quick, --out DIR, --seed N, "
            "--no-progress, --data NAME, --data-root DIR, --image-size N|HxW; configuration "
            "as key=value)")


def _data_overrides(experiment: Any, args: argparse.Namespace, pairs: list[str]) -> list[str]:
    """The data flags (--data-root D ...) as the experiment's key=value overrides, the
    deprecated ``root=`` as ``data_root=`` (with a note), and unknown keys answered with the
    closest valid one."""
    import difflib

    keys = experiment.defaults
    out = []
    for pair in pairs:
        key = pair.split("=", 1)[0].strip() if "=" in pair else None
        if key == "root" and "root" not in keys and "data_root" in keys:
            print("neuralab run: note: root= is now data_root= (or --data-root DIR), the name "
                  "every command uses", file=sys.stderr)
            pair = "data_root=" + pair.split("=", 1)[1]
        elif key is not None and key not in keys:
            close = difflib.get_close_matches(key, list(keys), n=1, cutoff=0.6)
            if close:
                raise ValueError(f"run {experiment.name}: unknown configuration key {key!r}; "
                                 f"did you mean {close[0]}=? valid keys (with their defaults): "
                                 + ", ".join(f"{k}={v!r}" for k, v in keys.items()))
        out.append(pair)
    for flag, key in DATA_FLAGS.items():
        value = getattr(args, key)
        if value is None:
            continue
        if key not in keys:
            takes = [DATA_FLAGS_BY_KEY[k] for k in keys if k in DATA_FLAGS_BY_KEY]
            raise ValueError(f"run {experiment.name}: {flag} does not apply: this experiment "
                             + (f"takes only {', '.join(takes)}" if takes else
                                "uses no data set from files (its data is made in code)"))
        out.append(f"{key}={value}")
    return out


DATA_FLAGS_BY_KEY = {key: flag for flag, key in DATA_FLAGS.items()}


def _check_override_signs(experiment: Any, overrides: dict) -> None:
    """Absurd values are refused before the run: an integer whose default is positive (a step
    count, a size) must stay positive, one whose default is 0 must not go negative, a learning
    rate must be positive, and no number may be NaN or infinite. (Other floats, such as an
    input value or a bias, may take any sign.)"""
    import math

    for key, value in overrides.items():
        default = experiment.defaults[key]
        pairs = (list(zip(value, default)) if isinstance(value, (list, tuple)) and
                 isinstance(default, (list, tuple)) and default else [(value, default)])
        for v, d in pairs:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or \
                    isinstance(d, bool) or not isinstance(d, (int, float)):
                continue
            rate = key.endswith(("lr", "lrs")) and d > 0
            count = isinstance(d, int) and isinstance(v, int)
            if not math.isfinite(v) or ((count or rate) and d > 0 and v <= 0) or \
                    (count and d >= 0 and v < 0):
                kind = "positive" if d > 0 else "non-negative"
                raise ValueError(f"run {experiment.name}: {key}={value!r} must be {kind} and "
                                 f"finite (the default is {default!r})")


def _check_writable(folder: str) -> None:
    import tempfile
    from pathlib import Path

    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".neuralab-write-test-"):
            pass
    except OSError as err:
        raise ValueError(f"--out {folder} is not writable ({err.strerror or err}); choose "
                         "another folder") from None


def _report(args: argparse.Namespace) -> int:
    from neuralab.experiments.report import render_report

    try:
        md, page = render_report(args.run_dir)
    except (FileNotFoundError, ValueError) as err:
        # The library's messages start with "report: "; the command names itself once.
        print(f"neuralab report: {str(err).removeprefix('report: ')}", file=sys.stderr)
        return 2
    print(f"wrote {md} and {page}")
    return 0


def _gradcheck(args: argparse.Namespace) -> int:
    from neuralab.diagnostics.command import data_input
    from neuralab.diagnostics.gradcheck_model import gradcheck_model
    from neuralab.models import create, get_entry

    try:
        model: Any = args.model
        input_shape = _shape(args.input_shape)
        if args.data is not None or args.image_size is not None or args.data_root is not None:
            entry = get_entry(args.model)
            options: dict = {}
            args.input = input_shape
            input_shape, classes = data_input(args, entry, options)
            from neuralab.backend import manual_seed

            manual_seed(args.seed)
            model = create(entry.name, num_classes=classes, **options)
        report = gradcheck_model(model, batch_size=args.batch_size,
                                 samples=args.samples, seed=args.seed,
                                 input_shape=input_shape, name=args.model,
                                 progress=not args.no_progress)
    except (KeyError, ValueError, FileNotFoundError) as err:
        print(f"neuralab gradcheck: {err.args[0] if err.args else err}", file=sys.stderr)
        return 2
    print(report)
    return 0 if report.passed else 1


def _shape(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    try:
        shape = tuple(int(t) for t in text.replace("x", ",").split(",") if t)
    except ValueError:
        raise ValueError(f"--input-shape {text!r}: expected integers like 1,28,28") from None
    if not shape or min(shape) < 1:
        raise ValueError(f"--input-shape {text!r}: expected positive integers like 1,28,28")
    return shape


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``list``, ``run``, ``report``, ``curriculum`` and ``gradcheck`` to the CLI."""
    p = subparsers.add_parser("list", help="list the experiments with their lecture and claim")
    p.set_defaults(handler=_list)

    p = subparsers.add_parser("curriculum", help="the course sessions in order, with experiments")
    p.set_defaults(handler=_curriculum)

    p = subparsers.add_parser(
        "run", help="run an experiment and write its report",
        description="Run an experiment into a run directory (config.json, metrics.jsonl, "
        "figures, results.json, report.md, report.html). Configuration keys may be overridden "
        "with key=value; `neuralab run NAME bad=1` lists the valid keys.")
    p.add_argument("name", help="experiment name (see `neuralab list`)")
    p.add_argument("overrides", nargs=argparse.REMAINDER, metavar="key=value",
                   help="configuration overrides, typed like the defaults")
    p.add_argument("--quick", action="store_true", help="the quick mode (< 2 minutes)")
    p.add_argument("--out", default=None, help="run directory (default runs/NAME-TIMESTAMP)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--tensorboard", action="store_true",
                   help="also log the curves and figures to OUT/tensorboard (needs "
                   "neuralab[tensorboard])")
    p.add_argument("--data", default=None, metavar="NAME",
                   help="the data set, as data=NAME (experiments that take one)")
    p.add_argument("--data-root", default=None, metavar="DIR",
                   help="folder holding the data files, as data_root=DIR (default: "
                   "$NEURALAB_DATA, then ~/.cache/neuralab; `neuralab data` shows what is where)")
    p.add_argument("--image-size", default=None, metavar="N|HxW",
                   help="image size, as image_size=N (image experiments)")
    p.set_defaults(handler=_run)

    p = subparsers.add_parser("report", help="re-render a run directory's report")
    p.add_argument("run_dir", help="a directory written by `neuralab run`")
    p.set_defaults(handler=_report)

    if "gradcheck" not in subparsers.choices:  # diagnostics/command.py may already add it
        p = subparsers.add_parser(
            "gradcheck", help="finite-difference check of every layer of a model (float64)")
        p.add_argument("model", help="a model name from the registry")
        p.add_argument("--batch-size", type=int, default=2)
        p.add_argument("--samples", type=int, default=6,
                       help="elements checked per parameter and per layer input")
        p.add_argument("--input-shape", default=None,
                       help="input shape without the batch, e.g. 3,32,32 (default: the model's)")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--no-progress", action="store_true", help="no progress bar")
        from neuralab.diagnostics.command import add_data_arguments

        add_data_arguments(p)
        p.set_defaults(handler=_gradcheck)
