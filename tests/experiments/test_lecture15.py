"""Lecture 15's experiments: vanishing and exploding gradients, RNN against LSTM, char-RNN.

Each quick mode runs end to end through ``neuralab run NAME --quick`` into a temporary directory
and must show the outcome the lecture predicts; the helpers they are built from are checked on
their own first (cheaply).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from neuralab import experiments as base
from neuralab.cli import main


def _run_quick(name, tmp_path):
    out = tmp_path / name
    assert main(["run", name, "--quick", "--out", str(out), "--no-progress"]) == 0
    saved = json.loads((out / "results.json").read_text())
    for file in ("config.json", "metrics.jsonl", "report.md", "report.html"):
        assert (out / file).exists(), file
    for figure in saved["figures"]:
        assert (out / figure["file"]).stat().st_size > 1000, figure["file"]
    assert json.loads((out / "config.json").read_text())["mode"] == "quick"
    return out, saved


def test_the_four_experiments_are_registered():
    table = base.experiments()
    for name in ("deep-mlp-gradients", "rnn-vs-lstm", "exploding-gradients", "char-rnn"):
        experiment = table[name]
        assert experiment.lecture == "L15"
        assert set(experiment.quick) <= set(experiment.defaults)


# ------------------------------------------------------------------ helpers
def test_deep_mlp_builder_layers_and_scales():
    import neuralab as nl
    from neuralab.experiments.deep_mlp_gradients import build_mlp

    nl.manual_seed(0)
    model = build_mlp(20, 64, "relu", "he", 0.01)
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    assert len(weights) == 20
    assert weights[0].shape == (64, 784) and weights[-1].shape == (10, 64)
    assert float(weights[5].array.std()) == pytest.approx(math.sqrt(2 / 64), rel=0.1)
    small = build_mlp(4, 64, "sigmoid", "small", 0.01)
    assert float(small[3].weight.array.std()) == pytest.approx(0.01, rel=0.1)
    xavier = build_mlp(4, 64, "tanh", "xavier", 0.01)
    assert float(xavier[3].weight.array.std()) == pytest.approx(math.sqrt(2 / 128), rel=0.1)
    assert all(float(np.abs(m.bias.array).max()) == 0 for m in small if hasattr(m, "bias"))
    with pytest.raises(ValueError, match="activation must be one of"):
        build_mlp(4, 8, "softsign", "he", 0.01)
    with pytest.raises(ValueError, match="init must be one of"):
        build_mlp(4, 8, "relu", "lecun", 0.01)


# ------------------------------------------------------------------ quick modes, end to end
def test_deep_mlp_gradients_quick(tmp_path):
    out, saved = _run_quick("deep-mlp-gradients", tmp_path)
    r = saved["results"]
    # Sigmoid with N(0, 0.01²) weights: 0.25 · 0.01 · √128 ≈ 0.03 per layer, 19 layers.
    assert float(r["sigmoid_small_ratio_init"]) < 1e-6
    assert r["sigmoid_small_vanishing_flag"] is True
    # ReLU with He weights keeps every layer's gradient of the same order, and trains.
    assert 1e-2 <= float(r["relu_he_ratio_init"]) <= 1e2
    assert r["relu_he_vanishing_flag"] is False
    assert r["relu_he_test_accuracy"] > 0.5
    assert r["sigmoid_small_test_accuracy"] < 0.2  # the vanished network stays at chance
    assert saved["verdict"]["supported"] is True
    names = {f["file"] for f in saved["figures"]}
    assert "gradient_norms.png" in names
    grads = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()
             if '"grad_norms"' in line]
    assert len(grads) == 9 * 2 * 20  # 9 networks, init and trained, 20 layers


def test_rnn_vs_lstm_quick(tmp_path):
    _, saved = _run_quick("rnn-vs-lstm", tmp_path)
    r = saved["results"]
    T = r["lengths"][-1]
    assert T >= 50
    assert float(r[f"lstm_T{T}_final_mse"]) < 0.05
    assert float(r[f"rnn_T{T}_final_mse"]) > 0.1
    # The RNN's gradient has (all but) vanished by the first step; the trained LSTM's has not.
    assert float(r[f"rnn_T{T}_grad_decay_trained"]) < 1e-4
    assert float(r[f"lstm_T{T}_grad_decay_trained"]) > 1e-3
    assert saved["verdict"]["supported"] is True


def test_exploding_gradients_quick(tmp_path):
    _, saved = _run_quick("exploding-gradients", tmp_path)
    r = saved["results"]
    assert float(r["unclipped_max_norm"]) > 1e3 * float(r["clipped_max_applied_norm"])
    assert float(r["clipped_max_applied_norm"]) <= r["clip"] * 1.0001
    assert float(r["unclipped_max_loss"]) > 10 * float(r["clipped_max_loss"])
    clipped = [float(v) for v in r["clipped_final_losses"]]
    unclipped = [float(v) for v in r["unclipped_final_losses"]]
    assert all(math.isfinite(v) for v in clipped)
    assert np.median(clipped) < np.median(unclipped)
    # The sweep: below ρ = 1 the gradient shrinks going back in time, above it grows.
    radii, growth = r["sweep_radii"], [float(g) for g in r["sweep_growth"]]
    assert growth[radii.index(0.5)] < 1e-3 < 1e2 < growth[radii.index(3.0)]
    assert saved["verdict"]["supported"] is True


def test_char_rnn_quick(tmp_path):
    out, saved = _run_quick("char-rnn", tmp_path)
    r = saved["results"]
    assert r["data_is_excerpt"] is True
    assert float(r["final_val_bpc"]) < 3.3 < float(r["unigram_val_bpc"]) - 1.0
    assert float(r["final_val_bpc"]) < float(r["initial_val_bpc"]) - 2.0
    cfg = json.loads((out / "config.json").read_text())["config"]
    from neuralab.experiments.char_rnn import load_corpus

    vocab = set(load_corpus(cfg).chars)
    for text in r["samples"].values():
        assert len(text) == cfg["sample_length"]
        assert set(text) <= vocab
    assert len(r["samples"]) == 3  # the temperature and the two compared with it
    assert saved["verdict"]["supported"] is True
