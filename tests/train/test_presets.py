"""Presets are plain data that ``neuralab train`` takes whole: every key is a setting it knows."""

import pytest

from neuralab.train import command, presets


@pytest.mark.parametrize("name", presets.list_presets())
def test_every_preset_key_is_a_train_setting(name):
    preset = presets.get_preset(name)
    assert set(preset) <= set(command.DEFAULTS), set(preset) - set(command.DEFAULTS)
    assert preset["scheduler"] in command.SCHEDULERS
    assert preset["optimizer"] in command.OPTIMIZERS


def test_unknown_preset_names_the_choices():
    with pytest.raises(command.UsageError, match="resnet20-cifar10"):
        command._load_preset("resnet56")
