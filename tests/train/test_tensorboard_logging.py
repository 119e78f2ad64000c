"""neuralab train --tensorboard: what a run logs, read back with TensorBoard's event reader."""

from __future__ import annotations

import json

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from neuralab.cli import main


def events(folder) -> EventAccumulator:
    reader = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0,
                                                          "images": 0})
    reader.Reload()
    return reader


def test_a_training_run_logs_scalars_histograms_and_images(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--subset", "--limit", "400", "--epochs", "2", "--batch-size", "50",
                 "--run-dir", str(run), "--tensorboard", "--no-progress"]) == 0
    assert f"TensorBoard logs in {run / 'tensorboard'}" in capsys.readouterr().out
    logged = events(run / "tensorboard")
    tags = logged.Tags()
    assert {"loss/step", "lr", "test/acc1", "test/loss"} <= set(tags["scalars"])
    grad_tags = [t for t in tags["scalars"] if t.startswith("grad_norm/")]
    assert grad_tags == [f"grad_norm/layers.{i}.{p}" for i in (1, 3, 5) for p in ("weight", "bias")]
    assert all(v.value > 0 for v in logged.Scalars(grad_tags[0]))
    assert sorted(tags["histograms"]) == sorted(f"weights/{t.removeprefix('grad_norm/')}"
                                                for t in grad_tags)
    assert [h.step for h in logged.Histograms("weights/layers.1.weight")] == [1, 2]
    assert "curves" in tags["images"]
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    for phase in ("train", "val"):
        per_epoch = events(run / "tensorboard" / "loss" / phase).Scalars("loss")
        want = [(r["epoch"], r["loss"]) for r in records if r["phase"] == phase]
        assert [(e.step, pytest.approx(e.value, rel=1e-6)) for e in per_epoch] == want
    test = next(r for r in records if r["phase"] == "test")
    assert logged.Scalars("test/acc1")[0].value == pytest.approx(test["acc1"])
    # 360 training examples in batches of 50: 8 steps an epoch, logged every 20 from step 0
    assert [e.step for e in logged.Scalars("loss/step")] == [0]
