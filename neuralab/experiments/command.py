"""Subcommands ``list``, ``curriculum``, ``run`` and ``report`` of ``neuralab``."""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import os
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from neuralab.experiments import experiments, get, run_experiment
from neuralab.lab import SESSIONS, Verdict, parse_overrides, render_report, sessions_with

#: The data options every command shares, as flags of `run`, and the configuration key of each.
DATA_FLAGS = {"--data": "data", "--data-root": "data_root", "--image-size": "image_size"}


def _list(args: argparse.Namespace) -> int:
    order = [s.key for s in SESSIONS]
    rows = sorted(experiments().values(), key=lambda e: (
        order.index(e.lecture) if e.lecture in order else len(order), e.lecture, e.name))
    width = max([len(e.name) for e in rows] + [10])
    print(f"{'experiment':<{width}}  {'lecture':<9} {'full run':<9} claim")
    for e in rows:
        print(f"{e.name:<{width}}  {e.lecture:<9} {e.runtime:<9} {e.claim}")
    print("\n`neuralab run NAME --quick` runs one in under two minutes; "
          "`neuralab curriculum` shows the course order.")
    return 0


def _curriculum(args: argparse.Namespace) -> int:
    for session, items in sessions_with(experiments()):
        print(f"{session.key:<10} {session.title}")
        for name, experiment in items:
            if experiment is None:
                print(f"    - {name:<22} [not yet implemented]")
            else:
                print(f"    - {name:<22} {textwrap.shorten(experiment.claim, 80)}  "
                      f"(full: {experiment.runtime})")
    return 0


def _run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="the quick mode (< 2 minutes)")
    p.add_argument("--out", default=None, help="run directory (default runs/NAME-TIMESTAMP)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--tensorboard", action="store_true", help="also log the curves and figures "
                   "to OUT/tensorboard (needs neuralab[tensorboard])")
    p.add_argument("--data", default=None, metavar="NAME",
                   help="the data set, as data=NAME (experiments that take one)")
    p.add_argument("--data-root", default=None, metavar="DIR",
                   help="folder holding the data files, as data_root=DIR (default: "
                   "$NEURALAB_DATA, then ~/.cache/neuralab; `neuralab data` shows what is where)")
    p.add_argument("--image-size", default=None, metavar="N|HxW",
                   help="image size, as image_size=N (image experiments)")


def _check_run(args: argparse.Namespace) -> dict[str, Any]:
    """The typed overrides of ``neuralab run``, every argument checked before the run starts."""
    # Options may follow the overrides (`run xor steps=5 --quick`): parse what argparse left,
    # into the same namespace (options given before keep their values).
    late = argparse.ArgumentParser(prog="neuralab run", add_help=False)
    _run_options(late)
    _, rest = late.parse_known_args(args.overrides, namespace=args)
    experiment = get(args.name)
    stray = [t.split("=", 1)[0] for t in rest if t.startswith("-")]
    if stray:
        flags = [flag for action in late._actions for flag in action.option_strings]
        close = difflib.get_close_matches(stray[0], flags, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise ValueError(f"unknown option {stray[0]!r}{hint} (options: --quick, --out DIR, "
                         "--seed N, --no-progress, --tensorboard, --data NAME, --data-root "
                         "DIR, --image-size N|HxW; configuration as key=value)")
    for flag, key in DATA_FLAGS.items():
        value = getattr(args, key)
        if value is not None and key not in experiment.defaults:
            takes = [f for f, k in DATA_FLAGS.items() if k in experiment.defaults]
            raise ValueError(f"run {experiment.name}: {flag} does not apply: this experiment "
                             + (f"takes only {', '.join(takes)}" if takes else
                                "uses no data set from files (its data is made in code)"))
        if value is not None:
            rest.append(f"{key}={value}")
    overrides = parse_overrides(experiment, rest)
    if args.seed < 0:
        raise ValueError(f"--seed must be a non-negative integer, got {args.seed}")
    if args.out is not None:
        try:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=args.out, prefix=".neuralab-write-test-"):
                pass
        except OSError as err:
            raise ValueError(f"--out {args.out} is not writable ({err.strerror or err}); "
                             "choose another folder") from None
    if args.tensorboard and importlib.util.find_spec("tensorboardX") is None:
        raise ValueError('--tensorboard needs tensorboardX: pip install "neuralab[tensorboard]"')
    return overrides


def _run(args: argparse.Namespace) -> int:
    try:
        overrides = _check_run(args)
    except (KeyError, ValueError) as err:
        message = str(err.args[0] if err.args else err)
        # Messages of the runner start with "run NAME: "; the command names itself once.
        print(f"neuralab {message}" if message.startswith(f"run {args.name}:") else
              f"neuralab run: {message}", file=sys.stderr)
        return 2
    experiment = get(args.name)
    print(f"running {experiment.name} ({experiment.lecture}, "
          f"{'quick' if args.quick else 'full'} mode): {experiment.claim}")
    try:
        out, saved = run_experiment(args.name, quick=args.quick, out_dir=args.out,
                                    seed=args.seed, overrides=overrides,
                                    progress=False if args.no_progress else None,
                                    tensorboard=args.tensorboard)
    except (ValueError, FileNotFoundError) as err:
        # A bad configuration value or missing data (whose message says where to put it) is
        # the user's to fix: a message, not a traceback.
        if os.environ.get("NEURALAB_DEBUG"):
            raise
        print(f"neuralab run {args.name}: {err} (set NEURALAB_DEBUG=1 for the traceback)",
              file=sys.stderr)
        return 2
    verdict = Verdict.from_dict(saved["verdict"])
    print(f"{verdict.word}: {verdict.reason}")
    print(f"report: {out / 'report.html'} (and report.md) in {saved['elapsed_s']} s")
    return 0


def _report(args: argparse.Namespace) -> int:
    try:
        md, page = render_report(args.run_dir, experiments())
    except (FileNotFoundError, ValueError) as err:
        # The library's messages start with "report: "; the command names itself once.
        print(f"neuralab report: {str(err).removeprefix('report: ')}", file=sys.stderr)
        return 2
    print(f"wrote {md} and {page}")
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``list``, ``curriculum``, ``run`` and ``report`` to the CLI."""
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
    _run_options(p)
    p.set_defaults(handler=_run)
    p = subparsers.add_parser("report", help="re-render a run directory's report")
    p.add_argument("run_dir", help="a directory written by `neuralab run`")
    p.set_defaults(handler=_report)
