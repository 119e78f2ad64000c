"""``neuralab data``, ``neuralab cache`` and ``neuralab presets``: what data is where, what the
caches hold, and the named training recipes.

    neuralab data                       # every data set: where looked, what found, verified?
    neuralab data cifar10 --data-root ../shared/datasets
    neuralab cache                      # the caches: path, size, what they hold
    neuralab cache clear [NAME]         # remove all caches, or those whose name contains NAME
    neuralab presets
"""

from __future__ import annotations

import argparse
import difflib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from neuralab.data.download import cache_dir
from neuralab.train.command import list_presets_text
from neuralab.train.datasets import INFO, locate

__all__ = ["add_commands", "cache_entries", "data_listing"]


def data_listing(names: list[str], root: str | None) -> str:
    """The text of ``neuralab data``: for each data set, where it was looked for, what was
    found, whether its checksum was verified, and how to get it when missing."""
    lines = []
    for name in names:
        info = INFO[name]
        found = locate(name, root)
        if found.path is not None:
            check = {True: "verified", False: "CHECKSUM MISMATCH", None: "not verified"}[
                found.verified]
            status = f"found {found.form} {found.path} ({check}"
            status += f": {found.note})" if found.note else ")"
        else:
            status = "NOT FOUND" + (f" ({found.note})" if found.note else "")
        lines.append(f"{name}  -  {info.title}: {info.summary}")
        lines.append(f"    {status}")
        where = ", ".join(str(p) for p in found.searched) or "(only where --data-root points)"
        lines.append(f"    looked in: {where}")
        if found.path is None or found.verified is False:
            lines.append("    accepted: " + "; ".join(info.forms))
            lines.append(f"    get it: {info.get}")
    return "\n".join(lines)


def _data(args: argparse.Namespace) -> int:
    names = list(INFO)
    if args.name:
        if args.name not in INFO:
            close = difflib.get_close_matches(args.name, names, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            print(f"neuralab data: unknown data set {args.name!r}; choose one of "
                  f"{', '.join(names)}{hint}", file=sys.stderr)
            return 2
        names = [args.name]
    if args.data_root is not None and not Path(args.data_root).expanduser().exists():
        print(f"neuralab data: --data-root {args.data_root} does not exist", file=sys.stderr)
        return 2
    print(data_listing(names, args.data_root))

    print(f"\n--data-root DIR (or NEURALAB_DATA=DIR) adds a folder; downloads and extracted "
          f"archives go to {cache_dir()} (NEURALAB_CACHE moves it); NEURALAB_OFFLINE=1 never "
          "downloads.")
    return 0


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _human(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def cache_entries() -> list[tuple[Path, int, str]]:
    """(path, bytes, what it holds) of everything in the cache folder: decoded-image caches
    (with their notes), downloaded data sets and extracted archives."""
    root = cache_dir()
    if not root.is_dir():
        return []
    entries = []
    for path in sorted(root.iterdir()):
        if path.suffix == ".json" and path.with_suffix(".npz").exists():
            continue  # the note of a decoded-image cache, listed with it
        if path.suffix == ".npz":
            what = "decoded images"
            note = path.with_suffix(".json")
            if note.is_file():
                try:
                    meta = json.loads(note.read_text())
                    shape = "x".join(str(s) for s in meta.get("shape", []))
                    what = (f"{meta.get('images', '?'):,} decoded images {shape} of "
                            f"{meta.get('what', '?')}, made {meta.get('created', '?')}")
                except (OSError, ValueError):
                    pass
            entries.append((path, _size(path), what))
        elif path.is_dir():
            files = [p.name for p in path.iterdir()]
            what = f"data set folder ({len(files)} entries: {', '.join(sorted(files)[:4])}"
            what += ", ...)" if len(files) > 4 else ")"
            entries.append((path, _size(path), what))
        else:
            entries.append((path, _size(path), "file"))
    return entries


def _cache(args: argparse.Namespace) -> int:
    entries = cache_entries()
    if args.action == "clear":
        chosen = [e for e in entries if not args.name or args.name in e[0].name]
        if args.name and not chosen:
            print(f"neuralab cache clear: nothing in {cache_dir()} matches {args.name!r}",
                  file=sys.stderr)
            return 1
        freed = 0
        for path, size, _ in chosen:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
                note = path.with_suffix(".json")
                if path.suffix == ".npz" and note.is_file():
                    note.unlink()
            freed += size
            print(f"removed {path} ({_human(size)})")
        print(f"freed {_human(freed)} in {cache_dir()}")
        return 0
    if args.name:
        print(f"neuralab cache: unknown action {args.name!r}; use `neuralab cache` or "
              "`neuralab cache clear [NAME]`", file=sys.stderr)
        return 2
    if not entries:
        print(f"no caches in {cache_dir()}")
        return 0
    for path, size, what in entries:
        print(f"{_human(size):>9}  {path}\n           {what}")
    print(f"{_human(sum(e[1] for e in entries)):>9}  in all, in {cache_dir()} (NEURALAB_CACHE "
          "moves it); `neuralab cache clear [NAME]` removes them")
    return 0


def _presets(args: argparse.Namespace) -> int:
    print(list_presets_text())
    return 0


def add_commands(subparsers: Any) -> None:
    """Add ``data``, ``cache`` and ``presets``."""
    p = subparsers.add_parser(
        "data", help="list the data sets: where each is looked for, what was found, verified?",
        description="For each data set that --data accepts: the folders searched, the file or "
        "folder found and whether its checksum matched, and how to get it when missing.")
    p.add_argument("name", nargs="?", help="one data set (default: all)")
    p.add_argument("--data-root", metavar="DIR", help="also look in DIR, as train --data-root")
    p.set_defaults(handler=_data)

    p = subparsers.add_parser(
        "cache", help="list the caches (decoded images, downloads); `cache clear` removes them",
        description="List what neuralab keeps in its cache folder (decoded-image caches, "
        "downloaded data sets, extracted archives) with sizes, or remove it.")
    p.add_argument("action", nargs="?", choices=["list", "clear"], default="list")
    p.add_argument("name", nargs="?", help="with clear: only entries whose name contains NAME")
    p.set_defaults(handler=_cache)

    p = subparsers.add_parser("presets", help="the named training recipes of train --preset")
    p.set_defaults(handler=_presets)
