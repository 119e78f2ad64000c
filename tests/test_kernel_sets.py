"""The two kernel sets compute the same networks: a training step of LeNet-5, ResNet-20 and an
LSTM classifier gives the same loss and parameter gradients with the fast kernels and with the
lecture's reference code (float64), and the switch itself is explicit and restorable."""

from __future__ import annotations

import numpy as np
import pytest

import neuralab as nl
from neuralab import models, nn


def _step(model, x, t):
    model.zero_grad()
    loss = nl.cross_entropy(model(nl.tensor(x, dtype=np.float64)), nl.tensor(t))
    loss.backward()
    return float(loss.item()), {n: p.grad.numpy().copy() for n, p in model.named_parameters()}


class _LSTMClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(5, 8, batch_first=True)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


CASES = {
    "lenet5": (lambda: models.create("lenet5"), (4, 1, 28, 28), 10),
    "resnet20": (lambda: models.create("resnet20"), (2, 3, 32, 32), 10),
    "lstm": (_LSTMClassifier, (3, 6, 5), 3),
}


@pytest.mark.parametrize("name", list(CASES))
def test_fast_and_reference_kernels_train_the_same_network(name):
    build, shape, classes = CASES[name]
    nl.manual_seed(0)
    model = build().double()
    model.train()
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal(shape), rng.integers(0, classes, shape[0])
    state = {k: np.array(v, copy=True) for k, v in model.state_dict().items()}
    fast_loss, fast_grads = _step(model, x, t)
    model.load_state_dict(state)  # the same running statistics for the second pass
    with nl.use_kernels("reference"):
        ref_loss, ref_grads = _step(model, x, t)
    assert fast_loss == pytest.approx(ref_loss, rel=1e-10)
    for n, g in ref_grads.items():
        np.testing.assert_allclose(fast_grads[n], g, rtol=1e-7, atol=1e-9, err_msg=n)


def test_the_switch_is_explicit_and_restored():
    assert nl.get_kernels() == "fast"
    with nl.use_kernels("reference"):
        assert nl.get_kernels() == "reference"
    assert nl.get_kernels() == "fast"
    assert nl.set_kernels("reference") == "fast"
    assert nl.set_kernels("fast") == "reference"
    with pytest.raises(ValueError, match="'fast', 'reference'"):
        nl.set_kernels("gpu")
