"""Every experiment's quick mode end to end in a temporary directory, checking the outcome the
lecture predicts (not merely that it ran)."""

from __future__ import annotations

import pytest

from neuralab import experiments as base
from tests.experiments._helpers import run_quick


def _run(name, tmp_path, **overrides):
    _, results, saved = run_quick(name, tmp_path, **overrides)
    return results, saved


def test_xor(tmp_path):
    results, saved = _run("xor", tmp_path)
    assert results["perceptron_accuracy"] <= 0.75
    assert results["logistic_accuracy"] <= 0.75
    assert results["best_random_linear_accuracy"] == 0.75  # 3 of 4 is the best a line can do
    assert results["mlp_accuracy"] == 1.0
    assert saved["verdict"]["supported"]


def test_backprop(tmp_path):
    results, saved = _run("backprop", tmp_path)
    assert results["graph_max_rel_error"] < 1e-12
    assert results["mlp_hand_vs_autograd"] < 1e-12
    assert results["mlp_autograd_vs_finite_diff"] < 1e-6
    assert results["graph_ops"] == 6
    assert (tmp_path / "backprop" / "computation_graph.png").exists()
    assert saved["verdict"]["supported"]


def test_backprop_verdict_can_fail():
    verdict = base.get("backprop").verdict
    cfg = base.get("backprop").config(quick=True)
    bad = {"graph_max_rel_error": 0.0, "mlp_hand_vs_autograd": 0.3,
           "mlp_autograd_vs_finite_diff": 1e-9}
    assert not verdict(bad, cfg).supported


def test_optimizers_2d(tmp_path):
    results, saved = _run("optimizers-2d", tmp_path)
    assert results["quadratic_momentum_final_loss"] < results["quadratic_GD_final_loss"]
    assert results["saddle_Adam_final_loss"] < -0.2  # reached a minimum (−0.25)
    assert results["saddle_GD_final_loss"] > -0.01   # still at the saddle
    assert saved["verdict"]["supported"]


def test_learning_rate(tmp_path):
    results, saved = _run("learning-rate", tmp_path)
    assert results["data_is_subset"]
    assert results["right_eval_loss"] < results["small_eval_loss"]
    assert results["right_eval_loss"] < results["large_eval_loss"]
    assert results["divergent_diverged"] and not results["right_diverged"]
    assert results["right_eval_accuracy"] > 0.7
    assert saved["verdict"]["supported"]


def test_logistic_regression(tmp_path):
    results, saved = _run("logistic-regression", tmp_path)
    assert results["ce_min_hessian_eigenvalue"] >= 0
    assert results["ce_fraction_lines_nonconvex"] == 0
    assert results["se_min_hessian_eigenvalue"] < 0
    assert results["se_fraction_lines_nonconvex"] > 0
    assert results["gradient_max_rel_error"] < 1e-10
    assert abs(results["se_dL_dz_confidently_wrong"]) < 1e-4 < \
        abs(results["ce_dL_dz_confidently_wrong"])
    assert results["ce_final_accuracy"] > results["se_final_accuracy"]
    assert saved["verdict"]["supported"]


def test_conv_arithmetic(tmp_path):
    results, saved = _run("conv-arithmetic", tmp_path, models=["lenet5"])
    assert results["lenet_c5_receptive_field"] == 32
    assert results["two_3x3_over_5x5_params"] == pytest.approx(18 / 25)
    assert results["three_3x3_over_7x7_params"] == pytest.approx(27 / 49)
    assert results["factorized_receptive_fields_equal"]
    # GoogLeNet's inception 3a: 303M multiply-adds naive, 128M with the 1x1 reductions.
    assert results["inception_naive_macs"] == 303_464_448
    assert results["inception_reduced_macs"] == 128_049_152
    assert results["bottleneck_over_basic64_params"] == pytest.approx(69632 / 73728)
    assert saved["verdict"]["supported"]
    assert results["receptive_fields_measured_match"] is True
    assert results["models_tabulated"] == 1
    assert results["lenet5_params"] == 61706
    assert results["lenet5_macs"] == 416520
    assert results["lenet_summary_matches_formulas"] is True
