"""``neuralab gradcheck MODEL``: a finite-difference check of every layer of a model."""

from __future__ import annotations

import pytest

import neuralab.nn as nn
from neuralab.autograd import Function
from neuralab.cli import main
from neuralab.diagnostics.gradcheck_model import gradcheck_model


class _WrongDouble(Function):
    """y = 2x with a deliberately wrong backward (3 instead of 2)."""

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, dout):
        return 3 * dout


class _Broken(nn.Module):
    def forward(self, x):
        return _WrongDouble.apply(x)


def test_registry_model_passes(capsys):
    assert main(["gradcheck", "mlp", "--samples", "3"]) == 0
    out = capsys.readouterr().out
    assert "layers.1" in out and "weight" in out and "input" in out and "0 failed" in out


def test_a_wrong_backward_is_caught_in_its_layer():
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), _Broken(), nn.Linear(3, 2))
    report = gradcheck_model(model, input_shape=(4,), samples=4)
    assert not report.passed
    failing = {(r.layer, r.tensor) for r in report.rows if not r.passed}
    assert ("2", "input") in failing          # the broken layer itself
    assert ("0", "weight") in failing         # and everything before it in the model
    assert all(r.passed for r in report.rows if r.layer in ("1", "3") and r.tensor == "input")
    assert "NO" in str(report)


def test_unknown_model_and_missing_shape_are_explained(capsys):
    assert main(["gradcheck", "no-such-model"]) == 2
    assert "unknown model" in capsys.readouterr().err
    with pytest.raises(ValueError, match="no input_shape"):
        gradcheck_model(nn.Linear(2, 2))


def test_lenet5_conv_pool_layers_pass():
    report = gradcheck_model("lenet5", samples=3)
    kinds = {r.kind for r in report.rows}
    assert {"Conv2d", "MaxPool2d", "Linear"} <= kinds
    assert report.passed, str(report)
