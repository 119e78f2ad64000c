"""Running an experiment's quick mode in a test, with the checks every run directory must pass."""

from __future__ import annotations

import json

from neuralab.experiments import run_experiment

ARTIFACTS = {"config.json", "metrics.jsonl", "results.json", "report.md", "report.html"}


def run_quick(name, tmp_path, **overrides):
    """Run ``name --quick`` into ``tmp_path/name``; returns (run dir, results, saved results.json).

    Checks the run directory: config, metrics, results, both reports, at least one PNG figure,
    figures embedded in the HTML report, and the saved verdict.
    """
    out, saved = run_experiment(name, quick=True, out_dir=tmp_path / name, seed=0,
                                overrides=overrides or None, progress=False)
    files = {p.name for p in out.iterdir()}
    assert ARTIFACTS <= files
    assert any(f.endswith(".png") for f in files)
    assert "data:image/png;base64," in (out / "report.html").read_text()
    assert json.loads((out / "results.json").read_text())["verdict"] == saved["verdict"]
    return out, saved["results"], saved
