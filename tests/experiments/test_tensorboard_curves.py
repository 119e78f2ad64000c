"""neuralab run --tensorboard: an experiment's curves and figures, read back with TensorBoard."""

from __future__ import annotations

import json

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from neuralab.experiments import run_experiment


def test_an_experiments_logged_curves_and_figures_reach_tensorboard(tmp_path):
    out, saved = run_experiment("xor", quick=True, out_dir=tmp_path / "xor", progress=False,
                                tensorboard=True)
    board = EventAccumulator(str(out / "tensorboard"), size_guidance={"scalars": 0, "images": 0})
    board.Reload()
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    series = {r["series"] for r in rows}
    for name in series:
        logged = [(r["step"], r["loss"]) for r in rows if r["series"] == name and "loss" in r]
        read = [(e.step, pytest.approx(e.value, rel=1e-6))
                for e in board.Scalars(f"{name}/loss")]
        assert read == logged and logged
    figures = {f["file"].removesuffix(".png") for f in saved["figures"]}
    assert figures and figures <= set(board.Tags()["images"])
