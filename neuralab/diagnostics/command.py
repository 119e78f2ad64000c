"""Diagnostics subcommands of the ``neuralab`` command.

    neuralab summary lenet5 --input 1x28x28
    neuralab summary resnet20 --input 3x32x32 --num-classes 10
    neuralab gradcheck lenet5 --samples 3

Each subcommand is added by its own ``_add_<name>`` function below; ``add_commands`` calls them
in the order they appear in ``neuralab --help``.
"""

from __future__ import annotations

import argparse
import ast
import math
import sys
from typing import Any

from neuralab.backend import manual_seed
from neuralab.diagnostics.gradcheck_model import gradcheck_model
from neuralab.diagnostics.summary import summary
from neuralab.models import create, get_entry
from neuralab.train.command import add_data_arguments as add_train_data_arguments
from neuralab.train.datasets import data_shape

__all__ = ["add_commands", "parse_shape"]


def parse_shape(text: str) -> tuple[int, ...]:
    """'1x28x28' (or '1,28,28') -> (1, 28, 28); argparse reports a ValueError as bad usage."""
    parts = text.lower().replace(",", "x").split("x")
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"input shape must look like 1x28x28, got {text!r}") \
            from None
    if any(n < 1 for n in shape):
        raise argparse.ArgumentTypeError(f"input sizes must be positive, got {text!r}")
    return shape


def _parse_option(text: str) -> tuple[str, Any]:
    """'key=value' with value read as a Python literal when possible (3, 0.5, True, (6, 16))."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"options are key=value, got {text!r}")
    key, value = text.split("=", 1)
    try:
        return key.strip(), ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key.strip(), value


def _positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _add_summary(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "summary", help="print a model's layers, shapes, parameters, MACs and receptive fields",
        description="Run one example through a model of the zoo and print, per layer, the output "
        "shape, parameters, multiply-accumulates, activation memory and receptive field.")
    p.add_argument("model", help="model name (see neuralab.models.list_models())")
    p.add_argument("--input", type=parse_shape, default=None, metavar="CxHxW",
                   help="shape of one example, e.g. 1x28x28 (default: the model's own)")
    p.add_argument("--num-classes", type=_positive_int, default=None, help="number of outputs")
    add_data_arguments(p, default=None)
    p.add_argument("--option", type=_parse_option, action="append", default=[],
                   metavar="KEY=VALUE", help="builder option, e.g. --option classic=True "
                   "(repeatable)")
    p.set_defaults(handler=_run_summary)


def add_data_arguments(p: argparse.ArgumentParser, default: str | None = None) -> None:
    """``--data``, ``--data-root``, ``--image-size``: the same options as ``neuralab train``."""
    add_train_data_arguments(p, default=default)


def data_input(args: argparse.Namespace, entry: Any, options: dict
               ) -> tuple[tuple[int, ...] | None, int | None]:
    """The input shape and class count: ``--input`` if given, else from ``--data`` (at
    ``--image-size``; the model's ``in_channels`` set to the data's channels), else the model's
    own. Fills ``options`` with ``in_channels`` when the data set decides it."""

    if args.data is None:
        if args.image_size is not None or args.data_root is not None:
            raise ValueError("--image-size and --data-root describe a data set: give --data NAME")
        return args.input or entry.meta.get("input_shape"), None
    shape, classes = data_shape(args.data, args.data_root, args.image_size)
    own = entry.meta.get("input_shape") or (None,)
    if "in_features" in entry.options:  # a flat input (an MLP)
        options.setdefault("in_features", int(math.prod(shape)))
    elif "in_channels" in entry.options:
        options.setdefault("in_channels", shape[0])
    elif own[0] is not None and own[0] != shape[0]:
        raise ValueError(f"--data {args.data}: model {entry.name!r} takes {own[0]}-channel "
                         f"images but {args.data} has {shape[0]}-channel images, and the model "
                         "has no in_channels option")
    return args.input or shape, classes


def _run_summary(args: argparse.Namespace) -> int:
    try:
        entry = get_entry(args.model)
    except KeyError as err:
        print(f"neuralab summary: {err.args[0]}", file=sys.stderr)
        return 2
    options = dict(args.option)
    try:
        shape, classes = data_input(args, entry, options)
    except (KeyError, ValueError, FileNotFoundError) as err:
        print(f"neuralab summary: {err.args[0] if err.args else err}", file=sys.stderr)
        return 2
    num_classes = args.num_classes or classes
    if shape is None:
        print(f"neuralab summary: model {args.model!r} has no default input shape; give one "
              "with --input CxHxW", file=sys.stderr)
        return 2
    try:
        model = create(args.model, num_classes=num_classes, **options)
    except (TypeError, ValueError) as err:  # an option the builder does not take, a bad value
        print(f"neuralab summary: cannot build {args.model} with options "
              f"{options or '(none)'}: {err}", file=sys.stderr)
        return 2
    try:
        result = summary(model, shape)
    except ValueError as err:
        print(f"neuralab {err}", file=sys.stderr)
        return 1
    print(f"{args.model}")
    print(result)
    return 0


def _add_gradcheck(subparsers: Any) -> None:
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
    add_data_arguments(p)
    p.set_defaults(handler=_run_gradcheck)


def _run_gradcheck(args: argparse.Namespace) -> int:
    try:
        model: Any = args.model
        args.input = _shape(args.input_shape)
        input_shape = args.input
        if args.data is not None or args.image_size is not None or args.data_root is not None:
            entry = get_entry(args.model)
            options: dict = {}
            input_shape, classes = data_input(args, entry, options)
            manual_seed(args.seed)
            model = create(entry.name, num_classes=classes, **options)
        report = gradcheck_model(model, batch_size=args.batch_size, samples=args.samples,
                                 seed=args.seed, input_shape=input_shape, name=args.model,
                                 progress=not args.no_progress)
    except (KeyError, ValueError, FileNotFoundError) as err:
        print(f"neuralab gradcheck: {err.args[0] if err.args else err}", file=sys.stderr)
        return 2
    print(report)
    return 0 if report.passed else 1


def _shape(text: str | None) -> tuple[int, ...] | None:
    """--input-shape '3,32,32' -> (3, 32, 32); a ValueError (exit 2) for anything else."""
    if not text:
        return None
    try:
        shape = tuple(int(t) for t in text.replace("x", ",").split(",") if t)
    except ValueError:
        raise ValueError(f"--input-shape {text!r}: expected integers like 1,28,28") from None
    if not shape or min(shape) < 1:
        raise ValueError(f"--input-shape {text!r}: expected positive integers like 1,28,28")
    return shape


# Subcommands in --help order; a new one adds its _add_<name> here.
_SUBCOMMANDS = [_add_summary, _add_gradcheck]


def add_commands(subparsers: Any) -> None:
    """Add the diagnostics subcommands (summary, gradcheck) to the ``neuralab`` parser."""
    for add in _SUBCOMMANDS:
        add(subparsers)
