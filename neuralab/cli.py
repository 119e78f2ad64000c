"""The ``neuralab`` command (also ``python -m neuralab``).

Each family of subcommands lives beside the code it drives and registers itself through an
``add_commands(subparsers)`` function; this module only assembles them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from neuralab import distributed as dist

# Modules that contribute subcommands, in the order they appear in --help.
COMMAND_MODULES = [
    "neuralab.train.command",        # train
    "neuralab.train.datacli",        # data, cache, presets
    "neuralab.diagnostics.command",  # summary, gradcheck
    "neuralab.experiments.command",  # list, run, report, curriculum
    "neuralab.notebooks.command",    # notebooks
    "neuralab.exercises.command",    # exercise list|start|check|train
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neuralab",
        description="The neural networks of CSC321 from scratch: train models, inspect them and "
        "run the course's experiments.",
    )
    parser.set_defaults(handler=None)  # each command's parser sets its own
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:  # each is part of the package: a failing import is a bug
        importlib.import_module(name).add_commands(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.handler is None:  # no command given
        parser.print_help()
        return 2
    args.argv = list(argv) if argv is not None else sys.argv[1:]
    try:
        code = int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    except BaseException as err:
        failed = not (isinstance(err, SystemExit) and err.code in (0, None))
        if failed and dist.get_world_size() > 1:  # one failing worker stops the others
            if isinstance(err, SystemExit):
                print(err.code, file=sys.stderr)
            else:
                traceback.print_exc()
            dist.abort(1)
        raise
    if code and dist.get_world_size() > 1:
        dist.abort(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
