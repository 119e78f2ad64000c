"""The architecture experiments of Lecture 12 and the GoogLeNet, VGG and ResNet sessions in quick
mode, end to end in a temporary directory, checking the outcomes the papers predict; plus unit
checks of their pieces (warm start, synthetic Caltech folder, model scaling, verdicts)."""

from __future__ import annotations

import numpy as np
import pytest

from neuralab import experiments as base
from neuralab.experiments import run_experiment
from tests.experiments._helpers import run_quick

_run = run_quick


# ------------------------------------------------------------------ architectures-cifar (L12)
def test_architectures_cifar(tmp_path, shared_data):
    from neuralab.diagnostics.summary import summary
    from neuralab.experiments.architectures_cifar import ARCHITECTURES, build

    out, r, saved = _run("architectures-cifar", tmp_path, data_root=str(shared_data))
    assert (out / "error_vs_cost.png").exists()
    table = saved["tables"][0]
    assert len(table["rows"]) == len(ARCHITECTURES)
    assert all(cell is not None for row in table["rows"] for cell in row)
    cfg = base.get("architectures-cifar").config(quick=True)
    for name in ARCHITECTURES:
        result = r[name]
        assert result["test_err1"] < 0.9, name  # better than chance (90% top-1 error)
        assert result["test_err5"] < result["test_err1"], name
        # Parameters and MACs in the table are the summary's, and the summary counts every
        # parameter of the trained model.
        model = build(name, cfg)
        info = summary(model, (3, cfg["image_size"], cfg["image_size"]))
        assert result["params"] == info.total_params == result["counted_params"], name
        assert result["macs"] == info.total_macs > 0, name
    # LeNet's MACs by hand at 16x16 (padding 2): conv1 6x3x25 per output over 16x16 outputs,
    # conv2 16x6x25 over 4x4, then 64x120, 120x84 and 84x10.
    assert r["lenet"]["macs"] == 6 * 3 * 25 * 256 + 16 * 6 * 25 * 16 + 64 * 120 + 120 * 84 + 840
    assert r["resnet20"]["params"] == 269_722  # He et al.'s 0.27M
    assert r["googlenet"]["params"] < r["alexnet"]["params"]  # 1x1 reductions + global pooling
    # The lecture's outcome that shows at this scale: the residual network beats LeNet.
    assert r["resnet20"]["test_err1"] < r["lenet"]["test_err1"]
    # The verdict is SUPPORTED exactly when every comparison of the claim holds at this scale
    # (2 epochs on 2,000 images: AlexNet does not beat LeNet, and at width 0.25 ResNet-20 has
    # more parameters than the small AlexNet, so the quick verdict says so).
    later = [n for n in ARCHITECTURES if n != "lenet"]
    holds = all(r[n]["test_err1"] < r["lenet"]["test_err1"] for n in later) and all(
        r[small]["params"] < r[big]["params"] for small in ("googlenet", "resnet20")
        for big in ("alexnet", "vgg"))
    assert saved["verdict"]["supported"] == holds
    assert saved["verdict"]["status"] == ("supported" if holds else "contradicted")


# ------------------------------------------------------------------ googlenet-aux (GoogLeNet)
def test_googlenet_aux(tmp_path, shared_data):
    out, r, saved = _run("googlenet-aux", tmp_path, data_root=str(shared_data))
    assert (out / "learning_curves.png").exists()
    for key in ("aux", "no_aux"):
        assert np.isfinite(r[key]["final_main_loss"])
        assert r[key]["final_main_loss"] < r[key]["first_loss"] - 0.3, key  # both trained
        assert r[key]["test_err1"] < 0.85, key
        assert len(r[key]["curve"]) >= 1
    assert r["aux"]["params"] > r["no_aux"]["params"]  # the heads (training only)
    # Reported, not asserted: whether the heads raise the lowest layers' gradient norm varies
    # (0.95x-1.06x in quick runs), as later work (Inception v3) found.
    assert np.isfinite(r["grad_ratio"]) and r["grad_ratio"] > 0
    tolerance = base.get("googlenet-aux").config(quick=True)["tolerance"]
    assert [tuple(p) for p in r["seed_pairs"]] == [(r["no_aux"]["test_err1"],
                                                  r["aux"]["test_err1"])]  # one seed
    seeds = r["seed_summary"]
    assert saved["verdict"]["status"] == _status(seeds["mean_b"] - seeds["mean_a"] - tolerance,
                                                 seeds["noise"])


def _status(gap: float, noise: float) -> str:
    """The verdict of "left <= right" from the gap left - right and the noise it must clear."""
    return ("not shown at this scale" if abs(gap) < noise else
            "supported" if gap <= 0 else "contradicted")


def test_googlenet_aux_outputs_and_loss():
    from neuralab.autograd import Tensor
    from neuralab.models import create
    from neuralab.models.googlenet import googlenet_loss
    from neuralab.nn.functional import cross_entropy

    model = create("googlenet_small", width=0.0625, aux_logits=True)
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3, 16, 16)).astype(np.float32))
    y = Tensor(np.array([1, 3]))
    out = model(x)
    assert isinstance(out, tuple) and [o.shape for o in out] == [(2, 10)] * 3
    expected = (cross_entropy(out[0], y).item()
                + 0.3 * (cross_entropy(out[1], y).item() + cross_entropy(out[2], y).item()))
    assert googlenet_loss(out, y).item() == pytest.approx(expected, rel=1e-5)
    model.eval()
    assert model(x).shape == (2, 10)


# ------------------------------------------------------------------ vgg-deepening (VGG)
def test_vgg_deepening(tmp_path, shared_data):
    out, r, saved = _run("vgg-deepening", tmp_path, data_root=str(shared_data))
    assert (out / "training_curves.png").exists()
    # The warm-started VGG-16 reaches a lower training loss than the randomly initialised one
    # after the same steps on the same mini-batches.
    assert r["warm"]["train_loss"] < r["random"]["train_loss"]
    assert r["warm"]["steps"] == r["random"]["steps"]
    assert r["shallow"]["train_loss"] < r["shallow"]["first_loss"] - 0.3  # config A trained
    assert len(r["copied_layers"]) == 8 + 3  # VGG-11's eight convs and three FC layers
    for key in ("fixed", "jitter"):
        assert 0 <= r[key]["test_err1"] < 0.9
        # Tested at the paper's sizes: S_min, the fixed S (the range's middle) and S_max.
        assert sorted(r[key]["per_scale_err1"], key=int) == ["12", "14", "16"]
    assert [tuple(p) for p in r["jitter_pairs"]] == [(r["fixed"]["test_err1"],
                                                    r["jitter"]["test_err1"])]
    seeds = r["jitter_summary"]
    assert saved["verdict"]["status"] == _status(seeds["mean_b"] - seeds["mean_a"],
                                                 seeds["noise"])


def test_vgg_deepening_refuses_a_jitter_range_that_cannot_hold_the_crop(tmp_path):
    # Refused before any data is read or any net trained (no data set needed here).
    for bad in ({"s_min": 8}, {"s_fixed": 20}, {"s_fixed": 11, "s_min": 11}):
        with pytest.raises(ValueError, match="part 2 needs crop <= s_min <= s_fixed <= s_max"):
            run_experiment("vgg-deepening", quick=True, out_dir=tmp_path / "run",
                           overrides=bad, progress=False)
    assert not (tmp_path / "run" / "results.json").exists()


# ------------------------------------------------------------------ resnet-degradation (ResNet)
def test_resnet_degradation(tmp_path, shared_data):
    out, r, saved = _run("resnet-degradation", tmp_path, data_root=str(shared_data))
    assert (out / "training_curves.png").exists()
    shallow, deep = r["depths"]
    assert (shallow, deep) == (8, 32)
    # Degradation: the deeper plain net ends with a clearly higher training loss...
    assert r[f"plain{deep}"]["train_loss"] > r[f"plain{shallow}"]["train_loss"] + 0.1
    # ...while the deeper residual net is not much worse than the shallower one, and closer to
    # it than the plain pair.
    assert r[f"resnet{deep}"]["train_loss"] < r[f"resnet{shallow}"]["train_loss"] + 0.2
    assert r["resnet_gap"] < 0.5 * r["plain_gap"]
    # Same layers, so the same parameters: option A shortcuts add none.
    assert r[f"plain{deep}"]["params"] == r[f"resnet{deep}"]["params"]
    assert saved["verdict"]["supported"]
    # Figure 7: one response std per 3x3 layer (N - 1 of them: all but the classifier).
    assert (out / "layer_responses.png").exists()
    for n in (shallow, deep):
        for kind in ("plain", "resnet"):
            stds = r["response_stds"][f"{kind}{n}"]
            assert len(stds) == n - 1 and all(v > 0 for v in stds)
    assert sorted(int(n) for n in r["residual_smaller_layers"]) == [shallow, deep]


# ------------------------------------------------------------------ caltech101 (L12)
def test_caltech101_quick_on_synthetic_folder(tmp_path):
    out, r, saved = _run("caltech101", tmp_path)
    assert (out / "examples.png").exists()
    assert r["synthetic"] and r["classes"] == 6
    assert r["train_images"] == 6 * 25 and r["test_images"] == 6 * 15
    assert r["final_train_loss"] < r["first_loss"] - 0.5
    assert r["test_err1"] < 0.5 < r["chance_err1"]  # far better than chance (83% error)
    assert r["test_err5"] <= r["test_err1"]
    assert saved["verdict"]["supported"]


def test_caltech101_full_mode_without_data_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURALAB_DATA", str(tmp_path / "nothing"))
    monkeypatch.setenv("NEURALAB_CACHE", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError, match="101_ObjectCategories") as info:
        run_experiment("caltech101", quick=False, out_dir=tmp_path / "run", progress=False)
    assert "data_root=" in str(info.value) and "data.caltech.edu" in str(info.value)
    with pytest.raises(FileNotFoundError, match="missing"):
        run_experiment("caltech101", quick=False, out_dir=tmp_path / "run2", progress=False,
                       overrides={"data_root": str(tmp_path / "missing")})
