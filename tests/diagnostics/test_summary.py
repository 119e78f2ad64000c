"""The model summary: shapes, parameters, MACs, receptive fields, errors, and the CLI."""

from __future__ import annotations

import pytest

import neuralab as nl
import neuralab.nn as nn
from neuralab.cli import main
from neuralab.diagnostics.summary import ReceptiveField, summary
from neuralab.models import create
from neuralab.models.lenet import LeNet5


def test_lenet5_summary_shapes_params_macs():
    s = summary(create("lenet5"), (1, 28, 28))
    rows = {r.name: r for r in s.rows}
    assert s.total_params == s.trainable_params == 61_706
    assert rows["features.0"].output_shape == (6, 28, 28)
    assert rows["features.2"].output_shape == (6, 14, 14)
    assert rows["features.5"].output_shape == (16, 5, 5)
    assert rows["classifier.5"].output_shape == (10,)
    # MACs: conv1 6·28·28·25, conv2 16·10·10·150, fc 400·120 + 120·84 + 84·10
    assert rows["features.0"].macs == 117_600
    assert rows["features.3"].macs == 240_000
    assert s.total_macs == 117_600 + 240_000 + 48_000 + 10_080 + 840
    assert rows["features.0"].activation_bytes == 6 * 28 * 28 * 4
    assert s.param_bytes == 61_706 * 4
    assert s.output_shape == (10,)


def test_receptive_fields_follow_the_lecture_arithmetic():
    s = summary(create("lenet5"), (1, 28, 28))
    rf = {r.name: r.receptive_field for r in s.rows}
    # conv5 p2: r 5, j 1, start 0 + (2 − 2)·1 = 0; pool2: r 6, j 2, start 0.5;
    # conv5: r 6 + 4·2 = 14, start 0.5 + 2·2 = 4.5; pool2: r 16, j 4, start 5.5.
    assert (rf["features.0"].size, rf["features.0"].jump, rf["features.0"].start) == \
        ((5, 5), (1, 1), (0.0, 0.0))
    assert (rf["features.2"].size, rf["features.2"].jump, rf["features.2"].start) == \
        ((6, 6), (2, 2), (0.5, 0.5))
    assert (rf["features.3"].size, rf["features.3"].start) == ((14, 14), (4.5, 4.5))
    assert (rf["features.5"].size, rf["features.5"].jump) == ((16, 16), (4, 4))
    assert rf["classifier.0"].is_global


def test_receptive_field_with_dilation_and_stride():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2, padding=1),
                          nn.Conv2d(2, 2, 3, dilation=2, padding=2))
    s = summary(model, (1, 16, 16))
    first, second = (r.receptive_field for r in s.rows)
    assert (first.size, first.jump, first.start) == ((3, 3), (2, 2), (0.0, 0.0))
    # r = 3 + (3 − 1)·2·2 = 11; start = 0 + ((3 − 1)/2·2 − 2)·2 = 0
    assert (second.size, second.jump, second.start) == ((11, 11), (2, 2), (0.0, 0.0))
    assert s.rows[1].output_shape == (2, 8, 8)
    assert ReceptiveField((1, 1), (1, 1), (0.0, 0.0)).after((5, 3), (1, 1), (2, 1), (1, 1)) \
        .size == (5, 3)


def test_summary_restores_training_mode_and_removes_hooks():
    model = create("lenet5")
    model.train()
    summary(model, (1, 28, 28))
    assert all(m.training for m in model.modules())
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_mismatch_names_the_layer_and_the_fix():
    model = LeNet5(padding=0, image_size=32)
    msg = (r"Linear\(400 -> 120\) receives 256 features: the layers before it output 16x4x4; "
           r"for 28x28 inputs use padding=2 in the first conv")
    with pytest.raises(ValueError, match=msg):
        summary(model, (1, 28, 28))
    with pytest.raises(ValueError, match=r"layer 'features.0' \(Conv2d\).*feed it CIFAR"):
        summary(create("lenet5"), (3, 32, 32))


def test_str_is_a_table_with_totals():
    text = str(nl.summary(create("lenet5"), (1, 28, 28)))
    assert "features.3" in text and "Conv2d" in text and "16x10x10" in text
    assert "Total parameters:     61,706" in text
    assert "Multiply-accumulates: 416,520" in text


def test_cli_summary(capsys):
    assert main(["summary", "lenet5", "--input", "1x28x28"]) == 0
    out = capsys.readouterr().out
    assert "61,706" in out and "MaxPool2d" in out and "6x14x14" in out
    assert main(["summary", "lenet5", "--input", "3x32x32"]) == 1
    assert "feed it CIFAR" in capsys.readouterr().err
    assert main(["summary", "lenet5", "--option", "classic=True"]) == 0
    assert "AvgPool2d" in capsys.readouterr().out
