"""The experiment toolkit's helpers that are not covered by an experiment's quick mode."""

from __future__ import annotations

import numpy as np

import neuralab as nl
from neuralab import nn, optim
from neuralab.data.arrays import ArrayLoader
from neuralab.experiments.toolkit import train_steps
from neuralab.train import LossRecorder, Trainer


def _trainer(lr):
    nl.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    losses = LossRecorder()
    return Trainer(model, optim.SGD(model.parameters(), lr=lr), progress=False, log=None,
                   callbacks=[losses]), losses


def test_train_steps_takes_its_steps_over_epochs_and_reports_a_divergence():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 4)).astype(np.float32), rng.integers(0, 3, 40)
    trainer, losses = _trainer(0.1)
    assert train_steps(trainer, ArrayLoader(x, y, 16, seed=0), 7)  # 3 steps an epoch
    assert trainer.global_step == len(losses.losses) == 7
    trainer, losses = _trainer(1e30)  # the loss overflows: a divergence, not an error
    assert not train_steps(trainer, ArrayLoader(x * 1e10, y, 16, seed=0), 50)
    assert len(losses.losses) < 50
