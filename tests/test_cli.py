"""``neuralab train`` end to end on a few hundred shipped MNIST images, in a temporary folder."""

from __future__ import annotations

import json

import pytest

from neuralab.cli import main
from neuralab.train import checkpoint as ckpt
from neuralab.train.rundir import read_metrics


def test_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--model" in out and "--resume" in out and "--early-stopping" in out


def test_train_one_epoch_then_resume(tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["train", "--model", "mlp", "--data", "mnist", "--subset", "--limit", "400",
            "--batch-size", "50", "--lr", "0.05", "--run-dir", str(run), "--no-progress",
            "--no-download", "--threads", "1"]
    assert main(argv + ["--epochs", "1"]) == 0
    captured = capsys.readouterr()
    assert "shipped subset" in captured.err and "test accuracy" in captured.out
    assert "\nthreads: 1 (--threads)\n" in captured.out
    config = json.loads((run / "config.json").read_text())
    assert config["settings"]["lr"] == 0.05 and config["is_subset"] is True
    assert ckpt.load(run / "checkpoint.npz")["epoch"] == 1
    phases = [(r["epoch"], r["phase"]) for r in read_metrics(run)]
    assert phases == [(1, "train"), (1, "val"), (1, "test")]
    assert main(["train", "--resume", str(run), "--epochs", "2", "--no-progress"]) == 0
    assert ckpt.load(run / "checkpoint.npz")["epoch"] == 2
    assert [r["epoch"] for r in read_metrics(run) if r["phase"] == "train"] == [1, 2]


def test_unknown_model_and_data(tmp_path, capsys):
    base = ["train", "--subset", "--limit", "50", "--out", str(tmp_path), "--no-progress"]
    assert main(base + ["--model", "mpl"]) == 2
    assert "did you mean mlp" in capsys.readouterr().err
    assert main(base + ["--data", "nope"]) == 2


def test_module_entry_point():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "neuralab", "train", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--data-root" in out.stdout


def test_settings_precedence(monkeypatch):
    from neuralab.cli import build_parser
    from neuralab.train import command

    monkeypatch.setattr(command, "_load_preset",
                        lambda name: {"model": "lenet5", "lr": 0.3, "epochs": 7,
                                      "scheduler": "multistep", "milestones": [3, 5],
                                      "width": 2})
    args = build_parser().parse_args(["train", "--preset", "p", "--lr", "0.01"])
    settings = command.resolve_settings(args)
    assert settings["lr"] == 0.01  # command line beats preset
    assert settings["epochs"] == 7 and settings["model"] == "lenet5"  # preset beats defaults
    assert settings["milestones"] == [3, 5] and settings["batch_size"] == 64
    assert settings["model_options"] == {"width": 2}  # unknown keys go to the model builder
