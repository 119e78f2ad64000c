"""‖∂L/∂h_t‖ of a recurrent network, step by step, against the sequence op."""

from __future__ import annotations

import numpy as np
import pytest

import neuralab as nl
from neuralab.autograd import Tensor
from neuralab.data.datasets.adding import adding_problem
from neuralab.diagnostics.sequence import hidden_gradient_norms
from neuralab.models.rnn import SequenceRegressor
from neuralab.nn.functional import mse_loss


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_step_by_step_gradients_match_the_sequence_op(kind):
    """The cell-by-cell diagnostic computes the same loss and the same ∂L/∂h_T as the layer."""
    nl.manual_seed(0)
    model = SequenceRegressor(kind, 8)
    x, y = adding_problem(5, 12, np.random.default_rng(0))
    norms, loss = hidden_gradient_norms(model, x, y)
    assert len(norms) == 12 and all(n > 0 for n in norms)
    assert all(p.grad is None for p in model.parameters())
    out, _ = model.layer(Tensor(x))
    last = out[-1]
    last.retain_grad()
    reference = mse_loss(model.head(last), Tensor(y))
    reference.backward()
    assert loss == pytest.approx(float(reference.item()), rel=1e-5)
    assert norms[-1] == pytest.approx(float(np.linalg.norm(last.grad.array)), rel=1e-4)
