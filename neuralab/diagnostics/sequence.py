"""How far back a recurrent network's gradient reaches: ‖∂L/∂h_t‖ for every step t (Lecture 15).

Backpropagation through time multiplies the gradient by the Jacobian ∂h_t/∂h_{t−1} once per
step; with a tanh RNN these products shrink (or blow up) geometrically, while the LSTM's cell
state lets the gradient pass almost unchanged. The sequence ops compute a whole sequence in one
call and hide h_t; here each step is a separate node of the graph whose gradient
``retain_grad`` keeps.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.nn.functional import mse_loss
from neuralab.ops.recurrent import lstm_cell, rnn_tanh_cell

__all__ = ["hidden_gradient_norms"]


def hidden_gradient_norms(model: Any, x: Any, y: Any) -> tuple[list[float], float]:
    """‖∂L/∂h_t‖ for t = 1..T of a ``models.rnn.SequenceRegressor``, with the MSE loss.

    The model's weights are run one cell at a time; the parameter gradients are cleared
    afterwards.

    Args:
        model: a ``SequenceRegressor`` (one tanh RNN or LSTM layer read out at the last step).
        x: float32 (T, N, input_size) inputs; y: (N, 1) targets.

    Returns:
        the norms (Frobenius over the batch), and the loss (equal to the sequence op's).
    """
    layer = model.layer
    weights = (layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0)
    N, H = x.shape[1], layer.hidden_size  # noqa: N806
    h = Tensor(xp.zeros((N, H), dtype=xp.float32))
    c = Tensor(xp.zeros((N, H), dtype=xp.float32))
    states = []
    for t in range(x.shape[0]):
        xt = Tensor(x[t])
        if model.kind == "lstm":
            h, c = lstm_cell(xt, (h, c), *weights)
        else:
            h = rnn_tanh_cell(xt, h, *weights)
        h.retain_grad()
        states.append(h)
    loss = mse_loss(model.head(h), Tensor(y))
    loss.backward()
    norms = [float(xp.linalg.norm(s.grad.array)) if s.grad is not None else 0.0 for s in states]
    for p in model.parameters():
        p.grad = None
    return norms, float(loss.item())
