"""Absurd values for every option of every ``neuralab`` subcommand, damaged run directories and
the resume rule: each is one line naming the problem, exit status 2 (usage) or 1, no traceback,
and nothing written before the check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from neuralab import nn
from neuralab.cli import build_parser, main
from neuralab.train import checkpoint as ckpt
from neuralab.train import command
from neuralab.train.command import RESUME_APPLIES, RESUME_REFUSES
from neuralab.train.rundir import read_metrics

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--subset", "--limit", "64", "--batch-size", "32", "--no-progress", "--no-download",
        "--threads", "1"]


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    monkeypatch.setenv("NEURALAB_OFFLINE", "1")
    monkeypatch.setenv("NEURALAB_CACHE", str(tmp_path / "cache"))


def run_cli(argv, capsys):
    """(exit status, stderr) of ``neuralab argv`` run in this process."""
    capsys.readouterr()  # what earlier commands of the test printed
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    err = capsys.readouterr().err
    return code, err


def assert_one_line(err, code, expected_code, pattern):
    assert code == expected_code, err
    assert "Traceback" not in err
    import re

    assert re.search(pattern, err), err
    # The error is a line starting with the command's name (argparse prints its usage first;
    # a data set's "where to put it" note may follow on indented lines).
    assert re.search(r"^neuralab[a-z0-9 -]*: ", err, re.M), err


# ---- every option of neuralab train ----------------------------------------------------------

TRAIN_CASES = [
    (["--nproc", "0"], 2, r"--nproc must be at least 1, got 0"),
    (["--nproc", "-2"], 2, r"--nproc must be at least 1"),
    (["--nproc", "two"], 2, r"argument --nproc: invalid int"),
    (["--epochs", "0"], 2, r"--epochs must be a positive"),
    (["--epochs", "-1"], 2, r"--epochs must be"),
    (["--epochs", "abc"], 2, r"argument --epochs: invalid int"),
    (["--lr", "-1"], 2, r"--lr must be a positive, finite learning rate, got -1.0"),
    (["--lr", "0"], 2, r"--lr must be"),
    (["--lr", "nan"], 2, r"--lr must be"),
    (["--lr", "inf"], 2, r"--lr must be"),
    (["--momentum", "-0.1"], 2, r"--momentum must be in \[0, 1\)"),
    (["--momentum", "1.5"], 2, r"--momentum must be"),
    (["--weight-decay", "-1"], 2, r"--weight-decay must be"),
    (["--weight-decay", "nan"], 2, r"--weight-decay must be"),
    (["--batch-size", "0"], 2, r"--batch-size must be a positive batch size, got 0"),
    (["--batch-size", "-3"], 2, r"--batch-size must be"),
    (["--eval-batch-size", "0"], 2, r"--eval-batch-size must be"),
    (["--dropout", "1.0"], 2, r"--dropout must be a probability"),
    (["--dropout", "-0.5"], 2, r"--dropout must be"),
    (["--scheduler", "step", "--step-size", "0"], 2, r"--step-size must be a positive"),
    (["--scheduler", "step", "--step-size", "-2"], 2, r"--step-size must be"),
    (["--scheduler", "exponential", "--gamma", "0"], 2, r"--gamma must be a positive"),
    (["--scheduler", "exponential", "--gamma", "-1"], 2, r"--gamma must be"),
    (["--scheduler", "plateau", "--gamma", "2"], 2, r"--gamma must be < 1 with --scheduler "
                                                    r"plateau"),
    (["--scheduler", "multistep", "--milestones", "5", "3"], 2, r"--milestones must be "
                                                                r"positive epochs in increasing"),
    (["--scheduler", "multistep", "--milestones", "0"], 2, r"--milestones must be"),
    (["--scheduler", "multistep"], 2, r"multistep needs --milestones"),
    (["--scheduler", "onecycle", "--max-lr", "-1"], 2, r"--max-lr must be a positive"),
    (["--scheduler", "onecycle", "--max-lr", "0"], 2, r"--max-lr must be"),
    (["--scheduler", "onecycle", "--pct-start", "0"], 2, r"--pct-start must be"),
    (["--scheduler", "onecycle", "--pct-start", "1.5"], 2, r"--pct-start must be"),
    (["--scheduler", "foo"], 2, r"argument --scheduler: invalid choice"),
    (["--step-size", "3"], 2, r"--step-size applies to --scheduler step, not cosine"),
    (["--milestones", "3"], 2, r"--milestones applies to --scheduler multistep"),
    (["--max-lr", "0.1"], 2, r"--max-lr applies to --scheduler onecycle"),
    (["--gamma", "0.5"], 2, r"--gamma applies to"),
    (["--val-split", "1.5"], 2, r"--val-split must be a fraction in \[0, 1\), got 1.5"),
    (["--val-split", "1"], 2, r"--val-split must be"),
    (["--val-split", "-0.1"], 2, r"--val-split must be"),
    (["--early-stopping", "0"], 2, r"--early-stopping must be a positive"),
    (["--early-stopping", "2", "--val-split", "0"], 2, r"--early-stopping needs a validation"),
    (["--grad-clip", "0"], 2, r"--grad-clip must be"),
    (["--grad-clip", "-1"], 2, r"--grad-clip must be"),
    (["--seed", "-1"], 2, r"--seed must be a non-negative integer, got -1"),
    (["--limit", "0"], 2, r"--limit must be a positive number of examples, got 0"),
    (["--limit", "-5"], 2, r"--limit must be"),
    (["--threads", "0"], 2, r"--threads must be"),
    (["--threads", "-2"], 2, r"--threads must be"),
    (["--threads", "100000"], 2, r"--threads must be"),
    (["--workers", "-1"], 2, r"--workers must be a number of loader processes from 0 to 64, "
                             r"got -1"),
    (["--workers", "100000"], 2, r"--workers must be a number of loader processes"),
    (["--workers", "two"], 2, r"argument --workers: invalid int"),
    (["--preset", "foo"], 2, r"unknown preset 'foo'; choose one of resnet20-cifar10"),
    (["--model", "nope"], 2, r"unknown model 'nope'"),
    (["--data", "nope"], 2, r"unknown data set 'nope'; choose one of"),
    (["--optimizer", "foo"], 2, r"argument --optimizer: invalid choice"),
    (["--optimizer", "adam", "--momentum", "0.5"], 2, r"--momentum applies to sgd and rmsprop"),
    (["--optimizer", "adam", "--nesterov"], 2, r"--nesterov applies to sgd"),
    (["--nesterov", "--momentum", "0"], 2, r"--nesterov needs a momentum"),
    (["--data", "cifar10", "--subset"], 2, r"--subset: .*mnist"),
    (["--data-root", "/nonexistent/neuralab"], 2, r"--data-root /nonexistent/neuralab does not "
                                                  r"exist"),
    (["--overwrite"], 2, r"--overwrite needs --run-dir"),
    (["--model", "lenet5", "--dropout", "0.5"], 2, r"--dropout: model 'lenet5' takes no "
                                                   r"dropout option"),
    (["--out", "/proc/neuralab-no"], 1, r"--out folder /proc/neuralab-no is not writable"),
    (["--run-dir", "/proc/neuralab-no/run"], 1, r"--run-dir /proc/neuralab-no/run is not "
                                                r"writable"),
    (["--resume", "/nonexistent/run"], 1, r"cannot resume: /nonexistent/run is not a directory"),
    (["--image-size", "big"], 2, r"--image-size: image size must be an int or HxW"),
    (["--image-size", "0x4"], 2, r"--image-size: image size must be a positive int"),
    (["--replan"], 2, r"--replan re-plans the schedule of a resumed run"),
    (["--image-size", "0"], 2, r"--image-size: image size must be a positive"),
    (["--data", "imagefolder", "--image-size", "-5"], 2, r"--image-size: image size must be"),
    (["--data", "imagefolder", "--image-size", "abc"], 2, r"--image-size: image size must be"),
    (["--data", "imagefolder", "--image-size", "100000"], 2, r"larger than 4096 pixels"),
    (["--list-presets", "--bogus"], 2, r"unrecognized arguments: --bogus"),
]


@pytest.mark.parametrize("extra, expected, pattern", TRAIN_CASES,
                         ids=[" ".join(c[0]) for c in TRAIN_CASES])
def test_train_option_errors(tmp_path, capsys, extra, expected, pattern):
    out = tmp_path / "runs"
    base = [a for a in FAST if a != "--subset"] if "--data" in extra else FAST
    code, err = run_cli(["train", *base, "--epochs", "1", "--out", str(out), *extra], capsys)
    assert_one_line(err, code, expected, pattern)
    assert not out.exists()  # checked before any work


def test_a_presets_model_option_the_model_does_not_take(tmp_path, capsys, monkeypatch):
    """A model option a preset (or a resumed run) carries that the model does not take is
    refused by name before any work, never dropped."""
    preset = {**command.get_preset("resnet20-cifar10"), "epochs": 1, "widen": 2}
    monkeypatch.setitem(command.PRESETS, "bad-preset", preset)
    monkeypatch.setattr(command, "get_preset", lambda name: dict(preset))
    out = tmp_path / "runs"
    base = [a for a in FAST if a != "--subset"]
    code, err = run_cli(["train", *base, "--preset", "bad-preset", "--out", str(out)], capsys)
    assert_one_line(err, code, 2, r"model option 'widen': model 'resnet20' takes no such "
                                  r"option; its options: shortcut, init_weights")
    assert not out.exists()


def test_dropout_reaches_the_models_that_take_it(tmp_path):
    """--dropout is checked against the model's declared options: alexnet_cifar takes it
    through its builder's **options (refused before the options were declared)."""
    splits = SimpleNamespace(input_shape=(3, 32, 32), num_classes=10)
    model = command._build_model("alexnet_cifar", splits, {"dropout": 0.25})
    assert {m.p for m in model.modules() if isinstance(m, nn.Dropout)} == {0.25}
    rgb = SimpleNamespace(input_shape=(3, 28, 28), num_classes=10)
    lenet = command._build_model("lenet5", rgb, {})
    assert lenet.features[0].weight.shape[1] == 3  # in_channels from the data


def test_every_train_option_has_an_absurd_value_case():
    """A new option of `neuralab train` needs a case above (or a reason to have none)."""
    parser = build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    options = {a.option_strings[-1] for a in train._actions if a.option_strings} - {"--help"}
    tested = {token for case in TRAIN_CASES for token in case[0] if token.startswith("--")}
    # Flags without a value to get wrong; --resume and --run-dir have their own tests below.
    no_value = {"--subset", "--no-download", "--no-progress", "--help", "--list-presets",
                "--tensorboard"}
    assert options - tested - no_value == set()
    assert set(RESUME_APPLIES) | set(RESUME_REFUSES) >= {
        a.dest for a in train._actions if a.option_strings and a.dest not in
        ("help", "resume", "run_dir", "overwrite", "replan", "list_presets")}


# ---- the other subcommands -------------------------------------------------------------------

OTHER_CASES = [
    (["notebooks", "/dev/null"], 1, r"neuralab notebooks: /dev/null exists and is not a folder"),
    (["notebooks", "a", "b"], 2, r"unrecognized arguments: b"),
    (["summary", "nope"], 2, r"unknown model 'nope'"),
    (["summary", "mlp", "--num-classes", "0"], 2, r"--num-classes: expected a positive integer"),
    (["summary", "mlp", "--num-classes", "-3"], 2, r"--num-classes"),
    (["summary", "lenet5", "--input", "0x28x28"], 2, r"input sizes must be positive"),
    (["summary", "lenet5", "--input", "abc"], 2, r"input shape must look like 1x28x28"),
    (["summary", "lenet5", "--input", "3x28x28"], 1, r"input has 3 channels"),
    (["summary", "mlp", "--option", "foo=1"], 2, r"cannot build mlp with options \{'foo': 1\}: "
                                                 r"models: mlp takes no option 'foo'; its "
                                                 r"options: in_features, hidden"),
    (["summary", "resnet20", "--option", "dropout=0.5"], 2, r"resnet20 takes no option "
                                                           r"'dropout'"),
    (["summary", "alexnet_cifar", "--data", "mnist"], 2, r"--data mnist: model 'alexnet_cifar' "
                                                        r"takes 3-channel images but mnist has "
                                                        r"1-channel images"),
    (["summary", "mlp", "--option", "hidden=0"], 2, r"cannot build mlp"),
    (["summary", "mlp", "--option", "noequals"], 2, r"options are key=value"),
    (["gradcheck", "nope"], 2, r"unknown model 'nope'"),
    (["gradcheck", "mlp", "--batch-size", "0"], 2, r"batch_size must be >= 1"),
    (["gradcheck", "mlp", "--samples", "-1"], 2, r"samples and batch_size must be >= 1"),
    (["gradcheck", "mlp", "--input-shape", "0,0"], 2, r"expected positive integers"),
    (["gradcheck", "mlp", "--input-shape", "a,b"], 2, r"expected integers like 1,28,28"),
    (["gradcheck", "mlp", "--seed", "-1"], 2, r"seed must be a non-negative integer"),
    (["run", "nope"], 2, r"unknown experiment 'nope'"),
    (["run", "xor", "--quick", "--seed", "-1"], 2, r"--seed must be a non-negative integer"),
    (["run", "xor", "--quick", "--out", "/proc/neuralab-no"], 2, r"--out /proc/neuralab-no is "
                                                                 r"not writable"),
    (["run", "xor", "--quick", "steps=-5"], 2, r"steps=-5 must be positive"),
    (["run", "xor", "--quick", "steps=0"], 2, r"steps=0 must be positive"),
    (["run", "xor", "--quick", "lr=nan"], 2, r"lr=nan must be positive and finite"),
    (["run", "xor", "--quick", "lr=-0.1"], 2, r"lr=-0.1 must be positive"),
    (["run", "xor", "--quick", "steps=abc"], 2, r"cannot read steps='abc' as int"),
    (["run", "xor", "--quick", "nope=1"], 2, r"unknown configuration key 'nope'"),
    (["run", "xor", "--quick", "--bogus"], 2, r"unknown option '--bogus'"),
    (["run", "learning-rate", "--quick", "lrs=0.1,-1"], 2, r"must be positive"),
    (["run", "xor", "--quick", "--data-root", "/tmp"], 2, r"--data-root does not apply"),
    (["run", "optimizers-mnist", "--quick", "--image-size", "8"], 2,
     r"--image-size does not apply"),
    (["summary", "mlp", "--data", "nope"], 2, r"unknown data set 'nope'"),
    (["summary", "mlp", "--data", "cifar10", "--image-size", "0"], 2, r"image size must be"),
    (["gradcheck", "mlp", "--data", "nope"], 2, r"unknown data set 'nope'"),
    (["data", "nope"], 2, r"unknown data set 'nope'"),
    (["data", "extra", "more"], 2, r"unrecognized arguments"),
    (["cache", "bogus"], 2, r"invalid choice: 'bogus'"),
    (["cache", "clear", "no-such-cache"], 1, r"nothing in .* matches 'no-such-cache'"),
    (["presets", "extra"], 2, r"unrecognized arguments"),
    (["report", "/nonexistent/neuralab-run"], 2, r"no run directory at"),
    (["data", "--data-root", "/nonexistent/neuralab"], 2, r"--data-root /nonexistent/neuralab "
                                                          r"does not exist"),
    (["cache", "nope"], 2, r"invalid choice: 'nope'"),
    (["cache", "list", "nope"], 2, r"unknown action 'nope'"),
    (["list", "--bogus"], 2, r"unrecognized arguments"),
    (["curriculum", "extra"], 2, r"unrecognized arguments"),
    (["exercise"], 2, r"the following arguments are required: ACTION"),
    (["exercise", "nope"], 2, r"invalid choice: 'nope'"),
    (["exercise", "list", "extra"], 2, r"unrecognized arguments: extra"),
    (["exercise", "start", "nope"], 2, r"unknown exercise 'nope'; choose one of linear, "),
    (["exercise", "check", "nope"], 2, r"unknown exercise 'nope'"),
    (["exercise", "train", "nope"], 2, r"unknown exercise 'nope'"),
    (["exercise", "start", "linear", "/dev/null"], 1, r"/dev/null exists and is not a folder"),
    (["exercise", "start", "linear", "/proc/neuralab-no"], 1, r"cannot write "
                                                              r"/proc/neuralab-no/linear.py"),
    (["exercise", "start", "linear", ".", "--bogus"], 2, r"unrecognized arguments: --bogus"),
    (["exercise", "check", "linear", "/nonexistent/dir"], 1, r"no file "
                                                             r"/nonexistent/dir/linear.py"),
    (["exercise", "check", "linear", "a", "b"], 2, r"unrecognized arguments: b"),
    (["exercise", "train", "linear", "--epochs", "0"], 2, r"--epochs must be a positive"),
    (["exercise", "train", "linear", "--epochs", "x"], 2, r"argument --epochs: invalid int"),
    (["exercise", "train", "linear", "--seed", "-1"], 2, r"--seed must be a non-negative"),
    (["exercise", "train", "linear"], 1, r"no file linear.py; write it first with `neuralab "
                                         r"exercise start linear`"),
    (["nope"], 2, r"invalid choice: 'nope'"),
]


@pytest.mark.parametrize("argv, expected, pattern", OTHER_CASES,
                         ids=[" ".join(c[0]) for c in OTHER_CASES])
def test_other_command_errors(tmp_path, monkeypatch, capsys, argv, expected, pattern):
    monkeypatch.chdir(tmp_path)
    code, err = run_cli(argv, capsys)
    assert_one_line(err, code, expected, pattern)
    assert not (tmp_path / "runs").exists()


def test_every_subcommand_has_cases():
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)
    covered = {c[0][0] for c in OTHER_CASES} | {"train"}
    assert commands <= covered


@pytest.mark.parametrize("name", ["config.json", "results.json"])
@pytest.mark.parametrize("content", ["", "{", "[1, 2]", "\xff"])
def test_report_of_damaged_run(tmp_path, capsys, name, content):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "results.json").write_text("{}")
    (tmp_path / name).write_text(content, encoding="latin-1")
    code, err = run_cli(["report", str(tmp_path)], capsys)
    assert_one_line(err, code, 2, f"{name} is damaged")


# ---- run directories: existing runs, resume ----------------------------------------------------

@pytest.fixture
def finished_run(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *FAST, "--epochs", "1", "--scheduler", "none", "--run-dir",
                 str(run)]) == 0
    capsys.readouterr()
    return run


def test_data_loss_repro_non_finite_checkpoint_keeps_the_last_good_one(tmp_path, capsys):
    run = tmp_path / "R"
    with np.errstate(all="ignore"):
        code, err = run_cli(["train", "--subset", "--limit", "64", "--batch-size", "64",
                             "--epochs", "4", "--scheduler", "exponential", "--gamma", "1e40",
                             "--lr", "0.05", "--run-dir", str(run), "--no-progress",
                             "--threads", "1"], capsys)
    assert code == 1 and "Traceback" not in err
    state = ckpt.load(run / "checkpoint.npz")
    assert all(np.isfinite(v).all() for v in state["model"].values())
    assert f"the last good checkpoint (epoch {state['epoch']})" in err


def test_existing_run_is_not_overwritten(finished_run, capsys):
    before = (finished_run / "checkpoint.npz").read_bytes()
    code, err = run_cli(["train", *FAST, "--model", "lenet5", "--run-dir", str(finished_run)],
                        capsys)
    assert_one_line(err, code, 2, r"already holds a run .*--resume .*--overwrite")
    assert (finished_run / "checkpoint.npz").read_bytes() == before
    (finished_run / "best.npz").write_bytes(b"stale")
    code = main(["train", *FAST, "--epochs", "1", "--model", "lenet5", "--run-dir",
                 str(finished_run), "--overwrite"])
    assert code == 0
    config = json.loads((finished_run / "config.json").read_text())
    assert config["settings"]["model"] == "lenet5" and not (finished_run / "best.npz").exists()
    assert [r["epoch"] for r in read_metrics(finished_run)] == [1, 1, 1]


def test_resume_applies_and_records_a_new_learning_rate(finished_run, capsys):
    code = main(["train", "--resume", str(finished_run), "--epochs", "2", "--lr", "0.5",
                 "--batch-size", "16", "--no-progress"])
    assert code == 0
    assert "--lr 0.05 -> 0.5" in capsys.readouterr().err
    lrs = [r["lr"] for r in read_metrics(finished_run) if r["phase"] == "train"]
    assert lrs == [0.05, 0.5]
    config = json.loads((finished_run / "config.json").read_text())
    assert config["settings"]["lr"] == 0.5 and config["settings"]["batch_size"] == 16
    assert config["resumes"][0]["after_epoch"] == 1
    assert config["resumes"][0]["changed"]["lr"] == [0.05, 0.5]
    train = [r for r in read_metrics(finished_run) if r["phase"] == "train"]
    assert train[1]["samples"] == 64  # with the new batch size: 4 batches of 16
    phases = [(r["epoch"], r["phase"]) for r in read_metrics(finished_run)]
    assert phases.count((1, "test")) == 0 and phases[-1] == (2, "test")


def test_resume_applies_momentum_and_schedule_changes(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *FAST, "--epochs", "1", "--scheduler", "step", "--step-size", "5",
                 "--gamma", "0.5", "--run-dir", str(run)]) == 0
    assert main(["train", "--resume", str(run), "--epochs", "3", "--step-size", "1",
                 "--gamma", "0.1", "--momentum", "0.5", "--no-progress"]) == 0
    lrs = [r["lr"] for r in read_metrics(run) if r["phase"] == "train"]
    # The rate of epoch 2 was set when epoch 1 ended; the new schedule decays from there.
    np.testing.assert_allclose(lrs, [0.05, 0.05, 0.005])
    state = ckpt.load(run / "checkpoint.npz")
    assert state["optimizer"]["param_groups"][0]["momentum"] == 0.5


@pytest.mark.parametrize("extra, named", [
    (["--optimizer", "adam"], "--optimizer ('sgd' -> 'adam')"),
    (["--scheduler", "step"], "--scheduler ('none' -> 'step')"),
    (["--model", "lenet5", "--data", "cifar10"], "--model ('mlp' -> 'lenet5'), --data"),
    (["--seed", "3"], "--seed (0 -> 3)"),
    (["--val-split", "0.2"], "--val-split"),
    (["--limit", "32"], "--limit (64 -> 32)"),
    (["--preset", "resnet20-cifar10"], "--preset (None -> 'resnet20-cifar10')"),
    (["--dropout", "0.3"], "--dropout"),
    (["--out", "elsewhere"], "--out"),
])
def test_resume_refuses_options_fixed_at_the_start(finished_run, capsys, extra, named):
    before = (finished_run / "checkpoint.npz").read_bytes()
    code, err = run_cli(["train", "--resume", str(finished_run), "--epochs", "2", *extra],
                        capsys)
    assert_one_line(err, code, 2, "cannot change ")
    assert named in err and "start a new run" in err
    assert (finished_run / "checkpoint.npz").read_bytes() == before


def test_resume_refuses_rate_batch_and_epochs_changes_under_onecycle(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *FAST, "--epochs", "1", "--scheduler", "onecycle",
                 "--run-dir", str(run)]) == 0
    for extra in (["--lr", "0.1"], ["--batch-size", "8"], ["--epochs", "3"]):
        code, err = run_cli(["train", "--resume", str(run), *extra], capsys)
        assert_one_line(err, code, 2, "cannot change " + extra[0])


def test_resume_with_the_same_options_is_no_change(finished_run, capsys):
    assert main(["train", "--resume", str(finished_run), *FAST, "--epochs", "2",
                 "--scheduler", "none"]) == 0
    assert "resumes" not in json.loads((finished_run / "config.json").read_text()) or \
        set(json.loads((finished_run / "config.json").read_text())["resumes"][0]["changed"]) \
        == {"epochs"}


def test_resume_to_fewer_epochs_is_refused(finished_run, capsys):
    assert main(["train", "--resume", str(finished_run), "--epochs", "2", "--no-progress"]) == 0
    code, err = run_cli(["train", "--resume", str(finished_run), "--epochs", "1"], capsys)
    assert_one_line(err, code, 2, r"already trained 2 epochs; give --epochs 2 or more")


@pytest.mark.parametrize("damage", ["truncate", "empty", "garbage", "missing", "no-settings"])
def test_resume_with_a_damaged_config(finished_run, capsys, damage):
    path = finished_run / "config.json"
    text = path.read_text()
    if damage == "truncate":
        path.write_text(text[: len(text) // 2])
    elif damage == "empty":
        path.write_text("")
    elif damage == "garbage":
        path.write_bytes(b"\xff\xfe\x00")
    elif damage == "missing":
        path.unlink()
    else:
        path.write_text('{"settings": [1]}')
    code, err = run_cli(["train", "--resume", str(finished_run), "--epochs", "2"], capsys)
    assert_one_line(err, code, 1, r"cannot resume: .*config.json")


@pytest.mark.parametrize("damage", ["truncate", "garbage", "missing", "foreign"])
def test_resume_with_a_damaged_checkpoint(finished_run, capsys, damage):
    path = finished_run / "checkpoint.npz"
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 3])
    elif damage == "garbage":
        path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    elif damage == "missing":
        path.unlink()
    else:
        ckpt.save_state_dict(path, {"w": np.zeros(3)})
    code, err = run_cli(["train", "--resume", str(finished_run), "--epochs", "2"], capsys)
    assert_one_line(err, code, 1, "checkpoint.npz")


def test_resume_when_the_data_root_has_gone(tmp_path, capsys):
    root = tmp_path / "data"
    root.mkdir()
    run = tmp_path / "run"
    # An empty --data-root is an error (never a quiet fall-back): --subset asks for the shipped
    # subset explicitly.
    args = ["--limit", "64", "--batch-size", "32", "--no-progress", "--no-download",
            "--threads", "1", "--subset"]
    assert main(["train", *args, "--epochs", "1", "--data-root", str(root),
                 "--run-dir", str(run)]) == 0
    root.rmdir()
    code, err = run_cli(["train", "--resume", str(run), "--epochs", "2"], capsys)
    assert_one_line(err, code, 1, r"data root .*data no longer exists")
    assert ckpt.load(run / "checkpoint.npz")["epoch"] == 1


def test_resume_of_a_full_data_run_never_falls_back_to_the_subset(tmp_path, capsys,
                                                                  shared_data, monkeypatch):
    run = tmp_path / "run"
    args = ["--limit", "64", "--batch-size", "32", "--no-progress", "--no-download",
            "--threads", "1"]
    assert main(["train", *args, "--epochs", "1", "--data-root", str(shared_data / "mnist"),
                 "--run-dir", str(run)]) == 0
    assert json.loads((run / "config.json").read_text())["is_subset"] is False
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("NEURALAB_DATA", str(empty))
    code, err = run_cli(["train", "--resume", str(run), "--epochs", "2", "--data-root",
                         str(empty)], capsys)
    assert_one_line(err, code, 1, r"neuralab train: .*mnist")
    assert ckpt.load(run / "checkpoint.npz")["epoch"] == 1


def test_resume_on_different_data_is_refused(finished_run, capsys):
    path = finished_run / "config.json"
    config = json.loads(path.read_text())
    config["data_signature"]["sizes"] = [1000, 100, 100]
    path.write_text(json.dumps(config))
    code, err = run_cli(["train", "--resume", str(finished_run), "--epochs", "2"], capsys)
    assert_one_line(err, code, 1, r"is not the data the run trained on")


def test_resume_argument_conflicts(finished_run, capsys):
    code, err = run_cli(["train", "--resume", str(finished_run), "--overwrite"], capsys)
    assert_one_line(err, code, 2, "--overwrite and --resume contradict")
    code, err = run_cli(["train", "--resume", str(finished_run), "--run-dir", "elsewhere"],
                        capsys)
    assert_one_line(err, code, 2, "stays in its own directory")


HOLD = """
import sys, time
from neuralab.train.rundir import lock_run_dir
with lock_run_dir(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_two_resumes_of_one_run(finished_run, capsys):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(finished_run)], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        code, err = run_cli(["train", "--resume", str(finished_run), "--epochs", "2"], capsys)
        assert_one_line(err, code, 1, f"in use by process {holder.pid}")
    finally:
        holder.kill()
        holder.wait()
    assert [r["epoch"] for r in read_metrics(finished_run) if r["phase"] == "train"] == [1]
    assert main(["train", "--resume", str(finished_run), "--epochs", "2",
                 "--no-progress"]) == 0


def test_two_simultaneous_resume_processes(finished_run):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEURALAB_OFFLINE": "1"}
    argv = [sys.executable, "-m", "neuralab", "train", "--resume", str(finished_run),
            "--epochs", "12", "--no-progress"]
    procs = [subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    codes = sorted(code for code, _ in results)
    train = [r["epoch"] for r in read_metrics(finished_run) if r["phase"] == "train"]
    assert train == list(range(1, 13))  # never duplicated
    assert codes in ([0, 0], [0, 1])
    if codes == [0, 1]:
        assert any("in use by process" in err for _, err in results)
    assert all("Traceback" not in err for _, err in results)


def test_help_states_the_resume_rule(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "Options given with --resume that change" in out and "are refused" in out
    assert "--overwrite" in out


# ---- experiment run directories: damaged files for `neuralab report` ----------------------------

@pytest.fixture(scope="module")
def experiment_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("exp") / "backprop"
    assert main(["run", "backprop", "--quick", "--out", str(run), "--no-progress"]) == 0
    return run


def test_report_skips_a_metrics_line_cut_by_a_crash(experiment_run, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(experiment_run, run)
    log = run / "metrics.jsonl"
    log.write_bytes(log.read_bytes() + b'{"step": 99, "lo\xff')
    (run / "report.md").unlink()
    code, err = run_cli(["report", str(run)], capsys)
    assert code == 0 and "Traceback" not in err and (run / "report.md").exists()


@pytest.mark.parametrize("config", ["{}", '{"experiment": 3}'])
def test_report_of_a_config_without_experiment(experiment_run, tmp_path, capsys, config):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(experiment_run, run)
    (run / "config.json").write_text(config)
    code, err = run_cli(["report", str(run)], capsys)
    assert_one_line(err, code, 2, "names no experiment")


# ---- kill -9 of a training process, then resume -------------------------------------------------

def test_kill_9_during_training_then_resume(tmp_path):
    """A run killed at a random moment leaves a loadable checkpoint, a stale lock and maybe a
    .part file; resuming takes the lock over, cleans up and ends where an uninterrupted run
    ends."""
    import signal
    import time

    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEURALAB_OFFLINE": "1"}
    base = [sys.executable, "-m", "neuralab", "train", *FAST, "--scheduler", "none",
            "--epochs", "400"]
    run = tmp_path / "run"
    proc = subprocess.Popen(base + ["--run-dir", str(run)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            if (run / "checkpoint.npz").exists() and (run / ".lock").exists():
                break
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert (run / ".lock").exists()  # left behind by the killed process
    done = ckpt.load(run / "checkpoint.npz")["epoch"]
    assert 1 <= done < 400
    target = done + 2
    code = subprocess.run(base[:-1] + [str(target), "--resume", str(run)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert code.returncode == 0, code.stderr
    assert not (run / ".lock").exists() and not list(run.glob(".*.part"))
    epochs = [r["epoch"] for r in read_metrics(run) if r["phase"] == "train"]
    assert epochs == list(range(1, target + 1))
    # The same weights as a run that was never interrupted.
    other = tmp_path / "other"
    out = subprocess.run(base[:-1] + [str(target), "--run-dir", str(other)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    a, b = ckpt.load(run / "checkpoint.npz"), ckpt.load(other / "checkpoint.npz")
    for key in a["model"]:
        np.testing.assert_array_equal(a["model"][key], b["model"][key], err_msg=key)


# ---- corrupt data on the command line ------------------------------------------------------------

def test_train_on_corrupt_mnist_names_the_file(tmp_path, capsys, shared_data):
    import shutil

    root = tmp_path / "mnist"
    shutil.copytree(shared_data / "mnist", root)
    bad = root / "train-images-idx3-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:100_000])
    code, err = run_cli(["train", "--data-root", str(root), "--limit", "64", "--epochs", "1",
                         "--no-progress", "--out", str(tmp_path / "runs")], capsys)
    assert_one_line(err, code, 1, rf"{bad}: the gzip file is truncated or corrupt")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_train_on_a_truncated_image_archive_names_the_file(tmp_path, capsys, shared_data):
    root = tmp_path / "cifar"
    root.mkdir()
    with open(shared_data / "cifar10-jpg.tar.gz", "rb") as fh:
        (root / "cifar10-jpg.tar.gz").write_bytes(fh.read(2_000_000))
    code, err = run_cli(["train", "--data", "cifar10", "--data-root", str(root), "--limit",
                         "64", "--epochs", "1", "--no-progress", "--out",
                         str(tmp_path / "runs")], capsys)
    assert_one_line(err, code, 1, r"cifar10-jpg.tar.gz is (not a readable tar archive|"
                                  r"truncated)")


def test_resume_with_a_damaged_best_checkpoint(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *FAST, "--epochs", "1", "--early-stopping", "3",
                 "--run-dir", str(run)]) == 0
    best = run / "best.npz"
    best.write_bytes(best.read_bytes()[:200])
    code, err = run_cli(["train", "--resume", str(run), "--epochs", "2"], capsys)
    assert_one_line(err, code, 1, rf"cannot read {best}")


@pytest.mark.parametrize("workers", ["0", "1"])
def test_image_damaged_in_the_middle_of_training_is_a_message(tmp_path, capsys, monkeypatch,
                                                               workers):
    """Large image sets are decoded lazily: a damaged file surfaces during an epoch."""
    import io

    from PIL import Image

    from neuralab.data.datasets import imagefolder

    monkeypatch.setattr(imagefolder, "LAZY_BYTES", 0)  # decode lazily even this tiny set
    root = tmp_path / "images"
    for split in ("train", "test"):
        for c, colour in enumerate([(250, 0, 0), (0, 0, 250)]):
            folder = root / split / f"class{c}"
            folder.mkdir(parents=True)
            for i in range(8):
                buf = io.BytesIO()
                Image.new("RGB", (8, 8), colour).save(buf, format="PNG")
                (folder / f"{i}.png").write_bytes(buf.getvalue())
    bad = root / "train" / "class1" / "7.png"
    bad.write_bytes(bad.read_bytes()[:40])
    code, err = run_cli(["train", "--data", "imagefolder", "--data-root", str(root),
                         "--image-size", "8", "--model", "mlp", "--epochs", "2",
                         "--batch-size", "4", "--no-progress", "--threads", "1",
                         "--workers", workers, "--run-dir", str(tmp_path / "run")], capsys)
    assert_one_line(err, code, 1, rf"stopped: ImageFolder: cannot decode image {bad}")
