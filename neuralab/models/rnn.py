"""A character-level recurrent language model (Lecture 15), in the spirit of Karpathy's char-rnn.

Characters are embedded, run through stacked recurrent layers (LSTM, GRU or vanilla RNN), and a
linear layer turns each step's hidden state into logits over the next character. Trained with
cross-entropy on next-character prediction (and truncated BPTT over long text), it can then
generate text one character at a time: sample from softmax(logits / temperature), feed the
sample back in, repeat.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.grad_mode import no_grad
from neuralab.autograd.tensor import Tensor
from neuralab.backend import rng, xp
from neuralab.models.registry import register
from neuralab.nn.linear import Linear
from neuralab.nn.module import Module
from neuralab.nn.rnn import GRU, LSTM, RNN
from neuralab.nn.sparse import Embedding

__all__ = ["CharRNN", "char_rnn"]

_CELLS = {"lstm": LSTM, "gru": GRU, "rnn": RNN, "rnn_tanh": RNN, "rnn_relu": RNN}


class CharRNN(Module):
    """Embedding -> recurrent layers -> linear read-out, over sequences of character indices.

    Args:
        vocab_size: V, the number of distinct characters.
        embed: embedding size E.
        hidden: hidden units H of each recurrent layer.
        layers: number of stacked recurrent layers.
        cell: ``'lstm'``, ``'gru'`` or ``'rnn'`` (tanh; ``'rnn_relu'`` for relu).
        dropout: dropout between recurrent layers (training only).
        chars: optional vocabulary string (index i <-> chars[i]) so that :meth:`sample` can
            take and return text.

    Shapes: ``forward(x (N, T) int64, state=None) -> (logits (N, T, V), state)``.
    """

    def __init__(self, vocab_size: int, embed: int = 64, hidden: int = 256, layers: int = 2,
                 cell: str = "lstm", dropout: float = 0.0, chars: str | None = None) -> None:
        super().__init__()
        if cell not in _CELLS:
            raise ValueError(f"CharRNN: cell must be one of {sorted(_CELLS)}, got {cell!r}")
        if chars is not None and len(chars) != vocab_size:
            raise ValueError(f"CharRNN: chars has {len(chars)} characters but vocab_size is "
                             f"{vocab_size}")
        self.vocab_size, self.cell, self.chars = vocab_size, cell, chars
        self.embedding = Embedding(vocab_size, embed)
        options: dict[str, Any] = {}
        if cell.startswith("rnn"):
            options["nonlinearity"] = "relu" if cell == "rnn_relu" else "tanh"
        self.rnn = _CELLS[cell](embed, hidden, num_layers=layers, batch_first=True,
                                dropout=dropout, **options)
        self.head = Linear(hidden, vocab_size)

    def forward(self, x: Any, state: Any = None) -> tuple[Tensor, Any]:
        """Logits for the next character at every position, and the final recurrent state.

        Args:
            x: int64 indices (N, T).
            state: the state returned by the previous call (truncated BPTT: detach it first),
                or None to start from zeros.
        """
        if not isinstance(x, Tensor):
            x = Tensor(x)
        if x.ndim != 2:
            raise ValueError(f"CharRNN: input must be character indices of shape (N, T), got "
                             f"shape {x.shape}")
        h, state = self.rnn(self.embedding(x), state)  # (N, T, H)
        return self.head(h), state  # (N, T, V)

    def _encode(self, start: Any) -> list[int]:
        if isinstance(start, str):
            if self.chars is None:
                raise ValueError("CharRNN.sample: start is text but the model has no vocabulary; "
                                 "build it with chars=corpus.chars or pass indices")
            unknown = sorted(set(start) - set(self.chars))
            if unknown:
                raise ValueError(f"CharRNN.sample: characters not in the vocabulary: {unknown!r}")
            return [self.chars.index(c) for c in start]
        indices = xp.asarray(start.array if isinstance(start, Tensor) else start).reshape(-1)
        if indices.size and (indices.min() < 0 or indices.max() >= self.vocab_size):
            raise ValueError(f"CharRNN.sample: start indices must lie in [0, {self.vocab_size})")
        return [int(i) for i in indices]

    def sample(self, start: Any, length: int = 200, temperature: float = 1.0) -> Any:
        """Generate ``length`` characters after ``start``.

        Each step draws the next character from softmax(logits / temperature) (temperature 0:
        always the most likely one) and feeds it back as the next input, carrying the state.
        The model is put in evaluation mode for sampling and restored afterwards.

        Args:
            start: a non-empty priming text (needs ``chars``) or sequence of indices.
            length: number of characters to generate.
            temperature: < 1 sharpens the distribution, > 1 flattens it.

        Returns:
            start + the generated characters: a string if ``start`` was one, else a list of ints.
        """
        if isinstance(temperature, bool) or not temperature >= 0:
            raise ValueError(f"CharRNN.sample: temperature must be >= 0, got {temperature!r}")
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise ValueError(f"CharRNN.sample: length must be a non-negative integer, got "
                             f"{length!r}")
        tokens = self._encode(start)
        if not tokens:
            raise ValueError("CharRNN.sample: start must hold at least one character")
        was_training = self.training
        self.eval()
        generator = rng()
        try:
            with no_grad():
                logits, state = self(xp.asarray([tokens], dtype=xp.int64))
                out = list(tokens)
                for _ in range(length):
                    z = logits.array[0, -1].astype(xp.float64)
                    if temperature == 0:
                        nxt = int(xp.argmax(z))
                    else:
                        z = z / temperature
                        p = xp.exp(z - z.max())  # shift: softmax without overflow
                        nxt = int(generator.choice(len(p), p=p / p.sum()))
                    out.append(nxt)
                    logits, state = self(xp.asarray([[nxt]], dtype=xp.int64), state)
        finally:
            self.train(was_training)
        return "".join(self.chars[i] for i in out) if isinstance(start, str) else out

    def extra_repr(self) -> str:
        return f"vocab_size={self.vocab_size}, cell={self.cell!r}"


@register("char_rnn", options=("embed", "hidden", "layers", "cell", "dropout", "chars"),
          dataset="tinyshakespeare", lecture=15, task="character language model")
def char_rnn(num_classes: int = 65, **options: Any) -> CharRNN:
    """Character-level LSTM/GRU/RNN language model (embedding, recurrent layers, linear)."""
    return CharRNN(num_classes, **options)


class SequenceRegressor(Module):
    """A recurrent layer (tanh RNN or LSTM) read out by a linear unit at the last step.

    The model of Lecture 15's adding problem: ``x`` (T, N, input_size) -> (N, 1).

    Args:
        kind: ``'rnn'`` (tanh) or ``'lstm'``.
        hidden: hidden units of the recurrent layer.
        input_size: features per step (2 for the adding problem: value and marker).
    """

    def __init__(self, kind: str = "lstm", hidden: int = 128, input_size: int = 2):
        super().__init__()
        if kind not in ("rnn", "lstm"):
            raise ValueError(f"SequenceRegressor: kind must be 'rnn' or 'lstm', got {kind!r}")
        self.kind = kind
        self.layer = (LSTM(input_size, hidden) if kind == "lstm" else
                      RNN(input_size, hidden, nonlinearity="tanh"))
        self.head = Linear(hidden, 1)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.layer(x)  # (T, N, H)
        return self.head(out[-1])  # (N, 1)


@register("sequence_regressor", options=("kind", "hidden", "input_size"),
          lecture=15, task="sequence regression (the adding problem)")
def sequence_regressor(kind: str = "lstm", hidden: int = 128,
                       input_size: int = 2) -> SequenceRegressor:
    """A tanh RNN or an LSTM read out at the last step by one linear unit."""
    return SequenceRegressor(kind, hidden, input_size)
