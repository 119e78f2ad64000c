"""The course's notebooks, one per part, in the course's order (shipped inside the package).

``neuralab notebooks DIR`` copies them to a folder of your choice; open them with Jupyter.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

__all__ = ["copy_notebooks", "notebook_paths", "title"]


def notebook_paths() -> list[Path]:
    """The shipped notebooks, in the course's order."""
    folder = Path(str(resources.files("neuralab.notebooks")))
    return sorted(folder.glob("[0-9][0-9]-*.ipynb"))


def title(path: Path) -> str:
    """The notebook's heading (its first Markdown line, without the ``#``)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    first = "".join(cells[0]["source"]).splitlines()[0] if cells else path.stem
    return first.lstrip("# ").strip()


def copy_notebooks(destination: str | Path, overwrite: bool = False) -> list[Path]:
    """Copy every notebook into ``destination`` (created if needed); returns the new paths.

    Raises:
        FileExistsError: a notebook of that name is already there (a learner's edited copy is
            never replaced unless ``overwrite``); nothing is copied then.
    """
    destination = Path(destination)
    if destination.exists() and not destination.is_dir():
        raise NotADirectoryError(f"{destination} exists and is not a folder")
    sources = notebook_paths()
    clashes = [destination / p.name for p in sources if (destination / p.name).exists()]
    if clashes and not overwrite:
        raise FileExistsError(f"{len(clashes)} of the notebooks ({clashes[0].name}, ...) are "
                              f"already in {destination} and may hold your own work; choose "
                              "another folder, or pass --overwrite")
    destination.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copyfile(p, destination / p.name)) for p in sources]
