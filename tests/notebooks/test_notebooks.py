"""The course's notebooks: stored without outputs, each run top to bottom by a Jupyter kernel."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbclient import NotebookClient

from neuralab.cli import main
from neuralab.notebooks import copy_notebooks, notebook_paths, title

NOTEBOOKS = notebook_paths()


def test_one_notebook_per_part_of_the_course_in_order():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06"]
    titles = [title(p) for p in NOTEBOOKS]
    for number, words in zip(range(1, 7), ("backpropagation", "Optimization", "Generalization",
                                            "Convolutional", "architectures", "gradients")):
        assert titles[number - 1].startswith(f"{number}.") and words in titles[number - 1]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs(path):
    book = json.loads(path.read_text(encoding="utf-8"))
    for cell in book["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{path.name}: a code cell keeps its outputs"
            assert cell["execution_count"] is None, f"{path.name}: an execution count is stored"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_top_to_bottom_in_a_jupyter_kernel(path, tmp_path):
    book = nbformat.read(path, as_version=4)
    # Any cell error raises CellExecutionError with the cell and its traceback.
    NotebookClient(book, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    images = [o for c in book.cells for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert images, f"{path.name} shows no figure"


def test_notebooks_command_copies_and_never_overwrites(tmp_path, capsys):
    assert main(["notebooks", str(tmp_path / "nb")]) == 0
    assert sorted(p.name for p in (tmp_path / "nb").iterdir()) == [p.name for p in NOTEBOOKS]
    mine = tmp_path / "nb" / NOTEBOOKS[0].name
    mine.write_text("my own work")
    capsys.readouterr()
    assert main(["notebooks", str(tmp_path / "nb")]) == 1
    assert "may hold your own work" in capsys.readouterr().err
    assert mine.read_text() == "my own work"
    copy_notebooks(tmp_path / "nb", overwrite=True)
    assert mine.read_text() != "my own work"


def test_notebooks_command_lists_them(capsys):
    assert main(["notebooks"]) == 0
    out = capsys.readouterr().out
    assert all(p.name in out for p in NOTEBOOKS)
