"""Lecture 11's layer arithmetic by hand, checked against the hook-based summary and against the
receptive field measured by backpropagation."""

from __future__ import annotations

import pytest

import neuralab.nn as nn
from neuralab.backend import manual_seed
from neuralab.diagnostics.arithmetic import conv_arithmetic, gradient_receptive_field
from neuralab.diagnostics.summary import summary

LENET = [("C1", 5, 1, 0, 6), ("S2", 2, 2, 0, None), ("C3", 5, 1, 0, 16), ("S4", 2, 2, 0, None),
         ("C5", 5, 1, 0, 120)]


def test_lenet_by_hand():
    rows = conv_arithmetic(LENET, 32, 1)
    assert [r["output"] for r in rows] == [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5),
                                           (120, 1, 1)]
    assert [r["receptive_field"] for r in rows] == [5, 6, 14, 16, 32]  # C5 sees all 32x32
    assert [r["jump"] for r in rows] == [1, 2, 2, 4, 4]
    assert rows[0]["params"] == (25 + 1) * 6 and rows[0]["macs"] == 25 * 6 * 28 * 28
    assert rows[2]["params"] == (25 * 6 + 1) * 16 and rows[1]["params"] == rows[1]["macs"] == 0


@pytest.mark.parametrize("padding", [0, 1])
def test_conv_arithmetic_agrees_with_summary(padding):
    layers = [("a", 3, 2, padding, 4), ("b", 3, 1, padding, 8), ("c", 2, 2, 0, None)]
    model = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=padding),
                          nn.Conv2d(4, 8, 3, padding=padding), nn.MaxPool2d(2))
    by_hand = conv_arithmetic(layers, 17, 3)
    hooked = summary(model, (3, 17, 17)).rows
    for row, hook in zip(by_hand, hooked):
        assert row["output"] == hook.output_shape
        assert (row["receptive_field"],) * 2 == hook.receptive_field.size
        assert (row["jump"],) * 2 == hook.receptive_field.jump
        assert row["params"] == hook.params
        if row["params"]:  # MaxPool2d's comparisons are not counted as multiply-adds
            assert row["macs"] == hook.macs


def test_conv_arithmetic_rejects_a_too_small_input():
    with pytest.raises(ValueError, match="'C5'.*too small"):
        conv_arithmetic(LENET, 16, 1)


@pytest.mark.parametrize("depth, k, field", [(1, 3, 3), (2, 3, 5), (3, 3, 7), (1, 7, 7)])
def test_gradient_receptive_field_of_stacked_convolutions(depth, k, field):
    net = nn.Sequential(*[nn.Conv2d(1, 1, k, padding=k // 2, bias=False) for _ in range(depth)])
    for conv in net:
        conv.weight.array[...] = 1.0
    assert gradient_receptive_field(net, (1, 21, 21)) == (field, field)


def test_gradient_receptive_field_matches_summary_with_stride_and_channels():
    manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 3, 3, stride=2, padding=1), nn.ReLU(),
                        nn.Conv2d(3, 2, (3, 5), padding=(1, 2)))
    for conv in (net[0], net[2]):
        conv.weight.array[...] = 0.1
        conv.bias.array[...] = 1.0  # every ReLU unit active: no gradient is cut at zero
    field = summary(net, (2, 31, 31)).rows[-1].receptive_field.size
    assert gradient_receptive_field(net, (2, 31, 31)) == field == (7, 11)


def test_gradient_receptive_field_wants_feature_maps():
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        gradient_receptive_field(nn.Conv2d(1, 1, 3), (1, 9))
    with pytest.raises(ValueError, match="feature maps"):
        gradient_receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Flatten()), (1, 9, 9))
