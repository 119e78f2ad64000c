"""Honest verdicts: each experiment's verdict is SUPPORTED for numbers in the claim's order, and
never SUPPORTED when the numbers it compares are swapped (the claim contradicted)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from neuralab import experiments as base
from neuralab.lab import Comparison, Verdict, error_rate_noise, judge, paired_rows, paired_seeds

# For every experiment: results in the order its claim predicts, and the swaps that put the
# compared numbers in the wrong order (each a dict of replaced keys).
CASES = {
    "xor": ({"perceptron_accuracy": 0.5, "logistic_accuracy": 0.5,
             "best_random_linear_accuracy": 0.75, "mlp_accuracy": 1.0},
            [{"mlp_accuracy": 0.5}]),
    "backprop": ({"graph_max_rel_error": 1e-15, "mlp_hand_vs_autograd": 1e-15,
                  "mlp_autograd_vs_finite_diff": 1e-8},
                 [{"mlp_hand_vs_autograd": 0.3}, {"mlp_autograd_vs_finite_diff": 0.1}]),
    "learning-rate": ({"small_eval_loss": 2.0, "right_eval_loss": 0.4, "large_eval_loss": 2.3,
                       "small_lr": 0.003, "right_lr": 0.1, "large_lr": 1.0, "divergent_lr": 10.0,
                       "divergent_diverged": True, "divergent_max_loss": 4e4,
                       "small_diverged": False, "right_diverged": False,
                       "large_diverged": False},
                      [{"right_eval_loss": 2.1}, {"right_eval_loss": 2.4, "large_eval_loss": 0.4}]),
    "logistic-regression": ({"ce_min_hessian_eigenvalue": 2e-4, "ce_fraction_lines_nonconvex": 0,
                             "se_fraction_grid_nonconvex": 0.97, "gradient_max_rel_error": 4e-16,
                             "ce_dL_dz_confidently_wrong": -1.0,
                             "se_dL_dz_confidently_wrong": 4.5e-5,
                             "ce_final_accuracy": 0.81, "se_final_accuracy": 0.19},
                            [{"ce_final_accuracy": 0.19, "se_final_accuracy": 0.81},
                             {"ce_dL_dz_confidently_wrong": 4.5e-5,
                              "se_dL_dz_confidently_wrong": -1.0}]),
    "optimizers-2d": ({"quadratic_GD_final_loss": 5e-2, "quadratic_momentum_final_loss": 1e-3,
                       "saddle_Adam_final_loss": -0.25, "saddle_GD_final_loss": 0.0},
                      [{"quadratic_GD_final_loss": 1e-3, "quadratic_momentum_final_loss": 5e-2},
                       {"saddle_Adam_final_loss": 0.0, "saddle_GD_final_loss": -0.25}]),
    "optimizers-mnist": ({"steps": 200, **{f"{n}_{k}": v for n, f in
                                          (("SGD", 0.26), ("momentum", 0.09), ("Nesterov", 0.08),
                                           ("AdaGrad", 0.19), ("RMSprop", 0.17), ("Adam", 0.18))
                                          for k, v in (("final_loss", f), ("initial_loss", 2.3),
                                                       ("diverged", False))}},
                         [{"SGD_final_loss": 0.09, "momentum_final_loss": 0.26},
                          {"SGD_final_loss": 0.18, "Adam_final_loss": 0.26}]),
    "generalization": ({"bayes_error": 0.10, "test_standard_error": 0.005,
                        "min_synthetic_test_error": 0.105,
                        "capacity_train_error": [0.2, 0.1, 0.0],
                        "capacity_test_error": [0.2, 0.15, 0.18],
                        "ensemble_test_error": 0.10, "mean_member_test_error": 0.12,
                        "ensemble_test_loss": 0.3, "mean_member_test_loss": 0.35},
                       [{"ensemble_test_error": 0.12, "mean_member_test_error": 0.10},
                        {"capacity_train_error": [0.0, 0.1, 0.2]},
                        {"min_synthetic_test_error": 0.05}]),
    "conv-arithmetic": ({"two_3x3_over_5x5_params": 18 / 25, "three_3x3_over_7x7_params": 27 / 49,
                         "factorized_receptive_fields_equal": True,
                         "receptive_fields_measured_match": True, "inception_saving": 3.5,
                         "bottleneck_over_basic64_params": 0.94, "models_tabulated": 3,
                         "models_params_match_published": True,
                         "lenet_summary_matches_formulas": True},
                        [{"two_3x3_over_5x5_params": 25 / 18},
                         {"inception_saving": 1 / 3.5}]),
    "architectures-cifar": ({"architectures": ["lenet", "alexnet", "vgg", "googlenet",
                                               "resnet20"],
                             "lenet": {"test_err1": 0.70, "params": 62_006},
                             "alexnet": {"test_err1": 0.60, "params": 2_000_000},
                             "vgg": {"test_err1": 0.50, "params": 9_000_000},
                             "googlenet": {"test_err1": 0.45, "params": 300_000},
                             "resnet20": {"test_err1": 0.40, "params": 269_722}},
                            [{"alexnet": {"test_err1": 0.797, "params": 2_000_000},
                              "lenet": {"test_err1": 0.782, "params": 62_006}},
                             {"googlenet": {"test_err1": 0.45, "params": 20_000_000}}]),
    "caltech101": ({"classes": 101, "synthetic": False, "train_images": 3030,
                    "test_images": 2500, "test_err1": 0.70, "test_err5": 0.50},
                   []),
    "lenet-mnist": ({"lenet_test_accuracy": 0.99, "mlp_test_accuracy": 0.98,
                     "lenet_params": 61_706, "mlp_params": 203_530},
                    [{"lenet_test_accuracy": 0.98, "mlp_test_accuracy": 0.99}]),
    "char-rnn": ({"final_val_bpc": 2.5, "unigram_val_bpc": 4.8, "sample_in_vocabulary": True,
                  "sample_length": None, "temperature": 0.8},
                 [{"final_val_bpc": 4.8, "unigram_val_bpc": 2.5}]),
    "deep-mlp-gradients": ({"sigmoid_small_ratio_init": 1e-12, "relu_he_ratio_init": 1.0,
                            "relu_he_test_accuracy": 0.9, "sigmoid_small_test_accuracy": 0.11},
                           [{"relu_he_test_accuracy": 0.11,
                             "sigmoid_small_test_accuracy": 0.9}]),
    "exploding-gradients": ({"unclipped_max_norm": 1e6, "clipped_max_applied_norm": 1.0,
                             "unclipped_max_loss": 50.0, "initial_loss": 0.5,
                             "clipped_final_losses": [0.1, 0.1, 0.1],
                             "unclipped_final_losses": [0.3, 0.3, 0.3], "clipped_wins": 3},
                            [{"unclipped_max_norm": 1.0, "clipped_max_applied_norm": 1e6},
                             {"clipped_wins": 0}]),
    "rnn-vs-lstm": ({"lengths": [50], "rnn_T50_final_mse": 0.17, "lstm_T50_final_mse": 0.001},
                    [{"rnn_T50_final_mse": 0.001, "lstm_T50_final_mse": 0.17}]),
    "googlenet-aux": ({"aux": {"first_loss": 2.3, "final_main_loss": 1.5},
                       "no_aux": {"first_loss": 2.3, "final_main_loss": 1.5},
                       "grad_ratio": 1.1, "seed_pairs": [(0.52, 0.50)] * 3,  # (without, with)
                       "seed_summary": paired_seeds([(0.52, 0.50)] * 3, 10000)},
                      [{"seed_summary": paired_seeds([(0.50, 0.60)] * 3, 10000)},
                       {"aux": {"first_loss": 2.3, "final_main_loss": 2.3}}]),
    "vgg-deepening": ({"warm": {"train_loss": 1.2, "steps": 100},
                       "random": {"train_loss": 1.8}, "test_images": 10000,
                       "jitter_pairs": [(0.45, 0.40)] * 2,  # (fixed, jittered) per seed
                       "jitter_summary": paired_seeds([(0.45, 0.40)] * 2, 10000)},
                      [{"warm": {"train_loss": 1.8, "steps": 100},
                        "random": {"train_loss": 1.2}},
                       {"jitter_summary": paired_seeds([(0.40, 0.45)] * 2, 10000)}]),
    "resnet-degradation": ({"depths": [8, 32], "plain8": {"train_loss": 1.50, "steps": 80},
                            "plain32": {"train_loss": 1.80}, "resnet8": {"train_loss": 1.50},
                            "resnet32": {"train_loss": 1.45}},
                           [{"plain8": {"train_loss": 1.80, "steps": 80},
                             "plain32": {"train_loss": 1.50}},
                            {"resnet8": {"train_loss": 1.45}, "resnet32": {"train_loss": 1.90}}]),
}


def test_every_experiment_has_a_verdict_case():
    assert set(CASES) == set(base.experiments())


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("quick", [False, True])
def test_verdict_follows_the_compared_numbers(name, quick):
    experiment = base.get(name)
    cfg = experiment.config(quick=quick)
    good, swaps = CASES[name]
    good = dict(good)
    if name == "char-rnn":
        good["sample_length"] = cfg["sample_length"]
    if name == "caltech101":  # its claim compares with chance: 10x chance in full mode
        good.update(test_err1=1 - 2 * cfg["min_times_chance"] / 101)
    verdict = experiment.verdict(good, cfg)
    assert verdict.supported and verdict.status == "supported", verdict.reason
    for swap in swaps:
        bad = experiment.verdict({**good, **swap}, cfg)
        assert not bad.supported, (swap, bad.reason)
        assert bad.status in ("contradicted", "not shown at this scale"), (swap, bad.reason)
        assert "FAILS" in bad.reason


def test_caltech_verdict_below_chance_is_not_shown():
    experiment = base.get("caltech101")
    cfg = experiment.config()
    results = dict(CASES["caltech101"][0], test_err1=1 - 2 / 101, test_err5=1 - 5 / 101)
    verdict = experiment.verdict(results, cfg)
    assert not verdict.supported and verdict.status == "not shown at this scale"
    assert "top-1 accuracy 2.0%" in verdict.reason


def test_judge():
    holds = Comparison("a", 1.0, "<", "b", 2.0)
    order = Comparison("c", 3.0, "<", "d", 2.0)
    bound = Comparison("e", 0.5, ">", "target", 0.9, bound=True, fmt=".0%")
    assert judge([holds]).status == "supported"
    assert judge([holds, bound]).status == "not shown at this scale"
    assert judge([holds, bound, order]).status == "contradicted"
    assert judge([holds], untested="part two").status == "not shown at this scale"
    assert str(bound) == "e 50% > target 90% (FAILS)"
    assert not Comparison("nan", float("nan"), "<", "x", 1.0).holds
    with pytest.raises(ValueError, match="op must be"):
        Comparison("a", 1, "<>", "b", 2)
    with pytest.raises(ValueError, match="contradicts status"):
        Verdict(True, "", "contradicted")
    assert Verdict.from_dict({"supported": False, "reason": "old run"}).status == "contradicted"


def test_comparisons_within_their_noise_show_nothing():
    """Two measurements closer than the noise the run resolves neither support nor contradict
    a claim, whichever way they fall; farther apart they do."""
    noise = error_rate_noise(0.658, 0.658, 500)
    assert noise == pytest.approx((2 * 0.658 * 0.342 / 500) ** 0.5)
    tie = Comparison("jitter", 0.658, "<=", "fixed", 0.658, fmt=".1%", noise=noise)
    worse = Comparison("jitter", 0.664, "<=", "fixed", 0.642, fmt=".1%", noise=noise)
    assert tie.holds and not tie.resolved and not worse.holds and not worse.resolved
    for within in (tie, worse):
        verdict = judge([within])
        assert not verdict.supported and verdict.status == "not shown at this scale"
        assert "within the noise ±3.0%" in verdict.reason
    better = Comparison("jitter", 0.60, "<=", "fixed", 0.66, fmt=".1%", noise=noise)
    assert judge([better]).status == "supported"
    assert judge([Comparison("jitter", 0.66, "<=", "fixed", 0.60, noise=noise)]).status == \
        "contradicted"
    assert Comparison("a", 1.0, "<", "b", 1.0 + 1e-12).resolved  # no noise level: always
    with pytest.raises(ValueError, match="n must be at least 1"):
        error_rate_noise(0.5, 0.5, 0)


def test_paired_seeds_noise_is_the_larger_of_the_test_set_and_the_seed_spread():
    # Differences b − a of -1, +1 and 0 points: mean 0, s = 1 point, standard error 1/√3.
    pairs = [(0.30, 0.29), (0.30, 0.31), (0.30, 0.30)]
    many = paired_seeds(pairs, 10**9)  # a test set so large that the seeds' spread decides
    assert many["mean_a"] == pytest.approx(0.30) and many["mean_b"] == pytest.approx(0.30)
    assert many["difference"] == pytest.approx(0.0, abs=1e-12)
    assert many["standard_error"] == pytest.approx(0.01 / 3 ** 0.5)
    assert many["noise"] == pytest.approx(2 * 0.01 / 3 ** 0.5)
    few = paired_seeds(pairs, 500)  # here the test set's sampling decides
    assert few["noise"] == pytest.approx(error_rate_noise(0.30, 0.30, 500))
    one = paired_seeds(pairs[:1], 10**9)
    assert one["standard_error"] == 0.0 and one["difference"] == pytest.approx(-0.01)
    with pytest.raises(ValueError, match="at least one seed"):
        paired_seeds([], 500)


def test_paired_rows_table_each_seed_then_the_means():
    pairs = [(0.30, 0.29), (0.30, 0.31), (0.30, 0.30)]
    rows, spread = paired_rows([0, 1000, 2000], pairs, paired_seeds(pairs, 10000))
    assert [r[0] for r in rows] == [0, 1000, 2000, "mean"]
    np.testing.assert_allclose([r[1:] for r in rows],
                               [[30, 29, -1], [30, 31, 1], [30, 30, 0], [30, 30, 0]], atol=1e-9)
    assert spread == "Standard error of the mean difference across seeds: 0.58 points."
    _, one = paired_rows([0], pairs[:1], paired_seeds(pairs[:1], 10000))
    assert one.endswith("none from one seed.")


@pytest.mark.parametrize("module", base.MODULES)
def test_every_registered_experiment_imports_and_sets_up_its_quick_configuration(module):
    """Imported directly (an import error fails here, never skips), declared completely, and its
    quick configuration fills the report's setup paragraph."""
    experiment = importlib.import_module(f"neuralab.experiments.{module}").EXPERIMENT
    assert base.get(experiment.name) is experiment
    cfg = experiment.config(quick=True)
    assert set(experiment.quick) <= set(experiment.defaults)
    assert experiment.setup.format(**cfg)
    assert experiment.verdict.__doc__, f"{module}: the verdict must say what it compares"
