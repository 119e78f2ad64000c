"""The experiment runner, the report and the CLI, with a tiny experiment defined here."""

from __future__ import annotations

import json

import pytest

from neuralab import experiments as base
from neuralab.cli import main
from neuralab.experiments import run_experiment
from neuralab.lab import Experiment, Verdict, parse_overrides, planned_names, render_report


def _run(cfg, ctx):
    for step in range(cfg["steps"]):
        ctx.log("train", step=step, loss=1.0 / (step + 1))
    fig, ax = ctx.subplots()
    ax.plot([1, 2, 3])
    ctx.figure("curve", fig, "a line")
    ctx.table("values", ["a", "b"], [[1, 2.5], ["x", float("nan")]], caption="a table")
    ctx.note("a note with **bold**")
    return {"final": 1.0 / cfg["steps"], "scale": cfg["scale"], "flag": cfg["flag"],
            "names": cfg["names"]}


def _verdict(results, cfg):
    return Verdict(results["final"] < 0.5, f"final {results['final']:.2f}")


@pytest.fixture
def toy():
    experiment = Experiment(
        name="toy-test", lecture="L5", title="Toy", claim="Loss goes down.", run=_run,
        verdict=_verdict, defaults={"steps": 10, "scale": 1.5, "flag": False, "names": ["a"]},
        quick={"steps": 4}, runtime="1 s", setup="{steps} steps.")
    base.register(experiment)
    yield experiment
    base.unregister("toy-test")


def test_run_directory_has_every_artifact(toy, tmp_path):
    out, saved = run_experiment("toy-test", quick=True, out_dir=tmp_path / "run", seed=3)
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "metrics.jsonl", "curve.png", "results.json", "report.md",
            "report.html"} <= names
    config = json.loads((out / "config.json").read_text())
    assert config["mode"] == "quick" and config["seed"] == 3 and config["config"]["steps"] == 4
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and rows[-1] == {"series": "train", "step": 3, "loss": 0.25}
    assert saved["verdict"]["supported"] is True
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "<table>" in html and "<style>" in html
    assert "SUPPORTED" in html and "Loss goes down." in html
    md = (out / "report.md").read_text()
    assert "curve.png" in md and "4 steps." in md


def test_report_rerenders_from_saved_files(toy, tmp_path):
    out, _ = run_experiment("toy-test", quick=True, out_dir=tmp_path / "run")
    (out / "report.md").unlink()
    (out / "report.html").unlink()
    assert main(["report", str(out)]) == 0
    assert (out / "report.md").exists() and (out / "report.html").exists()
    assert main(["report", str(tmp_path / "missing")]) == 2


def test_report_describes_the_experiment_from_the_run_directory(toy, tmp_path):
    """The run directory alone renders the claim and setup; a run saved before config.json
    recorded them takes them from the registry, and an unregistered one says so."""
    out, _ = run_experiment("toy-test", quick=True, out_dir=tmp_path / "run")
    base.unregister("toy-test")
    render_report(out)
    md = (out / "report.md").read_text()
    assert "# Toy (toy-test, L5)" in md and "Loss goes down." in md and "4 steps." in md
    config = json.loads((out / "config.json").read_text())
    for key in ("title", "claim", "setup"):
        del config[key]
    (out / "config.json").write_text(json.dumps(config))
    render_report(out)
    assert "(not recorded in config.json)" in (out / "report.md").read_text()
    render_report(out, {"toy-test": toy})
    md = (out / "report.md").read_text()
    assert "Loss goes down." in md and "4 steps." in md


def test_overrides_are_typed_and_checked(toy):
    got = parse_overrides(toy, ["steps=7", "scale=2", "flag=yes", "names=b,c"])
    assert got == {"steps": 7, "scale": 2.0, "flag": True, "names": ["b", "c"]}
    assert isinstance(got["scale"], float)
    with pytest.raises(ValueError, match="unknown configuration key 'stepz'.*steps=10"):
        parse_overrides(toy, ["stepz=1"])
    with pytest.raises(ValueError, match="cannot read steps='many' as int"):
        parse_overrides(toy, ["steps=many"])
    with pytest.raises(ValueError, match="not key=value"):
        parse_overrides(toy, ["steps"])


def test_scales_are_named_presets_of_the_full_run():
    experiment = Experiment(
        name="scaled-test", lecture="L5", title="Scaled", claim="c", run=_run, verdict=_verdict,
        defaults={"steps": 10, "scale": "laptop", "size": 16}, quick={"steps": 2},
        scales={"laptop": {}, "paper": {"size": 32}})
    assert experiment.config() == {"steps": 10, "scale": "laptop", "size": 16}
    assert experiment.config(overrides={"scale": "paper"})["size"] == 32
    assert experiment.config(overrides={"scale": "paper", "size": 8})["size"] == 8
    assert experiment.config(quick=True, overrides={"scale": "paper"})["steps"] == 2
    with pytest.raises(ValueError, match="scale='huge' is not one of its scales"):
        parse_overrides(experiment, ["scale=huge"])
    with pytest.raises(ValueError, match="scale 'paper' keys \\['depth'\\] have no"):
        Experiment(name="bad", lecture="L5", title="t", claim="c", run=_run, verdict=_verdict,
                   defaults={"scale": "laptop"}, scales={"laptop": {}, "paper": {"depth": 3}})
    with pytest.raises(ValueError, match="defaults\\['scale'\\] must name one of"):
        Experiment(name="bad", lecture="L5", title="t", claim="c", run=_run, verdict=_verdict,
                   defaults={"scale": "tiny"}, scales={"laptop": {}})


def test_a_zero_the_quick_mode_uses_is_a_valid_override():
    """eval_every=0 ("at the end only") in an experiment's quick mode makes it a valid full-run
    override; a negative count or a zero neither mode uses is refused."""
    experiment = Experiment(
        name="zero-test", lecture="L5", title="Zero", claim="c", run=_run, verdict=_verdict,
        defaults={"epochs": 20, "eval_every": 5}, quick={"epochs": 2, "eval_every": 0})
    assert parse_overrides(experiment, ["eval_every=0"]) == {"eval_every": 0}
    with pytest.raises(ValueError, match="eval_every=-1 must be non-negative"):
        parse_overrides(experiment, ["eval_every=-1"])
    with pytest.raises(ValueError, match=r"epochs=0 must be positive and finite \(the default "
                                         r"is 20\)"):  # the full mode's, not the quick one's
        parse_overrides(experiment, ["epochs=0"])


def test_cli_run_list_curriculum(toy, tmp_path, capsys):
    assert main(["run", "toy-test", "--quick", "--out", str(tmp_path / "r"), "steps=2"]) == 0
    assert json.loads((tmp_path / "r" / "config.json").read_text())["config"]["steps"] == 2
    assert "CONTRADICTED: final 0.50" in capsys.readouterr().out  # steps=2: 1/2 is not < 0.5
    assert main(["run", "toy-test", "bogus=1"]) == 2
    assert "valid keys" in capsys.readouterr().err
    assert main(["list"]) == 0
    assert "toy-test" in capsys.readouterr().out
    assert main(["curriculum"]) == 0
    out = capsys.readouterr().out
    for name in ("resnet-degradation", "char-rnn", "caltech101", "toy-test"):
        assert name in out
    assert out.index("L5") < out.index("L7") < out.index("L15") < out.index("ResNet")
    # Every experiment the curriculum names is implemented.
    assert "[not yet implemented]" not in out


def test_unknown_experiment_suggests_close_names(toy, capsys):
    assert main(["run", "toy-tset"]) == 2
    assert "did you mean toy-test" in capsys.readouterr().err
    with pytest.raises(KeyError, match="unknown experiment"):
        base.get("nothing-like-it")


def test_curriculum_lists_the_course():
    names = planned_names()
    for name in ("xor", "backprop", "optimizers-2d", "learning-rate", "logistic-regression",
                 "conv-arithmetic", "deep-mlp-gradients", "rnn-vs-lstm", "exploding-gradients",
                 "char-rnn", "optimizers-mnist", "generalization", "lenet-mnist",
                 "architectures-cifar", "caltech101", "googlenet-aux", "vgg-deepening",
                 "resnet-degradation"):
        assert name in names


def test_experiment_rejects_quick_keys_without_defaults():
    with pytest.raises(ValueError, match="no full-mode default"):
        Experiment(name="bad", lecture="L5", title="", claim="", run=_run, verdict=_verdict,
                   defaults={"a": 1}, quick={"b": 2})


def test_registry_discovers_the_experiment_modules():
    found = base.experiments()
    for name in ("xor", "backprop", "optimizers-2d", "learning-rate", "logistic-regression",
                 "conv-arithmetic"):
        assert name in found, f"{name} not registered"
        experiment = found[name]
        assert experiment.lecture and experiment.claim and experiment.runtime != "?"
        assert set(experiment.quick) <= set(experiment.defaults)


def _fails_after(steps):
    def run(cfg, ctx):
        for step in range(steps):
            ctx.log("train", step=step, loss=1.0)
        raise FileNotFoundError("data not found; put it in ROOT")

    return run


@pytest.mark.parametrize("steps", [0, 2])
def test_a_failed_run_leaves_no_empty_directory_and_keeps_measurements(tmp_path, steps):
    experiment = Experiment(name="failing-test", lecture="L5", title="Fails", claim="-",
                            run=_fails_after(steps), verdict=_verdict)
    base.register(experiment)
    try:
        out = tmp_path / "run"
        with pytest.raises(FileNotFoundError):
            run_experiment("failing-test", out_dir=out)
        if steps == 0:  # nothing measured: nothing left behind
            assert not out.exists()
        else:  # the measurements stay, with the reason the run stopped
            assert len((out / "metrics.jsonl").read_text().splitlines()) == steps
            assert "data not found" in (out / "FAILED.txt").read_text()
            assert not (out / "report.md").exists()
    finally:
        base.unregister("failing-test")
