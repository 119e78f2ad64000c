"""``neuralab train --workers N``: the same batches as without workers, shown in the header,
reproducible with random augmentation, exact on resume, and the loader's speed reported."""

from __future__ import annotations

import io
import json

import pytest

from neuralab.cli import main
from neuralab.train.rundir import read_metrics

FAST = ["--model", "mlp", "--subset", "--limit", "300", "--batch-size", "50", "--no-progress",
        "--no-download", "--threads", "1"]


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    monkeypatch.setenv("NEURALAB_OFFLINE", "1")
    monkeypatch.setenv("NEURALAB_CACHE", str(tmp_path / "cache"))


def _losses(run):
    return [(r["phase"], r["epoch"], r["loss"]) for r in read_metrics(run)]


def test_workers_train_on_the_same_batches_and_show_in_the_header(tmp_path, capsys):
    assert main(["train", *FAST, "--epochs", "1", "--run-dir", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "\ndata loading: in the training process (--workers 0)\n" in out
    assert "images/s per loader process" in out and "training waited" in out
    assert main(["train", *FAST, "--epochs", "1", "--workers", "2",
                 "--run-dir", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "\ndata loading: 2 worker processes (--workers)\n" in out
    # No augmentation on MNIST: the same batches in the same order give the same numbers.
    assert _losses(tmp_path / "a") == _losses(tmp_path / "b")
    config = json.loads((tmp_path / "b" / "config.json").read_text())
    assert config["settings"]["workers"] == 2


@pytest.fixture
def image_folder(tmp_path):
    """A tiny CIFAR-10 image-folder tree: its training batches are augmented (random crops
    and flips)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    root = tmp_path / "images"
    for split in ("train", "test"):
        for c in range(2):
            folder = root / "cifar10-jpg" / split / f"class{c}"
            folder.mkdir(parents=True)
            for i in range(24):
                pixels = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
                pixels[:, :4, c] = 255  # left half marks the class: flips matter
                buffer = io.BytesIO()
                Image.fromarray(pixels).save(buffer, format="PNG")
                (folder / f"{i}.png").write_bytes(buffer.getvalue())
    return root


def test_augmented_runs_with_workers_are_reproducible_and_resume_exactly(tmp_path, capsys,
                                                                          image_folder):
    argv = ["train", "--data", "cifar10", "--data-root", str(image_folder), "--model",
            "mlp", "--batch-size", "8", "--no-progress", "--threads", "1", "--scheduler", "none",
            "--workers", "2", "--val-split", "0"]
    runs = [tmp_path / name for name in ("a", "b", "c", "d")]
    for run in runs[:2]:
        assert main([*argv, "--epochs", "2", "--run-dir", str(run)]) == 0
    assert _losses(runs[0]) == _losses(runs[1])
    # Another number of workers draws other flips (as in PyTorch): other numbers.
    assert main([*argv[:-4], "--val-split", "0", "--workers", "1", "--epochs", "2",
                 "--run-dir", str(runs[2])]) == 0
    assert _losses(runs[0]) != _losses(runs[2])
    # One epoch, then a resume (a constant rate: a cosine schedule planned for one epoch
    # would end there): the workers' seeds come from the restored generator.
    assert main([*argv, "--epochs", "1", "--run-dir", str(runs[3])]) == 0
    assert main(["train", "--resume", str(runs[3]), "--epochs", "2", "--no-progress"]) == 0
    assert [x for x in _losses(runs[3]) if x[0] == "train"] == \
        [x for x in _losses(runs[0]) if x[0] == "train"]
    capsys.readouterr()


def test_resume_may_change_the_number_of_workers(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *FAST, "--epochs", "1", "--run-dir", str(run)]) == 0
    assert main(["train", "--resume", str(run), "--epochs", "2", "--workers", "1",
                 "--no-progress"]) == 0
    assert "--workers 0 -> 1" in capsys.readouterr().err
    config = json.loads((run / "config.json").read_text())
    assert config["settings"]["workers"] == 1
    assert config["resumes"][0]["changed"]["workers"] == [0, 1]
