"""The wheel: built from the sources, installed into a fresh virtual environment, it trains on the
shipped MNIST subset and runs a notebook, offline, away from the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(args: list, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NEURALAB_DATA")}
    env["NEURALAB_OFFLINE"] = "1"
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"{args}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.slow
def test_wheel_trains_and_runs_a_notebook_in_a_fresh_environment(tmp_path):
    # Build from a copy of the tracked files, so that the checkout gets no build/ folder.
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    source = tmp_path / "source"
    for name in files:
        if (ROOT / name).is_file() and not (ROOT / name).is_symlink():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
         tmp_path / "dist", source], cwd=tmp_path)
    wheel = next((tmp_path / "dist").glob("neuralab-*.whl"))
    # The new environment sees the installed dependencies (NumPy, Jupyter) but gets neuralab
    # only from the wheel: no network, no checkout.
    venv.create(tmp_path / "env", system_site_packages=True, with_pip=True)
    python = tmp_path / "env" / "bin" / "python"
    run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--force-reinstall",
         wheel], cwd=tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    where = run([python, "-c", "import neuralab; print(neuralab.__file__)"], cwd=work)
    assert where.stdout.strip().startswith(str(tmp_path / "env")), where.stdout

    trained = run([tmp_path / "env" / "bin" / "neuralab", "train", "--subset", "--epochs", "1",
                   "--limit", "1000", "--run-dir", work / "run", "--no-progress"], cwd=work)
    assert "test accuracy" in trained.stdout
    assert (work / "run" / "checkpoint.npz").is_file()

    run([tmp_path / "env" / "bin" / "neuralab", "notebooks", work / "nb"], cwd=work)
    executed = run([python, "-c", (
        "import nbformat, sys; from nbclient import NotebookClient; "
        "nb = nbformat.read(sys.argv[1], as_version=4); "
        "nb.cells.append(nbformat.v4.new_code_cell('import neuralab; print(neuralab.__file__)')); "
        "NotebookClient(nb, timeout=600, kernel_name='python3').execute(); "
        "print('kernel imported', nb.cells[-1].outputs[0]['text'])"),
        work / "nb" / "01-mlp-and-backprop.ipynb"], cwd=work)
    assert f"kernel imported {tmp_path / 'env'}" in executed.stdout, executed.stdout
