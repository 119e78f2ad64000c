"""ReduceLROnPlateau.step(metrics, epoch): PyTorch's deprecated ``epoch`` argument (it warns and
sets ``last_epoch``), compared step by step with PyTorch's scheduler."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuralab.optim import lr_scheduler
from tests.optim.test_lr_scheduler import pair


def test_plateau_epoch_argument_matches_torch():
    kwargs = dict(mode="min", factor=0.4, patience=2, threshold=1e-2, cooldown=2,
                  min_lr=[1e-3, 2e-3])
    opt, topt = pair("SGD", momentum=0.9)
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    rng = np.random.default_rng(0)
    metric = np.concatenate([np.linspace(1.0, 0.5, 6), 0.5 + 0.01 * rng.standard_normal(24)])
    epochs = [None, 5, None, 11, 3, None] * 5  # explicit epochs jump (also backwards)
    for step, (value, epoch) in enumerate(zip(metric, epochs)):
        if epoch is None:
            sched.step(value)
            tsched.step(value)
        else:
            with pytest.warns(UserWarning, match="deprecated"):
                sched.step(value, epoch)
            with pytest.warns(UserWarning):
                tsched.step(value, epoch)
        assert sched.last_epoch == tsched.last_epoch, f"step {step}"
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12,
                                   err_msg=f"step {step}")
        assert (sched.num_bad_epochs, sched.cooldown_counter) == (tsched.num_bad_epochs,
                                                                  tsched.cooldown_counter)
    assert sched.get_last_lr()[0] < 0.1  # reductions happened


def test_plateau_epoch_keyword():
    opt, _ = pair("SGD", momentum=0.9)
    sched = lr_scheduler.ReduceLROnPlateau(opt)
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(metrics=1.0, epoch=7)
    assert sched.last_epoch == 7
    sched.step(0.5)
    assert sched.last_epoch == 8
