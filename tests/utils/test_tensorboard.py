"""SummaryWriter: what it writes, read back with TensorBoard's own event reader."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import neuralab as nl
from neuralab.utils.tensorboard import SummaryWriter

matplotlib.use("Agg")


def read(log_dir) -> EventAccumulator:
    events = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "histograms": 0,
                                                           "images": 0, "tensors": 0})
    events.Reload()
    return events


def test_scalars_histograms_images_text_and_figures_are_read_back(tmp_path):
    import matplotlib.pyplot as plt

    weights = nl.randn(1000)
    with SummaryWriter(tmp_path) as writer:
        for step in range(4):
            writer.add_scalar("loss/train", nl.tensor(1.0 / (step + 1)), step)
        writer.add_histogram("fc.weight", weights, 3)
        writer.add_image("digit", np.linspace(0, 1, 64, dtype=np.float32).reshape(1, 8, 8), 0)
        writer.add_text("notes", "lr 0.1", 0)
        figure = plt.figure()
        plt.plot([0, 1], [1, 0])
        writer.add_figure("curve", figure, 0)
    events = read(tmp_path)
    assert [(e.step, round(e.value, 6)) for e in events.Scalars("loss/train")] == \
        [(0, 1.0), (1, 0.5), (2, 0.333333), (3, 0.25)]
    histogram = events.Histograms("fc.weight")[0]
    assert histogram.step == 3
    assert histogram.histogram_value.num == 1000
    assert histogram.histogram_value.min == pytest.approx(float(weights.array.min()))
    assert histogram.histogram_value.max == pytest.approx(float(weights.array.max()))
    assert {"digit", "curve"} <= set(events.Tags()["images"])
    image = events.Images("digit")[0]
    assert (image.width, image.height) == (8, 8)
    assert "notes/text_summary" in events.Tags()["tensors"]


def test_add_scalars_writes_one_run_per_curve(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_scalars("acc", {"train": 0.9, "val": 0.8}, 5)
    assert read(tmp_path / "acc" / "train").Scalars("acc")[0].value == pytest.approx(0.9)
    assert read(tmp_path / "acc" / "val").Scalars("acc")[0].value == pytest.approx(0.8)


def test_hparams_are_recorded(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_hparams({"lr": 0.1, "optimizer": "sgd"}, {"hparam/acc": 0.97})
    runs = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(runs) == 1
    assert read(runs[0]).Scalars("hparam/acc")[0].value == pytest.approx(0.97)


def test_a_scalar_must_be_one_value(tmp_path):
    with SummaryWriter(tmp_path) as writer, pytest.raises(ValueError, match="one value"):
        writer.add_scalar("loss", nl.randn(3), 0)


def test_default_log_dir_is_pytorchs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="-mlp")
    writer.close()
    assert writer.get_logdir().startswith("runs/") and writer.get_logdir().endswith("-mlp")
