"""``neuralab notebooks``: list the course's notebooks or copy them to a folder."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from neuralab.notebooks import copy_notebooks, notebook_paths, title


def add_commands(subparsers: Any) -> None:
    """Add the ``notebooks`` subcommand."""
    p = subparsers.add_parser(
        "notebooks", help="copy the course's Jupyter notebooks to a folder",
        description="Copy the course's notebooks (one per part, in the course's order) into "
        "DIR, then open them with Jupyter (jupyter lab DIR). Without DIR, list them.")
    p.add_argument("dir", nargs="?", metavar="DIR", help="folder to copy the notebooks into")
    p.add_argument("--overwrite", action="store_true",
                   help="replace notebooks of the same name already in DIR")
    p.set_defaults(handler=run_notebooks)


def run_notebooks(args: argparse.Namespace) -> int:
    """Handler of ``neuralab notebooks``."""
    if args.dir is None:
        for path in notebook_paths():
            print(f"{path.name:48} {title(path)}")
        print("\ncopy them with: neuralab notebooks DIR")
        return 0
    try:
        copied = copy_notebooks(args.dir, overwrite=args.overwrite)
    except (FileExistsError, NotADirectoryError, PermissionError) as err:
        print(f"neuralab notebooks: {err}", file=sys.stderr)
        return 1
    for path in copied:
        print(path)
    print(f"\n{len(copied)} notebooks in {args.dir}; open them with: jupyter lab {args.dir}")
    return 0
