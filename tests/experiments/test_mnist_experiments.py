"""The MNIST experiments of Lectures 7, 9 and 12 in quick mode, end to end in a temporary
directory, checking the outcomes the lectures predict; plus unit checks of their pieces."""

from __future__ import annotations

import pytest

from neuralab import experiments as base
from neuralab.experiments import run_experiment
from tests.experiments._helpers import run_quick

_run = run_quick


# ------------------------------------------------------------------ optimizers-mnist (L7)
def test_optimizers_mnist(tmp_path):
    out, r, saved = _run("optimizers-mnist", tmp_path)
    assert (out / "learning_curves.png").exists()
    assert r["data_is_subset"]
    names = ["SGD", "momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"]
    for name in names:
        assert not r[f"{name}_diverged"]
        assert r[f"{name}_final_loss"] < 0.5 * r[f"{name}_initial_loss"], name
        assert r[f"{name}_test_accuracy"] > 0.8, name
    # At equal steps momentum and Adam reach a lower training loss than plain SGD.
    assert r["momentum_final_loss"] < 0.8 * r["SGD_final_loss"]
    assert r["Adam_final_loss"] < r["SGD_final_loss"]
    assert r["Nesterov_final_loss"] < r["SGD_final_loss"]
    assert saved["verdict"]["supported"]


def test_optimizers_mnist_verdict_can_fail():
    exp = base.get("optimizers-mnist")
    cfg = exp.config(quick=True)
    results = {"steps": 10}
    for name in ["SGD", "momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"]:
        results.update({f"{name}_final_loss": 0.5, f"{name}_initial_loss": 2.3,
                        f"{name}_diverged": False})
    results["momentum_final_loss"], results["Adam_final_loss"] = 0.3, 0.4
    assert exp.verdict(results, cfg).supported
    results["Adam_final_loss"] = 0.6  # Adam worse than SGD
    assert not exp.verdict(results, cfg).supported
    results["Adam_final_loss"] = 0.4
    results["AdaGrad_final_loss"] = 2.0  # did not learn
    assert not exp.verdict(results, cfg).supported


def test_optimizers_mnist_rejects_bad_config(tmp_path):
    with pytest.raises(ValueError, match="one learning rate per optimizer"):
        run_experiment("optimizers-mnist", quick=True, out_dir=tmp_path / "bad",
                       overrides={"lrs": [0.1]}, progress=False)
    with pytest.raises(ValueError, match="unknown optimizers"):
        run_experiment("optimizers-mnist", quick=True, out_dir=tmp_path / "bad2",
                       overrides={"optimizers": ["LBFGS"], "lrs": [0.1]}, progress=False)


# ------------------------------------------------------------------ generalization (L9)
def test_generalization(tmp_path):
    out, r, saved = _run("generalization", tmp_path)
    assert (out / "synthetic.png").exists()
    bayes, se = r["bayes_error"], r["test_standard_error"]
    assert bayes == pytest.approx(0.15865525, rel=1e-6)  # Φ(−Δ/2) with Δ = 2
    # The Bayes rule itself scores the Bayes error within sampling noise...
    assert abs(r["bayes_rule_test_error"] - bayes) < 3 * se
    # ... and no trained network beats it beyond sampling noise.
    assert r["min_synthetic_test_error"] >= bayes - 3 * se
    assert min(r["capacity_test_error"] + r["size_test_error"]) >= bayes - 3 * se
    # Capacity: training error falls towards 0, test error does not keep falling, gap grows.
    train, test = r["capacity_train_error"], r["capacity_test_error"]
    assert train[-1] < 0.02 < train[0] - 0.05
    assert test[-1] > min(test) + 0.02
    assert test[-1] - train[-1] > test[0] - train[0] + 0.05
    # More data: training error rises and test error falls towards the Bayes error.
    size_train, size_test = r["size_train_error"], r["size_test_error"]
    assert size_train[0] < size_train[-1] and size_test[-1] < size_test[0]
    assert abs(size_test[-1] - bayes) < 0.03
    # L1 drives far more first-layer weights to about zero than L2 or no penalty.
    assert r["near_zero_fraction_l1"] > 3 * max(r["near_zero_fraction_l2"],
                                                r["near_zero_fraction_none"])
    assert 1 <= r["early_stop_epoch"] <= 30
    # The ensemble is at least as good as its average member (error and cross-entropy).
    assert r["ensemble_test_error"] <= r["mean_member_test_error"]
    assert r["ensemble_test_loss"] <= r["mean_member_test_loss"]
    assert saved["verdict"]["supported"]


def test_generalization_verdict_can_fail():
    exp = base.get("generalization")
    cfg = exp.config(quick=True)
    good = {"bayes_error": 0.16, "test_standard_error": 0.004, "min_synthetic_test_error": 0.165,
            "capacity_train_error": [0.14, 0.05, 0.0], "capacity_test_error": [0.17, 0.2, 0.23],
            "ensemble_test_error": 0.1, "mean_member_test_error": 0.12,
            "ensemble_test_loss": 0.4, "mean_member_test_loss": 0.5}
    assert exp.verdict(good, cfg).supported
    assert not exp.verdict(dict(good, min_synthetic_test_error=0.14), cfg).supported
    assert not exp.verdict(dict(good, capacity_train_error=[0.14, 0.14, 0.14]), cfg).supported
    assert not exp.verdict(dict(good, ensemble_test_error=0.13), cfg).supported


# ------------------------------------------------------------------ lenet-mnist (L12)
def test_lenet_mnist(tmp_path):
    out, r, saved = _run("lenet-mnist", tmp_path)
    for fig in ("learning_curves", "filters"):
        assert (out / f"{fig}.png").exists(), fig
    assert r["data_is_subset"] and r["train_examples"] == 5000
    assert r["lenet_params"] == 61_706
    assert r["lenet_test_accuracy"] > 0.93
    assert r["lenet_test_accuracy"] > r["mlp_test_accuracy"] + 0.01
    assert r["mlp_params"] > 3 * r["lenet_params"]
    assert saved["verdict"]["supported"]


def test_lenet_verdict_can_fail():
    exp = base.get("lenet-mnist")
    cfg = exp.config(quick=True)
    res = {"lenet_test_accuracy": 0.95, "mlp_test_accuracy": 0.92, "mlp_params": 203_530,
           "lenet_params": 61_706}
    assert exp.verdict(res, cfg).supported
    assert not exp.verdict(dict(res, mlp_test_accuracy=0.96), cfg).supported
    assert not exp.verdict(dict(res, lenet_test_accuracy=0.85, mlp_test_accuracy=0.8),
                           cfg).supported
