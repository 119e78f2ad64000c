"""The diagnostics recorder: activation statistics, gradient norms, update ratios and flags."""

from __future__ import annotations

import json

import numpy as np
import pytest

import neuralab as nl
import neuralab.nn as nn
import neuralab.nn.functional as F
from neuralab import optim
from neuralab.diagnostics import Recorder
from neuralab.diagnostics.recorder import plot_layer_histograms
from neuralab.plotting import subplots


def _mlp(depth, width, activation, std_fn, seed=0):
    layers, rng = [], np.random.default_rng(seed)
    fan_in = 8
    for _ in range(depth):
        linear = nn.Linear(fan_in, width)
        linear.weight.array[...] = rng.normal(0, std_fn(fan_in), size=(width, fan_in))
        linear.bias.array[...] = 0
        layers += [linear, activation()]
        fan_in = width
    head = nn.Linear(fan_in, 3)
    head.weight.array[...] = rng.normal(0, std_fn(fan_in), size=(3, fan_in))
    return nn.Sequential(*layers, head)


def _batch(n=64, seed=1):
    rng = np.random.default_rng(seed)
    return (nl.tensor(rng.normal(size=(n, 8)), dtype=nl.float32),
            nl.tensor(rng.integers(0, 3, size=n)))


def _one_step(model, rec, lr=0.1, step=0):
    x, y = _batch()
    opt = optim.SGD(model.parameters(), lr=lr)
    rec.set_step(step)
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    rec.before_step()
    opt.step()
    rec.after_step()
    return loss


def test_deep_sigmoid_with_tiny_init_vanishes():
    model = _mlp(8, 32, nn.Sigmoid, lambda fan_in: 0.1)
    rec = Recorder(model)
    _one_step(model, rec)
    ratio = rec.weight_gradient_ratio()
    assert ratio < 1e-5
    flags = rec.diagnose()
    assert [f["kind"] for f in flags if f["kind"] == "vanishing"] == ["vanishing"]
    message = rec.messages()[0]
    assert message.startswith("gradients vanish: the first layer's gradient norm is")
    assert "0.weight" in message and "16.weight" in message
    # The backpropagated signal ‖∂L/∂h‖ shrinks from the last layer to the first.
    layer_norms = list(rec.layer_gradient_norms().values())
    assert layer_norms[0] < 1e-4 * layer_norms[-1]


def test_relu_with_he_init_does_not_vanish():
    model = _mlp(8, 32, nn.ReLU, lambda fan_in: np.sqrt(2.0 / fan_in))
    rec = Recorder(model)
    _one_step(model, rec)
    assert 0.05 < rec.weight_gradient_ratio() < 20
    assert rec.messages() == []
    relu = [r for r in rec.rows("activations") if r["type"] == "ReLU"]
    assert len(relu) == 8
    assert all(0.3 < r["dead"] < 0.7 for r in relu)  # about half the outputs of a ReLU are 0


def test_activation_statistics_match_numpy():
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 16), nn.Sigmoid(),
                          nn.Linear(16, 16), nn.ReLU())
    model[0].weight.array *= 20  # push tanh into saturation
    x, _ = _batch()
    rec = Recorder(model)
    out = model(x)
    h1 = np.tanh(x.array @ model[0].weight.array.T + model[0].bias.array)
    rows = {r["layer"]: r for r in rec.rows("activations")}
    assert set(rows) == {"0", "1", "2", "3", "4", "5"}
    assert rows["1"]["mean"] == pytest.approx(h1.mean(), abs=1e-5)
    assert rows["1"]["std"] == pytest.approx(h1.std(), abs=1e-5)
    assert rows["1"]["saturated"] == pytest.approx((np.abs(h1) > 0.99).mean())
    assert rows["1"]["saturated"] > 0.5
    s = out.array  # unused output; the sigmoid layer's statistics:
    h3 = 1 / (1 + np.exp(-(np.tanh(x.array @ model[0].weight.array.T + model[0].bias.array)
                           @ model[2].weight.array.T + model[2].bias.array)))
    assert rows["3"]["saturated"] == pytest.approx(((h3 < 0.01) | (h3 > 0.99)).mean())
    assert rows["5"]["dead"] == pytest.approx((s == 0).mean())
    assert any(f["kind"] == "saturated" and f["layer"] == "1" for f in rec.diagnose())


def test_gradient_norms_and_update_ratio_are_exact():
    model = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 3))
    rec = Recorder(model)
    before = {k: p.array.copy() for k, p in model.named_parameters()}
    _one_step(model, rec, lr=0.5)
    grads = rec.gradient_norms()
    for name, p in model.named_parameters():
        assert grads[name] == pytest.approx(np.linalg.norm(p.grad.array), rel=1e-5)
    updates = {r["param"]: r["ratio"] for r in rec.rows("updates")}
    for name, p in model.named_parameters():
        expected = np.linalg.norm(0.5 * p.grad.array) / np.linalg.norm(before[name])
        assert updates[name] == pytest.approx(expected, rel=1e-4)


def test_every_and_detach_control_what_is_recorded(tmp_path):
    model = nn.Sequential(nn.Linear(8, 4), nn.Tanh(), nn.Linear(4, 3))
    rec = Recorder(model, every=2)
    for step in range(5):
        _one_step(model, rec, step=step)
    assert rec.recorded_steps("grads") == [0, 2, 4]
    assert rec.recorded_steps("activations") == [0, 2, 4]
    assert rec.recorded_steps("updates") == [0, 2, 4]
    count = len(rec.records)
    rec.detach()
    _one_step(model, rec, step=6)
    assert len(rec.records) == count
    path = rec.to_jsonl(tmp_path / "metrics.jsonl")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(rows) == count and {r["series"] for r in rows} == {
        "activations", "output_grads", "grads", "updates"}


def test_probe_measures_a_fixed_batch_outside_training():
    model = _mlp(3, 16, nn.Tanh, lambda fan_in: 1 / np.sqrt(fan_in))
    rec = Recorder(model, steps={0, 99})
    x, y = _batch()
    loss = rec.probe(x, y, 0)
    assert loss == pytest.approx(float(F.cross_entropy(model(x), y).item()))
    assert all(p.grad is None or not np.any(p.grad.array) for p in model.parameters())
    norms = rec.gradient_norms(0)
    assert len(norms) == 8  # 4 weights, 4 biases
    model(x).sum().backward()  # the hooks are idle between probes
    assert rec.recorded_steps() == [0]
    rec.probe(x, y, 99, loss_fn=lambda z, t: F.cross_entropy(z, t) * 2.0)
    assert rec.recorded_steps() == [0, 99]
    doubled = rec.gradient_norms(99)
    assert doubled["0.weight"] == pytest.approx(2 * norms["0.weight"], rel=1e-5)


def test_layer_histograms_pick_layers_over_the_depth_on_one_range():
    rng = np.random.default_rng(0)
    samples = [rng.normal(0, 0.5 ** i, 500) for i in range(19)]  # spread shrinking with depth
    fig, ax = subplots()
    assert plot_layer_histograms(ax, samples) == [0, 4, 9, 14, 18]  # 1, L/4, L/2, 3L/4, L
    assert [p.get_label() for p in ax.patches] == ["layer 1", "layer 5", "layer 10", "layer 15",
                                                   "layer 19"]
    edges = [p.get_xy()[:, 0] for p in ax.patches]  # one shared range: the widest layer's
    assert all(e.min() == pytest.approx(samples[0].min()) for e in edges)
    assert all(e.max() == pytest.approx(samples[0].max()) for e in edges)
    fig, ax = subplots()
    assert plot_layer_histograms(ax, samples[:3], layers=2, value_range=(0.0, 1.0)) == [0, 2]
    assert ax.patches[0].get_xy()[:, 0].min() == 0.0 and ax.patches[0].get_xy()[:, 0].max() == 1
    fig, ax = subplots()
    plot_layer_histograms(ax, [np.full(10, 0.5)] * 4)  # all equal: a narrow range around them
    assert ax.patches[0].get_xy()[:, 0].min() == pytest.approx(0.499)
    assert plot_layer_histograms(subplots()[1], []) == []


def test_exploding_gradients_are_flagged():
    model = _mlp(10, 32, nn.ReLU, lambda fan_in: 4.0 / np.sqrt(fan_in))  # gain 2.8 per layer
    rec = Recorder(model, explode_norm=1e3)
    _one_step(model, rec)
    flags = rec.diagnose()
    assert any(f["kind"] == "exploding" for f in flags)
    assert any(m.startswith("gradients explode:") for m in rec.messages())


def test_growing_gradient_norm_is_flagged():
    model = nn.Sequential(nn.Linear(8, 3))
    rec = Recorder(model)
    x, y = _batch()
    for step, scale in enumerate([1.0, 30.0, 900.0]):
        rec.set_step(step)
        model.zero_grad()
        (model(x) * scale).sum().backward()
    assert any("grew" in m for m in rec.messages())


def test_plots_are_made(tmp_path):
    model = _mlp(3, 16, nn.Sigmoid, lambda fan_in: 0.5)
    rec = Recorder(model)
    _one_step(model, rec)
    rec.plot_gradient_norms().savefig(tmp_path / "g.png")
    rec.plot_activation_histograms().savefig(tmp_path / "h.png")
    assert (tmp_path / "g.png").stat().st_size > 1000 and (tmp_path / "h.png").stat().st_size > 1000


def test_bad_arguments_are_explained():
    with pytest.raises(TypeError, match="Recorder: model must be an nn.Module"):
        Recorder(object())
    with pytest.raises(ValueError, match="every must be a positive integer"):
        Recorder(nn.Linear(2, 2), every=0)
