"""Recurrent layers with PyTorch's names, parameter names and weight layouts (Lecture 15).

``RNN``, ``LSTM`` and ``GRU`` run a whole sequence through one or more stacked layers (each
optionally bidirectional); ``RNNCell``, ``LSTMCell`` and ``GRUCell`` compute a single step for
code that writes the loop over time itself. The mathematics, forward and backward through time,
is in ``neuralab.ops.recurrent``.

Truncated backpropagation through time: to train on a long stream, split it into chunks of T
steps, carry the final state of one chunk into the next as its initial state, and cut the graph
between chunks so that each backward pass stops at the chunk boundary::

    state = None
    for x, y in chunks:
        output, state = lstm(x, state)
        loss = criterion(head(output), y)
        loss.backward()
        state = detach_state(state)   # keep the values, forget the graph (h = h.detach())
"""

from __future__ import annotations

import math
from typing import Any

from neuralab.autograd.grad_mode import no_grad
from neuralab.autograd.tensor import Tensor
from neuralab.backend import default_float_dtype, xp
from neuralab.nn.module import Module, Parameter
from neuralab.nn.utils.rnn import PackedSequence
from neuralab.ops.dropout import dropout as _dropout
from neuralab.ops.gather_scatter import index_select
from neuralab.ops.recurrent import (
    gru_cell,
    gru_sequence,
    lstm_cell,
    lstm_sequence,
    rnn_relu_cell,
    rnn_sequence,
    rnn_tanh_cell,
)
from neuralab.ops.shape import cat, reshape, squeeze, stack, unsqueeze

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
           "CarryState", "detach_state"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def detach_state(state: Any) -> Any:
    """Cut a recurrent state from the graph: ``h.detach()``, applied inside tuples and lists.

    Used between the chunks of truncated BPTT: the next chunk starts from the same values, but
    its backward pass stops here instead of running back through every earlier chunk.

    Args:
        state: a Tensor, a tuple/list of them (the LSTM's ``(h, c)``), nested, or None.
    """
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"detach_state: expected a Tensor, a tuple/list of Tensors or None, got "
                    f"{type(state).__name__}")


class CarryState(Module):
    """Truncated BPTT inside a training loop that calls ``model(x)`` with the input alone.

    Calls the wrapped ``model(x, state) -> (output, state)`` with the state its previous call
    returned, detached (:func:`detach_state`), and returns the output alone: each chunk of a
    stream starts where the last one ended, and each backward pass stops at the chunk boundary.
    ``reset()`` starts the next call from zeros (a new pass over the data).

    Args:
        model: a recurrent model taking and returning its state, e.g. ``models.CharRNN``.
    """

    def __init__(self, model: Module) -> None:
        super().__init__()
        self.model = model
        self.state: Any = None

    def forward(self, x: Any) -> Any:
        output, state = self.model(x, self.state)
        self.state = detach_state(state)
        return output

    def reset(self) -> None:
        """Forget the carried state: the next call starts from zeros."""
        self.state = None


def _check_size(layer: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, xp.integer)) or value <= 0:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
    return int(value)


def _check_input(layer: str, x: Any, dims: tuple[int, ...], size: int, layout: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{layer}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim not in dims:
        raise ValueError(f"{layer}: input must have shape {layout}, got {x.ndim} dimension(s) "
                         f"{x.shape}")
    if x.shape[-1] != size:
        raise ValueError(f"{layer}: input has {x.shape[-1]} features in its last dimension but "
                         f"input_size={size}; is the input laid out as {layout}?")


def _permute_states(states: Any, order: Tensor, lstm: bool) -> Any:
    """h (or the LSTM's (h, c)) with its batch dimension 1 reordered by ``order``."""
    if lstm:
        return tuple(index_select(p, 1, order) for p in states)
    return index_select(states, 1, order)


class RNNBase(Module):
    """The shared machinery of ``RNN``, ``LSTM`` and ``GRU``: parameters and the layer loop.

    Parameters (k = layer, suffix ``_reverse`` for the backward direction), as PyTorch:
    ``weight_ih_l{k}`` (G·H, I_k), ``weight_hh_l{k}`` (G·H, H), ``bias_ih_l{k}``, ``bias_hh_l{k}``
    (G·H,), where G is the number of gate blocks (1, 4 or 3) and I_k = input_size for the first
    layer, H·num_directions after it. All start as U(−1/√H, 1/√H).
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        self.mode = mode
        self.input_size = _check_size(name, "input_size", input_size)
        self.hidden_size = _check_size(name, "hidden_size", hidden_size)
        self.num_layers = _check_size(name, "num_layers", num_layers)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout must be a probability in [0, 1], got {dropout!r}")
        for flag, value in (("bias", bias), ("batch_first", batch_first),
                            ("bidirectional", bidirectional)):
            if not isinstance(value, bool):
                raise TypeError(f"{name}: {flag} must be True or False, got {value!r}")
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        num_directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * self.hidden_size
        self._flat_weights_names: list[str] = []
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else self.hidden_size * num_directions
            for direction in range(num_directions):
                suffix = "_reverse" if direction else ""
                shapes = [(f"weight_ih_l{layer}{suffix}", (gate_size, layer_input)),
                          (f"weight_hh_l{layer}{suffix}", (gate_size, self.hidden_size))]
                if bias:
                    shapes += [(f"bias_ih_l{layer}{suffix}", (gate_size,)),
                               (f"bias_hh_l{layer}{suffix}", (gate_size,))]
                for pname, shape in shapes:
                    setattr(self, pname, Parameter(xp.empty(shape, dtype=default_float_dtype())))
                    self._flat_weights_names.append(pname)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's initialization: every weight and bias ~ U(−1/√H, 1/√H)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with no_grad():  # an initialisation, not part of any graph (as PyTorch's)
            for p in self.parameters():
                p.uniform_(-bound, bound)

    def flatten_parameters(self) -> None:
        """Does nothing: PyTorch's cuDNN weight packing has no counterpart here."""

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters grouped per layer and direction, as PyTorch's ``all_weights``."""
        per = 4 if self.bias else 2
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[i:i + per]] for i in range(0, len(names), per)]

    def _layer(self, x: Tensor, state: Any, weights: list, reverse: bool,
               batch_first: bool) -> tuple:
        """One layer in one direction over a padded batch: (output, final state)."""
        raise NotImplementedError

    def forward(self, input: Any, hx: Any = None) -> tuple:  # noqa: A002
        """Run the sequence through every layer.

        Args:
            input: (T, N, I), or (N, T, I) when ``batch_first``, or (T, I) for one sequence;
                or a :class:`~neuralab.nn.utils.rnn.PackedSequence` of sequences of different
                lengths (``batch_first`` does not apply to it).
            hx: initial state(s) (num_layers·num_directions, N, H) — for the LSTM the pair
                (h0, c0) — or None for zeros. With a PackedSequence, N is its batch size and
                the states are in the original (unsorted) batch order.

        Returns:
            (output, h_n), or (output, (h_n, c_n)) for the LSTM: output (T, N, D·H) (batch
            first if ``batch_first``) holds the last layer's states at every step; h_n and c_n
            (num_layers·D, N, H) the final states of every layer and direction. For a
            PackedSequence input the output is packed the same way, and the final states are
            each sequence's states at its own last step (the backward direction's: at step 0).
        """
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        name = type(self).__name__
        layout = "(N, T, I)" if self.batch_first else "(T, N, I)"
        _check_input(name, input, (2, 3), self.input_size, layout + " or (T, I)")
        lstm = self.mode == "LSTM"
        unbatched = input.ndim == 2
        if unbatched:
            input = unsqueeze(input, 0 if self.batch_first else 1)
        batch = input.shape[0] if self.batch_first else input.shape[1]
        states = self._split_states(hx, batch, unbatched, lstm)

        def run(x, state, weights, reverse):
            return self._layer(x, state, weights, reverse=reverse, batch_first=self.batch_first)

        x, result_state = self._stack(input, states, run, feature_dim=2)
        if unbatched:
            x = squeeze(x, 0 if self.batch_first else 1)
            result_state = (squeeze(result_state[0], 1), squeeze(result_state[1], 1)) if lstm \
                else squeeze(result_state, 1)
        return x, result_state

    def _stack(self, x: Tensor, states: Any, run: Any, feature_dim: int) -> tuple:
        """Every layer and direction: ``run(x, state, weights, reverse)`` gives one layer's
        (output, final state); directions are joined along ``feature_dim``, with dropout
        between layers. Returns (last layer's output, h_n or (h_n, c_n))."""
        lstm = self.mode == "LSTM"
        D = 2 if self.bidirectional else 1
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(D):
                k = layer * D + direction
                suffix = "_reverse" if direction else ""
                weights = [getattr(self, f"weight_ih_l{layer}{suffix}"),
                           getattr(self, f"weight_hh_l{layer}{suffix}")]
                if self.bias:
                    weights += [getattr(self, f"bias_ih_l{layer}{suffix}"),
                                getattr(self, f"bias_hh_l{layer}{suffix}")]
                state = None if states is None else (
                    (states[0][k], states[1][k]) if lstm else states[k])
                out, final = run(x, state, weights, direction == 1)
                outputs.append(out)
                if lstm:
                    h_n.append(final[0])
                    c_n.append(final[1])
                else:
                    h_n.append(final)
            x = outputs[0] if D == 1 else cat(outputs, dim=feature_dim)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = _dropout(x, p=self.dropout, training=True)  # between layers, not after last
        h = stack(h_n, 0)
        return x, ((h, stack(c_n, 0)) if lstm else h)

    def _forward_packed(self, packed: PackedSequence, hx: Any) -> tuple:
        """The layers over a PackedSequence, split where the batch size changes.

        The packed steps with the same batch size b (the sequences still running) form a
        block (t₁ − t₀, b, I) of the data, which the sequence op runs at once. Forward
        direction: each block starts from the first b rows of the previous block's final
        state, and the rows that stop running after it (b_next..b) are their sequences' final
        states. Backward direction: the blocks run last to first; each starts from the
        previous block's final state for the sequences already running and from h0 for those
        whose last step is in this block. Every step thus sees exactly the states PyTorch's
        packed kernels give it, and gradients follow the same paths.
        """
        name = type(self).__name__
        data = packed.data
        _check_input(name, data, (2,), self.input_size, "(sum of lengths, I) (packed data)")
        lstm = self.mode == "LSTM"
        sizes = [int(b) for b in packed.batch_sizes.array]
        if not sizes or min(sizes) <= 0 or any(a < b for a, b in zip(sizes, sizes[1:])):
            raise ValueError(f"{name}: the PackedSequence's batch_sizes must be positive and "
                             f"non-increasing, got {sizes}; build it with pack_padded_sequence")
        if sum(sizes) != data.shape[0]:
            raise ValueError(f"{name}: the PackedSequence's data has {data.shape[0]} rows but "
                             f"its batch_sizes add up to {sum(sizes)}")
        blocks, t0, offset = [], 0, 0  # (steps, batch size, first data row) of each block
        for t in range(1, len(sizes) + 1):
            if t == len(sizes) or sizes[t] != sizes[t0]:
                blocks.append((t - t0, sizes[t0], offset))
                offset += (t - t0) * sizes[t0]
                t0 = t
        states = self._split_states(hx, sizes[0], False, lstm)
        if states is not None and packed.sorted_indices is not None:  # into the sorted order
            states = _permute_states(states, packed.sorted_indices, lstm)

        def run(x, state, weights, reverse):
            return self._packed_layer(x, blocks, state, weights, reverse)

        out, result_state = self._stack(data, states, run, feature_dim=1)
        if packed.unsorted_indices is not None:  # back to the original order
            result_state = _permute_states(result_state, packed.unsorted_indices, lstm)
        return PackedSequence(out, packed.batch_sizes, packed.sorted_indices,
                              packed.unsorted_indices), result_state

    def _packed_layer(self, x: Tensor, blocks: list, state: Any, weights: list,
                      reverse: bool) -> tuple:
        """One layer in one direction over packed data x (sum of lengths, I)."""
        lstm = self.mode == "LSTM"
        initial = None if state is None else (list(state) if lstm else [state])
        H = self.hidden_size

        def initial_rows(lo: int, hi: int) -> list:
            if initial is None:
                zeros = xp.zeros((hi - lo, H), dtype=x.array.dtype)
                return [Tensor(zeros) for _ in range(2 if lstm else 1)]
            return [s[lo:hi] for s in initial]

        def call(i: int, start: list | None) -> tuple[Tensor, list]:
            steps, b, offset = blocks[i]
            xi = reshape(x[offset:offset + steps * b], (steps, b, x.shape[1]))
            s = None if start is None else (tuple(start) if lstm else start[0])
            out, final = self._layer(xi, s, weights, reverse=reverse, batch_first=False)
            return reshape(out, (steps * b, H)), list(final) if lstm else [final]

        outputs: list = [None] * len(blocks)
        if not reverse:
            carry, pieces = initial, []  # pieces: final-state rows, highest rows first
            for i, (_, b, _) in enumerate(blocks):
                start = None if carry is None else [c[:b] for c in carry]
                outputs[i], carry = call(i, start)
                below = blocks[i + 1][1] if i + 1 < len(blocks) else 0
                pieces.insert(0, [c[below:b] for c in carry])  # these sequences end here
            final = [cat([p[j] for p in pieces]) if len(pieces) > 1 else pieces[0][j]
                     for j in range(len(carry))]
        else:
            final = None
            for i in range(len(blocks) - 1, -1, -1):
                b = blocks[i][1]
                if final is None:
                    start = None if initial is None else initial_rows(0, b)
                else:  # running sequences continue; those ending in this block start here
                    above = final[0].shape[0]
                    start = [cat([f, r]) for f, r in zip(final, initial_rows(above, b))]
                outputs[i], final = call(i, start)
        out = cat(outputs) if len(outputs) > 1 else outputs[0]
        return out, (tuple(final) if lstm else final[0])

    def _split_states(self, hx: Any, batch: int, unbatched: bool, lstm: bool) -> Any:
        """Validate hx and return it batched, as (h0, c0) for the LSTM, or None."""
        if hx is None:
            return None
        name = type(self).__name__
        layers = self.num_layers * (2 if self.bidirectional else 1)
        if lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{name}: hx must be the pair (h0, c0) or None")
            parts = list(hx)
        else:
            if not isinstance(hx, Tensor):
                raise TypeError(f"{name}: hx must be a Tensor (num_layers·num_directions, N, H) "
                                f"or None, got {type(hx).__name__}")
            parts = [hx]
        want = (layers, self.hidden_size) if unbatched else (layers, batch, self.hidden_size)
        for label, part in zip(("h0", "c0"), parts):
            if not isinstance(part, Tensor) or part.shape != want:
                got = part.shape if isinstance(part, Tensor) else type(part).__name__
                raise ValueError(f"{name}: initial state {label} must have shape {want} "
                                 f"(num_layers·num_directions, N, H), got {got}")
        if unbatched:
            parts = [unsqueeze(p, 1) for p in parts]
        return tuple(parts) if lstm else parts[0]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """An Elman RNN: h_t = φ(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh), φ = tanh or relu (Lecture 15).

    Args:
        input_size: features I of each input step.
        hidden_size: units H of the hidden state.
        num_layers: stacked layers (each one's outputs are the next one's inputs).
        nonlinearity: ``'tanh'`` or ``'relu'``.
        bias: learn b_ih and b_hh.
        batch_first: inputs and outputs are (N, T, ·) instead of (T, N, ·).
        dropout: dropout probability on the outputs of every layer but the last (training only).
        bidirectional: add a second layer per level that reads the sequence backwards; outputs
            are concatenated (2H features).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional)
        self.nonlinearity = nonlinearity

    def _layer(self, x, state, weights, reverse, batch_first):
        return rnn_sequence(x, state, *weights, nonlinearity=self.nonlinearity,
                            batch_first=batch_first, reverse=reverse)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (", nonlinearity='relu'" if self.nonlinearity == "relu" else "")


class LSTM(RNNBase):
    """Long short-term memory layers (Lecture 15), gates i, f, g, o as PyTorch.

    Each step: [i; f; g; o] = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh; i, f, o = σ(·), g = tanh(·);
    c_t = f ⊙ c_{t−1} + i ⊙ g; h_t = o ⊙ tanh(c_t). ``forward(input, (h0, c0))`` returns
    ``(output, (h_n, c_n))``. Arguments as :class:`RNN` (without ``nonlinearity``).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional)

    def _layer(self, x, state, weights, reverse, batch_first):
        return lstm_sequence(x, state, *weights, batch_first=batch_first, reverse=reverse)


class GRU(RNNBase):
    """Gated recurrent unit layers, with PyTorch's formula (gates r, z, n).

    r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h.
    Arguments as :class:`RNN` (without ``nonlinearity``).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional)

    def _layer(self, x, state, weights, reverse, batch_first):
        return gru_sequence(x, state, *weights, batch_first=batch_first, reverse=reverse)


class RNNCellBase(Module):
    """Parameters of a single-step cell: ``weight_ih`` (G·H, I), ``weight_hh`` (G·H, H),
    ``bias_ih``, ``bias_hh`` (G·H,), all U(−1/√H, 1/√H) as PyTorch."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, gates: int) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = _check_size(name, "input_size", input_size)
        self.hidden_size = _check_size(name, "hidden_size", hidden_size)
        if not isinstance(bias, bool):
            raise TypeError(f"{name}: bias must be True or False, got {bias!r}")
        self.bias = bias
        G = gates * self.hidden_size
        self.weight_ih = Parameter(xp.empty((G, self.input_size), dtype=default_float_dtype()))
        self.weight_hh = Parameter(xp.empty((G, self.hidden_size), dtype=default_float_dtype()))
        if bias:
            self.bias_ih = Parameter(xp.empty((G,), dtype=default_float_dtype()))
            self.bias_hh = Parameter(xp.empty((G,), dtype=default_float_dtype()))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(−1/√H, 1/√H)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with no_grad():  # an initialisation, not part of any graph (as PyTorch's)
            for p in self.parameters():
                p.uniform_(-bound, bound)

    def _prepare(self, input: Tensor, hx: Any, n_states: int) -> tuple:  # noqa: A002
        """Validate; add a batch dimension to unbatched input; zeros for a missing state."""
        name = type(self).__name__
        _check_input(name, input, (1, 2), self.input_size, "(N, I) or (I,)")
        unbatched = input.ndim == 1
        if unbatched:
            input = unsqueeze(input, 0)
        batch = input.shape[0]
        if hx is None:
            zeros = xp.zeros((batch, self.hidden_size), dtype=input.dtype)
            states = [Tensor._from_op(zeros, None, 0) for _ in range(n_states)]
        else:
            states = list(hx) if n_states == 2 else [hx]
            if n_states == 2 and len(states) != 2:
                raise TypeError(f"{name}: hx must be the pair (h, c) or None")
            want = (self.hidden_size,) if unbatched else (batch, self.hidden_size)
            for s in states:
                if not isinstance(s, Tensor) or s.shape != want:
                    got = s.shape if isinstance(s, Tensor) else type(s).__name__
                    raise ValueError(f"{name}: the state must have shape {want}, got {got}")
            if unbatched:
                states = [unsqueeze(s, 0) for s in states]
        return input, states, unbatched

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = φ(W_ih x + b_ih + W_hh h + b_hh).

    Args:
        input_size: I.  hidden_size: H.  bias: learn the biases.
        nonlinearity: ``'tanh'`` or ``'relu'``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh") -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, 1)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        """h' from input (N, I) (or (I,)) and hx (N, H) (zeros if None)."""
        x, (h,), unbatched = self._prepare(input, hx, 1)
        cell = rnn_tanh_cell if self.nonlinearity == "tanh" else rnn_relu_cell
        out = cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return squeeze(out, 0) if unbatched else out


class LSTMCell(RNNCellBase):
    """One LSTM step: (h', c') from x and (h, c) (see ``neuralab.ops.lstm_cell``).

    Args:
        input_size: I.  hidden_size: H.  bias: learn the biases.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__(input_size, hidden_size, bias, 4)

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        """(h', c') from input (N, I) and hx = (h, c) (zeros if None)."""
        x, (h, c), unbatched = self._prepare(input, hx, 2)
        h, c = lstm_cell(x, (h, c), self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (squeeze(h, 0), squeeze(c, 0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    """One GRU step with PyTorch's formula (see ``neuralab.ops.gru_cell``).

    Args:
        input_size: I.  hidden_size: H.  bias: learn the biases.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__(input_size, hidden_size, bias, 3)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        """h' from input (N, I) and hx (N, H) (zeros if None)."""
        x, (h,), unbatched = self._prepare(input, hx, 1)
        out = gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return squeeze(out, 0) if unbatched else out
