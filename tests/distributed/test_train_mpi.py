"""``neuralab train`` on several MPI workers: same results as one worker, any-count resume."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from neuralab.train.checkpoint import load
from tests.distributed.test_ddp import needs_mpi

ROOT = Path(__file__).resolve().parents[2]
COMMON = ["--subset", "--limit", "600", "--batch-size", "60", "--no-progress", "--threads", "1",
          "--scheduler", "step", "--step-size", "1", "--gamma", "0.5"]  # plans no end


def train(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEURALAB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "neuralab", "train", *COMMON, *args],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def weights(run_dir: Path) -> dict:
    return {k: np.asarray(v) for k, v in load(run_dir / "checkpoint.npz")["model"].items()}


def assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = weights(a), weights(b)
    assert wa and set(wa) == set(wb)
    for key in wa:
        np.testing.assert_allclose(wa[key], wb[key], rtol=1e-4, atol=1e-5, err_msg=key)


def test_nproc_must_be_positive(tmp_path):
    done = train("--nproc", "0", "--run-dir", str(tmp_path / "r"))
    assert done.returncode == 2
    assert done.stderr.strip() == "neuralab train: --nproc must be at least 1, got 0"


@needs_mpi
def test_two_workers_train_like_one(tmp_path):
    one = train("--epochs", "2", "--run-dir", str(tmp_path / "one"))
    two = train("--nproc", "2", "--epochs", "2", "--run-dir", str(tmp_path / "two"))
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    accuracy = [line for line in one.stdout.splitlines() if line.startswith("test")]
    assert accuracy and accuracy == [line for line in two.stdout.splitlines()
                                     if line.startswith("test")]
    assert two.stdout.count("epoch 2/2") == 1  # only rank 0 prints
    assert_same_weights(tmp_path / "one", tmp_path / "two")
    assert not (tmp_path / "two" / ".lock").exists()


@needs_mpi
def test_resume_with_another_number_of_workers(tmp_path):
    whole = train("--epochs", "2", "--run-dir", str(tmp_path / "whole"))
    first = train("--nproc", "2", "--epochs", "1", "--run-dir", str(tmp_path / "split"))
    rest = train("--nproc", "3", "--resume", str(tmp_path / "split"), "--epochs", "2")
    for done in (whole, first, rest):
        assert done.returncode == 0, done.stderr
    assert_same_weights(tmp_path / "whole", tmp_path / "split")


@needs_mpi
def test_a_batch_the_workers_cannot_split_stops_every_worker(tmp_path):
    done = train("--nproc", "3", "--epochs", "1", "--run-dir", str(tmp_path / "r"),
                 "--batch-size", "64", timeout=120)
    assert done.returncode != 0
    assert "--batch-size 64 cannot be split evenly between 3 workers" in done.stderr
